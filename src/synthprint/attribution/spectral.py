"""Attribution by frequency-domain fingerprints and a linear classifier.

After Frank et al. (2020, "Leveraging frequency analysis for deep fake image recognition")
and Marra et al. (2019): each image becomes a vector of

* ``radial`` -- its azimuthally averaged log power spectrum (radius 1 .. Nyquist);
* ``grid`` -- its log power over a coarse grid of 2-D frequency cells (direction-aware);
* ``dct`` -- the log energy of each 8x8 block-DCT frequency of its noise residual;
* ``histogram`` -- its grey-level histogram (a generator's intensity distribution);

standardised and fed to a multinomial logistic regression.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from synthprint.attribution._base import AttributionEstimator, map_chunks
from synthprint.attribution.fingerprints import (
    CHUNK,
    _grid_matrix,
    _radial_matrix,
    as_float,
    block_dct_energy,
    check_stack,
    flat_power,
    intensity_histogram,
    noise_residual,
)

PARTS = ("radial", "grid", "dct", "histogram")


def spectral_features(images: np.ndarray, parts: tuple[str, ...] = PARTS, *, grid: int = 16,
                      sigma: float = 1.0, histogram_bins: int = 32,
                      n_jobs: int | None = None, verbose: bool = False) -> np.ndarray:
    """The feature vector of :class:`SpectralFingerprint` for each image.

    One FFT per image serves both spectra. Parameters as in
    :func:`~synthprint.attribution.fingerprints.radial_power_spectrum`,
    :func:`~synthprint.attribution.fingerprints.grid_power_spectrum`,
    :func:`~synthprint.attribution.fingerprints.block_dct_energy` (of the residual with
    Gaussian ``sigma``) and :func:`~synthprint.attribution.fingerprints.intensity_histogram`.

    images : (N, S, S) uint8 -> (N, F) float32, the parts concatenated in the order given
    (radial without the zero-frequency bin: S//2; grid: grid*grid//2; dct: 64;
    histogram: histogram_bins). Chunks of images run in ``n_jobs`` threads (default: all
    cores); the result does not depend on ``n_jobs``.
    """
    images = check_stack(images)
    unknown = set(parts) - set(PARTS)
    if unknown or not parts:
        raise ValueError(f"parts must be a non-empty subset of {PARTS}, got {parts}")
    size = images.shape[1]
    radial = _radial_matrix(size)[0][:, 1:].T.tocsr() if "radial" in parts else None
    cells = _grid_matrix(size, grid).T.tocsr() if "grid" in parts else None

    def work(sl: slice) -> np.ndarray:
        x = as_float(images[sl])
        cols: dict[str, np.ndarray] = {}
        if radial is not None or cells is not None:
            power = flat_power(x)
            if radial is not None:
                cols["radial"] = np.log((radial @ power).T + 1e-12)
            if cells is not None:
                cols["grid"] = np.log((cells @ power).T + 1e-12)
        if "dct" in parts:
            cols["dct"] = block_dct_energy(noise_residual(x, sigma))
        if "histogram" in parts:
            cols["histogram"] = intensity_histogram(images[sl], histogram_bins)
        return np.hstack([cols[p] for p in parts]).astype(np.float32)

    return np.vstack(map_chunks(work, len(images), CHUNK // 4, n_jobs=n_jobs,
                                description="spectral features", verbose=verbose))


class SpectralFingerprint(AttributionEstimator):
    """Frequency-domain generator fingerprints with a linear classifier.

    Parameters
    ----------
    parts : which feature families to use, a subset of ``("radial", "grid", "dct",
        "histogram")`` (see :func:`spectral_features`).
    grid : cells per axis of the 2-D spectrum grid.
    sigma : Gaussian denoiser width (pixels) for the residual of the DCT part.
    C : inverse L2 regularisation of the logistic regression (on standardised features).
    n_jobs : threads for feature extraction (default: all cores of this process).
    verbose : progress bars while extracting features.

    Attributes
    ----------
    classes_ : (K,) int64 subset numbers.
    model_ : fitted scikit-learn pipeline (scaler + logistic regression).
    n_features_ : length of the feature vector.
    """

    def __init__(self, parts: tuple[str, ...] = PARTS, grid: int = 16, sigma: float = 1.0,
                 C: float = 0.1, n_jobs: int | None = None, verbose: bool = False):
        self.parts = parts
        self.grid = grid
        self.sigma = sigma
        self.C = C
        self.n_jobs = n_jobs
        self.verbose = verbose

    def features(self, images: np.ndarray) -> np.ndarray:
        """(N, F) float32 feature vectors (see :func:`spectral_features`)."""
        return spectral_features(images, tuple(self.parts), grid=self.grid, sigma=self.sigma,
                                 n_jobs=self.n_jobs, verbose=self.verbose)

    def fit(self, generated: np.ndarray, subsets: np.ndarray, real: np.ndarray | None = None,
            real_subsets: np.ndarray | None = None) -> SpectralFingerprint:
        """Fit the classifier on the labelled generated images (``real`` is not used).

        generated : (N, S, S) uint8; subsets : (N,) ints >= 1.
        """
        generated, subsets, _, _ = self._check_fit(generated, subsets, real, real_subsets)
        self.model_ = make_pipeline(StandardScaler(),
                                    LogisticRegression(C=self.C, max_iter=5000))
        features = self.features(generated).astype(np.float64)
        self.model_.fit(features, subsets)
        self.n_features_ = features.shape[1]
        return self

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """(M, K) float64 probabilities, columns in ``classes_`` order, rows sum to 1."""
        images = self._check_predict(images)
        return self.model_.predict_proba(self.features(images).astype(np.float64))
