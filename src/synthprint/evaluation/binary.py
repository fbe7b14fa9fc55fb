"""Binary metrics (subtask 1, membership): labels in {0, 1}, scores higher = positive.

Each metric is a pure function of ``(y_true, y_pred)`` or ``(y_true, scores)`` and agrees with
scikit-learn to 1e-12 where scikit-learn has it. Degenerate inputs:

================ ==========================================================================
empty input      :class:`~synthprint.SynthprintError` from every function
precision        0.0 when nothing is predicted positive (scikit-learn's ``zero_division=0``)
recall           0.0 when there is no true positive sample (``zero_division=0``)
specificity      0.0 when there is no true negative sample (``zero_division=0``)
F1               0.0 when there are neither true nor predicted positives (``zero_division=0``)
accuracy         always defined
Cohen's kappa    :class:`UndefinedMetricError` when truth and predictions are one and the same
                 constant class (chance agreement is 1, kappa is 0/0; scikit-learn gives NaN)
ROC AUC, TPR at  :class:`UndefinedMetricError` when ``y_true`` holds one class only
FPR, ROC curve
================ ==========================================================================

Internally every metric is a function of per-sample *weights* (bootstrap counts), evaluated on
many resamples at once; the point estimate is the same code with all weights 1.
"""

from __future__ import annotations

import numpy as np

from synthprint._confusion import div0, f1_from_counts, kappa_from_counts
from synthprint.errors import SynthprintError
from synthprint.evaluation._checks import (
    UndefinedMetricError,
    binary_labels,
    finite_scores,
    same_length,
)
from synthprint.evaluation.table import MetricTable, build_table

#: The FPR levels at which TPR is reported by :func:`binary_metrics`.
FPR_LEVELS = (0.01, 0.001)

LABEL_METRICS = (
    ("kappa", "Cohen's kappa", "truth and predictions are the same single class"),
    ("f1", "F1", ""),
    ("accuracy", "accuracy", ""),
    ("precision", "precision", ""),
    ("recall", "recall (TPR)", ""),
    ("specificity", "specificity (TNR)", ""),
)
SCORE_METRICS = (
    ("roc_auc", "ROC AUC", "the truth holds one class only"),
    ("tpr@1%fpr", "TPR at 1% FPR", "the truth holds one class only"),
    ("tpr@0.1%fpr", "TPR at 0.1% FPR", "the truth holds one class only"),
)
_EPS = 1e-9


# ---------------------------------------------------------------- weighted cores (B resamples)

def label_values(t: np.ndarray, p: np.ndarray, w: np.ndarray) -> dict[str, np.ndarray]:
    """Label metrics for weights ``w`` (B, n) over bool truth ``t`` (n,) and predictions ``p``.

    Returns {name: (B,) float64}, NaN where undefined (kappa only).
    """
    tp = w @ (t & p).astype(float)
    fp = w @ (~t & p).astype(float)
    fn = w @ (t & ~p).astype(float)
    tn = w @ (~t & ~p).astype(float)
    n = tp + fp + fn + tn
    return {
        "kappa": kappa_from_counts(tp, fp, fn, tn),
        "f1": f1_from_counts(tp, fp, fn),
        "accuracy": (tp + tn) / n,
        "precision": div0(tp, tp + fp),
        "recall": div0(tp, tp + fn),
        "specificity": div0(tn, tn + fp),
    }


