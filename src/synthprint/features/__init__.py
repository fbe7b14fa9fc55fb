"""Similarities between images (SSIM, NCC, pixel L2, at any pyramid level) and between
embedding vectors (cosine), all pairs or the k best, plus an on-disk feature cache::

    S = pairwise(real, generated, "ssim")            # (n, m) float32, exact skimage SSIM
    values, idx = topk(real, generated, k=5)         # best first, no (n, m) matrix
    values, idx = topk(real, generated, k=1, candidates=10)   # pruned two-stage search
    cache = FeatureCache.from_options(cache_dir)              # for --cache-dir
    S = pairwise(real, generated, "ssim", cache=cache)        # a second run reads it back

SSIM runs in C kernels compiled on first use (:mod:`synthprint.features._native`), on all
cores; without a C compiler the same results come from numpy (much slower).
"""

from synthprint.features.cache import FeatureCache, content_hash, default_cache_dir
from synthprint.features.metrics import METRICS, Metric, get_metric
from synthprint.features.pyramid import pyramid_level
from synthprint.features.similarity import (
    DEFAULT_MAX_MEMORY,
    cached_pairwise,
    default_n_jobs,
    pairwise,
    select_topk,
    top1_agreement,
    topk,
)
from synthprint.features.ssim import SSIMParams, ssim_block

__all__ = [
    "DEFAULT_MAX_MEMORY",
    "METRICS",
    "cached_pairwise",
    "select_topk",
    "FeatureCache",
    "Metric",
    "SSIMParams",
    "content_hash",
    "default_cache_dir",
    "default_n_jobs",
    "get_metric",
    "pairwise",
    "pyramid_level",
    "ssim_block",
    "top1_agreement",
    "topk",
]
