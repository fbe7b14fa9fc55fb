"""Command-line and output pieces the bench scripts share (imported as ``_args``: the
scripts run with bench/ on sys.path)."""

from __future__ import annotations

import argparse
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


def parser(description: str, *, membership: bool = False) -> argparse.ArgumentParser:
    """An argument parser with ``--bench`` (the benchmarks folder); with ``membership``,
    also ``--datasets`` (comma-separated, every st1-* by default) and ``--methods``
    (comma-separated membership methods, all by default)."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--bench", type=Path, default=DEFAULT_BENCH)
    if membership:
        from synthprint.membership import METHODS

        ap.add_argument("--datasets", default=ST1_DATASETS)
        ap.add_argument("--methods", default=",".join(METHODS))
    return ap


def command_line() -> str:
    """The command that ran this script, as a markdown code span for RESULTS.md, e.g.
    ``"`python bench/membership.py --datasets st1-gan`"``."""
    return f"`python bench/{Path(sys.argv[0]).name} {shlex.join(sys.argv[1:])}`".replace(
        " `", "`")


def markdown_table(head: list[str], rows: list[list[str]]) -> str:
    """A markdown table: the ``head`` cells, then one line per row of cells."""
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(cells) + " |" for cells in rows])
