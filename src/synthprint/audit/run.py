"""Audit a generator: how well do membership attacks do, which training images are at risk,
and which synthetic images are copies.

Every label is known to the generator's owner: training images are members (1), holdout
images are not (0). Each attack (a membership estimator) is cross-validated on them, with the
synthetic images as its generated pool, exactly as an attacker holding some labelled images
would use it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthprint.audit.copies import (
    TOLERANT_LEVEL,
    CopyMatches,
    find_copies,
    identical_groups,
    real_yardstick,
)
from synthprint.errors import SynthprintError
from synthprint.evaluation import CVResult
from synthprint.evaluation.membership_run import run_membership
from synthprint.features import FeatureCache, cached_pairwise, pairwise, select_topk
from synthprint.io import ImageDataset
from synthprint.membership import MembershipEstimator


@dataclass
class Attack:
    """One membership attack's cross-validation on training (1) vs holdout (0) images;
    ``no_signal``: its ROC AUC interval (of the audit's family-wise ``confidence``) does not
    lie above 0.5 (None without an interval)."""

    name: str
    cv: CVResult
    no_signal: bool | None

    @property
    def auc(self) -> float | None:
        return self.cv.pooled.value("roc_auc") if "roc_auc" in self.cv.pooled else None

    @property
    def oof_scores(self) -> np.ndarray:
        """(n_real,) out-of-fold scores, averaged over the repeats."""
        assert self.cv.oof_scores is not None
        return self.cv.oof_scores.mean(axis=0)


@dataclass
class AuditResult:
    """Attacks (best first), the per-image risk of training images, and copy detection.

    ``risk`` has one row per training image, most at risk first: ``risk_score`` (the best
    attack's out-of-fold score, mean over repeats), ``risk_percentile`` (the share of the
    holdout images of its own fold that the same fold's head scores lower, ties half, mean
    over repeats: heads of different folds may score on different scales),
    ``nearest_synthetic`` and ``nearest_ssim``, ``copies`` (flagged synthetic images whose
    nearest training image it is). ``copies`` is the pixel check and ``tolerant_copies``
    the shift- and mirror-tolerant one (:mod:`synthprint.audit.copies`); ``flagged`` is
    either. ``copy_table`` has one row per synthetic image, highest SSIM first, with both
    checks (``copy``: either flagged it; ``found_by``: "pixels", "shift or mirror" or "");
    ``copy_table.attrs["yardstick_pair"]`` and ``["tolerant_yardstick_pair"]`` name the
    closest real pairs.
    ``identical`` lists each group of real images (training or holdout) with the same
    pixels: they count once for the yardstick. ``confidence``: the coverage of every
    attack's intervals, 1 - 0.05 / (number of attacks) (Bonferroni), so that the verdict on
    the best of them is wrong at most 5% of the time when no attack has a signal.
    """

    attacks: list[Attack]
    risk: pd.DataFrame
    copies: CopyMatches
    copy_table: pd.DataFrame
    nearest_values: np.ndarray  # (n_train, k) SSIM of each training image's nearest synthetic
    nearest_indices: np.ndarray  # (n_train, k) their indices into the synthetic images
    identical: list[list[str]]  # names of real images given more than once (same pixels)
    confidence: float = 0.95
    tolerant_copies: CopyMatches | None = None

    @property
    def flagged(self) -> np.ndarray:
        """(S,) bool: synthetic images that either copy check flags."""
        if self.tolerant_copies is None:
            return self.copies.flagged
        return self.copies.flagged | self.tolerant_copies.flagged

    def copied_train_index(self) -> np.ndarray:
        """(S,) int64: for each synthetic image, the training image it copies by the check
        that flagged it (the pixel check first), or its pixel-nearest when none did."""
        return _copied_train_index(self.copies, self.tolerant_copies)

    @property
    def best(self) -> Attack:
        return self.attacks[0]

    @property
    def evidence(self) -> Attack:
        """The attack the verdict rests on: the highest-AUC attack whose (family-wise) AUC
        interval lies above 0.5, or, when none does, the highest-AUC attack."""
        return next((a for a in self.attacks if a.no_signal is False), self.best)

    @property
    def no_signal(self) -> bool:
        """True when no attack's AUC interval lies above 0.5 (the intervals are family-wise,
        so asking each of them keeps the verdict's error at 5%)."""
        return bool(self.evidence.no_signal)


def _copied_train_index(copies: CopyMatches, tolerant: CopyMatches | None) -> np.ndarray:
    """See :meth:`AuditResult.copied_train_index`."""
    idx = copies.indices[:, 0].copy()
    if tolerant is not None:
        only = tolerant.flagged & ~copies.flagged
        idx[only] = tolerant.indices[only, 0]
    return idx


def family_confidence(n_attacks: int, level: float = 0.95) -> float:
    """Coverage of each of ``n_attacks`` intervals so that all hold together with probability
    at least ``level`` (Bonferroni): the audit's verdict takes the best attack, and the best
    of several is above chance by luck more often than one is."""
    return 1.0 - (1.0 - level) / n_attacks


def _fold_percentiles(cv: CVResult, n_train: int) -> np.ndarray:
    """(n_train,) float64: for each member (the first ``n_train`` samples), the share of the
    holdout samples of its own test fold scored lower by that fold's head (ties half; 0.5
    in a fold without holdout samples), averaged over the repeats."""
    assert cv.oof_scores is not None
    total = np.zeros(n_train)
    for fold in cv.folds:
        scores = cv.oof_scores[fold.repeat]
        test = fold.test_idx
        members = test[test < n_train]
        holdout = np.sort(scores[test[test >= n_train]])
        if not len(holdout):
            total[members] += 0.5
            continue
        below = np.searchsorted(holdout, scores[members], side="left")
        upto = np.searchsorted(holdout, scores[members], side="right")
        total[members] += (below + upto) / (2.0 * len(holdout))
    return total / cv.n_repeats


def _risk_table(train: ImageDataset, best: Attack, synthetic: ImageDataset,
                near_values: np.ndarray, near_indices: np.ndarray,
                copies: CopyMatches, tolerant: CopyMatches) -> pd.DataFrame:
    n_train = len(train)
    member = best.oof_scores[:n_train]
    percentile = _fold_percentiles(best.cv, n_train)
    copied_from = np.zeros(n_train, dtype=np.int64)
    flagged = copies.flagged | tolerant.flagged
    np.add.at(copied_from, _copied_train_index(copies, tolerant)[flagged], 1)
    table = pd.DataFrame({
        "name": train.names,
        "risk_score": member,
        "risk_percentile": percentile,
        "nearest_synthetic": [synthetic.names[j] for j in near_indices[:, 0]],
        "nearest_ssim": near_values[:, 0].astype(np.float64),
        "copies": copied_from,
    })
    return table.sort_values(["risk_percentile", "risk_score", "name"],
                             ascending=[False, False, True], kind="mergesort"
                             ).reset_index(drop=True)


def _check_no_image_is_both(train: ImageDataset, holdout: ImageDataset,
                            groups: list[np.ndarray]) -> None:
    """Raise when one of the ``groups`` of identical real images (training images first,
    then holdout) holds both a training and a holdout image: it would be labelled member and
    non-member at once."""
    n = len(train)
    both = [g for g in groups if g[0] < n <= g[-1]]
    if both:
        i, j = int(both[0][0]), int(both[0][-1]) - n
        raise SynthprintError(
            f"{train.paths[i]} and {holdout.paths[j]} are the same image ({len(both)} images "
            "are both in the training and the holdout folder); a holdout image must be one "
            "the generator never saw: remove it from one of the folders")


def run_audit(train: ImageDataset, holdout: ImageDataset, synthetic: ImageDataset,
              attacks: Mapping[str, Callable[[], MembershipEstimator]], *, n_splits: int = 5,
              n_repeats: int = 2, seed: int = 0, n_boot: int = 1000,
              cache: FeatureCache | None = None, quiet: bool = False) -> AuditResult:
    """Cross-validate every attack, rank training images by risk, and find copies.

    Parameters
    ----------
    train, holdout, synthetic:
        The generator's real training images, real images it never saw, and its samples
        (each an :class:`ImageDataset`, images (N, 256, 256) uint8).
    attacks:
        {name: factory} where ``factory()`` returns an unfitted
        :class:`~synthprint.membership.MembershipEstimator`; it is fitted once on all
        training (1) and holdout (0) images and cross-validated with its own
        ``cv_fit_predict`` (the label-free context computed once, the head refitted per
        fold).
    n_splits, n_repeats, seed, n_boot:
        The cross-validation protocol (:func:`synthprint.evaluation.cross_validate`).
    cache:
        Where similarity matrices are kept (a :class:`~synthprint.features.FeatureCache`);
        default (and for a disabled cache): in memory for this audit
        (:meth:`~synthprint.features.FeatureCache.in_memory`, at most 2 GiB). Attacks that
        take a ``cache`` and were given none get this one, so a matrix that several attacks
        (and the copy search) need is computed once. When an attack has computed the SSIM
        of every pair of real images, the copy yardstick is read from it and is exact;
        otherwise it is searched for (:func:`~synthprint.audit.copies.real_yardstick`: exact
        up to 1,000 real images, pruned above).

    Returns
    -------
    AuditResult with attacks sorted by pooled ROC AUC (best first, ties by name).

    Raises :class:`~synthprint.errors.SynthprintError` when an image is both in ``train``
    and in ``holdout`` (same pixels), before any attack runs.
    """
    if not attacks:
        raise ValueError("run_audit needs at least one attack")
    real = np.concatenate([train.images, holdout.images])
    groups = identical_groups(real)
    _check_no_image_is_both(train, holdout, groups)
    if cache is None or not cache.enabled:
        cache = FeatureCache.in_memory()
    y = np.concatenate([np.ones(len(train), np.int64), np.zeros(len(holdout), np.int64)])
    confidence = family_confidence(len(attacks))
    results = []
    for name, factory in attacks.items():
        estimator = factory()
        if estimator.get_params().get("cache", False) is None:
            estimator.set_params(cache=cache)
        run = run_membership(estimator, synthetic.images, real, y, n_splits=n_splits,
                             n_repeats=n_repeats, seed=seed, n_boot=n_boot,
                             confidence=confidence, quiet=quiet)
        results.append(Attack(name, run.cv, run.no_signal))
    results.sort(key=lambda a: (-(a.auc if a.auc is not None else -1.0), a.name))
    yardstick = real_yardstick(
        real, similarities=cached_pairwise(real, real, "ssim", cache=cache), groups=groups,
        quiet=quiet)
    # one exact SSIM matrix serves both directions: copies and each image's nearest; an
    # attack may have computed it already for all real images
    S = cached_pairwise(real, synthetic.images, "ssim", cache=cache)
    S = S[:len(train)] if S is not None else \
        pairwise(train.images, synthetic.images, "ssim", quiet=quiet)
    copies = find_copies(synthetic.images, train.images, yardstick, similarities=S.T,
                         quiet=quiet)
    tolerant_yardstick = real_yardstick(real, level=TOLERANT_LEVEL, mirrored=True,
                                        groups=groups, cache=cache, quiet=quiet)
    tolerant = find_copies(synthetic.images, train.images, tolerant_yardstick, cache=cache,
                           quiet=quiet)
    near_values, near_indices = select_topk(S, 3)
    real_names = train.names + holdout.names
    identical = [[real_names[i] for i in g] for g in groups]
    found_by = np.where(copies.flagged, "pixels",
                        np.where(tolerant.flagged, "shift or mirror", ""))
    copy_table = pd.DataFrame({
        "synthetic": synthetic.names,
        "nearest_train": [train.names[j] for j in copies.indices[:, 0]],
        "ssim": copies.values[:, 0].astype(np.float64),
        "yardstick_ssim": yardstick.value,
        "tolerant_nearest_train": [train.names[j] for j in tolerant.indices[:, 0]],
        "tolerant_ssim": tolerant.values[:, 0].astype(np.float64),
        "tolerant_yardstick_ssim": tolerant_yardstick.value,
        "copy": copies.flagged | tolerant.flagged,
        "found_by": found_by,
    }).sort_values(["ssim", "synthetic"], ascending=[False, True], kind="mergesort")
    copy_table.attrs["yardstick_pair"] = (real_names[yardstick.i], real_names[yardstick.j])
    copy_table.attrs["tolerant_yardstick_pair"] = (real_names[tolerant_yardstick.i],
                                                   real_names[tolerant_yardstick.j])
    risk = _risk_table(train, results[0], synthetic, near_values, near_indices, copies, tolerant)
    return AuditResult(results, risk, copies, copy_table.reset_index(drop=True), near_values,
                       near_indices, identical, confidence, tolerant)
