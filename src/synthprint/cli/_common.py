"""Pieces the commands share: loading a split, writing the run, method and confusion tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.table import Table

from synthprint.cli._app import say
from synthprint.errors import SynthprintError
from synthprint.io import (
    LAYOUT_FOLDERS,
    LOSSLESS_CONVERSIONS,
    BenchmarkLayout,
    ImageDataset,
    atomic_write_text,
    detect_layout,
    load_split,
    staged_outputs,
    summarize_notes,
)
from synthprint.io.decode import IMAGE_EXTENSIONS
from synthprint.io.submission import write_submission

if TYPE_CHECKING:  # the commands import evaluation (and scikit-learn) only when they run
    from synthprint.evaluation import MetricTable

FORCE_HELP = ("Overwrite existing outputs, and remove an earlier run's outputs that this run "
              "does not write (a report.html without --report, say).")

#: ``--seed`` accepts what numpy's and scikit-learn's seeds accept.
SEED_LIMITS = {"min": 0, "max": 2**32 - 1}

CACHE_HELP = ("Keep similarity matrices in this folder so that a rerun on the same images "
              "(another method, other settings) reuses them. Default: $SYNTHPRINT_CACHE_DIR "
              "if set, else nothing is kept.")


#: The fewest bootstrap resamples a command accepts: its signal verdict reads the interval's
#: tails, which fewer resamples leave to one or two draws.
VERDICT_MIN_BOOT = 200
N_BOOT_HELP = (f"Bootstrap resamples (at least {VERDICT_MIN_BOOT}: the signal verdict rests "
               "on the interval's tails).")


def low_fpr_note(n_negatives: int, what: str) -> str | None:
    """The note that a TPR at 1% or 0.1% FPR measured on ``n_negatives`` negatives (``what``:
    "holdout images") is the TPR with no false positive at all, when there are too few
    negatives for that FPR (fewer than 100 or 1,000); None when there are enough."""
    short = [f"{label} FPR (needs {need})" for label, need in (("1%", 100), ("0.1%", 1000))
             if n_negatives < need]
    if not short:
        return None
    return (f"note: with {n_negatives} {what}, TPR at {' and at '.join(short)} is the TPR "
            "with no false positive at all")


def load_split_for(path: Path, layout: str, *, resize: bool, quiet: bool) -> ImageDataset:
    """Check that ``path`` is a ``layout`` split (e.g. "membership-train"), before decoding
    anything, then load it and say how images were converted (palette, 16-bit, ...)."""
    found = detect_layout(path)
    if found.name != layout:
        task, split = layout.split("-")
        other = f"{task}-{'test' if split == 'train' else 'train'}"
        article = "an" if found.name[0] in "aeiou" else "a"
        what = ("a benchmark (train/ + test/)" if isinstance(found, BenchmarkLayout)
                else f"{article} {found.name} split")
        swapped = " (are --train and --test swapped?)" if found.name == other else ""
        raise SynthprintError(f"{path}: is {what}; --{split} must hold "
                              f"{LAYOUT_FOLDERS[layout]}{swapped}")
    return say_conversions(path, load_split(found, resize=resize, quiet=quiet), quiet=quiet)


def say_conversions(path: Path, data: ImageDataset, *, quiet: bool) -> ImageDataset:
    """Say how ``data``'s images were converted on loading, e.g. "200 palette, 3
    16-bit-rescaled"; under ``--quiet`` only the conversions that change pixel values
    (16-bit rescaling, colour to luminance, resizing: palette decoding loses nothing)."""
    _say_skipped(path, data.skipped, quiet=quiet)
    _say_unread_folders(data.unread_folders)
    counts = summarize_notes(data.notes)
    if quiet:
        for kind in LOSSLESS_CONVERSIONS:
            counts.pop(kind, None)
    if counts:
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
        say(f"{path}: converted on loading: {kinds}")
    if "16-bit-low-range" in counts:
        top = max(n.top_level for n in data.notes if n.kind == "16-bit-low-range")
        say(f"{path}: warning: {counts['16-bit-low-range']} 16- or 32-bit image(s) use at most "
            f"12 bits, so the fixed 255/65535 scale leaves them gray levels 0..{top} only and "
            "results on them mean little: convert them to 8 bit with your display window "
            "first")
    return data


def _looks_like_an_image(path: Path) -> bool:
    """A skipped file whose name still holds an image extension ('x.png ', 'x.png.bak',
    '.x.png'): most likely an image the user meant to include."""
    name = path.name.lower()
    return any(ext in name for ext in IMAGE_EXTENSIONS)


def _say_skipped(path: Path, skipped: Sequence[Path], *, quiet: bool) -> None:
    """Say which files of ``path`` were skipped as not images; under ``--quiet`` only when
    some look like images (a trailing space or a hidden name leaves an image out)."""
    suspicious = [p for p in skipped if _looks_like_an_image(p)]
    if not skipped or (quiet and not suspicious):
        return
    shown = suspicious or list(skipped)
    first = ", ".join(repr(p.name) for p in shown[:3]) + (", ..." if len(shown) > 3 else "")
    if suspicious:
        what = (f"{len(suspicious)} of them named like an image but hidden or not ending in an "
                f"image extension ({first}): rename to include")
    else:
        what = f"none named like an image ({first})"
    say(f"{path}: skipped {len(skipped)} file(s) that are not images; {what}")


def _say_unread_folders(folders: Sequence[Path]) -> None:
    """Say, even under ``--quiet``, which folders holding images were not read (subfolders
    of a split's folders, folders that fill no role in its layout)."""
    if folders:
        first = ", ".join(str(f) for f in folders[:3]) + (", ..." if len(folders) > 3 else "")
        say(f"warning: {len(folders)} folder(s) hold images that were not read ({first}): a "
            "split's images must sit directly in its layout's folders (generated/, "
            "real_used/, ...); move them there to include them")


def write_run_files(out: Path, names: list[str], labels, *, edition: int, task: str,
                    scores_csv: str, force: bool) -> list[Path]:
    """Write ``scores.csv``, ``run.csv`` and ``submission.zip`` (holding run.csv) in ``out``."""
    run, zipped = write_submission(out / "run.csv", names, labels, edition=edition, task=task,
                                   zip_path=out / "submission.zip", force=force)
    return [atomic_write_text(out / "scores.csv", scores_csv, force=force), run, zipped]


#: What each kind of run writes in its --out: (always, optional), by the ``kind`` its
#: record.json names.
COMMAND_OUTPUTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "membership": (("scores.csv", "run.csv", "submission.zip", "record.json"),
                   ("report.html",)),
    "attribution": (("scores.csv", "run.csv", "submission.zip", "cv.md", "record.json"),
                    ("report.html",)),
    "audit": (("attacks.csv", "risk.csv", "copies.csv", "record.json"),
              ("report.html", "filtered", "dropped.csv")),
}


