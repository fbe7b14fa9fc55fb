"""End to end: the demo run's report, opened in headless Chromium, renders its gallery, ROC
plot and tables (checked in the DOM after scripts ran, and on a screenshot)."""

from __future__ import annotations

import html
import json
import os
import re

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from synthprint.cli import app
from synthprint.io import demo_path
from synthprint.report.browser import find_chromium, rendered_dom, screenshot

if find_chromium() is None:
    if os.environ.get("CI"):
        raise RuntimeError("chromium is missing on CI: .ci/run must install it")
    pytest.skip("chromium not installed (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("browser") / "membership"
    d = demo_path("membership")
    result = CliRunner().invoke(app, ["membership", "--train", str(d / "train"), "--test",
                                      str(d / "test"), "--out", str(out), "--truth",
                                      str(d / "truth" / "real_unknown.csv"), "--report", "-q",
                                      "--n-boot", "200", "--repeats", "1"])
    assert result.exit_code == 0, result.output
    return out / "report.html"


def test_report_renders_in_chromium(demo_report):
    dom = rendered_dom(demo_report)
    match = re.search(r'data-rendered="([^"]*)"', dom)
    assert match, "the page's load handler did not run"
    state = json.loads(html.unescape(match.group(1)))
    assert state["images"] > 0 and state["images_loaded"] == state["images"]
    assert state["plots_loaded"] >= 2  # ROC and histogram
    assert state["gallery_rows"] >= 5
    assert state["table_rows"] == 30  # every test image in the per-image table
    assert state["metric_rows"] >= 10
    assert 'id="plot-roc"' in dom and "real_unknown_" in dom


def test_report_screenshot_is_not_blank(demo_report, tmp_path):
    png = screenshot(demo_report, tmp_path / "shot.png", width=1200, height=2000)
    img = np.asarray(Image.open(png).convert("L"), dtype=np.float64)
    assert img.shape == (2000, 1200)
    header, body = img[:60], img[200:]
    assert header.mean() < 100  # the dark title bar
    assert body.std() > 30  # plots, thumbnails and tables, not an empty page
