"""The result of a metrics computation: rows of name, value and interval, and renderers.

Every command, benchmark and report prints metrics through :class:`MetricTable`, so tables look
the same everywhere (markdown for files, rich for the terminal, a dict for JSON).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from rich.table import Table

from synthprint.errors import SynthprintError
from synthprint.evaluation.bootstrap import percentile_interval, stratified_counts


@dataclass(frozen=True)
class MetricValue:
    """One metric: a stable ``name`` (``"roc_auc"``), a display ``label`` (``"ROC AUC"``), the
    ``value`` (None when undefined for these inputs, see ``note``) and the bootstrap interval
    ``low``..``high`` (None when no bootstrap was asked for or none was defined)."""

    name: str
    label: str
    value: float | None
    low: float | None = None
    high: float | None = None
    note: str | None = None

    @property
    def has_interval(self) -> bool:
        return self.low is not None and self.high is not None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "value": self.value,
                "low": self.low, "high": self.high, "note": self.note}


def percent(share: float) -> str:
    """``share`` (0..1) as a percentage with at most one decimal: 0.95 -> "95%", 0.99444 ->
    "99.4%"."""
    return f"{share * 100:.1f}".removesuffix(".0") + "%"


def _fmt(x: float | None, digits: int) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


@dataclass
class MetricTable:
    """An ordered list of :class:`MetricValue` rows plus what they were computed on.

    Attributes
    ----------
    rows:
        The metrics, in display order.
    task:
        ``"binary"`` or ``"multiclass"``.
    n:
        Number of samples.
    n_boot, seed, confidence:
        The bootstrap settings (``n_boot == 0``: no intervals).
    notes:
        Human-readable remarks (undefined metrics, excluded resamples, ...).
    extras:
        Task-specific arrays: ``"roc"`` (fpr, tpr, thresholds) for binary scores,
        ``"confusion"`` (K, K) int64 and ``"classes"`` (K,) for multiclass.
    """

    rows: list[MetricValue]
    task: str
    n: int
    n_boot: int = 0
    seed: int = 0
    confidence: float = 0.95
    notes: list[str] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)

    def __iter__(self) -> Iterator[MetricValue]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __contains__(self, name: object) -> bool:
        return any(m.name == name for m in self.rows)

    def __getitem__(self, name: str) -> MetricValue:
        for m in self.rows:
            if m.name == name:
                return m
        raise KeyError(f"no metric {name!r}; have {', '.join(m.name for m in self.rows)}")

    def value(self, name: str) -> float | None:
        """The value of metric ``name`` (None when undefined)."""
        return self[name].value

    @property
    def names(self) -> list[str]:
        return [m.name for m in self.rows]

    def confusion(self, prefix: str = "") -> tuple[list[str], np.ndarray] | None:
        """(class labels with ``prefix`` before each, (K, K) int64 matrix, rows: truth) of
        a multi-class table; None when it has no confusion matrix."""
        if "confusion" not in self.extras:
            return None
        return ([f"{prefix}{c}" for c in self.extras["classes"]],
                np.asarray(self.extras["confusion"]))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: settings, ``metrics`` (list of row dicts), notes and extras as lists."""
        out: dict[str, Any] = {
            "task": self.task, "n": self.n, "n_boot": self.n_boot, "seed": self.seed,
            "confidence": self.confidence,
            "metrics": [m.to_dict() for m in self.rows],
            "notes": list(self.notes),
        }
        for key, val in self.extras.items():
            if isinstance(val, tuple):
                out[key] = [np.asarray(v).tolist() for v in val]
            elif isinstance(val, np.ndarray):
                out[key] = val.tolist()
            else:
                out[key] = val
        if "roc" in out:  # the first threshold is +inf, which JSON cannot hold
            fpr, tpr, thr = out["roc"]
            out["roc"] = {"fpr": fpr, "tpr": tpr,
                          "thresholds": [None if not math.isfinite(t) else t for t in thr]}
        return out

    def _interval_header(self) -> str:
        return f"{percent(self.confidence)} CI"

    def _interval_text(self, m: MetricValue, digits: int) -> str:
        if m.has_interval:
            return f"{_fmt(m.low, digits)} to {_fmt(m.high, digits)}"
        return "-" if self.n_boot == 0 or m.value is None else "n/a"

    def to_markdown(self, digits: int = 3) -> str:
        """A GitHub markdown table ``| metric | value | 95% CI |``, notes below as a list."""
        lines = [f"| metric | value | {self._interval_header()} |", "|---|---:|---|"]
        for m in self.rows:
            value = _fmt(m.value, digits)
            lines.append(f"| {m.label} | {value} | {self._interval_text(m, digits)} |")
        if self.notes:
            lines.append("")
            lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines) + "\n"

    def to_rich(self, title: str | None = None, digits: int = 3) -> Table:
        """A :class:`rich.table.Table` of the metrics (notes as the caption)."""
        if title is None:
            boot = f", {self.n_boot} bootstrap resamples" if self.n_boot else ""
            title = f"{self.task} metrics (n={self.n}{boot})"
        table = Table(title=title, title_justify="left", min_width=min(len(title), 100),
                      caption="\n".join(self.notes) or None, caption_justify="left")
        table.add_column("metric")
        table.add_column("value", justify="right")
        table.add_column(self._interval_header(), justify="left")
        for m in self.rows:
            value = _fmt(m.value, digits) if m.value is not None else f"n/a ({m.note})"
            table.add_row(m.label, value, self._interval_text(m, digits))
        return table

    def __rich__(self) -> Table:
        return self.to_rich()


