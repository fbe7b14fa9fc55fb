"""The similarity metrics of :func:`synthprint.features.pairwise`, all "higher = more similar".

==================  ==========================================================================
``"ssim"``          mean SSIM, exactly ``skimage.metrics.structural_similarity(x, y,
                    data_range=255)`` (7x7 uniform window, sample covariance). Range [-1, 1].
``"ssim-gaussian"`` the same with ``gaussian_weights=True, sigma=1.5,
                    use_sample_covariance=False`` (Wang et al. 2004).
``"ncc"``           normalised cross-correlation (Pearson correlation of all pixels), [-1, 1];
                    0 when either image is constant.
``"l2"``            minus the root-mean-square pixel difference, in gray levels: [-255, 0],
                    0 for identical images (so "best" is the smallest distance).
``"cosine"``        cosine similarity of embedding vectors (2-D float arrays (n, d)), [-1, 1];
                    0 for a zero vector.
``"ssim-rowsN"``    NOT exact: mean SSIM estimated from every N-th row of the SSIM map
                    (``"ssim-rows8"``: 8 times fewer rows, unbiased, about 6x cheaper), for the
                    candidate stage of a pruned search.
``"ssim-gridN"``    NOT exact: mean SSIM estimated from the 7x7 windows whose corner is on an
                    N-pixel grid (``"ssim-grid6"``: 1,764 of the 62,500 windows of a 256 px
                    image, about 30x cheaper than exact); the default candidate stage of a
                    pruned SSIM search.
==================  ==========================================================================

The image metrics take ``level`` (:func:`~synthprint.features.pyramid.pyramid_level`): at
level L they compare the 2x2-mean pyramid images of side 256 >> L (SSIM at level L equals
``structural_similarity`` of the float64 pyramid images, ``data_range=255``).
"""

from __future__ import annotations

import numpy as np

from synthprint.errors import SynthprintError
from synthprint.features import _native
from synthprint.features.pyramid import pyramid_level
from synthprint.features.ssim import SSIMParams, ssim_block

METRICS = ("ssim", "ssim-gaussian", "ncc", "l2", "cosine")


