"""Load a split into memory: image names exactly as on disk, pixels, roles and labels."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from synthprint._cores import default_n_jobs
from synthprint._progress import progress_task
from synthprint.errors import SynthprintError
from synthprint.io.decode import IMAGE_SIZE, DecodeNote, decode_image, is_image_file
from synthprint.io.layouts import (
    UNKNOWN_LABEL,
    BenchmarkLayout,
    FolderSpec,
    Layout,
    Role,
    check_folder,
    detect_layout,
    holds_images,
    natural_key,
    unread_folders,
)
from synthprint.io.tables import labels_for, read_labels_csv


@dataclass(frozen=True)
class FolderListing:
    """The image files of one folder (natural order), the non-image files skipped and the
    subfolders that hold images (not read: a split's images sit directly in its folders)."""

    spec: FolderSpec
    files: tuple[Path, ...]
    skipped: tuple[Path, ...]
    unread_folders: tuple[Path, ...] = ()


def list_folder(spec: FolderSpec) -> FolderListing:
    """List the images of one folder in natural order, checking names are unique.

    Raises :class:`SynthprintError` when the folder is empty or when two files share a name
    up to extension and case (``a.png`` and ``A.jpg``), which would collide in a run file.
    """
    files, skipped, folders = [], [], []
    for p in spec.path.iterdir():
        if p.is_dir():
            folders.append(p)
            continue
        (files if is_image_file(p) else skipped).append(p)
    holding = [f for f in sorted(folders) if holds_images(f)]
    if not files:
        hint = (f"; its subfolder {holding[0].name}/ holds images: move them up into "
                f"{spec.path.name}/ (subfolders are not read)" if holding else "")
        raise SynthprintError(f"{spec.path}: no images found; expected PNG files for the "
                              f"{spec.role.value} images{hint}")
    seen: dict[str, Path] = {}
    for p in files:
        key = p.stem.lower()
        if key in seen:
            raise SynthprintError(
                f"{spec.path}: {seen[key].name} and {p.name} have the same name; image names "
                "must be unique within a folder (up to extension and case): rename or remove one"
            )
        seen[key] = p
    files.sort(key=lambda p: natural_key(p.name))
    return FolderListing(spec, tuple(files), tuple(sorted(skipped)), tuple(holding))


@dataclass(repr=False)
class ImageDataset:
    """One split in memory.

    Attributes
    ----------
    layout:
        The recognised :class:`~synthprint.io.layouts.Layout`.
    names:
        File names exactly as on disk (``real_unknown_0001.png``), length N, natural order
        within each folder, folders in layout order.
    paths:
        Absolute paths, length N.
    images:
        uint8 array of shape (N, 256, 256), grayscale 0..255.
    roles:
        Array of N :class:`Role` values.
    labels:
        int16 array of N: 1/0 for used/not used, the subset number for subtask 2, -1 unknown.
    notes:
        Conversions applied while decoding (16-bit rescaling, palette, resizing).
    skipped:
        Non-image files that were skipped (``.DS_Store``, ``*.csv``, ...).
    unread_folders:
        Folders that hold images which were not read: subfolders of the split's folders, and
        folders beside them that fill no role in the layout.
    """

    layout: Layout
    names: list[str]
    paths: list[Path]
    images: np.ndarray
    roles: np.ndarray
    labels: np.ndarray
    notes: list[DecodeNote] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    unread_folders: list[Path] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.names)

    def __repr__(self) -> str:
        counts = ", ".join(f"{r}={n}" for r, n in self.counts().items())
        return f"ImageDataset(layout={self.layout.name!r}, n={len(self)}, {counts})"

    @property
    def ids(self) -> list[str]:
        """Names without their extension (the 2023 run-file ids)."""
        return [Path(n).stem for n in self.names]

    def counts(self) -> dict[str, int]:
        """Number of images per role (and per subset for subtask 2), in layout order."""
        out: dict[str, int] = {}
        for role, label in zip(self.roles, self.labels):
            key = role.value if role not in (Role.REAL_SUBSET, Role.GENERATED_SUBSET) \
                else f"{role.value.split('_')[0]}/t{label}"
            out[key] = out.get(key, 0) + 1
        return out

    def indices(self, *roles: Role) -> np.ndarray:
        """Indices (int64, ascending) of the images whose role is one of ``roles``."""
        wanted = set(roles)
        return np.array([i for i, r in enumerate(self.roles) if r in wanted], dtype=np.int64)

    def select(self, *roles: Role) -> ImageDataset:
        """A new dataset with only the images of the given roles (images are copied)."""
        return self.take(self.indices(*roles))

    def take(self, idx: np.ndarray) -> ImageDataset:
        """A new dataset with the images at ``idx`` (in that order)."""
        idx = np.asarray(idx, dtype=np.int64)
        return ImageDataset(
            layout=self.layout,
            names=[self.names[i] for i in idx],
            paths=[self.paths[i] for i in idx],
            images=self.images[idx],
            roles=self.roles[idx],
            labels=self.labels[idx],
            notes=self.notes,
            skipped=self.skipped,
            unread_folders=self.unread_folders,
        )