class _Levels:
    """Samples grouped by distinct score, highest score first (the ROC thresholds)."""

    def __init__(self, t: np.ndarray, s: np.ndarray) -> None:
        order = np.argsort(-s, kind="mergesort")
        s_sorted = s[order]
        starts = np.flatnonzero(np.r_[True, s_sorted[1:] != s_sorted[:-1]])
        self.order, self.starts = order, starts
        self.thresholds = s_sorted[starts]
        self.t_sorted = t[order].astype(float)

    def cumulative(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Weighted true and false positives (B, L) when thresholding at each level."""
        ws = w[:, self.order]
        tps = np.cumsum(np.add.reduceat(ws * self.t_sorted, self.starts, axis=1), axis=1)
        alls = np.cumsum(np.add.reduceat(ws, self.starts, axis=1), axis=1)
        return tps, alls - tps


def score_values(t: np.ndarray, s: np.ndarray, w: np.ndarray,
                 fpr_levels: tuple[float, ...] = FPR_LEVELS,
                 levels: _Levels | None = None) -> dict[str, np.ndarray]:
    """ROC AUC and TPR at each of ``fpr_levels`` for weights ``w`` (B, n); NaN if undefined."""
    lv = levels or _Levels(t, s)
    tps, fps = lv.cumulative(w)
    n_pos, n_neg = tps[:, -1:], fps[:, -1:]
    ok = (n_pos[:, 0] > 0) & (n_neg[:, 0] > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        tpr = np.hstack([np.zeros_like(n_pos), tps / n_pos])
        fpr = np.hstack([np.zeros_like(n_neg), fps / n_neg])
        auc = np.sum(np.diff(fpr, axis=1) * (tpr[:, 1:] + tpr[:, :-1]), axis=1) / 2.0
        out = {"roc_auc": np.where(ok, auc, np.nan)}
        fps0 = np.hstack([np.zeros_like(n_neg), fps])
        for a in fpr_levels:
            allowed = fps0 <= a * n_neg + _EPS
            best = np.max(np.where(allowed, tpr, 0.0), axis=1)
            out[_tpr_name(a)] = np.where(ok, best, np.nan)
    return out


def _tpr_name(a: float) -> str:
    return f"tpr@{a * 100:g}%fpr"


# ---------------------------------------------------------------- input checks

def _labels_pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    t = binary_labels(y_true, "y_true")
    p = binary_labels(y_pred, "y_pred")
    same_length(("y_true", t), ("y_pred", p))
    return t, p


def _scores_pair(y_true, scores) -> tuple[np.ndarray, np.ndarray]:
    t = binary_labels(y_true, "y_true")
    s = finite_scores(scores, "scores")
    same_length(("y_true", t), ("scores", s))
    return t, s


def _one(values: dict[str, np.ndarray], name: str, reason: str) -> float:
    v = float(values[name][0])
    if not np.isfinite(v):
        raise UndefinedMetricError(f"{name} is undefined: {reason}")
    return v


def _need_both_classes(t: np.ndarray, what: str) -> None:
    if t.all() or not t.any():
        raise UndefinedMetricError(
            f"{what} is undefined: y_true holds only class {int(t[0])}; it needs positive "
            "and negative samples"
        )


# ---------------------------------------------------------------- pure functions

def cohen_kappa(y_true, y_pred) -> float:
    """Cohen's kappa of binary labels (n,) in {0,1}; in [-1, 1], 1 = perfect agreement.

    Raises :class:`UndefinedMetricError` when truth and predictions are the same constant.
    """
    t, p = _labels_pair(y_true, y_pred)
    return _one(label_values(t, p, np.ones((1, len(t)))), "kappa", LABEL_METRICS[0][2])


def _label_metric(name: str):
    def fn(y_true, y_pred) -> float:
        t, p = _labels_pair(y_true, y_pred)
        return float(label_values(t, p, np.ones((1, len(t))))[name][0])
    return fn


def f1(y_true, y_pred) -> float:
    """F1 of the positive class (1), in [0, 1]; 0.0 when no true or predicted positives."""
    return _label_metric("f1")(y_true, y_pred)


def accuracy(y_true, y_pred) -> float:
    """Fraction of samples whose predicted label (0/1) equals the true one, in [0, 1]."""
    return _label_metric("accuracy")(y_true, y_pred)


def precision(y_true, y_pred) -> float:
    """TP / (TP + FP), in [0, 1]; 0.0 when nothing is predicted positive."""
    return _label_metric("precision")(y_true, y_pred)


def recall(y_true, y_pred) -> float:
    """TP / (TP + FN) (sensitivity, TPR), in [0, 1]; 0.0 when there are no positives."""
    return _label_metric("recall")(y_true, y_pred)


def specificity(y_true, y_pred) -> float:
    """TN / (TN + FP) (TNR), in [0, 1]; 0.0 when there are no negatives."""
    return _label_metric("specificity")(y_true, y_pred)


def roc_auc(y_true, scores) -> float:
    """Area under the ROC curve of float scores (n,) (higher = positive); ties count one half.

    Raises :class:`UndefinedMetricError` when ``y_true`` holds one class only.
    """
    t, s = _scores_pair(y_true, scores)
    _need_both_classes(t, "ROC AUC")
    return float(score_values(t, s, np.ones((1, len(t))), ())["roc_auc"][0])


def tpr_at_fpr(y_true, scores, fpr: float = 0.01) -> float:
    """The highest true-positive rate of any score threshold whose false-positive rate is at
    most ``fpr`` (in [0, 1]), i.e. the ROC curve read as a step function, no interpolation.

    With N negatives, a threshold is allowed when it passes at most ``floor(fpr * N)``
    negatives; so at 0.1% FPR with fewer than 1,000 negatives no false positive is allowed.
    Raises :class:`UndefinedMetricError` when ``y_true`` holds one class only.
    """
    if not 0.0 <= fpr <= 1.0:
        raise SynthprintError(f"fpr must be in [0, 1], got {fpr}")
    t, s = _scores_pair(y_true, scores)
    _need_both_classes(t, "TPR at FPR")
    return float(score_values(t, s, np.ones((1, len(t))), (fpr,))[_tpr_name(fpr)][0])


def roc_curve(y_true, scores, *, drop_intermediate: bool = True
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ROC curve points ``(fpr, tpr, thresholds)``, float64 arrays of equal length, as
    :func:`sklearn.metrics.roc_curve`: the first point is (0, 0) at threshold +inf, then one
    point per distinct score (highest first); ``drop_intermediate`` drops collinear points.

    Raises :class:`UndefinedMetricError` when ``y_true`` holds one class only.
    """
    t, s = _scores_pair(y_true, scores)
    _need_both_classes(t, "the ROC curve")
    lv = _Levels(t, s)
    tps, fps = (a[0] for a in lv.cumulative(np.ones((1, len(t)))))
    thresholds = lv.thresholds.astype(np.float64)
    if drop_intermediate and len(fps) > 2:
        keep = np.flatnonzero(np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)),
                                    True])
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    tps = np.r_[0.0, tps]
    fps = np.r_[0.0, fps]
    thresholds = np.r_[np.inf, thresholds]
    return fps / fps[-1], tps / tps[-1], thresholds


