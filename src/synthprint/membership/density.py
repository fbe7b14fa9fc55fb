"""DOMIAS (van Breugel et al. 2023): density of the generated set over a reference real set."""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp
from sklearn.decomposition import PCA

from synthprint.features.pyramid import pyramid_level
from synthprint.membership._base import MembershipEstimator, check_images


def _embed(images: np.ndarray, level: int) -> np.ndarray:
    small = pyramid_level(images, level)
    return small.reshape(len(images), -1).astype(np.float64) / 255.0


def _log_kde(points: np.ndarray, data: np.ndarray, bandwidth: float) -> np.ndarray:
    """log of a Gaussian kernel density of ``data`` (n, d) at ``points`` (m, d)."""
    d2 = ((points[:, None, :] - data[None, :, :]) ** 2).sum(-1)
    dim = data.shape[1]
    return (logsumexp(-d2 / (2 * bandwidth ** 2), axis=1) - np.log(len(data))
            - dim * np.log(bandwidth * np.sqrt(2 * np.pi)))


class DensityRatio(MembershipEstimator):
    """Score = log p_generated(x) - log p_reference(x), two Gaussian kernel densities on a PCA
    embedding of the images at pyramid ``level`` (3 = 32 px).

    The reference set is the labelled real images known not to be used (labels 0). The PCA
    (``n_components``, fewer when there are few reference images) is fitted on generated and
    reference images together; each density's bandwidth follows Scott's rule.
    """

    def __init__(self, n_components: int = 8, level: int = 3, threshold_metric: str = "kappa"):
        self.n_components = n_components
        self.level = level
        self.threshold_metric = threshold_metric

    def _fit(self, generated, real, y):
        ref = real[y == 0]
        if len(ref) < 2:
            ref = real
        g, r = _embed(generated, self.level), _embed(ref, self.level)
        k = int(max(1, min(self.n_components, len(r) - 1, len(g) - 1)))
        self.pca_ = PCA(n_components=k, random_state=0).fit(np.concatenate([g, r]))
        self.gen_ = self.pca_.transform(g)
        self.ref_ = self.pca_.transform(r)
        self.bw_gen_ = self._scott(self.gen_)
        self.bw_ref_ = self._scott(self.ref_)

    @staticmethod
    def _scott(z: np.ndarray) -> float:
        n, d = z.shape
        sd = float(np.sqrt(np.mean(np.var(z, axis=0)))) or 1.0
        return sd * n ** (-1.0 / (d + 4))

    def score_samples(self, real: np.ndarray) -> np.ndarray:
        z = self.pca_.transform(_embed(check_images(real, "real"), self.level))
        return _log_kde(z, self.gen_, self.bw_gen_) - _log_kde(z, self.ref_, self.bw_ref_)
