"""``synthprint demo``: run the whole pipeline on the bundled demo data and say what it found.

Each step is the same command a user would type, run in-process on the demo folders, so the
demo exercises exactly the code paths of the real commands.
"""

from __future__ import annotations

from pathlib import Path

import typer

from synthprint.cli._app import app, command, console, say
from synthprint.errors import SynthprintError
from synthprint.io import demo_path, prepare_output_dir

#: The demo's output folders in --out, one for each command that writes files.
STEP_FOLDERS = ("membership", "attribution", "audit")


def _run(args: list[str]) -> int:
    console.rule(" ".join(["synthprint", *args[:1]]), style="dim")
    say("$ synthprint " + " ".join(args))
    try:
        code = app(args=args, prog_name="synthprint", standalone_mode=False)
    except typer.Exit as exc:  # raised by commands that fail or exit early
        code = exc.exit_code
    return int(code or 0)


def demo_steps(out: Path, quiet: bool, force: bool) -> list[tuple[str, list[str]]]:
    """(title, command line) of every step, in order; each must exit 0."""
    mem, att = demo_path("membership"), demo_path("attribution")
    q = ["--quiet"] if quiet else []
    f = ["--force"] if force else []
    m_out, a_out, au_out = (out / name for name in STEP_FOLDERS)
    return [
        ("inspect the demo data", ["info", str(mem), "-q"]),
        ("subtask 1: membership", ["membership", "--train", str(mem / "train"), "--test",
                                   str(mem / "test"), "--out", str(m_out), "--truth",
                                   str(mem / "truth" / "real_unknown.csv"), "--report",
                                   *q, *f]),
        ("validate the membership run", ["validate", str(m_out / "submission.zip"),
                                         "--images", str(mem / "test")]),
        ("score the membership run", ["evaluate", "--run", str(m_out / "scores.csv"),
                                      "--truth", str(mem / "truth" / "real_unknown.csv")]),
        ("subtask 2: attribution", ["attribute", "--train", str(att / "train"), "--test",
                                    str(att / "test"), "--out", str(a_out), "--truth",
                                    str(att / "truth" / "generated_unknown.csv"), "--report",
                                    *q, *f]),
        ("validate the attribution run", ["validate", str(a_out / "submission.zip"),
                                          "--images", str(att / "test")]),
        ("audit the demo generator", ["audit", "--train", str(mem / "train" / "real_used"),
                                      "--holdout", str(mem / "train" / "real_not_used"),
                                      "--synthetic", str(mem / "train" / "generated"),
                                      "--out", str(au_out), "--report", "--filter", *q, *f]),
    ]


@command("demo")
def demo(
    out: Path = typer.Option(Path("synthprint-demo"), "--out", help="Folder for the demo's "
                                                                     "outputs."),
    force: bool = typer.Option(False, "--force", help="Overwrite existing outputs in --out."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
) -> None:
    """Run every step on the bundled demo: info, membership, attribute, validate, evaluate,
    audit, with HTML reports in OUT/*/report.html."""
    prepare_output_dir(out, STEP_FOLDERS, force=force)
    for title, args in demo_steps(out, quiet, force):
        console.print(f"\n[bold]{title}[/]")
        code = _run(args)
        if code != 0:
            raise SynthprintError(f"demo step '{title}' failed (exit {code}); rerun it alone "
                                  f"with --debug: synthprint --debug {' '.join(args)}")
    reports = sorted(out.glob("*/report.html"))
    console.print("\n[bold green]demo finished.[/] Open the reports in a browser:")
    for r in reports:
        say(f"  {r}")
