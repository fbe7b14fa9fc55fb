"""The cross-validation protocol every method uses for its "train CV" numbers.

Repeated stratified K-fold on the labelled train samples with a fixed seed. The method is given
as ``fit_predict(train_idx, test_idx) -> (labels, scores)``: it fits everything (features,
model, *and* its decision threshold) on ``train_idx`` only and predicts ``test_idx``. So no
choice ever sees the fold it is scored on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from rich.table import Table
from sklearn.model_selection import RepeatedStratifiedKFold

from synthprint._progress import progress_task
from synthprint.errors import SynthprintError
from synthprint.evaluation.binary import _binary_table, roc_curve
from synthprint.evaluation.multiclass import _multiclass_table
from synthprint.evaluation.table import MetricTable, _fmt

FitPredict = Callable[[np.ndarray, np.ndarray], tuple[Any, Any]]
TASKS = ("binary", "multiclass")


@dataclass(frozen=True)
class Fold:
    """One train/test split: repeat and fold number (0-based), int64 index arrays."""

    repeat: int
    fold: int
    train_idx: np.ndarray
    test_idx: np.ndarray


@dataclass(repr=False)
class CVResult:
    """What :func:`cross_validate` found.

    Attributes
    ----------
    task:
        ``"binary"`` or ``"multiclass"``.
    n_splits, n_repeats, seed, n_boot:
        The protocol actually run (``n_splits`` may be lower than asked, see ``notes``).
    y:
        (n,) int64 true labels.
    classes:
        (K,) int64 sorted classes of ``y`` (the column order of multiclass ``oof_scores``).
    folds:
        The :class:`Fold` splits, repeat-major.
    fold_metrics:
        One :class:`MetricTable` per fold (point estimates on that fold's test samples).
    pooled:
        Metrics over the out-of-fold predictions with bootstrap intervals (see
        :func:`cross_validate` for how they are pooled).
    oof_labels:
        (n_repeats, n) int64 out-of-fold predicted labels: row r holds, for every sample, the
        label predicted by the model of repeat r that did not see it (None for a binary
        method that gave scores only).
    oof_scores:
        (n_repeats, n) float64 (binary) or (n_repeats, n, K) float64 (multiclass) out-of-fold
        scores, or None when ``fit_predict`` gave none.
    notes:
        Remarks (reduced ``n_splits``, undefined metrics).
    """

    task: str
    n_splits: int
    n_repeats: int
    seed: int
    n_boot: int
    y: np.ndarray
    classes: np.ndarray
    folds: list[Fold]
    fold_metrics: list[MetricTable]
    pooled: MetricTable
    oof_labels: np.ndarray | None
    oof_scores: np.ndarray | None
    notes: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        vals = ", ".join(f"{m.name}={_fmt(m.value, 3)}" for m in self.pooled.rows[:3])
        return (f"CVResult(task={self.task!r}, {self.n_repeats}x{self.n_splits}-fold, "
                f"n={len(self.y)}, {vals})")

    def fold_summary(self) -> dict[str, tuple[float | None, float | None]]:
        """{metric name: (mean, standard deviation)} over the folds where it is defined."""
        out: dict[str, tuple[float | None, float | None]] = {}
        for name in self.pooled.names:
            vals = [t.value(name) for t in self.fold_metrics if name in t]
            vals = [v for v in vals if v is not None]
            if vals:
                out[name] = (float(np.mean(vals)),
                             float(np.std(vals, ddof=1)) if len(vals) > 1 else 0.0)
            else:
                out[name] = (None, None)
        return out

    def roc_curves(self) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """The ROC curve ``(fpr, tpr, thresholds)`` of each repeat's out-of-fold scores
        (binary with scores only)."""
        if self.task != "binary" or self.oof_scores is None:
            raise SynthprintError("ROC curves need a binary cross-validation with scores")
        return [roc_curve(self.y, s) for s in self.oof_scores]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: protocol, pooled table, fold summary and per-fold values."""
        return {
            "task": self.task, "n": int(len(self.y)), "n_splits": self.n_splits,
            "n_repeats": self.n_repeats, "seed": self.seed, "n_boot": self.n_boot,
            "pooled": self.pooled.to_dict(),
            "fold_summary": {k: {"mean": m, "sd": s} for k, (m, s) in
                             self.fold_summary().items()},
            "folds": [{"repeat": f.repeat, "fold": f.fold, "n_test": int(len(f.test_idx)),
                       "metrics": {m.name: m.value for m in t}}
                      for f, t in zip(self.folds, self.fold_metrics)],
            "notes": list(self.notes),
        }

    def _rows(self, digits: int) -> list[tuple[str, str, str, str]]:
        summary = self.fold_summary()
        rows = []
        for m in self.pooled:
            ci = self.pooled._interval_text(m, digits)
            mean, sd = summary.get(m.name, (None, None))
            per_fold = "n/a" if mean is None else f"{mean:.{digits}f} ± {sd:.{digits}f}"
            rows.append((m.label, _fmt(m.value, digits), ci, per_fold))
        return rows

    def _title(self) -> str:
        return (f"{self.task} cross-validation: {self.n_repeats} x {self.n_splits}-fold "
                f"stratified, seed {self.seed}, n={len(self.y)}")

    def to_markdown(self, digits: int = 3) -> str:
        """Markdown table: pooled value, its interval, and the per-fold mean ± sd."""
        ci = self.pooled._interval_header()
        lines = [f"{self._title()}\n", f"| metric | pooled | {ci} | fold mean ± sd |",
                 "|---|---:|---|---|"]
        lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in self._rows(digits)]
        notes = self.notes + self.pooled.notes
        if notes:
            lines.append("")
            lines += [f"- {n}" for n in notes]
        return "\n".join(lines) + "\n"

    def to_rich(self, title: str | None = None, digits: int = 3) -> Table:
        """A rich table like :meth:`to_markdown`."""
        notes = self.notes + self.pooled.notes
        title = title or self._title()
        table = Table(title=title, title_justify="left", min_width=min(len(title), 100),
                      caption="\n".join(notes) or None, caption_justify="left")
        table.add_column("metric")
        table.add_column("pooled", justify="right")
        table.add_column(self.pooled._interval_header())
        table.add_column("fold mean ± sd", justify="right")
        for row in self._rows(digits):
            table.add_row(*row)
        return table

    def __rich__(self) -> Table:
        return self.to_rich()


