"""Check a run file (or its zip) before uploading it, as the organisers' validator would.

For 2023 subtask 1 this reproduces the official ImageCLEFmed GANs 2023 task-1 validator: the
file is read as text with universal newlines by a csv reader (comma, no quoting) and each row is
checked in this order, stopping at the first violation, reported with its 1-based row number:

1. exactly 2 tokens (a blank line is a row of 0 tokens);
2. the id (first token, surrounding whitespace stripped) is a test id;
3. the id was not given on an earlier row;
4. the label (second token, stripped) parses with Python's ``int`` and is 0 or 1.

After the last row, the number of ids must equal the number of test ids (reported at the last
row read). So a final newline and CRLF line ends pass; an empty last line, a header row, ``1.0``,
``.png`` on ids and quoted ids fail. The 2025 runs are checked by the same rules with names as on
disk (``real_unknown_1.png``) and labels 0/1 (membership) or 1..5 (attribution).

Beyond the official tool: zips are read (``run.csv`` at their root), every problem can be listed
(``all_problems``), and messages say how to fix the likely slips (a header row, ``.png`` on 2023
ids, ``1.0`` labels, probabilities instead of labels, quotes, ``;`` separators, a byte-order
mark); Windows line ends and a byte-order mark are pointed out as notes.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from synthprint.errors import SynthprintError
from synthprint.io.submission import (
    TASK_LABELS,
    check_kind,
    check_task,
    expected_images,
    read_ids_file,
    read_run_bytes,
    run_id,
)

_SPECIFIC = re.compile(r"[^\s;:,']*\d[^\s;:,']*")  # ids and numbers, for grouping messages
_HEADER_WORDS = {"id", "ids", "image", "image_id", "imageid", "name", "names", "file",
                 "filename", "file_name", "figure_id", "img", "image_name"}


@dataclass(frozen=True)
class Problem:
    """One finding: 1-based row ``line`` (0: the file as a whole), ``message`` (what is wrong
    and how to fix it), ``severity`` ``"error"`` (the run would be rejected) or ``"note"``."""

    line: int
    message: str
    severity: str = "error"
    code: str = ""  # tokens, id, duplicate, label, count, encoding, csv, bom, crlf

    def format(self, source: str) -> str:
        where = f"{source}:{self.line}" if self.line else source
        tag = "" if self.severity == "error" else "note: "
        return f"{where}: {tag}{self.message}"


@dataclass
class ValidationReport:
    """The verdict on one run. ``valid`` when there is no error; ``errors`` holds the first
    violation only unless all problems were asked for; ``labels`` the rows that passed."""

    source: str
    edition: int
    task: str
    n_expected: int
    n_rows: int = 0
    errors: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)
    labels: dict[str, int] = field(default_factory=dict)
    complete: bool = True  # False when validation stopped at the first error

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def first_error(self) -> Problem | None:
        return self.errors[0] if self.errors else None

    def lines(self, fold: int | None = None) -> list[str]:
        """``source:line: message`` for every error, then every note.

        With ``fold=k``, after k errors with the same message apart from the id, the rest are
        summed up in one line (a systematic slip otherwise repeats on every line).
        """
        out: list[str] = []
        groups: dict[tuple[str, str], list[Problem]] = {}
        slot: dict[tuple[str, str], int] = {}
        for p in self.errors:
            key = (p.code, _SPECIFIC.sub("#", p.message))
            groups.setdefault(key, []).append(p)
            if fold is None or len(groups[key]) <= fold:
                out.append(p.format(self.source))
            elif key not in slot:
                slot[key] = len(out)
                out.append("")
        for key, i in slot.items():
            probs = groups[key]
            rest = probs[fold:]
            out[i] = (f"{self.source}: ... and {len(rest)} more line(s) with the same problem as "
                      f"line {probs[0].line}: lines {rest[0].line} to {rest[-1].line}")
        return out + [p.format(self.source) for p in self.notes]


def _label_help(task: str) -> str:
    if task == "membership":
        return "use 0 (not used for training) or 1 (used for training)"
    return "use the training subset number, " + ", ".join(map(str, TASK_LABELS[task]))


def _token_hint(row: list[str], line: int) -> str:
    if not row:
        return ("the line is blank; delete it (a newline after the last line is fine, an empty "
                "line is not)")
    if len(row) == 1:
        for sep, name in ((";", "a semicolon"), ("\t", "a tab"), (" ", "a space")):
            if sep in row[0].strip():
                return f"the tokens are separated by {name}; separate them with a comma"
        return "the label is missing; write '<id>,<label>'"
    if len(row) == 3 and line == 1 and not row[1].strip().lstrip("-").replace(".", "").isdigit():
        if [t.strip().lower() for t in row] == ["name", "score", "label"]:
            return ("this is a scores file (synthprint's scores.csv), not a run: validate "
                    "run.csv or submission.zip beside it")
        return "this looks like a header row; run files have no header: delete line 1"
    if len(row) == 3:
        return "a run has two columns, '<id>,<label>'; drop the extra column (scores?)"
    return "write one '<id>,<label>' per line, with exactly one comma"


def _looks_like_header(image_id: str, label: str, line: int) -> bool:
    return line == 1 and (image_id.lower().lstrip("\ufeff") in _HEADER_WORDS
                          or label.strip().lower() in ("label", "labels", "score", "class",
                                                       "prediction", "used", "subset"))


class _ExpectedIds:
    """The expected ids with the lookups the hints need, built once per validation."""

    def __init__(self, ids: set[str]):
        self.ids = ids
        self.by_stem = {PurePosixPath(e).stem: e for e in sorted(ids)}
        self.by_lower = {e.lower(): e for e in sorted(ids)}


def _id_hint(image_id: str, line: int, label: str, expected: _ExpectedIds,
             edition: int) -> str:
    if _looks_like_header(image_id, label, line):
        return "this looks like a header row; run files have no header: delete line 1"
    if image_id.startswith("\ufeff"):
        return ("the file starts with a byte-order mark (saved as 'UTF-8 with BOM'); save it "
                "as plain UTF-8")
    ids = expected.ids
    stripped = image_id.strip("\"'")
    if stripped != image_id and stripped in ids:
        return f"remove the quotes: write {stripped}"
    p = PurePosixPath(image_id)
    if edition == 2023 and p.suffix and p.stem in ids:
        return (f"2023 ids have no file extension: write {p.stem} instead of {image_id} (or, "
                "if this is a 2025 run, pass --edition 2025)")
    if "/" in image_id or "\\" in image_id:
        base = image_id.replace("\\", "/").rsplit("/", 1)[-1]
        if base in ids or PurePosixPath(base).stem in ids:
            return "write the file name only, without its folder"
    if edition == 2025 and image_id in expected.by_stem:
        return (f"2025 names keep their extension: write {expected.by_stem[image_id]} (or, if "
                "this is a 2023 run, pass --edition 2023)")
    if image_id.lower() in expected.by_lower:
        return f"names are case-sensitive: write {expected.by_lower[image_id.lower()]}"
    return "use the names of the test images (ls the test folder)"


def _label_hint(label: str, task: str) -> str:
    try:
        x = float(label)
    except ValueError:
        return "" if label else "the label is empty"
    if x.is_integer() and int(x) in TASK_LABELS[task]:
        return f"write whole numbers: {int(x)} instead of {label}"
    if task == "membership" and 0.0 < x < 1.0:
        return "a run holds decisions, not scores or probabilities: threshold them to 0 or 1"
    if task == "attribution" and x == 0:
        return "subsets are numbered from 1"
    return ""


def validate_text(data: bytes, expected: Sequence[str], *, edition: int, task: str,
                  source: str = "run.csv", all_problems: bool = False) -> ValidationReport:
    """Validate the bytes of a run against the ``expected`` ids (as they must appear in the
    run: 2023 without extension, 2025 with). See the module docstring for the rules."""
    check_kind(edition, task)
    want = [str(e) for e in expected]
    expected_set = set(want)
    lookups = _ExpectedIds(expected_set)
    report = ValidationReport(source, edition, task, len(expected_set))
    allowed = TASK_LABELS[task]

    def fail(line: int, message: str, hint: str = "", code: str = "") -> bool:
        report.errors.append(Problem(line, f"{message}; {hint}" if hint else message,
                                     code=code))
        if not all_problems:
            report.complete = False
        return not all_problems  # True: stop

    if data.startswith(b"\xef\xbb\xbf"):
        report.notes.append(Problem(1, "the file starts with a UTF-8 byte-order mark, which "
                                       "becomes part of the first id; save as UTF-8 without BOM",
                                    "note", "bom"))
    if b"\r\n" in data:
        report.notes.append(Problem(0, "Windows line ends (CRLF); the official validator reads "
                                       "them, but plain \\n line ends are safer", "note", "crlf"))
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        fail(line, f"byte 0x{data[exc.start]:02x} is not UTF-8 text",
             "save the file as UTF-8 (ids and labels are plain ASCII)", "encoding")
        report.complete = False
        return report

    stream = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline=None)
    reader = csv.reader(stream, delimiter=",", quoting=csv.QUOTE_NONE)
    first_seen: dict[str, int] = {}
    line = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            fail(line + 1, f"cannot be read as CSV ({exc})", "write plain 'id,label' lines", "csv")
            report.complete = False
            report.n_rows = line + 1
            return report
        line += 1
        if len(row) != 2:
            if fail(line, f"wrong format: {len(row)} token(s), expected 2: '<id>,<label>'",
                    _token_hint(row, line), "tokens"):
                break
            continue
        image_id, label = row[0].strip(), row[1].strip()
        stop = False
        if image_id not in expected_set:
            hint = _id_hint(image_id, line, row[1], lookups, edition)
            stop = fail(line, f"{image_id!r} is not an id of the test set", hint, "id")
            if stop:
                break
            if _looks_like_header(image_id, row[1], line):
                continue  # a header row: its label is no label
        elif image_id in first_seen:
            stop = fail(line, f"{image_id!r} is given more than once (first on line "
                              f"{first_seen[image_id]})", "keep exactly one line per image",
                        "duplicate")
        if stop:
            break
        try:
            value = int(label)
            ok = value in allowed
        except ValueError:
            value, ok = None, False
        if not ok:
            shown = label if value is None else str(value)
            if fail(line, f"label {shown!r} is not allowed", "; ".join(
                    h for h in (_label_hint(label, task), _label_help(task)) if h), "label"):
                break
        if image_id in expected_set and image_id not in first_seen:
            first_seen[image_id] = line
            if ok:
                report.labels[image_id] = int(value)  # type: ignore[arg-type]
    report.n_rows = line
    if report.errors and not all_problems:
        return report
    missing = [e for e in want if e not in first_seen]
    if missing:
        n_ids = len(first_seen) if all_problems else len(report.labels)
        fail(line, f"the run names {n_ids} test ids but the test set has {len(expected_set)}: "
                   f"{len(missing)} {'has' if len(missing) == 1 else 'have'} no line "
                   f"(first: {missing[0]})",
             "write exactly one line for every test image", "count")
    return report


def resolve_expected(*, images: str | Path | None = None, ids: str | Path | None = None,
                     edition: int | None = None, task: str | None = None
                     ) -> tuple[list[str], int, str]:
    """The ids a run must hold, its edition and task, from a test folder or an ids file.

    The edition defaults to what the folder names say (``real_unknown_1/``: 2023), or for an
    ids file to whether its ids carry an extension (no: 2023), and to 2025 for subtask 2
    (which ran in 2025 only); the task to the folder
    (``generated_unknown/``: attribution) or the ids' prefix (``gen``: attribution,
    ``real``: membership). Raises :class:`SynthprintError` when neither or both sources are
    given, or when the edition or task cannot be told.
    """
    if (images is None) == (ids is None):
        raise SynthprintError("give the test images (--images DIR) or an ids file (--ids FILE), "
                              "exactly one of them")
    if task is not None:
        check_task(task)
    if images is not None:
        found = expected_images(images, task)
        names = list(found.names)
        edition = edition or found.edition
        task = task or found.task
        where = f"{images}"
    else:
        assert ids is not None
        names = read_ids_file(ids)
        has_ext = [bool(PurePosixPath(n).suffix) for n in names]
        if edition is None and (all(has_ext) or not any(has_ext)):
            edition = 2025 if has_ext[0] else 2023
        if edition == 2025 and not all(has_ext):
            raise SynthprintError(
                f"{ids}: lists ids without file extension, but 2025 runs name images with it "
                "(real_unknown_1.png); pass --edition 2023 or list the file names"
            )
        where = f"{ids}"
    if task is None:
        prefixes = {n[:3].lower() for n in names}
        task = {"rea": "membership", "gen": "attribution"}.get(prefixes.pop()) \
            if len(prefixes) == 1 else None
    if edition is None and task == "attribution":
        edition = 2025   # subtask 2 ran in 2025 only
    if edition is None:
        raise SynthprintError(f"{where}: cannot tell the edition from the folder names; pass "
                              "--edition 2023 (ids without extension) or 2025 (file names)")
    if task is None:
        raise SynthprintError(f"{where}: cannot tell the subtask; pass --task membership or "
                              "--task attribution")
    check_kind(edition, task)
    return [run_id(n, edition) for n in names], edition, task


def validate_run(run: str | Path, *, images: str | Path | None = None,
                 ids: str | Path | None = None, edition: int | None = None,
                 task: str | None = None, all_problems: bool = False) -> ValidationReport:
    """Validate a run file or zip against the test images (``images``: a test or benchmark
    folder) or an ids file (``ids``: one id a line). See :func:`resolve_expected` for the
    defaults of ``edition`` and ``task`` and the module docstring for the rules.

    Problems with the run give an invalid report; problems with the other inputs (missing
    folder, unreadable zip) raise :class:`SynthprintError`.
    """
    expected, edition, task = resolve_expected(images=images, ids=ids, edition=edition,
                                               task=task)
    data, source = read_run_bytes(run)
    return validate_text(data, expected, edition=edition, task=task, source=source,
                         all_problems=all_problems)
