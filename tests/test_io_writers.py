from __future__ import annotations

import sys

import pytest

from synthprint.errors import OutputExistsError, SynthprintError
from synthprint.io import atomic_write_text, prepare_output_dir


def test_atomic_write_refuses_to_overwrite(tmp_path):
    path = atomic_write_text(tmp_path / "a" / "x.csv", "one\n")
    with pytest.raises(OutputExistsError, match="--force"):
        atomic_write_text(path, "two\n")
    assert path.read_text() == "one\n"
    atomic_write_text(path, "two\n", force=True)
    assert path.read_text() == "two\n"
    assert [p.name for p in path.parent.iterdir()] == ["x.csv"]  # no temp file left


def test_prepare_output_dir_checks_every_name_first(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "run.csv").write_text("keep")
    with pytest.raises(OutputExistsError):
        prepare_output_dir(tmp_path / "out", ["scores.csv", "run.csv"])
    assert not (tmp_path / "out" / "scores.csv").exists()
    (tmp_path / "file").write_text("")
    with pytest.raises(SynthprintError, match="is a file"):
        prepare_output_dir(tmp_path / "file", ["a"])


def test_prepare_output_dir_creates_nothing(tmp_path):
    out = prepare_output_dir(tmp_path / "new" / "out", ["run.csv"])
    assert out == tmp_path / "new" / "out" and not (tmp_path / "new").exists()
    (tmp_path / "f").write_text("")
    with pytest.raises(SynthprintError, match="is a file"):
        prepare_output_dir(tmp_path / "f" / "out", ["a"])


def test_a_run_that_fails_on_its_inputs_leaves_no_output_folder(tmp_path):
    from typer.testing import CliRunner

    from synthprint.cli import app

    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["membership", "--train", str(tmp_path / "missing"),
                                      "--test", str(tmp_path / "missing"), "--out", str(out)])
    assert result.exit_code == 2 and "missing" in result.output
    assert not out.exists()


def test_staged_outputs_replace_as_a_set_and_clear_a_killed_runs_leftovers(tmp_path):
    from synthprint.io import staged_outputs

    out = tmp_path / "out"
    (out / ".run.0123456789ab.tmp").mkdir(parents=True)        # a killed run's
    (out / ".run.v2.0123456789ab.tmp").mkdir()                  # not ours: kept
    (out / "old.html").write_text("earlier")
    (out / "a.csv").write_text("earlier")
    with staged_outputs(out, stale=["old.html"]) as staged:
        (staged.path / "a.csv").write_text("new")
        (staged.path / "folder").mkdir()
        (staged.path / "folder" / "x.png").write_bytes(b"x")
        assert (out / "a.csv").read_text() == "earlier"         # nothing replaced yet
    assert staged.removed == ["old.html"]
    assert sorted(p.name for p in out.iterdir()) == [".run.v2.0123456789ab.tmp", "a.csv",
                                                      "folder"]
    assert (out / "a.csv").read_text() == "new" and (out / "folder" / "x.png").exists()
    with pytest.raises(RuntimeError):
        with staged_outputs(out) as staged:
            (staged.path / "a.csv").write_text("newer")
            raise RuntimeError("the run failed")
    assert (out / "a.csv").read_text() == "new"
    assert sorted(p.name for p in out.iterdir()) == [".run.v2.0123456789ab.tmp", "a.csv",
                                                      "folder"]


def _earlier_run(tmp_path, monkeypatch, fails):
    """``tmp_path/out`` holding an earlier run's a.csv and b.csv, with ``Path.rename`` failing
    (no space left) for the moves ``fails(source, target)`` picks; returns the folder and
    the real ``rename``."""
    from pathlib import Path

    out = tmp_path / "out"
    out.mkdir()
    for name in ("a.csv", "b.csv"):
        (out / name).write_text("earlier")
    rename = Path.rename

    def failing(self, target):
        if Path(target).parent == out and fails(Path(self), Path(target)):
            raise OSError(28, "No space left on device", str(self))
        return rename(self, target)

    monkeypatch.setattr(Path, "rename", failing)
    return out, rename


def test_a_failure_while_moving_into_place_puts_the_earlier_run_back(tmp_path, monkeypatch):
    from synthprint.io import staged_outputs

    out, _ = _earlier_run(tmp_path, monkeypatch, lambda source, target: target.name == "c.csv")
    with pytest.raises(OSError, match="No space left") as caught:
        with staged_outputs(out) as staged:
            for name in ("a.csv", "b.csv", "c.csv"):
                (staged.path / name).write_text("new")
    assert caught.value.filename == str(out / "c.csv")       # not the hidden copy
    assert sorted(p.name for p in out.iterdir()) == ["a.csv", "b.csv"]
    assert {p.read_text() for p in out.iterdir()} == {"earlier"}


