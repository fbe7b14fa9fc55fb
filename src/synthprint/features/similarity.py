"""All-pairs similarity (:func:`pairwise`), the k best matches (:func:`topk`) and the pruned
two-stage search for large sets, blocked for bounded memory and run on all cores.

Every function takes two stacks, A (n items) and B (m items), and compares every item of A
with every item of B; "best" is always the highest similarity (see
:mod:`synthprint.features.metrics` for the metrics and their ranges).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, nullcontext

import numpy as np

from synthprint._progress import progress_task
from synthprint._cores import default_n_jobs
from synthprint.errors import SynthprintError
from synthprint.features.cache import FeatureCache, content_hash
from synthprint.features.metrics import Metric, SSIMMetric, candidate_metric_for, get_metric
from synthprint.features.ssim import mask_saves_work, ssim_block

#: Default bound on the working memory of one block of scores, in bytes.
DEFAULT_MAX_MEMORY = 256 * 2 ** 20
#: row blocks a self-comparison is cut into (it then scores about (1 + 1/blocks) / 2 of the
#: pairs; fewer blocks, so a larger share, when n / blocks is under the metric's tile height)
_MIRROR_BLOCKS = 16
#: Show a progress bar when a call is expected to take longer than this (seconds).
_PROGRESS_AFTER_S = 2.0


def _blas_limit(n_jobs: int):
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return nullcontext()
    return threadpool_limits(limits=n_jobs, user_api="blas")


class _Engine:
    """Scores blocks of rows x columns of one prepared pair of stacks, tile by tile."""

    def __init__(self, metric: Metric, PA: np.ndarray, PB: np.ndarray, n_jobs: int,
                 progress_total: int, quiet: bool, description: str):
        self.metric, self.PA, self.PB = metric, PA, PB
        self.n_jobs = max(1, n_jobs)
        self._stack = ExitStack()
        expected = progress_total * metric.pair_cost / self.n_jobs
        self._advance = self._stack.enter_context(
            progress_task(description, progress_total,
                          quiet or expected < _PROGRESS_AFTER_S))
        self._pool = (self._stack.enter_context(ThreadPoolExecutor(self.n_jobs))
                      if self.n_jobs > 1 else None)
        self._stack.enter_context(_blas_limit(1))

    def close(self) -> None:
        self._stack.close()

    def block(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """float64 scores (len(rows), len(cols)) of PA[rows] with PB[cols]."""
        out = np.empty((len(rows), len(cols)), dtype=np.float64)
        ti, tj = self.metric.tile
        tiles = [(a, b) for a in range(0, len(rows), ti) for b in range(0, len(cols), tj)]

        def run(tile: tuple[int, int]) -> int:
            a, b = tile
            ii, jj = rows[a:a + ti], cols[b:b + tj]
            out[a:a + len(ii), b:b + len(jj)] = self.metric.score(self.PA, ii, self.PB, jj)
            return len(ii) * len(jj)

        results = self._pool.map(run, tiles) if self._pool else map(run, tiles)
        for done in results:
            self._advance(done)
        return out


def _rows_per_block(n: int, m: int, max_memory: int) -> int:
    """Rows of an (n, m) comparison per block so that a float64 block of scores fits in
    ``max_memory`` bytes."""
    return int(max(1, min(n, max_memory // (8 * max(m, 1)))))


def _same_stack(A, B) -> bool:
    """True when A and B are one stack: the same object, or arrays over the same memory with
    the same shape, dtype and strides (``X`` and ``X[:len(X)]``, say)."""
    if A is B:
        return True
    if not (isinstance(A, np.ndarray) and isinstance(B, np.ndarray)):
        return False
    return (A.shape == B.shape and A.dtype == B.dtype and A.strides == B.strides
            and A.__array_interface__["data"][0] == B.__array_interface__["data"][0])


def _stack_keys(A, B) -> tuple[str, str]:
    """The content hashes of A and B for cache keys; one stack is hashed once."""
    a = content_hash(np.asarray(A))
    return a, (a if _same_stack(A, B) else content_hash(np.asarray(B)))


def _prepare(metric: Metric, A: np.ndarray, B: np.ndarray):
    PA = metric.prepare(A)
    PB = PA if _same_stack(A, B) else metric.prepare(B)
    if PA.shape[1:] != PB.shape[1:]:
        raise SynthprintError(
            f"{metric.name}: the two stacks differ in item shape, {PA.shape[1:]} and "
            f"{PB.shape[1:]}; give images of the same size (or vectors of the same length)")
    return PA, PB


def _cache_params(metric: Metric, **extra) -> dict:
    return {"metric": metric.name, **metric.params, **extra}


def pairwise(A: np.ndarray, B: np.ndarray, metric: str | Metric = "ssim", *, level: int = 0,
             n_jobs: int | None = None, max_memory: int = DEFAULT_MAX_MEMORY,
             cache: FeatureCache | None = None, quiet: bool = False) -> np.ndarray:
    """Similarity of every item of A with every item of B.

    Parameters
    ----------
    A, B : image stacks (n, H, W) and (m, H, W), uint8 gray levels 0..255 (or float gray
        levels), or for ``metric="cosine"`` embedding vectors (n, d) and (m, d).
    metric : a name in :data:`~synthprint.features.metrics.METRICS` ("ssim",
        "ssim-gaussian", "ncc", "l2", "cosine"); higher is always more similar ("l2" is
        minus the RMS pixel difference).
    level : pyramid level for image metrics (0 = 256 px, 1 = 128 px by 2x2 means, ...).
    n_jobs : threads (default: all cores of this process).
    max_memory : bytes of working memory for one block of scores (the (n, m) float32 result
        is allocated on top of it).
    cache : a :class:`~synthprint.features.cache.FeatureCache`; the result is stored under
        the content of A and B, so a second call recomputes nothing. ``None``: no cache.
    quiet : no progress bar (one is shown only for calls expected to take > 2 s anyway).

    Returns
    -------
    (n, m) float32 array; entry [i, j] compares A[i] with B[j]. Each entry depends only on
    its pair, not on blocks, threads or the other items (to the bit for uint8 images and
    their pyramid levels; float images under the BLAS metrics "ncc" and "l2" can move in the
    last bit with the block shape). When A and B are one stack (the same array, or views of
    the same memory with the same shape and strides) and the metric is symmetric, only the
    pairs from the diagonal on are scored (row blocks of about n/16 rows, at least one tile
    tall) and the matrix is mirrored.
    """
    metric = get_metric(metric, level)
    keys, hit = _cache_lookup(metric, A, B, cache)
    if hit is not None:
        return hit
    PA, PB = _prepare(metric, A, B)
    n, m = len(PA), len(PB)
    out = np.empty((n, m), dtype=np.float32)
    # A stack against itself: score each row block from its diagonal on, mirror the rest
    mirror = metric.symmetric and _same_stack(A, B)
    step = _rows_per_block(n, m, max_memory)
    if mirror:
        step = min(step, max(metric.tile[0], -(-n // _MIRROR_BLOCKS)))
    starts = range(0, n, step)
    total = sum(min(step, n - r0) * (m - r0 if mirror else m) for r0 in starts)
    engine = _Engine(metric, PA, PB, n_jobs or default_n_jobs(), total, quiet,
                     f"{metric.name} {n}x{m}")
    try:
        for r0 in starts:
            r1 = min(n, r0 + step)
            c0 = r0 if mirror else 0
            out[r0:r1, c0:] = engine.block(np.arange(r0, r1, dtype=np.int64),
                                           np.arange(c0, m, dtype=np.int64))
            if mirror:
                out[r1:, r0:r1] = out[r0:r1, r1:].T
    finally:
        engine.close()
    if keys:
        cache.put("pairwise", _cache_params(metric), *keys, value=out)
    return out


def cached_pairwise(A: np.ndarray, B: np.ndarray, metric: str | Metric = "ssim", *,
                    level: int = 0, cache: FeatureCache | None) -> np.ndarray | None:
    """The (n, m) float32 result of ``pairwise(A, B, metric, level=level)`` if ``cache``
    holds it, else ``None``; computes nothing. Lets a caller that needs part of a matrix
    take it from a larger one computed earlier."""
    return _cache_lookup(get_metric(metric, level), A, B, cache)[1]


def _cache_lookup(metric: Metric, A, B, cache: FeatureCache | None):
    """(keys, stored matrix or None) of ``pairwise(A, B, metric)`` in ``cache``; keys is
    ``()`` without an enabled cache."""
    if cache is None or not cache.enabled:
        return (), None
    keys = _stack_keys(A, B)
    return keys, cache.get("pairwise", _cache_params(metric), *keys)


def _select_topk(values: np.ndarray, index: np.ndarray, k: int):
    """The k best of each row: highest value first, ties by lower index (deterministic)."""
    k = min(k, values.shape[1])
    if values.shape[1] > 4 * k and len(values):
        # Sort only the entries that can be among the k best: every value >= the row's k-th
        # largest (ties at the boundary included), padded to one width c for all rows.
        kth = -np.partition(-values, k - 1, axis=1)[:, k - 1:k]
        c = max(k, int((values >= kth).sum(axis=1).max()))
        if c < values.shape[1]:
            keep = np.argpartition(-values, c - 1, axis=1)[:, :c]
            values = np.take_along_axis(values, keep, axis=1)
            index = np.take_along_axis(index, keep, axis=1)
    order = np.lexsort((index, -values), axis=1)[:, :k]
    return (np.take_along_axis(values, order, axis=1),
            np.take_along_axis(index, order, axis=1))


def select_topk(similarities: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k largest entries of each row of an (n, m) similarity matrix and their column
    indices, best first, ties by lower index: exactly what :func:`topk` returns for the
    images the matrix compares. Returns ((n, k) values, (n, k) int64 indices)."""
    S = np.asarray(similarities)
    if S.ndim != 2:
        raise SynthprintError(f"similarities must be an (n, m) matrix, got shape {S.shape}")
    index = np.broadcast_to(np.arange(S.shape[1], dtype=np.int64), S.shape)
    return _select_topk(S, index, k)


