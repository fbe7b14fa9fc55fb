"""Recognise the folder layouts the ImageCLEFmedical GANs challenge has used.

A *split layout* maps each image folder of one split (train or test) to a :class:`Role` and a
label. :func:`detect_layout` finds it from the folder the user points at; ``layout=`` forces one.

=================== ===================================================================
layout              folders
=================== ===================================================================
membership-train    ``generated/``, ``real_used/`` (or ``used/``), ``real_not_used/``
                    (or ``not_used/``): subtask 1 train (2025) and dev (2023)
membership-test     ``generated/`` + ``real_unknown/`` (2025) or
                    ``generated_1/`` + ``real_unknown_1/`` (2023)
attribution-train   ``real/<subset>/`` and ``generated/<subset>/``, subsets ``t1..t5`` or
                    ``gen_t1..gen_t5`` (paired by their number)
attribution-test    ``generated_unknown/``, or any single folder of images
=================== ===================================================================

A *benchmark* (the simulated ones in ``shared/bench``, or a challenge download) is a folder
holding ``train/`` and ``test/`` split folders, optionally ``truth/`` and ``meta.json``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from synthprint.errors import SynthprintError
from synthprint.io.decode import is_image_file

SPLIT_LAYOUTS = ("membership-train", "membership-test", "attribution-train", "attribution-test")
LAYOUTS = (*SPLIT_LAYOUTS, "benchmark")

#: What each layout's folder holds, in words (for error messages).
LAYOUT_FOLDERS = {
    "membership-train": "generated/, real_used/ and real_not_used/",
    "membership-test": "generated/ and real_unknown/ (2025) or generated_1/ and "
                       "real_unknown_1/ (2023)",
    "attribution-train": "real/t1..t5/ and generated/t1..t5/",
    "attribution-test": "generated_unknown/ (or a folder of images)",
    "benchmark": "train/ and test/ (optional truth/ and meta.json)",
}

UNKNOWN_LABEL = -1


class Role(str, Enum):
    """What an image is, as far as its folder says."""

    GENERATED = "generated"
    REAL_USED = "real_used"
    REAL_NOT_USED = "real_not_used"
    REAL_UNKNOWN = "real_unknown"
    REAL_SUBSET = "real_subset"
    GENERATED_SUBSET = "generated_subset"
    GENERATED_UNKNOWN = "generated_unknown"

    @property
    def is_real(self) -> bool:
        return self.value.startswith("real")


@dataclass(frozen=True)
class FolderSpec:
    """One image folder of a split: where it is, what its images are, their label.

    ``label`` is 1 (used) / 0 (not used) for subtask 1 real images, the subset number for
    subtask 2, and :data:`UNKNOWN_LABEL` (-1) where unknown.
    """

    path: Path
    role: Role
    label: int = UNKNOWN_LABEL


@dataclass(frozen=True)
class Layout:
    """A recognised split layout."""

    name: str
    root: Path
    folders: tuple[FolderSpec, ...]
    edition: int | None = None  # 2023 / 2025 where the folder names tell, else None

    @property
    def task(self) -> str:
        return self.name.split("-")[0]

    @property
    def split(self) -> str:
        return self.name.split("-")[1]


@dataclass(frozen=True)
class BenchmarkLayout:
    """A folder with a train and a test split, and optionally truth files and ``meta.json``."""

    root: Path
    train: Layout
    test: Layout
    truth: Path | None
    meta: Path | None

    name = "benchmark"


_SUBSET_RE = re.compile(r"^(?:gen_|generated_|real_)?t(\d+)$", re.IGNORECASE)


def _subdirs(root: Path) -> dict[str, Path]:
    return {p.name: p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")}


def holds_images(folder: Path) -> bool:
    """Whether ``folder`` itself (not its subfolders) holds an image file; False for a
    folder that cannot be listed (it would not be read either)."""
    try:
        return any(is_image_file(p) and p.is_file() for p in folder.iterdir())
    except OSError:
        return False


def _one_of(dirs: dict[str, Path], names: tuple[str, ...], root: Path) -> Path | None:
    found = [dirs[n] for n in names if n in dirs]
    if len(found) > 1:
        raise SynthprintError(
            f"{root}: both {found[0].name}/ and {found[1].name}/ exist and mean the same thing; "
            "keep one of them"
        )
    return found[0] if found else None


def _subset_folders(parent: Path, role: Role) -> list[FolderSpec]:
    specs: dict[int, FolderSpec] = {}
    for name, path in sorted(_subdirs(parent).items()):
        m = _SUBSET_RE.match(name)
        if not m:
            continue
        k = int(m.group(1))
        if k in specs:
            raise SynthprintError(
                f"{parent}: folders {specs[k].path.name}/ and {name}/ both name subset {k}; "
                "keep one folder per subset"
            )
        specs[k] = FolderSpec(path, role, k)
    return [specs[k] for k in sorted(specs)]


def _membership_train(root: Path, dirs: dict[str, Path]) -> Layout | None:
    used = _one_of(dirs, ("real_used", "used"), root)
    not_used = _one_of(dirs, ("real_not_used", "not_used"), root)
    if used is None and not_used is None:
        return None
    missing = [n for n, p in (("generated", dirs.get("generated")), ("real_used", used),
                              ("real_not_used", not_used)) if p is None]
    if missing:
        raise SynthprintError(
            f"{root}: looks like a subtask 1 train split but has no "
            + ", ".join(f"{m}/" for m in missing)
            + " folder; expected generated/, real_used/ and real_not_used/"
        )
    return Layout("membership-train", root, (
        FolderSpec(dirs["generated"], Role.GENERATED),
        FolderSpec(used, Role.REAL_USED, 1),
        FolderSpec(not_used, Role.REAL_NOT_USED, 0),
    ))


def _membership_test(root: Path, dirs: dict[str, Path]) -> Layout | None:
    if "real_unknown" in dirs and "real_unknown_1" in dirs:
        raise SynthprintError(
            f"{root}: holds both real_unknown/ (2025 names) and real_unknown_1/ (2023 ids); a "
            "test split is one edition's: keep one of them")
    for gen, real, edition in (("generated_1", "real_unknown_1", 2023),
                               ("generated", "real_unknown", 2025)):
        if real in dirs:
            folders = [FolderSpec(dirs[real], Role.REAL_UNKNOWN)]
            if gen in dirs:
                folders.insert(0, FolderSpec(dirs[gen], Role.GENERATED))
            else:
                raise SynthprintError(
                    f"{root}: has {real}/ but no {gen}/; a subtask 1 test split needs the "
                    f"generated images too ({gen}/)"
                )
            return Layout("membership-test", root, tuple(folders), edition)
    return None


def _attribution_train(root: Path, dirs: dict[str, Path]) -> Layout | None:
    if "real" not in dirs or "generated" not in dirs:
        return None
    real = _subset_folders(dirs["real"], Role.REAL_SUBSET)
    gen = _subset_folders(dirs["generated"], Role.GENERATED_SUBSET)
    if not gen:
        return None
    real_k = {f.label for f in real}
    gen_k = {f.label for f in gen}
    if real and real_k != gen_k:
        raise SynthprintError(
            f"{root}: real/ has subsets {sorted(real_k)} but generated/ has {sorted(gen_k)}; "
            "every subset needs both a real and a generated folder (t1..t5 or gen_t1..gen_t5)"
        )
    return Layout("attribution-train", root, (*real, *gen), 2025)


def _attribution_test(root: Path, dirs: dict[str, Path]) -> Layout | None:
    if "generated_unknown" in dirs:
        return Layout("attribution-test", root,
                      (FolderSpec(dirs["generated_unknown"], Role.GENERATED_UNKNOWN),), 2025)
    if holds_images(root):
        return Layout("attribution-test", root, (FolderSpec(root, Role.GENERATED_UNKNOWN),), None)
    return None


_DETECTORS = {
    "membership-train": _membership_train,
    "membership-test": _membership_test,
    "attribution-train": _attribution_train,
    "attribution-test": _attribution_test,
}

_EXPECTED = "expected one of these layouts: " + "; ".join(
    f"{layout}: {folders}" for layout, folders in LAYOUT_FOLDERS.items())


def check_folder(root: str | Path) -> Path:
    """``root`` as a Path (``~`` expanded); :class:`SynthprintError` when it is missing or
    a file."""
    root = Path(root).expanduser()
    if not root.exists():
        raise SynthprintError(f"{root}: folder not found; check the path")
    if not root.is_dir():
        raise SynthprintError(f"{root}: is a file, expected a folder of images")
    return root


def check_file(path: str | Path, what: str, hint: str = "") -> Path:
    """``path`` as a Path (``~`` expanded); :class:`SynthprintError` when it is missing or a
    folder. ``what`` names the file in the messages ("truth file"); ``hint`` follows
    "give the <what> itself" for a folder, e.g. " (run.csv)"."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise SynthprintError(f"{path}: is a folder; give the {what} itself{hint}")
    if not path.is_file():
        raise SynthprintError(f"{path}: {what} not found")
    return path


