"""Copy detection: synthetic images closer to a training image than any two real images are.

The yardstick is the closest pair of *distinct* real images (training and holdout pooled):
two different patients' slices never look more alike than that, so a synthetic image whose
nearest training image is closer still is, by this data's own standard, a copy. Distinct
means different pixels: a file given twice is one image (otherwise its SSIM of 1 with itself
would set the yardstick, and nothing would be a copy).

Two checks use that rule. The pixel check compares at 256 px. The tolerant check
(``level=TOLERANT_LEVEL, mirrored=True``) compares at 64 px, where a shift of a few pixels
is under one pixel, and against each image and its left-right mirror: a copy that was
shifted or mirrored passes the pixel check but not this one. Its yardstick is measured the
same way (the closest pair of distinct real images at 64 px, mirrors allowed), so each
check holds synthetic images to the standard real images meet under it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthprint.errors import SynthprintError
from synthprint.features import FeatureCache, content_hash, pairwise, select_topk, topk

#: Above this many real-real pairs, the yardstick uses the pruned search (exact SSIM on the
#: best candidates of a cheap first stage) instead of all pairs.
EXACT_PAIR_LIMIT = 1_000_000

#: Two real images at least this similar (in the comparison of the check) are near-duplicates
#: (the same slice saved twice, re-encoded, mirrored): like exact repeats they are not two
#: distinct images, so their pair does not set the yardstick. Distinct CT slices stay well
#: below it (the closest distinct pairs of the benchmarks: 0.56-0.71 at 256 px, 0.68-0.84
#: at 64 px with mirrors), and a synthetic image this close to a training image is a copy
#: whatever the yardstick.
NEAR_DUPLICATE = 0.95

#: Pyramid level of the tolerant check (2 = 64 px: shifts of up to about 6 px at 256 px
#: stay under two pixels there).
TOLERANT_LEVEL = 2


def _with_mirrors(images: np.ndarray) -> np.ndarray:
    """(2N, H, W): ``images`` then each mirrored left-right."""
    return np.concatenate([images, images[:, :, ::-1]])


def _best_of_mirrors(S: np.ndarray) -> np.ndarray:
    """(n, m) from an (n, 2m) matrix against :func:`_with_mirrors`: the larger of each pair."""
    m = S.shape[1] // 2
    return np.maximum(S[:, :m], S[:, m:])


def copy_similarity(A: np.ndarray, B: np.ndarray, metric: str = "ssim", *, level: int = 0,
                    mirrored: bool = False, cache: FeatureCache | None = None,
                    quiet: bool = False) -> np.ndarray:
    """(n, m) float32 ``metric`` (SSIM) of each image of ``A`` (n, H, W) uint8 with each of
    ``B`` (m, H, W) uint8 at pyramid ``level``; with ``mirrored``, the larger of B's image
    and its left-right mirror."""
    if not mirrored:
        return pairwise(A, B, metric, level=level, cache=cache, quiet=quiet)
    return _best_of_mirrors(pairwise(A, _with_mirrors(B), metric, level=level, cache=cache,
                                     quiet=quiet))


@dataclass(frozen=True)
class CopyYardstick:
    """The closest pair of distinct real images: SSIM ``value`` between real ``i`` and ``j``
    (at pyramid ``level``; with ``mirrored``, j's mirror may be the closer)."""

    value: float
    i: int
    j: int
    exact: bool
    level: int = 0
    mirrored: bool = False
    near_duplicates: tuple[tuple[int, int], ...] = ()   # pairs left out (>= NEAR_DUPLICATE)


@dataclass(frozen=True)
class CopyMatches:
    """For each synthetic image (S of them), its nearest training images.

    values: (S, k) float32 SSIM, best first; indices: (S, k) int64 into the training images;
    flagged: (S,) bool, nearest SSIM strictly above the yardstick.
    """

    values: np.ndarray
    indices: np.ndarray
    flagged: np.ndarray
    yardstick: CopyYardstick


def identical_groups(images: np.ndarray) -> list[np.ndarray]:
    """Groups of images that are the same pixel for pixel, among ``images`` (N, H, W): a list
    of (n_i,) int64 index arrays, ascending, each with at least two images, ordered by their
    first index (images are grouped by :func:`~synthprint.features.content_hash`)."""
    by_content: dict[str, list[int]] = {}
    for i, image in enumerate(np.asarray(images)):
        by_content.setdefault(content_hash(image), []).append(i)
    return [np.array(g, dtype=np.int64) for g in by_content.values() if len(g) > 1]


def distinct_images(n: int, groups: list[np.ndarray]) -> np.ndarray:
    """(D,) int64, ascending: of ``n`` images with the ``groups`` of
    :func:`identical_groups`, the index of each that repeats no earlier one."""
    repeats = {int(i) for g in groups for i in g[1:]}
    return np.array([i for i in range(n) if i not in repeats], dtype=np.int64)


def real_yardstick(real: np.ndarray, *, metric: str = "ssim", level: int = 0,
                   mirrored: bool = False, candidates: int = 32,
                   similarities: np.ndarray | None = None,
                   groups: list[np.ndarray] | None = None,
                   cache: FeatureCache | None = None,
                   quiet: bool = False) -> CopyYardstick:
    """The most similar pair of distinct images in ``real`` (R, 256, 256) uint8, at least two
    of them distinct (repeats of an image are left out: :func:`distinct_images`), compared at
    pyramid ``level`` and, with ``mirrored``, also with each other's left-right mirrors.
    Pairs at least :data:`NEAR_DUPLICATE` alike are near-duplicates, not distinct images:
    they are left out and listed in ``near_duplicates`` (indices into ``real``, i < j).

    Exact over all R x R pairs up to :data:`EXACT_PAIR_LIMIT`, else pruned (the exact SSIM of
    each image's ``candidates`` best candidates of :func:`~synthprint.features.topk`'s cheap
    first stage). ``similarities``: the (R, R) matrix of ``real`` that this comparison gives
    when the caller has it already (then the answer is exact and nothing is recomputed).
    ``groups``: :func:`identical_groups` of ``real`` when the caller has them. ``cache``: a
    :class:`~synthprint.features.FeatureCache` for the all-pairs matrix.
    """
    keep = distinct_images(len(real), identical_groups(real) if groups is None else groups)
    if len(keep) < 2:
        raise SynthprintError("the copy yardstick needs at least two distinct real images")
    if len(keep) < len(real):
        real = real[keep]
        if similarities is not None:
            similarities = similarities[np.ix_(keep, keep)]
    n = len(real)
    exact = similarities is not None or n ** 2 <= EXACT_PAIR_LIMIT
    if similarities is None and exact:      # all pairs: pairwise scores each pair once
        similarities = copy_similarity(real, real, metric, level=level, mirrored=mirrored,
                                       cache=cache, quiet=quiet)
    if similarities is not None:            # every pair: mask own and near-duplicate pairs
        values = np.array(similarities, dtype=np.float64)
        indices = np.broadcast_to(np.arange(n), (n, n))
    else:   # each image's best candidates; its own mirror takes one place: fold them
        pool = _with_mirrors(real) if mirrored else real
        k = min(16 if mirrored else 8, len(pool))   # room for near-duplicates among the best
        values, indices = topk(real, pool, k=k, metric=metric, level=level,
                               candidates=min(candidates, len(pool)), quiet=quiet)
        indices = indices % n
    own = indices == np.arange(n)[:, None]
    twins = ~own & (values >= NEAR_DUPLICATE)
    near = sorted({(int(keep[min(a, b)]), int(keep[max(a, b)]))
                   for a, b in zip(np.nonzero(twins)[0], indices[twins])})
    values = np.where(own | twins, -np.inf, values)
    best = np.argmax(values, axis=1)
    row = int(np.argmax(values[np.arange(n), best]))
    if not np.isfinite(values[row, best[row]]):
        raise SynthprintError(
            "the real images (training and holdout) hold no two distinct images that are not "
            f"near-duplicates of each other (SSIM {NEAR_DUPLICATE} or more"
            + (" at 64 px, mirrors allowed" if mirrored else "") + "): a copy yardstick needs "
            "two different slices; add real images")
    return CopyYardstick(float(values[row, best[row]]), int(keep[row]),
                         int(keep[indices[row, best[row]]]), exact, level, mirrored,
                         tuple(near))


def find_copies(synthetic: np.ndarray, train: np.ndarray, yardstick: CopyYardstick, *,
                k: int = 3, metric: str = "ssim", similarities: np.ndarray | None = None,
                cache: FeatureCache | None = None, quiet: bool = False) -> CopyMatches:
    """Nearest training images of every synthetic image, and which are closer than the
    yardstick, compared as the yardstick was (its ``level`` and ``mirrored``; exact SSIM over
    all synthetic x training pairs).

    ``similarities``: the (S, T) matrix of ``synthetic`` x ``train`` compared that way when
    the caller has it already (then nothing is recomputed); ``cache``: a
    :class:`~synthprint.features.FeatureCache` for the matrix of a tolerant comparison."""
    k = min(k, len(train))
    if similarities is None and (yardstick.level or yardstick.mirrored):
        similarities = copy_similarity(synthetic, train, metric, level=yardstick.level,
                                       mirrored=yardstick.mirrored, cache=cache, quiet=quiet)
    if similarities is None:
        values, indices = topk(synthetic, train, k=k, metric=metric, quiet=quiet)
    else:
        values, indices = select_topk(similarities, k)
    flagged = values[:, 0] > yardstick.value
    return CopyMatches(values, indices, flagged, yardstick)
