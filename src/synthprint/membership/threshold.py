"""Choose a decision threshold on labelled scores for the official metric."""

from __future__ import annotations

import numpy as np

THRESHOLD_METRICS = ("kappa", "f1", "accuracy")


def _metric(metric: str, y: np.ndarray, pred: np.ndarray) -> float:
    tp = float(np.sum((pred == 1) & (y == 1)))
    fp = float(np.sum((pred == 1) & (y == 0)))
    fn = float(np.sum((pred == 0) & (y == 1)))
    tn = float(np.sum((pred == 0) & (y == 0)))
    n = tp + fp + fn + tn
    if metric == "accuracy":
        return (tp + tn) / n
    if metric == "f1":
        return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)
    po = (tp + tn) / n
    pe = ((tp + fp) * (tp + fn) + (tn + fn) * (tn + fp)) / (n * n)
    return 0.0 if pe == 1 else (po - pe) / (1 - pe)


def choose_threshold(scores: np.ndarray, labels: np.ndarray, metric: str = "kappa") -> float:
    """The threshold t maximising ``metric`` of the rule ``score > t`` on labelled scores.

    Parameters
    ----------
    scores: (n,) float, higher = more likely used.
    labels: (n,) in {0, 1}.
    metric: "kappa" (2025's official metric), "f1" (2023's) or "accuracy".

    Candidates are the midpoints between consecutive distinct scores and one point beyond
    each end. Among equally good candidates the middle one of the best run is taken, so the
    threshold sits in the widest safe gap rather than against one image.
    """
    if metric not in THRESHOLD_METRICS:
        raise ValueError(f"metric must be one of {THRESHOLD_METRICS}, got {metric!r}")
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels).astype(np.int64)
    u = np.unique(s)
    if len(u) == 1:
        return float(u[0]) - 1e-9
    span = float(u[-1] - u[0])
    cands = np.concatenate([[u[0] - 1e-6 * span - 1e-12], (u[:-1] + u[1:]) / 2,
                            [u[-1] + 1e-6 * span + 1e-12]])
    values = np.array([_metric(metric, y, (s > t).astype(np.int64)) for t in cands])
    best = np.flatnonzero(values >= values.max() - 1e-12)
    return float(cands[best[len(best) // 2]])
