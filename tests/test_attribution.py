"""Subtask 2 attribution: fingerprint features, estimators, ensemble, and the CLI.

Fixtures are five synthetic "generators" that share their image content and differ only by a
planted fingerprint (a noise spectrum, or a fixed pattern), plus the bundled demo.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from typer.testing import CliRunner

from synthprint.attribution import (
    DEFAULT_METHOD,
    METHODS,
    Ensemble,
    FingerprintCNN,
    NearestSubset,
    ResidualFingerprint,
    SpectralFingerprint,
    make_method,
)
from synthprint.attribution.fingerprints import (
    block_dct_energy,
    grid_power_spectrum,
    intensity_histogram,
    noise_residual,
    radial_power_spectrum,
)
from synthprint.cli import app
from synthprint.io import Role, demo_path, load_benchmark, read_labels_csv

runner = CliRunner()
K = 5


def _content(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    """Shared content: a bright disc of random size and position on a dark background."""
    yy, xx = np.mgrid[:size, :size] / size
    out = np.empty((n, size, size), dtype=np.float64)
    for i in range(n):
        cy, cx = 0.5 + 0.1 * rng.standard_normal(2).clip(-2, 2)
        r = 0.25 + 0.1 * rng.random()
        out[i] = np.where((yy - cy) ** 2 + (xx - cx) ** 2 < r * r, 160.0, 60.0)
    return out


def _band_noise(rng: np.random.Generator, n: int, size: int, k: int) -> np.ndarray:
    """White noise band-passed around radius (k + 1) * size / 14 cycles per image."""
    f = np.hypot(*np.meshgrid(np.fft.fftfreq(size), np.fft.fftfreq(size), indexing="ij"))
    centre = (k + 1) / 14
    gain = np.exp(-((f - centre) ** 2) / (2 * 0.02 ** 2))
    noise = rng.standard_normal((n, size, size))
    out = np.fft.ifft2(np.fft.fft2(noise) * gain).real
    return out / out.std() * 8.0


def planted_spectra(n_per: int, size: int = 64, seed: int = 0):
    """Five generators that differ only by the spectrum of their noise: (5 n, S, S) uint8
    images and (5 n,) subsets 1..5, interleaved."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for k in range(K):
        x = _content(rng, n_per, size) + _band_noise(rng, n_per, size, k)
        images.append(np.clip(np.rint(x), 0, 255).astype(np.uint8))
        labels.append(np.full(n_per, k + 1))
    return _shuffle(np.concatenate(images), np.concatenate(labels), rng)


def planted_patterns(n_per: int, size: int = 64, seed: int = 0, amplitude: float = 3.0):
    """Five generators that differ only by a fixed additive pattern (like a sensor's PRNU),
    under the same white noise for all."""
    rng = np.random.default_rng(seed)
    patterns = np.random.default_rng(1234).standard_normal((K, size, size)) * amplitude
    images, labels = [], []
    for k in range(K):
        x = _content(rng, n_per, size) + patterns[k] + rng.normal(0, 6.0, (n_per, size, size))
        images.append(np.clip(np.rint(x), 0, 255).astype(np.uint8))
        labels.append(np.full(n_per, k + 1))
    return _shuffle(np.concatenate(images), np.concatenate(labels), rng)


def _shuffle(x, y, rng):
    order = rng.permutation(len(y))
    return x[order], y[order].astype(np.int64)


@pytest.fixture(scope="module")
def spectra():
    return planted_spectra(24, seed=1), planted_spectra(12, seed=2)


@pytest.fixture(scope="module")
def patterns():
    return planted_patterns(24, seed=3), planted_patterns(12, seed=4)


# ---------------------------------------------------------------- fingerprint functions

