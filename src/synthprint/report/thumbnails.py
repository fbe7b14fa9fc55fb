"""Small PNG thumbnails of images on disk, as data URIs for a self-contained HTML page."""

from __future__ import annotations

import base64
import io
from pathlib import Path

from PIL import Image

from synthprint.io.decode import decode_image
from synthprint.errors import SynthprintError


def data_uri(png: bytes) -> str:
    """``data:image/png;base64,...`` for PNG bytes."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def thumbnail(path: str | Path, size: int = 128) -> str | None:
    """A ``size`` x ``size`` grayscale thumbnail of the image at ``path`` as a data URI, or
    None when the file cannot be read any more (moved or deleted since the run)."""
    try:
        arr = decode_image(path, resize=True)
    except SynthprintError:
        return None
    im = Image.fromarray(arr).resize((size, size), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    im.save(buf, format="PNG", optimize=True)
    return data_uri(buf.getvalue())
