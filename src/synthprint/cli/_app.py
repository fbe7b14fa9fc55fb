"""The typer application, global options and the error boundary shared by every command."""

from __future__ import annotations

import functools
import sys
import traceback
from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from synthprint import __version__
from synthprint.errors import SynthprintError

app = typer.Typer(
    name="synthprint",
    help="Find the fingerprints that real training images leave in synthetic images "
         "(ImageCLEFmedical GANs subtasks 1 and 2, and audits of any generator).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)

# emoji codes off: ":100:" in "run.csv:100: ..." must stay a line number
console = Console(emoji=False)
err_console = Console(stderr=True, emoji=False)


class _State:
    debug: bool = False


state = _State()


def say(text: str) -> None:
    """Print a line that holds paths or names as it is: no markup (``[red]``), emoji codes
    (``:100:``) or highlighting, and not wrapped by rich."""
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def _version(value: bool) -> None:
    if value:
        console.print(f"synthprint {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
) -> None:
    state.debug = debug


def _paragraphs(doc: str) -> list[str]:
    """The paragraphs of a docstring, each on one line (its own line breaks would otherwise
    show in the help, where rich wraps the text again)."""
    return [" ".join(p.split()) for p in doc.strip().split("\n\n") if p.strip()]


def short_help(doc: str) -> str:
    """The first paragraph of a command's docstring on one line, for the command list."""
    return _paragraphs(doc)[0]


def command(*args: Any, **kwargs: Any) -> Callable:
    """``app.command`` with the error boundary: a :class:`SynthprintError`, or an
    :class:`OSError` (the system refused a read or a write), becomes one red line and exit
    code 2; any other exception says it is a bug (traceback with ``--debug``)."""

    def decorate(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*a: Any, **kw: Any) -> Any:
            try:
                return fn(*a, **kw)
            except (typer.Exit, typer.Abort, SystemExit):
                raise
            except SynthprintError as exc:
                if state.debug:
                    traceback.print_exc()
                err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False,
                                  soft_wrap=True)
                raise typer.Exit(2) from None
            except KeyboardInterrupt:
                err_console.print("interrupted")
                raise typer.Exit(130) from None
            except OSError as exc:  # the system refused: a full disk, a permission, ...
                if state.debug:
                    traceback.print_exc()
                where = f"{exc.filename}: " if exc.filename else ""
                err_console.print(
                    f"[bold red]error:[/] {escape(where + (exc.strerror or str(exc)))} (check "
                    "that the folders exist, that you may write there and that the disk has "
                    "room)", highlight=False, soft_wrap=True)
                raise typer.Exit(2) from None
            except Exception as exc:  # noqa: BLE001 - the boundary of the program
                if state.debug:
                    traceback.print_exc()
                err_console.print(
                    f"[bold red]internal error:[/] {type(exc).__name__}: {escape(str(exc))} "
                    "(a bug in synthprint; rerun with --debug for the traceback)",
                    highlight=False, soft_wrap=True)
                raise typer.Exit(3) from None

        if fn.__doc__ and fn.__doc__.strip():
            kwargs.setdefault("short_help", short_help(fn.__doc__))
            kwargs.setdefault("help", "\n\n".join(_paragraphs(fn.__doc__)))
        return app.command(*args, **kwargs)(wrapper)

    return decorate


def main() -> None:
    """Entry point of the ``synthprint`` console script."""
    from synthprint import cli  # noqa: F401  (registers the commands)

    app(prog_name="synthprint")
    sys.exit(0)
