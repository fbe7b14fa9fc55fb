"""Turn evaluation results into the plain blocks a run record holds."""

from __future__ import annotations

from typing import Any

import numpy as np

from synthprint.evaluation import CVResult, MetricTable


def metric_block(title: str, table: MetricTable, note: str | None = None) -> dict[str, Any]:
    """A record ``metrics`` entry: {"title", "rows": [{"metric", "value", "low", "high"}]}."""
    rows = [{"metric": m.label, "value": m.value, "low": m.low, "high": m.high}
            for m in table]
    block: dict[str, Any] = {"title": title, "rows": rows, "confidence": table.confidence}
    if note:
        block["note"] = note
    return block


def cv_block(title: str, cv: CVResult) -> dict[str, Any]:
    """A ``metrics`` entry for a cross-validation, its protocol in the note."""
    note = (f"{cv.n_repeats} x {cv.n_splits}-fold stratified cross-validation, seed {cv.seed}, "
            f"n={len(cv.y)}; pooled over out-of-fold predictions, {cv.n_boot} bootstrap "
            "resamples")
    if cv.notes:
        note += "; " + "; ".join(cv.notes)
    return metric_block(title, cv.pooled, note)


def cv_curve(title: str, cv: CVResult) -> dict[str, Any] | None:
    """A ``curves`` entry (true labels and repeat-averaged out-of-fold scores, and the pooled
    ROC AUC of the metrics table as ``auc``: the mean over repeats, which the curve of
    averaged scores need not have), or None when the cross-validation has no scores."""
    if cv.oof_scores is None or cv.task != "binary":
        return None
    return {"title": title, "y_true": cv.y.astype(int).tolist(),
            "scores": np.asarray(cv.oof_scores).mean(axis=0).tolist(),
            "auc": cv.pooled.value("roc_auc") if "roc_auc" in cv.pooled else None}


def confusion_block(title: str, table: MetricTable, prefix: str = "") -> dict[str, Any] | None:
    """A record ``confusion`` entry ({"labels", "matrix", "title"}, rows: truth) from a
    multi-class :class:`MetricTable`, or None when it has no confusion matrix. ``prefix``
    goes before each class label ("t" gives t1..t5)."""
    found = table.confusion(prefix)
    if found is None:
        return None
    return {"labels": found[0], "matrix": found[1], "title": title}