def test_radial_spectrum_finds_a_sinusoid_and_is_flat_for_white_noise():
    size = 64
    yy, xx = np.mgrid[:size, :size]
    wave = (0.5 + 0.4 * np.cos(2 * np.pi * 10 * xx / size)).astype(np.float32)
    p = radial_power_spectrum(wave[None], log=False)
    assert p.shape == (1, size // 2 + 1) and p.dtype == np.float32
    assert int(np.argmax(p[0, 1:])) + 1 == 10
    noise = np.random.default_rng(0).random((8, size, size)).astype(np.float32)
    flat = radial_power_spectrum(noise, log=False).mean(axis=0)[2:-4]
    assert flat.max() / flat.min() < 2.0


def test_grid_spectrum_keeps_direction():
    size = 64
    yy, xx = np.mgrid[:size, :size]
    horizontal = (0.5 + 0.4 * np.cos(2 * np.pi * 16 * xx / size)).astype(np.float32)
    vertical = horizontal.T.copy()
    g = grid_power_spectrum(np.stack([horizontal, vertical]), grid=8)
    assert g.shape == (2, 8 * 4)
    assert not np.allclose(g[0], g[1])
    r = radial_power_spectrum(np.stack([horizontal, vertical]))
    np.testing.assert_allclose(r[0, 1:], r[1, 1:], atol=1e-3)  # bin 0 is ~0 (mean removed)


def test_residual_dct_and_histogram_shapes_and_values():
    x = np.full((3, 32, 32), 100, dtype=np.uint8)
    assert np.abs(noise_residual(x)).max() < 1e-6
    d = block_dct_energy(np.random.default_rng(0).random((3, 32, 32)))
    assert d.shape == (3, 64) and np.isfinite(d).all()
    h = intensity_histogram(np.random.default_rng(0).integers(0, 256, (4, 16, 16),
                                                              dtype=np.uint8), bins=16)
    assert h.shape == (4, 16)
    np.testing.assert_allclose(h.sum(axis=1), 1.0, rtol=1e-6)


# ---------------------------------------------------------------- estimators

def _check_proba(est, images, classes=np.arange(1, K + 1)):
    proba = est.predict_proba(images)
    assert proba.shape == (len(images), len(classes)) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    assert (proba >= 0).all()
    np.testing.assert_array_equal(est.classes_, classes)
    pred = est.predict(images)
    assert pred.dtype == np.int64 and set(pred) <= set(classes)
    np.testing.assert_array_equal(pred, classes[proba.argmax(axis=1)])
    return proba


def test_spectral_fingerprint_separates_planted_noise_spectra(spectra):
    (x, y), (xt, yt) = spectra
    est = SpectralFingerprint().fit(x, y)
    _check_proba(est, xt)
    assert np.mean(est.predict(xt) == yt) >= 0.9


def test_residual_fingerprint_separates_planted_patterns(patterns):
    (x, y), (xt, yt) = patterns
    est = ResidualFingerprint().fit(x, y)
    _check_proba(est, xt)
    assert est.fingerprints_.shape == (K, 64, 64)
    assert np.mean(est.predict(xt) == yt) >= 0.9


def test_pixel_neighbours_cannot_see_a_planted_spectrum(spectra):
    # the shared content dominates pixel distances: the peer baseline stays near chance,
    # which is what the fingerprint methods are for
    (x, y), (xt, yt) = spectra
    est = NearestSubset("l2", k=5, reference="generated").fit(x, y)
    _check_proba(est, xt)
    assert np.mean(est.predict(xt) == yt) < 0.6


@pytest.mark.parametrize("kwargs", [
    {"metric": "l2"}, {"metric": "ssim", "level": 1}, {"metric": "embedding"},
    {"metric": "l2", "centroid": True}, {"metric": "embedding", "centroid": True},
])
def test_nearest_subset_uses_the_real_images(kwargs):
    rng = np.random.default_rng(0)
    real = rng.integers(0, 256, (10, 32, 32), dtype=np.uint8)
    real_subsets = np.repeat([1, 2], 5)
    generated = real[[0, 1, 5, 6]]
    subsets = np.array([1, 1, 2, 2])
    est = NearestSubset(k=1, **kwargs).fit(generated, subsets, real, real_subsets)
    assert est.reference_used_ == "real"
    proba = _check_proba(est, real, classes=np.array([1, 2]))
    if not kwargs.get("centroid"):
        # each real image is its own nearest neighbour
        np.testing.assert_array_equal(est.classes_[proba.argmax(axis=1)], real_subsets)


def test_fingerprint_cnn_is_tiny_deterministic_and_learns(patterns):
    (x, y), (xt, yt) = patterns
    # a fixed pattern moves under flips and shifts: train this one without them
    kwargs = dict(widths=(8, 8, 16, 16), epochs=10, patience=10, batch_size=20, lr=1e-2,
                  flips=False, max_shift=0, random_state=3, n_threads=1)
    a = FingerprintCNN(**kwargs).fit(x, y, x[:20], y[:20])
    b = FingerprintCNN(**kwargs).fit(x, y, x[:20], y[:20])
    pa = _check_proba(a, xt)
    np.testing.assert_array_equal(pa, b.predict_proba(xt))
    assert np.mean(a.predict(xt) == yt) >= 0.5  # chance is 0.2
    assert 1 <= a.best_epoch_ <= 10 and len(a.history_) <= 10
    assert set(a.history_[0]) == {"epoch", "train_loss", "val_loss", "val_accuracy"}
    import pickle

    np.testing.assert_array_equal(pickle.loads(pickle.dumps(a)).predict_proba(xt), pa)
    a.set_params(widths=(4, 4))              # today's params are not the fitted network's
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(a)).predict_proba(xt), pa)
    c = FingerprintCNN(**{**kwargs, "random_state": 4, "epochs": 2, "max_shift": 2,
                          "flips": True}).fit(x, y)
    assert not np.array_equal(pa, c.predict_proba(xt))


