"""The 2023 winners' family: nearest-neighbour SSIM between real and generated images."""

from __future__ import annotations

import numpy as np

from synthprint.membership._base import MembershipEstimator, check_images
from synthprint.membership._similarity import set_key, similarity_rows


def _real_real(real: np.ndarray) -> np.ndarray:
    """SSIM of every pair of distinct real images (the off-diagonal of the R x R matrix)."""
    S = similarity_rows(real, real, "ssim")
    return S[~np.eye(len(real), dtype=bool)]


class _MaxSSIM(MembershipEstimator):
    """Score = the best SSIM of the real image to any generated image."""

    _own_threshold = True

    def _store(self, generated: np.ndarray) -> None:
        self.generated_ = generated
        self.generated_key_ = set_key(generated)

    def score_samples(self, real: np.ndarray) -> np.ndarray:
        real = check_images(real, "real")
        S = similarity_rows(real, self.generated_, "ssim", b_key=self.generated_key_)
        return S.max(axis=1).astype(np.float64)


class SSIMThresholdMax(_MaxSSIM):
    """2023 winner (F1 0.802): used if the best SSIM to any generated image exceeds the largest
    SSIM between two distinct real images (the labelled real images given to ``fit``)."""

    def _fit(self, generated, real, y):
        self._store(generated)
        self.threshold_ = float(_real_real(real).max()) if len(real) > 1 else 1.0


class SSIMThresholdMeanStd(_MaxSSIM):
    """Like :class:`SSIMThresholdMax`, with the threshold mean + ``n_std`` standard deviations
    of the SSIMs between distinct real images."""

    def __init__(self, n_std: float = 3.0):
        self.n_std = n_std

    def _fit(self, generated, real, y):
        self._store(generated)
        rr = _real_real(real)
        self.threshold_ = float(rr.mean() + self.n_std * rr.std()) if len(rr) else 1.0


class SSIMRetrieval(_MaxSSIM):
    """Each generated image marks its nearest real image (by SSIM) as used.

    Transductive: the nearest real image is sought among the images scored together, so
    scores depend on the set passed to ``score_samples``. Score = number of generated images
    whose nearest real image this is, plus its best SSIM scaled into [0, 1) to rank ties;
    ``predict`` is 1 for an image marked at least once.
    """

    def _fit(self, generated, real, y):
        self._store(generated)
        self.threshold_ = 1.0 - 1e-9

    def score_samples(self, real: np.ndarray) -> np.ndarray:
        real = check_images(real, "real")
        S = similarity_rows(real, self.generated_, "ssim", b_key=self.generated_key_)
        marks = np.bincount(S.argmax(axis=0), minlength=len(real)).astype(np.float64)
        return marks + 0.999 * (S.max(axis=1) + 1.0) / 2.0
