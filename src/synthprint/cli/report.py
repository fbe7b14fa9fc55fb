"""``synthprint report OUT``: rebuild the HTML report of a run from its ``record.json``."""

from __future__ import annotations

from pathlib import Path

import typer

from synthprint.cli._app import command, say


@command("report")
def report(
    out: Path = typer.Argument(..., help="The --out folder of a membership, attribute or "
                                         "audit run (it holds record.json)."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing report.html."),
) -> None:
    """Rebuild OUT/report.html: one self-contained HTML file, no network needed to open it."""
    from synthprint.report import write_report

    path = write_report(out, force=force)
    say(f"wrote {path}")
