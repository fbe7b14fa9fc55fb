"""Score a run file (or a scores CSV) against a truth file: the library side of
``synthprint evaluate``."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

from synthprint.errors import SynthprintError
from synthprint.evaluation.binary import binary_metrics
from synthprint.evaluation.multiclass import multiclass_metrics
from synthprint.evaluation.table import MetricTable
from synthprint.io.layouts import natural_key
from synthprint.io.submission import TASK_LABELS, read_run_bytes
from synthprint.io.tables import decode_table, read_label_lines, stem_ids
from synthprint.io.validator import validate_text

_NAME_COLS = ("name", "id", "image", "image_id", "file", "filename")
_SCORE_COLS = ("score", "scores", "proba", "probability")
_LABEL_COLS = ("label", "labels", "prediction", "pred", "class", "subset", "used")


@dataclass
class Predictions:
    """What a run or scores file says about each image: ``names`` (n,), ``labels`` (n,) int64
    or None, ``scores`` (n,) float64 or None, ``source`` for messages, and the file's number
    of ``columns`` (2 for a run)."""

    names: list[str]
    labels: np.ndarray | None
    scores: np.ndarray | None
    source: str
    columns: int = 2

    @property
    def names_have_extensions(self) -> bool:
        """True unless no name has a file extension (a 2023 run's ids)."""
        return any(PurePosixPath(n).suffix for n in self.names)


def _number(token: str, source: str, lineno: int) -> float:
    try:
        x = float(token)
    except ValueError:
        raise SynthprintError(f"{source}:{lineno}: {token!r} is not a number") from None
    if not math.isfinite(x):
        raise SynthprintError(f"{source}:{lineno}: {token!r} is not a finite number")
    return x


def read_predictions(path: str | Path) -> Predictions:
    """Read a run (``name,label``; a ``.csv`` or a zip holding ``run.csv``) or a scores CSV
    (``name,score`` or ``name,score,label``), with or without a header row.

    Without a header, two columns are labels when every value is a whole number and scores
    otherwise; three columns are ``name,score,label``. A header names the columns (``name``,
    ``score``, ``label`` and common synonyms); per-class probability columns ``p_<class>``
    (``synthprint attribute``'s scores.csv) are read past, the label column is scored. Blank
    lines and a byte-order mark are ignored.
    """
    return _parse_predictions(*read_run_bytes(path))


def _parse_predictions(data: bytes, source: str) -> Predictions:
    text = decode_table(data, source)
    rows = [(i, [t.strip() for t in row]) for i, row in
            enumerate(csv.reader(io.StringIO(text, newline="")), start=1) if any(
                t.strip() for t in row)]
    if not rows:
        raise SynthprintError(f"{source}: holds no rows; expected 'name,label' or 'name,score'")
    first = rows[0][1]
    header = None
    if len(first) >= 2:
        try:
            float(first[1])
        except ValueError:
            header = [t.lower() for t in first]
            rows = rows[1:]
    width = len(header) if header else len(first)
    if header:
        unknown = [h for h in header[1:]
                   if h not in _SCORE_COLS + _LABEL_COLS and not h.startswith("p_")]
        if unknown or header[0] not in _NAME_COLS:
            raise SynthprintError(
                f"{source}:1: header {','.join(header)!r} not understood; name the columns "
                "'name,label', 'name,score' or 'name,score,label' (or 'name,p_t1,...,label')")
        score_col = next((i for i, h in enumerate(header) if h in _SCORE_COLS), None)
        label_col = next((i for i, h in enumerate(header) if h in _LABEL_COLS), None)
        if label_col is None and any(h.startswith("p_") for h in header):
            raise SynthprintError(f"{source}:1: per-class columns but no 'label' column; "
                                  "evaluate scores the labels (name,p_t1,...,label)")
    else:
        if width not in (2, 3):
            raise SynthprintError(f"{source}:{rows[0][0]}: expected 'name,label', 'name,score' "
                                  f"or 'name,score,label', got {width} columns")
        score_col, label_col = (1, 2) if width == 3 else (1, None)
    names, values = [], []
    seen: dict[str, int] = {}
    for lineno, toks in rows:
        if len(toks) != width:
            raise SynthprintError(f"{source}:{lineno}: {len(toks)} columns where {width} are "
                                  "expected")
        if toks[0] in seen:
            raise SynthprintError(f"{source}:{lineno}: {toks[0]} is given twice (first on line "
                                  f"{seen[toks[0]]})")
        seen[toks[0]] = lineno
        names.append(toks[0])
        values.append([_number(t, source, lineno) for t in toks[1:]])
    vals = np.array(values, dtype=np.float64)
    scores = vals[:, score_col - 1] if score_col is not None else None
    labels = vals[:, label_col - 1] if label_col is not None else None
    if header is None and width == 2 and np.all(scores == np.round(scores)):
        labels, scores = scores, None
    if labels is not None:
        if not np.all(labels == np.round(labels)):
            raise SynthprintError(f"{source}: the label column holds non-integer values")
        labels = labels.astype(np.int64)
    return Predictions(names, labels, scores, source, width)


@dataclass
class Evaluation:
    """A run scored against the truth: the metrics ``table``, ``task`` (binary/multiclass),
    the aligned ``names`` (truth names, natural order), ``matched_by`` ("name" or "stem")."""

    table: MetricTable
    task: str
    names: list[str]
    matched_by: str
    notes: list[str] = field(default_factory=list)


def _align(pred: Predictions, truth: dict[str, int], truth_path: str
           ) -> tuple[list[str], np.ndarray, str]:
    """Index into ``pred`` of each truth name (natural order), and how names were matched:
    by name, or, when they share none and one side has 2023 ids (no extension) while the
    other has file names, by the file names' stems."""
    index = {n: i for i, n in enumerate(pred.names)}
    truth_names = sorted(truth, key=natural_key)
    matched_by = "name"
    keys = truth_names
    if not set(pred.names) & set(truth_names):
        if not pred.names_have_extensions:
            keys = stem_ids(truth_names, truth_path)
            matched_by = "stem"
        elif not any(PurePosixPath(n).suffix for n in truth_names):
            index = {k: i for i, k in enumerate(stem_ids(pred.names, pred.source))}
            matched_by = "stem"
    missing = [k for k in keys if k not in index]
    extra = sorted(set(index) - set(keys), key=natural_key)
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"{pred.source}: lacks {len(missing)} of the {len(keys)} images of "
                         f"{truth_path} (first: {missing[0]})")
        if extra:
            parts.append(f"{pred.source}: names {len(extra)} images that {truth_path} "
                         f"does not have (first: {extra[0]})")
        raise SynthprintError("; ".join(parts) + "; the run and the truth must name the same "
                              "images (2023 ids without extension match by name stem)")
    return truth_names, np.array([index[k] for k in keys], dtype=np.int64), matched_by


