"""Command-line and output pieces the bench scripts share (imported as ``_args``: the
scripts run with bench/ on sys.path)."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

#: The simulated benchmarks, beside the project checkout.
DEFAULT_BENCH = Path(__file__).resolve().parents[2] / "shared" / "bench"
ST1_DATASETS = "st1-memorize,st1-diffusion,st1-gan"


def out_dir() -> Path:
    """bench/out/ (git-ignored), where the scripts write their CSV and JSON results; created
    if missing."""
    out = Path(__file__).resolve().parent / "out"
    out.mkdir(exist_ok=True)
    return out


def parser(description: str, *, datasets: bool = False, methods: bool = False
           ) -> argparse.ArgumentParser:
    """An argument parser with ``--bench`` (the benchmarks folder); with ``datasets``, also
    ``--datasets`` (comma-separated, every st1-* by default); with ``methods``, also
    ``--methods`` (comma-separated membership methods, all by default)."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--bench", type=Path, default=DEFAULT_BENCH)
    if datasets:
        ap.add_argument("--datasets", default=ST1_DATASETS)
    if methods:
        from synthprint.membership import METHODS

        ap.add_argument("--methods", default=",".join(METHODS))
    return ap


def default_row(rows: list[dict], dataset: str) -> dict | None:
    """The row of ``rows`` (dicts with "dataset" and "method") of the default membership
    method on ``dataset``, or None."""
    from synthprint.membership import DEFAULT_METHOD

    return next((r for r in rows if r["dataset"] == dataset
                 and r["method"] == DEFAULT_METHOD), None)


def scale_images(bench: Path) -> tuple[list[Path], list[Path]]:
    """(generated, real) image files of every benchmark in ``bench``, sorted: the sources of
    the scale benchmarks' folders (the real ones all distinct)."""
    generated = sorted(bench.glob("st1-*/*/generated/*.png"))
    real = sorted(bench.glob("st1-*/*/real_*/*.png")) + \
        sorted(bench.glob("st2-*/train/real/*/*.png"))
    return generated, real


def link_images(sources: list[Path], folder: Path, prefix: str, n: int) -> None:
    """Fill the new ``folder`` with ``n`` hard links ``<prefix>00001.png``, ... to
    ``sources``, repeated as often as needed."""
    folder.mkdir(parents=True)
    for i in range(n):
        os.link(sources[i % len(sources)], folder / f"{prefix}{i + 1:05d}.png")


def synthprint_command() -> list[str]:
    """The ``synthprint`` console script of this Python (run as a child process, so that
    its wall time is the whole command's)."""
    return [str(Path(sys.executable).with_name("synthprint"))]


def command_line() -> str:
    """The command that ran this script, as a markdown code span for RESULTS.md, e.g.
    ``"`python bench/membership.py --datasets st1-gan`"``."""
    return f"`python bench/{Path(sys.argv[0]).name} {shlex.join(sys.argv[1:])}`".replace(
        " `", "`")


def markdown_table(head: list[str], rows: list[list[str]]) -> str:
    """A markdown table: the ``head`` cells, then one line per row of cells."""
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(cells) + " |" for cells in rows])
