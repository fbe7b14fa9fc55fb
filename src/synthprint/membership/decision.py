"""Turn membership scores into used / not-used labels: the threshold that maximises the
official metric on labelled images, or the one that labels a stated share of images used.

The official metric is Cohen's kappa for the 2025 edition and F1 for 2023, computed here for
every candidate threshold at once from cumulative counts (the formulas of
:mod:`synthprint._confusion`, which :mod:`synthprint.evaluation` uses too). Labels are
``score > threshold`` (1 = used).
"""

from __future__ import annotations

import numpy as np

from synthprint._confusion import f1_from_counts, kappa_from_counts
from synthprint.errors import SynthprintError

#: The metric each edition ranked runs by.
OFFICIAL_METRIC = {2023: "f1", 2025: "kappa"}
METRICS = ("kappa", "f1")


def candidate_thresholds(scores: np.ndarray) -> np.ndarray:
    """Midpoints between consecutive distinct scores, plus one below the lowest and one above
    the highest (label everything used / nothing used); float64, ascending."""
    s = np.unique(np.asarray(scores, dtype=np.float64))
    if len(s) == 0:
        raise SynthprintError("no scores to threshold")
    pad = max(1e-9, 1e-6 * float(np.ptp(s)))
    return np.r_[s[0] - pad, (s[1:] + s[:-1]) / 2, s[-1] + pad]


def metric_by_threshold(scores, labels, metric: str = "kappa"
                        ) -> tuple[np.ndarray, np.ndarray]:
    """``(candidates, values)``: the (U + 1,) :func:`candidate_thresholds` of ``scores`` (n,)
    and ``metric`` ("kappa" or "f1") of the labels ``scores > t`` against ``labels`` (n,) in
    {0, 1} for each of them, float64. O(n log n): the confusion counts of all thresholds
    come from cumulative sums over the sorted scores. An undefined kappa (truth and labels
    one and the same class) and an undefined F1 (no used image in either) count as 0.
    Raises :class:`SynthprintError` on non-finite scores or labels other than 0 and 1."""
    if metric not in METRICS:
        raise SynthprintError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels)
    if s.shape != y.shape or s.ndim != 1:
        raise SynthprintError(f"scores {s.shape} and labels {y.shape} must be equal 1-d arrays")
    if not np.isfinite(s).all():
        raise SynthprintError("scores must be finite numbers to choose a threshold; "
                              f"{int((~np.isfinite(s)).sum())} are NaN or infinite")
    if not np.isin(y, (0, 1)).all():
        raise SynthprintError(f"labels must be 0 or 1, got {np.unique(y).tolist()}")
    cands = candidate_thresholds(s)
    order = np.argsort(s, kind="stable")
    below_pos = np.r_[0.0, np.cumsum(y[order], dtype=np.float64)]
    # images labelled used by candidate t: those with a score > t, i.e. sorted index >= k
    k = np.searchsorted(s[order], cands, side="right")
    n_pos = float(below_pos[-1])
    tp = n_pos - below_pos[k]
    fp = (len(s) - k) - tp
    fn, tn = n_pos - tp, (len(s) - n_pos) - fp
    if metric == "kappa":
        return cands, np.nan_to_num(kappa_from_counts(tp, fp, fn, tn), nan=0.0)
    return cands, f1_from_counts(tp, fp, fn)


