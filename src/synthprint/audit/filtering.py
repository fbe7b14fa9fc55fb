"""Write a cleaned copy of a synthetic set: every image except the flagged copies."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from synthprint.io import (
    ImageDataset,
    atomic_write_bytes,
    atomic_write_text,
    prepare_output_dir,
    replace_folder,
)
from synthprint.io.writers import remove_leftover_temps, temp_folder_name


def write_filtered(synthetic: ImageDataset, drop: np.ndarray, folder: str | Path, *,
                   force: bool = False) -> tuple[Path, Path]:
    """Copy the synthetic images not in ``drop`` into ``folder`` byte for byte, and write
    ``folder``'s sibling ``dropped.csv`` (``name,reason``, reason ``copy``) listing the rest.

    Parameters
    ----------
    synthetic: the synthetic set as loaded (its ``paths`` are read, never changed).
    drop: (S,) bool, True for images to leave out.
    folder: the new folder, outside the synthetic input; it and its sibling ``dropped.csv``
        must not exist unless ``force`` (:func:`~synthprint.io.prepare_output_dir`). With
        ``force`` an existing folder is *replaced*: nothing of an earlier filtering (a copy
        it kept, say) stays in it.

    The folder is filled under a temporary name beside it and renamed into place at the end,
    so a failed run leaves any earlier folder as it was; such temporary folders that a killed
    run left behind are removed. Returns the folder and the path of ``dropped.csv``.
    """
    folder = Path(folder)
    drop = np.asarray(drop, dtype=bool)
    if drop.shape != (len(synthetic),):
        raise ValueError(f"drop must have shape ({len(synthetic)},), got {drop.shape}")
    prepare_output_dir(folder.parent, [folder.name, "dropped.csv"], force=force,
                       inputs=[synthetic.layout.root])
    folder.parent.mkdir(parents=True, exist_ok=True)
    remove_leftover_temps(folder.parent, folder.name)
    building = temp_folder_name(folder.parent, folder.name)
    building.mkdir()
    try:
        for keep, path, name in zip(~drop, synthetic.paths, synthetic.names):
            if keep:
                atomic_write_bytes(building / name, Path(path).read_bytes())
        replace_folder(building, folder)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    dropped = pd.DataFrame({"name": [n for n, d in zip(synthetic.names, drop) if d],
                            "reason": "copy"})
    listing = atomic_write_text(folder.parent / "dropped.csv",   # quoted: names may hold commas
                                dropped.to_csv(index=False, lineterminator="\n"), force=force)
    return folder, listing
