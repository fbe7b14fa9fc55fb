"""Membership estimators, threshold choice, and the membership command."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from skimage.metrics import structural_similarity
from typer.testing import CliRunner

from synthprint.cli import app
from synthprint.errors import SynthprintError
from synthprint.io import Role, demo_path, load_benchmark
from synthprint.membership import (
    METHODS,
    SSIMThresholdMax,
    best_threshold,
    make_method,
)
from tests.conftest import ct_like, write_png

runner = CliRunner()


@pytest.fixture(scope="module")
def demo():
    b = load_benchmark(demo_path("membership"), quiet=True)
    gen = b.train.images[b.train.indices(Role.GENERATED)]
    lab = b.train.indices(Role.REAL_USED, Role.REAL_NOT_USED)
    test = b.test.images[b.test.indices(Role.REAL_UNKNOWN)]
    return gen, b.train.images[lab], b.train.labels[lab].astype(np.int64), test


@pytest.mark.parametrize("name", list(METHODS))
def test_every_method_fits_scores_predicts(demo, name):
    gen, real, y, test = demo
    est = make_method(name).fit(gen, real, y)
    scores = est.score_samples(test)
    pred = est.predict(test)
    assert scores.shape == (len(test),) and np.all(np.isfinite(scores))
    assert pred.dtype == np.int64 and set(np.unique(pred)) <= {0, 1}
    again = make_method(name).fit(gen, real, y).score_samples(test)
    np.testing.assert_array_equal(scores, again)  # deterministic
    assert name.split("-")[0][:4].lower() in repr(est).lower() or "(" in repr(est)


def _planted():
    rng = np.random.default_rng(0)
    real = np.stack([ct_like(i) for i in range(12)])
    y = np.array([1, 0] * 6)
    unknown = np.stack([ct_like(100 + i) for i in range(6)])
    copy = np.clip(unknown[3] + rng.normal(0, 2, unknown[3].shape), 0, 255).astype(np.uint8)
    gen = np.concatenate([np.stack([ct_like(200 + i) for i in range(15)]), copy[None]])
    return gen, real, y, unknown


@pytest.mark.parametrize("name", ["auto", "ssim-threshold-max", "nearest-neighbour",
                                  "nearest-neighbour-calibrated"])
def test_planted_copy_ranks_first(name):
    gen, real, y, unknown = _planted()
    scores = make_method(name).fit(gen, real, y).score_samples(unknown)
    assert int(np.argmax(scores)) == 3


def test_retrieval_marks_the_planted_copy():
    # Each unrelated generated image also marks its nearest image of the pool (labelled and
    # unknown real images), so the copy need not have the most marks; it is marked, and
    # among equally marked images its best SSIM ranks it first.
    gen, real, y, unknown = _planted()
    est = make_method("ssim-retrieval").fit(gen, real, y)
    scores = est.score_samples(unknown)
    assert est.predict(unknown)[3] == 1
    assert int(np.argmax(scores % 1.0)) == 3


def test_best_threshold_separates_and_centres():
    s = np.array([0.1, 0.2, 0.3, 0.7, 0.8, 0.9])
    y = np.array([0, 0, 0, 1, 1, 1])
    t, value = best_threshold(s, y, "kappa")
    assert t == pytest.approx(0.5) and value == 1.0
    assert best_threshold(s, y, "f1")[0] == pytest.approx(0.5)
    with pytest.raises(SynthprintError):
        best_threshold(s, y, "auc")


def _small(name, **params):
    """A fresh estimator for ``name``, made quicker for 32 px test images."""
    est = make_method(name, seed=3)
    if name == "texture-forest":
        est.set_params(n_estimators=25)
    return est.set_params(**params)


@pytest.fixture(scope="module")
def small():
    """32 px images: 16 labelled real (used ones copied, noisily, into the generated set),
    6 unknown real (3 of them copied), 20 generated."""
    rng = np.random.default_rng(5)
    real = np.stack([ct_like(300 + i, 32) for i in range(16)])
    y = np.array([1, 0] * 8, dtype=np.int64)
    test = np.stack([ct_like(400 + i, 32) for i in range(6)])
    copied = np.concatenate([real[y == 1], test[:3]]).astype(np.float64)
    noisy = np.clip(copied + rng.normal(0, 3, copied.shape), 0, 255).astype(np.uint8)
    gen = np.concatenate([noisy, np.stack([ct_like(500 + i, 32) for i in range(9)])])
    return gen, real, y, test


@pytest.mark.parametrize("name", list(METHODS))
def test_every_method_on_small_images_and_cv_leaks_no_held_out_label(small, name):
    gen, real, y, test = small
    est = _small(name).fit(gen, real, y)
    scores, pred = est.score_samples(test), est.predict(test)
    assert scores.shape == (6,) and scores.dtype == np.float64 and np.isfinite(scores).all()
    assert pred.shape == (6,) and pred.dtype == np.int64 and set(pred) <= {0, 1}

    # the held-out fold is the last 4 labelled images, so a fit on the first 12 scoring
    # [held-out, test] has the very same pool (same images, same order)
    train, held = np.arange(12), np.arange(12, 16)
    fit_predict = est.cv_fit_predict(unlabelled=test)
    labels, cv_scores = fit_predict(train, held)
    alone = _small(name).fit(gen, real[train], y[train])
    both = np.concatenate([real[held], test])
    np.testing.assert_array_equal(cv_scores, alone.score_samples(both)[:4])
    np.testing.assert_array_equal(labels, alone.predict(both)[:4])
    # flipping the held-out labels changes nothing for the held-out fold
    flipped = y.copy()
    flipped[held] = 1 - flipped[held]
    f_labels, f_scores = _small(name).fit(gen, real, flipped).cv_fit_predict(
        unlabelled=test)(train, held)
    np.testing.assert_array_equal(f_scores, cv_scores)
    np.testing.assert_array_equal(f_labels, labels)
    # every method takes a prior: that share of the scored images is labelled used
    assert _small(name, prior=0.5).fit(gen, real, y).predict(test).sum() == 3


@pytest.mark.parametrize("name", list(METHODS))
def test_cv_folds_are_deterministic_in_any_order(small, name):
    gen, real, y, test = small
    a, b = (np.arange(0, 8), np.arange(8, 16)), (np.arange(8, 16), np.arange(0, 8))
    fp = _small(name).fit(gen, real, y).cv_fit_predict(unlabelled=test)
    first_b = fp(*b)
    fp(*a)
    again_b = fp(*b)
    fresh_b = _small(name).fit(gen, real, y).cv_fit_predict(unlabelled=test)(*b)
    for other in (again_b, fresh_b):
        np.testing.assert_array_equal(first_b[0], other[0])
        np.testing.assert_array_equal(first_b[1], other[1])
    s1 = _small(name).fit(gen, real, y).score_samples(test)
    s2 = _small(name).fit(gen, real, y).score_samples(test)
    assert s1.tobytes() == s2.tobytes()


@pytest.mark.parametrize("name", ["auto", "similarity-profile"])
def test_fit_cv_and_test_labels_compute_the_context_once(small, monkeypatch, name):
    gen, real, y, test = small
    est = _small(name)
    calls = []
    original = type(est)._context

    def counted(self, generated, pool):
        calls.append(len(pool))
        return original(self, generated, pool)

    monkeypatch.setattr(type(est), "_context", counted)
    est.fit(gen, real, y)
    fit_predict = est.cv_fit_predict(unlabelled=test)
    for train, held in ((np.arange(8), np.arange(8, 16)), (np.arange(8, 16), np.arange(8))):
        fit_predict(train, held)
    est.score_samples(test), est.predict(test), est.head_
    assert calls == [len(real) + len(test)]


def test_ssim_threshold_max_is_the_largest_labelled_real_real_ssim(small):
    gen, real, y, test = small
    real, y = real[:5], y[:5]
    expected = max(structural_similarity(real[i], real[j], data_range=255)
                   for i in range(5) for j in range(5) if i != j)
    est = SSIMThresholdMax().fit(gen, real, y)
    assert est.head_ == pytest.approx(expected, abs=1e-5)
    # unknown images join the pool but not the published threshold
    scores = est.score_samples(test)
    assert np.abs(scores - expected).min() > 1e-4
    assert est.predict(test).tolist() == (scores > expected).tolist()
    # in cross-validation the threshold comes from the training fold's images only
    train, held = np.array([0, 1, 3]), np.array([2, 4])
    fold = max(structural_similarity(real[i], real[j], data_range=255)
               for i in train for j in train if i != j)
    labels, scores = est.cv_fit_predict(unlabelled=test)(train, held)
    assert np.abs(scores - fold).min() > 1e-4
    assert labels.tolist() == (scores > fold).tolist()


def _args(out, test=None, *extra):
    d = demo_path("membership")
    return ["membership", "--train", str(d / "train"), "--test", str(test or d / "test"),
            "--out", str(out), "-q", "--n-boot", "200", "--repeats", "1", *extra]


def test_cli_on_demo_writes_outputs_and_refuses_overwrite(tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(app, _args(out, None, "--method", "nearest-neighbour"))
    assert result.exit_code == 0, result.output
    assert "train cross-validation" in result.output
    lines = (out / "scores.csv").read_text().splitlines()
    assert lines[0] == "name,score,label" and len(lines) == 31
    run = (out / "run.csv").read_text().split("\n")
    assert run[0].startswith("real_unknown_0001.png,") and len(run) == 30
    assert (out / "submission.zip").exists() and (out / "record.json").exists()
    before = (out / "run.csv").read_bytes()
    again = runner.invoke(app, _args(out, None, "--method", "nearest-neighbour"))
    assert again.exit_code == 2 and "--force" in again.output
    forced = runner.invoke(app, _args(out, None, "--method", "nearest-neighbour", "--force"))
    assert forced.exit_code == 0
    assert (out / "run.csv").read_bytes() == before  # byte-identical rerun


def test_cli_force_leaves_no_earlier_output_beside_the_new_ones(tmp_path):
    """A report.html of an earlier run would describe other labels than this run's files."""
    out = tmp_path / "run"
    nn = ("--method", "nearest-neighbour")
    assert runner.invoke(app, _args(out, None, *nn, "--report")).exit_code == 0
    assert (out / "report.html").exists()
    forced = runner.invoke(app, _args(out, None, *nn, "--force"))
    assert forced.exit_code == 0, forced.output
    assert not (out / "report.html").exists()
    assert "removed the earlier run's report.html" in forced.output


