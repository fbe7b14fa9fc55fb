"""Run-file writers: formats per edition, natural order, zips, atomic and no clobbering, and
write-then-validate round trips."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthprint.errors import OutputExistsError, SynthprintError
from synthprint.io import demo_path
from synthprint.io.submission import (
    expected_images,
    format_run,
    read_run_bytes,
    write_run,
    write_submission,
    zip_bytes,
)
from synthprint.io.validator import validate_run, validate_text


def test_formats_of_each_edition():
    names = ["real_unknown_0010.png", "real_unknown_0002.png", "real_unknown_0001.png"]
    assert format_run(names, [1, 0, 1], edition=2023, task="membership") == \
        "real_unknown_0001,1\nreal_unknown_0002,0\nreal_unknown_0010,1"
    names25 = ["real_unknown_10.png", "real_unknown_2.png", "real_unknown_1.png"]
    assert format_run(names25, np.array([True, False, True]), edition=2025,
                      task="membership") == \
        "real_unknown_1.png,1\nreal_unknown_2.png,0\nreal_unknown_10.png,1"
    gen = ["gen_unknown_00002.png", "gen_unknown_00001.png"]
    assert format_run(gen, np.array([3, 5]), edition=2025, task="attribution") == \
        "gen_unknown_00001.png,5\ngen_unknown_00002.png,3"


def test_writer_refuses_bad_runs():
    with pytest.raises(SynthprintError, match="not allowed"):
        format_run(["a.png"], [2], edition=2025, task="membership")
    with pytest.raises(SynthprintError, match="not allowed"):
        format_run(["a.png"], [0], edition=2025, task="attribution")
    with pytest.raises(SynthprintError, match="threshold"):
        format_run(["a.png"], [0.7], edition=2025, task="membership")
    with pytest.raises(SynthprintError, match="twice"):
        format_run(["a.png", "a.jpg"], [0, 1], edition=2023, task="membership")
    with pytest.raises(SynthprintError, match="no label"):
        format_run(["a.png"], [0], edition=2025, task="membership",
                   expected=["a.png", "b.png"])
    with pytest.raises(SynthprintError, match="not test images"):
        format_run(["a.png", "c.png"], [0, 1], edition=2025, task="membership",
                   expected=["a.png"])
    with pytest.raises(SynthprintError, match="2023 edition had no attribution"):
        format_run(["a.png"], [1], edition=2023, task="attribution")
    with pytest.raises(SynthprintError, match="extension"):
        format_run(["a"], [1], edition=2025, task="membership")
    with pytest.raises(SynthprintError, match="one label per image"):
        format_run(["a.png", "b.png"], [1], edition=2025, task="membership")


def test_files_are_atomic_deterministic_and_not_clobbered(tmp_path):
    names = ["real_unknown_2.png", "real_unknown_1.png"]
    csv_path, zip_path = write_submission(tmp_path / "run.csv", names, [0, 1], edition=2025,
                                          task="membership")
    assert csv_path.read_bytes() == b"real_unknown_1.png,1\nreal_unknown_2.png,0"
    with zipfile.ZipFile(zip_path) as zf:
        assert zf.namelist() == ["run.csv"]
        assert zf.read("run.csv") == csv_path.read_bytes()
        assert zf.infolist()[0].date_time == (1980, 1, 1, 0, 0, 0)
    first = zip_path.read_bytes()
    with pytest.raises(OutputExistsError):
        write_submission(tmp_path / "run.csv", names, [1, 1], edition=2025, task="membership")
    assert csv_path.read_bytes() == b"real_unknown_1.png,1\nreal_unknown_2.png,0"
    write_submission(tmp_path / "run.csv", names, [0, 1], edition=2025, task="membership",
                     force=True)
    assert zip_path.read_bytes() == first  # same run, same bytes
    other = write_run(tmp_path / "other.zip", names, [0, 1], edition=2025, task="membership")
    assert other.read_bytes() == first
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left
    data, label = read_run_bytes(other)
    assert data == csv_path.read_bytes() and label.endswith("other.zip:run.csv")


_names = st.lists(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCXYZ0123456789_-", min_size=1, max_size=12),
    min_size=1, max_size=40, unique_by=str.lower)


@settings(max_examples=150, deadline=None)
@given(_names, st.sampled_from([(2023, "membership"), (2025, "membership"),
                                (2025, "attribution")]), st.data())
def test_write_then_validate_round_trip(stems, kind, data):
    edition, task = kind
    ext = data.draw(st.sampled_from([".png", ".PNG", ".jpg"]))
    names = [s + ext for s in stems]
    allowed = [0, 1] if task == "membership" else [1, 2, 3, 4, 5]
    labels = data.draw(st.lists(st.sampled_from(allowed), min_size=len(names),
                                max_size=len(names)))
    text = format_run(names, labels, edition=edition, task=task, expected=names)
    ids = [s if edition == 2023 else s + ext for s in stems]
    for blob in (text.encode(), zip_bytes(text)):
        if blob[:2] == b"PK":
            blob = zipfile.ZipFile(io.BytesIO(blob)).read("run.csv")
        report = validate_text(blob, ids, edition=edition, task=task)
        assert report.valid, report.lines()
        assert report.labels == dict(zip(ids, labels))
        assert report.n_rows == len(names)
    assert "\r" not in text and not text.endswith("\n")


def test_write_for_the_demo_test_folder_then_validate(tmp_path):
    for task, labels in (("membership", [0, 1]), ("attribution", [1, 2, 3, 4, 5])):
        found = expected_images(demo_path(task), task)
        rng = np.random.default_rng(0)
        values = rng.choice(labels, len(found.names))
        for edition in ((2023, 2025) if task == "membership" else (2025,)):
            path = tmp_path / f"{task}-{edition}.zip"
            write_run(path, found.names, values, edition=edition, task=task,
                      expected=found.names)
            report = validate_run(path, images=demo_path(task), edition=edition, task=task)
            assert report.valid, report.lines()
            assert len(report.labels) == len(found.names)


def test_run_and_truth_files_share_one_decoding(tmp_path):
    """Runs and truth files go through the same check (a UTF-16 export, a byte-order mark)."""
    from synthprint.evaluation.runs import read_predictions
    from synthprint.io.tables import read_labels_csv

    text = "real_unknown_1.png,1\nreal_unknown_2.png,0\n"
    u16 = tmp_path / "u16.csv"
    u16.write_bytes(text.encode("utf-16"))
    messages = []
    for read in (read_predictions, read_labels_csv):
        with pytest.raises(SynthprintError) as err:
            read(u16)
        messages.append(str(err.value))
    assert messages[0] == messages[1] == f"{u16}: is not UTF-8 text (UTF-16); save it as UTF-8"
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert read_predictions(bom).names == list(read_labels_csv(bom)) == \
        ["real_unknown_1.png", "real_unknown_2.png"]
