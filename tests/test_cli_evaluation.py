"""``synthprint evaluate`` and ``synthprint validate`` through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn import metrics as skm
from typer.testing import CliRunner

from synthprint.cli import app
from synthprint.errors import SynthprintError
from synthprint.evaluation.runs import evaluate_run, read_predictions
from synthprint.io import demo_path, read_labels_csv
from synthprint.io.submission import write_run

runner = CliRunner()
CASES = Path(__file__).parent / "fixtures" / "imageclef2023-task1-validator-cases"
MEMBERSHIP_TRUTH = demo_path("membership") / "truth" / "real_unknown.csv"
ATTRIBUTION_TRUTH = demo_path("attribution") / "truth" / "generated_unknown.csv"


def _json(args):
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _values(out):
    return {m["name"]: m["value"] for m in out["metrics"]}


def test_truth_against_itself_gives_kappa_1():
    out = _json(["evaluate", "--run", str(MEMBERSHIP_TRUTH), "--truth", str(MEMBERSHIP_TRUTH),
                 "--json", "--n-boot", "200"])
    assert out["task"] == "binary" and out["n"] == 30
    assert _values(out)["kappa"] == 1.0 and _values(out)["f1"] == 1.0
    k = next(m for m in out["metrics"] if m["name"] == "kappa")
    assert k["low"] == k["high"] == 1.0
    out = _json(["evaluate", "--run", str(ATTRIBUTION_TRUTH), "--truth", str(ATTRIBUTION_TRUTH),
                 "--json", "--n-boot", "50"])
    assert out["task"] == "multiclass" and _values(out)["accuracy"] == 1.0
    assert _values(out)["macro_f1"] == 1.0
    assert np.trace(out["confusion"]) == 50
    shown = runner.invoke(app, ["evaluate", "--run", str(ATTRIBUTION_TRUTH), "--truth",
                                str(ATTRIBUTION_TRUTH), "--n-boot", "0"])
    assert "confusion matrix (rows: truth, columns: run)" in shown.output


def test_evaluate_a_2023_zip_run_matches_by_stem(tmp_path):
    truth = read_labels_csv(MEMBERSHIP_TRUTH)
    names = sorted(truth)
    flipped = [1 - truth[n] if i < 5 else truth[n] for i, n in enumerate(names)]
    run = write_run(tmp_path / "run.zip", names, flipped, edition=2023, task="membership")
    out = _json(["evaluate", "--run", str(run), "--truth", str(MEMBERSHIP_TRUTH), "--json",
                 "--n-boot", "0"])
    assert out["matched_by"] == "stem"
    y = [truth[n] for n in names]
    assert _values(out)["kappa"] == pytest.approx(skm.cohen_kappa_score(y, flipped), abs=1e-12)
    result = runner.invoke(app, ["evaluate", "--run", str(run), "--truth",
                                 str(MEMBERSHIP_TRUTH)])
    assert result.exit_code == 0 and "Cohen's kappa" in result.output
    assert "matched to truth names by stem" in result.output


def test_evaluate_says_when_the_validator_would_reject_the_run(tmp_path):
    truth = read_labels_csv(MEMBERSHIP_TRUTH)
    names = sorted(truth)
    good = write_run(tmp_path / "good.csv", names, [truth[n] for n in names], edition=2025,
                     task="membership")
    assert evaluate_run(good, MEMBERSHIP_TRUTH, n_boot=0).notes == []
    header = tmp_path / "header.csv"
    header.write_text("name,label\n" + good.read_text())
    floats = tmp_path / "floats.csv"
    floats.write_text("".join(f"{n},{truth[n]}.0\n" for n in names))
    for path, problem in ((header, "header.csv:1:"), (floats, "write whole numbers")):
        ev = evaluate_run(path, MEMBERSHIP_TRUTH, n_boot=0)
        assert ev.table.value("kappa") == 1.0
        assert len(ev.notes) == 1 and "2025 validator would reject" in ev.notes[0]
        assert problem in ev.notes[0]
    shown = runner.invoke(app, ["evaluate", "--run", str(floats), "--truth",
                                str(MEMBERSHIP_TRUTH), "--n-boot", "0"])
    assert shown.exit_code == 0 and "validator would reject" in shown.output
    run23 = write_run(tmp_path / "run23.csv", names, [truth[n] for n in names], edition=2023,
                      task="membership")
    assert not any("reject" in n for n in evaluate_run(run23, MEMBERSHIP_TRUTH, n_boot=0).notes)
    # a 2023 truth (ids without extension) and a 2023 run with a header: the 2023 rules
    truth23 = tmp_path / "truth23.csv"
    truth23.write_text(run23.read_text())
    header23 = tmp_path / "header23.csv"
    header23.write_text("id,label\n" + run23.read_text())
    notes = evaluate_run(header23, truth23, n_boot=0).notes
    assert len(notes) == 1 and "2023 validator would reject" in notes[0]


def test_evaluate_a_scores_csv(tmp_path):
    truth = read_labels_csv(MEMBERSHIP_TRUTH)
    names = sorted(truth)
    rng = np.random.default_rng(0)
    y = np.array([truth[n] for n in names])
    scores = y + rng.normal(0, 0.8, len(y))
    lines = ["name,score,label"] + [f"{n},{s:.6f},{int(s > 0.5)}" for n, s in
                                    zip(names, scores)]
    path = tmp_path / "scores.csv"
    path.write_text("\n".join(lines) + "\n")
    out = _json(["evaluate", "--run", str(path), "--truth", str(MEMBERSHIP_TRUTH), "--json",
                 "--n-boot", "100"])
    vals = _values(out)
    rounded = np.round(scores, 6)
    assert vals["roc_auc"] == pytest.approx(skm.roc_auc_score(y, rounded), abs=1e-12)
    assert vals["kappa"] == pytest.approx(skm.cohen_kappa_score(y, rounded > 0.5), abs=1e-12)
    assert "tpr@1%fpr" in vals and out["roc"]["thresholds"][0] is None
    only = tmp_path / "only.csv"
    only.write_text("\n".join(f"{n},{s:.6f}" for n, s in zip(names, scores)))
    ev = evaluate_run(only, MEMBERSHIP_TRUTH, n_boot=0)
    assert "kappa" not in ev.table and ev.table.value("roc_auc") is not None
    result = runner.invoke(app, ["evaluate", "--run", str(only), "--truth",
                                 str(MEMBERSHIP_TRUTH), "--n-boot", "100"])
    assert result.exit_code == 0 and "ROC AUC" in result.output
    inverted = tmp_path / "inverted.csv"
    inverted.write_text("name,score,label\n" + "\n".join(
        f"{n},{-3 * t - rng.random():.6f},{1 - t}" for n, t in zip(names, y)))
    said = " ".join(runner.invoke(app, ["evaluate", "--run", str(inverted), "--truth",
                                        str(MEMBERSHIP_TRUTH), "--n-boot", "200"]).output.split())
    assert "lies below 0.5: the scores rank used images below unused ones" in said


def test_evaluate_reads_the_attribute_commands_scores_csv(tmp_path):
    from synthprint.cli.attribute import scores_csv

    truth = read_labels_csv(ATTRIBUTION_TRUTH)
    names = sorted(truth)
    y = np.array([truth[n] for n in names])
    pred = np.where(np.arange(len(y)) < 7, y % 5 + 1, y)            # 7 wrong
    proba = np.eye(5)[pred - 1]
    path = tmp_path / "scores.csv"
    path.write_text(scores_csv(names, np.arange(1, 6), proba, pred))
    out = _json(["evaluate", "--run", str(path), "--truth", str(ATTRIBUTION_TRUTH), "--json",
                 "--n-boot", "0"])
    assert out["task"] == "multiclass"
    assert _values(out)["accuracy"] == pytest.approx(1 - 7 / len(y))
    assert not any("reject" in note for note in out["notes"])   # a scores file is no run
    no_label = tmp_path / "proba.csv"
    no_label.write_text("name,p_t1,p_t2\na.png,0.2,0.8\n")
    with pytest.raises(SynthprintError, match="proba.csv:1: per-class columns but no 'label'"):
        read_predictions(no_label)


def test_evaluate_errors_are_one_line_exit_2(tmp_path):
    part = tmp_path / "part.csv"
    part.write_text("real_unknown_0001.png,1\n")
    result = runner.invoke(app, ["evaluate", "--run", str(part), "--truth",
                                 str(MEMBERSHIP_TRUTH)])
    assert result.exit_code == 2 and "lacks 29" in result.output
    extra = tmp_path / "extra.csv"
    extra.write_text(MEMBERSHIP_TRUTH.read_text() + "bogus.png,1\n")
    result = runner.invoke(app, ["evaluate", "--run", str(extra), "--truth",
                                 str(MEMBERSHIP_TRUTH)])
    assert result.exit_code == 2
    assert f"{extra}: names 1 images that {MEMBERSHIP_TRUTH} does not have (first: bogus.png)" \
        in "".join(result.output.split("\n"))
    bad = tmp_path / "bad.csv"
    bad.write_text("a.png,x\n")
    with pytest.raises(SynthprintError, match="bad.csv:1"):
        read_predictions(bad)


def test_validate_cli_exit_codes_and_line_numbers(tmp_path):
    ids = str(CASES / "image_ids.txt")
    ok = runner.invoke(app, ["validate", str(CASES / "00_2_OK.csv"), "--ids", ids])
    assert ok.exit_code == 0 and "valid 2023 membership run" in ok.output
    bad = runner.invoke(app, ["validate", str(CASES / "02_1_wrong_figure_id.csv"),
                              "--ids", ids])
    assert bad.exit_code == 1
    assert "02_1_wrong_figure_id.csv:28: 'aaaaaaaa' is not an id" in bad.output
    assert "--all" in bad.output
    run = tmp_path / "run.csv"
    run.write_bytes((CASES / "00_1_OK.csv").read_bytes().replace(b",1\n", b",1.0\n", 2))
    every = runner.invoke(app, ["validate", str(run), "--ids", ids, "--all"])
    assert every.exit_code == 1 and every.output.count("1 instead of 1.0") == 2
    # the demo truth is a valid 2025 run, not a valid 2023 one
    folder = str(demo_path("membership"))
    assert runner.invoke(app, ["validate", str(MEMBERSHIP_TRUTH), "--images", folder]
                         ).exit_code == 0
    r23 = runner.invoke(app, ["validate", str(MEMBERSHIP_TRUTH), "--images", folder,
                              "--edition", "2023"])
    assert r23.exit_code == 1 and "no file extension" in r23.output
    missing = runner.invoke(app, ["validate", str(tmp_path / "nope.csv"), "--ids", ids])
    assert missing.exit_code == 2 and "not found" in missing.output
    neither = runner.invoke(app, ["validate", str(run)])
    assert neither.exit_code == 2 and "--images" in neither.output


def test_truth_files_that_are_not_utf8_csv_are_one_line_errors_in_both_commands(tmp_path):
    from synthprint.io.submission import zip_bytes

    u16 = tmp_path / "t_u16.csv"
    u16.write_bytes(MEMBERSHIP_TRUTH.read_text().encode("utf-16"))
    zipped = tmp_path / "submission.zip"
    zipped.write_bytes(zip_bytes(MEMBERSHIP_TRUTH.read_text()))
    result = runner.invoke(app, ["evaluate", "--run", str(MEMBERSHIP_TRUTH), "--truth",
                                 str(u16)])
    assert result.exit_code == 2, result.output
    assert f"{u16}: is not UTF-8 text" in " ".join(result.output.split())
    assert "internal error" not in result.output
    d = demo_path("membership")
    for truth, says in ((u16, "is not UTF-8 text"), (zipped, "is a zip file, not a CSV; unzip")):
        result = runner.invoke(app, ["membership", "--train", str(d / "train"), "--test",
                                     str(d / "test"), "--out", str(tmp_path / "out"), "-q",
                                     "--truth", str(truth)])
        assert result.exit_code == 2, result.output
        assert f"{truth}: {says}" in " ".join(result.output.split())
        assert "internal error" not in result.output


def test_a_truth_with_a_byte_order_mark_is_read_by_evaluate(tmp_path):
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + MEMBERSHIP_TRUTH.read_bytes())
    ev = evaluate_run(MEMBERSHIP_TRUTH, bom, n_boot=0)
    assert ev.task == "binary" and ev.table.value("kappa") == 1.0


def test_a_stray_truth_label_against_a_membership_run_is_an_error_not_multiclass(tmp_path):
    rows = MEMBERSHIP_TRUTH.read_text().splitlines()
    truth = tmp_path / "t2.csv"
    truth.write_text("\n".join(rows[:2] + [rows[2].rsplit(",", 1)[0] + ",2"] + rows[3:]) + "\n")
    name = rows[2].split(",")[0]
    result = runner.invoke(app, ["evaluate", "--run", str(MEMBERSHIP_TRUTH), "--truth",
                                 str(truth), "--n-boot", "0"])
    assert result.exit_code == 2, result.output
    assert f"{truth}:3: {name} has label 2, but {MEMBERSHIP_TRUTH} is a membership run" in \
        " ".join(result.output.split())
    with pytest.raises(SynthprintError, match=r"t2\.csv:3: .* has label 2, but --task binary"):
        evaluate_run(MEMBERSHIP_TRUTH, truth, task="binary", n_boot=0)
    scores = tmp_path / "scores.csv"                   # scores only, membership names
    scores.write_text("".join(f"{r.split(',')[0]},0.5\n" for r in rows))
    with pytest.raises(SynthprintError, match=r"t2\.csv:3: .* is a membership run"):
        evaluate_run(scores, truth, n_boot=0)
    # asked for explicitly, multiclass still scores it
    assert evaluate_run(MEMBERSHIP_TRUTH, truth, task="multiclass", n_boot=0).task == \
        "multiclass"
    # genuine attribution is untouched, even by a run that says subset 1 everywhere
    ones = tmp_path / "ones.csv"
    ones.write_text("".join(f"{n},1\n" for n in read_labels_csv(ATTRIBUTION_TRUTH)))
    ev = evaluate_run(ones, ATTRIBUTION_TRUTH, n_boot=0)
    assert ev.task == "multiclass" and 0 < ev.table.value("accuracy") < 1


def test_evaluate_matches_a_2023_truth_to_a_2025_run_by_stem(tmp_path):
    stems = tmp_path / "truth2023.csv"                 # what membership --truth accepts too
    stems.write_text(MEMBERSHIP_TRUTH.read_text().replace(".png", ""))
    out = _json(["evaluate", "--run", str(MEMBERSHIP_TRUTH), "--truth", str(stems), "--json",
                 "--n-boot", "0"])
    assert out["matched_by"] == "stem" and out["n"] == 30 and _values(out)["kappa"] == 1.0
    ev = evaluate_run(MEMBERSHIP_TRUTH, stems, n_boot=0)
    assert ev.notes == ["truth ids have no extension (2023 truth): matched to run names by stem"]
    part = tmp_path / "part.csv"
    part.write_text("".join(MEMBERSHIP_TRUTH.read_text().splitlines(True)[:-1]))
    with pytest.raises(SynthprintError, match=r"part\.csv: lacks 1 of the 30 images"):
        evaluate_run(part, stems, n_boot=0)