def test_a_failed_refit_leaves_the_estimator_unfitted_not_mixed(spectra):
    (x, y), (xt, _) = spectra
    for est, bad in ((Ensemble([("spectral", SpectralFingerprint())], weights=None),
                      {"weights": [1.0, 1.0]}),                    # found wrong after checks
                     (SpectralFingerprint(), {"C": -1.0})):
        est.fit(x, y)
        assert est.predict(xt).shape == (len(xt),)
        with pytest.raises(ValueError):
            est.set_params(**bad).fit(x, y + 1)                     # new subset numbers
        with pytest.raises(NotFittedError):
            est.predict(xt)
        assert not [n for n in vars(est) if n.endswith("_") and not n.startswith("_")]


def test_ensemble_weighs_members_only_with_folds_its_members_can_fit(spectra):
    (x, y), (xt, _) = spectra
    two = np.concatenate([np.flatnonzero(y == c)[:2] for c in np.unique(y)])
    members = [("spectral", SpectralFingerprint()), ("residual", ResidualFingerprint())]
    est = Ensemble(members).fit(x[two], y[two])              # 2 a subset: no folds to weigh
    np.testing.assert_allclose(est.weights_, [0.5, 0.5])
    three = np.concatenate([np.flatnonzero(y == c)[:3] for c in np.unique(y)])
    assert Ensemble(members).fit(x[three], y[three]).cv_scores_["folds"] == 3


def test_ensemble_pools_members_and_is_deterministic(spectra):
    (x, y), (xt, yt) = spectra
    members = [("spectral", SpectralFingerprint()), ("residual", ResidualFingerprint())]
    a = Ensemble(members, weights=None).fit(x, y)
    pa = _check_proba(a, xt)
    np.testing.assert_array_equal(pa, Ensemble(members, weights=None).fit(x, y)
                                  .predict_proba(xt))
    assert a.pseudo_labelling_ is None and len(a.estimators_) == 2
    np.testing.assert_allclose(a.weights_, [0.5, 0.5])
    # a member weighted 0 drops out: the pool equals the other member
    only = Ensemble(members, weights=[1, 0]).fit(x, y)
    np.testing.assert_allclose(only.predict_proba(xt),
                               SpectralFingerprint().fit(x, y).predict_proba(xt), atol=1e-9)


