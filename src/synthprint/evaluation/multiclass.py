"""Multi-class metrics (subtask 2, attribution): labels are any integers (subsets 1..5).

Macro averages are unweighted means over the classes: by default every label seen in
``y_true`` or ``y_pred`` (scikit-learn's default), or the ``classes`` given. They agree with
scikit-learn (``average="macro"``) to 1e-12. Macro specificity, which scikit-learn lacks, is the
mean over classes of one-vs-rest TN / (TN + FP), as in the 2025 results table.

Degenerate inputs: empty input raises :class:`~synthprint.SynthprintError`; a class never
predicted has precision 0, a class never true has recall 0, a class that is every sample has
specificity 0 (scikit-learn's ``zero_division=0``), so the macro values are always defined.
The macro one-vs-rest ROC AUC (only with ``proba``) averages the classes present in ``y_true``
and is undefined (:class:`UndefinedMetricError`) when ``y_true`` holds one class only.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from synthprint._confusion import div0, f1_from_counts
from synthprint.errors import SynthprintError
from synthprint.evaluation._checks import UndefinedMetricError, as_1d, same_length
from synthprint.evaluation.binary import _Levels, score_values
from synthprint.evaluation.table import MetricTable, build_table

LABEL_METRICS = (
    ("accuracy", "accuracy", ""),
    ("macro_precision", "macro precision", ""),
    ("macro_recall", "macro recall", ""),
    ("macro_f1", "macro F1", ""),
    ("macro_specificity", "macro specificity", ""),
)
PROBA_METRICS = (
    ("macro_roc_auc", "macro ROC AUC (one-vs-rest)", "the truth holds one class only"),
)


def _integer_labels(x, what: str) -> np.ndarray:
    arr = as_1d(x, what)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise SynthprintError(f"{what} must hold integer class labels, got dtype {arr.dtype}")
    if not np.issubdtype(arr.dtype, np.integer):
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise SynthprintError(f"{what} must hold integer class labels, got {arr[:5]}")
        arr = arr.astype(np.int64)
    return arr.astype(np.int64)


def _prepare(y_true, y_pred, classes=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices into ``classes`` of the true and predicted labels, and ``classes`` (K,)."""
    t = _integer_labels(y_true, "y_true")
    p = _integer_labels(y_pred, "y_pred")
    same_length(("y_true", t), ("y_pred", p))
    if classes is None:
        classes = np.union1d(t, p)
    else:
        classes = np.asarray(classes, dtype=np.int64)
        if len(np.unique(classes)) != len(classes):
            raise SynthprintError(f"classes {classes.tolist()} holds a class twice")
        unknown = np.setdiff1d(np.union1d(t, p), classes)
        if unknown.size:
            raise SynthprintError(
                f"labels {unknown.tolist()} are not among the classes {classes.tolist()}"
            )
    lookup = {c: i for i, c in enumerate(classes.tolist())}
    ti = np.array([lookup[c] for c in t.tolist()], dtype=np.int64)
    pi = np.array([lookup[c] for c in p.tolist()], dtype=np.int64)
    return ti, pi, classes


def _cells(ti: np.ndarray, pi: np.ndarray, k: int) -> sparse.csr_matrix:
    n = len(ti)
    return sparse.csr_matrix((np.ones(n), (np.arange(n), ti * k + pi)), shape=(n, k * k))


def _weighted_cells(cells: sparse.csr_matrix, w: np.ndarray) -> np.ndarray:
    """(B, K*K) weighted cell counts: w (B, n) times the (n, K*K) one-hot cell matrix."""
    return np.asarray((cells.T @ w.T).T)


def confusion_values(ti: np.ndarray, pi: np.ndarray, k: int, w: np.ndarray) -> np.ndarray:
    """Weighted confusion matrices (B, K, K) (rows true, columns predicted) for weights w."""
    return _weighted_cells(_cells(ti, pi, k), w).reshape(len(w), k, k)


