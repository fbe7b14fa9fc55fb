"""Cohen's kappa and F1 from confusion counts (a leaf module: the threshold search in
:mod:`synthprint.membership.decision` and the metrics of :mod:`synthprint.evaluation` both
use it, and neither layer may import the other's direction)."""

from __future__ import annotations

import numpy as np


def kappa_from_counts(tp, fp, fn, tn) -> np.ndarray:
    """Cohen's kappa of binary labels from their true/false positive/negative counts (arrays
    of one shape, float; weighted counts allowed), by scikit-learn's formula
    ``1 - observed / expected disagreement``; NaN where it is undefined (truth and labels one
    and the same class: no disagreement is expected)."""
    tp, fp, fn, tn = (np.asarray(c, dtype=np.float64) for c in (tp, fp, fn, tn))
    n = tp + fp + fn + tn
    with np.errstate(divide="ignore", invalid="ignore"):
        expected_off = ((tn + fn) * (fn + tp)) / n + ((fp + tp) * (tn + fp)) / n
        return np.where(expected_off != 0, 1.0 - (fp + fn) / expected_off, np.nan)


def div0(num, den) -> np.ndarray:
    """num / den as float64, 0 where den == 0 (scikit-learn's ``zero_division=0``)."""
    num, den = np.broadcast_arrays(np.asarray(num, float), np.asarray(den, float))
    out = np.zeros_like(num)
    np.divide(num, den, out=out, where=den != 0)
    return out


def f1_from_counts(tp, fp, fn) -> np.ndarray:
    """F1 from true positive, false positive and false negative counts; 0 where there are
    neither true nor predicted positives (scikit-learn's ``zero_division=0``)."""
    tp, fp, fn = (np.asarray(c, dtype=np.float64) for c in (tp, fp, fn))
    return div0(2 * tp, 2 * tp + fp + fn)
