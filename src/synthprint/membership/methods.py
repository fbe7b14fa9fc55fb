"""Named membership methods for the command line and the benchmark."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from synthprint._defaults import MEMBERSHIP_METHOD
from synthprint.errors import SynthprintError
from synthprint.features import FeatureCache
from synthprint.membership._base import MembershipEstimator
from synthprint.membership.density import DensityRatio
from synthprint.membership.nearest import NearestNeighbourCalibrated, NearestNeighbourDistance
from synthprint.membership.profile import SimilarityProfile
from synthprint.membership.reconstruction_membership import ReconstructionMembership
from synthprint.membership.ssim_threshold import (
    SSIMRetrieval,
    SSIMThresholdMax,
    SSIMThresholdMeanStd,
)
from synthprint.membership.texture import TextureForest


@dataclass(frozen=True)
class Method:
    """A named estimator configuration: ``build(metric, seed)`` makes a fresh one."""

    name: str
    description: str
    build: Callable[[str, int], MembershipEstimator]


METHODS: dict[str, Method] = {m.name: m for m in (
    Method("auto", "ours: reconstruction shares, which real images the generated ones are "
                   "built from (default)",
           lambda metric, seed: ReconstructionMembership(metric=metric, random_state=seed)),
    Method("similarity-profile", "ours: calibrated multi-scale similarity profile",
           lambda metric, seed: SimilarityProfile(metric=metric)),
    Method("ssim-threshold-max", "2023 winner: best SSIM above the largest real-real SSIM",
           lambda metric, seed: SSIMThresholdMax(metric=metric)),
    Method("ssim-threshold-meanstd", "best SSIM above mean + 3 std of real-real SSIMs",
           lambda metric, seed: SSIMThresholdMeanStd(metric=metric)),
    Method("ssim-retrieval", "each generated image marks its nearest real image as used",
           lambda metric, seed: SSIMRetrieval(metric=metric)),
    Method("nearest-neighbour", "GAN-Leaks: distance to the closest generated image",
           lambda metric, seed: NearestNeighbourDistance(metric=metric)),
    Method("nearest-neighbour-calibrated",
           "GAN-Leaks calibrated by the distance to reference real images",
           lambda metric, seed: NearestNeighbourCalibrated(metric=metric)),
    Method("density-ratio", "DOMIAS: generated over reference density on a PCA embedding",
           lambda metric, seed: DensityRatio(metric=metric)),
    Method("texture-forest", "2025 winner's family: texture + nearest distances, random forest",
           lambda metric, seed: TextureForest(metric=metric, random_state=seed)),
)}

DEFAULT_METHOD = MEMBERSHIP_METHOD

#: The attacks an audit runs by default (fast and complementary).
AUDIT_ATTACKS = ("auto", "similarity-profile", "ssim-threshold-max", "nearest-neighbour",
                 "nearest-neighbour-calibrated")


def make_method(name: str, *, metric: str = "kappa", seed: int = 0,
                cache: FeatureCache | None = None, quiet: bool = True) -> MembershipEstimator:
    """A fresh estimator for the method ``name`` (see :data:`METHODS`): ``metric`` ("kappa"
    or "f1") is what a labelled threshold maximises (methods with their own rule ignore it),
    ``seed`` the random state of random methods; ``cache`` (a
    :class:`~synthprint.features.FeatureCache`) and ``quiet`` (as
    ``verbose=not quiet``) go to the methods that compute similarity matrices or other slow
    features. Set ``prior`` with ``set_params``."""
    if name not in METHODS:
        raise SynthprintError(f"unknown membership method {name!r}; choose one of "
                              f"{', '.join(METHODS)} ('--method list' describes them)")
    estimator = METHODS[name].build(metric, seed)
    settings = {"cache": cache, "verbose": not quiet}
    return estimator.set_params(**{k: v for k, v in settings.items()
                                   if k in estimator.get_params()})
