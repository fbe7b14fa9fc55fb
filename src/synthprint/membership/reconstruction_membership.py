"""synthprint's own membership detector (``--method auto``): reconstruction shares, with an
optional meta-classifier chosen by cross-validation on the labelled images.

Features of each real image, all label-free (see :mod:`synthprint.membership.reconstruction`):

* its largest share in the non-negative ridge reconstruction of any generated image, on the
  whole 64 px image and on the four 48 px windows (mean over the windows);
* its distance to the closest generated image and its *competition margin*: how much closer
  a generated image is to it than to any other real image (log distance ratio, best over the
  generated images); these are the nearest-neighbour view of the same question.

Heads: ``"reconstruction"`` scores by the mean of the share views (in [0, 1]; no labels
needed, the default); ``"logistic"`` fits a logistic regression on the percentile ranks of
all four features to the labelled images. ``head="auto"`` takes the logistic head only when
its repeated cross-validated ROC AUC on the labelled images beats the reconstruction head by
more than ``margin``, and only with at least ``min_per_class`` labelled images per class
(fewer cannot tell the heads apart); otherwise it keeps the reconstruction head.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import RepeatedStratifiedKFold

from synthprint.errors import SynthprintError
from synthprint.features import FeatureCache
from synthprint.membership._base import MembershipEstimator, best_competitor
from synthprint.membership.reconstruction import percentile_ranks, reconstruction_shares

HEADS = ("auto", "reconstruction", "logistic")


def competition_margin(distances: np.ndarray) -> np.ndarray:
    """(P,) float64: for each real image r, the largest log(d_other / d(g, r)) over generated
    images g, where d_other is g's distance to the closest real image other than r.

    ``distances`` is (P, G), real x generated, >= 0. Positive: some generated image is closer
    to r than to any other real image."""
    D = np.maximum(np.asarray(distances, dtype=np.float64), 1e-12)
    if len(D) < 2:
        return np.zeros(len(D))
    d_other = -best_competitor(-D)
    return np.log(d_other / D).max(axis=1)


@dataclass
class ReconstructionContext:
    shares: np.ndarray      # (P, V) reconstruction shares per view
    features: np.ndarray    # (P, V + 2) percentile ranks: shares, -distance, margin

    @property
    def n_pool(self) -> int:
        return len(self.features)


@dataclass
class Head:
    kind: str                                  # "reconstruction" or "logistic"
    model: LogisticRegression | None = None
    cv_auc: dict | None = None                 # the inner CV AUCs that chose it (head="auto")


class ReconstructionMembership(MembershipEstimator):
    """Membership by reconstruction shares (synthprint's method, the CLI's ``auto``).

    Parameters
    ----------
    views : (window, stride) pairs as fractions of the side of the ``level`` image; default
        the whole image and 3/4-side windows at 1/4-side strides (64 px and four 48 px
        windows at 64 px).
    level : pyramid level compared (2: 64 px for 256 px images).
    ridge, n_iter : the reconstruction's penalty and iterations
        (:func:`~synthprint.membership.reconstruction.nonneg_ridge`).
    head : "auto", "reconstruction" or "logistic" (see the module docstring).
    margin : AUC gain the logistic head needs over the reconstruction head (``head="auto"``).
    min_per_class : labelled images per class below which ``head="auto"`` keeps the
        reconstruction head.
    metric, prior, random_state : see :class:`~synthprint.membership._base.MembershipEstimator`.
    cache : a :class:`~synthprint.features.FeatureCache` for the distance matrix (or None).
    n_jobs : threads for BLAS and the similarity engine.
    verbose : progress bars.

    Transductive: real images are weighed against each other, so an image's score depends
    on the images scored with it (score all test images in one call).
    """

    transductive = True


    def __init__(self, views: tuple = ((1.0, 1.0), (0.75, 0.25)), level: int = 2,
                 ridge: float = 0.03, n_iter: int = 200, head: str = "auto",
                 margin: float = 0.02, min_per_class: int = 20, metric: str = "kappa",
                 prior: float | None = None,
                 random_state: int | None = 0, cache: FeatureCache | None = None,
                 n_jobs: int | None = None, verbose: bool = False):
        self.views = views
        self.level = level
        self.ridge = ridge
        self.n_iter = n_iter
        self.head = head
        self.margin = margin
        self.min_per_class = min_per_class
        self.metric = metric
        self.prior = prior
        self.random_state = random_state
        self.cache = cache
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _check_params(self) -> None:
        super()._check_params()
        if self.head not in HEADS:
            raise SynthprintError(f"head must be one of {', '.join(HEADS)}, got {self.head!r}")
        for name, least in (("n_iter", 1), ("min_per_class", 2)):
            value = getattr(self, name)
            if not (isinstance(value, numbers.Integral) and value >= least):
                raise SynthprintError(f"ReconstructionMembership: {name} must be an int >= "
                                      f"{least}, got {value!r}")
        if not self.ridge >= 0:
            raise SynthprintError(f"ReconstructionMembership: ridge must be >= 0, got "
                                  f"{self.ridge!r}")

    def _pixel_views(self, side: int) -> tuple[tuple[int, int], ...]:
        out = []
        for size, stride in self.views:
            s = max(1, int(round(size * side)))
            out.append((s, max(1, int(round(stride * side)))))
        return tuple(out)

    def _context(self, generated, pool) -> ReconstructionContext:
        side = pool.shape[-1] >> self.level
        shares = reconstruction_shares(
            generated, pool, views=self._pixel_views(side), level=self.level, ridge=self.ridge,
            n_iter=self.n_iter, n_jobs=self.n_jobs, quiet=not self.verbose)
        dist = -self._pairwise(pool, generated, "l2", self.level).astype(np.float64)
        raw = np.c_[shares, -dist.min(axis=1), competition_margin(dist)]
        return ReconstructionContext(shares, percentile_ranks(raw))

    # ------------------------------------------------------------ heads
    def _view_score(self, ctx: ReconstructionContext, rows) -> np.ndarray:
        return ctx.shares[rows].mean(axis=1)

    def _fit_logistic(self, ctx, rows, y) -> LogisticRegression:
        model = LogisticRegression(C=1.0, class_weight="balanced", solver="liblinear")
        return model.fit(ctx.features[rows], y)

    def _choose(self, ctx, rows, y) -> dict:
        """Mean inner-CV ROC AUC of each head on the labelled ``rows``."""
        smallest = int(np.bincount(y, minlength=2).min())
        splits = RepeatedStratifiedKFold(n_splits=min(5, smallest), n_repeats=3,
                                         random_state=self._seed())
        aucs: dict[str, list[float]] = {"reconstruction": [], "logistic": []}
        for tr, te in splits.split(np.zeros(len(y)), y):
            aucs["reconstruction"].append(
                roc_auc_score(y[te], self._view_score(ctx, rows[te])))
            model = self._fit_logistic(ctx, rows[tr], y[tr])
            aucs["logistic"].append(
                roc_auc_score(y[te], model.decision_function(ctx.features[rows[te]])))
        return {k: float(np.mean(v)) if v else float("nan") for k, v in aucs.items()}

    def _fit_head(self, ctx: ReconstructionContext, rows, y) -> Head:
        rows, y = np.asarray(rows), np.asarray(y)
        kind, cv_auc = self.head, None
        if kind == "auto":
            kind = "reconstruction"
            if int(np.bincount(y, minlength=2).min()) >= self.min_per_class:
                cv_auc = self._choose(ctx, rows, y)
                if cv_auc["logistic"] > cv_auc["reconstruction"] + self.margin:
                    kind = "logistic"
        model = self._fit_logistic(ctx, rows, y) if kind == "logistic" else None
        return Head(kind, model, cv_auc)

    def _refit_head(self, head: Head, ctx, rows, y) -> Head:
        model = self._fit_logistic(ctx, rows, y) if head.kind == "logistic" else None
        return Head(head.kind, model)

    def _needs_oof(self, head: Head) -> bool:
        return head.kind == "logistic"

    def _scores(self, ctx: ReconstructionContext, head: Head, rows) -> np.ndarray:
        if head.kind == "logistic":
            return head.model.decision_function(ctx.features[rows]).astype(np.float64)
        return self._view_score(ctx, rows)
