"""Subtask 1: which real images trained the generator (membership inference).

Every estimator: ``fit(generated, real, labels)`` with generated (G, 256, 256) uint8, the
labelled real images (R, 256, 256) uint8 and labels (R,) in {0, 1};
``score_samples(real) -> (R,) float64`` (higher = more likely used); ``predict`` -> 0/1.

===============================  ==========================================================
:class:`ReconstructionMembership` ours (``auto``): reconstruction shares of generated images
:class:`SimilarityProfile`       ours (``similarity-profile``): calibrated similarity profile
:class:`SSIMThresholdMax`        2023 winner: best SSIM > largest real-real SSIM
:class:`SSIMThresholdMeanStd`    best SSIM > mean + 3 std of real-real SSIMs
:class:`SSIMRetrieval`           each generated image marks its nearest real image
:class:`NearestNeighbourDistance`   GAN-Leaks full black-box
:class:`NearestNeighbourCalibrated` GAN-Leaks, calibrated on reference real images
:class:`DensityRatio`            DOMIAS density ratio on a PCA embedding
:class:`TextureForest`           texture descriptors + distances, random forest
===============================  ==========================================================
"""

from synthprint.membership._base import MembershipEstimator
from synthprint.membership.density import DensityRatio
from synthprint.membership.methods import (
    AUDIT_ATTACKS,
    DEFAULT_METHOD,
    METHODS,
    Method,
    make_method,
)
from synthprint.membership.nearest import NearestNeighbourCalibrated, NearestNeighbourDistance
from synthprint.membership.profile import SimilarityProfile
from synthprint.membership.reconstruction_membership import ReconstructionMembership
from synthprint.membership.ssim_threshold import (
    SSIMRetrieval,
    SSIMThresholdMax,
    SSIMThresholdMeanStd,
)
from synthprint.membership.texture import TextureForest
from synthprint.membership.threshold import choose_threshold

__all__ = [
    "AUDIT_ATTACKS", "DEFAULT_METHOD", "METHODS", "DensityRatio", "MembershipEstimator",
    "Method", "NearestNeighbourCalibrated", "NearestNeighbourDistance", "ReconstructionMembership", "SSIMRetrieval",
    "SSIMThresholdMax", "SSIMThresholdMeanStd", "SimilarityProfile", "TextureForest",
    "choose_threshold", "make_method",
]
