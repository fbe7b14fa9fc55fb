"""What every membership estimator shares: input checks, thresholding, ``predict``."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator

from synthprint.errors import SynthprintError
from synthprint.membership.threshold import choose_threshold


def check_images(X: np.ndarray, what: str) -> np.ndarray:
    """``X`` as a (N, H, W) uint8 stack, or a clear error."""
    X = np.asarray(X)
    if X.ndim != 3 or X.dtype != np.uint8:
        raise SynthprintError(f"{what} must be a (N, H, W) uint8 image stack, got shape "
                              f"{X.shape} and dtype {X.dtype}")
    if len(X) == 0:
        raise SynthprintError(f"{what} is empty")
    return X


def check_labels(labels: np.ndarray, n: int) -> np.ndarray:
    y = np.asarray(labels).astype(np.int64)
    if y.shape != (n,) or not set(np.unique(y)) <= {0, 1}:
        raise SynthprintError(f"labels must be (n,) = ({n},) values in {{0, 1}}")
    return y


class MembershipEstimator(BaseEstimator):
    """Base: subclasses implement ``_fit(generated, real, labels)`` and
    ``score_samples(real)``; ``fit`` then sets ``threshold_`` on the labelled scores for
    ``threshold_metric`` (unless the subclass set a rule of its own), and ``predict`` is
    ``score > threshold_``.

    ``fit(generated, real, labels)``: generated (G, 256, 256) uint8, real (R, 256, 256) uint8
    labelled real images, labels (R,) in {0, 1} (1 = used for training).
    ``score_samples(real) -> (R,) float64``, higher = more likely used.
    ``predict(real) -> (R,) int64`` in {0, 1}.
    """

    threshold_metric: str = "kappa"
    #: Subclasses whose threshold comes from their own rule (not from labels) set this.
    _own_threshold = False

    def fit(self, generated: np.ndarray, real: np.ndarray, labels: np.ndarray):
        generated = check_images(generated, "generated")
        real = check_images(real, "real")
        y = check_labels(labels, len(real))
        self._fit(generated, real, y)
        if not self._own_threshold:
            self.threshold_ = choose_threshold(self._training_scores(real), y,
                                               self.threshold_metric)
        return self

    def _training_scores(self, real: np.ndarray) -> np.ndarray:
        """Scores of the labelled images used to set the threshold (override when scoring
        an image that was fitted on would be optimistic)."""
        return self.score_samples(real)

    def _fit(self, generated: np.ndarray, real: np.ndarray, y: np.ndarray) -> None:
        raise NotImplementedError

    def score_samples(self, real: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def predict(self, real: np.ndarray) -> np.ndarray:
        return (self.score_samples(real) > self.threshold_).astype(np.int64)
