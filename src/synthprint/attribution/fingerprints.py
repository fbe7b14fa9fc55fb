"""Generator fingerprints as plain functions over image stacks.

Every function takes a stack of grayscale images, shape (N, H, W) with H == W (256 for the
challenge; any square size works), dtype uint8 (0..255) or float (already scaled to 0..1), and
works in chunks so that memory stays bounded for tens of thousands of images. Nothing here
depends on the images having been upsampled: the features are defined at whatever resolution
the images come in.

* :func:`noise_residual` -- image minus its denoised version (Marra et al. 2019), the part of
  an image where a generator's own texture lives.
* :func:`radial_power_spectrum` -- azimuthally averaged power spectrum (Durall et al. 2020,
  Frank et al. 2020).
* :func:`grid_power_spectrum` -- the same over a coarse grid of 2-D frequencies, which
  keeps the direction of periodic artefacts.
* :func:`block_dct_energy` -- mean energy of each coefficient of the 8x8 block DCT
  (Frank et al. 2020), usually of a noise residual.
* :func:`intensity_histogram` -- fraction of pixels per grey-level bin.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.fft
import scipy.sparse
from scipy import ndimage

#: Images processed together; (256 x 256) float32 x 256 images is 64 MiB per buffer.
CHUNK = 256

_EPS = 1e-12


def as_float(images: np.ndarray) -> np.ndarray:
    """(N, H, W) uint8 0..255 -> float32 0..1 (float input is only cast to float32)."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images.astype(np.float32) * np.float32(1.0 / 255.0)
    return images.astype(np.float32, copy=False)


def check_stack(images: np.ndarray, name: str = "images") -> np.ndarray:
    """Validate a stack of square grayscale images; return it as an array (no copy)."""
    images = np.asarray(images)
    if images.ndim == 2:
        images = images[None]
    if images.ndim != 3 or images.shape[1] != images.shape[2] or images.shape[1] < 8:
        raise ValueError(f"{name}: expected shape (N, S, S) with S >= 8, got {images.shape}")
    if images.dtype != np.uint8 and not np.issubdtype(images.dtype, np.floating):
        raise ValueError(f"{name}: expected uint8 or float pixels, got {images.dtype}")
    return images


def _chunks(n: int, size: int = CHUNK):
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))


def noise_residual(images: np.ndarray, sigma: float = 1.0) -> np.ndarray:
    """Noise residual ``x - G_sigma * x`` of each image.

    Parameters
    ----------
    images : (N, S, S) uint8 0..255 or float 0..1
    sigma : Gaussian denoiser width in pixels (> 0).

    Returns
    -------
    (N, S, S) float32, intensity units of 0..1 (zero-mean-ish, roughly -1..1).
    """
    if not sigma > 0:
        raise ValueError(f"sigma (the denoiser's width in pixels) must be > 0, got {sigma}")
    images = check_stack(images)
    out = np.empty(images.shape, dtype=np.float32)
    for sl in _chunks(len(images)):
        x = as_float(images[sl])
        out[sl] = x - ndimage.gaussian_filter(x, (0, sigma, sigma), mode="reflect")
    return out


def flat_power(x: np.ndarray, workers: int | None = None) -> np.ndarray:
    """Power spectrum of each mean-removed image on the rfft2 half-plane, one column each.

    x : (n, S, S) float32 0..1 -> (S * (S//2 + 1), n) float32, ``|FFT|^2 / S^2``.
    """
    size = x.shape[1]
    f = scipy.fft.rfft2(x - x.mean(axis=(1, 2), keepdims=True), workers=workers)
    power = (f.real ** 2 + f.imag ** 2).reshape(len(x), -1).T
    power *= np.float32(1.0 / (size * size))
    return power