def label_values(ti: np.ndarray, pi: np.ndarray, k: int, w: np.ndarray,
                 cells: sparse.csr_matrix | None = None) -> dict[str, np.ndarray]:
    """Accuracy and macro metrics (B,) for weights ``w`` (B, n)."""
    cells = _cells(ti, pi, k) if cells is None else cells
    cm = _weighted_cells(cells, w).reshape(len(w), k, k)
    tp = np.diagonal(cm, axis1=1, axis2=2)
    fp = cm.sum(axis=1) - tp
    fn = cm.sum(axis=2) - tp
    n = cm.sum(axis=(1, 2))[:, None]
    tn = n - tp - fp - fn
    return {
        "accuracy": tp.sum(axis=1) / n[:, 0],
        "macro_precision": div0(tp, tp + fp).mean(axis=1),
        "macro_recall": div0(tp, tp + fn).mean(axis=1),
        "macro_f1": f1_from_counts(tp, fp, fn).mean(axis=1),
        "macro_specificity": div0(tn, tn + fp).mean(axis=1),
    }


def _proba(proba, n: int, k: int) -> np.ndarray:
    arr = np.asarray(proba, dtype=np.float64)
    if arr.shape != (n, k):
        raise SynthprintError(
            f"proba must have shape ({n}, {k}) (one column per class, in class order), "
            f"got {arr.shape}"
        )
    if not np.isfinite(arr).all():
        raise SynthprintError("proba holds NaN or infinite values")
    return arr


def proba_values(ti: np.ndarray, proba: np.ndarray, w: np.ndarray,
                 levels: list | None = None) -> dict[str, np.ndarray]:
    """Macro one-vs-rest ROC AUC (B,) over the classes present in the truth; NaN if < 2."""
    k = proba.shape[1]
    present = [c for c in range(k) if np.any(ti == c)]
    if len(present) < 2:
        return {"macro_roc_auc": np.full(len(w), np.nan)}
    aucs = []
    for j, c in enumerate(present):
        t = ti == c
        lv = levels[j] if levels is not None else _Levels(t, proba[:, c])
        aucs.append(score_values(t, proba[:, c], w, (), levels=lv)["roc_auc"])
    return {"macro_roc_auc": np.mean(aucs, axis=0)}


# ---------------------------------------------------------------- pure functions

def _point(name: str, y_true, y_pred, classes=None) -> float:
    ti, pi, cls = _prepare(y_true, y_pred, classes)
    return float(label_values(ti, pi, len(cls), np.ones((1, len(ti))))[name][0])


def multiclass_accuracy(y_true, y_pred) -> float:
    """Fraction of samples (n,) whose predicted class equals the true one, in [0, 1]."""
    return _point("accuracy", y_true, y_pred)


def macro_precision(y_true, y_pred, classes=None) -> float:
    """Unweighted mean over classes of TP / (TP + FP) (0 for a class never predicted)."""
    return _point("macro_precision", y_true, y_pred, classes)


def macro_recall(y_true, y_pred, classes=None) -> float:
    """Unweighted mean over classes of TP / (TP + FN) (0 for a class never true)."""
    return _point("macro_recall", y_true, y_pred, classes)


def macro_f1(y_true, y_pred, classes=None) -> float:
    """Unweighted mean over classes of 2TP / (2TP + FP + FN) (0 when that is 0/0)."""
    return _point("macro_f1", y_true, y_pred, classes)


def macro_specificity(y_true, y_pred, classes=None) -> float:
    """Unweighted mean over classes of one-vs-rest TN / (TN + FP) (0 when that is 0/0)."""
    return _point("macro_specificity", y_true, y_pred, classes)


def confusion_matrix(y_true, y_pred, classes=None) -> tuple[np.ndarray, np.ndarray]:
    """``(cm, classes)``: cm (K, K) int64 counts, rows = true class, columns = predicted,
    in the order of ``classes`` (default: sorted labels of ``y_true`` and ``y_pred``)."""
    ti, pi, cls = _prepare(y_true, y_pred, classes)
    cm = confusion_values(ti, pi, len(cls), np.ones((1, len(ti))))[0]
    return np.rint(cm).astype(np.int64), cls


