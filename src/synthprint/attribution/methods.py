"""The named attribution methods of the command line and the benchmark.

``make_method(name, seed=0, quiet=True)`` builds a fresh estimator; ``METHODS`` maps each
name to a one-line description; :data:`DEFAULT_METHOD` is what ``synthprint attribute`` uses
when no ``--method`` is given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from synthprint._defaults import ATTRIBUTION_METHOD
from synthprint.attribution._base import AttributionEstimator
from synthprint.attribution.cnn import FingerprintCNN
from synthprint.attribution.ensemble import Ensemble
from synthprint.attribution.nearest import NearestSubset
from synthprint.attribution.residual import ResidualFingerprint
from synthprint.attribution.spectral import SpectralFingerprint
from synthprint.errors import SynthprintError


@dataclass(frozen=True)
class Method:
    """A named method: its description, whether it needs PyTorch, and its factory."""

    name: str
    description: str
    needs_torch: bool
    factory: Callable[[int, bool], AttributionEstimator]
    transductive: bool = False  # fit() also takes the unlabelled test images


def _fingerprints(seed: int, verbose: bool) -> list:
    return [("residual", ResidualFingerprint(verbose=verbose)),
            ("spectral", SpectralFingerprint(verbose=verbose))]


_ALL = [
    Method("nearest", "peer baseline: vote of the 5 nearest real images (pixel L2, 256 px)",
           False, lambda seed, verbose: NearestSubset("l2", k=5, verbose=verbose)),
    Method("nearest-ssim", "peer baseline: vote of the 5 nearest real images (SSIM, 64 px)",
           False, lambda seed, verbose: NearestSubset("ssim", k=5, level=2, verbose=verbose)),
    Method("nearest-centroid", "peer baseline: nearest subset centroid of a PCA embedding of "
           "the real images (like the 2025 organisers' Siamese method)",
           False, lambda seed, verbose: NearestSubset("embedding", centroid=True,
                                                      verbose=verbose)),
    Method("spectral", "radial + 2-D power spectrum, residual block-DCT energy and grey-level "
           "histogram, logistic regression (Frank et al. 2020)",
           False, lambda seed, verbose: SpectralFingerprint(verbose=verbose)),
    Method("residual", "correlation with each subset's mean noise residual (Marra et al. "
           "2019), calibrated by logistic regression",
           False, lambda seed, verbose: ResidualFingerprint(verbose=verbose)),
    Method("cnn", "compact CNN trained from scratch (PyTorch, CPU), early stopping on a "
           "held-out fold", True,
           lambda seed, verbose: FingerprintCNN(random_state=seed, verbose=verbose)),
    Method("ensemble", "residual + spectral, geometric pooling of probabilities with "
           "weights chosen by cross-validated log-loss on train",
           False, lambda seed, verbose: Ensemble(_fingerprints(seed, verbose), random_state=seed,
                                                 verbose=verbose)),
    Method("ensemble-pl", "ensemble + pseudo-labels of confident test images, kept only if "
           "a held-out labelled fold does not get worse", False,
           lambda seed, verbose: Ensemble(_fingerprints(seed, verbose), pseudo_label=True,
                                          random_state=seed, verbose=verbose), transductive=True),
    Method("ensemble-cnn", "residual + spectral + cnn, geometric pooling with equal weights",
           True, lambda seed, verbose: Ensemble(
               _fingerprints(seed, verbose) + [("cnn", FingerprintCNN(random_state=seed))],
               weights=None, random_state=seed, verbose=verbose)),
]

METHODS: dict[str, Method] = {m.name: m for m in _ALL}

#: The method ``synthprint attribute`` runs by default (needs no PyTorch).
DEFAULT_METHOD = ATTRIBUTION_METHOD


def make_method(name: str, seed: int = 0, quiet: bool = True) -> AttributionEstimator:
    """A fresh, unfitted estimator for the method ``name`` (see :data:`METHODS`): ``seed`` is
    its ``random_state`` where it is random, ``quiet=False`` shows progress bars (its
    ``verbose``)."""
    if name not in METHODS:
        raise SynthprintError(f"unknown attribution method {name!r}; choose one of "
                              f"{', '.join(METHODS)} (synthprint attribute --method list)")
    return METHODS[name].factory(seed, not quiet)