# ---------------------------------------------------------------- the table

def binary_metrics(y_true, y_pred=None, scores=None, *, n_boot: int = 1000, seed: int = 0,
                   confidence: float = 0.95) -> MetricTable:
    """Every binary metric with a stratified-bootstrap interval, as a :class:`MetricTable`.

    Parameters
    ----------
    y_true:
        (n,) true labels in {0, 1} (1 = used for training / positive).
    y_pred:
        (n,) predicted labels in {0, 1}, or None: kappa, F1, accuracy, precision, recall and
        specificity need them.
    scores:
        (n,) finite float scores, higher = more likely positive, or None: ROC AUC and TPR at 1%
        and 0.1% FPR need them; the table's ``extras["roc"]`` then holds the ROC curve.
    n_boot:
        Bootstrap resamples (stratified by the true class, see
        :mod:`synthprint.evaluation.bootstrap`); 0 for point estimates only.
    seed:
        Seeds the resampling; same inputs and seed give the same table.
    confidence:
        Coverage of the equal-tailed percentile interval.

    Metrics undefined for the inputs (see the module docstring) are rows with value None and
    a note, never NaN.
    """
    return _binary_table([(y_true, y_pred, scores)], n_boot=n_boot, seed=seed,
                         confidence=confidence, roc=True)


def _binary_table(runs: list[tuple], *, n_boot: int, seed: int, confidence: float,
                  roc: bool) -> MetricTable:
    """:func:`binary_metrics` over several prediction sets for the same ``y_true`` (the
    repeats of a cross-validation): values are means over the sets, see :func:`build_table`."""
    y_true = runs[0][0]
    t = binary_labels(y_true, "y_true")
    have_pred = {r[1] is not None for r in runs}
    have_scores = {r[2] is not None for r in runs}
    if len(have_pred) > 1 or len(have_scores) > 1:
        raise SynthprintError("every repeat must give labels (and scores) alike")
    if not have_pred.pop() | (has_scores := have_scores.pop()):
        raise SynthprintError("give y_pred (predicted labels), scores, or both")
    evaluators, specs = [], []
    for _, y_pred, scores in runs:
        parts = []
        if y_pred is not None:
            tt, p = _labels_pair(y_true, y_pred)
            parts.append(lambda w, tt=tt, p=p: label_values(tt, p, w))
        if scores is not None:
            tt, s = _scores_pair(y_true, scores)
            lv = _Levels(tt, s)
            parts.append(lambda w, tt=tt, s=s, lv=lv: score_values(tt, s, w, levels=lv))
        evaluators.append(lambda w, parts=parts: {k: v for f in parts for k, v in f(w).items()})
    if runs[0][1] is not None:
        specs += list(LABEL_METRICS)
    if has_scores:
        specs += list(SCORE_METRICS)
    extras = {}
    if has_scores and roc and len(runs) == 1 and t.any() and not t.all():
        extras["roc"] = roc_curve(t, runs[0][2])
    return build_table(evaluators, specs, t.astype(np.int64), task="binary", n_boot=n_boot,
                       seed=seed, confidence=confidence, extras=extras)


def roc_auc_difference(y_true, scores_a, scores_b, *, n_boot: int = 1000, seed: int = 0,
                       confidence: float = 0.95) -> MetricTable:
    """ROC AUC of ``scores_a`` minus ROC AUC of ``scores_b`` on the same images, with a paired
    stratified-bootstrap interval (both score sets are evaluated on the same resamples, so the
    interval is that of the difference, narrower than two separate intervals suggest).

    ``y_true`` (n,) in {0, 1} with both classes; ``scores_a``, ``scores_b`` (n,) finite floats,
    higher = more likely positive. Returns a one-row :class:`MetricTable`; its
    ``"roc_auc_difference"`` row is in [-1, 1], and an interval that includes 0 means the
    two score sets are not told apart.
    """
    t, a = _scores_pair(y_true, scores_a)
    _, b = _scores_pair(y_true, scores_b)
    _need_both_classes(t, "the ROC AUC difference")
    la, lb = _Levels(t, a), _Levels(t, b)

    def diff(w: np.ndarray) -> dict[str, np.ndarray]:
        return {"roc_auc_difference": score_values(t, a, w, (), la)["roc_auc"]
                - score_values(t, b, w, (), lb)["roc_auc"]}

    return build_table([diff], [("roc_auc_difference", "ROC AUC difference",
                                 "needs both classes")], t.astype(np.int64), task="binary",
                       n_boot=n_boot, seed=seed, confidence=confidence)
