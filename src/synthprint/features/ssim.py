"""Exact SSIM between every pair of a block of images, as scikit-image computes it.

:func:`ssim_block` returns ``structural_similarity(x, y, data_range=255, ...)`` for every
pair of a block, within 1e-6 of scikit-image (float64), using compiled kernels
(:mod:`synthprint.features._native`) or, without a C compiler, numpy/scipy.

Why it is fast: SSIM needs local means and variances of each image (computed once per image
and block, on the fly) and the filtered cross term E[xy] of each pair; for uint8 images and
the 7x7 box window every window sum is an integer, so the covariance is exact in integer
arithmetic and the per-pixel work is a handful of vector instructions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import correlate1d

from synthprint.errors import SynthprintError
from synthprint.features import _native


@dataclass(frozen=True)
class SSIMParams:
    """The parameters of ``skimage.metrics.structural_similarity`` that SSIM here supports.

    ``SSIMParams()`` is skimage's default (7x7 uniform window, sample covariance);
    ``SSIMParams.gaussian()`` is Wang et al. 2004 (Gaussian sigma 1.5, 11x11, population
    covariance). ``data_range`` is in gray levels of the images given (255 for uint8).

    ``row_step`` > 1 is not skimage: the mean of the SSIM map is then taken over every
    ``row_step``-th row only (rows 0, row_step, ...; all columns), an unbiased estimate
    several times cheaper (uint8 box SSIM only; numpy otherwise), for candidate search. 1
    (default) is exact.
    """

    gaussian_weights: bool = False
    win_size: int = 7
    sigma: float = 1.5
    use_sample_covariance: bool = True
    data_range: float = 255.0
    K1: float = 0.01
    K2: float = 0.03
    row_step: int = 1

    @classmethod
    def gaussian(cls) -> SSIMParams:
        return cls(gaussian_weights=True, use_sample_covariance=False)

    def window(self) -> np.ndarray:
        """The 1-D separable window (float64, sums to 1), as skimage/scipy build it."""
        if self.gaussian_weights:
            radius = int(3.5 * self.sigma + 0.5)
            t = np.arange(-radius, radius + 1, dtype=np.float64)
            w = np.exp(-0.5 / (self.sigma * self.sigma) * t * t)
            return w / w.sum()
        if self.win_size < 1 or self.win_size % 2 == 0:
            raise SynthprintError(f"SSIM win_size must be odd and positive, got {self.win_size}")
        return np.full(self.win_size, 1.0 / self.win_size)

    def constants(self) -> tuple[float, float, float]:
        """(cn, C1, C2): covariance normalisation and the two stabilising constants."""
        k = len(self.window())
        n_px = k * k
        cn = n_px / (n_px - 1) if self.use_sample_covariance else 1.0
        return cn, (self.K1 * self.data_range) ** 2, (self.K2 * self.data_range) ** 2


def _check(X: np.ndarray, Y: np.ndarray, k: int) -> tuple[int, int]:
    if X.ndim != 3 or Y.ndim != 3 or X.shape[1:] != Y.shape[1:]:
        raise SynthprintError(
            f"SSIM needs two image stacks of the same size, got {X.shape} and {Y.shape}")
    h, w = X.shape[1:]
    if h < k or w < k:
        raise SynthprintError(f"images of {h}x{w} px are smaller than the {k}x{k} SSIM window")
    return h, w


def ssim_block(X: np.ndarray, ii: np.ndarray, Y: np.ndarray, jj: np.ndarray,
               params: SSIMParams = SSIMParams(), mask: np.ndarray | None = None
               ) -> np.ndarray:
    """Mean SSIM of ``X[ii[a]]`` and ``Y[jj[b]]`` for every ``a``, ``b``.

    Parameters
    ----------
    X, Y : (n, H, W) and (m, H, W) arrays, uint8 (any window) or float (gray levels).
    ii, jj : int64 index arrays into X and Y; the block is ``len(ii) x len(jj)`` pairs.
        Blocks of about 8 x 8 use the caches best.
    params : :class:`SSIMParams`.
    mask : optional (len(ii), len(jj)) bool array: only these pairs are needed (the others
        are NaN in the result; the integer kernel skips them, saving their time).

    Returns
    -------
    (len(ii), len(jj)) float64 array of mean SSIM values in [-1, 1]: exactly
    ``structural_similarity(X[i], Y[j], data_range=params.data_range, ...)`` up to float
    rounding (< 1e-6). Each value depends only on its pair, never on the block.
    """
    out = _ssim_block(X, ii, Y, jj, params, mask)
    if mask is not None:
        out[~np.asarray(mask, dtype=bool)] = np.nan
    return out


def mask_saves_work(X: np.ndarray, Y: np.ndarray, params: SSIMParams) -> bool:
    """Whether :func:`ssim_block` computes only the masked pairs for these inputs (the native
    integer kernel: uint8 images, box window of at most 13 px, every row); otherwise a mask
    only hides values that were computed anyway."""
    return (X.dtype == np.uint8 and Y.dtype == np.uint8 and not params.gaussian_weights
            and int(params.row_step) == 1 and len(params.window()) <= 13
            and _native.library() is not None)


def _ssim_block(X, ii, Y, jj, params, mask):
    w1 = params.window()
    k = len(w1)
    h, w = _check(X, Y, k)
    ii = np.ascontiguousarray(ii, dtype=np.int64)
    jj = np.ascontiguousarray(jj, dtype=np.int64)
    out = np.empty((len(ii), len(jj)), dtype=np.float64)
    if out.size == 0:
        return out
    cn, c1, c2 = params.constants()
    step = int(params.row_step)
    if step < 1:
        raise SynthprintError(f"row_step must be >= 1, got {step}")
    lib = _native.library()
    if lib is None:
        return _ssim_block_numpy(X, ii, Y, jj, w1, cn, c1, c2, step)
    if step > 1:
        rc = -2
        if X.dtype == np.uint8 and Y.dtype == np.uint8 and not params.gaussian_weights:
            rc = lib.ssim_u8_rows_block(np.ascontiguousarray(X), len(ii), ii,
                                        np.ascontiguousarray(Y), len(jj), jj,
                                        h, w, k, step, cn, c1, c2, out.reshape(-1))
        if rc == -2:
            return _ssim_block_numpy(X, ii, Y, jj, w1, cn, c1, c2, step)
    elif (X.dtype == np.uint8 and Y.dtype == np.uint8 and not params.gaussian_weights
            and k <= 13):
        m8 = None if mask is None else np.ascontiguousarray(mask, dtype=np.uint8)
        rc = lib.ssim_u8_block(np.ascontiguousarray(X), len(ii), ii,
                               np.ascontiguousarray(Y), len(jj), jj, h, w, k, cn, c1, c2,
                               None if m8 is None else m8.ctypes.data, out.reshape(-1))
    elif k <= 63:
        # rows padded to W + 4 and images to H + 1 rows: no 4 KiB strides (cache sets)
        ld, hp = w + 4, h + 1
        Xb = np.zeros((len(ii), hp, ld))
        Xb[:, :h, :w] = X[ii]
        Yb = np.zeros((len(jj), hp, ld))
        Yb[:, :h, :w] = Y[jj]
        rc = lib.ssim_f64_block(Xb, len(ii), np.arange(len(ii), dtype=np.int64),
                                Yb, len(jj), np.arange(len(jj), dtype=np.int64),
                                h, w, ld, hp * ld, np.ascontiguousarray(w1), k, cn, c1, c2,
                                out.reshape(-1))
    else:
        return _ssim_block_numpy(X, ii, Y, jj, w1, cn, c1, c2, step)
    if rc != 0:
        raise MemoryError("SSIM kernel could not allocate its working memory")
    return out


def _valid_filter(a: np.ndarray, w1: np.ndarray) -> np.ndarray:
    """Separable correlation with ``w1`` over the last two axes, valid region only."""
    r = len(w1) // 2
    out = correlate1d(a, w1, axis=-2, mode="reflect")
    out = correlate1d(out, w1, axis=-1, mode="reflect")
    return out[..., r:out.shape[-2] - r, r:out.shape[-1] - r]


def _ssim_block_numpy(X, ii, Y, jj, w1, cn, c1, c2, step=1) -> np.ndarray:
    """The same as the kernels, with skimage's own float64 operations (slower)."""
    xs = X[ii].astype(np.float64)
    ys = Y[jj].astype(np.float64)
    ux, uy = _valid_filter(xs, w1), _valid_filter(ys, w1)
    vx = cn * (_valid_filter(xs * xs, w1) - ux * ux)
    vy = cn * (_valid_filter(ys * ys, w1) - uy * uy)
    out = np.empty((len(ii), len(jj)), dtype=np.float64)
    for a in range(len(ii)):
        uxy = _valid_filter(xs[a] * ys, w1)
        vxy = cn * (uxy - ux[a] * uy)
        num = (2 * ux[a] * uy + c1) * (2 * vxy + c2)
        den = (ux[a] ** 2 + uy ** 2 + c1) * (vx[a] + vy + c2)
        out[a] = (num / den)[:, ::step].mean(axis=(1, 2), dtype=np.float64)
    return out
