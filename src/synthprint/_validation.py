"""Input checks at the edge of every estimator: image stacks as the estimators take them,
and their seeds."""

from __future__ import annotations

import numbers

import numpy as np

from synthprint.errors import SynthprintError


def check_image_stack(images, what: str, *, square: bool = False,
                      min_size: int = 16) -> np.ndarray:
    """``images`` as a (N, H, W) uint8 array of gray levels 0..255, N >= 1 (a single (H, W)
    image becomes N = 1; no copy).

    Floats are refused rather than guessed at: a float stack may hold gray levels 0..255 or
    intensities 0..1, and reading one as the other gives wrong answers without any error.
    ``square``: also require H == W. ``min_size``: the smallest H and W accepted, in pixels.
    Raises :class:`~synthprint.errors.SynthprintError` (a ``ValueError``) naming ``what``.
    """
    X = np.asarray(images)
    if X.ndim == 2:
        X = X[None]
    if X.ndim != 3 or X.dtype != np.uint8:
        hint = (" (floats in 0..1: (x * 255).round().astype(np.uint8))"
                if X.dtype.kind == "f" else "")
        raise SynthprintError(
            f"{what}: expected uint8 grayscale images (gray levels 0..255) of shape (N, H, W), "
            f"got shape {X.shape} dtype {X.dtype}; load them with synthprint.io.load_dataset"
            f"{hint}")
    if len(X) == 0:
        raise SynthprintError(f"{what}: no images given")
    if X.shape[1] < min_size or X.shape[2] < min_size:
        raise SynthprintError(f"{what}: images of {X.shape[1]}x{X.shape[2]} px are too small "
                              f"(at least {min_size}x{min_size})")
    if square and X.shape[1] != X.shape[2]:
        raise SynthprintError(f"{what}: images of {X.shape[1]}x{X.shape[2]} px are not square")
    return X


def check_seed(random_state, owner: str) -> int:
    """An estimator's ``random_state`` as the int seed it uses: an int in 0..2**32-1, or None
    (= 0: results are reproducible by default). A ``numpy.random.RandomState`` or
    ``Generator`` is refused: its state moves as it is used, so a refit or a copy would not
    give the same results. Raises :class:`~synthprint.errors.SynthprintError` naming
    ``owner`` (the estimator's class name)."""
    if random_state is None:
        return 0
    if (isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool)
            and 0 <= random_state < 2**32):
        return int(random_state)
    raise SynthprintError(f"{owner}: random_state must be an int in 0..2**32-1 or None (= 0), "
                          f"got {random_state!r}: synthprint's results are reproducible, so "
                          "it takes a seed, not a random generator")