def test_staged_outputs_keep_an_inputs_error_and_out_may_not_be_a_dangling_link(tmp_path):
    from synthprint.errors import SynthprintError
    from synthprint.io import prepare_output_dir, staged_outputs

    missing = str(tmp_path / "inputs" / "gone.png")
    with pytest.raises(FileNotFoundError) as caught:
        with staged_outputs(tmp_path / "out"):
            raise FileNotFoundError(2, "No such file or directory", missing)
    assert caught.value.filename == missing
    (tmp_path / "link").symlink_to(tmp_path / "nowhere")
    with pytest.raises(SynthprintError, match="link to a folder that does not exist"):
        prepare_output_dir(tmp_path / "link", ["run.csv"])


def test_when_putting_the_earlier_run_back_fails_its_files_are_kept_and_named(tmp_path,
                                                                            monkeypatch):
    from pathlib import Path

    from synthprint.errors import SynthprintError
    from synthprint.io import prepare_output_dir, staged_outputs

    out, rename = _earlier_run(   # b.csv cannot move in, and no old file can move back
        tmp_path, monkeypatch,
        lambda source, target: target.name == "b.csv" or ".run-old." in str(source))
    with pytest.raises(SynthprintError, match="putting the earlier run's back failed") as e:
        with staged_outputs(out) as staged:
            for name in ("a.csv", "b.csv"):
                (staged.path / name).write_text("new")
    monkeypatch.setattr(Path, "rename", rename)
    aside = [p for p in out.iterdir() if p.name.startswith(".run-old.")]
    assert len(aside) == 1 and str(aside[0]) in str(e.value)
    assert {p.name: p.read_text() for p in aside[0].iterdir()} == {"a.csv": "earlier",
                                                                    "b.csv": "earlier"}
    with pytest.raises(SynthprintError, match="move them back"):   # the next run says so
        prepare_output_dir(out, ["a.csv"], force=True)


def _hold_lock(folder):
    """Another run's lock on ``folder`` (see io.writers._writing_lock); close the fd to
    release it."""
    import fcntl
    import os

    fd = os.open(folder, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


@pytest.mark.skipif(sys.platform == "win32", reason="no flock on Windows")
def test_runs_writing_into_one_folder_take_turns(tmp_path):
    import os

    from synthprint.io import staged_outputs

    out = tmp_path / "out"
    (out / ".run-old.0123456789ab.tmp").mkdir(parents=True)    # the other run, mid-commit
    (out / ".run-old.0123456789ab.tmp" / "a.csv").write_text("its earlier file")
    other = _hold_lock(out)
    prepare_output_dir(out, ["a.csv"])          # not taken for a killed run's leftovers
    waited = []

    def other_run_finishes():
        waited.append(True)
        (out / ".run-old.0123456789ab.tmp" / "a.csv").unlink()
        os.close(other)

    with staged_outputs(out, on_wait=other_run_finishes) as staged:
        (staged.path / "a.csv").write_text("new")
    assert waited == [True] and (out / "a.csv").read_text() == "new"
    assert sorted(p.name for p in out.iterdir()) == ["a.csv"]
    (out / ".run-old.0123456789ab.tmp").mkdir()
    (out / ".run-old.0123456789ab.tmp" / "b.csv").write_text("a killed run's")
    with pytest.raises(SynthprintError, match="stopped while replacing"):   # nobody writing
        prepare_output_dir(out, ["b.csv"])


def test_a_link_to_nothing_with_an_outputs_name_is_refused_before_any_work(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "run.csv").symlink_to(tmp_path / "nowhere")
    with pytest.raises(OutputExistsError, match="--force"):
        prepare_output_dir(out, ["run.csv"])


def test_an_output_another_run_wrote_meanwhile_is_not_replaced_without_force(tmp_path):
    from synthprint.io import staged_outputs

    out = prepare_output_dir(tmp_path / "out", ["a.csv", "b.csv"])   # both free
    with pytest.raises(OutputExistsError, match="written by another run"):
        with staged_outputs(out, force=False) as staged:
            (out / "b.csv").write_text("the other run's")
            for name in ("a.csv", "b.csv"):
                (staged.path / name).write_text("new")
    assert sorted(p.name for p in out.iterdir()) == ["b.csv"]
    assert (out / "b.csv").read_text() == "the other run's"
    with staged_outputs(out, force=True) as staged:
        (staged.path / "b.csv").write_text("new")
    assert (out / "b.csv").read_text() == "new"


@pytest.mark.skipif(sys.platform == "win32", reason="no flock on Windows")
def test_a_filesystem_without_locks_writes_unlocked(tmp_path, monkeypatch):
    import errno

    from synthprint.io import staged_outputs, writers

    def no_locks(fd, op):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(writers.fcntl, "flock", no_locks)
    out = prepare_output_dir(tmp_path / "out", ["a.csv"])
    with staged_outputs(out) as staged:
        (staged.path / "a.csv").write_text("new")
    assert (out / "a.csv").read_text() == "new"
