"""One membership run as the command line does it: fit a method once, cross-validate it on
the labelled real images, and label the test images (with the no-signal policy).

The CLI, the benchmark and the audit all go through :func:`run_membership`, so "the labels
the CLI writes" is one piece of code, not a promise kept by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthprint.evaluation.cv import CVResult, cross_validate
from synthprint.evaluation.table import auc_interval_above_chance
from synthprint.membership import MembershipEstimator
from synthprint.membership.decision import no_signal_labels


@dataclass
class MembershipRun:
    """What :func:`run_membership` found.

    estimator: the fitted method; cv: the train cross-validation; no_signal: its ROC AUC
    interval does not lie above 0.5 (None when there is no interval: ``n_boot=0``); scores (T,)
    float64, method_labels (T,) int64 (the method's own decision) and labels (T,) int64
    (what is written: the no-signal policy applied) of the test images, None without test
    images; labels_note: what ``labels`` are, in words.
    """

    estimator: MembershipEstimator
    cv: CVResult
    no_signal: bool | None
    scores: np.ndarray | None = None
    method_labels: np.ndarray | None = None
    labels: np.ndarray | None = None
    labels_note: str = ""


def run_membership(estimator: MembershipEstimator, generated: np.ndarray, real: np.ndarray,
                   y: np.ndarray, test: np.ndarray | None = None, *, n_splits: int = 5,
                   n_repeats: int = 2, seed: int = 0, n_boot: int = 1000,
                   when_no_signal: str = "all-used", confidence: float = 0.95,
                   quiet: bool = True) -> MembershipRun:
    """Fit ``estimator`` (unfitted) on ``generated`` (G, H, W) uint8 and the labelled
    ``real`` (R, H, W) uint8 images with labels ``y`` (R,) in {0, 1}; cross-validate it with
    its label-free context computed once over every real image, ``test`` (T, H, W) uint8
    included (their labels are never read); then score and label ``test``.

    When the CV's ROC AUC interval (of coverage ``confidence``) does not lie above 0.5 and
    the estimator has no ``prior``, the written labels follow ``when_no_signal``
    (:func:`~synthprint.membership.decision.no_signal_labels`).
    """
    est = estimator.fit(generated, real, y)
    cv = cross_validate(est.cv_fit_predict(unlabelled=test), y, task="binary",
                        n_splits=n_splits, n_repeats=n_repeats, seed=seed, n_boot=n_boot,
                        confidence=confidence, quiet=quiet)
    auc = cv.pooled["roc_auc"]
    no_signal = not auc_interval_above_chance(auc) if auc.has_interval else None
    run = MembershipRun(est, cv, no_signal)
    if test is None:
        return run
    run.scores = est.score_samples(test)
    run.method_labels = est.predict(test)
    prior = getattr(est, "prior", None)
    run.labels, run.labels_note = run.method_labels, (
        "labels from the method's decision" if prior is None else
        f"the highest-scored {float(prior):g} share of the images labelled used (the prior)")
    if no_signal and prior is None:
        run.labels, run.labels_note = no_signal_labels(run.method_labels, when_no_signal)
    return run
