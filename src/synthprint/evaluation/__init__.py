"""Metrics with bootstrap intervals, and the cross-validation protocol.

Pure metric functions over label and score arrays (:mod:`~synthprint.evaluation.binary`,
:mod:`~synthprint.evaluation.multiclass`), table builders that add seeded, class-stratified
bootstrap intervals (:func:`binary_metrics`, :func:`multiclass_metrics` returning a
:class:`MetricTable`), and :func:`cross_validate`, the repeated stratified K-fold protocol
behind every "train CV" number.
"""

from synthprint.evaluation._checks import UndefinedMetricError
from synthprint.evaluation.binary import (
    accuracy,
    binary_metrics,
    cohen_kappa,
    f1,
    precision,
    recall,
    roc_auc,
    roc_auc_difference,
    roc_curve,
    specificity,
    tpr_at_fpr,
)
from synthprint.evaluation.cv import CVResult, Fold, cross_validate
from synthprint.evaluation.multiclass import (
    confusion_matrix,
    macro_f1,
    macro_precision,
    macro_recall,
    macro_roc_auc,
    macro_specificity,
    multiclass_accuracy,
    multiclass_metrics,
)
from synthprint.evaluation.runs import Evaluation, evaluate_run, read_predictions
from synthprint.evaluation.table import MetricTable, MetricValue, auc_interval_above_chance

__all__ = [
    "CVResult",
    "Evaluation",
    "Fold",
    "MetricTable",
    "MetricValue",
    "UndefinedMetricError",
    "accuracy",
    "auc_interval_above_chance",
    "roc_auc_difference",
    "binary_metrics",
    "cohen_kappa",
    "confusion_matrix",
    "cross_validate",
    "evaluate_run",
    "f1",
    "macro_f1",
    "macro_precision",
    "macro_recall",
    "macro_roc_auc",
    "macro_specificity",
    "multiclass_accuracy",
    "multiclass_metrics",
    "precision",
    "read_predictions",
    "recall",
    "roc_auc",
    "roc_curve",
    "specificity",
    "tpr_at_fpr",
]
