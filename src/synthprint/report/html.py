"""Render a run record into one self-contained HTML file (images and plots embedded)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
from jinja2 import Environment, PackageLoader

from synthprint.evaluation.table import percent
from synthprint.io.writers import atomic_write_text
from synthprint.report.plots import confusion_plot, roc_plot, score_histogram
from synthprint.report.record import load_record, to_jsonable
from synthprint.report.thumbnails import data_uri, thumbnail

REPORT_NAME = "report.html"

#: Most rows the per-image table embeds; beyond this the page says how many were left out
#: (the full table is always in the run's CSV file).
MAX_TABLE_ROWS = 50_000


def _read_table(out: Path, spec: dict[str, Any] | None) -> dict[str, Any] | None:
    if not spec:
        return None
    path = out / spec["file"]
    if not path.is_file():
        return {"columns": [], "rows": [], "missing": str(path), "total": 0}
    with path.open(newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, [])
        rows = []
        total = 0
        for row in reader:
            total += 1
            if len(rows) < MAX_TABLE_ROWS:
                rows.append([_cell(v) for v in row])
    return {"columns": header, "rows": rows, "total": total, "file": spec["file"],
            "sort": spec.get("sort"), "descending": spec.get("descending", True)}


def _cell(value: str) -> Any:
    try:
        number = float(value)
    except ValueError:
        return value
    return int(number) if number.is_integer() and "." not in value else number


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _plots(record: dict[str, Any]) -> list[dict[str, str]]:
    plots = []
    curves = [c for c in record.get("curves", []) if c.get("y_true")]
    binary = [c for c in curves if set(c["y_true"]) <= {0, 1}]
    if binary:
        plots.append({"id": "roc", "title": "ROC curve (log-scale false positive rate)",
                      "src": data_uri(roc_plot([(c["title"], np.asarray(c["y_true"]),
                                                 np.asarray(c["scores"]), c.get("auc"))
                                                for c in binary]))})
        first = binary[0]
        y, s = np.asarray(first["y_true"]), np.asarray(first["scores"], dtype=float)
        names = first.get("class_names", ["not used (0)", "used (1)"])
        plots.append({"id": "histogram", "title": f"Score histogram by class: {first['title']}",
                      "src": data_uri(score_histogram([(names[0], s[y == 0]),
                                                       (names[1], s[y == 1])]))})
    for c in record.get("histograms", []):
        plots.append({"id": "histogram-" + c["title"].replace(" ", "-"), "title": c["title"],
                      "src": data_uri(score_histogram([(g["label"], np.asarray(g["scores"]))
                                                       for g in c["groups"]],
                                                      c.get("xlabel", "score")))})
    conf = record.get("confusion")
    if conf:
        plots.append({"id": "confusion", "title": conf.get("title", "Confusion matrix"),
                      "src": data_uri(confusion_plot(np.asarray(conf["matrix"]),
                                                     [str(v) for v in conf["labels"]],
                                                     conf.get("title", "Confusion")))})
    return plots


def _gallery(record: dict[str, Any], thumb: int, key: str = "gallery") -> list[dict[str, Any]]:
    items = []
    for entry in record.get(key, []):
        matches = [{**m, "thumb": thumbnail(m["image"], thumb)} for m in entry.get("matches", [])]
        items.append({**entry, "thumb": thumbnail(entry["image"], thumb), "matches": matches})
    return items


def _uncertain(record: dict[str, Any], thumb: int) -> list[dict[str, Any]]:
    return [{**u, "thumb": thumbnail(u["image"], thumb)} for u in record.get("uncertain", [])]


def render_report(record: dict[str, Any], out: str | Path, *, thumb: int = 112) -> str:
    """The HTML text of the report for ``record``; ``out`` is the run folder (for its CSVs)."""
    record = to_jsonable(record)
    env = Environment(loader=PackageLoader("synthprint.report", "templates"),
                      autoescape=True, trim_blocks=True,
                      lstrip_blocks=True)
    env.filters["fmt"] = _fmt
    env.filters["percent"] = percent
    table = _read_table(Path(out), record.get("table"))
    return env.get_template("report.html.j2").render(
        record=record,
        plots=_plots(record),
        gallery=_gallery(record, thumb),
        copy_gallery=_gallery(record, thumb, "copy_gallery"),
        uncertain=_uncertain(record, thumb),
        table=table,
        table_json=json.dumps(table or {}, separators=(",", ":")).replace("</", "<\\/"),
    )


def write_report(out: str | Path, *, force: bool = False, record: dict[str, Any] | None = None,
                 ) -> Path:
    """(Re)build ``out/report.html`` from ``out/record.json`` (or the given record)."""
    out = Path(out)
    record = record if record is not None else load_record(out)
    return atomic_write_text(out / REPORT_NAME, render_report(record, out), force=force)
