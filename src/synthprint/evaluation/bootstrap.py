"""Seeded, class-stratified bootstrap resampling and percentile intervals.

A resample is held as a row of *counts*: how many times each sample was drawn. Metrics are then
weighted sums over samples, so one matrix product evaluates a metric on many resamples at once,
and the metric code for the point estimate (all counts 1) is the very code used on resamples.

Resampling is stratified by the true class: each class is resampled with replacement within
itself, keeping its size. So every resample holds the same classes as the data (ROC AUC and
kappa stay defined), and the intervals describe the sampling of images at a fixed class balance.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from synthprint.errors import SynthprintError

#: Resamples are drawn and evaluated this many at a time (bounds memory: block x n floats).
BLOCK = 250


def stratified_counts(strata: np.ndarray, n_boot: int, seed: int) -> Iterator[np.ndarray]:
    """Yield blocks of bootstrap counts, float64 arrays of shape (b, n), b <= :data:`BLOCK`.

    ``strata`` (n,) holds the true class of each sample. In every row, each class's m samples
    are drawn m times uniformly with replacement (counts of a multinomial draw), so each row
    sums to n and each class keeps its size. The same ``strata``, ``n_boot`` and ``seed`` give the
    same counts, independent of anything else.
    """
    strata = np.asarray(strata)
    n = len(strata)
    if n_boot < 0:
        raise SynthprintError(f"n_boot must be 0 or more, got {n_boot}")
    rng = np.random.default_rng(seed)
    members = [np.flatnonzero(strata == c) for c in np.unique(strata)]
    done = 0
    while done < n_boot:
        b = min(BLOCK, n_boot - done)
        counts = np.zeros((b, n), dtype=np.float64)
        rows = np.arange(b)[:, None]
        for idx in members:
            m = len(idx)
            draws = rng.integers(0, m, size=(b, m)) + rows * m
            counts[:, idx] = np.bincount(draws.ravel(), minlength=b * m).reshape(b, m)
        yield counts
        done += b


def percentile_interval(values: np.ndarray, confidence: float = 0.95
                        ) -> tuple[float, float] | None:
    """Equal-tailed percentile interval of the finite ``values`` (None if there are none)."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(values, [alpha, 1.0 - alpha])
    return float(low), float(high)