def test_cross_validated_weights_favour_the_member_that_sees_the_fingerprint(spectra):
    # the planted fingerprint is a noise spectrum: the spectral member sees it, the
    # residual-pattern member cannot, so the out-of-fold log-loss should weight the former
    (x, y), (xt, yt) = spectra
    members = [("spectral", SpectralFingerprint()), ("residual", ResidualFingerprint())]
    est = Ensemble(members, weights="cv", cv_folds=3).fit(x, y)
    assert est.weights_.sum() == pytest.approx(1.0)
    assert est.weights_[0] > est.weights_[1]
    scores = est.cv_scores_
    assert set(scores["members"]) == {"spectral", "residual"} and scores["folds"] == 3
    assert scores["members"]["spectral"]["accuracy"] > scores["members"]["residual"][
        "accuracy"]
    assert scores["pooled"]["log_loss"] <= min(m["log_loss"] for m in
                                               scores["members"].values()) + 1e-9
    _check_proba(est, xt)
    assert np.mean(est.predict(xt) == yt) >= 0.9


def test_pseudo_labelling_is_guarded_by_a_held_out_fold(spectra):
    (x, y), (xt, yt) = spectra
    est = Ensemble([("spectral", SpectralFingerprint())], pseudo_label=True, threshold=0.5,
                   random_state=1).fit(x, y, unlabelled=xt)
    np.testing.assert_array_equal(est.weights_, [1.0])
    rep = est.pseudo_labelling_
    assert rep["n_unlabelled"] == len(xt) and 0 <= rep["n_pseudo"] <= len(xt)
    assert rep["n_holdout"] == K * round(0.2 * 24)
    without, with_ = rep["holdout_accuracy_without"], rep.get("holdout_accuracy_with")
    if rep["accepted"]:
        assert with_ >= without
        assert rep["holdout_log_loss_with"] <= rep["holdout_log_loss_without"]
    else:
        assert rep["n_pseudo_final"] == 0
    _check_proba(est, xt)
    # no unlabelled images: nothing attempted
    assert Ensemble([("s", SpectralFingerprint())], pseudo_label=True).fit(
        x, y).pseudo_labelling_ is None


def test_inputs_are_checked(spectra):
    (x, y), _ = spectra
    with pytest.raises(NotFittedError):
        SpectralFingerprint().predict(x)
    with pytest.raises(ValueError, match="at least 2 subsets"):
        ResidualFingerprint().fit(x, np.ones(len(x), dtype=int))
    with pytest.raises(ValueError, match="shape"):
        ResidualFingerprint().fit(x, y[:-1])
    with pytest.raises(ValueError, match="start at 1"):
        ResidualFingerprint().fit(x, y - 1)
    with pytest.raises(ValueError, match="together"):
        ResidualFingerprint().fit(x, y, real=x)
    est = ResidualFingerprint().fit(x, y)
    with pytest.raises(ValueError, match="fitted on"):
        est.predict(x[:, :32, :32])
    with pytest.raises(ValueError, match="no images given"):
        est.predict(x[:0])
    with pytest.raises(ValueError, match="integers 1, 2"):
        ResidualFingerprint().fit(x, np.array([f"t{v}" for v in y]))
    with pytest.raises(NotFittedError):
        ResidualFingerprint().predict(x)
    for sigma in (0, -1.0):
        with pytest.raises(ValueError, match="sigma"):
            ResidualFingerprint(sigma=sigma).fit(x, y)


@pytest.mark.parametrize("name", ["nearest", "spectral", "residual", "ensemble"])
def test_float_images_are_refused_not_guessed_at(spectra, name):
    # a float stack may be gray levels 0..255 or intensities 0..1; either reading of the
    # other scale used to give wrong subsets silently
    (x, y), _ = spectra
    est = make_method(name)
    for floats in (x / 255.0, x.astype(np.float32)):
        with pytest.raises(ValueError, match="uint8"):
            est.fit(floats, y)
    est.fit(x, y)
    with pytest.raises(ValueError, match=r"uint8.*\(x \* 255\)"):
        est.predict(x / 255.0)


