"""Write a cleaned copy of a synthetic set: every image except the flagged copies."""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path

import numpy as np

from synthprint.errors import SynthprintError
from synthprint.io import ImageDataset, atomic_write_bytes, atomic_write_text, check_can_write


def _swap_in(new: Path, folder: Path, aside: Path) -> None:
    """Rename the folder ``new`` to ``folder``; an existing ``folder`` (or a link of that
    name) is moved to ``aside`` first, put back if the rename fails, and removed after."""
    if not folder.exists() and not folder.is_symlink():
        new.rename(folder)
        return
    folder.rename(aside)
    try:
        new.rename(folder)
    except BaseException:
        aside.rename(folder)
        raise
    if aside.is_symlink():
        aside.unlink()
    else:
        shutil.rmtree(aside)


def write_filtered(synthetic: ImageDataset, drop: np.ndarray, folder: str | Path, *,
                   force: bool = False) -> tuple[Path, Path]:
    """Copy the synthetic images not in ``drop`` into ``folder`` byte for byte, and write
    ``folder``'s sibling ``dropped.csv`` (``name,reason``, reason ``copy``) listing the rest.

    Parameters
    ----------
    synthetic: the synthetic set as loaded (its ``paths`` are read, never changed).
    drop: (S,) bool, True for images to leave out.
    folder: the new folder; it must not exist, or be empty, unless ``force``. With
        ``force`` an existing folder is *replaced*: nothing of an earlier filtering (a copy
        it kept, say) stays in it.

    The folder is filled under a temporary name beside it and renamed into place at the end,
    so a failed run leaves any earlier folder as it was. Returns the folder and the path of
    ``dropped.csv``.
    """
    folder = Path(folder)
    drop = np.asarray(drop, dtype=bool)
    if drop.shape != (len(synthetic),):
        raise ValueError(f"drop must have shape ({len(synthetic)},), got {drop.shape}")
    if folder.exists() and not folder.is_dir():
        raise SynthprintError(f"{folder}: is a file; it cannot become the filtered folder")
    if folder.exists() and any(folder.iterdir()) and not force:
        raise SynthprintError(f"{folder}: exists and is not empty; pass --force to replace "
                              "the files in it")
    src_root, target = Path(synthetic.layout.root).resolve(), folder.resolve()
    if target == src_root or src_root in target.parents or target in src_root.parents:
        raise SynthprintError(f"{folder}: is or holds the synthetic input folder; choose an "
                              "--out outside the data")
    check_can_write(folder.parent / "dropped.csv", force)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tag = secrets.token_hex(6)
    building = folder.parent / f".{folder.name}.{tag}.tmp"
    building.mkdir()
    try:
        for keep, path, name in zip(~drop, synthetic.paths, synthetic.names):
            if keep:
                atomic_write_bytes(building / name, Path(path).read_bytes())
        _swap_in(building, folder, folder.parent / f".{folder.name}.{tag}.old")
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    dropped = [n for n, d in zip(synthetic.names, drop) if d]
    listing = atomic_write_text(folder.parent / "dropped.csv",
                                "name,reason\n" + "".join(f"{n},copy\n" for n in dropped),
                                force=force)
    return folder, listing
