"""``synthprint demo``: run the whole pipeline on the bundled demo data and say what it found."""

from __future__ import annotations

from pathlib import Path

import typer

from synthprint.cli._app import command, console
from synthprint.io import demo_path, load_benchmark, summarize_notes


@command("demo")
def demo(
    out: Path = typer.Option(Path("synthprint-demo"), "--out", help="Folder for the demo's "
                                                                     "outputs."),
    force: bool = typer.Option(False, "--force", help="Overwrite existing outputs in --out."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
) -> None:
    """Run every step synthprint has on the bundled demo (subtask 1 and subtask 2 data)."""
    for task in ("membership", "attribution"):
        bench = load_benchmark(demo_path(task), quiet=quiet)
        console.print(f"[bold]{task} demo[/] ({demo_path(task)})", highlight=False)
        console.print(f"  train: {bench.train!r}", highlight=False)
        console.print(f"  test:  {bench.test!r}", highlight=False)
        notes = summarize_notes(bench.train.notes + bench.test.notes)
        if notes:
            console.print(f"  decoding notes: {notes}")
