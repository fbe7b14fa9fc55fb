"""Combine attribution estimators, optionally with guarded pseudo-labelling of unlabelled images.

The members' probabilities are pooled geometrically (a weighted mean of log-probabilities,
renormalised), so a member that is sure and right is not drowned by one that is unsure. With
``weights="cv"`` (the default) the weights are chosen by cross-validation on the labelled
images: each member's out-of-fold probabilities are pooled with every weight vector on a grid
over the simplex, and the one with the lowest out-of-fold log-loss wins (ties go to the most
even weights).

Pseudo-labelling (the 2025 runner-up's idea) adds the unlabelled test images that the
ensemble is confident about to the training set, with their predicted subsets. It is guarded
by a held-out fold of the *labelled* images: the fold is never trained on and never
pseudo-labelled; the members are fitted once without and once with the pseudo-labels (both
on the rest of the labelled images), and the pseudo-labels are kept only if the held-out
accuracy does not fall and its log-loss does not rise. The decision never looks at the
images it is scored on, so it cannot inflate its own score. (The pooling weights stay those
chosen on all labelled images; both arms of the comparison use the same ones.)
"""

from __future__ import annotations

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold

from synthprint._validation import check_image_stack
from synthprint.attribution._base import AttributionEstimator, log_loss, softmax
from synthprint.attribution.residual import ResidualFingerprint
from synthprint.attribution.spectral import SpectralFingerprint


def default_members() -> list[tuple[str, AttributionEstimator]]:
    """The members used when none are given: residual and spectral fingerprints."""
    return [("residual", ResidualFingerprint()), ("spectral", SpectralFingerprint())]


def pool_log_probabilities(probas: list[np.ndarray], weights: np.ndarray) -> np.ndarray:
    """Weighted geometric pooling of (M, K) probability arrays -> (M, K) float64, rows sum
    to 1. Probabilities are floored at 1e-12 first."""
    return softmax(sum(w * np.log(np.maximum(p, 1e-12)) for w, p in zip(weights, probas)))


def simplex_grid(n: int, step: float) -> np.ndarray:
    """All weight vectors of ``n`` non-negative multiples of ``step`` summing to 1:
    (G, n) float64, in lexicographic order of the integer counts."""
    total = int(round(1.0 / step))

    def rec(k: int, left: int):
        if k == 1:
            yield (left,)
            return
        for first in range(left, -1, -1):
            for rest in rec(k - 1, left - first):
                yield (first, *rest)

    return np.array(list(rec(n, total)), dtype=np.float64) / total


