"""GAN-Leaks full black-box: distance to the closest generated image, and its calibration."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthprint.features import FeatureCache
from synthprint.membership._base import MembershipEstimator


@dataclass
class NearestContext:
    nearest: np.ndarray          # (P,) minus the distance to the closest generated image
    to_labelled: np.ndarray | None  # (P, R) minus the distance to each labelled real image

    @property
    def n_pool(self) -> int:
        return len(self.nearest)


class NearestNeighbourDistance(MembershipEstimator):
    """Score = minus the RMS pixel distance to the closest generated image (Chen et al. 2020,
    full black-box), at pyramid ``level`` (0 = 256 px, 2 = 64 px). The threshold maximises
    ``metric`` on the labelled real images. ``cache`` (a
    :class:`~synthprint.features.FeatureCache` or None) keeps the distance matrices;
    ``verbose`` shows progress bars."""

    #: the score compares pool images with the labelled ones
    _calibrated = False

    def __init__(self, level: int = 0, metric: str = "kappa", prior: float | None = None,
                 cache: FeatureCache | None = None, verbose: bool = False):
        self.level = level
        self.metric = metric
        self.prior = prior
        self.cache = cache
        self.verbose = verbose

    def _context(self, generated, pool) -> NearestContext:
        # "l2" similarity is minus the distance
        nearest = self._pairwise(pool, generated, "l2", self.level).max(axis=1)
        to_labelled = None
        if self._calibrated:
            to_labelled = self._pairwise(pool, pool[:len(self.real_)], "l2",
                                         self.level).astype(np.float64)
        return NearestContext(nearest.astype(np.float64), to_labelled)

    def _scores(self, ctx: NearestContext, head, rows) -> np.ndarray:
        return ctx.nearest[rows]


class NearestNeighbourCalibrated(NearestNeighbourDistance):
    """GAN-Leaks calibrated: the distance to the closest generated image minus the distance to
    the closest *reference* real image known not to be used (labels 0 in ``fit``), so images
    close to everything (typical anatomy) are not mistaken for memorised ones. An image is not
    its own reference: a reference image is compared with the other ones only (and scored
    by its generated distance alone when there is no other)."""

    _calibrated = True

    def _fit_head(self, ctx, rows, y) -> np.ndarray:
        return np.asarray(rows)[np.asarray(y) == 0]  # the reference pool rows

    def _scores(self, ctx: NearestContext, head: np.ndarray, rows) -> np.ndarray:
        rows = np.asarray(rows)
        R = ctx.to_labelled[rows][:, head]
        R = np.where(rows[:, None] == head[None, :], -np.inf, R)
        ref = R.max(axis=1) if R.shape[1] else np.full(len(rows), -np.inf)
        gen = ctx.nearest[rows]
        # (-d_gen) - (-d_ref) = d_ref - d_gen
        return np.where(np.isfinite(ref), gen - ref, gen)