@lru_cache(maxsize=8)
def _radial_matrix(size: int) -> tuple[scipy.sparse.csr_matrix, int]:
    """Sparse (size * (size//2 + 1), n_bins) matrix averaging an rfft2 power map per radius.

    Bin r holds the frequencies with round(|f|) == r (in cycles per image), r = 0..size//2;
    frequencies beyond the Nyquist radius (the corners) are left out. The half-plane of the
    rfft counts twice where its mirror image is not stored.
    """
    fy = np.fft.fftfreq(size) * size
    fx = np.fft.rfftfreq(size) * size
    radius = np.rint(np.hypot(fy[:, None], fx[None, :])).astype(np.int64)
    weight = np.full(radius.shape, 2.0)
    weight[:, 0] = 1.0
    if size % 2 == 0:
        weight[:, -1] = 1.0
    n_bins = size // 2 + 1
    keep = (radius < n_bins).ravel()
    rows = np.flatnonzero(keep)
    cols = radius.ravel()[keep]
    w = weight.ravel()[keep]
    totals = np.bincount(cols, weights=w, minlength=n_bins)
    mat = scipy.sparse.csr_matrix((w / totals[cols], (rows, cols)),
                                  shape=(radius.size, n_bins), dtype=np.float64)
    return mat, n_bins


def radial_power_spectrum(images: np.ndarray, *, log: bool = True,
                          workers: int | None = None) -> np.ndarray:
    """Azimuthally averaged power spectrum of each image.

    The mean of each image is removed first, so bin 0 is ~0. Power is ``|FFT|^2 / S^2`` of the
    image scaled to 0..1.

    Parameters
    ----------
    images : (N, S, S) uint8 0..255 or float 0..1
    log : return ``log(power + 1e-12)`` (natural log) instead of the power.
    workers : threads for the FFT (``scipy.fft`` ``workers``; None = 1).

    Returns
    -------
    (N, S//2 + 1) float32; column r is radius r in cycles per image (0 .. Nyquist).
    """
    images = check_stack(images)
    size = images.shape[1]
    mat, n_bins = _radial_matrix(size)
    out = np.empty((len(images), n_bins), dtype=np.float32)
    for sl in _chunks(len(images)):
        out[sl] = (mat.T @ flat_power(as_float(images[sl]), workers)).T
    if log:
        np.log(out + _EPS, out=out)
    return out


