"""Image pyramids: level L halves the side L times by exact 2x2 means (256 -> 128 -> 64 px)."""

from __future__ import annotations

import numpy as np

from synthprint.errors import SynthprintError


def pyramid_level(images: np.ndarray, level: int) -> np.ndarray:
    """Downsample ``images`` by 2x2 means, ``level`` times.

    Parameters
    ----------
    images : (N, H, W) or (H, W) array, uint8 or float, gray levels 0..255.
    level : int >= 0. Level 0 returns ``images`` unchanged (no copy); level L returns
        float32 images of side ``H >> L`` (odd sides drop their last row or column), still
        in gray levels 0..255. Values are exact: a 2^L x 2^L mean of integers is a multiple
        of 4^-L, which float32 holds exactly for L <= 8.
    """
    if level < 0:
        raise SynthprintError(f"level must be >= 0, got {level}")
    if level == 0:
        return images
    out = np.asarray(images, dtype=np.float32)
    for _ in range(level):
        h, w = out.shape[-2] // 2 * 2, out.shape[-1] // 2 * 2
        if h == 0 or w == 0:
            raise SynthprintError(f"level {level} is too deep for {images.shape[-2:]} images")
        out = out[..., :h, :w]
        out = (out[..., 0::2, 0::2] + out[..., 1::2, 0::2]
               + out[..., 0::2, 1::2] + out[..., 1::2, 1::2]) * np.float32(0.25)
    return np.ascontiguousarray(out)
