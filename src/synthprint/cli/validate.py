"""``synthprint validate RUN``: would the organisers accept this run file or zip?"""

from __future__ import annotations

from pathlib import Path

import typer

from synthprint.cli._app import command, say
from synthprint.io.validator import validate_run


@command("validate")
def validate(
    run: Path = typer.Argument(..., help="The run: a .csv or a .zip holding run.csv."),
    images: Path = typer.Option(None, "--images", help="The test folder (or benchmark) whose "
                                                       "images the run labels."),
    ids: Path = typer.Option(None, "--ids", help="A file of test ids, one a line (instead of "
                                                 "--images)."),
    task: str = typer.Option(None, "--task", help="membership or attribution (default: from "
                                                  "the folder or id names)."),
    edition: int = typer.Option(None, "--edition", help="2023 (ids without extension) or 2025 "
                                                        "(default: from the folder names)."),
    all_problems: bool = typer.Option(False, "--all", help="List every problem, not only the "
                                                           "first."),
) -> None:
    """Check a run file as the official validator does (exit 0: valid, 1: not valid), with
    messages that say how to fix each problem."""
    report = validate_run(run, images=images, ids=ids, edition=edition, task=task,
                          all_problems=all_problems)
    for line in report.lines(fold=3):
        say(line)
    kind = f"{report.edition} {report.task} run"
    if report.valid:
        say(f"{report.source}: valid {kind}: {report.n_rows} lines, every one of the "
            f"{report.n_expected} test images exactly once")
        return
    more = "" if report.complete else \
        " (stopped at the first, as the official validator does; --all lists every problem)"
    say(f"{report.source}: NOT valid as a {kind}: {len(report.errors)} problem(s){more}")
    raise typer.Exit(1)
