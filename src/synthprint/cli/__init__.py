"""Command line: ``synthprint`` (typer). Each command lives in its own module and only wires
the library together; importing this package registers them all."""

from synthprint.cli import (  # noqa: F401  (register commands)
    attribute,
    audit,
    demo,
    evaluate,
    info,
    membership,
    report,
    validate,
)
from synthprint.cli._app import app, main

__all__ = ["app", "main"]