def topk(A: np.ndarray, B: np.ndarray, k: int = 1, metric: str | Metric = "ssim", *,
         level: int = 0, candidates: int | None = None,
         candidate_metric: str | Metric = "auto", candidate_level: int = 0,
         candidate_data: tuple[np.ndarray, np.ndarray] | None = None,
         n_jobs: int | None = None, max_memory: int = DEFAULT_MAX_MEMORY,
         cache: FeatureCache | None = None, quiet: bool = False
         ) -> tuple[np.ndarray, np.ndarray]:
    """The k items of B most similar to each item of A.

    Parameters
    ----------
    A, B, metric, level, n_jobs, max_memory, cache, quiet : as in :func:`pairwise`.
    k : matches per row (at most m).
    candidates : ``None`` for the exact search over all pairs. An int c >= k turns on the
        pruned search: a cheap ``candidate_metric`` at ``candidate_level`` picks the c best
        candidates of each row (over all pairs), then ``metric`` is computed exactly on
        those c only. Use :func:`top1_agreement` to measure how often this finds the exact
        top-1.
    candidate_metric, candidate_level : the cheap first stage: a metric name (at
        ``candidate_level``) or :class:`Metric`; ``"auto"`` (default) picks
        :func:`~synthprint.features.metrics.candidate_metric_for` ``(metric)``: for SSIM,
        SSIM estimated from the windows on a 6-pixel grid (``"ssim-grid6"``, about 1/35 of
        the windows; on 2,000 x 500 CT-like 256 px images the exact top-1 was among its 5
        best for 99.95% of rows and among its 10 best for all).
    candidate_data : optional (EA, EB) with len(EA) == n and len(EB) == m, compared by the
        candidate metric instead of A and B, e.g. embeddings with
        ``candidate_metric="cosine"``.

    Returns
    -------
    values : (n, k) float32 similarities, best first.
    indices : (n, k) int64 indices into B; ties are broken by the lower index, so this is
        ``argsort`` of ``-pairwise(A, B)`` (stable) cut to k columns.

    Memory stays within about ``max_memory`` plus the (n, k) outputs: no (n, m) matrix is
    built.
    """
    if k < 1:
        raise SynthprintError(f"k must be >= 1, got {k}")
    metric = get_metric(metric, level)
    n_jobs = n_jobs or default_n_jobs()
    extra = {"k": k, "candidates": candidates}
    if candidates is not None:
        cmetric = _candidate_metric(metric, candidate_metric, candidate_level)
        extra["candidate"] = _cache_params(cmetric)
        CA, CB = (A, B) if candidate_data is None else candidate_data
        if len(CA) != len(A) or len(CB) != len(B):
            raise SynthprintError(
                f"candidate_data has {len(CA)} x {len(CB)} items for {len(A)} x {len(B)} "
                "images; give one row per image of A and of B")
    keys = ()
    if cache is not None and cache.enabled:
        keys = _stack_keys(A, B)
        if candidates is not None and candidate_data is not None:
            keys += (content_hash(np.asarray(CA)), content_hash(np.asarray(CB)))
        hv = cache.get("topk-values", _cache_params(metric, **extra), *keys)
        hi = cache.get("topk-indices", _cache_params(metric, **extra), *keys)
        if hv is not None and hi is not None:
            return hv, hi
    if candidates is None:
        values, indices = _exact_topk(metric, A, B, k, n_jobs, max_memory, quiet)
    else:
        if candidates < k:
            raise SynthprintError(f"candidates ({candidates}) must be >= k ({k})")
        _, cand = _exact_topk(cmetric, CA, CB, candidates, n_jobs, max_memory, quiet)
        values, indices = _rescore(metric, A, B, cand, k, n_jobs, quiet)
    if keys:
        cache.put("topk-values", _cache_params(metric, **extra), *keys, value=values)
        cache.put("topk-indices", _cache_params(metric, **extra), *keys, value=indices)
    return values, indices


