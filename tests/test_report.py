"""The HTML report: record round trip, rendering, missing files, the report command."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from synthprint.cli import app
from synthprint.errors import SynthprintError
from synthprint.io import demo_path
from synthprint.report import load_record, new_record, render_report, save_record, write_report

runner = CliRunner()


def _record(tmp_path, with_gallery=True):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 60)
    s = y + rng.normal(0, 1, 60)
    rec = new_record("membership", {"train": "t", "test": "u"}, {"method": "auto", "seed": 0})
    rec["metrics"] = [{"title": "train cross-validation",
                       "rows": [{"metric": "AUC", "value": 0.81, "low": 0.7, "high": 0.9},
                                {"metric": "kappa", "value": np.float64(0.4), "low": None,
                                 "high": None}]}]
    rec["curves"] = [{"title": "train CV", "y_true": y, "scores": s}]
    rec["verdict"] = "no detectable membership signal"
    if with_gallery:
        d = demo_path("membership") / "test"
        real = sorted((d / "real_unknown").glob("*.png"))[0]
        gen = sorted((d / "generated").glob("*.png"))[:2]
        rec["gallery"] = [{"name": real.name, "image": str(real), "score": 0.9,
                           "matches": [{"name": g.name, "image": str(g), "similarity": 0.5}
                                       for g in gen] + [{"name": "gone.png",
                                                         "image": str(tmp_path / "gone.png"),
                                                         "similarity": 0.1}]}]
    rec["table"] = {"file": "scores.csv", "sort": "score"}
    (tmp_path / "scores.csv").write_text(
        "name,score,label\n" + "".join(f"r_{i}.png,{s[i]:.4f},{int(s[i] > 0.5)}\n"
                                       for i in range(60)))
    return rec


def test_record_round_trip_and_no_overwrite(tmp_path):
    rec = _record(tmp_path)
    save_record(tmp_path, rec)
    loaded = load_record(tmp_path)
    assert loaded["metrics"][0]["rows"][1]["value"] == 0.4
    assert loaded["curves"][0]["y_true"] == [int(v) for v in rec["curves"][0]["y_true"]]
    with pytest.raises(SynthprintError, match="--force"):
        save_record(tmp_path, rec)


def test_load_record_errors(tmp_path):
    with pytest.raises(SynthprintError, match="record.json: not found"):
        load_record(tmp_path)
    (tmp_path / "record.json").write_text("{not json")
    with pytest.raises(SynthprintError, match="not valid JSON"):
        load_record(tmp_path)
    for text in ("{}", "[1, 2]", '{"kind": "other"}'):
        (tmp_path / "record.json").write_text(text)
        with pytest.raises(SynthprintError, match="not a synthprint run record.*rerun"):
            load_record(tmp_path)
    (tmp_path / "record.json").write_text('{"kind": "audit"}')
    with pytest.raises(SynthprintError, match="an audit run record without command, inputs"):
        load_record(tmp_path)
    (tmp_path / "record.json").write_bytes(b"\xff\xfe{")
    with pytest.raises(SynthprintError, match="not valid JSON"):
        load_record(tmp_path)


def test_render_has_every_section(tmp_path):
    html = render_report(_record(tmp_path), tmp_path)
    for anchor in ('id="verdict"', 'id="metrics"', 'id="plot-roc"', 'id="plot-histogram"',
                   'id="gallery"', 'id="per-image-table"', "no detectable membership signal"):
        assert anchor in html
    assert html.count("data:image/png;base64,") >= 5  # 2 plots + 3 thumbnails
    assert "file moved" in html  # the missing match is shown as missing, not as an error
    assert "http://" not in html and "https://" not in html  # self-contained
    table = json.loads(html.split('type="application/json">')[1].split("</script>")[0])
    assert table["total"] == 60 and len(table["rows"]) == 60


def test_names_and_notes_are_text_not_markup(tmp_path):
    rec = _record(tmp_path)
    rec["gallery"][0]["name"] = "<img src=x onerror=alert(1)>.png"
    rec["notes"] = ["a & b <script>alert(2)</script>"]
    rec["inputs"]["train"] = "data/<b>train</b>"
    (tmp_path / "scores.csv").write_text("name,score,label\n</script><b>x.png,0.5,1\n")
    html = render_report(rec, tmp_path)
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;.png" in html
    assert "<script>alert(2)" not in html and "a &amp; b &lt;script&gt;" in html
    assert "<b>train</b>" not in html
    table = json.loads(html.split('type="application/json">')[1].split("</script>")[0])
    assert table["rows"][0][0] == "</script><b>x.png"


def test_report_command_rebuilds(tmp_path):
    save_record(tmp_path, _record(tmp_path, with_gallery=False))
    result = runner.invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 0, result.output
    first = (tmp_path / "report.html").read_text()
    assert "synthprint membership report" in first
    again = runner.invoke(app, ["report", str(tmp_path)])
    assert again.exit_code == 2 and "--force" in again.output
    assert runner.invoke(app, ["report", str(tmp_path), "--force"]).exit_code == 0
    assert (tmp_path / "report.html").read_text() == first  # deterministic


def test_attribution_sections(tmp_path):
    rec = new_record("attribution", {"train": "t"}, {"method": "x"})
    rec["confusion"] = {"labels": [1, 2], "matrix": [[3, 1], [0, 4]], "title": "train CV"}
    d = demo_path("attribution") / "test" / "generated_unknown"
    img = sorted(d.glob("*.png"))[0]
    rec["uncertain"] = [{"name": img.name, "image": str(img), "label": 2, "confidence": 0.41}]
    write_report(tmp_path, record=rec)
    html = (tmp_path / "report.html").read_text()
    assert 'id="plot-confusion"' in html and 'id="uncertain"' in html
