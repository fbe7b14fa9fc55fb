"""Attribution by correlation with each generator's average noise residual (Marra et al. 2019).

A generator leaves a fixed pattern in everything it makes, like a camera sensor's PRNU: the
noise residual ``x - denoise(x)`` of one image is mostly image content, but the average
residual over many images of one generator keeps only that generator's own pattern. Each
image is attributed by the cosine similarity of its residual with each subset's fingerprint;
a multinomial logistic regression on cross-fitted similarities turns them into probabilities.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from synthprint.attribution._base import AttributionEstimator, map_chunks
from synthprint.attribution.fingerprints import CHUNK, noise_residual


def unit_residuals(images: np.ndarray, sigma: float = 1.0) -> np.ndarray:
    """Noise residuals with zero mean and unit L2 norm per image.

    images : (N, S, S) uint8 0..255 or float 0..1 -> (N, S, S) float32, each image a unit
    vector (an all-constant residual stays zero).
    """
    r = noise_residual(images, sigma)
    r -= r.mean(axis=(1, 2), keepdims=True)
    norm = np.sqrt(np.einsum("nij,nij->n", r, r))
    r /= np.maximum(norm, 1e-12)[:, None, None].astype(np.float32)
    return r


def class_fingerprints(residuals: np.ndarray, labels: np.ndarray, classes: np.ndarray,
                       center: bool = True) -> np.ndarray:
    """Average unit residual per class, as unit vectors: (K, S, S) float32.

    With ``center`` the mean over classes is removed first, so that the pattern all subsets
    share (the pretrained generator's) does not count.
    """
    fps = np.stack([residuals[labels == c].mean(axis=0) for c in classes])
    if center:
        fps -= fps.mean(axis=0, keepdims=True)
    norm = np.sqrt(np.einsum("kij,kij->k", fps, fps))
    return fps / np.maximum(norm, 1e-12)[:, None, None]


class ResidualFingerprint(AttributionEstimator):
    """Marra et al. (2019) noise-residual fingerprints, one per subset.

    Parameters
    ----------
    sigma : width in pixels of the Gaussian denoiser that defines the residual.
    center : remove the fingerprint all subsets share before correlating.
    calibration_folds : folds for the cross-fitted similarities that the probability model
        is trained on (at most the smallest subset's count).
    C : inverse regularisation of the logistic regression on the similarities.
    n_jobs : threads for predictions (default: all cores of this process).
    verbose : progress bars for long predictions.

    Attributes
    ----------
    classes_ : (K,) int64 subset numbers.
    fingerprints_ : (K, S, S) float32 unit-norm fingerprints.
    calibrator_ : scikit-learn pipeline mapping (M, K) similarities to probabilities.
    """

    def __init__(self, sigma: float = 1.0, center: bool = True, calibration_folds: int = 5,
                 C: float = 1.0, n_jobs: int | None = None, verbose: bool = False):
        self.sigma = sigma
        self.center = center
        self.calibration_folds = calibration_folds
        self.C = C
        self.n_jobs = n_jobs
        self.verbose = verbose

    def fit(self, generated: np.ndarray, subsets: np.ndarray, real: np.ndarray | None = None,
            real_subsets: np.ndarray | None = None) -> ResidualFingerprint:
        """Learn one fingerprint per subset from the labelled generated images.

        generated : (N, S, S) uint8; subsets : (N,) ints >= 1. ``real`` is not used (the
        fingerprint is the generator's, not the data's).
        """
        generated, subsets, _, _ = self._check_fit(generated, subsets, real, real_subsets)
        res = unit_residuals(generated, self.sigma)
        self.fingerprints_ = class_fingerprints(res, subsets, self.classes_, self.center)
        counts = np.bincount(np.searchsorted(self.classes_, subsets))
        folds = int(min(self.calibration_folds, counts.min()))
        oof = np.empty((len(res), len(self.classes_)), dtype=np.float64)
        if folds >= 2:
            cv = StratifiedKFold(folds, shuffle=True, random_state=0)
            for tr, te in cv.split(np.zeros(len(subsets)), subsets):
                fps = class_fingerprints(res[tr], subsets[tr], self.classes_, self.center)
                oof[te] = self._similarities(res[te], fps)
        else:
            oof[:] = self._similarities(res, self.fingerprints_)
        self.calibrator_ = make_pipeline(
            StandardScaler(), LogisticRegression(C=self.C, max_iter=2000))
        self.calibrator_.fit(oof, subsets)
        return self

    @staticmethod
    def _similarities(residuals: np.ndarray, fingerprints: np.ndarray) -> np.ndarray:
        return np.einsum("nij,kij->nk", residuals, fingerprints, dtype=np.float64)

    def similarities(self, images: np.ndarray) -> np.ndarray:
        """Cosine similarity of each image's residual with each fingerprint: (M, K) float64."""
        images = self._check_predict(images)

        def work(sl: slice) -> np.ndarray:
            return self._similarities(unit_residuals(images[sl], self.sigma),
                                      self.fingerprints_)

        return np.vstack(map_chunks(work, len(images), CHUNK // 4, n_jobs=self.n_jobs,
                                    description="residual fingerprints",
                                    verbose=self.verbose))

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """(M, K) float64 probabilities, columns in ``classes_`` order, rows sum to 1."""
        similarities = self.similarities(images)  # checks first: NotFittedError before fit
        return self.calibrator_.predict_proba(similarities)
