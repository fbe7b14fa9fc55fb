"""The 2025 winner's family: texture descriptors and nearest-generated distances into a
random forest trained on the labelled real images."""

from __future__ import annotations

import numpy as np
from skimage.feature import graycomatrix, graycoprops, local_binary_pattern
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from synthprint.membership._base import MembershipEstimator, check_images
from synthprint.membership._similarity import set_key, similarity_rows
from synthprint.membership.threshold import choose_threshold


def _haar_energies(img: np.ndarray, levels: int = 3) -> list[float]:
    """Mean squared detail coefficients (LH, HL, HH) of a ``levels``-level Haar transform."""
    a = img.astype(np.float64) / 255.0
    out = []
    for _ in range(levels):
        p, q = a[0::2, 0::2], a[0::2, 1::2]
        r, s = a[1::2, 0::2], a[1::2, 1::2]
        out += [float(np.mean(((p - q + r - s) / 2) ** 2)), float(np.mean(((p + q - r - s) / 2) ** 2)),
                float(np.mean(((p - q - r + s) / 2) ** 2))]
        a = (p + q + r + s) / 4
    return out


def texture_descriptors(images: np.ndarray) -> np.ndarray:
    """(N, 33) float64: uniform LBP histogram (P=8, R=1; 10 bins), GLCM contrast,
    homogeneity, energy and correlation at distances 1 and 4 averaged over 4 angles
    (8 values, 32 gray levels), Haar wavelet detail energies (3 levels x 3 = 9), and the
    intensity mean, standard deviation, 10th, 50th, 90th percentiles and the share of
    background (< 16) pixels (6)."""
    feats = []
    for img in images:
        lbp = local_binary_pattern(img, 8, 1, method="uniform")
        hist = np.bincount(lbp.astype(np.int64).ravel(), minlength=10)[:10] / lbp.size
        glcm = graycomatrix((img // 8).astype(np.uint8), [1, 4],
                            [0, np.pi / 4, np.pi / 2, 3 * np.pi / 4], levels=32,
                            symmetric=True, normed=True)
        props = [graycoprops(glcm, p).mean(axis=1) for p in
                 ("contrast", "homogeneity", "energy", "correlation")]
        f = img.astype(np.float64)
        stats = [f.mean(), f.std(), *np.percentile(f, [10, 50, 90]), float(np.mean(img < 16))]
        feats.append(np.concatenate([hist, np.concatenate(props), _haar_energies(img), stats]))
    return np.asarray(feats, dtype=np.float64)


class TextureForest(MembershipEstimator):
    """Texture descriptors (:func:`texture_descriptors`) plus nearest-generated similarities
    (best SSIM, best pixel distance at 64 px, mean of the 5 best SSIMs) into a random forest.
    The threshold is chosen on out-of-fold forest probabilities of the labelled images."""

    def __init__(self, n_estimators: int = 300, seed: int = 0, threshold_metric: str = "kappa"):
        self.n_estimators = n_estimators
        self.seed = seed
        self.threshold_metric = threshold_metric

    _own_threshold = True

    def _features(self, real: np.ndarray) -> np.ndarray:
        S = similarity_rows(real, self.generated_, "ssim", b_key=self.generated_key_)
        L = similarity_rows(real, self.generated_, "l2", 2, b_key=self.generated_key_)
        k = min(5, S.shape[1])
        near = np.stack([S.max(1), L.max(1), np.sort(S, axis=1)[:, -k:].mean(1)], axis=1)
        return np.concatenate([texture_descriptors(real), near], axis=1)

    def _forest(self) -> RandomForestClassifier:
        return RandomForestClassifier(n_estimators=self.n_estimators, min_samples_leaf=2,
                                      random_state=self.seed, n_jobs=1)

    def _fit(self, generated, real, y):
        self.generated_ = generated
        self.generated_key_ = set_key(generated)
        F = self._features(real)
        self.forest_ = self._forest().fit(F, y)
        n_splits = int(min(5, np.bincount(y, minlength=2).min()))
        if n_splits >= 2:
            oof = cross_val_predict(self._forest(), F, y, method="predict_proba",
                                    cv=StratifiedKFold(n_splits, shuffle=True,
                                                       random_state=self.seed))[:, 1]
            self.threshold_ = choose_threshold(oof, y, self.threshold_metric)
        else:
            self.threshold_ = 0.5

    def score_samples(self, real: np.ndarray) -> np.ndarray:
        return self.forest_.predict_proba(self._features(check_images(real, "real")))[:, 1]