def test_cli_checks_the_truth_before_it_writes_anything(tmp_path):
    d = demo_path("membership")
    rows = (d / "truth" / "real_unknown.csv").read_text().splitlines()
    bad = tmp_path / "truth.csv"
    bad.write_text("\n".join(rows[:-1] + [rows[-1].rsplit(",", 1)[0] + ",2"]) + "\n")
    out = tmp_path / "run"
    result = runner.invoke(app, _args(out, None, "--truth", str(bad)))
    assert result.exit_code == 2
    assert f"{bad}: real_unknown_0030.png has label 2; the labels here must be 0, 1" in \
        " ".join(result.output.split())
    assert not out.exists()
    stems = tmp_path / "truth2023.csv"            # 2023 ids: no extension
    stems.write_text("".join(r.replace(".png", "") + "\n" for r in rows))
    ok = runner.invoke(app, _args(out, None, "--method", "nearest-neighbour", "--truth",
                                  str(stems)))
    assert ok.exit_code == 0 and "test (against --truth)" in ok.output


def test_cli_writes_nothing_into_the_data(tmp_path):
    d = tmp_path / "data"
    shutil.copytree(demo_path("membership"), d)
    before = (d / "test" / "real_unknown").stat().st_mtime_ns
    result = runner.invoke(app, _args(d / "test" / "real_unknown", d / "test"))
    assert result.exit_code == 2 and "is inside the input folder" in result.output
    assert not (d / "test" / "real_unknown" / "run.csv").exists()
    # not even the probe for writing, which comes after this check
    assert (d / "test" / "real_unknown").stat().st_mtime_ns == before


