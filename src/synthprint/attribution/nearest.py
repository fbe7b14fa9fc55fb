"""Peer baseline: each synthetic image goes to the subset of its nearest reference images.

The reference images are the labelled real images of each subset (the generator was trained
on them), or the labelled generated images. Two rules:

* vote (default): the k most similar reference images vote for their subsets;
* centroid (as the 2025 organisers' Siamese baseline did): the subset whose centroid -- the
  mean reference image, or the mean embedding -- is most similar.

Similarities come from :mod:`synthprint.features` (pixel L2, NCC, SSIM at any pyramid level)
or, for ``metric="embedding"``, the cosine similarity of a PCA embedding learned on the
reference images.
"""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA

from synthprint.attribution._base import AttributionEstimator, softmax
from synthprint.features import pairwise, pyramid_level, topk

METRICS = ("l2", "ncc", "ssim", "embedding")


class NearestSubset(AttributionEstimator):
    """Nearest-reference-subset attribution (vote of the k nearest, or nearest centroid).

    Parameters
    ----------
    metric : "l2" (minus RMS pixel difference), "ncc", "ssim" (mean SSIM, 7x7 window), or
        "embedding" (cosine similarity of a PCA embedding of the level-2 (64 px) pyramid
        images, ``n_components`` dimensions, fitted on the reference images).
    k : neighbours that vote (vote rule).
    centroid : use the nearest subset centroid instead of the vote.
    level : pyramid level the image metrics compare at (0 = 256 px, 2 = 64 px).
    reference : "real" (the labelled real images; falls back to "generated" when fit gets
        none) or "generated" (the labelled generated images).
    n_components : embedding size for ``metric="embedding"``.
    smoothing : pseudo-count added to every subset's votes, so probabilities are never 0.
    verbose : progress bars from the similarity engine.

    Attributes
    ----------
    classes_ : (K,) int64 subset numbers.
    reference_ : what the images are compared with: images (R, S, S), embeddings (R, d),
        or the K centroids.
    reference_subsets_ : (R,) int64 subsets of the reference rows (vote rule).
    reference_used_ : "real" or "generated".
    """

    def __init__(self, metric: str = "l2", k: int = 5, centroid: bool = False,
                 level: int = 0, reference: str = "real", n_components: int = 32,
                 smoothing: float = 0.5, verbose: bool = False):
        self.metric = metric
        self.k = k
        self.centroid = centroid
        self.level = level
        self.reference = reference
        self.n_components = n_components
        self.smoothing = smoothing
        self.verbose = verbose

    def fit(self, generated: np.ndarray, subsets: np.ndarray, real: np.ndarray | None = None,
            real_subsets: np.ndarray | None = None) -> NearestSubset:
        """Store the reference images (or embeddings, or centroids) of each subset.

        generated : (N, S, S) uint8; subsets : (N,) ints >= 1; real : (R, S, S) uint8 or
        None; real_subsets : (R,) ints or None.
        """
        if self.metric not in METRICS:
            raise ValueError(f"metric must be one of {METRICS}, got {self.metric!r}")
        if self.reference not in ("real", "generated"):
            raise ValueError(f"reference must be 'real' or 'generated', got {self.reference!r}")
        generated, subsets, real, real_subsets = self._check_fit(
            generated, subsets, real, real_subsets, min_per_class=1)
        if self.reference == "real" and real is not None:
            ref, ref_y, self.reference_used_ = real, real_subsets, "real"
            missing = np.setdiff1d(self.classes_, ref_y)
            if missing.size:
                raise ValueError(f"no real images of subsets {missing.tolist()}")
            self.classes_ = np.union1d(self.classes_, ref_y)
        else:
            ref, ref_y, self.reference_used_ = generated, subsets, "generated"
        if self.metric == "embedding":
            flat = pyramid_level(ref, 2).reshape(len(ref), -1)
            n_comp = int(min(self.n_components, len(ref) - 1, flat.shape[1]))
            self.pca_ = PCA(n_components=n_comp, whiten=True, random_state=0).fit(flat)
            ref = self.pca_.transform(flat)
        if self.centroid:
            ref = np.stack([ref[ref_y == c].astype(np.float64).mean(axis=0)
                            for c in self.classes_])
            if self.metric != "embedding":
                ref = ref.astype(np.float32)
            ref_y = self.classes_.copy()
        self.reference_ = ref
        self.reference_subsets_ = ref_y
        return self

    def _embed(self, images: np.ndarray) -> np.ndarray:
        return self.pca_.transform(pyramid_level(images, 2).reshape(len(images), -1))

    def similarities(self, images: np.ndarray) -> np.ndarray:
        """Centroid rule: (M, K) float32 similarity of each image to each subset centroid."""
        images = self._check_predict(images)
        if not self.centroid:
            raise ValueError("similarities() is for centroid=True")
        if self.metric == "embedding":
            return pairwise(self._embed(images), self.reference_, "cosine",
                            quiet=not self.verbose)
        return pairwise(images, self.reference_, self.metric, level=self.level,
                        quiet=not self.verbose)

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """(M, K) float64: vote shares (smoothed), or for the centroid rule a softmax of the
        similarities scaled by their spread. Rows sum to 1."""
        images = self._check_predict(images)
        n_classes = len(self.classes_)
        if self.centroid:
            sims = self.similarities(images).astype(np.float64)
            spread = float(np.std(sims)) or 1.0
            return softmax(sims / spread)
        if self.metric == "embedding":
            _, idx = topk(self._embed(images), self.reference_, self.k, "cosine",
                          quiet=not self.verbose)
        else:
            _, idx = topk(images, self.reference_, self.k, self.metric, level=self.level,
                          quiet=not self.verbose)
        cls = np.searchsorted(self.classes_, self.reference_subsets_[idx])
        votes = np.zeros((len(images), n_classes), dtype=np.float64)
        np.add.at(votes, (np.arange(len(images))[:, None], cls), 1.0)
        # ties go to the subset of the single nearest image
        votes[np.arange(len(images)), cls[:, 0]] += 1e-6
        votes += self.smoothing
        return votes / votes.sum(axis=1, keepdims=True)