@lru_cache(maxsize=8)
def _grid_matrix(size: int, grid: int) -> scipy.sparse.csr_matrix:
    """Sparse (size * (size//2 + 1), grid * grid//2) matrix averaging an rfft2 power map over
    a grid of frequency cells: ``grid`` rows over vertical frequency -S/2..S/2 and ``grid//2``
    columns over horizontal frequency 0..S/2 (the other half-plane mirrors this one)."""
    fy = np.fft.fftfreq(size) * size
    fx = np.fft.rfftfreq(size) * size
    cell = size / grid
    row = np.clip(np.floor((fy + size / 2) / cell).astype(np.int64), 0, grid - 1)
    col = np.clip(np.floor(fx / cell).astype(np.int64), 0, grid // 2 - 1)
    index = (row[:, None] * (grid // 2) + col[None, :]).ravel()
    n_cells = grid * (grid // 2)
    counts = np.bincount(index, minlength=n_cells).astype(np.float64)
    return scipy.sparse.csr_matrix((1.0 / counts[index], (np.arange(index.size), index)),
                                   shape=(index.size, n_cells))


def grid_power_spectrum(images: np.ndarray, grid: int = 16, *, log: bool = True,
                        workers: int | None = None) -> np.ndarray:
    """Power spectrum averaged over a coarse grid of 2-D frequency cells.

    Unlike :func:`radial_power_spectrum` this keeps direction: a generator's periodic
    artefacts (checkerboards, stripes) show up as peaks at particular 2-D frequencies.

    Parameters
    ----------
    images : (N, S, S) uint8 0..255 or float 0..1, S divisible by ``grid``
    grid : cells per axis over the full spectrum (even, >= 2).
    log : return ``log(power + 1e-12)``.

    Returns
    -------
    (N, grid * grid // 2) float32: cell (i, j) at column ``i * grid//2 + j`` covers vertical
    frequencies ``[-S/2 + i S/grid, -S/2 + (i+1) S/grid)`` and horizontal frequencies
    ``[j S/grid, (j+1) S/grid)`` cycles per image (the last cells include Nyquist).
    """
    images = check_stack(images)
    size = images.shape[1]
    if grid < 2 or grid % 2 or size % grid:
        raise ValueError(f"grid must be even and divide the image size {size}, got {grid}")
    mat = _grid_matrix(size, grid)
    out = np.empty((len(images), mat.shape[1]), dtype=np.float32)
    for sl in _chunks(len(images)):
        out[sl] = (mat.T @ flat_power(as_float(images[sl]), workers)).T
    if log:
        np.log(out + _EPS, out=out)
    return out


def block_dct_energy(images: np.ndarray, block: int = 8, *, log: bool = True) -> np.ndarray:
    """Mean squared coefficient of each frequency of the orthonormal 2-D block DCT-II.

    The image is cut into non-overlapping ``block x block`` tiles (a remainder at the right and
    bottom edges is dropped); for each of the ``block**2`` DCT frequencies the squared
    coefficient is averaged over all tiles.

    Parameters
    ----------
    images : (N, S, S) uint8 0..255 or float (0..1 for images, any range for residuals)
    block : tile side in pixels.
    log : return ``log(energy + 1e-12)``.

    Returns
    -------
    (N, block * block) float32, row-major over (vertical, horizontal) frequency.
    """
    images = check_stack(images)
    n, size = len(images), images.shape[1]
    m = size // block
    basis = _dct_matrix(block)
    out = np.empty((n, block * block), dtype=np.float32)
    for sl in _chunks(n):
        x = as_float(images[sl])[:, : m * block, : m * block]
        tiles = x.reshape(len(x), m, block, m, block)      # (n, tile row, y, tile col, x)
        coef = np.swapaxes(tiles @ basis.T, 2, 4) @ basis.T  # (n, tile row, v, tile col, u)
        energy = np.mean(coef * coef, axis=(1, 3))          # (n, v, u)
        out[sl] = np.swapaxes(energy, 1, 2).reshape(len(x), -1)
    if log:
        np.log(out + _EPS, out=out)
    return out


@lru_cache(maxsize=4)
def _dct_matrix(block: int) -> np.ndarray:
    """Orthonormal DCT-II matrix (block, block) float32: row u is frequency u."""
    return scipy.fft.dct(np.eye(block), type=2, norm="ortho", axis=0).astype(np.float32)


def intensity_histogram(images: np.ndarray, bins: int = 32) -> np.ndarray:
    """Fraction of pixels in each of ``bins`` equal grey-level bins over 0..255.

    Parameters
    ----------
    images : (N, S, S) uint8 0..255 (float 0..1 is scaled to 0..255 and rounded)

    Returns
    -------
    (N, bins) float32, rows sum to 1.
    """
    images = check_stack(images)
    if images.dtype != np.uint8:
        images = np.clip(np.rint(images * 255.0), 0, 255).astype(np.uint8)
    if 256 % bins:
        raise ValueError(f"bins must divide 256, got {bins}")
    width = 256 // bins
    n = len(images)
    flat = images.reshape(n, -1) // width
    offsets = (np.arange(n, dtype=np.int64) * bins)[:, None]
    counts = np.bincount((flat + offsets).ravel(), minlength=n * bins).reshape(n, bins)
    return (counts / flat.shape[1]).astype(np.float32)


__all__ = [
    "as_float",
    "block_dct_energy",
    "check_stack",
    "flat_power",
    "grid_power_spectrum",
    "intensity_histogram",
    "noise_residual",
    "radial_power_spectrum",
]