class Ensemble(AttributionEstimator):
    """Geometric pooling of several attribution estimators, with optional pseudo-labels.

    Parameters
    ----------
    estimators : list of (name, estimator) pairs; ``None`` = :func:`default_members`.
        Each is cloned before fitting.
    weights : ``"cv"`` (weights chosen by cross-validated log-loss, see the module
        docstring), one weight per member (normalised to sum 1), or ``None`` (equal).
    cv_folds : folds for ``weights="cv"`` (fewer when a training fold would keep fewer than
        2 images of a subset; with 2 images in a subset, equal weights).
    weight_step : spacing of the weight grid for ``weights="cv"``.
    pseudo_label : use the ``unlabelled`` images given to :meth:`fit`.
    threshold : minimum pooled probability for an unlabelled image to get a pseudo-label.
    max_unlabelled : at most this many unlabelled images (a seeded random sample) are
        considered, which bounds the extra cost.
    holdout_fraction : stratified share of the labelled generated images held out to decide
        whether the pseudo-labels help.
    random_state : seeds the held-out split and the sample of unlabelled images.
    verbose : progress bars (passed to members that have ``verbose``).

    Attributes
    ----------
    classes_ : (K,) int64 subset numbers.
    estimators_ : fitted members, in order.
    weights_ : (n_members,) float64 normalised weights.
    cv_scores_ : for ``weights="cv"``: dict with each member's out-of-fold accuracy and
        log-loss and the pooled out-of-fold accuracy and log-loss at ``weights_``.
    pseudo_labelling_ : dict describing the pseudo-labelling decision (``None`` when not
        attempted): n_unlabelled, n_pseudo, holdout sizes, accuracies and log-losses
        without / with, accepted, and n_pseudo_final (pseudo-labels in the final fit).
    """

    def __init__(self, estimators: list[tuple[str, AttributionEstimator]] | None = None,
                 weights: list[float] | str | None = "cv", cv_folds: int = 5,
                 weight_step: float = 0.1, pseudo_label: bool = False,
                 threshold: float = 0.95, max_unlabelled: int = 2000,
                 holdout_fraction: float = 0.2, random_state: int = 0, verbose: bool = False):
        self.estimators = estimators
        self.weights = weights
        self.cv_folds = cv_folds
        self.weight_step = weight_step
        self.pseudo_label = pseudo_label
        self.threshold = threshold
        self.max_unlabelled = max_unlabelled
        self.holdout_fraction = holdout_fraction
        self.random_state = random_state
        self.verbose = verbose

    def get_params(self, deep: bool = True) -> dict:
        """Parameters of the ensemble; with ``deep`` also each member as ``name`` and its
        parameters as ``name__param`` (as :class:`sklearn.ensemble.VotingClassifier` does;
        the default members when ``estimators`` is None)."""
        params = super().get_params(deep=False)
        if deep:
            members = self.estimators if self.estimators is not None else default_members()
            for name, est in members:
                params[name] = est
                params.update({f"{name}__{k}": v for k, v in est.get_params(deep=True).items()})
        return params

    def set_params(self, **params) -> Ensemble:
        """Set parameters: the ensemble's own, a member by ``name``, or a member's parameter
        by ``name__param`` (``estimators=None`` becomes the default members first)."""
        own = {k: params.pop(k) for k in list(params) if k in self._get_param_names()}
        super().set_params(**own)
        if not params:
            return self
        members = list(self.estimators if self.estimators is not None else default_members())
        names = [name for name, _ in members]
        for key, value in params.items():
            name, _, sub = key.partition("__")
            if name not in names:
                raise ValueError(f"invalid parameter {key!r} for Ensemble: members are "
                                 f"{names}, own parameters {sorted(self._get_param_names())}")
            i = names.index(name)
            if sub:
                members[i][1].set_params(**{sub: value})
            else:
                members[i] = (name, value)
        self.estimators = members
        return self

    def _members(self) -> list[tuple[str, AttributionEstimator]]:
        members = self.estimators if self.estimators is not None else default_members()
        if not members:
            raise ValueError("Ensemble needs at least one estimator")
        out = []
        for name, est in members:
            est = clone(est)
            if "verbose" in est.get_params():
                est.set_params(verbose=self.verbose)
            out.append((name, est))
        return out

    def _fit_members(self, generated, subsets, real, real_subsets):
        fitted = []
        for _, est in self._members():
            est.fit(generated, subsets, real, real_subsets)
            if not np.array_equal(est.classes_, self.classes_):
                raise ValueError(f"{type(est).__name__} learned subsets {est.classes_}, "
                                 f"expected {self.classes_}")
            fitted.append(est)
        return fitted

    def _pool(self, fitted, images: np.ndarray) -> np.ndarray:
        used = [(est, w) for est, w in zip(fitted, self.weights_) if w > 0]
        return pool_log_probabilities([est.predict_proba(images) for est, _ in used],
                                      np.array([w for _, w in used]))

    def _confident(self, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        keep = np.flatnonzero(proba.max(axis=1) >= self.threshold)
        return keep, self.classes_[proba[keep].argmax(axis=1)]

    def fit(self, generated: np.ndarray, subsets: np.ndarray, real: np.ndarray | None = None,
            real_subsets: np.ndarray | None = None, *,
            unlabelled: np.ndarray | None = None) -> Ensemble:
        """Fit every member; with ``pseudo_label`` and ``unlabelled`` (U, S, S) uint8 images,
        try guarded pseudo-labelling (see the module docstring).

        generated : (N, S, S) uint8; subsets : (N,) ints >= 1; real, real_subsets : the
        labelled real images or None.
        """
        generated, subsets, real, real_subsets = self._check_fit(
            generated, subsets, real, real_subsets)
        self._seed()   # a bad random_state is refused before any member is fitted
        n_members = len(self._members())
        self.cv_scores_ = None
        if isinstance(self.weights, str):
            if self.weights != "cv":
                raise ValueError(f"weights must be 'cv', a list or None, got {self.weights!r}")
            w = self._cv_weights(generated, subsets, real, real_subsets, n_members)
        else:
            w = np.ones(n_members) if self.weights is None \
                else np.asarray(self.weights, float)
        if w.shape != (n_members,) or np.any(w < 0) or w.sum() <= 0:
            raise ValueError(f"weights must be {n_members} non-negative numbers, got "
                             f"{self.weights}")
        self.weights_ = w / w.sum()
        self.pseudo_labelling_ = None
        self.estimators_ = self._fit_members(generated, subsets, real, real_subsets)
        if self.pseudo_label and unlabelled is not None and len(unlabelled):
            unlabelled = check_image_stack(unlabelled, "unlabelled", square=True, min_size=8)
            self._pseudo_label(generated, subsets, real, real_subsets, unlabelled)
        return self

    def _cv_weights(self, generated, subsets, real, real_subsets, n_members) -> np.ndarray:
        y = np.searchsorted(self.classes_, subsets)
        if n_members == 1:
            return np.ones(1)
        smallest = int(np.bincount(y).min())
        folds = int(min(self.cv_folds, smallest))
        while folds >= 2 and smallest - -(-smallest // folds) < 2:
            folds -= 1   # every training fold keeps 2 images a subset, as members need
        if folds < 2:
            return np.ones(n_members)   # too few images to weigh members: equal weights
        oof = np.zeros((n_members, len(y), len(self.classes_)))
        cv = StratifiedKFold(folds, shuffle=True, random_state=self._seed())
        for tr, te in cv.split(np.zeros(len(y)), y):
            for m, est in enumerate(self._fit_members(generated[tr], subsets[tr], real,
                                                      real_subsets)):
                oof[m, te] = est.predict_proba(generated[te])
        grid = simplex_grid(n_members, self.weight_step)
        losses = np.array([log_loss(pool_log_probabilities(list(oof), w), y) for w in grid])
        evenness = np.abs(grid - 1.0 / n_members).sum(axis=1)
        best = np.lexsort((evenness, np.round(losses, 9)))[0]
        pooled = pool_log_probabilities(list(oof), grid[best])
        names = [name for name, _ in self._members()]
        self.cv_scores_ = {
            "members": {n: {"accuracy": float(np.mean(p.argmax(1) == y)),
                            "log_loss": log_loss(p, y)} for n, p in zip(names, oof)},
            "pooled": {"accuracy": float(np.mean(pooled.argmax(1) == y)),
                       "log_loss": float(losses[best])},
            "folds": folds,
        }
        return grid[best]

    def _pseudo_label(self, generated, subsets, real, real_subsets, unlabelled):
        rng = np.random.default_rng(self._seed())
        if len(unlabelled) > self.max_unlabelled:
            pick = np.sort(rng.choice(len(unlabelled), self.max_unlabelled, replace=False))
            unlabelled = unlabelled[pick]
        held = []
        for c in self.classes_:
            idx = rng.permutation(np.flatnonzero(subsets == c))
            n_held = int(round(self.holdout_fraction * len(idx)))
            held.append(idx[:min(max(1, n_held), len(idx) - 2)])
        held = np.sort(np.concatenate(held))
        rest = np.setdiff1d(np.arange(len(subsets)), held)
        y_held = np.searchsorted(self.classes_, subsets[held])

        without = self._fit_members(generated[rest], subsets[rest], real, real_subsets)
        p_without = self._pool(without, generated[held])
        keep, labels = self._confident(self._pool(without, unlabelled))
        report = {"n_unlabelled": int(len(unlabelled)), "n_pseudo": int(len(keep)),
                  "n_holdout": int(len(held)), "threshold": float(self.threshold),
                  "holdout_accuracy_without": float(np.mean(p_without.argmax(1) == y_held)),
                  "holdout_log_loss_without": log_loss(p_without, y_held)}
        accepted = False
        if len(keep):
            with_pl = self._fit_members(
                np.concatenate([generated[rest], unlabelled[keep]]),
                np.concatenate([subsets[rest], labels]), real, real_subsets)
            p_with = self._pool(with_pl, generated[held])
            report["holdout_accuracy_with"] = float(np.mean(p_with.argmax(1) == y_held))
            report["holdout_log_loss_with"] = log_loss(p_with, y_held)
            accepted = (report["holdout_accuracy_with"] >= report["holdout_accuracy_without"]
                        and report["holdout_log_loss_with"]
                        <= report["holdout_log_loss_without"])
        report["accepted"] = bool(accepted)
        report["n_pseudo_final"] = 0
        if accepted:
            keep, labels = self._confident(self._pool(self.estimators_, unlabelled))
            if len(keep):
                self.estimators_ = self._fit_members(
                    np.concatenate([generated, unlabelled[keep]]),
                    np.concatenate([subsets, labels]), real, real_subsets)
            report["n_pseudo_final"] = int(len(keep))
        self.pseudo_labelling_ = report

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """(M, K) float64 pooled probabilities, columns in ``classes_`` order (members
        weighted 0 are not run)."""
        images = self._check_predict(images)
        return self._pool(self.estimators_, images)


__all__ = ["Ensemble", "default_members", "pool_log_probabilities", "simplex_grid"]