def evaluate_run(run: str | Path, truth: str | Path, *, task: str | None = None,
                 n_boot: int = 1000, seed: int = 0) -> Evaluation:
    """Metrics of a run (or scores CSV) against a ``name,label`` truth file.

    Names match exactly; when they share none and the run's names have no extension (a 2023
    run), they match by the truth names' stems, and a truth of 2023 ids matches a run's file
    names by their stems, which the result says (``matched_by``). The task is binary when
    every truth label is 0 or 1, else multiclass (``task`` overrides); a membership run (0/1
    labels or scores only, of ``real_unknown`` images) against a truth with other labels is
    an error in the truth, not a multiclass task.
    """
    truth_map, truth_lines = read_label_lines(truth)
    data, source = read_run_bytes(run)
    pred = _parse_predictions(data, source)
    names, idx, matched_by = _align(pred, truth_map, str(truth))
    y = np.array([truth_map[n] for n in names], dtype=np.int64)
    if task not in (None, "binary", "multiclass"):
        raise SynthprintError(f"task must be binary or multiclass, got {task!r}")
    if not np.isin(y, (0, 1)).all() and (task == "binary"
                                         or (task is None and _is_membership_run(pred))):
        bad = sorted((n for n in names if truth_map[n] not in (0, 1)), key=truth_lines.get)
        why = ("--task binary was asked for" if task == "binary" else
               f"{pred.source} is a membership run (0/1 labels of real_unknown images)")
        raise SynthprintError(
            f"{truth}:{truth_lines[bad[0]]}: {bad[0]} has label {truth_map[bad[0]]}, but "
            f"{why}; membership labels are 0 (not used) or 1 (used): fix the truth "
            f"({len(bad)} labels are not 0/1), or pass --task multiclass")
    if task is None:
        task = "binary" if np.isin(y, (0, 1)).all() else "multiclass"
    notes = []
    if matched_by == "stem":
        notes.append("run ids have no extension (2023 run): matched to truth names by stem"
                     if not pred.names_have_extensions else
                     "truth ids have no extension (2023 truth): matched to run names by stem")
    labels = None if pred.labels is None else pred.labels[idx]
    scores = None if pred.scores is None else pred.scores[idx]
    if task == "binary":
        if labels is not None and not np.isin(labels, (0, 1)).all():
            bad = sorted(set(labels.tolist()) - {0, 1})[:5]
            raise SynthprintError(f"{pred.source}: labels {bad} are not 0/1, but {truth} is a "
                                  "binary (membership) truth")
        table = binary_metrics(y, labels, scores, n_boot=n_boot, seed=seed)
    else:
        if labels is None:
            raise SynthprintError(f"{pred.source}: has scores only, but {truth} is multiclass; "
                                  "multiclass runs need 'name,label' rows")
        if scores is not None:
            notes.append("scores ignored: multiclass metrics use the labels")
        table = multiclass_metrics(y, labels, n_boot=n_boot, seed=seed)
    rejection = _upload_rejection(data, pred, idx, y, task)
    if rejection:
        notes.append(rejection)
    return Evaluation(table, task, names, matched_by, notes)


def _is_membership_run(pred: Predictions) -> bool:
    """True when ``pred`` reads as a membership run: 0/1 labels (or scores only) of
    ``real_unknown`` images (``real_unknown_1.png``, or the 2023 id ``real_unknown_0001``)."""
    if pred.labels is not None and not np.isin(pred.labels, (0, 1)).all():
        return False
    return all(PurePosixPath(n).name.lower().startswith("real_unknown") for n in pred.names)


def _upload_rejection(data: bytes, pred: Predictions, idx: np.ndarray, y: np.ndarray,
                      task: str) -> str | None:
    """Why the challenge's validator would reject the run ``data`` (a ``name,label`` run of a
    challenge task, judged against the truth's images), or None: evaluate scores a run it
    can read, which is more than the organisers accept (a header row, ``1.0`` labels).
    Scores files (a score or per-class columns) are not runs and are not checked. The
    edition is 2023 when the run's ids have no extension, else 2025."""
    kind = "membership" if task == "binary" else "attribution"
    edition = 2025 if pred.names_have_extensions else 2023
    if pred.scores is not None or pred.columns != 2 \
            or (edition, kind) == (2023, "attribution") \
            or not np.isin(y, TASK_LABELS[kind]).all():
        return None
    report = validate_text(data, [pred.names[i] for i in idx], edition=edition, task=kind,
                           source=pred.source)
    if report.valid:
        return None
    return (f"the {edition} validator would reject this run, though it is scored here: "
            f"{report.first_error.format(pred.source)} (synthprint validate lists every "
            "problem)")