def test_cli_prior_works_for_every_method(tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(app, _args(out, None, "--method", "ssim-threshold-max",
                                      "--prior", "0.4"))
    assert result.exit_code == 0, result.output
    labels = [int(line.rsplit(",", 1)[1]) for line in
              (out / "scores.csv").read_text().splitlines()[1:]]
    assert sum(labels) == 12 and len(labels) == 30


def test_cli_2023_layout_writes_ids_without_extension(tmp_path):
    d = demo_path("membership") / "test"
    test = tmp_path / "test2023"
    shutil.copytree(d / "generated", test / "generated_1")
    shutil.copytree(d / "real_unknown", test / "real_unknown_1")
    result = runner.invoke(app, _args(tmp_path / "out", test, "--method", "ssim-threshold-max"))
    assert result.exit_code == 0, result.output
    first = (tmp_path / "out" / "run.csv").read_text().split("\n")[0]
    assert first.startswith("real_unknown_0001,")


def test_cli_says_when_there_is_no_signal(tmp_path):
    root = tmp_path / "train"
    for i in range(8):
        write_png(root / "generated" / f"g_{i}.png", ct_like(500 + i))
    for i in range(6):
        write_png(root / "real_used" / f"u_{i}.png", ct_like(600 + i))
        write_png(root / "real_not_used" / f"n_{i}.png", ct_like(700 + i))
    for i in range(4):
        write_png(tmp_path / "test" / "generated" / f"g_{i}.png", ct_like(800 + i))
        write_png(tmp_path / "test" / "real_unknown" / f"real_unknown_{i}.png", ct_like(900 + i))
    result = runner.invoke(app, ["membership", "--train", str(root), "--test",
                                 str(tmp_path / "test"), "--out", str(tmp_path / "out"), "-q",
                                 "--n-boot", "200", "--folds", "3"])
    assert result.exit_code == 0, result.output
    assert "no detectable membership signal" in result.output


def test_cli_method_list_and_bad_inputs(tmp_path):
    result = runner.invoke(app, ["membership", "--method", "list"])
    assert result.exit_code == 0 and "texture-forest" in result.output
    d = demo_path("membership")
    bad = runner.invoke(app, ["membership", "--train", str(d / "test"), "--test",
                              str(d / "test"), "--out", str(tmp_path / "o")])
    assert bad.exit_code == 2 and "membership-test split" in bad.output


def test_density_ratio_kernel_density_matches_the_direct_formula():
    from scipy.special import logsumexp

    from synthprint.membership.density import _log_kde

    rng = np.random.default_rng(0)
    points, data, bw = rng.normal(size=(7, 3)), rng.normal(size=(11, 3)), 0.7
    d2 = ((points[:, None, :] - data[None, :, :]) ** 2).sum(-1)
    direct = (logsumexp(-d2 / (2 * bw ** 2), axis=1) - np.log(11)
              - 3 * np.log(bw * np.sqrt(2 * np.pi)))
    np.testing.assert_allclose(_log_kde(points, data, bw), direct, rtol=1e-10, atol=1e-10)


def test_best_competitor_leaves_each_row_out():
    from synthprint.membership._base import best_competitor

    rng = np.random.default_rng(1)
    S = rng.integers(0, 4, size=(6, 9)).astype(np.float64)  # many ties
    brute = np.array([[np.delete(S[:, g], x).max() for g in range(9)] for x in range(6)])
    np.testing.assert_array_equal(best_competitor(S), brute)
    assert np.isneginf(best_competitor(S[:1])).all()


def test_make_method_hands_cache_and_verbosity_to_the_methods_that_compute_matrices(tmp_path):
    from synthprint.features import FeatureCache

    cache = FeatureCache(tmp_path)
    takes = set()
    for name in METHODS:
        est = make_method(name, cache=cache, quiet=False)
        params = est.get_params()
        if "cache" in params:
            assert params["cache"] is cache and params["verbose"] is True
            takes.add(name)
    # every method that compares images with generated ones can keep its matrices
    assert takes == set(METHODS) - {"density-ratio"}


def test_cli_cache_dir_makes_a_rerun_compute_no_similarity(tmp_path, monkeypatch):
    import synthprint.features.similarity as sim

    cache = tmp_path / "cache"
    first = runner.invoke(app, _args(tmp_path / "a", None, "--method", "similarity-profile",
                                     "--cache-dir", str(cache)))
    assert first.exit_code == 0, first.output
    assert any(cache.rglob("*.npy"))
    monkeypatch.setattr(sim, "_Engine", None)     # any similarity computation would fail
    again = runner.invoke(app, _args(tmp_path / "b", None, "--method", "similarity-profile",
                                     "--cache-dir", str(cache)))
    assert again.exit_code == 0, again.output
    assert (tmp_path / "a" / "run.csv").read_bytes() == (tmp_path / "b" / "run.csv").read_bytes()
    (tmp_path / "file").write_text("x")
    bad = runner.invoke(app, _args(tmp_path / "c", None, "--cache-dir", str(tmp_path / "file")))
    assert bad.exit_code == 2 and "must be a folder" in bad.output
    assert not (tmp_path / "c").exists()


@pytest.mark.parametrize("metric", ["kappa", "f1"])
def test_metric_by_threshold_equals_scikit_learn_at_every_threshold(metric):
    import warnings

    from sklearn.metrics import cohen_kappa_score, f1_score

    from synthprint.membership.decision import metric_by_threshold

    def reference(y, p):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            v = (cohen_kappa_score(y, p) if metric == "kappa"
                 else f1_score(y, p, zero_division=0.0))
        return float(v) if np.isfinite(v) else 0.0

    rng = np.random.default_rng(3)
    cases = [(rng.integers(0, 6, n).astype(float), rng.integers(0, 2, n)) for n in (1, 2, 7, 40)]
    cases += [(rng.normal(size=50), np.ones(50, int)), (rng.normal(size=50), np.zeros(50, int)),
              (np.full(9, 0.3), rng.integers(0, 2, 9))]
    # adjacent floats: a midpoint threshold rounds onto one of the two scores
    tiny = np.array([1.0, np.nextafter(1.0, 2.0), 0.5, 2.0])
    cases += [(tiny, np.array([0, 1, 0, 1])), (tiny, np.array([1, 0, 0, 1]))]
    # ... or onto the upper one (0.3 and 0.1 + 0.2), and padding lost on a large score
    upper = np.array([0.3, 0.1 + 0.2, 0.3, 0.1 + 0.2])
    cases += [(upper, np.array([0, 1, 0, 1])), (np.full(4, 1e10), np.array([0, 1, 0, 1]))]
    for s, y in cases:
        cands, values = metric_by_threshold(s, y, metric)
        expected = [reference(y, (s > t).astype(int)) for t in cands]
        np.testing.assert_allclose(values, expected, rtol=0, atol=1e-12)
    with pytest.raises(SynthprintError, match="finite"):
        metric_by_threshold(np.array([0.1, np.nan, 0.5]), np.array([0, 1, 1]), metric)
    with pytest.raises(SynthprintError, match="0 or 1"):
        metric_by_threshold(np.array([0.1, 0.2, 0.5]), np.array([0, 2, 1]), metric)


@pytest.mark.parametrize("name", [n for n in METHODS
                                  if not type(make_method(n)).transductive])
def test_methods_not_marked_transductive_score_each_image_on_its_own(small, name):
    gen, real, y, test = small
    est = _small(name).fit(gen, real, y)
    together = est.score_samples(test)
    alone = np.array([est.score_samples(test[i:i + 1])[0] for i in range(len(test))])
    np.testing.assert_allclose(alone, together, rtol=1e-12, atol=1e-12)


def test_parameters_other_than_the_decisions_cannot_change_after_fit(small):
    gen, real, y, test = small
    est = _small("auto").fit(gen, real, y)
    est.score_samples(test)
    est.set_params(head="logistic")
    with pytest.raises(SynthprintError, match="head changed after fit; call fit again"):
        est.predict(test)
    est.fit(gen, real, y).predict(test)
    est.set_params(verbose=True, metric="f1").predict(test)    # these may change
    est.set_params(random_state=np.int64(3)).predict(test)     # the same value


def test_a_prior_set_after_fit_takes_effect(small):
    gen, real, y, test = small
    est = _small("nearest-neighbour", prior=0.5).fit(gen, real, y)
    assert est.predict(test).sum() == 3
    est.set_params(prior=None)  # the decision fitted under prior=0.5 was cached
    assert est.threshold_ is not None
    np.testing.assert_array_equal(
        est.predict(test), _small("nearest-neighbour").fit(gen, real, y).predict(test))
    est.set_params(prior=1 / 6)
    assert est.predict(test).sum() == 1


def test_labels_of_the_wrong_shape_are_named_by_their_shape(demo):
    gen, real, y, _ = demo
    with pytest.raises(SynthprintError, match=r"expected shape \(20,\).*got shape \(20, 1\)"):
        make_method("nearest-neighbour").fit(gen, real, y[:, None])


def _demo_copy(tmp_path):
    d = tmp_path / "data"
    shutil.copytree(demo_path("membership"), d)
    return d


def test_cli_refuses_contradictions_and_bad_names_before_any_work(tmp_path, monkeypatch):
    import synthprint.evaluation.membership_run as membership_run

    def no_work(*args, **kwargs):
        raise AssertionError("the method ran before the inputs were checked")

    monkeypatch.setattr(membership_run, "run_membership", no_work)
    d = _demo_copy(tmp_path)
    used = sorted((d / "train" / "real_used").glob("*.png"))[0]
    shutil.copy(used, d / "train" / "real_not_used" / "again.png")
    both = runner.invoke(app, ["membership", "--train", str(d / "train"), "--test",
                               str(d / "test"), "--out", str(tmp_path / "o1")])
    assert both.exit_code == 2
    assert "again.png are the same image, labelled used in one folder and not used" in \
        " ".join(both.output.split())
    (d / "train" / "real_not_used" / "again.png").unlink()
    first = sorted((d / "test" / "real_unknown").glob("*.png"))[0]
    first.rename(first.with_name("a,b.png"))
    comma = runner.invoke(app, _args(tmp_path / "o2", d / "test"))
    assert comma.exit_code == 2 and "'a,b.png': image names in runs cannot hold commas" in \
        " ".join(comma.output.split()) and str(d / "test") in comma.output
    for bad in (["--prior", "1"], ["--seed", "-1"], ["--seed", str(2**32)]):
        refused = runner.invoke(app, _args(tmp_path / "o3", None, *bad))
        assert refused.exit_code == 2, bad
    assert not any((tmp_path / f"o{i}").exists() for i in (1, 2, 3))


def test_cli_says_which_files_it_skipped_and_which_images_it_did_not_read(tmp_path):
    d = _demo_copy(tmp_path)
    first, second = sorted((d / "test" / "real_unknown").glob("*.png"))[:2]
    first.rename(first.with_name(first.name + " "))          # a trailing space
    (d / "test" / "real_unknown" / ".DS_Store").write_bytes(b"")
    (d / "test" / "real_unknown" / "batch2").mkdir()
    second.rename(d / "test" / "real_unknown" / "batch2" / second.name)
    result = runner.invoke(app, _args(tmp_path / "o", d / "test", "--method",
                                      "nearest-neighbour"))   # -q: still said
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "skipped 2 file(s) that are not images; 1 of them named like an image" in said
    assert "'real_unknown_0001.png '" in said
    assert "warning: 1 folder(s) hold images that were not read" in said
    assert "batch2" in said
    assert "note: with 10 labelled images not used, TPR at 1% FPR (needs 100)" in said
    import json

    notes = json.loads((tmp_path / "o" / "record.json").read_text())["notes"]
    assert any("TPR at 1% FPR (needs 100)" in n for n in notes)   # the report says it too
    info = runner.invoke(app, ["info", str(d / "test")])
    assert "batch2: a subfolder with images, which are not read" in " ".join(info.output.split())


def test_cli_keeps_cache_and_outputs_out_of_the_data(tmp_path):
    d = _demo_copy(tmp_path)
    cache = runner.invoke(app, _args(tmp_path / "o", d / "test", "--cache-dir",
                                     str(d / "test" / "cache")))
    assert cache.exit_code == 2 and "is inside the input folder" in cache.output
    assert not (d / "test" / "cache").exists()
    beside = runner.invoke(app, _args(d / "truth", None, "--truth",
                                      str(d / "truth" / "real_unknown.csv")))
    assert beside.exit_code == 2 and "holds the input" in beside.output
    assert sorted(p.name for p in (d / "truth").iterdir()) == ["real_unknown.csv"]


def test_cli_force_removes_what_another_command_left_and_nothing_else(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    (out / "cv.md").write_text("the user's own notes")          # no synthprint run here
    (out / "filtered").mkdir()
    (out / "report.html").write_text("the user's own page")
    mine = runner.invoke(app, _args(out, None, "--method", "nearest-neighbour", "--force"))
    assert mine.exit_code == 0 and (out / "cv.md").exists() and (out / "filtered").exists()
    assert (out / "report.html").read_text() == "the user's own page"
    other = tmp_path / "other"                                       # an attribute run's
    other.mkdir()
    (other / "cv.md").write_text("its cross-validation")
    (other / "filtered").mkdir()
    (other / "record.json").write_text('{"kind": "attribution", "command": "synthprint '
                                       'attribute", "inputs": {}, "settings": {}}')
    forced = runner.invoke(app, _args(other, None, "--method", "nearest-neighbour", "--force"))
    assert forced.exit_code == 0 and not (other / "cv.md").exists()
    assert "removed the earlier run's cv.md" in " ".join(forced.output.split())
    assert (other / "filtered").exists()    # not an attribute run's output: left alone


@pytest.mark.parametrize("record", ['{"kind": ["audit"]}', '{"kind": {}}', "[" * 100_000,
                                    "\udcff not json"])
def test_an_odd_record_json_is_not_taken_for_an_earlier_run(tmp_path, record):
    from synthprint.cli._common import plan_outputs

    (tmp_path / "record.json").write_text(record, errors="surrogateescape")
    assert plan_outputs("membership", {"report.html": False}, tmp_path) == (
        ["scores.csv", "run.csv", "submission.zip", "record.json"], [])
    (tmp_path / "record.json").write_text(                            # a real record
        '{"kind": "membership", "command": "synthprint membership", "inputs": {}, '
        '"settings": {}}')
    assert plan_outputs("membership", {"report.html": False}, tmp_path)[1] == ["report.html"]


def test_one_image_cannot_be_both_used_and_not_used(small):
    gen, real, y, _ = small
    both = np.concatenate([real, real[:1]])
    est = _small("nearest-neighbour")
    with pytest.raises(SynthprintError, match="labelled real images 0 and 16 are the same"):
        est.fit(gen, both, np.concatenate([y, 1 - y[:1]]))
    assert not hasattr(est, "labels_")   # a refused fit leaves no half-fitted estimator
    _small("nearest-neighbour").fit(gen, both, np.concatenate([y, y[:1]]))  # a repeat is fine


def test_an_interrupted_forced_rerun_leaves_the_earlier_run_whole(tmp_path, monkeypatch):
    import synthprint.report as report_module

    out = tmp_path / "o"
    nn = ("--method", "nearest-neighbour", "--report")
    assert runner.invoke(app, _args(out, None, *nn, "--prior", "0.5")).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(report_module, "write_report", interrupted)
    rerun = runner.invoke(app, _args(out, None, *nn, "--prior", "0.2", "--force"))
    assert rerun.exit_code == 130
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before   # no hidden leftovers


def test_random_state_is_a_seed_int_or_none_and_a_generator_is_refused_at_fit(small):
    from synthprint.attribution import Ensemble, SpectralFingerprint

    G, R, y, _ = small
    for bad in (np.random.RandomState(0), np.random.default_rng(0), -1, 2**32, 1.5, True):
        with pytest.raises(SynthprintError, match="random_state must be an int"):
            _small("texture-forest", random_state=bad).fit(G, R, y)
        with pytest.raises(SynthprintError, match="random_state must be an int"):
            Ensemble([("spectral", SpectralFingerprint())], weights=None,
                     random_state=bad).fit(G, np.repeat([1, 2], len(G) // 2))
    a = _small("texture-forest", random_state=None).fit(G, R, y).score_samples(R)
    b = _small("texture-forest", random_state=np.int64(0)).fit(G, R, y).score_samples(R)
    np.testing.assert_array_equal(a, b)                  # None is seed 0: reproducible


@pytest.mark.parametrize("shape", [(100, 100), (36, 36), (64, 50)])
def test_texture_descriptors_take_sides_that_halve_to_odd(shape):
    from synthprint.membership.texture import texture_descriptors

    images = np.stack([ct_like(i, 128)[: shape[0], : shape[1]] for i in range(2)])
    d = texture_descriptors(images)
    assert d.shape == (2, 33) and np.all(np.isfinite(d))


def test_density_ratio_caps_its_components_at_the_embedding_size(small):
    from synthprint.membership import DensityRatio

    G, R, y, test = small
    small16 = (slice(None), slice(0, 16), slice(0, 16))     # 16 px: 2 x 2 = 4 features
    scores = DensityRatio(n_components=8).fit(G[small16], R[small16], y).score_samples(
        test[small16])
    assert scores.shape == (len(test),) and np.all(np.isfinite(scores))
    with pytest.raises(SynthprintError, match="n_components must be an int >= 1"):
        DensityRatio(n_components=0).fit(G, R, y)
