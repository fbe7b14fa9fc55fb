"""DOMIAS (van Breugel et al. 2023): density of the generated set over a reference real set."""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp
from sklearn.decomposition import PCA

from synthprint.errors import SynthprintError
from synthprint.features.pyramid import pyramid_level
from synthprint.membership._base import MembershipEstimator


def _embed(images: np.ndarray, level: int) -> np.ndarray:
    small = pyramid_level(images, level)
    return small.reshape(len(images), -1).astype(np.float64) / 255.0


def _log_kde(points: np.ndarray, data: np.ndarray, bandwidth: float,
             leave_out: np.ndarray | None = None) -> np.ndarray:
    """log of a Gaussian kernel density of ``data`` (n, d) at ``points`` (m, d); where the
    (m, n) mask ``leave_out`` is true, that data point is left out of that point's density
    (when all are, the density of all of them is used)."""
    # |p - x|^2 expanded: an (m, n) matrix instead of an (m, n, d) one
    d2 = np.maximum((points ** 2).sum(1)[:, None] + (data ** 2).sum(1)[None, :]
                    - 2.0 * points @ data.T, 0.0)
    dim = data.shape[1]
    logk = -d2 / (2 * bandwidth ** 2)
    count = np.full(len(points), float(len(data)))
    if leave_out is not None:
        keep = ~leave_out | leave_out.all(axis=1, keepdims=True)
        logk = np.where(keep, logk, -np.inf)
        count = keep.sum(axis=1).astype(np.float64)
    return (logsumexp(logk, axis=1) - np.log(count)
            - dim * np.log(bandwidth * np.sqrt(2 * np.pi)))


@dataclass
class DensityContext:
    generated: np.ndarray   # (G, d) the generated images at the pyramid level, flattened
    pool: np.ndarray        # (P, d) the pool images likewise

    @property
    def n_pool(self) -> int:
        return len(self.pool)


@dataclass
class DensityHead:
    pca: PCA
    gen: np.ndarray         # (G, k) embedded generated images
    ref: np.ndarray         # (n_ref, k) embedded reference images
    ref_rows: np.ndarray    # (n_ref,) their pool rows
    bw_gen: float
    bw_ref: float


class DensityRatio(MembershipEstimator):
    """Score = log p_generated(x) - log p_reference(x), two Gaussian kernel densities on a PCA
    embedding of the images at pyramid ``level`` (3 = 32 px).

    The reference set is the labelled real images known not to be used (labels 0; all
    labelled images when fewer than 2). The PCA (``n_components``, fewer when there are few
    reference images) is fitted on generated and reference images together; each density's
    bandwidth follows Scott's rule. An image is not its own reference: a reference image's
    reference density leaves it out.
    """

    def __init__(self, n_components: int = 8, level: int = 3, metric: str = "kappa",
                 prior: float | None = None):
        self.n_components = n_components
        self.level = level
        self.metric = metric
        self.prior = prior

    def _check_params(self) -> None:
        super()._check_params()
        if not (isinstance(self.n_components, numbers.Integral) and self.n_components >= 1):
            raise SynthprintError(f"DensityRatio: n_components must be an int >= 1, got "
                                  f"{self.n_components!r}")

    def _context(self, generated, pool) -> DensityContext:
        return DensityContext(_embed(generated, self.level), _embed(pool, self.level))

    def _fit_head(self, ctx: DensityContext, rows, y) -> DensityHead:
        rows, y = np.asarray(rows), np.asarray(y)
        ref_rows = rows[y == 0] if np.sum(y == 0) >= 2 else rows
        g, r = ctx.generated, ctx.pool[ref_rows]
        k = int(max(1, min(self.n_components, len(r) - 1, len(g) - 1, g.shape[1])))
        pca = PCA(n_components=k, random_state=0).fit(np.concatenate([g, r]))
        gen, ref = pca.transform(g), pca.transform(r)
        return DensityHead(pca, gen, ref, ref_rows, self._scott(gen), self._scott(ref))

    @staticmethod
    def _scott(z: np.ndarray) -> float:
        n, d = z.shape
        sd = float(np.sqrt(np.mean(np.var(z, axis=0)))) or 1.0
        return sd * n ** (-1.0 / (d + 4))

    def _scores(self, ctx: DensityContext, head: DensityHead, rows) -> np.ndarray:
        rows = np.asarray(rows)
        z = head.pca.transform(ctx.pool[rows])
        own = rows[:, None] == head.ref_rows[None, :]
        return _log_kde(z, head.gen, head.bw_gen) - _log_kde(z, head.ref, head.bw_ref, own)