def detect_layout(root: str | Path, layout: str | None = None) -> Layout | BenchmarkLayout:
    """Recognise the layout of ``root``.

    Parameters
    ----------
    root:
        The folder the user points at.
    layout:
        Force one of :data:`LAYOUTS` instead of guessing.

    Raises
    ------
    SynthprintError
        The folder is missing, or matches no layout (the message lists what was expected).
    """
    root = check_folder(root)
    if layout is not None and layout not in LAYOUTS:
        raise SynthprintError(f"unknown layout {layout!r}; choose one of {', '.join(LAYOUTS)}")
    if not any(not p.name.startswith(".") for p in root.iterdir()):
        raise SynthprintError(f"{root}: is empty; point at a folder that holds the images "
                              "(or a split's folders)")
    dirs = _subdirs(root)
    if layout in (None, "benchmark") and "train" in dirs and "test" in dirs:
        truth = root / "truth" if (root / "truth").is_dir() else None
        meta = root / "meta.json" if (root / "meta.json").is_file() else None
        train = detect_layout(dirs["train"])
        test = detect_layout(dirs["test"])
        assert isinstance(train, Layout) and isinstance(test, Layout)
        if train.task != test.task or train.split != "train" or test.split != "test":
            raise SynthprintError(
                f"{root}: train/ holds a {train.name} split and test/ a {test.name} split; "
                "a benchmark needs the train and test splits of one subtask"
            )
        return BenchmarkLayout(root, train, test, truth, meta)
    if layout == "benchmark":
        raise SynthprintError(f"{root}: a benchmark needs train/ and test/ folders")
    found = _detect_here(root, dirs, layout)
    if found is not None:
        return found
    what = f"does not look like a {layout} split" if layout else "no known layout found"
    hint = _nested_hint(root, layout)
    raise SynthprintError(f"{root}: {what}{hint or '; ' + _EXPECTED}")


