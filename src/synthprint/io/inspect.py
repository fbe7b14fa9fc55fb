"""Describe a split or benchmark folder without decoding pixels (for ``synthprint info``)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from synthprint._progress import progress_task
from synthprint.errors import SynthprintError
from synthprint.io.dataset import list_folder, read_truth_folder
from synthprint.io.decode import IMAGE_SIZE, decode_image, read_header
from synthprint.io.layouts import BenchmarkLayout, Layout, Role, detect_layout, unread_folders


@dataclass
class SplitSummary:
    """Counts, modes and sizes found in one split, and the problems that loading would hit."""

    layout: Layout
    counts: dict[str, int] = field(default_factory=dict)
    modes: Counter = field(default_factory=Counter)
    sizes: Counter = field(default_factory=Counter)
    skipped: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def n_images(self) -> int:
        return sum(self.counts.values())


@dataclass
class BenchmarkSummary:
    layout: BenchmarkLayout
    train: SplitSummary
    test: SplitSummary
    truth_counts: dict[int, int] | None
    meta_keys: dict | None


def _folder_key(role: Role, label: int) -> str:
    if role in (Role.REAL_SUBSET, Role.GENERATED_SUBSET):
        return f"{role.value.split('_')[0]}/t{label}"
    return role.value


def summarize_split(layout: Layout, quiet: bool = True) -> SplitSummary:
    """Read every image of ``layout`` (header, then every pixel, decoded as the commands
    decode it: a truncated file has a good header, a float image cannot be read as gray
    levels); problems are collected, not raised."""
    summary = SplitSummary(layout)
    listings = []
    for spec in layout.folders:
        try:
            listing = list_folder(spec)
        except SynthprintError as exc:
            summary.problems.append(str(exc))
            continue
        listings.append(listing)
        summary.counts[_folder_key(spec.role, spec.label)] = len(listing.files)
        summary.skipped.extend(listing.skipped)
        summary.problems.extend(
            f"{folder}: a subfolder with images, which are not read: move them up into "
            f"{folder.parent.name}/" for folder in listing.unread_folders)
    summary.problems.extend(
        f"{folder}: holds images but is not one of the {layout.name} layout's folders, so "
        "they are not read: move them into the folder they belong to"
        for folder in unread_folders(layout))
    total = sum(len(lst.files) for lst in listings)
    with progress_task(f"reading {layout.root.name}/", total, quiet) as advance:
        for listing in listings:
            for path in listing.files:
                advance()
                try:
                    header = read_header(path)
                    decode_image(path, resize=True)   # every pixel, as the commands read it
                except SynthprintError as exc:
                    summary.problems.append(str(exc))
                    continue
                summary.modes[header.mode] += 1
                summary.sizes[f"{header.size[0]}x{header.size[1]}"] += 1
                if header.size != (IMAGE_SIZE, IMAGE_SIZE):
                    summary.problems.append(
                        f"{path}: image is {header.size[0]}x{header.size[1]}, expected "
                        f"{IMAGE_SIZE}x{IMAGE_SIZE} (loading needs --resize)")
    if summary.skipped:
        summary.problems.append(
            f"{len(summary.skipped)} non-image files skipped (e.g. {summary.skipped[0]})")
    return summary


def summarize(root: str | Path, layout: str | None = None,
              quiet: bool = True) -> SplitSummary | BenchmarkSummary:
    """Summarise a split folder or a benchmark folder (train/ + test/ [+ truth/])."""
    found = detect_layout(root, layout)
    if isinstance(found, Layout):
        return summarize_split(found, quiet)
    truth_counts = None
    if found.truth is not None:
        truth = read_truth_folder(found.truth)
        truth_counts = dict(sorted(Counter(truth.values()).items()))
    meta = None
    if found.meta is not None:
        import json
        data = json.loads(found.meta.read_text())
        meta = {k: data[k] for k in ("dataset", "generator_type", "training_set_size")
                if k in data}
    return BenchmarkSummary(found, summarize_split(found.train, quiet),
                            summarize_split(found.test, quiet), truth_counts, meta)


def demo_path(task: str | None = None) -> Path:
    """Folder of the bundled demo data: ``demo_path("membership")`` or ``("attribution")``.

    Each is a benchmark folder (``train/``, ``test/``, ``truth/``) shipped with the package.
    """
    root = Path(str(resources.files("synthprint") / "demo_data"))
    if task is None:
        return root
    if task not in ("membership", "attribution"):
        raise ValueError(f"unknown demo task {task!r}; use 'membership' or 'attribution'")
    return root / task
