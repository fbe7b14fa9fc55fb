"""Similarity rows of real images against a fixed image set, memoised per image.

:func:`similarity_rows` keys each row by the content of the real image and of the whole
reference set, so each (image, reference set, metric) row is computed once per process. The
estimators no longer need it (their context is computed once per pool, see
:mod:`synthprint.membership._base`); the membership command's gallery still uses it.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

import numpy as np

from synthprint.features import pairwise

#: Most rows kept (float32 rows of up to a few thousand entries: a few hundred MB at most).
MAX_ROWS = 50_000

_memo: OrderedDict[tuple, np.ndarray] = OrderedDict()


def image_key(image: np.ndarray) -> bytes:
    """A 16-byte content hash of one image (any shape and dtype)."""
    a = np.ascontiguousarray(image)
    return hashlib.blake2b(a.tobytes() + str((a.shape, a.dtype.str)).encode(),
                           digest_size=16).digest()


def set_key(images: np.ndarray) -> bytes:
    """A content hash of a whole stack of images (order matters)."""
    h = hashlib.blake2b(digest_size=16)
    for img in images:
        h.update(image_key(img))
    return h.digest()


def similarity_rows(X: np.ndarray, B: np.ndarray, metric: str = "ssim", level: int = 0, *,
                    b_key: bytes | None = None, quiet: bool = True) -> np.ndarray:
    """(n, m) float32 similarities of each image of X (n, 256, 256) with every image of B
    (m, 256, 256), higher = more similar (see :func:`synthprint.features.pairwise`).

    Rows already computed for the same image, the same B, metric and level are reused.
    ``b_key`` may pass :func:`set_key` of B when the caller has it.
    """
    b_key = b_key or set_key(B)
    keys = [(image_key(x), b_key, metric, level) for x in X]
    missing = [i for i, k in enumerate(keys) if k not in _memo]
    if missing:
        # Compute each distinct missing image once.
        first: dict[tuple, int] = {}
        for i in missing:
            first.setdefault(keys[i], i)
        idx = np.array(list(first.values()), dtype=np.int64)
        rows = pairwise(X[idx], B, metric, level=level, quiet=quiet)
        for i, row in zip(idx, rows):
            _memo[keys[i]] = row
        while len(_memo) > MAX_ROWS:
            _memo.popitem(last=False)
    return np.stack([_memo[k] for k in keys]) if keys else np.zeros((0, len(B)), np.float32)


def clear_memo() -> None:
    """Forget every memoised row."""
    _memo.clear()
