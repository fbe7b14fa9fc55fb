"""Small CSV tables: ``name,label`` truth files and ``name,score[,label]`` score files."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from pathlib import Path, PurePosixPath

import numpy as np

from synthprint.errors import SynthprintError
from synthprint.io.layouts import check_file


def read_labels_csv(path: str | Path) -> dict[str, int]:
    """Read a headerless ``name,label`` CSV (the benchmarks' ``truth/*.csv``).

    Returns a dict from name (as written) to int label. Raises :class:`SynthprintError` with
    the file and line number on a malformed line or a name given twice. A header row
    ``name,label`` is tolerated.
    """
    path = check_file(path, "truth file", " (a name,label CSV such as truth/real_unknown.csv)")
    out: dict[str, int] = {}
    for lineno, raw in enumerate(path.read_text().splitlines(), start=1):
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
    if not out:
        raise SynthprintError(f"{path}: no rows; expected 'name,label' lines")
    return out


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