def best_threshold(scores, labels, metric: str = "kappa",
                   unlabelled=None) -> tuple[float, float]:
    """The threshold that maximises ``metric`` ("kappa" or "f1") of ``scores > threshold``
    against ``labels`` (n,) in {0, 1}.

    The best thresholds usually form a range between two labelled scores. Within the range
    around the middle best threshold, the threshold is put in the widest gap between the
    ``unlabelled`` scores (optional, e.g. the scores of the test images: their labels are
    not needed), i.e. where the fewest images sit on the boundary; without them, in the
    middle of the range. Returns ``(threshold, metric value on the labelled scores)``; an
    undefined kappa counts as 0.
    """
    s = np.asarray(scores, dtype=np.float64)
    cands, values = metric_by_threshold(s, labels, metric)
    is_best = values >= values.max() - 1e-12
    best = np.flatnonzero(is_best)
    k = int(best[(len(best) - 1) // 2])
    # the run of best candidates around k spans the labelled scores between them
    lo_k, hi_k = k, k
    while lo_k > 0 and is_best[lo_k - 1]:
        lo_k -= 1
    while hi_k < len(cands) - 1 and is_best[hi_k + 1]:
        hi_k += 1
    sorted_s = np.unique(s)
    lo = sorted_s[lo_k - 1] if lo_k > 0 else cands[0]
    hi = sorted_s[hi_k] if hi_k < len(sorted_s) else cands[-1]
    threshold = float(cands[k])
    if unlabelled is not None and lo < hi:
        u = np.asarray(unlabelled, dtype=np.float64).ravel()
        inside = np.unique(u[(u > lo) & (u < hi)])
        edges = np.r_[lo, inside, hi]
        g = int(np.argmax(np.diff(edges)))
        threshold = float((edges[g] + edges[g + 1]) / 2)
    return threshold, float(values[k])


def prior_threshold(scores, prior: float) -> float:
    """The threshold ``t`` for which ``scores > t`` labels ``prior`` of the n ``scores`` used
    (the highest ones): ``floor(prior * n + 0.5)`` of them, or, when tied scores straddle
    that count (one threshold gives tied scores one label), the achievable count nearest it,
    the larger one when two are as near. ``prior`` is the assumed share of used images, in
    (0, 1); ``scores``: (n,) floats, n >= 1."""
    if not 0.0 < prior < 1.0:
        raise SynthprintError(f"the prior share of used images must be in (0, 1), got {prior}")
    s = np.sort(np.asarray(scores, dtype=np.float64))[::-1]
    if len(s) == 0:
        raise SynthprintError("no scores to threshold")
    k = int(np.floor(prior * len(s) + 0.5))
    _, first = np.unique(-s, return_index=True)   # where each distinct score starts in s
    achievable = [*first.tolist(), len(s)]         # used when the cut is just above one
    n_used = min(achievable, key=lambda c: (abs(c - k), -c))
    if n_used == 0:
        return float(s[0] + max(1e-9, 1e-6 * abs(s[0])))
    if n_used == len(s):
        return float(s[-1] - max(1e-9, 1e-6 * abs(s[-1])))
    middle = (s[n_used - 1] + s[n_used]) / 2   # two adjacent floats: it rounds to the upper
    return float(middle if middle < s[n_used - 1] else s[n_used])


#: What to write when cross-validation finds no membership signal (see :func:`no_signal_labels`).
NO_SIGNAL_POLICIES = ("all-used", "threshold")


def no_signal_labels(labels, policy: str = "all-used") -> tuple[np.ndarray, str]:
    """The labels to submit when the train cross-validation finds no membership signal (its
    ROC AUC's 95% interval includes 0.5), and a sentence saying what they are.

    ``labels``: (n,) int labels from the method's decision. ``policy``:

    * ``"all-used"``: every image labelled 1. Without information this is the labelling with
      the best expected F1 (2023's metric) and it has Cohen's kappa exactly 0 (2025's metric:
      chance, with no variance), instead of a label set that looks decisive but is noise. For
      an audit it is the conservative answer: no image can be cleared.
    * ``"threshold"``: the method's labels, unchanged.
    """
    if policy not in NO_SIGNAL_POLICIES:
        raise SynthprintError(f"the no-signal policy must be one of "
                              f"{', '.join(NO_SIGNAL_POLICIES)}, got {policy!r}")
    labels = np.asarray(labels, dtype=np.int64)
    if policy == "all-used":
        return np.ones_like(labels), (
            "every test image is labelled used (1): with no detectable signal no image can "
            "be cleared; this gives Cohen's kappa 0 (chance) exactly and the best F1 "
            "available without information. scores.csv keeps the method's scores; "
            "--when-no-signal threshold writes the method's own labels instead")
    return labels, ("the labels are the method's threshold applied to scores that do not "
                    "separate used from unused images on the train split: no better than "
                    "chance")
