"""Small CSV tables: ``name,label`` truth files and ``name,score[,label]`` score files."""

from __future__ import annotations

from pathlib import Path

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