def _detect_here(root: Path, dirs: dict[str, Path], layout: str | None) -> Layout | None:
    """The split layout (not a benchmark) that ``root`` with subfolders ``dirs`` has, or
    None; raises when it half matches one (a train split without real_not_used/, ...)."""
    for detect in [_DETECTORS[layout]] if layout else list(_DETECTORS.values()):
        found = detect(root, dirs)
        if found is not None:
            return found
    return None


#: How deep, and through how many folders, :func:`_nested_hint` looks for the split that an
#: unzipped archive's extra top folder hides.
_NESTED_DEPTH = 2
_NESTED_FOLDERS = 50


def _nested_hint(root: Path, layout: str | None) -> str:
    """", but it holds <sub>/, a <layout> split: point at that folder" when a folder up to
    :data:`_NESTED_DEPTH` levels below ``root`` has the layout (the extra top folder an unzipped
    archive adds); "" when none does."""
    level, found = [root], []
    for _ in range(_NESTED_DEPTH):
        below = [d for folder in level for d in sorted(_subdirs(folder).values())
                 if not d.is_symlink()]       # a link back up would loop
        level = below[:_NESTED_FOLDERS]
        for sub in level:
            try:   # one folder's own look, no search below it (that would repeat itself)
                dirs = _subdirs(sub)
                if "train" in dirs and "test" in dirs:
                    name = "benchmark" if layout in (None, "benchmark") else None
                else:
                    match = _detect_here(sub, dirs, layout) \
                        if dirs and layout != "benchmark" else None
                    name = match.name if match is not None else None
            except (SynthprintError, PermissionError, NotADirectoryError, FileNotFoundError):
                continue
            if name is not None:
                found.append(f"{sub.relative_to(root).as_posix()}/ ({name})")
        if found:
            shown = ", ".join(found[:3]) + (", ..." if len(found) > 3 else "")
            return f", but it holds {shown}: point at that folder"
    return ""


def unread_folders(layout: Layout) -> list[Path]:
    """Folders inside ``layout`` that hold images but fill no role in it (an extra
    ``real_used_more/`` beside ``real_used/``, a ``generated/extra/``): the folders that hold
    the layout's folders are searched, not the layout's folders themselves (see
    :func:`synthprint.io.dataset.list_folder` for those)."""
    roles = {spec.path for spec in layout.folders}
    holders = {p for spec in layout.folders for p in spec.path.parents
               if p == layout.root or p.is_relative_to(layout.root)}
    found = []
    for holder in sorted(holders):
        for sub in sorted(_subdirs(holder).values()):
            if sub not in roles and sub not in holders and holds_images(sub):
                found.append(sub)
    return found


def natural_key(name: str) -> tuple:
    """Sort key that orders ``x_2`` before ``x_10`` (runs of ASCII digits compared as
    numbers, the rest case-blind); names it ranks equal (``x_2`` and ``x_02``) keep a fixed
    order, by the name itself, whatever order the folder lists them in."""
    parts = tuple((0, int(t), "") if t.isdigit() else (1, 0, t.lower())
                  for t in re.split(r"([0-9]+)", name) if t)
    return (parts, name)
