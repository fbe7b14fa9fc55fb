"""Small CSV tables: ``name,label`` truth files and ``name,score[,label]`` score files."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from synthprint.errors import SynthprintError


def read_labels_csv(path: str | Path) -> dict[str, int]:
    """Read a headerless ``name,label`` CSV (the benchmarks' ``truth/*.csv``).

    Returns a dict from name (as written) to int label. Raises :class:`SynthprintError` with
    the file and line number on a malformed line or a name given twice. A header row
    ``name,label`` is tolerated.
    """
    path = Path(path)
    if not path.is_file():
        raise SynthprintError(f"{path}: truth file not found")
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


def labels_for(names: Sequence[str], truth: Mapping[str, int], source: str | Path
               ) -> np.ndarray:
    """(len(names),) int64 labels of ``names`` from a name -> label map read from
    ``source`` (named in the error when an image has no label)."""
    missing = [n for n in names if n not in truth]
    if missing:
        raise SynthprintError(f"{source}: no label for {len(missing)} test images "
                              f"(first: {missing[0]})")
    return np.array([truth[n] for n in names], dtype=np.int64)
