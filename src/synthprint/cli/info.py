"""``synthprint info PATH``: detected layout, counts per role, modes and sizes, problems."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from synthprint.cli._app import command, console, say
from synthprint.io import LAYOUTS, BenchmarkSummary, SplitSummary, summarize


def _split_table(title: str, s: SplitSummary) -> Table:
    edition = f", edition {s.layout.edition}" if s.layout.edition else ""
    table = Table(title=f"{title}: {s.layout.name}{edition}", title_justify="left",
                  min_width=40)
    table.add_column("folder / role")
    table.add_column("images", justify="right")
    for key, n in s.counts.items():
        table.add_row(key, str(n))
    table.add_row("[bold]total", f"[bold]{s.n_images}")
    return table


def _print_split(title: str, s: SplitSummary) -> None:
    console.print(_split_table(title, s))
    say(f"  folder: {s.layout.root}")
    modes = ", ".join(f"{m} x{n}" for m, n in s.modes.most_common()) or "-"
    sizes = ", ".join(f"{m} x{n}" for m, n in s.sizes.most_common()) or "-"
    console.print(f"  modes: {modes}    sizes: {sizes}", highlight=False)
    if s.problems:
        console.print(f"  [yellow]{len(s.problems)} problem(s):[/]")
        for p in s.problems[:10]:
            say(f"    - {p}")
        if len(s.problems) > 10:
            console.print(f"    ... and {len(s.problems) - 10} more")
    else:
        console.print("  [green]no problems found[/]")


@command("info")
def info(
    path: Path = typer.Argument(..., help="A split folder (train or test) or a benchmark "
                                          "folder holding train/ and test/."),
    layout: str = typer.Option(None, "--layout", help=f"Force a layout: {', '.join(LAYOUTS)}."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
) -> None:
    """Show the detected layout, image counts per role, image modes and sizes, and problems."""
    summary = summarize(path, layout, quiet=quiet)
    if isinstance(summary, SplitSummary):
        _print_split("split", summary)
        bad = bool(summary.problems)
    else:
        assert isinstance(summary, BenchmarkSummary)
        say(f"benchmark {summary.layout.root}")
        if summary.meta_keys:
            for k, v in summary.meta_keys.items():
                say(f"  {k}: {v}")
        _print_split("train", summary.train)
        _print_split("test", summary.test)
        if summary.truth_counts is not None:
            counts = ", ".join(f"label {k}: {n}" for k, n in summary.truth_counts.items())
            console.print(f"truth: {sum(summary.truth_counts.values())} labels ({counts})")
        else:
            console.print("truth: none (no truth/ folder)")
        bad = bool(summary.train.problems or summary.test.problems)
    if bad:
        raise typer.Exit(1)