def macro_roc_auc(y_true, proba, classes) -> float:
    """Macro one-vs-rest ROC AUC of ``proba`` (n, K), column j scoring ``classes[j]``.

    Averages over the classes present in ``y_true`` (scikit-learn's ``multi_class="ovr"``,
    which needs every column's class present). Raises :class:`UndefinedMetricError` when
    ``y_true`` holds one class only.
    """
    classes = np.asarray(classes, dtype=np.int64)
    ti, _, cls = _prepare(y_true, y_true, classes)
    pr = _proba(proba, len(ti), len(cls))
    v = float(proba_values(ti, pr, np.ones((1, len(ti))))["macro_roc_auc"][0])
    if not np.isfinite(v):
        raise UndefinedMetricError("macro ROC AUC is undefined: y_true holds one class only")
    return v


# ---------------------------------------------------------------- the table

def multiclass_metrics(y_true, y_pred, proba=None, *, classes=None, n_boot: int = 1000,
                       seed: int = 0, confidence: float = 0.95) -> MetricTable:
    """Accuracy, macro precision / recall / F1 / specificity (and macro one-vs-rest ROC AUC
    when ``proba`` is given) with stratified-bootstrap intervals, as a :class:`MetricTable`.

    Parameters
    ----------
    y_true, y_pred:
        (n,) integer class labels (subsets 1..5 for subtask 2).
    proba:
        (n, K) class probabilities or scores, column j for ``classes[j]``, or None.
    classes:
        (K,) the classes in column order; default: the sorted labels of ``y_true`` and
        ``y_pred`` (then ``proba`` must have that many columns).
    n_boot, seed, confidence:
        As in :func:`~synthprint.evaluation.binary_metrics` (resampling within true classes).

    ``extras["confusion"]`` holds the (K, K) int64 confusion matrix, ``extras["classes"]`` the
    classes.
    """
    return _multiclass_table([(y_true, y_pred, proba)], classes=classes, n_boot=n_boot,
                             seed=seed, confidence=confidence)


def _multiclass_table(runs: list[tuple], *, classes=None, n_boot: int, seed: int,
                      confidence: float) -> MetricTable:
    y_true = runs[0][0]
    if classes is None:
        labels = [_integer_labels(y_true, "y_true")]
        labels += [_integer_labels(r[1], "y_pred") for r in runs if r[1] is not None]
        classes = np.unique(np.concatenate(labels))
    has_proba = {r[2] is not None for r in runs}
    if len(has_proba) > 1:
        raise SynthprintError("every repeat must give probabilities alike (all or none)")
    evaluators = []
    cms = []
    for _, y_pred, proba in runs:
        if y_pred is None:
            raise SynthprintError("multiclass metrics need predicted labels (y_pred)")
        ti, pi, cls = _prepare(y_true, y_pred, classes)
        k = len(cls)
        cells = _cells(ti, pi, k)
        cms.append(confusion_values(ti, pi, k, np.ones((1, len(ti))))[0])
        parts = [lambda w, ti=ti, pi=pi, k=k, cells=cells: label_values(ti, pi, k, w, cells)]
        if proba is not None:
            pr = _proba(proba, len(ti), k)
            present = [c for c in range(k) if np.any(ti == c)]
            levels = [_Levels(ti == c, pr[:, c]) for c in present]
            parts.append(lambda w, ti=ti, pr=pr, lv=levels: proba_values(ti, pr, w, lv))
        evaluators.append(lambda w, parts=parts: {k_: v for f in parts for k_, v in
                                                  f(w).items()})
    specs = list(LABEL_METRICS) + (list(PROBA_METRICS) if has_proba.pop() else [])
    extras = {"confusion": np.rint(np.sum(cms, axis=0)).astype(np.int64),
              "classes": np.asarray(classes, dtype=np.int64)}
    table = build_table(evaluators, specs, ti, task="multiclass", n_boot=n_boot, seed=seed,
                        confidence=confidence, extras=extras)
    if len(runs) > 1:
        table.notes.append(f"confusion matrix summed over {len(runs)} repeats")
    return table
