"""Subtask 2: attribute each synthetic image to the training subset whose generator made it.

Every estimator follows scikit-learn: ``fit(generated, subsets, real=None,
real_subsets=None)`` with generated (N, 256, 256) uint8 images and their subset numbers
(N,) ints 1..K; ``predict_proba(images) -> (M, K)``; ``predict(images) -> (M,)``;
``classes_`` holds the subset numbers.
"""

from synthprint.attribution.nearest import NearestSubset
from synthprint.attribution.residual import ResidualFingerprint
from synthprint.attribution.spectral import SpectralFingerprint

__all__ = ["NearestSubset", "ResidualFingerprint", "SpectralFingerprint"]
