"""The similarity engine: exact against scikit-image, blocked top-k, cache and pruning."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.metrics import structural_similarity

from synthprint.errors import SynthprintError
from synthprint.features import (
    DEFAULT_MAX_MEMORY,
    FeatureCache,
    cached_pairwise,
    SSIMParams,
    _native,
    get_metric,
    pairwise,
    pyramid_level,
    ssim_block,
    top1_agreement,
    topk,
)
from synthprint.io import demo_path, load_dataset

GAUSS = dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False)


@pytest.fixture(scope="module")
def ct():
    """CT-like uint8 images: the bundled membership demo (train split)."""
    return load_dataset(demo_path("membership") / "train", quiet=True).images


@pytest.fixture(scope="module")
def random_images():
    rng = np.random.default_rng(7)
    X = rng.integers(0, 256, (6, 256, 256), dtype=np.uint8)
    X[1] = 0                                   # constant black
    X[2] = 255                                 # constant white
    X[3] = np.clip(X[0].astype(int) + rng.integers(-3, 4, X[0].shape), 0, 255)  # near copy
    X[4, :128] = 0                             # half flat
    return X


def _reference(A, B, **kw):
    return np.array([[structural_similarity(a, b, data_range=255, **kw) for b in B] for a in A])


@pytest.fixture(params=["native", "numpy"])
def backend(request, monkeypatch):
    if request.param == "native":
        if _native.library() is None:
            pytest.skip("no C compiler: the numpy code is what runs")
    else:
        monkeypatch.setattr(_native, "library", lambda: None)
    return request.param


@pytest.mark.parametrize("metric,kw", [("ssim", {}), ("ssim-gaussian", GAUSS)])
def test_ssim_matches_skimage_on_ct_images(ct, backend, metric, kw):
    A, B = ct[:6], ct[[0, 110, 115, 40, 70, 100, 5]]   # includes identical pairs
    S = pairwise(A, B, metric, quiet=True)
    assert S.dtype == np.float32 and S.shape == (6, 7)
    np.testing.assert_allclose(S, _reference(A, B, **kw), rtol=0, atol=1e-5)
    assert S[0, 0] == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("metric,kw", [("ssim", {}), ("ssim-gaussian", GAUSS)])
def test_ssim_matches_skimage_on_random_and_flat_images(random_images, backend, metric, kw):
    X = random_images
    S = pairwise(X, X, metric, quiet=True)
    np.testing.assert_allclose(S, _reference(X, X, **kw), rtol=0, atol=1e-5)


def test_ssim_of_a_pyramid_level_matches_skimage_on_float64_pyramid(ct, backend):
    A, B = ct[:3], ct[100:104]
    S = pairwise(A, B, "ssim", level=1, quiet=True)
    ref = _reference(pyramid_level(A, 1).astype(np.float64),
                     pyramid_level(B, 1).astype(np.float64))
    np.testing.assert_allclose(S, ref, rtol=0, atol=1e-5)


def test_ssim_block_other_window_sizes_and_float_input(ct):
    A, B = ct[:2], ct[100:103]
    for win in (3, 11):
        p = SSIMParams(win_size=win)
        S = ssim_block(A, np.arange(2), B, np.arange(3), p)
        np.testing.assert_allclose(S, _reference(A, B, win_size=win), rtol=0, atol=1e-5)
    S = ssim_block(A.astype(np.float64), np.arange(2), B.astype(np.float64), np.arange(3))
    np.testing.assert_allclose(S, _reference(A, B), rtol=0, atol=1e-5)


def test_row_sampled_ssim_is_the_mean_of_every_nth_row_of_the_skimage_map(ct, backend):
    A, B = ct[:2], ct[100:103]
    for step in (4, 16):
        S = pairwise(A, B, f"ssim-rows{step}", quiet=True)
        ref = [[structural_similarity(a, b, data_range=255, full=True)[1][3:-3, 3:-3][::step]
                .mean() for b in B] for a in A]
        np.testing.assert_allclose(S, ref, rtol=0, atol=1e-5)
    # quantized pyramid levels run through the integer kernels
    q = pairwise(A, B, "ssim-rows1", level=1, quiet=True)
    ref = _reference(np.rint(pyramid_level(A, 1)).astype(np.uint8),
                     np.rint(pyramid_level(B, 1)).astype(np.uint8))
    np.testing.assert_allclose(q, ref, rtol=0, atol=1e-5)


def test_grid_sampled_ssim_is_the_mean_of_the_skimage_map_on_a_grid(ct, backend):
    A, B = ct[:2], ct[100:111]
    for step in (6, 8):
        S = pairwise(A, B, f"ssim-grid{step}", quiet=True)
        ref = [[structural_similarity(a, b, data_range=255, full=True)[1][3:-3, 3:-3]
                [::step, ::step].mean() for b in B] for a in A]
        np.testing.assert_allclose(S, ref, rtol=0, atol=1e-5)


def test_masked_ssim_block_computes_only_the_masked_pairs(ct, backend):
    A, B = ct[:3], ct[100:105]
    mask = np.zeros((3, 5), dtype=bool)
    mask[[0, 1, 2, 2], [4, 0, 1, 3]] = True
    S = ssim_block(A, np.arange(3), B, np.arange(5), SSIMParams(), mask)
    full = pairwise(A, B, "ssim", quiet=True)
    assert np.isnan(S[~mask]).all()
    np.testing.assert_allclose(S[mask], full[mask], rtol=0, atol=1e-6)


def test_pyramid_level_is_exact_2x2_mean():
    x = np.arange(16, dtype=np.uint8).reshape(1, 4, 4)
    np.testing.assert_array_equal(pyramid_level(x, 1)[0], [[2.5, 4.5], [10.5, 12.5]])
    assert pyramid_level(x, 2)[0, 0, 0] == pytest.approx(x.mean())
    assert pyramid_level(x, 0) is x


def test_ncc_l2_cosine_match_direct_formulas(ct):
    A, B = ct[:4], ct[100:107]
    a = A.reshape(4, -1).astype(np.float64)
    b = B.reshape(7, -1).astype(np.float64)
    ncc = np.corrcoef(a, b)[:4, 4:]
    np.testing.assert_allclose(pairwise(A, B, "ncc"), ncc, atol=1e-6)
    l2 = -np.sqrt(((a[:, None] - b[None]) ** 2).mean(-1))
    np.testing.assert_allclose(pairwise(A, B, "l2"), l2, rtol=1e-6)
    assert pairwise(A[:1], A[:1], "l2")[0, 0] == 0
    small = pyramid_level(A, 2).reshape(4, -1).astype(np.float64)
    small_b = pyramid_level(B, 2).reshape(7, -1).astype(np.float64)
    np.testing.assert_allclose(pairwise(A, B, "ncc", level=2),
                               np.corrcoef(small, small_b)[:4, 4:], atol=1e-6)
    rng = np.random.default_rng(0)
    E, F = rng.normal(size=(5, 16)), rng.normal(size=(3, 16))
    F[0] = 0
    cos = E @ F.T / np.linalg.norm(E, axis=1)[:, None] / np.maximum(
        np.linalg.norm(F, axis=1), 1e-300)[None]
    np.testing.assert_allclose(pairwise(E, F, "cosine"), cos, atol=1e-6)
    assert np.all(pairwise(E, F, "cosine")[:, 0] == 0)


@pytest.mark.parametrize("metric", ["ssim", "l2", "ncc"])
def test_topk_equals_stable_argsort_of_pairwise(ct, metric):
    A, B = ct[:9], ct[20:60]
    S = pairwise(A, B, metric, quiet=True)
    order = np.argsort(-S, axis=1, kind="stable")[:, :5]
    for max_memory in (2 ** 28, 8 * 16 * 64):     # one block; many row x column blocks
        v, i = topk(A, B, 5, metric, max_memory=max_memory, quiet=True)
        assert v.dtype == np.float32 and i.dtype == np.int64 and v.shape == (9, 5)
        np.testing.assert_array_equal(i, order)
        np.testing.assert_array_equal(v, np.take_along_axis(S, order, axis=1))
    assert np.all(np.diff(v, axis=1) <= 0)


def test_results_do_not_depend_on_blocks_or_threads(ct):
    A, B = ct[:11], ct[100:113]
    ref = pairwise(A, B, "ssim", n_jobs=1, quiet=True)
    for n_jobs, max_memory in [(2, 2 ** 28), (2, 8 * 13 * 3), (3, 8 * 13)]:
        S = pairwise(A, B, "ssim", n_jobs=n_jobs, max_memory=max_memory, quiet=True)
        np.testing.assert_array_equal(S, ref)
    # a pair's value does not depend on the other images of its block
    sub = pairwise(A[[4]], B[[2, 7]], "ssim", quiet=True)
    np.testing.assert_array_equal(sub, ref[[4]][:, [2, 7]])
    g = pairwise(A, B, "ssim-gaussian", quiet=True)
    np.testing.assert_array_equal(g[3:5, 6:9], pairwise(A[3:5], B[6:9], "ssim-gaussian"))


@pytest.mark.parametrize("metric,level", [("ssim", 0), ("ssim", 2), ("ssim-gaussian", 2),
                                          ("ssim-grid8", 0), ("ncc", 0), ("l2", 0)])
def test_a_stack_against_itself_is_scored_once_a_pair_and_mirrored(ct, backend, metric, level,
                                                                   monkeypatch):
    X = ct[:70]
    full = pairwise(X, X.copy(), metric, level=level, quiet=True)      # not the same object
    np.testing.assert_array_equal(full, full.T)                         # the metric is symmetric
    scored = []
    m = get_metric(metric, level)
    real_score = type(m).score
    monkeypatch.setattr(type(m), "score", lambda self, PX, ii, PY, jj: (
        scored.append(len(ii) * len(jj)), real_score(self, PX, ii, PY, jj))[1])
    for max_memory, share in ((DEFAULT_MAX_MEMORY, 1.0), (8 * 70 * 5, 0.6)):  # 5-row blocks
        for same in (X, X[:len(X)]):           # one stack: the same object, or a whole view
            scored.clear()
            np.testing.assert_array_equal(
                pairwise(X, same, metric, level=level, max_memory=max_memory, quiet=True),
                full)
            assert sum(scored) < share * len(X) ** 2


def test_cache_hit_miss_and_disabled(tmp_path, ct, monkeypatch):
    A, B = ct[:3], ct[100:105]
    cache = FeatureCache(tmp_path / "cache")
    S1 = pairwise(A, B, "ssim", cache=cache, quiet=True)
    assert (cache.hits, cache.misses) == (0, 1)
    import synthprint.features.similarity as sim
    monkeypatch.setattr(sim, "_Engine", None)     # any recomputation would now fail
    S2 = pairwise(A, B, "ssim", cache=cache, quiet=True)
    assert cache.hits == 1
    np.testing.assert_array_equal(S1, S2)
    monkeypatch.undo()
    # other parameters or other pixels miss
    pairwise(A, B, "ssim", level=1, cache=cache, quiet=True)
    B2 = B.copy()
    B2[0, 0, 0] ^= 1
    pairwise(A, B2, "ssim", cache=cache, quiet=True)
    assert cache.misses == 3
    # topk results are cached too
    v1, i1 = topk(A, B, 2, cache=cache, quiet=True)
    v2, i2 = topk(A, B, 2, cache=cache, quiet=True)
    np.testing.assert_array_equal(i1, i2)
    np.testing.assert_array_equal(v1, v2)
    # what a command builds from --cache-dir (else $SYNTHPRINT_CACHE_DIR, else nothing)
    assert FeatureCache.from_options(tmp_path / "c").directory == tmp_path / "c"
    monkeypatch.delenv("SYNTHPRINT_CACHE_DIR", raising=False)
    assert not FeatureCache.from_options(None).enabled
    monkeypatch.setenv("SYNTHPRINT_CACHE_DIR", str(tmp_path / "env"))
    assert FeatureCache.from_options(None).directory == tmp_path / "env"
    # a disabled cache stores nothing
    off = FeatureCache(None)
    pairwise(A, B, "ssim", cache=off, quiet=True)
    assert not off.enabled and off.hits == off.misses == 0


def test_in_memory_cache_serves_copies_and_writes_nothing(tmp_path, ct, monkeypatch):
    monkeypatch.chdir(tmp_path)
    A, B = ct[:3], ct[100:105]
    cache = FeatureCache.in_memory()
    assert cached_pairwise(A, B, "ssim", cache=cache) is None
    S1 = pairwise(A, B, "ssim", cache=cache, quiet=True)
    import synthprint.features.similarity as sim
    monkeypatch.setattr(sim, "_Engine", None)     # any recomputation would now fail
    S2 = pairwise(A, B, "ssim", cache=cache, quiet=True)
    np.testing.assert_array_equal(S1, S2)
    S2[:] = 0                                     # a caller's change does not reach the cache
    np.testing.assert_array_equal(cached_pairwise(A, B, "ssim", cache=cache), S1)
    assert cached_pairwise(A, B, "ssim", level=1, cache=cache) is None
    assert (cache.hits, cache.misses) == (2, 3)
    assert list(tmp_path.iterdir()) == []
    assert cached_pairwise(A, B, "ssim", cache=None) is None


def test_cache_per_image_computes_only_new_images(tmp_path, ct):
    cache = FeatureCache(tmp_path)
    calls = []

    def feat(images):
        calls.append(len(images))
        return images.reshape(len(images), -1).mean(1, keepdims=True)

    first = cache.per_image(ct[:4], "mean", {"v": 1}, feat)
    again = cache.per_image(ct[2:6], "mean", {"v": 1}, feat)
    assert calls == [4, 2]
    np.testing.assert_array_equal(again[:2], first[2:])
    cache.per_image(ct[:2], "mean", {"v": 2}, feat)     # other parameters: recomputed
    assert calls == [4, 2, 2]
    assert FeatureCache(None).per_image(ct[:3], "mean", {}, feat).shape == (3, 1)


def test_pruned_search_finds_noisy_copies(ct):
    rng = np.random.default_rng(3)
    B = ct[:60]
    pick = rng.choice(60, size=15, replace=False)
    noise = rng.integers(-6, 7, size=(15, 256, 256))
    A = np.clip(B[pick].astype(int) + noise, 0, 255).astype(np.uint8)
    v, i = topk(A, B, 1, "ssim", candidates=5, quiet=True)
    np.testing.assert_array_equal(i[:, 0], pick)
    ev, ei = topk(A, B, 1, "ssim", quiet=True)
    np.testing.assert_array_equal(v, ev)
    assert top1_agreement(A, B, candidates=5, sample=10, seed=1) == 1.0
    v3, i3 = topk(A, B, 3, "ssim", candidates=8, candidate_metric="l2", candidate_level=1)
    assert i3.shape == (15, 3) and np.all(i3[:, 0] == pick)
    # with all columns as candidates the pruned search is the exact one
    np.testing.assert_array_equal(topk(A, B, 4, "ssim", candidates=60)[1],
                                  topk(A, B, 4, "ssim")[1])
    gv, gi = topk(A[:4], B, 2, "ssim-gaussian", candidates=6)
    np.testing.assert_array_equal(gi[:, 0], pick[:4])
    # candidates from embeddings (here: 32 px thumbnails as vectors) by cosine
    emb = lambda X: pyramid_level(X, 3).reshape(len(X), -1)  # noqa: E731
    ev2, ei2 = topk(A, B, 1, "ssim", candidates=5, candidate_metric="cosine",
                    candidate_data=(emb(A), emb(B)))
    np.testing.assert_array_equal(ei2[:, 0], pick)
    with pytest.raises(SynthprintError, match="candidate_data"):
        topk(A, B, 1, candidates=5, candidate_data=(emb(A[:3]), emb(B)))


def test_metrics_say_what_they_are():
    from synthprint.features.metrics import get_metric

    assert repr(get_metric("l2", 2)) == "L2Metric('l2', level=2)"
    assert repr(get_metric("ssim")).startswith("SSIMMetric('ssim', level=0, ")


def test_user_errors_are_synthprint_errors(ct):
    with pytest.raises(SynthprintError, match="unknown metric"):
        pairwise(ct[:1], ct[:1], "psnr")
    with pytest.raises(SynthprintError, match="same"):
        pairwise(ct[:1], ct[:1, :128, :128], "ssim")
    with pytest.raises(SynthprintError, match="embedding"):
        pairwise(ct[:1], ct[:1], "cosine")
    with pytest.raises(SynthprintError, match="candidates"):
        topk(ct[:2], ct[:3], 3, candidates=2)
    holed = ct[:2].astype(np.float32)
    holed[1, 5, 5] = np.nan
    for metric in ("ssim", "l2"):
        with pytest.raises(SynthprintError, match="NaN"):
            pairwise(ct[:1], holed, metric)


def test_select_topk_equals_a_full_stable_sort_with_ties():
    from synthprint.features import select_topk

    rng = np.random.default_rng(0)
    for _ in range(200):
        n, m, k = rng.integers(1, 12), rng.integers(1, 80), rng.integers(1, 8)
        S = rng.integers(0, 4, size=(n, m)).astype(np.float32)  # many ties
        order = np.argsort(-S, axis=1, kind="stable")[:, :min(k, m)]
        values, indices = select_topk(S, k)
        np.testing.assert_array_equal(indices, order)
        np.testing.assert_array_equal(values, np.take_along_axis(S, order, axis=1))


def test_in_memory_cache_keeps_within_its_byte_budget():
    cache = FeatureCache.in_memory(max_bytes=250)
    a, b, c = (np.full(10, v, dtype=np.float64) for v in (1.0, 2.0, 3.0))   # 80 bytes each
    for name, value in (("a", a), ("b", b), ("c", c)):
        cache.put(name, {}, "x", value=value)
    cache.put("d", {}, "x", value=np.zeros(40))                               # 320 bytes: not kept
    assert cache.get("d", {}, "x") is None
    np.testing.assert_array_equal(cache.get("c", {}, "x"), c)
    cache.put("e", {}, "x", value=np.full(10, 4.0))                           # drops the oldest
    assert cache.get("a", {}, "x") is None
    np.testing.assert_array_equal(cache.get("b", {}, "x"), b)
    np.testing.assert_array_equal(cache.get("e", {}, "x"), np.full(10, 4.0))