def _check_y(y, task: str) -> np.ndarray:
    if task not in TASKS:
        raise SynthprintError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
    y = np.asarray(y)
    if y.ndim != 1 or y.size == 0:
        raise SynthprintError(f"y must be a non-empty 1-d array of labels, got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.integer) and not np.issubdtype(y.dtype, np.bool_):
        if not (np.issubdtype(y.dtype, np.number) and np.all(y == np.round(y))):
            raise SynthprintError(f"y must hold integer labels, got dtype {y.dtype}")
    y = y.astype(np.int64)
    if task == "binary" and not np.isin(y, (0, 1)).all():
        raise SynthprintError(f"binary task needs labels 0 and 1, got {np.unique(y).tolist()}")
    if len(np.unique(y)) < 2:
        raise SynthprintError(
            f"y holds only class {int(y[0])}; cross-validation needs at least two classes"
        )
    return y


def _effective_splits(y: np.ndarray, n_splits: int) -> tuple[int, list[str]]:
    if n_splits < 2:
        raise SynthprintError(f"n_splits must be at least 2, got {n_splits}")
    classes, counts = np.unique(y, return_counts=True)
    smallest = int(counts.min())
    if smallest < 2:
        c = int(classes[counts.argmin()])
        raise SynthprintError(
            f"class {c} has a single sample; stratified cross-validation needs at least 2 per "
            "class: label more samples of it or leave it out"
        )
    if smallest < n_splits:
        c = int(classes[counts.argmin()])
        return smallest, [f"cross-validation folds reduced from {n_splits} to {smallest}: "
                          f"class {c} has only {smallest} samples, and every test fold must "
                          "hold each class"]
    return n_splits, []


def _as_labels(labels, n: int, where: str) -> np.ndarray:
    arr = np.asarray(labels)
    if arr.shape != (n,):
        raise SynthprintError(f"{where}: fit_predict returned labels of shape {arr.shape}; "
                              f"expected ({n},), one per test index")
    if not np.issubdtype(arr.dtype, np.number) and arr.dtype != bool:
        raise SynthprintError(f"{where}: fit_predict returned non-numeric labels ({arr.dtype})")
    if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
        raise SynthprintError(f"{where}: fit_predict returned labels that are not integers")
    return arr.astype(np.int64)


def _as_scores(scores, n: int, k: int, task: str, where: str) -> np.ndarray | None:
    if scores is None:
        return None
    arr = np.asarray(scores, dtype=np.float64)
    shape = (n,) if task == "binary" else (n, k)
    if arr.shape != shape:
        raise SynthprintError(
            f"{where}: fit_predict returned scores of shape {arr.shape}; expected {shape} "
            + ("(one score per test index, higher = positive)" if task == "binary" else
               "(one column per class of y, in sorted class order)"))
    if not np.isfinite(arr).all():
        raise SynthprintError(f"{where}: fit_predict returned NaN or infinite scores")
    return arr


def cross_validate(
    fit_predict: FitPredict,
    y,
    *,
    task: str = "binary",
    n_splits: int = 5,
    n_repeats: int = 3,
    seed: int = 0,
    n_boot: int = 1000,
    quiet: bool = True,
    confidence: float = 0.95,
) -> CVResult:
    """Repeated stratified K-fold cross-validation of a method given as ``fit_predict``.

    Parameters
    ----------
    fit_predict:
        ``fit_predict(train_idx, test_idx) -> (labels, scores)``, with int64 index arrays into
        ``y``. It must fit on ``train_idx`` only (thresholds too) and return, for ``test_idx``
        in that order, predicted labels (n_test,) (binary: 0/1; multiclass: classes of ``y``)
        and scores: binary (n_test,) floats, higher = positive, or None; multiclass
        (n_test, K) probabilities with columns in the sorted order of ``np.unique(y)``, or None.
        Labels may be None when scores are given: binary then reports the threshold-free
        metrics only; multiclass takes the most probable class.
    y:
        (n,) int true labels: 0/1 for ``task="binary"``, class numbers for ``"multiclass"``.
    task:
        ``"binary"`` or ``"multiclass"``.
    n_splits, n_repeats, seed:
        :class:`sklearn.model_selection.RepeatedStratifiedKFold` with
        ``random_state=seed``: each repeat is a fresh stratified K-fold partition. When a class
        has fewer than ``n_splits`` samples, ``n_splits`` is reduced to that class's size (and
        a note says so); a class with a single sample is an error.
    n_boot, confidence:
        Bootstrap resamples and coverage of the pooled intervals (0: no intervals).
    quiet:
        No progress bar over the folds when true.

    Returns
    -------
    CVResult
        ``fold_metrics``: each fold's metrics on its own test samples (no intervals).
        ``pooled``: for each repeat, the out-of-fold predictions of its K folds are
        concatenated (every sample is predicted exactly once per repeat) and the metrics are
        computed on those n predictions; the pooled value is the mean of these per-repeat
        values over the repeats. Its interval is a percentile interval of that same
        repeat-mean under a class-stratified bootstrap of the n samples: each resample draws
        samples (the same draw for every repeat), the metric is computed on each repeat's
        out-of-fold predictions of the drawn samples and averaged over repeats. It reflects
        the sampling of the images, not the variation between splits (the per-fold spread
        shows that). Pooled AUC ranks scores from different folds together, so it assumes a
        method's scores are comparable across folds; the per-fold AUCs do not.
    """
    y = _check_y(y, task)
    n = len(y)
    classes = np.unique(y)
    k = len(classes)
    if n_repeats < 1:
        raise SynthprintError(f"n_repeats must be at least 1, got {n_repeats}")
    n_splits_eff, notes = _effective_splits(y, n_splits)
    splitter = RepeatedStratifiedKFold(n_splits=n_splits_eff, n_repeats=n_repeats,
                                       random_state=seed)
    folds: list[Fold] = []
    fold_metrics: list[MetricTable] = []
    oof_labels = np.zeros((n_repeats, n), dtype=np.int64)
    oof_scores: np.ndarray | None = None
    has_scores: bool | None = None
    has_labels: bool | None = None
    splits = list(splitter.split(np.zeros(n), y))
    with progress_task("cross-validation folds", len(splits), quiet) as advance:
        for i, (train_idx, test_idx) in enumerate(splits):
            r, f = divmod(i, n_splits_eff)
            train_idx = train_idx.astype(np.int64)
            test_idx = test_idx.astype(np.int64)
            where = f"repeat {r + 1}, fold {f + 1}"
            labels, scores = fit_predict(train_idx.copy(), test_idx.copy())
            scores = _as_scores(scores, len(test_idx), k, task, where)
            if labels is None and task == "multiclass" and scores is not None:
                labels = classes[np.argmax(scores, axis=1)]
            if labels is None and scores is None:
                raise SynthprintError(f"{where}: fit_predict returned neither labels nor scores")
            if has_labels is None:
                has_labels = labels is not None
            elif has_labels != (labels is not None):
                raise SynthprintError(f"{where}: fit_predict returned labels in some folds and "
                                      "None in others; return them always or never")
            if labels is not None:
                labels = _as_labels(labels, len(test_idx), where)
            if has_scores is None:
                has_scores = scores is not None
                if has_scores:
                    shape = (n_repeats, n) if task == "binary" else (n_repeats, n, k)
                    oof_scores = np.zeros(shape, dtype=np.float64)
            elif has_scores != (scores is not None):
                raise SynthprintError(f"{where}: fit_predict returned scores in some folds "
                                      "and None in others; return them always or never")
            if labels is not None:
                oof_labels[r, test_idx] = labels
            if oof_scores is not None:
                oof_scores[r, test_idx] = scores
            folds.append(Fold(r, f, train_idx, test_idx))
            fold_metrics.append(_table(task, [(y[test_idx], labels, scores)], classes, 0,
                                       seed, confidence))
            advance()
    runs = [(y, oof_labels[r] if has_labels else None,
             None if oof_scores is None else oof_scores[r]) for r in range(n_repeats)]
    pooled = _table(task, runs, classes, n_boot, seed, confidence)
    return CVResult(task, n_splits_eff, n_repeats, seed, n_boot, y, classes, folds,
                    fold_metrics, pooled, oof_labels if has_labels else None, oof_scores, notes)


def _table(task: str, runs: list[tuple], classes: np.ndarray, n_boot: int, seed: int,
           confidence: float) -> MetricTable:
    if task == "binary":
        return _binary_table(runs, n_boot=n_boot, seed=seed, confidence=confidence,
                             roc=False)
    # predicted labels outside y's classes still count (as classes never true)
    pred = np.concatenate([np.asarray(r[1]) for r in runs])
    all_classes = np.union1d(classes, pred)
    if len(all_classes) != len(classes) and runs[0][2] is not None:
        raise SynthprintError(
            f"fit_predict predicted classes {np.setdiff1d(pred, classes).tolist()} that y "
            "does not hold, while giving probabilities for y's classes only"
        )
    return _multiclass_table(runs, classes=all_classes, n_boot=n_boot, seed=seed,
                             confidence=confidence)
