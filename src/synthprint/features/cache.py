"""An on-disk cache of computed arrays, keyed by the content of the input arrays.

A key is a hash of (feature name, its parameters, the synthprint feature version, and the
bytes, dtype and shape of every input array), so a second run on the same images finds
everything again whatever the folders are called, and any change of pixels or parameters
misses. Files are ``.npy`` written atomically, so concurrent runs never read a partial file.

Usage (a CLI command with ``--cache-dir`` / ``--no-cache``)::

    cache = FeatureCache.from_options(cache_dir, no_cache)   # cache_dir None: the default
    emb = cache.per_image(images, "embedding", {"model": "pca", "dim": 64}, embed_fn)
    S = pairwise(A, B, "ssim", cache=cache)
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from synthprint.io.writers import atomic_write_bytes

#: Bump when a feature's computation changes, so stale cache entries are never read.
FEATURE_VERSION = "1"


def default_cache_dir() -> Path:
    """``$SYNTHPRINT_CACHE_DIR`` if set, else ``.synthprint-cache`` in the working folder."""
    return Path(os.environ.get("SYNTHPRINT_CACHE_DIR") or ".synthprint-cache")


def content_hash(array: np.ndarray) -> str:
    """A 32-hex-digit BLAKE2b hash of an array's dtype, shape and bytes (C order)."""
    a = np.ascontiguousarray(array)
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{a.dtype.str}|{a.shape}|".encode())
    h.update(memoryview(a).cast("B"))
    return h.hexdigest()


def _token(x: np.ndarray | str) -> str:
    return x if isinstance(x, str) else content_hash(x)


class FeatureCache:
    """Get and put arrays by input content + feature name + parameters.

    Parameters
    ----------
    directory : folder of the cache (created on first put), or ``None`` to disable caching:
        then :meth:`get` always misses and :meth:`put` stores nothing, so code can pass a
        cache unconditionally. Default: :func:`default_cache_dir`.

    Attributes
    ----------
    hits, misses : counts of :meth:`get` calls that found / did not find an entry.
    """

    def __init__(self, directory: str | Path | None = None, *, enabled: bool = True):
        self.directory = Path(directory) if (directory is not None and enabled) else None
        self.hits = 0
        self.misses = 0

    @classmethod
    def from_options(cls, cache_dir: str | Path | None = None,
                     no_cache: bool = False) -> FeatureCache:
        """The cache a command asked for: disabled with ``no_cache``, else in ``cache_dir``
        (``None``: :func:`default_cache_dir`)."""
        if no_cache:
            return cls(None)
        return cls(cache_dir if cache_dir is not None else default_cache_dir())

    @property
    def enabled(self) -> bool:
        return self.directory is not None

    def __repr__(self) -> str:
        return f"FeatureCache({str(self.directory) if self.directory else None!r})"

    def key(self, name: str, params: dict, *inputs: np.ndarray | str) -> str:
        """The hex key of a feature ``name`` with JSON-able ``params`` of ``inputs``
        (arrays, or hashes from :func:`content_hash` to avoid hashing twice)."""
        h = hashlib.blake2b(digest_size=20)
        meta = json.dumps({"name": name, "params": params, "version": FEATURE_VERSION},
                          sort_keys=True, default=str)
        h.update(meta.encode())
        for x in inputs:
            h.update(b"|" + _token(x).encode())
        return h.hexdigest()

    def _path(self, name: str, key: str) -> Path:
        assert self.directory is not None
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        return self.directory / safe / key[:2] / f"{key}.npy"

    def _load(self, path: Path) -> np.ndarray | None:
        """The array stored at ``path``, or ``None`` (counted as a miss) when absent or bad."""
        try:
            value = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError):
            self.misses += 1
            return None
        self.hits += 1
        return value

    @staticmethod
    def _store(path: Path, value: np.ndarray) -> None:
        buf = io.BytesIO()
        np.save(buf, np.asarray(value), allow_pickle=False)
        atomic_write_bytes(path, buf.getvalue(), force=True)

    def get(self, name: str, params: dict, *inputs: np.ndarray | str) -> np.ndarray | None:
        """The stored array, or ``None`` (a miss; also when disabled or the file is bad)."""
        if not self.enabled:
            return None
        return self._load(self._path(name, self.key(name, params, *inputs)))

    def put(self, name: str, params: dict, *inputs: np.ndarray | str,
            value: np.ndarray) -> None:
        """Store ``value`` (a numeric array) under the key; a no-op when disabled."""
        if self.enabled:
            self._store(self._path(name, self.key(name, params, *inputs)), value)

    def per_image(self, images: np.ndarray, name: str, params: dict,
                  compute: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """Per-image features with one cache entry per image.

        ``compute(images[idx]) -> (len(idx), ...)`` is called once, on the images that
        miss; the result stacks every image's features in input order. Images shared by
        two folders or runs are computed once.
        """
        images = np.asarray(images)
        if not self.enabled or not len(images):
            return np.asarray(compute(images))
        paths = [self._path(name, self.key(name, params, content_hash(im))) for im in images]
        found = [self._load(path) for path in paths]
        todo = [i for i, f in enumerate(found) if f is None]
        if todo:
            for i, value in zip(todo, np.asarray(compute(images[todo]))):
                self._store(paths[i], value)
                found[i] = value
        return np.stack(found)  # type: ignore[arg-type]
