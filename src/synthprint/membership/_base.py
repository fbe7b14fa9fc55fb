"""What every membership estimator shares: input checks, the pool of real images, the decision
(threshold chosen on labelled images, a method's own rule, or a stated prior), and the
train cross-validation.

An estimator is split in two parts:

* a label-free *context* computed from the generated images and a *pool* of real images
  (similarities, reconstructions, descriptors): the expensive part, cached per pool;
* a cheap *head* fitted on the labelled rows of the pool (a threshold, a reference set, a
  forest), which cross-validation refits fold by fold (:meth:`MembershipEstimator.cv_fit_predict`
  gives the ``fit_predict`` that :func:`synthprint.evaluation.cross_validate` takes; this
  layer does not import :mod:`synthprint.evaluation`, which sits above it).

The pool is the labelled real images given to :meth:`~MembershipEstimator.fit` followed by
the new images given to :meth:`~MembershipEstimator.score_samples` (an image already in the
pool keeps its row). Methods that compare real images with each other (similarity
thresholds, competition between look-alikes) therefore see every real image available, as a
challenge participant does; labels are only ever read for the labelled rows. An image is not
its own reference: when a pool row is compared with other pool rows, the row itself is left
out.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.validation import check_is_fitted

from synthprint._validation import check_image_stack, check_seed
from synthprint.errors import SynthprintError
from synthprint.features import FeatureCache, content_hash, pairwise
from synthprint.membership.decision import METRICS, best_threshold, prior_threshold


def check_labels(labels, n: int) -> np.ndarray:
    """(n,) int64 labels in {0, 1} with both classes present."""
    y = np.asarray(labels)
    if y.shape != (n,):
        raise SynthprintError(f"labels: expected shape ({n},), one per real image, got shape "
                              f"{y.shape}")
    if not np.isin(y, (0, 1)).all():
        raise SynthprintError(f"labels must be 0 (not used) or 1 (used), got "
                              f"{np.unique(y).tolist()}")
    y = y.astype(np.int64)
    if y.min() == y.max():
        raise SynthprintError(
            f"all {n} labelled real images have label {int(y[0])}; fitting needs used (1) "
            "and not-used (0) examples")
    return y


def best_competitor(similarities: np.ndarray) -> np.ndarray:
    """(P, G) float64: for pool image x (row) and generated image g (column), the highest
    similarity of g to a pool image other than x.

    ``similarities`` (P, G), higher = closer. That is each column's top value, except in
    the row holding it, which gets the column's second value (equal to the top on ties);
    -inf everywhere when P < 2."""
    S = np.asarray(similarities, dtype=np.float64)
    if len(S) < 2:
        return np.full_like(S, -np.inf)
    top = -np.partition(-S, 1, axis=0)[:2]
    return np.where(S >= top[0][None, :], top[1][None, :], top[0][None, :])


def _same(a: Any, b: Any) -> bool:
    """Parameter values equal (``0`` and ``np.int64(0)`` are; arrays by their elements)."""
    try:
        return bool(np.array_equal(a, b)) if isinstance(a, np.ndarray) else bool(a == b)
    except (TypeError, ValueError):
        return repr(a) == repr(b)


class MembershipEstimator(BaseEstimator):
    """Base class: ``fit(generated, real, labels)``, ``score_samples(real)`` (higher = more
    likely used for training), ``predict(real)`` (1 = used) and :meth:`cv_fit_predict` for
    cross-validation.

    Subclasses define :meth:`_context`, :meth:`_scores` and optionally :meth:`_fit_head`,
    :meth:`_rule`; their ``__init__`` takes at least ``metric`` ("kappa" or "f1": what the
    threshold maximises; ignored by methods with a rule), ``prior`` (None, or the assumed
    share of used images among the images to label, in (0, 1)) and, when the method is
    random, ``random_state``; methods that compute similarity matrices also take ``cache``
    (a :class:`~synthprint.features.FeatureCache`, or None) and ``verbose`` (progress
    bars), which :meth:`_pairwise` uses.

    Fitted attributes: ``generated_``, ``real_``, ``labels_`` (the inputs of :meth:`fit`),
    ``head_`` (the head fitted on all labelled images) and ``threshold_`` (the labelled
    threshold; None with ``prior`` or a rule), both in the context of the latest pool used
    (the labelled images alone until other images are scored).

    The context is computed when first needed, not by :meth:`fit`: ``fit``, then
    ``cv_fit_predict(unlabelled=test)``, then ``score_samples(test)`` / ``predict(test)``
    compute it once, over the labelled and test images.

    Decision, in order: with ``prior``, the ``prior`` share of highest-scoring images of
    each call to :meth:`predict` is labelled used (an assumption about the test set, stated
    by the user); else a method with a published rule (``has_rule``) applies it; else the
    threshold maximising ``metric`` on the labelled images' scores (out-of-fold scores when
    the head learns from labels, see ``supervised``), placed in the widest gap between the
    other pool images' scores within the range of equally good thresholds
    (:func:`~synthprint.membership.decision.best_threshold`).
    """

    #: the head learns from labels beyond a threshold (thresholds use out-of-fold scores)
    supervised: bool = False
    #: the method has its own published decision rule
    has_rule: bool = False
    #: scores weigh real images against each other, so they depend on the images scored
    #: together (see :meth:`score_samples`)
    transductive: bool = False

    # ------------------------------------------------------------ subclass interface
    def _context(self, generated: np.ndarray, pool: np.ndarray) -> Any:
        """Label-free precomputation over ``generated`` (G, H, W) and ``pool`` (P, H, W)."""
        raise NotImplementedError

    def _fit_head(self, ctx: Any, rows: np.ndarray, y: np.ndarray) -> Any:
        """Fit on the labelled pool rows ``rows`` with labels ``y``; None when nothing is
        learned."""
        return None

    def _scores(self, ctx: Any, head: Any, rows: np.ndarray) -> np.ndarray:
        """(len(rows),) float64 scores of pool rows ``rows``, higher = more likely used."""
        raise NotImplementedError

    def _rule(self, ctx: Any, head: Any, rows: np.ndarray, scores: np.ndarray) -> np.ndarray:
        """The method's own labels for pool rows ``rows`` (only when ``has_rule``)."""
        raise NotImplementedError

    def _refit_head(self, head: Any, ctx: Any, rows: np.ndarray, y: np.ndarray) -> Any:
        """A head of the same kind as the fitted ``head``, refitted on ``rows`` only (for
        the out-of-fold scores that choose its threshold: they must be on its scale).
        Default: :meth:`_fit_head`; a method whose ``_fit_head`` chooses among kinds of
        head overrides this to keep the kind."""
        return self._fit_head(ctx, rows, y)

    def _needs_oof(self, head: Any) -> bool:
        """Whether this fitted head's in-sample scores are biased (then thresholds are chosen
        on out-of-fold scores)."""
        return self.supervised

    def _pairwise(self, A: np.ndarray, B: np.ndarray, metric: str, level: int = 0
                  ) -> np.ndarray:
        """(len(A), len(B)) float32 :func:`~synthprint.features.pairwise` similarities with
        this estimator's ``cache``, ``verbose`` and ``n_jobs`` settings."""
        cache: FeatureCache | None = getattr(self, "cache", None)
        return pairwise(A, B, metric, level=level, cache=cache,
                        n_jobs=getattr(self, "n_jobs", None),
                        quiet=not getattr(self, "verbose", False))

    # ------------------------------------------------------------ public API
    def fit(self, generated, real, labels) -> MembershipEstimator:
        """Learn from generated images (G, H, W) uint8, labelled real images (R, H, W) uint8
        and their labels (R,) in {0, 1} (1 = used to train the generator). Returns self."""
        self._check_params()
        G = check_image_stack(generated, "generated images")
        R = check_image_stack(real, "labelled real images")
        if G.shape[1:] != R.shape[1:]:
            raise SynthprintError(f"generated images are {G.shape[1]}x{G.shape[2]} px but real "
                                  f"images {R.shape[1]}x{R.shape[2]} px; give one size")
        y = check_labels(labels, len(R))
        row_keys = [content_hash(img) for img in R]
        first: dict[str, int] = {}
        for i, key in enumerate(row_keys):
            j = first.setdefault(key, i)
            if y[j] != y[i]:
                raise SynthprintError(
                    f"labelled real images {j} and {i} are the same pixels with labels "
                    f"{y[j]} and {y[i]}: one image cannot be both used and not used")
        self.generated_ = G
        self.real_ = R
        self.labels_ = y
        self._row_keys = row_keys
        self._fitted_with = self._fixed_params()
        self._contexts: dict = {}
        self._decisions: dict = {}
        self._latest: str | None = None
        return self

    @property
    def head_(self) -> Any:
        return self._latest_decision()[0]

    @property
    def threshold_(self) -> float | None:
        return self._latest_decision()[1]

    def score_samples(self, real) -> np.ndarray:
        """(N,) float64 scores of real images (N, H, W) uint8, higher = more likely used.

        ``real`` joins the pool (see the module docstring). Methods that weigh real images
        against each other (``transductive`` True: reconstruction shares, similarity
        profiles, SSIM retrieval) therefore score an image relative to the images scored
        with it: score every test image in one call, as the command line does; scoring them
        one at a time gives other numbers.
        """
        ctx, rows, key = self._context_for(real)
        head, _ = self._decision(ctx, key)
        return self._scores(ctx, head, rows)

    def predict(self, real) -> np.ndarray:
        """(N,) int64 labels of real images (N, H, W) uint8: 1 = used, 0 = not used.

        Labels depend on the images labelled together for every method, transductive or
        not: with ``prior`` that share of *this call's* images is labelled used, and the
        labelled threshold is placed in the widest gap between the scores of the pool's
        unlabelled images. Label every test image in one call, as the command line does.
        """
        ctx, rows, key = self._context_for(real)
        head, threshold = self._decision(ctx, key)
        return self._decide(ctx, head, threshold, rows, self._scores(ctx, head, rows))

    def cv_fit_predict(self, unlabelled=None):
        """A ``fit_predict(train_idx, test_idx) -> (labels, scores)`` over the labelled
        images of :meth:`fit` (indices into ``labels_``), for
        :func:`synthprint.evaluation.cross_validate`: each call refits the head and the
        decision on ``train_idx`` only.

        ``unlabelled`` (N, H, W) uint8 real images (the test images) join the pool as they
        will when they are scored, so the context is the one the final labels come from;
        their labels are never needed. The expensive context is computed once, here.
        """
        ctx, _, _ = self._context_for(unlabelled)
        y = self.labels_

        def fit_predict(train_idx: np.ndarray, test_idx: np.ndarray):
            train_idx, test_idx = np.asarray(train_idx), np.asarray(test_idx)
            head, threshold = self._fit_decision(ctx, train_idx, y[train_idx])
            scores = self._scores(ctx, head, test_idx)
            return self._decide(ctx, head, threshold, test_idx, scores), scores

        return fit_predict

    # ------------------------------------------------------------ internals
    def _check_params(self) -> None:
        metric = getattr(self, "metric", "kappa")
        if metric not in METRICS:
            raise SynthprintError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
        prior = getattr(self, "prior", None)
        if prior is not None and not 0.0 < float(prior) < 1.0:
            raise SynthprintError(f"prior (share of used images) must be in (0, 1), got {prior}")
        self._seed()

    def _seed(self) -> int:
        return check_seed(getattr(self, "random_state", None), type(self).__name__)

    def _pool(self, real) -> tuple[np.ndarray, np.ndarray]:
        """The pool (labelled images, then new ones) and the pool rows of ``real``."""
        labelled = self.real_
        if real is None:
            return labelled, np.arange(len(labelled), dtype=np.int64)
        X = check_image_stack(real, "real images to score")
        if X.shape[1:] != labelled.shape[1:]:
            raise SynthprintError(f"real images to score are {X.shape[1]}x{X.shape[2]} px but "
                                  f"the fitted ones {labelled.shape[1]}x{labelled.shape[2]} px")
        index = {k: i for i, k in enumerate(self._row_keys)}
        extra: list[np.ndarray] = []
        rows = np.empty(len(X), dtype=np.int64)
        for i, img in enumerate(X):
            k = content_hash(img)
            if k not in index:
                index[k] = len(labelled) + len(extra)
                extra.append(img)
            rows[i] = index[k]
        pool = np.concatenate([labelled, np.stack(extra)]) if extra else labelled
        return pool, rows

    #: parameters that may change after fit (they act at decision time or not on results)
    _AFTER_FIT = frozenset({"prior", "metric", "cache", "verbose", "n_jobs"})

    def _fixed_params(self) -> dict[str, Any]:
        return copy.deepcopy({k: v for k, v in self.get_params(deep=False).items()
                              if k not in self._AFTER_FIT})

    def _check_fitted(self) -> None:
        """Fitted, and with the parameters it was fitted with (but ``_AFTER_FIT``)."""
        check_is_fitted(self, "labels_")
        now, then = self._fixed_params(), self._fitted_with
        changed = sorted(k for k in now if k not in then or not _same(now[k], then[k]))
        if changed:
            raise SynthprintError(
                f"{type(self).__name__}: {', '.join(changed)} changed after fit; call fit "
                f"again (only {', '.join(sorted(self._AFTER_FIT))} may change after fit)")

    def _context_for(self, real) -> tuple[Any, np.ndarray, str]:
        self._check_fitted()
        pool, rows = self._pool(real)
        key = content_hash(pool)
        if key not in self._contexts:
            if len(self._contexts) >= 2:  # keep the first pool and the latest
                self._contexts.pop(next(k for k in list(self._contexts)[1:]))
            self._contexts[key] = self._context(self.generated_, pool)
        self._latest = key
        return self._contexts[key], rows, key

    def _latest_decision(self) -> tuple[Any, float | None]:
        self._check_fitted()
        if self._latest is None:
            self._context_for(None)
        return self._decision(self._contexts[self._latest], self._latest)

    def _decision(self, ctx: Any, key: str) -> tuple[Any, float | None]:
        # the decision depends on prior and metric too, which may change after fit
        self._check_params()
        decision_key = (key, getattr(self, "prior", None), getattr(self, "metric", "kappa"))
        if decision_key not in self._decisions:
            rows = np.arange(len(self.labels_), dtype=np.int64)
            self._decisions[decision_key] = self._fit_decision(ctx, rows, self.labels_)
        return self._decisions[decision_key]

    def _fit_decision(self, ctx: Any, rows: np.ndarray, y: np.ndarray
                      ) -> tuple[Any, float | None]:
        head = self._fit_head(ctx, rows, y)
        if getattr(self, "prior", None) is not None or self.has_rule:
            return head, None
        if self._needs_oof(head):
            scores = self._oof_scores(ctx, head, rows, y)
        else:
            scores = self._scores(ctx, head, rows)
        others = np.setdiff1d(np.arange(int(ctx.n_pool)), rows)
        unlabelled = self._scores(ctx, head, others) if len(others) else None
        threshold, _ = best_threshold(scores, y, getattr(self, "metric", "kappa"),
                                      unlabelled=unlabelled)
        return head, threshold

    def _oof_scores(self, ctx: Any, head: Any, rows: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Out-of-fold scores of the labelled ``rows`` (inner stratified K-fold, K <= 5) from
        heads of ``head``'s kind (:meth:`_refit_head`); in-sample scores of ``head`` when a
        class has fewer than 2 images."""
        smallest = int(np.bincount(y, minlength=2).min())
        if smallest < 2:
            return self._scores(ctx, head, rows)
        out = np.empty(len(rows), dtype=np.float64)
        folds = StratifiedKFold(n_splits=min(5, smallest), shuffle=True,
                                random_state=self._seed())
        for tr, te in folds.split(np.zeros(len(y)), y):
            out[te] = self._scores(ctx, self._refit_head(head, ctx, rows[tr], y[tr]), rows[te])
        return out

    def _decide(self, ctx: Any, head: Any, threshold: float | None, rows: np.ndarray,
                scores: np.ndarray) -> np.ndarray:
        prior = getattr(self, "prior", None)
        if prior is not None:
            return (scores > prior_threshold(scores, float(prior))).astype(np.int64)
        if self.has_rule:
            return np.asarray(self._rule(ctx, head, rows, scores), dtype=np.int64)
        return (scores > threshold).astype(np.int64)