def _default_workers() -> int:
    return min(8, default_n_jobs())


def load_split(layout: Layout, *, resize: bool = False, workers: int | None = None,
               quiet: bool = False) -> ImageDataset:
    """Decode every image of a split into one preallocated (N, 256, 256) uint8 array.

    Decoding runs in ``workers`` threads (default: all cores, at most 8) straight into the
    output array, so peak memory stays near the raw pixel size. A progress bar is shown
    unless ``quiet``.
    """
    listings = [list_folder(spec) for spec in layout.folders]
    files = [p for lst in listings for p in lst.files]
    roles = np.array([lst.spec.role for lst in listings for _ in lst.files], dtype=object)
    labels = np.array([lst.spec.label for lst in listings for _ in lst.files], dtype=np.int16)
    images = np.empty((len(files), IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    notes_per_file: list[list[DecodeNote]] = [[] for _ in files]

    def work(i: int) -> None:
        images[i] = decode_image(files[i], resize=resize, notes=notes_per_file[i])

    n_workers = workers or _default_workers()
    with progress_task(f"loading {layout.root.name}/", len(files), quiet) as advance, \
            ThreadPoolExecutor(max_workers=n_workers) as pool:
        for _ in pool.map(work, range(len(files))):
            advance()
    return ImageDataset(
        layout=layout,
        names=[p.name for p in files],
        paths=[p.resolve() for p in files],
        images=images,
        roles=roles,
        labels=labels,
        notes=[n for ns in notes_per_file for n in ns],
        skipped=[p for lst in listings for p in lst.skipped],
        unread_folders=[p for lst in listings for p in lst.unread_folders]
        + unread_folders(layout),
    )


def load_folder(folder: str | Path, role: Role | str, label: int = UNKNOWN_LABEL, *,
                resize: bool = False, workers: int | None = None,
                quiet: bool = False) -> ImageDataset:
    """Load one flat folder of images, all with the same ``role`` and ``label``.

    For inputs that are not challenge splits, e.g. an audit's training, holdout and synthetic
    folders. Same decoding rules and errors as :func:`load_split`.
    """
    try:
        role = Role(role)
    except ValueError:
        raise SynthprintError(f"role must be one of {', '.join(r.value for r in Role)}, got "
                              f"{role!r}") from None
    root = check_folder(folder)
    layout = Layout("folder-" + role.value, root, (FolderSpec(root, role, label),))
    return load_split(layout, resize=resize, workers=workers, quiet=quiet)


def load_dataset(root: str | Path, layout: str | None = None, *, resize: bool = False,
                 workers: int | None = None, quiet: bool = False) -> ImageDataset:
    """Detect the layout of one split folder and load it (see :func:`load_split`).

    Raises :class:`SynthprintError` when ``root`` is a benchmark (train/ + test/) rather than
    a split: point at its ``train/`` or ``test/`` folder, or use :func:`load_benchmark`.
    """
    found = detect_layout(root, layout)
    if isinstance(found, BenchmarkLayout):
        raise SynthprintError(
            f"{root}: holds both train/ and test/; point at {Path(root) / 'train'} or "
            f"{Path(root) / 'test'}"
        )
    return load_split(found, resize=resize, workers=workers, quiet=quiet)


@dataclass(repr=False)
class Benchmark:
    """A train split, a test split, and (for the simulated benchmarks) the test truth."""

    layout: BenchmarkLayout
    train: ImageDataset
    test: ImageDataset
    truth: dict[str, int] | None
    meta: dict | None

    def __repr__(self) -> str:
        return (f"Benchmark(root={str(self.layout.root)!r}, train={self.train!r}, "
                f"test={self.test!r}, truth={'yes' if self.truth else 'no'})")

    def test_labels(self, role: Role) -> np.ndarray:
        """Truth labels (int64) of the test images of ``role``, in dataset order."""
        if self.truth is None:
            raise SynthprintError(f"{self.layout.root}: has no truth/ folder")
        names = [self.test.names[i] for i in self.test.indices(role)]
        return labels_for(names, self.truth, self.layout.truth)


@dataclass(frozen=True, repr=False, eq=False)
class MembershipData:
    """A subtask 1 train and test split as the membership methods take them.

    generated: (G, H, W) uint8, every generated image, the train split's then the test's;
    real: (R, H, W) uint8, the labelled real images of the train split (layout order);
    labels: (R,) int64, 1 used, 0 not used; unknown: (T,) int64 indices into the test split
    of its real images to label; test_real: (T, H, W) uint8, their pixels;
    generated_names, generated_paths: the file of each generated image (length G).
    """

    generated: np.ndarray
    real: np.ndarray
    labels: np.ndarray
    unknown: np.ndarray
    test_real: np.ndarray
    generated_names: list[str]
    generated_paths: list[Path]

    def __repr__(self) -> str:
        return (f"MembershipData(generated={len(self.generated)}, labelled real="
                f"{len(self.real)} ({int(self.labels.sum())} used), test real="
                f"{len(self.test_real)})")


def _check_labels_agree(train: ImageDataset, labelled: np.ndarray) -> None:
    """Raise when the same pixels are among the used and the not-used images of ``train``
    (rows ``labelled``): one image cannot be both."""
    first: dict[bytes, int] = {}
    for i in labelled:
        key = hashlib.blake2b(np.ascontiguousarray(train.images[i]), digest_size=16).digest()
        j = first.setdefault(key, int(i))
        if train.labels[j] != train.labels[i]:
            raise SynthprintError(
                f"{train.paths[j]} and {train.paths[i]} are the same image, labelled used in "
                "one folder and not used in the other: remove it from the folder it does not "
                "belong to")


def membership_data(train: ImageDataset, test: ImageDataset) -> MembershipData:
    """The arrays of a subtask 1 ``train`` and ``test`` split (:class:`MembershipData`).

    Raises :class:`SynthprintError` when ``train`` holds no labelled real images or ``test``
    no unknown real images (the splits swapped, or a subtask 2 benchmark's), or fewer than 2
    images of a class (naming its folder).
    """
    labelled = train.indices(Role.REAL_USED, Role.REAL_NOT_USED)
    unknown = test.indices(Role.REAL_UNKNOWN)
    for split, found, what in ((train, labelled, "labelled real images (real_used/, "
                                                 "real_not_used/)"),
                               (test, unknown, "unknown real images (real_unknown/)")):
        if not len(found):
            raise SynthprintError(
                f"{split.layout.root}: holds no {what}, its layout is '{split.layout.name}'; "
                "membership_data(train, test) takes a subtask 1 train split, then its test "
                "split")
    _check_labels_agree(train, labelled)
    for spec in train.layout.folders:
        if spec.role not in (Role.REAL_USED, Role.REAL_NOT_USED):
            continue
        n = len(train.indices(spec.role))
        if n < 2:
            raise SynthprintError(f"{spec.path}: holds {n} image; cross-validation needs at "
                                  "least 2 labelled images of each class: add images")
    splits = [(split, split.indices(Role.GENERATED)) for split in (train, test)]
    return MembershipData(
        np.concatenate([split.images[g] for split, g in splits]), train.images[labelled],
        train.labels[labelled].astype(np.int64), unknown, test.images[unknown],
        [split.names[i] for split, g in splits for i in g],
        [split.paths[i] for split, g in splits for i in g])


def read_truth_folder(folder: Path) -> dict[str, int]:
    """Merge every ``*.csv`` in a benchmark's ``truth/`` folder into one name -> label map."""
    truth: dict[str, int] = {}
    for csv in sorted(folder.glob("*.csv")):
        truth.update(read_labels_csv(csv))
    return truth


def load_benchmark(root: str | Path, *, resize: bool = False, workers: int | None = None,
                   quiet: bool = False) -> Benchmark:
    """Load a benchmark folder (``train/``, ``test/``, optional ``truth/`` and ``meta.json``)."""
    found = detect_layout(root, "benchmark")
    assert isinstance(found, BenchmarkLayout)
    train = load_split(found.train, resize=resize, workers=workers, quiet=quiet)
    test = load_split(found.test, resize=resize, workers=workers, quiet=quiet)
    truth = read_truth_folder(found.truth) if found.truth else None
    meta = json.loads(found.meta.read_text()) if found.meta else None
    return Benchmark(found, train, test, truth, meta)


def summarize_notes(notes: list[DecodeNote]) -> dict[str, int]:
    """Count decode notes by kind, e.g. ``{"palette": 200, "16-bit-rescaled": 3}``."""
    return dict(Counter(n.kind for n in notes))


__all__ = [
    "Benchmark",
    "FolderListing",
    "ImageDataset",
    "UNKNOWN_LABEL",
    "list_folder",
    "load_benchmark",
    "load_dataset",
    "load_folder",
    "load_split",
    "read_truth_folder",
    "summarize_notes",
]
