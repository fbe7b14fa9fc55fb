"""Subtask 2: attribute each synthetic image to the training subset whose generator made it.

Every estimator follows scikit-learn: ``fit(generated, subsets, real=None,
real_subsets=None)`` with generated (N, 256, 256) uint8 images and their subset numbers
(N,) ints 1..K; ``predict_proba(images) -> (M, K)``; ``predict(images) -> (M,)``;
``classes_`` holds the subset numbers.

=========================  ===============================================================
:class:`NearestSubset`     peer baseline: nearest real images (vote) or subset centroid
:class:`SpectralFingerprint`  power spectra, residual DCT energy, histogram + linear model
:class:`ResidualFingerprint`  correlation with each subset's mean noise residual (Marra)
:class:`FingerprintCNN`    compact CNN from scratch (needs PyTorch, imported lazily)
:class:`Ensemble`          geometric pooling, optional guarded pseudo-labelling
=========================  ===============================================================

Named configurations for the command line: :data:`METHODS`, :func:`make_method`,
:data:`DEFAULT_METHOD`.
"""

from synthprint.attribution.cnn import FingerprintCNN
from synthprint.attribution.ensemble import Ensemble
from synthprint.attribution.methods import DEFAULT_METHOD, METHODS, Method, make_method
from synthprint.attribution.nearest import NearestSubset
from synthprint.attribution.residual import ResidualFingerprint
from synthprint.attribution.spectral import SpectralFingerprint

__all__ = [
    "DEFAULT_METHOD",
    "METHODS",
    "Ensemble",
    "FingerprintCNN",
    "Method",
    "NearestSubset",
    "ResidualFingerprint",
    "SpectralFingerprint",
    "make_method",
]
