"""Write a cleaned copy of a synthetic set: every image except the flagged copies."""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path

import numpy as np

from synthprint.errors import SynthprintError
from synthprint.io import ImageDataset, atomic_write_text


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
    if folder.exists() and any(folder.iterdir()) and not force:
        raise SynthprintError(f"{folder}: exists and is not empty; pass --force to replace "
                              "the files in it")
    src_root = Path(synthetic.layout.root).resolve()
    if folder.resolve() == src_root or src_root in folder.resolve().parents:
        raise SynthprintError(f"{folder}: is inside the synthetic input folder; choose an "
                              "--out outside the data")
    folder.parent.mkdir(parents=True, exist_ok=True)
    tag = secrets.token_hex(6)
    building = folder.parent / f".{folder.name}.{tag}.tmp"
    building.mkdir()
    try:
        for keep, path, name in zip(~drop, synthetic.paths, synthetic.names):
            if keep:
                (building / name).write_bytes(Path(path).read_bytes())
        dropped = [n for n, d in zip(synthetic.names, drop) if d]
        listing = atomic_write_text(folder.parent / "dropped.csv",
                                    "name,reason\n" + "".join(f"{n},copy\n" for n in dropped),
                                    force=force)
        if folder.exists():
            earlier = folder.parent / f".{folder.name}.{tag}.old"
            folder.rename(earlier)
            building.rename(folder)
            shutil.rmtree(earlier)
        else:
            building.rename(folder)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return folder, listing
