"""Subtask 1: which real images trained the generator (membership inference).

Every estimator (a :class:`MembershipEstimator`): ``fit(generated, real, labels)`` with
generated (G, H, W) uint8, the labelled real images (R, H, W) uint8 and labels (R,) in
{0, 1}; ``score_samples(real) -> (N,) float64`` (higher = more likely used); ``predict`` ->
0/1; ``cv_fit_predict(unlabelled=None)`` -> the ``fit_predict`` of
:func:`synthprint.evaluation.cross_validate`, which computes the expensive label-free context
once and refits only the cheap head per fold. Constructors share ``metric`` ("kappa" or "f1":
what a labelled threshold maximises), ``prior`` (assumed share of used images) and, for
random methods, ``random_state``; thresholds come from :mod:`~synthprint.membership.decision`.

==================================== ==============================================================
:class:`ReconstructionMembership`    ours (``auto``): reconstruction shares of generated images
:class:`SimilarityProfile`           ours (``similarity-profile``): calibrated similarity profile
:class:`SSIMThresholdMax`            2023 winner, rule: best SSIM > largest labelled real-real SSIM
:class:`SSIMThresholdMeanStd`        rule: best SSIM > mean + 3 std of labelled real-real SSIMs
:class:`SSIMRetrieval`               rule: each generated image marks its nearest real image
:class:`NearestNeighbourDistance`    GAN-Leaks full black-box
:class:`NearestNeighbourCalibrated`  GAN-Leaks, calibrated on reference (label 0) real images
:class:`DensityRatio`                DOMIAS density ratio on a PCA embedding
:class:`TextureForest`               2025 winner's family: texture + distances, random forest
==================================== ==============================================================
"""

from synthprint.membership._base import MembershipEstimator
from synthprint.membership.decision import OFFICIAL_METRIC, best_threshold, prior_threshold
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

__all__ = [
    "AUDIT_ATTACKS", "DEFAULT_METHOD", "METHODS", "OFFICIAL_METRIC", "DensityRatio",
    "MembershipEstimator", "Method", "NearestNeighbourCalibrated", "NearestNeighbourDistance",
    "ReconstructionMembership", "SSIMRetrieval", "SSIMThresholdMax", "SSIMThresholdMeanStd",
    "SimilarityProfile", "TextureForest", "best_threshold", "make_method", "prior_threshold",
]
