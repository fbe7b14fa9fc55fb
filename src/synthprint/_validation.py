"""Input checks at the edge of every estimator: image stacks as the estimators take them."""

from __future__ import annotations

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