class Metric:
    """How to compare two stacks: ``prepare`` each stack once, then ``score`` blocks.

    ``tile`` is the block shape (rows, columns) that uses the caches best; blocks run in
    parallel Python threads (the kernels and BLAS release the GIL; BLAS itself is kept to one
    thread, which under load is much faster than its own threads); ``pair_cost`` is a rough
    cost of one pair in seconds (for progress bars); ``symmetric``: score(x, y) equals
    score(y, x) to the bit, so a stack compared with itself needs only one triangle.
    """

    name: str = ""
    symmetric: bool = False
    tile: tuple[int, int] = (16, 16)
    pair_cost: float = 1e-5
    params: dict

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in getattr(self, "params", {}).items())
        return f"{type(self).__name__}({self.name!r}{', ' if params else ''}{params})"

    def prepare(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def score(self, PX: np.ndarray, ii: np.ndarray, PY: np.ndarray,
              jj: np.ndarray) -> np.ndarray:
        """(len(ii), len(jj)) float64 similarities of PX[ii] with PY[jj]."""
        raise NotImplementedError


def _check_images(X: np.ndarray, what: str) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim == 2:
        X = X[None]
    if X.ndim != 3 or not (X.dtype == np.uint8 or np.issubdtype(X.dtype, np.floating)):
        raise SynthprintError(
            f"{what}: expected an image stack (N, H, W) of uint8 or float gray levels, "
            f"got shape {X.shape} dtype {X.dtype}")
    if X.dtype.kind == "f" and not np.isfinite(X).all():
        raise SynthprintError(f"{what}: the images hold NaN or infinite gray levels")
    return X


class SSIMMetric(Metric):
    """SSIM with :class:`SSIMParams` at a pyramid level.

    ``quantize=True`` rounds the pyramid images to uint8 so that the fast integer kernel
    runs at every level (an approximation, for candidate search only).
    """

    symmetric = True

    def __init__(self, level: int = 0, params: SSIMParams = SSIMParams(), name: str = "ssim",
                 quantize: bool = False):
        self.level, self.ssim, self.name, self.quantize = level, params, name, quantize
        self.params = {"level": level, "quantize": quantize, **params.__dict__}
        fast = len(params.window()) == 7 and not params.gaussian_weights
        fast = fast and (level == 0 or quantize)
        if params.row_step > 1:
            self.tile = (32, 64)
        elif not fast:
            self.tile = (8, 8)
        else:
            self.tile = (32, 32)
        self.pair_cost = (5e-5 / params.row_step if fast else 5e-4) / 4 ** level

    def prepare(self, X):
        X = pyramid_level(_check_images(X, self.name), self.level)
        if self.quantize and X.dtype != np.uint8:
            X = np.clip(np.rint(X), 0, 255).astype(np.uint8)
        return np.ascontiguousarray(X)

    def score(self, PX, ii, PY, jj):
        return ssim_block(PX, ii, PY, jj, self.ssim)


class SSIMGridMetric(Metric):
    """Mean SSIM (7x7 box window, sample covariance) estimated from the windows whose corner
    lies on a ``step``-pixel grid; uint8 images (pyramid levels are rounded to uint8).

    Per window the sums of x, x^2 and x*y are exact integers; the SSIM of each window is
    then float32 (an estimate for candidate search, about 1e-6 from the exact grid mean).
    """

    tile = (64, 128)
    win = 7
    symmetric = True

    def __init__(self, step: int = 8, level: int = 0, name: str | None = None):
        if step < 1:
            raise SynthprintError(f"ssim-grid step must be >= 1, got {step}")
        self.step, self.level = step, level
        self.name = name or f"ssim-grid{step}"
        self.params = {"level": level, "step": step}
        self.pair_cost = 2e-6 * 64 / step ** 2
        self.cn, self.c1, self.c2 = SSIMParams().constants()

    def prepare(self, X):
        X = pyramid_level(_check_images(X, self.name), self.level)
        if X.dtype != np.uint8:
            X = np.clip(np.rint(X), 0, 255).astype(np.uint8)
        if min(X.shape[1:]) < self.win:
            raise SynthprintError(
                f"images of {X.shape[1]}x{X.shape[2]} px are smaller than the 7x7 SSIM window")
        return np.ascontiguousarray(X)

    def score(self, PX, ii, PY, jj):
        ii = np.ascontiguousarray(ii, dtype=np.int64)
        jj = np.ascontiguousarray(jj, dtype=np.int64)
        out = np.empty((len(ii), len(jj)), dtype=np.float64)
        lib = _native.library()
        if lib is not None:
            h, w = PX.shape[1:]
            rc = lib.ssim_u8_grid_block(PX, len(ii), ii, PY, len(jj), jj, h, w, self.step,
                                        self.cn, self.c1, self.c2, out.reshape(-1))
            if rc != 0:
                raise MemoryError("SSIM kernel could not allocate its working memory")
            return out
        return self._score_numpy(PX[ii], PY[jj])

    def _score_numpy(self, xa, xb):
        k, n_px = self.win, self.win * self.win
        h, w = xa.shape[1:]
        r0 = np.arange(0, h - k + 1, self.step)
        c0 = np.arange(0, w - k + 1, self.step)

        def windows(X):
            v = np.lib.stride_tricks.sliding_window_view(X, (k, k), axis=(1, 2))
            p = v[:, r0][:, :, c0].reshape(len(X), -1, n_px).astype(np.float64)
            s, ss = p.sum(-1), (p * p).sum(-1)
            return p, s, s * s + self.c1 * n_px * n_px / 2, \
                self.cn * (n_px * ss - s * s) + self.c2 * n_px * n_px / 2

        pa, sa, qa, ra = windows(xa)
        pb, sb, qb, rb = windows(xb)
        cross = np.einsum("awe,bwe->abw", pa, pb)
        m = sa[:, None] * sb[None]
        a1 = 2 * m + self.c1 * n_px * n_px
        a2 = 2 * self.cn * (n_px * cross - m) + self.c2 * n_px * n_px
        d = (qa[:, None] + qb[None]) * (ra[:, None] + rb[None])
        return (a1 * a2 / d).mean(-1)


class _DotMetric(Metric):
    """Metrics computed from inner products (BLAS), in float64 so integer sums are exact."""

    tile = (256, 256)
    pair_cost = 2e-7
    symmetric = True

    def __init__(self, level: int = 0, name: str = ""):
        self.level, self.name = level, name
        self.params = {"level": level}

    def prepare(self, X):
        X = pyramid_level(_check_images(X, self.name), self.level)
        X = np.ascontiguousarray(X.reshape(len(X), -1))
        # float64 copies of a tile's rows and columns: about 32 MB each
        t = int(np.clip(2 ** 22 // max(X.shape[1], 1), 16, 1024))
        self.tile = (t, t)
        return X

    def score(self, PX, ii, PY, jj):
        x = PX[ii].astype(np.float64)
        y = PY[jj].astype(np.float64)
        return self._from_dots(x, y, x @ y.T)


class NCCMetric(_DotMetric):
    def _from_dots(self, x, y, xy):
        p = x.shape[1]
        sx, sy = x.sum(1), y.sum(1)
        vx = p * np.einsum("ij,ij->i", x, x) - sx * sx
        vy = p * np.einsum("ij,ij->i", y, y) - sy * sy
        cov = p * xy - np.outer(sx, sy)
        den = np.sqrt(np.outer(np.maximum(vx, 0), np.maximum(vy, 0)))
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(den > 0, cov / den, 0.0)
        return np.clip(out, -1.0, 1.0)


class L2Metric(_DotMetric):
    def _from_dots(self, x, y, xy):
        nx = np.einsum("ij,ij->i", x, x)
        ny = np.einsum("ij,ij->i", y, y)
        d2 = np.maximum(nx[:, None] + ny[None, :] - 2.0 * xy, 0.0)
        return -np.sqrt(d2 / x.shape[1])


class CosineMetric(_DotMetric):
    tile = (1024, 1024)

    def __init__(self, level: int = 0, name: str = "cosine"):
        if level:
            raise SynthprintError("the cosine metric compares vectors; it takes no level")
        super().__init__(0, name)

    def prepare(self, X):
        X = np.asarray(X)
        if X.ndim != 2 or not np.issubdtype(X.dtype, np.number):
            raise SynthprintError(
                f"cosine: expected embedding vectors (n, d), got shape {X.shape} dtype {X.dtype}")
        X = X.astype(np.float64)
        norm = np.linalg.norm(X, axis=1, keepdims=True)
        return np.divide(X, norm, out=np.zeros_like(X), where=norm > 0)

    def score(self, PX, ii, PY, jj):
        return np.clip(PX[ii] @ PY[jj].T, -1.0, 1.0)


def get_metric(metric: str | Metric, level: int = 0) -> Metric:
    """The :class:`Metric` for a name in :data:`METRICS` (a Metric is returned as is)."""
    if isinstance(metric, Metric):
        return metric
    if metric == "ssim":
        return SSIMMetric(level, SSIMParams(), "ssim")
    if metric == "ssim-gaussian":
        return SSIMMetric(level, SSIMParams.gaussian(), "ssim-gaussian")
    if metric == "ncc":
        return NCCMetric(level, "ncc")
    if metric == "l2":
        return L2Metric(level, "l2")
    if metric == "cosine":
        return CosineMetric(level)
    if isinstance(metric, str) and metric.startswith("ssim-grid") and metric[9:].isdigit():
        return SSIMGridMetric(int(metric[9:]), level)
    if isinstance(metric, str) and metric.startswith("ssim-rows") and metric[9:].isdigit():
        step = int(metric[9:])
        if step >= 1:
            return SSIMMetric(level, SSIMParams(row_step=step), metric, quantize=level > 0)
    raise SynthprintError(f"unknown metric {metric!r}; use one of {', '.join(METRICS)}")


def candidate_metric_for(metric: Metric) -> Metric:
    """The default cheap first stage of a pruned search for ``metric``.

    SSIM (either window): box SSIM estimated from the windows on a 6-pixel grid at the same
    level (rounded to uint8 above level 0); NCC and L2: the same metric two pyramid levels
    lower (at most down to 16 px); cosine: itself (it is a BLAS product already).
    """
    if isinstance(metric, (SSIMMetric, SSIMGridMetric)):
        return SSIMGridMetric(6, metric.level)
    if isinstance(metric, (NCCMetric, L2Metric)):
        return type(metric)(min(metric.level + 2, 4), metric.name)
    return metric
