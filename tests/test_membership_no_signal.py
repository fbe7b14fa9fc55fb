"""What synthprint writes when the train cross-validation finds no membership signal."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from synthprint.cli import app
from synthprint.errors import SynthprintError
from synthprint.membership.decision import no_signal_labels
from tests.conftest import ct_like, write_png

runner = CliRunner()


def test_all_used_policy_labels_everything_used_and_says_so():
    labels, note = no_signal_labels(np.array([0, 1, 0, 0]), "all-used")
    assert labels.tolist() == [1, 1, 1, 1] and labels.dtype == np.int64
    assert "kappa 0" in note


def test_threshold_policy_keeps_the_labels():
    labels, note = no_signal_labels(np.array([0, 1, 0]), "threshold")
    assert labels.tolist() == [0, 1, 0] and "no better than chance" in note


def test_unknown_policy_is_an_error():
    with pytest.raises(SynthprintError, match="all-used, threshold"):
        no_signal_labels(np.array([0, 1]), "coin-flip")


def _chance_split(root):
    """Train/test folders where used and unused real images come from one population and the
    generated images are unrelated: no method can separate them."""
    for i in range(8):
        write_png(root / "train" / "generated" / f"g_{i}.png", ct_like(500 + i))
    for i in range(6):
        write_png(root / "train" / "real_used" / f"u_{i}.png", ct_like(600 + i))
        write_png(root / "train" / "real_not_used" / f"n_{i}.png", ct_like(700 + i))
    for i in range(5):
        write_png(root / "test" / "generated" / f"g_{i}.png", ct_like(800 + i))
        write_png(root / "test" / "real_unknown" / f"real_unknown_{i}.png", ct_like(900 + i))


def _run(root, out, *extra):
    return runner.invoke(app, ["membership", "--train", str(root / "train"), "--test",
                               str(root / "test"), "--out", str(out), "-q", "--n-boot", "200",
                               "--folds", "3", "--method", "nearest-neighbour", *extra])


def test_cli_without_signal_writes_all_used_by_default_and_threshold_on_request(tmp_path):
    _chance_split(tmp_path)
    result = _run(tmp_path, tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "no detectable membership signal" in result.output
    run = (tmp_path / "out" / "run.csv").read_text().splitlines()
    assert len(run) == 5 and all(line.endswith(",1") for line in run)
    rows = (tmp_path / "out" / "scores.csv").read_text().splitlines()[1:]
    assert [r.split(",")[2] for r in rows] == ["1"] * 5  # scores.csv agrees with run.csv
    import json

    record = json.loads((tmp_path / "out" / "record.json").read_text())
    assert "every test image is labelled used" in record["verdict"]

    kept = _run(tmp_path, tmp_path / "kept", "--when-no-signal", "threshold")
    assert kept.exit_code == 0, kept.output
    labels = [r.split(",")[2] for r in (tmp_path / "kept" / "scores.csv").read_text()
              .splitlines()[1:]]
    run = [line.split(",")[1] for line in (tmp_path / "kept" / "run.csv").read_text()
           .splitlines()]
    assert labels == run
    assert "no better than chance" in " ".join(kept.output.split())  # rich wraps lines


def test_cli_rejects_an_unknown_policy(tmp_path):
    _chance_split(tmp_path)
    result = _run(tmp_path, tmp_path / "out", "--when-no-signal", "maybe")
    assert result.exit_code == 2 and "--when-no-signal" in result.output
    assert not (tmp_path / "out").exists()


def test_run_membership_applies_the_policy_unless_a_prior_is_given():
    from synthprint.evaluation.membership_run import run_membership
    from synthprint.membership import make_method

    gen = np.stack([ct_like(500 + i, 64) for i in range(8)])
    real = np.stack([ct_like(600 + i, 64) for i in range(12)])
    y = np.array([1, 0] * 6)
    test = np.stack([ct_like(900 + i, 64) for i in range(5)])
    run = run_membership(make_method("nearest-neighbour"), gen, real, y, test, n_splits=3,
                         n_repeats=1, n_boot=200)
    assert run.no_signal and run.labels.tolist() == [1] * 5
    assert run.scores.shape == (5,) and run.method_labels.shape == (5,)
    with_prior = run_membership(make_method("nearest-neighbour").set_params(prior=0.4), gen,
                                real, y, test, n_splits=3, n_repeats=1, n_boot=200)
    assert with_prior.labels.sum() == 2  # the prior's share, not the no-signal fallback
    assert "0.4 share" in with_prior.labels_note and "(the prior)" in with_prior.labels_note
    cv_only = run_membership(make_method("nearest-neighbour"), gen, real, y, n_splits=3,
                             n_repeats=1, n_boot=0)
    assert cv_only.scores is None and cv_only.labels is None
    assert cv_only.no_signal is None  # no bootstrap, no interval: no verdict either way
