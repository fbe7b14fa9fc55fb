"""Decode one image file into a (256, 256) uint8 grayscale array, by the challenge's rules.

Rules (ImageCLEFmedical GANs data):

* palette PNGs (mode ``P``, as the real 2025 files are) go through ``convert("L")``, never
  their raw indices;
* RGB / RGBA / LA / CMYK / 1-bit become luminance through ``convert("L")`` (ITU-R 601-2);
* 16-bit images (modes ``I;16*`` and ``I``) are rescaled to 8 bit as ``round(v * 255 / 65535)``
  with a warning;
* an image that is not 256x256 is an error naming the file, unless ``resize=True``;
* a corrupt or truncated file is an error naming the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from synthprint.errors import SynthprintError

#: Side length of every image synthprint works on, in pixels.
IMAGE_SIZE = 256

#: File extensions read as images (lower case). Everything else is skipped and counted.
IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif", ".webp"})

_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I"})

#: The :class:`DecodeNote` kinds that keep every pixel value (a palette's colormap is applied
#: exactly); the others (16-bit rescaling, colour to luminance, resizing) change them.
LOSSLESS_CONVERSIONS = frozenset({"palette"})

#: A 16-bit image whose values all lie below this (12-bit data, as CT often is) keeps gray
#: levels 0..16 only after the fixed 255/65535 scale: noted as "16-bit-low-range".
LOW_RANGE_LIMIT = 4096


@dataclass(frozen=True)
class DecodeNote:
    """Something worth telling the user about one decoded file (not an error)."""

    path: Path
    kind: str  # "16-bit-rescaled" | "16-bit-low-range" | "resized" | "palette" | "colour"
    detail: str
    top_level: int | None = None  # "16-bit-low-range": the highest gray level left, 0..16


def is_image_file(path: Path) -> bool:
    """True when ``path`` has an image extension and is not hidden (``.DS_Store`` etc.)."""
    return not path.name.startswith(".") and path.suffix.lower() in IMAGE_EXTENSIONS


def _to_uint8(im: Image.Image, path: Path, notes: list[DecodeNote]) -> np.ndarray:
    mode = im.mode
    if mode == "L":
        return np.asarray(im, dtype=np.uint8)
    if mode in _SIXTEEN_BIT_MODES:
        wide = np.asarray(im).astype(np.float64)
        if wide.min() < 0 or wide.max() > 65535:
            raise SynthprintError(
                f"{path}: 32-bit integer image with values outside 0..65535; "
                "convert it to 8-bit grayscale PNG first"
            )
        out = np.rint(wide * (255.0 / 65535.0)).astype(np.uint8)
        if wide.max() < LOW_RANGE_LIMIT:
            notes.append(DecodeNote(path, "16-bit-low-range",
                                    f"mode {mode} values 0..{int(wide.max())} rescaled by "
                                    f"255/65535 to 0..{int(out.max())}", int(out.max())))
        else:
            notes.append(DecodeNote(path, "16-bit-rescaled",
                                    f"mode {mode} rescaled by 255/65535"))
        return out
    if mode == "F":
        raise SynthprintError(
            f"{path}: floating-point image (mode F) has no defined 8-bit scale; "
            "convert it to 8-bit grayscale PNG first"
        )
    if mode == "P":
        notes.append(DecodeNote(path, "palette", "palette image decoded through its colormap"))
    elif mode != "1":
        notes.append(DecodeNote(path, "colour", f"mode {mode} converted to luminance"))
    return np.asarray(im.convert("L"), dtype=np.uint8)


def decode_image(path: str | Path, *, resize: bool = False,
                 notes: list[DecodeNote] | None = None) -> np.ndarray:
    """Read ``path`` as a grayscale image.

    Parameters
    ----------
    path:
        An image file.
    resize:
        Resize images that are not 256x256 (Lanczos) instead of raising.
    notes:
        If given, receives a :class:`DecodeNote` for every conversion that changed the data
        (16-bit rescaling, resizing, palette or colour conversion).

    Returns
    -------
    numpy.ndarray
        Shape (256, 256), dtype uint8, values 0..255.

    Raises
    ------
    SynthprintError
        The file cannot be decoded, is truncated, or is not 256x256 (without ``resize``).
    """
    path = Path(path)
    sink: list[DecodeNote] = [] if notes is None else notes
    try:
        with Image.open(path) as im:
            im.load()
            arr = _to_uint8(im, path, sink)
    except SynthprintError:
        raise
    except FileNotFoundError:
        raise SynthprintError(f"{path}: file not found") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise SynthprintError(
            f"{path}: cannot decode image ({exc}); the file is corrupt or truncated: "
            "replace it or move it out of the folder"
        ) from None
    if arr.ndim != 2:  # pragma: no cover - convert("L") always gives 2-D
        raise SynthprintError(f"{path}: expected a single-channel image, got shape {arr.shape}")
    if arr.shape != (IMAGE_SIZE, IMAGE_SIZE):
        if not resize:
            raise SynthprintError(
                f"{path}: image is {arr.shape[1]}x{arr.shape[0]}, expected "
                f"{IMAGE_SIZE}x{IMAGE_SIZE}; pass --resize (resize=True in Python) to resize it "
                "on load"
            )
        sink.append(DecodeNote(path, "resized", f"{arr.shape[1]}x{arr.shape[0]} resized"))
        arr = np.asarray(
            Image.fromarray(arr).resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.LANCZOS),
            dtype=np.uint8,
        )
    return arr


@dataclass(frozen=True)
class ImageHeader:
    """What an image file says about itself without decoding its pixels."""

    path: Path
    mode: str
    size: tuple[int, int]  # (width, height)
    format: str | None


def read_header(path: str | Path, *, check_pixels: bool = False) -> ImageHeader:
    """Mode, size and format of an image file, reading only its header; with
    ``check_pixels`` also decoding every pixel (a truncated file has a good header).

    Raises :class:`SynthprintError` naming the file when it is not a readable image.
    """
    path = Path(path)
    try:
        with Image.open(path) as im:
            if check_pixels:
                im.load()
            return ImageHeader(path, im.mode, im.size, im.format)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise SynthprintError(
            f"{path}: not a readable image ({exc}); replace it or move it out of the folder"
        ) from None
