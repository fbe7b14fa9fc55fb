"""Shared fixtures: small synthetic image folders in the challenge layouts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def ct_like(seed: int, size: int = 256) -> np.ndarray:
    """A (size, size) uint8 image with a bright ellipse 'body' and noise, like a CT slice."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size] / size - 0.5
    a, b = 0.35 + 0.05 * rng.random(), 0.25 + 0.05 * rng.random()
    body = ((xx / a) ** 2 + (yy / b) ** 2) < 1
    img = np.where(body, 170.0, 10.0) + rng.normal(0, 12, (size, size))
    return np.clip(img, 0, 255).astype(np.uint8)


def write_png(path: Path, arr: np.ndarray, mode: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr, mode=mode).save(path) if mode else Image.fromarray(arr).save(path)
    return path


def make_folder(folder: Path, prefix: str, n: int, seed: int = 0) -> list[Path]:
    return [write_png(folder / f"{prefix}{i}.png", ct_like(seed * 1000 + i))
            for i in range(1, n + 1)]


@pytest.fixture
def membership_train(tmp_path: Path) -> Path:
    root = tmp_path / "train"
    make_folder(root / "generated", "generated_", 6, seed=1)
    make_folder(root / "real_used", "real_used_", 3, seed=2)
    make_folder(root / "real_not_used", "real_not_used_", 3, seed=3)
    return root


@pytest.fixture
def attribution_train(tmp_path: Path) -> Path:
    root = tmp_path / "train"
    for k in range(1, 4):
        make_folder(root / "real" / f"t{k}", f"real_t{k}_", 2, seed=10 + k)
        make_folder(root / "generated" / f"gen_t{k}", f"gen_t{k}_", 3, seed=20 + k)
    return root
