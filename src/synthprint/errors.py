"""The one exception type that users see: a message that names the file and the fix."""

from __future__ import annotations


class SynthprintError(ValueError):
    """An error caused by the user's input or environment, not by a bug in synthprint.

    The command line prints ``str(error)`` on one line and exits non-zero, without a
    traceback (unless ``--debug``). Messages name the offending file and say how to fix it.
    A ``ValueError``, so that library code written for scikit-learn's convention (bad input
    raises ``ValueError``) catches it too.
    """


class OutputExistsError(SynthprintError):
    """An output file exists already and ``force`` was not given."""
