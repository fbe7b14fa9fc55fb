"""The run record: everything a report shows, saved beside a run's outputs as ``record.json``.

Commands (``membership``, ``attribute``, ``audit``) write it; ``synthprint report OUT``
rebuilds ``OUT/report.html`` from it alone. The record is plain JSON:

``kind``         "membership" | "attribution" | "audit"
``command``      the command line that made the run
``inputs``       {role: folder}
``settings``     {name: value} (method, seed, edition, ...)
``metrics``      [{"title": str, "rows": [{"metric", "value", "low", "high"}],
                 "confidence": coverage of the intervals (default 0.95), "note": str}]
``verdict``      a sentence the reader must see first (e.g. "no detectable membership
                 signal"), or null
``curves``       [{"title": str, "y_true": [0/1], "scores": [float], "auc": float or
                 null (the legend's AUC, as the metrics table has it)}] (ROC, histograms)
``table``        {"file": "scores.csv", "columns": [...], "sort": column} per-image table
``gallery``      [{"name", "image": path, "score", "caption", "matches": [{"name", "image",
                 "similarity"}]}]
``copy_gallery`` like ``gallery``: synthetic images flagged as copies (audit), each with
                 the training image it copies
``confusion``    {"labels": [int], "matrix": [[int]], "title": str} or null
``uncertain``    [{"name", "image", "label", "confidence"}]
``notes``        [str]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from synthprint import __version__
from synthprint.errors import SynthprintError
from synthprint.io.writers import atomic_write_text

RECORD_NAME = "record.json"
KINDS = ("membership", "attribution", "audit")


def new_record(kind: str, inputs: dict[str, str], settings: dict[str, Any]) -> dict[str, Any]:
    """An empty record for a run of ``kind`` with its inputs and settings."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    return {
        "synthprint_version": __version__,
        "kind": kind,
        "command": " ".join(["synthprint", *sys.argv[1:]]) if sys.argv else "synthprint",
        "inputs": {k: str(v) for k, v in inputs.items()},
        "settings": settings,
        "metrics": [],
        "verdict": None,
        "curves": [],
        "table": None,
        "gallery": [],
        "confusion": None,
        "uncertain": [],
        "notes": [],
    }


def to_jsonable(value: Any) -> Any:
    """``value`` with numpy arrays and scalars, Paths and NaN turned into plain JSON values."""
    import numpy as np

    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def save_record(out: str | Path, record: dict[str, Any], *, force: bool = False) -> Path:
    """Write ``record`` to ``out/record.json`` atomically (sorted keys, stable bytes)."""
    text = json.dumps(to_jsonable(record), indent=1, sort_keys=True, allow_nan=False)
    return atomic_write_text(Path(out) / RECORD_NAME, text + "\n", force=force)


#: A record.json larger than this is not a run record (ours are well under 10 MiB).
MAX_RECORD_BYTES = 256 * 2**20


def load_record(out: str | Path) -> dict[str, Any]:
    """Read ``out/record.json``; a clear error when the folder holds no synthprint run."""
    path = Path(out) / RECORD_NAME
    if not path.is_file():
        raise SynthprintError(
            f"{path}: not found; point at the --out folder of a synthprint membership, "
            "attribute or audit run")
    if path.stat().st_size > MAX_RECORD_BYTES:
        raise SynthprintError(f"{path}: over {MAX_RECORD_BYTES >> 20} MiB, too large for a run "
                              "record; rerun the command")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as exc:  # bad JSON, not UTF-8, nested too deep
        raise SynthprintError(f"{path}: not valid JSON ({type(exc).__name__}); rerun the "
                              "command") from None
    kind = record.get("kind") if isinstance(record, dict) else None
    if not isinstance(kind, str) or kind not in KINDS:
        raise SynthprintError(f"{path}: not a synthprint run record (its kind is {kind!r}, "
                              f"expected one of {', '.join(KINDS)}); rerun the command that "
                              "wrote this folder")
    lacking = [k for k in ("command", "inputs", "settings") if not isinstance(record.get(k),
                                                                              (str, dict))]
    if lacking:
        article = "an" if kind[0] in "aeiou" else "a"
        raise SynthprintError(f"{path}: {article} {kind} run record without "
                              f"{', '.join(lacking)}; rerun the command that wrote this folder")
    return record
