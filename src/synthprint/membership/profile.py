"""Our membership detector: calibrated similarity profiles, chosen on the labelled images.

For every real image x and each representation (SSIM at 256 px, correlation at 64 px, pixel
distance at 64 px) three numbers are measured against the generated set G and a *reference
pool* P, the labelled real images given to ``fit`` (x itself left out):

``best``    the best similarity of x to any generated image;
``calib``   ``best`` minus the best similarity of x to another real image in P: an image
            close to everything (typical anatomy) is not a memorised one;
``margin``  max over g in G of [sim(g, x) - max over r in P, r != x of sim(g, r)]: some
            generated image is closer to x than to any other real image, by this much (a
            soft form of "each generated image marks its nearest real image").

Candidate scores are each single feature and a few averages of standardised features. The
candidate with the highest ROC AUC on the labelled images (scored with themselves left out
of P, exactly as held-out images are) is kept; no candidate learns weights from the labels,
so even 10 + 10 labelled images suffice to choose. The threshold then maximises the official
metric (kappa or F1) on those labelled scores; with ``prior`` it is instead the quantile
that labels that share of the labelled images used.

Assumptions: the generated images come from the generator under audit (train and test
generated images may be pooled); labelled and unknown real images come from the same
population, so the threshold chosen on one transfers to the other.
"""

from __future__ import annotations

import numpy as np

from synthprint.membership._base import MembershipEstimator, check_images
from synthprint.membership._similarity import image_key, set_key, similarity_rows
from synthprint.membership.threshold import choose_threshold

#: (metric, pyramid level) of each representation.
REPRESENTATIONS = (("ssim", 0), ("ncc", 2), ("l2", 2))
FEATURES = ("best", "calib", "margin")


def _auc(scores: np.ndarray, y: np.ndarray) -> float:
    from scipy.stats import rankdata

    pos, neg = y == 1, y == 0
    if not pos.any() or not neg.any():
        return 0.5
    r = rankdata(scores)
    return float((r[pos].sum() - pos.sum() * (pos.sum() + 1) / 2) / (pos.sum() * neg.sum()))


class SimilarityProfile(MembershipEstimator):
    """Calibrated multi-scale similarity profile (synthprint's default, ``auto``).

    Parameters
    ----------
    threshold_metric: "kappa" (2025) or "f1" (2023): what the threshold maximises.
    prior: optional share (0..1) of used images assumed among the images to label; the
        threshold is then the score quantile giving that share on the labelled images.

    Fitted attributes: ``candidate_`` (name of the chosen score), ``candidate_auc_`` (its AUC
    on the labelled images), ``candidates_`` ({name: AUC} of all), ``threshold_``.
    """

    _own_threshold = True

    def __init__(self, threshold_metric: str = "kappa", prior: float | None = None):
        self.threshold_metric = threshold_metric
        self.prior = prior

    def _features(self, X: np.ndarray) -> dict[str, np.ndarray]:
        own = np.array([[image_key(x) == k for k in self.pool_keys_] for x in X], dtype=bool)
        out: dict[str, np.ndarray] = {}
        for metric, level in REPRESENTATIONS:
            tag = f"{metric}{256 >> level}"
            S_xg = similarity_rows(X, self.generated_, metric, level, b_key=self.generated_key_)
            S_xp = similarity_rows(X, self.pool_, metric, level, b_key=self.pool_key_)
            best = S_xg.max(axis=1)
            other = np.where(own, -np.inf, S_xp).max(axis=1)
            # Best pool competitor of each generated image, leaving x out: the top pool
            # similarity unless that top one is x itself, then the second.
            top1, top2, arg1 = self._pool_top[(metric, level)]
            margins = np.empty(len(X))
            for i in range(len(X)):
                self_idx = np.flatnonzero(own[i])
                comp = top1 if not len(self_idx) else np.where(arg1 == self_idx[0], top2, top1)
                margins[i] = np.max(S_xg[i] - comp)
            out[f"{tag}_best"] = best.astype(np.float64)
            out[f"{tag}_calib"] = (best - other).astype(np.float64)
            out[f"{tag}_margin"] = margins
        return out

    def _candidates(self, feats: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        z = {k: (v - self.mean_[k]) / self.std_[k] for k, v in feats.items()}
        cands = dict(feats)
        for feat in FEATURES:
            keys = [k for k in z if k.endswith("_" + feat)]
            cands[f"mean_{feat}"] = np.mean([z[k] for k in keys], axis=0)
        cands["mean_calib_margin"] = np.mean(
            [z[k] for k in z if k.endswith(("_calib", "_margin"))], axis=0)
        return cands

    def _fit(self, generated, real, y):
        self.generated_ = generated
        self.generated_key_ = set_key(generated)
        self.pool_ = real
        self.pool_key_ = set_key(real)
        self.pool_keys_ = [image_key(r) for r in real]
        self._pool_gen = {}
        self._pool_top = {}
        for metric, level in REPRESENTATIONS:
            S = similarity_rows(real, generated, metric, level, b_key=self.generated_key_)
            self._pool_gen[(metric, level)] = S
            order = np.argsort(-S, axis=0, kind="stable")
            top1 = S[order[0], np.arange(S.shape[1])]
            top2 = S[order[1], np.arange(S.shape[1])] if len(real) > 1 else np.full_like(top1, -np.inf)
            self._pool_top[(metric, level)] = (top1, top2, order[0])
        feats = self._features(real)
        self.mean_ = {k: float(v.mean()) for k, v in feats.items()}
        self.std_ = {k: float(v.std()) or 1.0 for k, v in feats.items()}
        cands = self._candidates(feats)
        self.candidates_ = {k: _auc(v, y) for k, v in cands.items()}
        # Highest AUC; ties go to the averaged (more stable) scores, then by name.
        self.candidate_ = max(sorted(cands), key=lambda k: (round(self.candidates_[k], 9),
                                                            k.startswith("mean_")))
        self.candidate_auc_ = self.candidates_[self.candidate_]
        train_scores = cands[self.candidate_]
        if self.prior is not None:
            if not 0 < self.prior < 1:
                raise ValueError(f"prior must be in (0, 1), got {self.prior}")
            self.threshold_ = float(np.quantile(train_scores, 1 - self.prior))
        else:
            self.threshold_ = choose_threshold(train_scores, y, self.threshold_metric)

    def score_samples(self, real: np.ndarray) -> np.ndarray:
        real = check_images(real, "real")
        return self._candidates(self._features(real))[self.candidate_]
