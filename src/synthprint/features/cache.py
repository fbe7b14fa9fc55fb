"""A cache of computed arrays, keyed by the content of the input arrays: on disk, or in
memory for the steps of one run (:meth:`FeatureCache.in_memory`).

A key is a hash of (feature name, its parameters, the synthprint feature version, and the
bytes, dtype and shape of every input array), so a second run on the same images finds
everything again whatever the folders are called, and any change of pixels or parameters
misses. Files are ``.npy`` written atomically, so concurrent runs never read a partial file.

Usage (a CLI command with ``--cache-dir``)::

    cache = FeatureCache.from_options(cache_dir)   # None: $SYNTHPRINT_CACHE_DIR, else off
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

from synthprint.errors import SynthprintError
from synthprint.io.writers import atomic_write_bytes

#: Bump when a feature's computation changes, so stale cache entries are never read.
FEATURE_VERSION = "1"

#: What :meth:`FeatureCache.in_memory` holds at most by default (bytes).
DEFAULT_MEMORY_BYTES = 2 * 1024 ** 3


def default_cache_dir() -> Path | None:
    """``$SYNTHPRINT_CACHE_DIR`` if set (and not empty), else ``None``: nothing is written
    to disk unless asked for."""
    folder = os.environ.get("SYNTHPRINT_CACHE_DIR")
    return Path(folder) if folder else None


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
        cache unconditionally. (:meth:`from_options` falls back on :func:`default_cache_dir`;
        :meth:`in_memory` keeps arrays in the process instead.)

    Attributes
    ----------
    hits, misses : counts of :meth:`get` calls that found / did not find an entry.
    """

    def __init__(self, directory: str | Path | None = None):
        self._store: _DiskStore | _MemoryStore | None = \
            _DiskStore(Path(directory)) if directory is not None else None
        self.hits = 0
        self.misses = 0

    @classmethod
    def in_memory(cls, max_bytes: int = DEFAULT_MEMORY_BYTES) -> FeatureCache:
        """A cache that keeps its arrays in this process only (nothing written to disk): for
        one run whose steps compute the same matrices, e.g. an audit's attacks. A hit
        returns a copy, so callers may modify what they get. It holds at most ``max_bytes``
        (default 2 GiB): storing more drops the oldest arrays first, and an array larger
        than that is not kept (it is recomputed when asked for again)."""
        cache = cls(None)
        cache._store = _MemoryStore(int(max_bytes))
        return cache

    @classmethod
    def from_options(cls, cache_dir: str | Path | None = None) -> FeatureCache:
        """The cache a command's ``--cache-dir`` asks for: on disk in ``cache_dir``, else in
        :func:`default_cache_dir` (``$SYNTHPRINT_CACHE_DIR``); disabled when neither is
        given. Raises :class:`SynthprintError` when the folder is an existing file."""
        folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        if folder is not None and folder.exists() and not folder.is_dir():
            raise SynthprintError(f"{folder}: the feature cache must be a folder, and this is "
                                  "a file; give another --cache-dir (or SYNTHPRINT_CACHE_DIR)")
        return cls(folder)

    @property
    def enabled(self) -> bool:
        return self._store is not None

    @property
    def directory(self) -> Path | None:
        """The folder of an on-disk cache; None in memory or when disabled."""
        return getattr(self._store, "directory", None)

    def __repr__(self) -> str:
        if isinstance(self._store, _MemoryStore):
            return f"FeatureCache.in_memory()  # {len(self._store.arrays)} arrays"
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

    def _load(self, name: str, key: str) -> np.ndarray | None:
        """The stored array, or ``None``; counted as a hit or a miss."""
        assert self._store is not None
        value = self._store.load(name, key)
        if value is None:
            self.misses += 1
        else:
            self.hits += 1
        return value

    def get(self, name: str, params: dict, *inputs: np.ndarray | str) -> np.ndarray | None:
        """The stored array, or ``None`` (a miss; also when disabled or the file is bad)."""
        if not self.enabled:
            return None
        return self._load(name, self.key(name, params, *inputs))

    def put(self, name: str, params: dict, *inputs: np.ndarray | str,
            value: np.ndarray) -> None:
        """Store ``value`` (a numeric array) under the key; a no-op when disabled."""
        if self.enabled:
            self._store.save(name, self.key(name, params, *inputs), value)

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
        keys = [self.key(name, params, content_hash(im)) for im in images]
        found = [self._load(name, k) for k in keys]
        todo = [i for i, f in enumerate(found) if f is None]
        if todo:
            for i, value in zip(todo, np.asarray(compute(images[todo]))):
                self._store.save(name, keys[i], value)
                found[i] = value
        return np.stack(found)  # type: ignore[arg-type]


class _DiskStore:
    """``.npy`` files under ``directory/<name>/<key[:2]>/<key>.npy``, written atomically."""

    def __init__(self, directory: Path):
        self.directory = directory

    def path(self, name: str, key: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        return self.directory / safe / key[:2] / f"{key}.npy"

    def load(self, name: str, key: str) -> np.ndarray | None:
        try:
            return np.load(self.path(name, key), allow_pickle=False)
        except (OSError, ValueError, EOFError):
            return None

    def save(self, name: str, key: str, value: np.ndarray) -> None:
        buf = io.BytesIO()
        np.save(buf, np.asarray(value), allow_pickle=False)
        atomic_write_bytes(self.path(name, key), buf.getvalue(), force=True)


class _MemoryStore:
    """Arrays in a dict, oldest first, at most ``max_bytes`` in all."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.arrays: dict[tuple[str, str], np.ndarray] = {}
        self.nbytes = 0

    def load(self, name: str, key: str) -> np.ndarray | None:
        value = self.arrays.get((name, key))
        return None if value is None else value.copy()

    def save(self, name: str, key: str, value: np.ndarray) -> None:
        if np.asarray(value).nbytes > self.max_bytes:
            return
        value = np.array(value)
        old = self.arrays.pop((name, key), None)
        self.nbytes -= 0 if old is None else old.nbytes
        while self.arrays and self.nbytes + value.nbytes > self.max_bytes:
            self.nbytes -= self.arrays.pop(next(iter(self.arrays))).nbytes   # the oldest
        self.arrays[(name, key)] = value
        self.nbytes += value.nbytes
