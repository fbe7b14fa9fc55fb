"""What every attribution estimator shares: input checks, ``predict`` from ``predict_proba``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import NotFittedError

from synthprint._progress import progress_task
from synthprint._validation import check_image_stack, check_seed
from synthprint.features import default_n_jobs

T = TypeVar("T")


def check_labels(labels: np.ndarray, n: int, name: str) -> np.ndarray:
    """Subset numbers as int64 (n,), all >= 1."""
    labels = np.asarray(labels)
    if labels.shape != (n,):
        raise ValueError(f"{name}: expected shape ({n},), got {labels.shape}")
    if labels.dtype.kind not in "iuf":
        raise ValueError(f"{name}: subset numbers must be integers 1, 2, ..., got "
                         f"{labels.dtype} values such as {labels[:1].tolist()}")
    if not np.issubdtype(labels.dtype, np.integer):
        if not np.all(np.mod(labels, 1) == 0):
            raise ValueError(f"{name}: subset numbers must be integers")
    labels = labels.astype(np.int64)
    if n and labels.min() < 1:
        raise ValueError(f"{name}: subset numbers start at 1, found {labels.min()}")
    return labels


class AttributionEstimator(ClassifierMixin, BaseEstimator):
    """Base class: attribute each synthetic image to one of K training subsets.

    Subclasses implement :meth:`fit` (calling :meth:`_check_fit`) and :meth:`predict_proba`.
    ``classes_`` holds the subset numbers (int64, ascending); column j of ``predict_proba``
    belongs to ``classes_[j]``. A ``fit`` that fails leaves the estimator unfitted, never
    half of a new fit over the old one.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "fit" in vars(cls):
            cls.fit = _unfitted_on_failure(vars(cls)["fit"])

    def _seed(self) -> int:
        """This estimator's ``random_state`` as an int seed (:func:`check_seed`)."""
        return check_seed(getattr(self, "random_state", None), type(self).__name__)

    def _forget_fit(self) -> None:
        """Remove every fitted attribute (public names ending in ``_``)."""
        for name in [n for n in vars(self) if n.endswith("_") and not n.startswith("_")]:
            delattr(self, name)

    def _check_fit(self, generated: np.ndarray, subsets: np.ndarray,
                   real: np.ndarray | None = None, real_subsets: np.ndarray | None = None,
                   *, min_per_class: int = 2):
        generated = check_image_stack(generated, "generated", square=True, min_size=8)
        subsets = check_labels(subsets, len(generated), "subsets")
        classes, counts = np.unique(subsets, return_counts=True)
        if len(classes) < 2:
            raise ValueError(f"need generated images of at least 2 subsets, got {classes}")
        if counts.min() < min_per_class:
            worst = classes[np.argmin(counts)]
            raise ValueError(f"subset {worst} has {counts.min()} generated images; "
                             f"{type(self).__name__} needs at least {min_per_class}")
        if (real is None) != (real_subsets is None):
            raise ValueError("give real and real_subsets together (or neither)")
        if real is not None:
            real = check_image_stack(real, "real", square=True, min_size=8)
            real_subsets = check_labels(real_subsets, len(real), "real_subsets")
            if real.shape[1:] != generated.shape[1:]:
                raise ValueError(f"real images are {real.shape[1:]}, generated images "
                                 f"{generated.shape[1:]}: they must have the same size")
        self.classes_ = classes
        self.image_shape_ = generated.shape[1:]
        return generated, subsets, real, real_subsets

    def _check_predict(self, images: np.ndarray) -> np.ndarray:
        if not hasattr(self, "classes_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted yet; call fit first")
        images = check_image_stack(images, "images", square=True, min_size=8)
        if images.shape[1:] != self.image_shape_:
            raise ValueError(f"images are {images.shape[1:]}, the estimator was fitted on "
                             f"{self.image_shape_}")
        return images

    def predict_proba(self, images: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def predict(self, images: np.ndarray) -> np.ndarray:
        """Most probable subset of each image: (M,) int64, values from ``classes_``."""
        proba = self.predict_proba(images)
        return self.classes_[np.argmax(proba, axis=1)]


def _unfitted_on_failure(fit: Callable) -> Callable:
    """``fit`` that, when it raises, first removes what it (or an earlier fit) set."""
    @functools.wraps(fit)
    def wrapped(self, *args, **kwargs):
        try:
            return fit(self, *args, **kwargs)
        except BaseException:
            self._forget_fit()
            raise
    return wrapped


def log_loss(proba: np.ndarray, y_index: np.ndarray) -> float:
    """Mean negative log-probability of the true classes: ``proba`` (M, K), ``y_index`` (M,)
    column of each true class; probabilities floored at 1e-12."""
    rows = np.arange(len(y_index))
    return float(-np.mean(np.log(np.maximum(proba[rows, y_index], 1e-12))))


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax of (M, K) scores, float64; rows sum to 1."""
    scores = np.asarray(scores, dtype=np.float64)
    z = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def map_chunks(fn: Callable[[slice], T], n: int, chunk: int, *, n_jobs: int | None = None,
               description: str = "", verbose: bool = False) -> list[T]:
    """``[fn(s) for s in slices]`` over slices of ``range(n)`` of size ``chunk``, run in
    ``n_jobs`` threads (default: all cores of this process), results in order.

    Threads help where ``fn`` spends its time in numpy, BLAS or FFT code, which release the
    GIL; each result depends only on its slice, so the output does not depend on ``n_jobs``.
    """
    slices = [slice(s, min(n, s + chunk)) for s in range(0, n, chunk)]
    jobs = min(len(slices), n_jobs or default_n_jobs())
    out: list[T] = []
    with progress_task(description or "working", len(slices),
                       quiet=not verbose or len(slices) < 2) as advance:
        if jobs <= 1:
            for sl in slices:
                out.append(fn(sl))
                advance()
        else:
            with ThreadPoolExecutor(jobs) as pool:
                for result in pool.map(fn, slices):
                    out.append(result)
                    advance()
    return out


def chunk_slices(n: int, chunk: int, description: str, verbose: bool):
    """Slices covering range(n) in steps of ``chunk``, with a progress bar when ``verbose``."""
    from synthprint._progress import track

    slices = [slice(s, min(n, s + chunk)) for s in range(0, n, chunk)]
    if not verbose or len(slices) < 2:
        return slices
    return track(slices, description, total=len(slices), quiet=False)