#: A metric evaluator: resample counts (B, n) -> {name: (B,) values, NaN where undefined}.
Evaluator = Callable[[np.ndarray], Mapping[str, np.ndarray]]


def build_table(
    evaluators: list[Evaluator],
    specs: list[tuple[str, str, str]],
    strata: np.ndarray,
    *,
    task: str,
    n_boot: int,
    seed: int,
    confidence: float,
    extras: dict[str, Any] | None = None,
) -> MetricTable:
    """Point estimates and stratified-bootstrap intervals for the metrics in ``specs``.

    ``specs`` lists ``(name, label, reason_if_undefined)``. Each evaluator computes every metric
    on the same samples for many resamples at once; with several evaluators (the repeats of a
    cross-validation, whose out-of-fold predictions cover the same samples) a metric's value on
    a resample is the mean of the evaluators' values, and the point estimate is the mean of
    their point estimates. The same resamples serve every metric and evaluator.
    """
    if not 0.0 < confidence < 1.0:
        raise SynthprintError(f"confidence must be between 0 and 1, got {confidence}")
    n = len(strata)

    def mean_over(counts: np.ndarray) -> dict[str, np.ndarray]:
        per = [ev(counts) for ev in evaluators]
        return {name: np.mean([p[name] for p in per], axis=0) for name, _, _ in specs
                if name in per[0]}

    point = mean_over(np.ones((1, n)))
    boots: dict[str, list[np.ndarray]] = {name: [] for name in point}
    for counts in stratified_counts(strata, n_boot, seed):
        for name, vals in mean_over(counts).items():
            boots[name].append(vals)
    rows, notes = [], []
    for name, label, reason in specs:
        if name not in point:
            continue
        value = float(point[name][0])
        if not math.isfinite(value):
            rows.append(MetricValue(name, label, None, note=reason))
            notes.append(f"{label}: n/a, {reason}")
            continue
        low = high = None
        if n_boot:
            vals = np.concatenate(boots[name])
            bad = int((~np.isfinite(vals)).sum())
            if bad:
                notes.append(f"{label}: {bad} of {n_boot} resamples undefined and left out")
            ci = percentile_interval(vals, confidence)
            if ci is not None:
                low, high = ci
        rows.append(MetricValue(name, label, value, low, high))
    return MetricTable(rows, task, n, n_boot, seed, confidence, notes, dict(extras or {}))


def auc_interval_above_chance(result: MetricTable | MetricValue, chance: float = 0.5) -> bool:
    """True when the ROC AUC interval lies wholly above ``chance`` (0.5): a detectable
    membership signal. False when it includes chance, and also when it lies below: scores
    that rank members lower than chance out of fold are a small-sample artefact of the
    head, not evidence of membership, and their labels would be worse than none.

    Takes a :class:`MetricTable` (uses its ``roc_auc`` row) or a :class:`MetricValue`. Raises
    :class:`SynthprintError` when there is no interval (scores were not given, ``n_boot=0``, or
    the AUC is undefined), since "no signal" cannot be said then.
    """
    if isinstance(result, MetricTable):
        if "roc_auc" not in result:
            raise SynthprintError("the table has no ROC AUC; compute it from scores")
        result = result["roc_auc"]
    m = result
    if not m.has_interval:
        raise SynthprintError(
            f"{m.label} has no interval (value {_fmt(m.value, 3)}); compute it from scores "
            "with n_boot > 0 to say whether it differs from chance"
        )
    assert m.low is not None and m.high is not None
    return m.low > chance
