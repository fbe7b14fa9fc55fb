"""Plots for the report, rendered by matplotlib into PNG bytes.

Figures are plain :class:`matplotlib.figure.Figure` objects (no pyplot), so importing this
module neither changes a notebook's matplotlib backend nor keeps figures alive.
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib.figure import Figure

from synthprint.evaluation import roc_auc, roc_curve

_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b")


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight",
                metadata={"Software": None})  # no version string: stable bytes
    return buf.getvalue()


def _axes(figsize: tuple[float, float]):
    fig = Figure(figsize=figsize)
    return fig, fig.subplots()


def roc_plot(curves: list[tuple[str, np.ndarray, np.ndarray, float | None]]) -> bytes:
    """ROC curves on a log-scale false-positive-rate axis (1e-3 .. 1), chance as a diagonal.

    ``curves`` is a list of (label, y_true in {0,1}, scores, auc); the legend shows ``auc``
    when given (the number the metrics table reports, e.g. a mean over repeats), else the
    AUC of these scores. Curves with a single class are skipped. Returns PNG bytes.
    """
    fig, ax = _axes((5.2, 4.2))
    floor = 1e-3
    grid = np.logspace(-3, 0, 200)
    ax.plot(grid, grid, color="grey", ls="--", lw=1, label="chance")
    for i, (label, y, s, auc) in enumerate(curves):
        if len(np.unique(y)) < 2:
            continue
        fpr, tpr, _ = roc_curve(y, s)
        auc = roc_auc(y, s) if auc is None else auc
        ax.step(np.maximum(fpr, floor), tpr, where="post", color=_COLOURS[i % len(_COLOURS)],
                lw=1.8, label=f"{label} (AUC {auc:.3f})")
    ax.set_xscale("log")
    ax.set_xlim(floor, 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel("false positive rate (log scale)")
    ax.set_ylabel("true positive rate")
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("ROC")
    return _png(fig)


def score_histogram(groups: list[tuple[str, np.ndarray]], xlabel: str = "score") -> bytes:
    """Overlaid histograms of scores, one per group (label, scores). Returns PNG bytes."""
    fig, ax = _axes((5.2, 3.6))
    values = [np.asarray(s, dtype=float) for _, s in groups if len(s)]
    if values:
        allv = np.concatenate(values)
        lo, hi = float(allv.min()), float(allv.max())
        bins = np.linspace(lo, hi if hi > lo else lo + 1, 31)
        for i, (label, s) in enumerate(groups):
            if len(s):
                ax.hist(s, bins=bins, histtype="stepfilled", alpha=0.35,
                        color=_COLOURS[i % len(_COLOURS)], label=f"{label} (n={len(s)})")
                ax.hist(s, bins=bins, histtype="step", color=_COLOURS[i % len(_COLOURS)])
    ax.set_xlabel(xlabel)
    ax.set_ylabel("images")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    ax.set_title("Scores by class")
    return _png(fig)


def confusion_plot(matrix: np.ndarray, labels: list[str], title: str = "Confusion") -> bytes:
    """A confusion matrix (rows = truth, columns = prediction) with counts. PNG bytes."""
    matrix = np.asarray(matrix)
    fig, ax = _axes((4.6, 4.0))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    top = matrix.max() if matrix.size else 0
    for (i, j), v in np.ndenumerate(matrix):
        ax.text(j, i, str(v), ha="center", va="center",
                color="white" if top and v > top / 2 else "black", fontsize=9)
    ax.set_title(title)
    return _png(fig)
