"""The run validator: the ten official 2023 cases, the behaviours EXPECTED.md lists, and a
property test against the official rules as EXPECTED.md states them."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthprint.errors import SynthprintError
from synthprint.io.submission import zip_bytes
from synthprint.io.validator import resolve_expected, validate_run, validate_text

CASES = Path(__file__).parent / "fixtures" / "imageclef2023-task1-validator-cases"
IDS = [line.rstrip() for line in (CASES / "image_ids.txt").read_text().splitlines()]
OK = (CASES / "00_1_OK.csv").read_bytes()


def _expected_table() -> list[tuple[str, str, int | None]]:
    rows = []
    for line in (CASES / "EXPECTED.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].endswith(".csv"):
            num = re.match(r"\d+", cells[2])
            rows.append((cells[0], cells[1], int(num.group()) if num else None))
    return rows


EXPECTED = _expected_table()
CODES = {"wrong format": "tokens", "not in test set": "id", "more than once": "duplicate",
         "wrong score": "label", "number of ids": "count"}


def test_expected_md_lists_the_ten_cases():
    assert len(EXPECTED) == 10
    assert {f for f, _, _ in EXPECTED} == {p.name for p in CASES.glob("*.csv")}
    assert len(IDS) == 200


@pytest.mark.parametrize("name,outcome,line", EXPECTED)
def test_official_cases_same_verdict_and_line(name, outcome, line):
    report = validate_run(CASES / name, ids=CASES / "image_ids.txt")
    assert report.edition == 2023 and report.task == "membership"
    if outcome.startswith("valid"):
        assert report.valid, report.lines()
        assert line is None
        return
    assert not report.valid
    assert len(report.errors) == 1  # stops at the first, like the official tool
    err = report.first_error
    assert err.line == line, report.lines()
    code = next(c for k, c in CODES.items() if k in outcome)
    assert err.code == code
    quoted = re.findall(r"'([^']*)'", outcome)
    for q in quoted:  # the offending id or score is named
        assert q in err.message
    assert ";" in err.message  # what is wrong; how to fix it
    # --all finds the same first problem
    assert validate_run(CASES / name, ids=CASES / "image_ids.txt",
                        all_problems=True).first_error.line == line


def _check(data: bytes, **kw):
    return validate_text(data, IDS, edition=2023, task="membership", **kw)


def test_observed_behaviours_of_the_official_validator():
    assert _check(OK + b"\n").valid  # trailing newline
    assert _check(OK.replace(b"\n", b"\r\n")).valid  # CRLF
    lines = OK.split(b"\n")
    assert _check(b"\n".join(reversed(lines))).valid  # any line order
    blank = _check(OK + b"\n\n")
    assert blank.first_error.line == 201 and "blank" in blank.first_error.message
    header = _check(b"id,label\n" + OK)
    assert header.first_error.line == 1 and "header" in header.first_error.message
    one = _check(OK.replace(b"real_unknown_0003,1", b"real_unknown_0003,1.0"))
    assert one.first_error.line == 3 and "1 instead of 1.0" in one.first_error.message
    png = _check(OK.replace(b"real_unknown_0005,", b"real_unknown_0005.png,"))
    assert png.first_error.line == 5 and "no file extension" in png.first_error.message
    quoted = _check(OK.replace(b"real_unknown_0007,", b'"real_unknown_0007",'))
    assert quoted.first_error.line == 7 and "quotes" in quoted.first_error.message
    bom = _check(b"\xef\xbb\xbf" + OK)
    assert bom.first_error.line == 1 and "byte-order mark" in bom.first_error.message
    crlf = _check(OK.replace(b"\n", b"\r\n"))
    assert any(n.code == "crlf" for n in crlf.notes)
    empty = _check(b"")
    assert not empty.valid and empty.first_error.code == "count" and empty.first_error.line == 0
    latin = _check(OK.replace(b"real_unknown_0009,", b"r\xe9al_unknown_0009,"))
    assert latin.first_error.line == 9 and "UTF-8" in latin.first_error.message


def test_all_problems_and_folding():
    bad = OK.replace(b"real_unknown_0003,1", b"real_unknown_0003,2")
    bad = bad.replace(b"real_unknown_0010,", b"real_unknown_0010.png,") + b"\n\n"
    first = _check(bad)
    every = _check(bad, all_problems=True)
    assert [e.line for e in first.errors] == [3]
    assert [e.line for e in every.errors] == [3, 10, 201, 201]
    assert every.errors[-1].code == "count" and "real_unknown_0010" in every.errors[-1].message
    many = _check(OK.replace(b",", b".png,"), all_problems=True)
    assert len(many.errors) == 201
    folded = many.lines(fold=3)
    assert len(folded) == 5 and "197 more line(s)" in folded[3]


# The official rules as EXPECTED.md states them, to check the validator's verdicts against.
def official_rules(data: bytes, ids: list[str]) -> int | None:
    """None when valid, else the 1-based row of the first violation."""
    reader = csv.reader(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline=None),
                        delimiter=",", quoting=csv.QUOTE_NONE)
    seen: set[str] = set()
    n = 0
    for row in reader:
        n += 1
        if len(row) != 2 or row[0].strip() not in ids or row[0].strip() in seen:
            return n
        try:
            if int(row[1].strip()) not in (0, 1):
                return n
        except ValueError:
            return n
        seen.add(row[0].strip())
    return None if len(seen) == len(ids) else n


SMALL_IDS = [f"real_unknown_{i:04d}" for i in range(1, 13)]
TOKENS = ["0", "1", "2", "-1", "1.0", "a", " 1 ", "+1", "01", "", "0.5"]


@st.composite
def mutated_run(draw):
    lines = [f"{i},{draw(st.integers(0, 1))}" for i in SMALL_IDS]
    lines = draw(st.permutations(lines))
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.sampled_from(["delete", "dup", "blank", "header", "label", "png", "quote",
                                   "pad", "extra", "semicolon"]))
        k = draw(st.integers(0, len(lines) - 1)) if lines else 0
        if op == "delete" and lines:
            lines.pop(k)
        elif op == "dup" and lines:
            lines.insert(k, lines[draw(st.integers(0, len(lines) - 1))])
        elif op == "blank":
            lines.insert(k, "")
        elif op == "header":
            lines.insert(0, "id,label")
        elif lines:
            i, _, v = lines[k].partition(",")
            lines[k] = {"label": f"{i},{draw(st.sampled_from(TOKENS))}",
                        "png": f"{i}.png,{v}", "quote": f'"{i}",{v}',
                        "pad": f"  {i} ,  {v} ", "extra": f"{i},{v},0.3",
                        "semicolon": f"{i};{v}"}[op]
    end = draw(st.sampled_from(["", "\n", "\n\n"]))
    sep = draw(st.sampled_from(["\n", "\r\n"]))
    return (sep.join(lines) + end.replace("\n", sep)).encode()


@settings(max_examples=300, deadline=None)
@given(mutated_run(), st.booleans())
def test_verdict_and_line_match_the_official_rules(data, all_problems):
    want = official_rules(data, SMALL_IDS)
    report = validate_text(data, SMALL_IDS, edition=2023, task="membership",
                           all_problems=all_problems)
    assert report.valid == (want is None)
    if want is not None:
        assert report.first_error.line == want


def test_resolve_expected_from_folders_and_ids(tmp_path):
    from synthprint.io import demo_path

    ids, edition, task = resolve_expected(images=demo_path("membership"))
    assert (edition, task, len(ids)) == (2025, "membership", 30) and ids[0].endswith(".png")
    ids, edition, task = resolve_expected(images=demo_path("membership") / "test",
                                          edition=2023)
    assert ids[0] == "real_unknown_0001"
    ids, edition, task = resolve_expected(images=demo_path("attribution"))
    assert (edition, task, len(ids)) == (2025, "attribution", 50)
    ids, edition, task = resolve_expected(   # the images alone: subtask 2 is 2025's
        images=demo_path("attribution") / "test" / "generated_unknown")
    assert (edition, task, len(ids)) == (2025, "attribution", 50)
    with pytest.raises(SynthprintError, match="exactly one"):
        resolve_expected()
    with pytest.raises(SynthprintError, match="train"):
        resolve_expected(images=demo_path("membership") / "train")
    with pytest.raises(SynthprintError, match="attribution"):
        resolve_expected(images=demo_path("membership"), task="attribution")
    f = tmp_path / "ids.txt"
    f.write_text("real_unknown_1\nreal_unknown_2\n")
    with pytest.raises(SynthprintError, match="without file extension"):
        resolve_expected(ids=f, edition=2025)
    f.write_text("Image ID\nreal_unknown_1\nreal_unknown_2\n")
    with pytest.raises(SynthprintError, match="first line 'Image ID' is a header"):
        resolve_expected(ids=f)


def test_zip_runs(tmp_path):
    z = tmp_path / "run.zip"
    z.write_bytes(zip_bytes(OK.decode()))
    assert validate_run(z, ids=CASES / "image_ids.txt").valid
    import zipfile

    nested = tmp_path / "nested.zip"
    with zipfile.ZipFile(nested, "w") as zf:
        zf.writestr("myrun/run.csv", OK)
    with pytest.raises(SynthprintError, match="myrun/run.csv"):
        validate_run(nested, ids=CASES / "image_ids.txt")
    broken = tmp_path / "broken.zip"
    broken.write_bytes(zip_bytes("x")[:30])
    with pytest.raises(SynthprintError, match="broken.zip: is not a readable zip"):
        validate_run(broken, ids=CASES / "image_ids.txt")
    with pytest.raises(SynthprintError, match="is a folder; give the run file itself: .*run.csv"):
        (tmp_path / "out").mkdir()
        (tmp_path / "out" / "run.csv").write_bytes(OK)
        validate_run(tmp_path / "out", ids=CASES / "image_ids.txt")


def test_a_header_row_stops_validation_in_first_error_mode():
    from synthprint.io.validator import validate_text

    expected = ["a.png", "b.png"]
    first = validate_text(b"name,label\na.png,1\nb.png,7\n", expected, edition=2025,
                          task="membership")
    assert [p.line for p in first.errors] == [1] and "header" in first.errors[0].message
    every = validate_text(b"name,label\na.png,1\nb.png,7\n", expected, edition=2025,
                          task="membership", all_problems=True)
    assert [p.line for p in every.errors] == [1, 3]


def test_every_bad_id_gets_its_hint():
    from synthprint.io.validator import validate_text

    expected = [f"real_unknown_{i}.png" for i in range(2000)]
    data = "".join(f"real_unknown_{i},1\n" for i in range(2000)).encode()
    report = validate_text(data, expected, edition=2025, task="membership", all_problems=True)
    assert len(report.errors) >= 2000
    assert "write real_unknown_7.png" in report.errors[7].message


def test_a_scores_file_or_a_2023_run_is_named_as_such():
    from synthprint.io.validator import validate_text

    expected = ["a.png", "b.png"]
    scores = validate_text(b"name,score,label\na.png,0.3,1\nb.png,0.9,1\n", expected,
                           edition=2025, task="membership")
    assert "this is a scores file" in scores.errors[0].message
    stems = validate_text(b"a,1\nb,0\n", expected, edition=2025, task="membership")
    assert "pass --edition 2023" in stems.errors[0].message
    one = validate_text(b"a.png,1\n", expected, edition=2025, task="membership")
    assert "1 has no line (first: b.png)" in one.errors[0].message
    with pytest.raises(SynthprintError, match="task must be membership or attribution, got 'foo'"):
        validate_run(CASES / "image_ids.txt", ids=CASES / "image_ids.txt", task="foo")