def _earlier_kind(out: Path) -> str | None:
    """The kind of the synthprint run whose record.json is in ``out``; None when there is
    none (or it is not a synthprint run record: :func:`~synthprint.report.load_record`)."""
    from synthprint.report.record import load_record

    try:
        return load_record(out)["kind"]
    except SynthprintError:
        return None


def plan_outputs(kind: str, wanted: Mapping[str, bool], out: Path
                 ) -> tuple[list[str], list[str]]:
    """(the outputs this ``kind`` of run writes in ``out``, the earlier run's outputs that
    it does not write): its :data:`COMMAND_OUTPUTS`, with the optional ones that are
    ``wanted`` ({name: bool}). The earlier run's are, when ``out`` holds a synthprint
    record.json, every output of that record's kind (none without one); when they exist
    they block an unforced run and a forced one removes them (see
    :func:`~synthprint.io.prepare_output_dir`), so an --out always describes one run, and
    a file of the same name that no synthprint run wrote is never removed."""
    always, optional = COMMAND_OUTPUTS[kind]
    if set(wanted) != set(optional):
        raise ValueError(f"{kind}: say which of {optional} are wanted, got {set(wanted)}")
    outputs = [*always, *(n for n in optional if wanted[n])]
    earlier = _earlier_kind(Path(out))
    theirs = {n for part in COMMAND_OUTPUTS[earlier] for n in part} if earlier else set()
    every = dict.fromkeys(n for a, o in COMMAND_OUTPUTS.values() for n in (*a, *o))
    return outputs, [n for n in every if n in theirs and n not in outputs]


def writing_outputs(out: Path, stale: Sequence[str], force: bool):
    """:func:`~synthprint.io.staged_outputs` for a command: the files it writes in the
    block replace the earlier run's as a set; another run writing in ``out`` now is waited
    for (and said), and, without ``force``, an output it wrote meanwhile is not replaced."""
    return staged_outputs(out, stale=stale, force=force, on_wait=lambda: say(
        f"{out}: another run is writing its files here; waiting for it to finish"))


def say_written(out: Path, outputs: Sequence[str], removed: Sequence[str], before: str = ""
                ) -> None:
    """The command's last line: ``before``, the ``outputs`` it wrote in ``out`` and the
    earlier run's outputs it ``removed`` (:func:`~synthprint.io.remove_stale_outputs`)."""
    gone = f"; removed the earlier run's {', '.join(removed)}" if removed else ""
    say(f"{before}wrote {', '.join(outputs)} in {out}{gone}")


def methods_table(task: str, methods, default: str, extra: dict | None = None) -> Table:
    """The ``--method list`` table of ``methods`` (objects with ``name`` and
    ``description``), the default marked; ``extra`` maps more column names to a function of
    a method giving its cell."""
    extra = extra or {}
    table = Table(title=f"{task} methods (--method NAME)", title_justify="left")
    for column in ("name", *extra, "description"):
        table.add_column(column)
    for m in methods:
        name = f"{m.name} (default)" if m.name == default else m.name
        table.add_row(name, *(cell(m) for cell in extra.values()), m.description)
    return table


def confusion_table(table: MetricTable, title: str, prefix: str = "") -> Table | None:
    """The confusion matrix of a multi-class :class:`MetricTable` as a rich table (rows:
    truth), ``prefix`` before each class label; None when it has none."""
    found = table.confusion(prefix)
    if found is None:
        return None
    classes, matrix = found
    out = Table(title=title, title_justify="left", min_width=44)
    out.add_column("")
    for c in classes:
        out.add_column(c, justify="right")
    for c, row in zip(classes, matrix):
        out.add_row(c, *map(str, row))
    return out
