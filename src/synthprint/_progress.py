"""Rich progress bars on stderr, silent under ``--quiet`` (without a terminal rich prints
each bar once, finished, which keeps logs short)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

T = TypeVar("T")

_console = Console(stderr=True, emoji=False)


def make_progress(quiet: bool = False) -> Progress:
    """A :class:`rich.progress.Progress` writing to stderr; disabled when ``quiet``."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=_console,
        disable=quiet,
        transient=False,
    )


@contextmanager
def progress_task(description: str, total: int, quiet: bool = False) -> Iterator:
    """Context manager yielding ``advance(n=1)`` for one progress bar of ``total`` steps."""
    with make_progress(quiet) as progress:
        task = progress.add_task(description, total=total)

        def advance(n: int = 1) -> None:
            progress.advance(task, n)

        yield advance


def track(items: Iterable[T], description: str, total: int | None = None,
          quiet: bool = False) -> Iterator[T]:
    """Iterate over ``items`` with a progress bar (like :func:`rich.progress.track`)."""
    if total is None:
        total = len(items)  # type: ignore[arg-type]
    with progress_task(description, total, quiet) as advance:
        for item in items:
            yield item
            advance()
