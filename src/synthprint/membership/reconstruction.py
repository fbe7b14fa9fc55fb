"""Which real image is each generated image built from? Non-negative ridge reconstruction.

A generator that memorises its training images produces samples that are mostly made of
them: blurred copies, and blends of a few of them. So each generated image g is written as a
non-negative combination of the whole pool of real images (labelled and unknown alike, all
centred on the pool's mean image),

    min_w ||g - mu - sum_r w_r (x_r - mu)||^2 + lam ||w||^2,   w >= 0,

and every real image gets, from each generated image, its *share* w_r / sum(w) of that
reconstruction. A training image collects a large share from the samples built on it; a
typical image that merely looks like many others has to split its share with its look-alikes,
which is the calibration against real-real similarity that a plain nearest-neighbour distance
lacks. The same is done on overlapping windows of the images, so that a sample which copies
one part of a training image and blends the rest still credits it.

Everything here is label-free: the scores of a pool depend only on its pixels.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata
from threadpoolctl import threadpool_limits

from synthprint._progress import progress_task
from synthprint.errors import SynthprintError
from synthprint.features import default_n_jobs, pyramid_level

#: Rows of targets solved together (bounds memory; fixed so results never depend on it).
_CHUNK = 2048


def nonneg_ridge(atoms: np.ndarray, targets: np.ndarray, *, ridge: float = 0.03,
                 n_iter: int = 200) -> np.ndarray:
    """Non-negative ridge regression of every target on all atoms (accelerated projected
    gradient, FISTA, on the Gram matrix).

    Parameters
    ----------
    atoms : (m, d) float array, one atom per row.
    targets : (n, d) float array, one target per row.
    ridge : the penalty ``lam`` relative to the mean squared norm of the atoms (scale-free);
        > 0 also makes the problem well conditioned, so ``n_iter`` iterations converge.
    n_iter : iterations (fixed, so the result is deterministic).

    Returns
    -------
    (n, m) float32 weights >= 0 minimising ``||t - atoms.T @ w||^2 + lam ||w||^2`` per target.
    """
    A = np.ascontiguousarray(atoms, dtype=np.float32)
    T = np.ascontiguousarray(targets, dtype=np.float32)
    if A.ndim != 2 or T.ndim != 2 or A.shape[1] != T.shape[1]:
        raise SynthprintError(f"atoms {A.shape} and targets {T.shape} must be (m, d) and (n, d)")
    if ridge < 0:
        raise SynthprintError(f"ridge must be >= 0, got {ridge}")
    Q = A @ A.T
    lam = np.float32(ridge * max(float(np.mean(np.diag(Q))), 1e-12))
    Q[np.diag_indices_from(Q)] += lam
    step = np.float32(1.0 / max(float(np.linalg.eigvalsh(Q.astype(np.float64))[-1]), 1e-12))
    out = np.empty((len(T), len(A)), dtype=np.float32)
    for c0 in range(0, len(T), _CHUNK):
        C = T[c0:c0 + _CHUNK] @ A.T
        W = np.zeros_like(C)
        Z = W.copy()
        t = 1.0
        for _ in range(n_iter):
            W_new = np.maximum(Z - (Z @ Q - C) * step, 0.0)
            t_new = (1.0 + np.sqrt(1.0 + 4.0 * t * t)) / 2.0
            Z = W_new + np.float32((t - 1.0) / t_new) * (W_new - W)
            W, t = W_new, t_new
        out[c0:c0 + len(C)] = W
    return out


def max_share(weights: np.ndarray) -> np.ndarray:
    """(m,) float64: for each atom, the largest share ``w / sum(w)`` it has in any target's
    reconstruction (0 for an atom no target uses). ``weights`` is (n, m), >= 0."""
    totals = weights.sum(axis=1, keepdims=True, dtype=np.float64)
    shares = np.divide(weights, totals, out=np.zeros(weights.shape), where=totals > 0)
    return shares.max(axis=0) if len(shares) else np.zeros(weights.shape[1])


def windows(size: int, stride: int, side: int = 64) -> list[tuple[int, int]]:
    """Top-left corners (row, col) of the ``size`` x ``size`` windows of a ``side`` px image
    at ``stride`` (the whole image when ``size == side``)."""
    if not 0 < size <= side or stride < 1:
        raise SynthprintError(f"window {size} px at stride {stride} does not fit {side} px")
    starts = list(range(0, side - size + 1, stride))
    return [(i, j) for i in starts for j in starts]


def reconstruction_shares(generated: np.ndarray, pool: np.ndarray, *,
                          views: tuple[tuple[int, int], ...] = ((64, 64), (48, 16)),
                          level: int = 2, ridge: float = 0.03, n_iter: int = 200,
                          n_jobs: int | None = None, quiet: bool = False) -> np.ndarray:
    """Per view, each pool image's mean (over the view's windows) largest reconstruction share.

    Parameters
    ----------
    generated : (G, 256, 256) uint8 generated images.
    pool : (P, 256, 256) uint8 real images (every candidate: labelled and unknown).
    views : (window size, stride) pairs in pixels of the ``level`` image; ``(64, 64)`` is the
        whole 64 px image, ``(48, 16)`` its four 48 px windows.
    level : pyramid level the images are compared at (2: 64 px, the generators' resolution
        on the simulated benchmarks; 2x2 means, :func:`synthprint.features.pyramid_level`).
    ridge, n_iter : see :func:`nonneg_ridge`.
    n_jobs : BLAS threads (default: every core this process may use).
    quiet : no progress bar.

    Returns
    -------
    (P, len(views)) float64 shares in [0, 1], higher = more of the generated set is built
    from that image.
    """
    g = pyramid_level(generated, level).astype(np.float32)
    p = pyramid_level(pool, level).astype(np.float32)
    side = p.shape[-1]
    plan = [(v, windows(size, stride, side)) for v, (size, stride) in enumerate(views)]
    out = np.zeros((len(p), len(views)), dtype=np.float64)
    total = sum(len(w) for _, w in plan)
    with progress_task("reconstructing generated images", total, quiet) as advance, \
            threadpool_limits(limits=n_jobs or default_n_jobs(), user_api="blas"):
        for v, corners in plan:
            size = views[v][0]
            for i, j in corners:
                atoms = p[:, i:i + size, j:j + size].reshape(len(p), -1)
                mean = atoms.mean(axis=0)
                targets = g[:, i:i + size, j:j + size].reshape(len(g), -1)
                W = nonneg_ridge(atoms - mean, targets - mean, ridge=ridge, n_iter=n_iter)
                out[:, v] += max_share(W) / len(corners)
                advance()
    return out


def percentile_ranks(values: np.ndarray) -> np.ndarray:
    """Column-wise ranks scaled to (0, 1] (ties share their mean rank), float64, same shape."""
    values = np.asarray(values, dtype=np.float64)
    return rankdata(values, axis=0) / max(len(values), 1)
