"""The 2023 winners' family: nearest-neighbour SSIM between real and generated images."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthprint.features import FeatureCache
from synthprint.membership._base import MembershipEstimator


@dataclass
class SSIMContext:
    best: np.ndarray          # (P,) best SSIM of each pool image to any generated image
    nearest: np.ndarray       # (G,) the pool row each generated image is closest to
    real_real: np.ndarray | None  # (R, R) SSIM between the labelled real images (rows < R)

    @property
    def n_pool(self) -> int:
        return len(self.best)


class _MaxSSIM(MembershipEstimator):
    """Score = the best SSIM of the real image to any generated image. Rule-based: ``metric``
    is accepted for a common interface and ignored; with ``prior`` the stated share of the
    highest scores is labelled used instead of the rule. ``cache`` (a
    :class:`~synthprint.features.FeatureCache` or None) keeps the SSIM matrices; ``verbose``
    shows progress bars."""

    has_rule = True
    #: the head compares labelled real images with each other
    _real_real_threshold = True

    def __init__(self, metric: str = "kappa", prior: float | None = None,
                 cache: FeatureCache | None = None, verbose: bool = False):
        self.metric = metric
        self.prior = prior
        self.cache = cache
        self.verbose = verbose

    def _context(self, generated, pool) -> SSIMContext:
        S = self._pairwise(pool, generated, "ssim")
        labelled = pool[:len(self.real_)]
        real_real = (self._pairwise(labelled, labelled, "ssim")
                     if self._real_real_threshold else None)
        return SSIMContext(S.max(axis=1).astype(np.float64), S.argmax(axis=0), real_real)

    def _scores(self, ctx: SSIMContext, head, rows) -> np.ndarray:
        return ctx.best[rows]

    def _rule(self, ctx, head: float, rows, scores) -> np.ndarray:
        return scores > head

    @staticmethod
    def _real_real(ctx: SSIMContext, rows: np.ndarray) -> np.ndarray:
        """SSIM of every pair of distinct labelled real images ``rows`` (the off-diagonal of
        their R x R matrix)."""
        S = ctx.real_real[np.ix_(rows, rows)]
        return S[~np.eye(len(rows), dtype=bool)].astype(np.float64)


class SSIMThresholdMax(_MaxSSIM):
    """2023 winner (F1 0.802): used if the best SSIM to any generated image exceeds the largest
    SSIM between two distinct real images (the labelled real images given to ``fit``; in
    cross-validation, those of the training folds). ``head_`` is that threshold."""

    def _fit_head(self, ctx, rows, y) -> float:
        return float(self._real_real(ctx, rows).max()) if len(rows) > 1 else 1.0


class SSIMThresholdMeanStd(_MaxSSIM):
    """Like :class:`SSIMThresholdMax`, with the threshold mean + ``n_std`` standard deviations
    of the SSIMs between distinct labelled real images."""

    def __init__(self, n_std: float = 3.0, metric: str = "kappa", prior: float | None = None,
                 cache: FeatureCache | None = None, verbose: bool = False):
        super().__init__(metric=metric, prior=prior, cache=cache, verbose=verbose)
        self.n_std = n_std

    def _fit_head(self, ctx, rows, y) -> float:
        rr = self._real_real(ctx, rows)
        return float(rr.mean() + self.n_std * rr.std()) if len(rr) else 1.0


class SSIMRetrieval(_MaxSSIM):
    """Each generated image marks its nearest real image (by SSIM) as used.

    Transductive: the nearest real image is sought in the pool (the labelled real images and
    the images scored), so scores depend on the images scored together. Score = number of
    generated images whose nearest real image this is, plus its best SSIM scaled into [0, 1)
    to rank ties; the rule labels an image used when it is marked at least once.
    """

    transductive = True

    _real_real_threshold = False

    def _scores(self, ctx: SSIMContext, head, rows) -> np.ndarray:
        marks = np.bincount(ctx.nearest, minlength=ctx.n_pool).astype(np.float64)
        return marks[rows] + 0.999 * (ctx.best[rows] + 1.0) / 2.0

    def _rule(self, ctx, head, rows, scores) -> np.ndarray:
        return np.bincount(ctx.nearest, minlength=ctx.n_pool)[rows] > 0
