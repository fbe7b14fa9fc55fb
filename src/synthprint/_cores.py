"""How many cores this process may use (a leaf module: every layer may import it)."""

from __future__ import annotations

import os


def default_n_jobs() -> int:
    """The number of cores this process may use (its CPU affinity; at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)
