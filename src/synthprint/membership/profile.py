"""Our membership detector: calibrated similarity profiles, chosen on the labelled images.

For every real image x of the pool (the labelled real images and the images scored) and each
representation (SSIM at 256 px, correlation at 64 px, pixel distance at 64 px) three numbers
are measured against the generated set G and the other real images of the pool P (x itself
left out):

``best``    the best similarity of x to any generated image;
``calib``   ``best`` minus the best similarity of x to another real image in P: an image
            close to everything (typical anatomy) is not a memorised one;
``margin``  max over g in G of [sim(g, x) - max over r in P, r != x of sim(g, r)]: some
            generated image is closer to x than to any other real image, by this much (a
            soft form of "each generated image marks its nearest real image").

These are label-free (the context). Candidate scores are each single feature and a few
averages of features standardised on the labelled images. The candidate with the highest ROC
AUC on the labelled images is kept (the head); no candidate learns weights from the labels,
so even 10 + 10 labelled images suffice to choose. The threshold then maximises the official
metric (kappa or F1) on those labelled scores; with ``prior`` the stated share of the
highest scores is labelled used instead.

Assumptions: the generated images come from the generator under audit (train and test
generated images may be pooled); labelled and unknown real images come from the same
population, so the threshold chosen on one transfers to the other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import roc_auc_score

from synthprint.features import FeatureCache
from synthprint.membership._base import MembershipEstimator, best_competitor

#: (metric, pyramid level) of each representation.
REPRESENTATIONS = (("ssim", 0), ("ncc", 2), ("l2", 2))
FEATURES = ("best", "calib", "margin")


@dataclass
class ProfileContext:
    features: dict[str, np.ndarray]   # {"<metric><px>_<feature>": (P,) float64}

    @property
    def n_pool(self) -> int:
        return len(next(iter(self.features.values())))


@dataclass
class ProfileHead:
    mean: dict[str, float]            # standardisation of each feature on the labelled rows
    std: dict[str, float]
    candidates: dict[str, float]      # {candidate: ROC AUC on the labelled rows}
    candidate: str                    # the one kept


def profile_features(S_pg: np.ndarray, S_pp: np.ndarray) -> dict[str, np.ndarray]:
    """``best``, ``calib`` and ``margin`` (module docstring) of each pool image, from the
    pool x generated similarities ``S_pg`` (P, G) and pool x pool ``S_pp`` (P, P)."""
    S_pg = np.asarray(S_pg, dtype=np.float64)
    P = len(S_pg)
    best = S_pg.max(axis=1)
    own = np.eye(P, dtype=bool)
    other = np.where(own, -np.inf, S_pp).max(axis=1)
    margin = (S_pg - best_competitor(S_pg)).max(axis=1)
    return {"best": best, "calib": best - other, "margin": margin}


class SimilarityProfile(MembershipEstimator):
    """Calibrated multi-scale similarity profile (synthprint's ``similarity-profile``).

    Parameters
    ----------
    metric: "kappa" (2025) or "f1" (2023): what the threshold maximises.
    prior: optional share (0..1) of used images assumed among the images to label; that share
        of the highest scores is then labelled used.
    cache, verbose: a :class:`~synthprint.features.FeatureCache` for the similarity matrices
        (or None) and whether to show progress bars.

    The fitted head (``head_``, a :class:`ProfileHead`) holds ``candidate`` (name of the
    chosen score), ``candidates`` ({name: AUC on the labelled images}) and the
    standardisation.

    Transductive: real images are weighed against each other, so an image's score depends
    on the images scored with it (score all test images in one call).
    """

    transductive = True

    def __init__(self, metric: str = "kappa", prior: float | None = None,
                 cache: FeatureCache | None = None, verbose: bool = False):
        self.metric = metric
        self.prior = prior
        self.cache = cache
        self.verbose = verbose

    def _context(self, generated, pool) -> ProfileContext:
        out: dict[str, np.ndarray] = {}
        for metric, level in REPRESENTATIONS:
            tag = f"{metric}{256 >> level}"
            S_pg = self._pairwise(pool, generated, metric, level)
            S_pp = self._pairwise(pool, pool, metric, level)
            for feat, v in profile_features(S_pg, S_pp).items():
                out[f"{tag}_{feat}"] = v
        return ProfileContext(out)

    @staticmethod
    def _candidates(feats: dict[str, np.ndarray], mean: dict[str, float],
                    std: dict[str, float]) -> dict[str, np.ndarray]:
        z = {k: (v - mean[k]) / std[k] for k, v in feats.items()}
        cands = dict(feats)
        for feat in FEATURES:
            keys = [k for k in z if k.endswith("_" + feat)]
            cands[f"mean_{feat}"] = np.mean([z[k] for k in keys], axis=0)
        cands["mean_calib_margin"] = np.mean(
            [z[k] for k in z if k.endswith(("_calib", "_margin"))], axis=0)
        return cands

    def _fit_head(self, ctx: ProfileContext, rows, y) -> ProfileHead:
        feats = {k: v[rows] for k, v in ctx.features.items()}
        mean = {k: float(v.mean()) for k, v in feats.items()}
        std = {k: float(v.std()) or 1.0 for k, v in feats.items()}
        cands = self._candidates(feats, mean, std)
        aucs = {k: float(roc_auc_score(y, v)) for k, v in cands.items()}
        # Highest AUC; ties go to the averaged (more stable) scores, then by name.
        best = max(sorted(cands), key=lambda k: (round(aucs[k], 9), k.startswith("mean_")))
        return ProfileHead(mean, std, aucs, best)

    def _scores(self, ctx: ProfileContext, head: ProfileHead, rows) -> np.ndarray:
        feats = {k: v[rows] for k, v in ctx.features.items()}
        return self._candidates(feats, head.mean, head.std)[head.candidate].astype(np.float64)