def _candidate_metric(metric: Metric, candidate: str | Metric, level: int) -> Metric:
    if isinstance(candidate, str) and candidate == "auto":
        return candidate_metric_for(metric)
    return get_metric(candidate, level)


def _exact_topk(metric: Metric, A, B, k, n_jobs, max_memory, quiet):
    PA, PB = _prepare(metric, A, B)
    n, m = len(PA), len(PB)
    k = min(k, m)
    values = np.empty((n, k), dtype=np.float32)
    indices = np.empty((n, k), dtype=np.int64)
    engine = _Engine(metric, PA, PB, n_jobs, n * m, quiet,
                     f"{metric.name} top-{k} {n}x{m}")
    try:
        # blocks of rows x columns, merging each block's best into the running best
        cstep = max(1, int(min(m, max(k, max_memory // (8 * 64)))))
        rstep = _rows_per_block(n, cstep, max_memory)
        for r0 in range(0, n, rstep):
            rows = np.arange(r0, min(n, r0 + rstep), dtype=np.int64)
            best_v = np.empty((len(rows), 0), dtype=np.float32)
            best_i = np.empty((len(rows), 0), dtype=np.int64)
            for c0 in range(0, m, cstep):
                cols = np.arange(c0, min(m, c0 + cstep), dtype=np.int64)
                block = engine.block(rows, cols).astype(np.float32)
                best_v = np.concatenate([best_v, block], axis=1)
                best_i = np.concatenate(
                    [best_i, np.broadcast_to(cols, block.shape)], axis=1)
                best_v, best_i = _select_topk(best_v, best_i, k)
            values[rows[0]:rows[-1] + 1] = best_v
            indices[rows[0]:rows[-1] + 1] = best_i
    finally:
        engine.close()
    return values, indices


def _rescore(metric: Metric, A, B, cand: np.ndarray, k, n_jobs, quiet):
    """Exact ``metric`` of each row of A with its candidate columns of B; the k best.

    For the integer SSIM kernel, rows are grouped by their first candidate, 32 at a time,
    and each group is one block (its rows x the union of their candidates) in which only
    the candidate pairs are computed, so the per-image work of a column is shared by the
    rows of the group that want it.
    """
    PA, PB = _prepare(metric, A, B)
    n, c = cand.shape
    scores = np.empty((n, c), dtype=np.float32)
    engine = _Engine(metric, PA, PB, n_jobs, n * c, quiet,
                     f"{metric.name} on {c} candidates x {n}")
    # where the SSIM kernel skips unmasked pairs, groups of rows share a block; otherwise a
    # block computes every pair, so each row gets its own
    masked = isinstance(metric, SSIMMetric) and mask_saves_work(PA, PB, metric.ssim)
    order = np.lexsort((np.arange(n), cand[:, 0]))
    size = 32 if masked else 1
    groups = [order[g:g + size] for g in range(0, n, size)]

    def run(rows: np.ndarray) -> int:
        cols, inv = np.unique(cand[rows], return_inverse=True)
        inv = inv.reshape(len(rows), c)
        if masked:
            mask = np.zeros((len(rows), len(cols)), dtype=bool)
            np.put_along_axis(mask, inv, True, axis=1)
            block = ssim_block(PA, rows.astype(np.int64), PB, cols.astype(np.int64),
                               metric.ssim, mask)
        else:
            block = metric.score(PA, rows.astype(np.int64), PB, cols.astype(np.int64))
        scores[rows] = np.take_along_axis(block, inv, axis=1)
        return len(rows) * c

    try:
        results = engine._pool.map(run, groups) if engine._pool else map(run, groups)
        for done in results:
            engine._advance(done)
    finally:
        engine.close()
    return _select_topk(scores, cand, k)


def top1_agreement(A: np.ndarray, B: np.ndarray, candidates: int,
                   metric: str | Metric = "ssim", *, level: int = 0,
                   candidate_metric: str | Metric = "auto", candidate_level: int = 0,
                   sample: int | None = 200, seed: int = 0, n_jobs: int | None = None,
                   quiet: bool = True) -> float:
    """Fraction of rows of A (a random ``sample`` of them; ``None`` = all) whose pruned
    top-1 (see :func:`topk`) is the exact top-1 match in B (same index, or an equal
    similarity value in case of ties). Range [0, 1]."""
    n = len(A)
    rows = np.arange(n)
    if sample is not None and sample < n:
        rows = np.sort(np.random.default_rng(seed).choice(n, size=sample, replace=False))
    sub = np.asarray(A)[rows]
    ev, ei = topk(sub, B, 1, metric, level=level, n_jobs=n_jobs, quiet=quiet)
    pv, pi = topk(sub, B, 1, metric, level=level, candidates=candidates,
                  candidate_metric=candidate_metric, candidate_level=candidate_level,
                  n_jobs=n_jobs, quiet=quiet)
    same = (ei[:, 0] == pi[:, 0]) | (ev[:, 0] == pv[:, 0])
    return float(same.mean())
