"""GAN-Leaks full black-box: distance to the closest generated image, and its calibration."""

from __future__ import annotations

import numpy as np

from synthprint.membership._base import MembershipEstimator, check_images
from synthprint.membership._similarity import set_key, similarity_rows


class NearestNeighbourDistance(MembershipEstimator):
    """Score = minus the RMS pixel distance to the closest generated image (Chen et al. 2020,
    full black-box), at pyramid ``level`` (0 = 256 px, 2 = 64 px). The threshold maximises
    ``threshold_metric`` on the labelled real images."""

    def __init__(self, level: int = 0, threshold_metric: str = "kappa"):
        self.level = level
        self.threshold_metric = threshold_metric

    def _fit(self, generated, real, y):
        self.generated_ = generated
        self.generated_key_ = set_key(generated)

    def _nearest(self, real: np.ndarray) -> np.ndarray:
        S = similarity_rows(real, self.generated_, "l2", self.level, b_key=self.generated_key_)
        return S.max(axis=1).astype(np.float64)  # "l2" similarity is minus the distance

    def score_samples(self, real: np.ndarray) -> np.ndarray:
        return self._nearest(check_images(real, "real"))


class NearestNeighbourCalibrated(NearestNeighbourDistance):
    """GAN-Leaks calibrated: the distance to the closest generated image minus the distance to
    the closest *reference* real image known not to be used (labels 0 in ``fit``), so images
    close to everything (typical anatomy) are not mistaken for memorised ones. An image that
    is itself in the reference set is compared with the others only."""

    def _fit(self, generated, real, y):
        super()._fit(generated, real, y)
        self.reference_ = real[y == 0]
        self.reference_key_ = set_key(self.reference_)

    def score_samples(self, real: np.ndarray) -> np.ndarray:
        real = check_images(real, "real")
        R = similarity_rows(real, self.reference_, "l2", self.level, b_key=self.reference_key_)
        R = np.where(R >= -1e-6, -np.inf, R)  # an image is not its own reference
        ref = R.max(axis=1)
        ref = np.where(np.isfinite(ref), ref, np.nan)
        gen = self._nearest(real)
        out = gen - ref  # (-d_gen) - (-d_ref) = d_ref - d_gen
        return np.where(np.isnan(out), gen, out)
