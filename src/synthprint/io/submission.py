"""Run files for the ImageCLEFmedical GANs challenge, written exactly as the organisers expect.

=============================== ============================ ==============================
run                             line                         labels
=============================== ============================ ==============================
2023 subtask 1 (membership)     ``real_unknown_0001,1``      0 = not used, 1 = used
2025 subtask 1 (membership)     ``real_unknown_1.png,1``     0 = not used, 1 = used
2025 subtask 2 (attribution)    ``gen_unknown_00001.png,3``  training subset 1..5
=============================== ============================ ==============================

2023 ids are the file names without their extension; 2025 names are the file names as on disk.
Files have no header, one line per test image in natural name order, ``\\n`` line ends and no
newline after the last line (like the organisers' example runs; their 2023 validator accepts
either). Uploads are zips holding ``run.csv`` at their root, with fixed timestamps so that the
same run gives the same bytes.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np

from synthprint.errors import SynthprintError
from synthprint.io.dataset import list_folder
from synthprint.io.layouts import (
    BenchmarkLayout,
    Layout,
    Role,
    check_file,
    detect_layout,
    natural_key,
)
from synthprint.io.tables import csv_members
from synthprint.io.writers import atomic_write_bytes, check_can_write

EDITIONS = (2023, 2025)
TASKS = ("membership", "attribution")
#: Allowed labels per task.
TASK_LABELS = {"membership": (0, 1), "attribution": (1, 2, 3, 4, 5)}
RUN_MEMBER = "run.csv"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def check_task(task: str) -> None:
    """Raise unless ``task`` is "membership" or "attribution"."""
    if task not in TASKS:
        raise SynthprintError(f"task must be membership or attribution, got {task!r}")


def check_kind(edition: int, task: str) -> None:
    """Raise unless ``(edition, task)`` is a run the challenge had."""
    if edition not in EDITIONS:
        raise SynthprintError(f"edition must be 2023 or 2025, got {edition!r}")
    check_task(task)
    if edition == 2023 and task == "attribution":
        raise SynthprintError("the 2023 edition had no attribution subtask; use --edition 2025")


def run_id(name: str, edition: int) -> str:
    """The id of image file ``name`` in a run of ``edition``: without extension in 2023
    (``real_unknown_0001``), the name as on disk in 2025 (``real_unknown_1.png``)."""
    if edition == 2023:
        return PurePosixPath(name).stem if PurePosixPath(name).suffix else name
    if not PurePosixPath(name).suffix:
        raise SynthprintError(
            f"{name!r} has no extension; 2025 runs name images as on disk (real_unknown_1.png)"
        )
    return name


@dataclass(frozen=True)
class ExpectedImages:
    """The images a run must cover: file names as on disk, natural order, their folder, and
    the edition and task the folder names tell (None where they do not)."""

    names: tuple[str, ...]
    folder: Path
    edition: int | None
    task: str | None

    def ids(self, edition: int) -> list[str]:
        return [run_id(n, edition) for n in self.names]


def expected_images(path: str | Path, task: str | None = None) -> ExpectedImages:
    """List the images a run must name, from a test split folder (``real_unknown/`` +
    ``generated/``, ``generated_1/`` + ``real_unknown_1/``, ``generated_unknown/``), a
    benchmark folder (its ``test/``), or a plain folder of images.

    Uses the same layout detection and listing as loading, so names match exactly.
    """
    found = detect_layout(path)
    if isinstance(found, BenchmarkLayout):
        found = found.test
    assert isinstance(found, Layout)
    if found.split != "test":
        raise SynthprintError(
            f"{path}: is a {found.name} split; point at the test folder whose images the run "
            "labels (the one holding real_unknown/ or generated_unknown/)"
        )
    if found.name == "membership-test":
        spec = next(f for f in found.folders if f.role is Role.REAL_UNKNOWN)
        folder_task: str | None = "membership"
    else:
        spec = found.folders[0]
        folder_task = "attribution" if found.edition else None
    if task is not None and folder_task is not None and task != folder_task:
        raise SynthprintError(
            f"{path}: holds a {folder_task} test split, but the task is {task}; "
            f"use --task {folder_task} or point at the other test folder"
        )
    names = tuple(p.name for p in list_folder(spec).files)
    return ExpectedImages(names, spec.path, found.edition, folder_task)


#: First lines of an ids file that are column names, not ids.
_ID_HEADERS = frozenset({"id", "ids", "image", "images", "image_id", "image_ids", "name",
                         "names", "file", "filename", "file_name", "figure_id"})


def read_ids_file(path: str | Path) -> list[str]:
    """Read a list of test ids or names, one a line (like the official ``image_ids.txt``).

    Surrounding whitespace is stripped and blank lines are skipped.
    """
    path = check_file(path, "ids file", " (image_ids.txt: one id a line)")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SynthprintError(f"{path}: is not UTF-8 text; expected one id per line") from None
    ids = [line.strip() for line in text.splitlines() if line.strip()]
    if not ids:
        raise SynthprintError(f"{path}: holds no ids; expected one id per line")
    if ids[0].lower().replace(" ", "_") in _ID_HEADERS:
        raise SynthprintError(f"{path}: its first line {ids[0]!r} is a header; an ids file "
                              "lists the ids alone, one a line: remove that line")
    return ids


def _labels(labels, n: int, task: str) -> list[int]:
    arr = np.asarray(labels)
    if arr.shape != (n,):
        raise SynthprintError(f"got {arr.size} labels for {n} names; give one label per image")
    if arr.dtype == bool:
        arr = arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.number):
        raise SynthprintError(f"labels must be integers, got {arr.dtype}")
    if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
        raise SynthprintError(
            "labels must be whole numbers; a run holds decisions, not scores: threshold the "
            "scores first"
        )
    out = arr.astype(np.int64).tolist()
    allowed = TASK_LABELS[task]
    bad = sorted({v for v in out if v not in allowed})
    if bad:
        raise SynthprintError(
            f"labels {bad[:5]} are not allowed in {task} run files; use "
            + ", ".join(map(str, allowed))
        )
    return out


def check_run_names(names: Sequence[str], edition: int, folder: str | Path | None = None
                    ) -> list[str]:
    """The run ids of ``names`` (:func:`run_id`), checked before any work: each once, and
    none holding a comma, a line break or surrounding spaces (they would break the run
    file). ``folder``: where the images are, named in the error."""
    where = f"{folder}: " if folder is not None else ""
    ids = [run_id(str(n), edition) for n in names]
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise SynthprintError(f"{where}{i} is named twice; a run names each test image once")
        if "," in i or "\n" in i or "\r" in i or i != i.strip() or not i:
            raise SynthprintError(f"{where}{i!r}: image names in runs cannot hold commas, line "
                                  "breaks or surrounding spaces; rename the file")
        seen.add(i)
    return ids


def format_run(names: Sequence[str], labels, *, edition: int, task: str,
               expected: Sequence[str] | None = None) -> str:
    """The text of a run file for images ``names`` (file names as on disk, or 2023 ids) and
    their ``labels`` (n,) ints: 0/1 for membership, 1..5 for attribution.

    Lines are sorted in natural name order; there is no header and no final newline. When
    ``expected`` (the test folder's names) is given, the run must name each exactly once.
    """
    check_kind(edition, task)
    ids = check_run_names(names, edition)
    values = _labels(labels, len(ids), task)
    seen = set(ids)
    if expected is not None:
        want = {run_id(str(n), edition) for n in expected}
        missing = sorted(want - seen, key=natural_key)
        extra = sorted(seen - want, key=natural_key)
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"{len(missing)} test image(s) have no label (first: {missing[0]})")
            if extra:
                parts.append(f"{len(extra)} name(s) are not test images (first: {extra[0]})")
            raise SynthprintError("; ".join(parts) + "; a run labels every test image once")
    if not ids:
        raise SynthprintError("no images to write; a run labels every test image once")
    rows = sorted(zip(ids, values), key=lambda r: natural_key(r[0]))
    return "\n".join(f"{i},{v}" for i, v in rows)


def zip_bytes(text: str, member: str = RUN_MEMBER) -> bytes:
    """A zip holding ``text`` (UTF-8) as ``member`` at its root, byte-identical for the same
    text (fixed timestamp, permissions and system, stored uncompressed)."""
    info = zipfile.ZipInfo(member, date_time=_ZIP_TIME)
    info.compress_type = zipfile.ZIP_STORED
    info.create_system = 3
    info.external_attr = 0o100644 << 16
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(info, text.encode("utf-8"))
    return buf.getvalue()


def write_run(path: str | Path, names: Sequence[str], labels, *, edition: int, task: str,
              expected: Sequence[str] | None = None, force: bool = False) -> Path:
    """Write a run file (see :func:`format_run`) atomically; a path ending in ``.zip`` gets a
    zip holding ``run.csv``. Never overwrites without ``force``. Returns the path."""
    text = format_run(names, labels, edition=edition, task=task, expected=expected)
    path = Path(path)
    data = zip_bytes(text) if path.suffix.lower() == ".zip" else text.encode("utf-8")
    return atomic_write_bytes(path, data, force=force)


def write_submission(out: str | Path, names: Sequence[str], labels, *, edition: int, task: str,
                     expected: Sequence[str] | None = None, zip_path: str | Path | None = None,
                     force: bool = False) -> tuple[Path, Path]:
    """Write both ``out`` (the run ``.csv``) and the upload zip holding it as ``run.csv``
    (``zip_path``, default beside ``out`` with the same name and ``.zip``), checking both can
    be written before writing either. Returns both paths."""
    out = Path(out)
    if out.suffix.lower() != ".csv":
        raise SynthprintError(f"{out}: the run file should end in .csv")
    zpath = Path(zip_path) if zip_path is not None else out.with_suffix(".zip")
    text = format_run(names, labels, edition=edition, task=task, expected=expected)
    check_can_write(out, force)
    check_can_write(zpath, force)
    atomic_write_bytes(out, text.encode("utf-8"), force=force)
    atomic_write_bytes(zpath, zip_bytes(text), force=force)
    return out, zpath


def read_run_bytes(path: str | Path) -> tuple[bytes, str]:
    """The bytes of a run: the file itself, or ``run.csv`` at the root of a zip.

    Returns ``(data, label)`` where ``label`` names the source for messages
    (``runs/x.zip:run.csv``). Raises :class:`SynthprintError` for a missing file, a broken zip
    or a zip without ``run.csv`` at its root (saying where the csv is, if elsewhere).
    """
    path = Path(path)
    inside = [n for n in ("submission.zip", RUN_MEMBER) if (path / n).is_file()]
    path = check_file(path, "run file", f": {path / inside[0]}" if inside
                      else " (run.csv, or the zip holding it)")
    if not zipfile.is_zipfile(path):
        if path.suffix.lower() == ".zip":
            raise SynthprintError(f"{path}: is not a readable zip file (damaged, or not a "
                                  f"zip); zip {RUN_MEMBER} again")
        return path.read_bytes(), str(path)
    try:
        with zipfile.ZipFile(path) as zf:
            names = [i.filename for i in zf.infolist() if not i.is_dir()]
            if RUN_MEMBER in names:
                return zf.read(RUN_MEMBER), f"{path}:{RUN_MEMBER}"
    except (zipfile.BadZipFile, OSError) as exc:
        raise SynthprintError(f"{path}: cannot read the zip ({exc}); zip run.csv again") from None
    csvs = csv_members(names)
    if csvs:
        hint = (f"it holds {csvs[0]}; put the file itself at the zip's root under the name "
                f"{RUN_MEMBER} (zip the file, not its folder)")
    else:
        hint = f"it holds {', '.join(names[:5]) or 'nothing'}"
    raise SynthprintError(f"{path}: the zip has no {RUN_MEMBER} at its root; {hint}")
