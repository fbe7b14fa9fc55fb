"""Membership estimators, threshold choice, and the membership command."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from synthprint.cli import app
from synthprint.errors import SynthprintError
from synthprint.io import Role, demo_path, load_benchmark
from synthprint.membership import METHODS, choose_threshold, make_method
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


@pytest.mark.parametrize("name", ["auto", "ssim-threshold-max", "nearest-neighbour",
                                  "nearest-neighbour-calibrated", "ssim-retrieval"])
def test_planted_copy_ranks_first(name):
    rng = np.random.default_rng(0)
    real = np.stack([ct_like(i) for i in range(12)])
    y = np.array([1, 0] * 6)
    unknown = np.stack([ct_like(100 + i) for i in range(6)])
    copy = np.clip(unknown[3] + rng.normal(0, 2, unknown[3].shape), 0, 255).astype(np.uint8)
    gen = np.concatenate([np.stack([ct_like(200 + i) for i in range(15)]), copy[None]])
    scores = make_method(name).fit(gen, real, y).score_samples(unknown)
    assert int(np.argmax(scores)) == 3


def test_choose_threshold_separates_and_centres():
    s = np.array([0.1, 0.2, 0.3, 0.7, 0.8, 0.9])
    y = np.array([0, 0, 0, 1, 1, 1])
    t = choose_threshold(s, y, "kappa")
    assert t == pytest.approx(0.5)
    assert choose_threshold(s, y, "f1") == pytest.approx(0.5)
    with pytest.raises(ValueError):
        choose_threshold(s, y, "auc")


def test_unknown_method():
    with pytest.raises(SynthprintError, match="unknown membership method"):
        make_method("magic")


def _args(out, test=None, *extra):
    d = demo_path("membership")
    return ["membership", "--train", str(d / "train"), "--test", str(test or d / "test"),
            "--out", str(out), "-q", "--n-boot", "50", "--repeats", "1", *extra]


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
