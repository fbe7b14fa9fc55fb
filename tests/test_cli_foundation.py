"""The command line: --version, --help, info, demo, and the one-line error boundary."""

from __future__ import annotations

from typer.testing import CliRunner

from synthprint import __version__
from synthprint.cli import app
from synthprint.io import demo_path
from tests.conftest import ct_like, write_png

runner = CliRunner()


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


def test_the_command_line_starts_without_the_heavy_libraries():
    """--help, info and validate should not wait for scikit-learn, matplotlib or torch: the
    commands import them when they run."""
    import subprocess
    import sys

    code = ("import sys, synthprint.cli; print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'sklearn', 'matplotlib', 'torch', 'scipy', 'skimage', 'pandas', 'jinja2'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_the_default_methods_exist():
    from synthprint import attribution, membership

    assert membership.DEFAULT_METHOD in membership.METHODS
    assert attribution.DEFAULT_METHOD in attribution.METHODS
    assert "(default)" in runner.invoke(app, ["membership", "--method", "list"]).output


def test_help_lists_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for name in ("info", "demo"):
        assert name in result.output


def test_the_help_shows_each_paragraph_whole():
    """A docstring's hard line breaks must not reach the command list or a command's help,
    where they split a sentence over lines of different lengths."""
    from synthprint.cli._app import short_help

    assert short_help("Run every step,\n    with reports.\n\n    Details.") == \
        "Run every step, with reports."
    commands = {c.name: c for c in app.registered_commands}
    assert "\n" not in commands["attribute"].short_help
    assert commands["attribute"].short_help.endswith("after cross-validating the method on "
                                                     "train.")
    paragraphs = commands["membership"].help.split("\n\n")
    assert len(paragraphs) == 2 and not any("\n" in p for p in paragraphs)
    assert paragraphs[1].startswith("Cross-validates METHOD") and "  " not in paragraphs[1]


def test_info_on_demo_benchmark():
    result = runner.invoke(app, ["info", str(demo_path("membership")), "-q"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "membership-train" in out and "membership-test" in out
    assert "real_used" in out and "10" in out
    assert "truth: 30 labels" in out


def test_info_on_split(attribution_train):
    result = runner.invoke(app, ["info", str(attribution_train), "-q"])
    assert result.exit_code == 0, result.output
    assert "attribution-train" in result.output and "generated/t3" in result.output


def test_info_reports_problems_and_exits_1(membership_train):
    write_png(membership_train / "generated" / "small.png", ct_like(0, size=64))
    (membership_train / "generated" / "Thumbs.db").write_bytes(b"x")
    result = runner.invoke(app, ["info", str(membership_train), "-q"])
    assert result.exit_code == 1
    assert "small.png" in result.output and "64x64" in result.output
    assert "1 non-image files skipped" in result.output


def test_info_finds_a_truncated_image_that_loading_would_refuse(membership_train):
    first = sorted((membership_train / "real_used").glob("*.png"))[0]
    data = first.read_bytes()
    first.write_bytes(data[: len(data) // 2])     # the header is intact
    result = runner.invoke(app, ["info", str(membership_train), "-q"])
    assert result.exit_code == 1 and first.name in result.output
    assert "truncated" in result.output


def test_error_is_one_line_without_traceback(tmp_path):
    result = runner.invoke(app, ["info", str(tmp_path / "missing")])
    assert result.exit_code == 2
    assert "folder not found" in result.output
    assert "Traceback" not in result.output


def test_debug_shows_traceback(tmp_path):
    result = runner.invoke(app, ["--debug", "info", str(tmp_path / "missing")])
    assert result.exit_code == 2
    assert "Traceback" in result.output


def test_demo_runs_the_pipeline_and_refuses_to_overwrite(tmp_path):
    out = tmp_path / "demo"
    result = runner.invoke(app, ["demo", "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert "demo finished" in result.output
    for step in ("membership", "audit"):
        assert (out / step / "report.html").is_file()
    assert "valid 2025 membership run" in result.output
    again = runner.invoke(app, ["demo", "--out", str(out), "-q"])
    assert again.exit_code == 2 and "membership: exists already" in again.output
    assert "--force" in again.output


def test_a_swapped_split_is_named_before_any_image_is_decoded(tmp_path):
    test = tmp_path / "test"
    for i in range(3):
        write_png(test / "generated" / f"g_{i}.png", ct_like(i))
    (test / "real_unknown").mkdir()
    (test / "real_unknown" / "real_unknown_1.png").write_bytes(b"not a png")  # corrupt
    result = runner.invoke(app, ["membership", "--train", str(test), "--test", str(test),
                                 "--out", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "membership-test split" in text and "--train must hold" in text
    assert "(are --train and --test swapped?)" in text
    assert "real_unknown_1.png" not in text  # the layout check came first


def test_truth_without_a_label_for_every_test_image_fails_before_the_work(tmp_path):
    d = demo_path("membership")
    truth = tmp_path / "truth.csv"
    truth.write_text("real_unknown_0001.png,1\n")
    result = runner.invoke(app, ["membership", "--train", str(d / "train"), "--test",
                                 str(d / "test"), "--out", str(tmp_path / "out"), "-q",
                                 "--truth", str(truth)])
    assert result.exit_code == 2
    assert "no label for 29 test images" in " ".join(result.output.split())
    assert not (tmp_path / "out").exists()


def test_loading_says_how_images_were_converted(tmp_path, capsys):
    import numpy as np

    from synthprint.cli._common import load_split_for

    split = tmp_path / "test"
    for i in range(2):
        write_png(split / "generated" / f"g_{i}.png", ct_like(i))
        write_png(split / "real_unknown" / f"r_{i}.png",
                  np.dstack([ct_like(10 + i)] * 3), mode="RGB")
    data = load_split_for(split, "membership-test", resize=False, quiet=False)
    assert len(data.names) == 4
    assert "converted on loading: 2 colour" in " ".join(capsys.readouterr().out.split())
    # --quiet silences progress bars, not the conversions that change pixel values
    load_split_for(split, "membership-test", resize=False, quiet=True)
    assert "converted on loading: 2 colour" in " ".join(capsys.readouterr().out.split())
    write_png(split / "real_unknown" / "r_10bit.png", ct_like(20).astype(np.uint16) * 4)
    load_split_for(split, "membership-test", resize=False, quiet=True)
    said = " ".join(capsys.readouterr().out.split())
    assert "1 16-bit-low-range" in said and "use at most 12 bits" in said
    top = round(int(ct_like(20).max()) * 4 * 255 / 65535)    # what 10-bit values keep
    assert top < 16 and f"gray levels 0..{top} only" in said


def test_names_are_printed_as_they_are(tmp_path, membership_train):
    """Rich would read '[red]' as markup and ':100:' as an emoji code."""
    odd = tmp_path / "[red]scan:100:"
    result = runner.invoke(app, ["info", str(odd)])
    assert result.exit_code == 2 and str(odd) in result.output.replace("\n", "")
    shown = membership_train.rename(tmp_path / "[red]train")
    result = runner.invoke(app, ["info", str(shown), "-q"])
    assert result.exit_code == 0 and f"folder: {shown}" in result.output


def test_an_empty_folder_is_called_empty(tmp_path):
    (tmp_path / "empty").mkdir()
    result = runner.invoke(app, ["info", str(tmp_path / "empty")])
    assert result.exit_code == 2 and "empty: is empty" in result.output


def test_an_unwritable_out_is_refused_before_any_work(tmp_path, monkeypatch):
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    d = demo_path("membership")
    result = runner.invoke(app, ["membership", "--train", str(d / "train"), "--test",
                                 str(d / "test"), "--out", str(tmp_path / "o"), "-q"])
    assert result.exit_code == 2
    assert f"cannot write in {tmp_path} (Permission denied)" in " ".join(result.output.split())
    assert "train cross-validation" not in result.output   # refused before the work


def test_a_failed_write_is_an_error_that_names_the_file_not_a_bug(tmp_path, monkeypatch):
    import errno

    import synthprint.io.writers as writers

    def full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device", str(dst))

    monkeypatch.setattr(writers.os, "replace", full)
    d = demo_path("membership")
    result = runner.invoke(app, ["membership", "--train", str(d / "train"), "--test",
                                 str(d / "test"), "--out", str(tmp_path / "o"), "-q",
                                 "--method", "nearest-neighbour", "--n-boot", "200"])
    said = " ".join(result.output.split())
    assert result.exit_code == 2 and "internal error" not in said
    assert f"{tmp_path / 'o' / 'run.csv'}: No space left on device" in said
    assert not list((tmp_path / "o").iterdir())   # the temporary files are gone
