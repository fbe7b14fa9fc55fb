"""Small CSV tables: ``name,label`` truth files and ``name,score[,label]`` score files."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path, PurePosixPath

import numpy as np

from synthprint.errors import SynthprintError
from synthprint.io.layouts import check_file


def csv_members(names: Sequence[str]) -> list[str]:
    """The CSV files among a zip's member ``names`` (macOS resource forks left out)."""
    return [n for n in names if n.lower().endswith(".csv") and "__MACOSX" not in n]


def decode_table(data: bytes, source: str | Path) -> str:
    """The text of a CSV file's bytes ``data`` (read from ``source``, named in the errors):
    UTF-8, a leading byte-order mark dropped. Raises :class:`SynthprintError` for a zip (the
    CSV inside should have been given) and for text that is not UTF-8 (UTF-16, Latin-1)."""
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                csvs = csv_members(zf.namelist())
        except (zipfile.BadZipFile, OSError):
            csvs = []
        inside = f" ({', '.join(csvs[:3])})" if csvs else ""
        raise SynthprintError(f"{source}: is a zip file, not a CSV; unzip it and give the CSV "
                              f"inside{inside}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        found = ("UTF-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff")
                 else f"byte 0x{data[exc.start]:02x} at offset {exc.start}")
        raise SynthprintError(f"{source}: is not UTF-8 text ({found}); save it as UTF-8"
                              ) from None


def read_labels_csv(path: str | Path) -> dict[str, int]:
    """Read a headerless ``name,label`` CSV (the benchmarks' ``truth/*.csv``).

    Returns a dict from name (as written) to int label. Raises :class:`SynthprintError` with
    the file and line number on a malformed line or a name given twice, and for a file that
    is not UTF-8 text or is a zip. A header row ``name,label`` and a byte-order mark are
    tolerated.
    """
    return read_label_lines(path)[0]


def read_label_lines(path: str | Path) -> tuple[dict[str, int], dict[str, int]]:
    """:func:`read_labels_csv`'s name -> label map, and the line number of each name (for
    messages)."""
    path = check_file(path, "truth file", " (a name,label CSV such as truth/real_unknown.csv)")
    out: dict[str, int] = {}
    lines: dict[str, int] = {}
    text = decode_table(path.read_bytes(), path)
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        parts = [t.strip() for t in line.split(",")]
        if len(parts) != 2:
            raise SynthprintError(f"{path}:{lineno}: expected 'name,label', got {raw!r}")
        name, label = parts
        if lineno == 1 and label.lower() in ("label", "labels", "class"):
            continue
        try:
            value = int(label)
        except ValueError:
            raise SynthprintError(
                f"{path}:{lineno}: label {label!r} is not an integer"
            ) from None
        if name in out:
            raise SynthprintError(f"{path}:{lineno}: {name} is given twice")
        out[name] = value
        lines[name] = lineno
    if not out:
        raise SynthprintError(f"{path}: no rows; expected 'name,label' lines")
    return out, lines


def stem_ids(names: Sequence[str], source: str | Path) -> list[str]:
    """The 2023 ids of file ``names`` (their stems: ``real_unknown_0001.png`` ->
    ``real_unknown_0001``), to match a file of ids without extension; ``source`` is named
    in the error when two names share an id."""
    first: dict[str, str] = {}
    for name in names:
        stem = PurePosixPath(name).stem
        if stem in first:
            raise SynthprintError(f"{source}: {first[stem]} and {name} share the id {stem}, "
                                  "so ids without extension cannot tell them apart")
        first[stem] = name
    return list(first)


def labels_for(names: Sequence[str], truth: Mapping[str, int], source: str | Path, *,
               allowed: Collection[int] | None = None) -> np.ndarray:
    """(len(names),) int64 labels of ``names`` from a name -> label map read from
    ``source`` (named in the error when an image has no label, or a label outside
    ``allowed``).

    A truth file of 2023 ids (no extension) matches image names by their stem."""
    keys = list(names)
    if not any(k in truth for k in keys) and not any(PurePosixPath(t).suffix for t in truth):
        keys = stem_ids(names, source)
    missing = [n for n, k in zip(names, keys) if k not in truth]
    if missing:
        raise SynthprintError(f"{source}: no label for {len(missing)} test images "
                              f"(first: {missing[0]})")
    labels = np.array([truth[k] for k in keys], dtype=np.int64)
    if allowed is not None:
        bad = [i for i, v in enumerate(labels) if v not in allowed]
        if bad:
            raise SynthprintError(
                f"{source}: {names[bad[0]]} has label {labels[bad[0]]}; the labels here must "
                f"be {', '.join(map(str, sorted(allowed)))} ({len(bad)} labels are not)")
    return labels
