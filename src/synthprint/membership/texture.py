"""The 2025 winner's family: texture descriptors and nearest-generated distances into a
random forest trained on the labelled real images."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from skimage.feature import graycomatrix, graycoprops, local_binary_pattern
from sklearn.ensemble import RandomForestClassifier

from synthprint._progress import track
from synthprint.features import FeatureCache
from synthprint.membership._base import MembershipEstimator


def _haar_energies(img: np.ndarray, levels: int = 3) -> list[float]:
    """Mean squared detail coefficients (LH, HL, HH) of a ``levels``-level Haar transform; an
    odd side loses its last row or column at the level where it is odd."""
    a = img.astype(np.float64) / 255.0
    out = []
    for _ in range(levels):
        a = a[: a.shape[0] // 2 * 2, : a.shape[1] // 2 * 2]
        p, q = a[0::2, 0::2], a[0::2, 1::2]
        r, s = a[1::2, 0::2], a[1::2, 1::2]
        out += [float(np.mean(((p - q + r - s) / 2) ** 2)),
                float(np.mean(((p + q - r - s) / 2) ** 2)),
                float(np.mean(((p - q - r + s) / 2) ** 2))]
        a = (p + q + r + s) / 4
    return out


def texture_descriptors(images: np.ndarray, *, quiet: bool = True) -> np.ndarray:
    """(N, 33) float64: uniform LBP histogram (P=8, R=1; 10 bins), GLCM contrast,
    homogeneity, energy and correlation at distances 1 and 4 averaged over 4 angles
    (8 values, 32 gray levels), Haar wavelet detail energies (3 levels x 3 = 9), and the
    intensity mean, standard deviation, 10th, 50th, 90th percentiles and the share of
    background (< 16) pixels (6). ``quiet``: no progress bar."""
    feats = []
    for img in track(images, "texture descriptors", quiet=quiet):
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


@dataclass
class TextureContext:
    features: np.ndarray    # (P, 36) texture descriptors + nearest-generated similarities

    @property
    def n_pool(self) -> int:
        return len(self.features)


class TextureForest(MembershipEstimator):
    """Texture descriptors (:func:`texture_descriptors`) plus nearest-generated similarities
    (best SSIM, best pixel distance at 64 px, mean of the 5 best SSIMs) into a random forest
    trained on the labelled real images. The threshold is chosen on out-of-fold forest
    probabilities of the labelled images. ``cache`` (a
    :class:`~synthprint.features.FeatureCache` or None) keeps the similarity matrices and
    descriptors; ``verbose`` shows progress bars."""

    supervised = True

    def __init__(self, n_estimators: int = 300, metric: str = "kappa",
                 prior: float | None = None, random_state: int | None = 0,
                 cache: FeatureCache | None = None, verbose: bool = False):
        self.n_estimators = n_estimators
        self.metric = metric
        self.prior = prior
        self.random_state = random_state
        self.cache = cache
        self.verbose = verbose

    def _context(self, generated, pool) -> TextureContext:
        S = self._pairwise(pool, generated, "ssim")
        L = self._pairwise(pool, generated, "l2", 2)
        k = min(5, S.shape[1])
        near = np.stack([S.max(1), L.max(1), np.sort(S, axis=1)[:, -k:].mean(1)], axis=1)
        cache = self.cache if self.cache is not None else FeatureCache(None)
        texture = cache.per_image(pool, "texture-descriptors", {},
                                  lambda x: texture_descriptors(x, quiet=not self.verbose))
        return TextureContext(np.concatenate([texture, near], axis=1))

    def _fit_head(self, ctx: TextureContext, rows, y) -> RandomForestClassifier:
        forest = RandomForestClassifier(n_estimators=self.n_estimators, min_samples_leaf=2,
                                        random_state=self._seed(), n_jobs=1)
        return forest.fit(ctx.features[rows], y)

    def _scores(self, ctx: TextureContext, head: RandomForestClassifier, rows) -> np.ndarray:
        return head.predict_proba(ctx.features[rows])[:, 1].astype(np.float64)
