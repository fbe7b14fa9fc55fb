"""Pieces the run commands (membership, attribute) share: loading a split, writing the run."""

from __future__ import annotations

from pathlib import Path

from synthprint.errors import SynthprintError
from synthprint.io import ImageDataset, atomic_write_bytes, atomic_write_text, load_dataset
from synthprint.io.submission import format_run, zip_bytes

_HINTS = {
    "membership-train": "generated/, real_used/ and real_not_used/",
    "membership-test": "generated/ and real_unknown/ (2025) or generated_1/ and "
                       "real_unknown_1/ (2023)",
    "attribution-train": "real/t1..t5/ and generated/t1..t5/",
    "attribution-test": "generated_unknown/ (or a folder of images)",
}


def load_split_for(path: Path, layout: str, *, resize: bool, quiet: bool) -> ImageDataset:
    """Load ``path`` and check it is a ``layout`` split (e.g. "membership-train")."""
    data = load_dataset(path, quiet=quiet, resize=resize)
    if data.layout.name != layout:
        option = "--" + layout.split("-")[1]
        raise SynthprintError(f"{path}: is a {data.layout.name} split; {option} must hold "
                              f"{_HINTS[layout]}")
    return data


def write_run_files(out: Path, names: list[str], labels, *, edition: int, task: str,
                    scores_csv: str, force: bool) -> list[Path]:
    """Write ``scores.csv``, ``run.csv`` and ``submission.zip`` (holding run.csv) in ``out``."""
    run_text = format_run(names, labels, edition=edition, task=task, expected=names)
    return [atomic_write_text(out / "scores.csv", scores_csv, force=force),
            atomic_write_text(out / "run.csv", run_text, force=force),
            atomic_write_bytes(out / "submission.zip", zip_bytes(run_text), force=force)]
