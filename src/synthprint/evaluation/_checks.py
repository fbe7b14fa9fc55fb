"""Input checks shared by the metric functions, and the error for undefined metrics."""

from __future__ import annotations

import numpy as np

from synthprint.errors import SynthprintError


class UndefinedMetricError(SynthprintError, ValueError):
    """A metric has no value for these inputs (for example ROC AUC with one class only).

    The table builders (:func:`~synthprint.evaluation.binary_metrics`, ...) catch it and show
    the metric as ``n/a`` with the reason; the pure functions raise it.
    """


def as_1d(x, what: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise SynthprintError(f"{what} must be one-dimensional, got shape {arr.shape}")
    if arr.size == 0:
        raise SynthprintError(f"{what} is empty; metrics need at least one sample")
    return arr


def same_length(*pairs: tuple[str, np.ndarray]) -> None:
    n = len(pairs[0][1])
    for what, arr in pairs[1:]:
        if len(arr) != n:
            raise SynthprintError(
                f"{what} has {len(arr)} entries but {pairs[0][0]} has {n}; give one per sample"
            )


def binary_labels(x, what: str) -> np.ndarray:
    """``x`` as a bool array, checking every entry is 0 or 1 (or False/True)."""
    arr = as_1d(x, what)
    if arr.dtype == bool:
        return arr
    if not np.issubdtype(arr.dtype, np.number):
        raise SynthprintError(f"{what} must hold the numbers 0 and 1, got dtype {arr.dtype}")
    bad = ~np.isin(arr, (0, 1))
    if bad.any():
        raise SynthprintError(
            f"{what} must hold only 0 and 1 (binary labels); found "
            f"{arr[bad][:5].tolist()}; use multiclass_metrics for more than two classes"
        )
    return arr == 1


def finite_scores(x, what: str) -> np.ndarray:
    arr = as_1d(x, what).astype(np.float64)
    if not np.isfinite(arr).all():
        raise SynthprintError(
            f"{what} holds {int((~np.isfinite(arr)).sum())} NaN or infinite value(s); "
            "replace them with finite scores"
        )
    return arr