def test_ensemble_exposes_its_members_parameters():
    est = make_method("ensemble")
    params = est.get_params(deep=True)
    assert params["residual__sigma"] == 1.0 and "spectral__grid" in params
    est.set_params(residual__sigma=2.0, cv_folds=3)
    assert est.cv_folds == 3 and dict(est.estimators)["residual"].sigma == 2.0
    assert dict(clone(est).estimators)["residual"].sigma == 2.0
    assert dict(Ensemble().set_params(spectral__grid=8).estimators)["spectral"].grid == 8
    with pytest.raises(ValueError, match="members are"):
        est.set_params(nope__sigma=1.0)


def test_torch_is_imported_only_for_the_cnn():
    code = ("import sys, synthprint.attribution, synthprint.cli; "
            "assert 'torch' not in sys.modules, 'torch imported eagerly'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_named_methods():
    assert DEFAULT_METHOD in METHODS and not METHODS[DEFAULT_METHOD].needs_torch
    for name in METHODS:
        est = make_method(name, seed=5)
        assert hasattr(est, "fit") and hasattr(est, "predict_proba")
    assert METHODS["cnn"].needs_torch and METHODS["ensemble-pl"].transductive


# ---------------------------------------------------------------- demo and CLI

def test_default_method_on_the_demo():
    bench = load_benchmark(demo_path("attribution"), quiet=True)
    gi = bench.train.indices(Role.GENERATED_SUBSET)
    ri = bench.train.indices(Role.REAL_SUBSET)
    est = make_method(DEFAULT_METHOD).fit(bench.train.images[gi], bench.train.labels[gi],
                                          bench.train.images[ri], bench.train.labels[ri])
    truth = bench.test_labels(Role.GENERATED_UNKNOWN)
    assert np.mean(est.predict(bench.test.images) == truth) >= 0.9


def _attribute(out, *extra):
    demo = demo_path("attribution")
    return runner.invoke(app, ["attribute", "--train", str(demo / "train"), "--test",
                               str(demo / "test"), "--out", str(out), "--quiet", *extra])


def test_cli_writes_scores_run_and_zip_deterministically(tmp_path):
    r1 = _attribute(tmp_path / "a", "--method", "residual", "--cv-folds", "2")
    assert r1.exit_code == 0, r1.output
    assert "cross-validation" in r1.output and "accuracy" in r1.output
    assert "train CV confusion" in r1.output and "t5" in r1.output
    # the record is always written, so the report can be built later
    rebuilt = runner.invoke(app, ["report", str(tmp_path / "a")])
    assert rebuilt.exit_code == 0 and (tmp_path / "a" / "report.html").exists()
    lines = (tmp_path / "a" / "scores.csv").read_text().splitlines()
    assert lines[0] == "name,p_t1,p_t2,p_t3,p_t4,p_t5,label"
    assert len(lines) == 51
    rows = [line.split(",") for line in lines[1:]]
    proba = np.array([[float(v) for v in r[1:6]] for r in rows])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    labels = np.array([int(r[6]) for r in rows])
    np.testing.assert_array_equal(labels, proba.argmax(axis=1) + 1)
    run = read_labels_csv(tmp_path / "a" / "run.csv")
    assert len(run) == 50 and set(run.values()) <= {1, 2, 3, 4, 5}
    assert run == {r[0]: int(r[6]) for r in rows}
    with zipfile.ZipFile(tmp_path / "a" / "submission.zip") as zf:
        assert zf.namelist() == ["run.csv"]
        assert zf.read("run.csv") == (tmp_path / "a" / "run.csv").read_bytes()
    truth = read_labels_csv(demo_path("attribution") / "truth" / "generated_unknown.csv")
    assert np.mean([run[n] == truth[n] for n in truth]) >= 0.9
    r2 = _attribute(tmp_path / "b", "--method", "residual", "--cv-folds", "2", "--report")
    assert r2.exit_code == 0, r2.output
    record = json.loads((tmp_path / "b" / "record.json").read_text())
    assert record["confusion"]["labels"] == ["t1", "t2", "t3", "t4", "t5"]
    assert np.asarray(record["confusion"]["matrix"]).sum() == 100   # every train image once
    for name in ("scores.csv", "run.csv", "submission.zip", "cv.md"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_cli_refuses_to_overwrite_without_force(tmp_path):
    assert _attribute(tmp_path, "--method", "residual", "--folds", "0").exit_code == 0
    assert "skipped (--folds 0)" in (tmp_path / "cv.md").read_text()
    before = (tmp_path / "run.csv").read_bytes()
    again = _attribute(tmp_path, "--method", "residual", "--cv-folds", "0")
    assert again.exit_code == 2 and "--force" in again.output
    assert (tmp_path / "run.csv").read_bytes() == before
    forced = _attribute(tmp_path, "--method", "residual", "--cv-folds", "0", "--force")
    assert forced.exit_code == 0, forced.output


def test_cli_lists_methods_and_rejects_bad_input(tmp_path):
    listing = runner.invoke(app, ["attribute", "--method", "list"])
    assert listing.exit_code == 0
    for name in METHODS:
        assert name in listing.output
    bad = _attribute(tmp_path / "x", "--method", "nope")
    assert bad.exit_code == 2 and "--method list" in bad.output
    missing = runner.invoke(app, ["attribute", "--out", str(tmp_path / "y")])
    assert missing.exit_code == 2 and "--train" in missing.output
    demo = demo_path("attribution")
    swapped = runner.invoke(app, ["attribute", "--train", str(demo / "test"), "--test",
                                  str(demo / "test"), "--out", str(tmp_path / "z"), "-q"])
    assert swapped.exit_code == 2 and "--train must hold" in swapped.output
    assert not (tmp_path / "z" / "run.csv").exists()


def test_cli_refuses_subsets_it_cannot_fit_or_write_before_any_work(tmp_path):
    import shutil

    d = demo_path("attribution")

    def run(train, *extra):
        return runner.invoke(app, ["attribute", "--train", str(train), "--test",
                                   str(d / "test"), "--out", str(tmp_path / "o"), "-q",
                                   *extra])

    small = tmp_path / "small"
    shutil.copytree(d / "train", small)
    for extra_image in sorted((small / "generated" / "t3").glob("*.png"))[2:]:
        extra_image.unlink()
    said = " ".join(run(small).output.split())
    assert f"{small / 'generated' / 't3'}: holds 2 generated image(s); 5-fold " \
        "cross-validation needs at least 5 a subset; pass --folds 2 or fewer" in said
    no_cv = run(small, "--folds", "0")       # the ensemble weighs its members equally then
    assert no_cv.exit_code == 0, no_cv.output
    shutil.rmtree(tmp_path / "o")
    from pathlib import Path

    from synthprint.cli.attribute import _fitting
    from synthprint.errors import SynthprintError

    with pytest.raises(SynthprintError, match=r"^t: cnn could not be fitted on these images "
                                              r"\(too few\); add generated images"):
        with _fitting("cnn", Path("t")):                 # a method's own refusal, one line
            raise ValueError("too few")
    assert run(small, "--folds", "1").exit_code == 2
    ten = tmp_path / "ten"
    shutil.copytree(d / "train", ten)
    for kind in ("generated", "real"):
        (ten / kind / "t5").rename(ten / kind / "t10")
    said = " ".join(run(ten).output.split())
    assert f"{ten / 'generated' / 't10'}: subset 10, but run files label subsets 1 to 5" in said
    assert not (tmp_path / "o").exists()
    four = tmp_path / "four"
    shutil.copytree(d / "train", four)
    for kind in ("generated", "real"):
        shutil.rmtree(four / kind / "t5")
    said = " ".join(run(four, "--folds", "0", "--method", "nearest").output.split())
    assert "no subset t5; every test image will be labelled t1, t2, t3, t4" in said
