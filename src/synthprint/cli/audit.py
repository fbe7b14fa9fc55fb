"""``synthprint audit``: may this synthetic set be released? Attacks, risk, copies, report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import typer
from rich.table import Table

from synthprint.cli._app import command, console, say
from synthprint.cli._common import (
    CACHE_HELP,
    FORCE_HELP,
    N_BOOT_HELP,
    SEED_LIMITS,
    VERDICT_MIN_BOOT,
    low_fpr_note,
    plan_outputs,
    say_conversions,
    say_written,
    writing_outputs,
)
from synthprint.errors import SynthprintError
from synthprint.io import (
    UNKNOWN_LABEL,
    Role,
    atomic_write_text,
    check_outside_data,
    load_folder,
    prepare_output_dir,
)



def _attack_names(spec: str) -> list[str]:
    from synthprint.membership import AUDIT_ATTACKS, METHODS

    if spec == "default":
        return list(AUDIT_ATTACKS)
    if spec == "all":
        return list(METHODS)
    names = list(dict.fromkeys(s.strip() for s in spec.split(",") if s.strip()))  # once each
    unknown = [n for n in names if n not in METHODS]
    if unknown or not names:
        what = f"unknown attack {unknown[0]!r}" if unknown else "--attacks names no attack"
        raise SynthprintError(f"{what}; give a comma-separated list of {', '.join(METHODS)}, "
                              "or 'default' or 'all' alone")
    return names


@command("audit")
def audit(
    train: Path = typer.Option(..., "--train", help="Folder of the generator's real training "
                                                    "images."),
    holdout: Path = typer.Option(..., "--holdout", help="Folder of real images the generator "
                                                        "never saw."),
    synthetic: Path = typer.Option(..., "--synthetic", help="Folder of the generator's "
                                                            "samples."),
    out: Path = typer.Option(..., "--out", help="Output folder."),
    attacks: str = typer.Option("default", "--attacks",
                                help="Comma-separated membership methods, 'default' or 'all' "
                                     "(see 'synthprint membership --method list')."),
    filter_copies: bool = typer.Option(False, "--filter", help="Write OUT/filtered/, the "
                                       "synthetic set without the flagged copies, and "
                                       "OUT/dropped.csv."),
    report: bool = typer.Option(False, "--report", help="Write OUT/report.html."),
    folds: int = typer.Option(5, "--folds", min=2, help="Cross-validation folds."),
    repeats: int = typer.Option(2, "--repeats", min=1, help="Cross-validation repeats."),
    seed: int = typer.Option(0, "--seed", **SEED_LIMITS,
                              help="Seed of folds, bootstrap and methods."),
    n_boot: int = typer.Option(1000, "--n-boot", min=VERDICT_MIN_BOOT, help=N_BOOT_HELP),
    cache_dir: Path = typer.Option(None, "--cache-dir", help=CACHE_HELP),
    resize: bool = typer.Option(False, "--resize", help="Resize images that are not 256x256."),
    force: bool = typer.Option(False, "--force", help=FORCE_HELP),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
) -> None:
    """Audit a generator from its training images, a holdout and its samples.

    Cross-validates membership attacks (training = member, holdout = not), ranks the training
    images by risk, and flags synthetic images closer to a training image than the two closest
    distinct real images are to each other (copies). Nothing in the input folders changes.
    """
    from synthprint.audit import run_audit
    from synthprint.audit.filtering import write_filtered
    from synthprint.features import FeatureCache
    from synthprint.membership import make_method
    from synthprint.report import new_record, save_record, write_report
    from synthprint.audit.copies import NEAR_DUPLICATE
    from synthprint.evaluation.table import percent
    from synthprint.report.blocks import cv_block, cv_curve

    names = _attack_names(attacks)
    outputs, stale = plan_outputs("audit", {"report.html": report, "filtered": filter_copies,
                                            "dropped.csv": filter_copies}, out)
    prepare_output_dir(out, outputs, force=force, stale=stale,
                       inputs=(train, holdout, synthetic))
    cache = FeatureCache.from_options(cache_dir)
    if cache.directory is not None:
        check_outside_data(cache.directory, (train, holdout, synthetic),
                           "--cache-dir" if cache_dir else "SYNTHPRINT_CACHE_DIR")
    tr, ho, sy = (say_conversions(path, load_folder(path, role, label, resize=resize,
                                                    quiet=quiet), quiet=quiet)
                  for path, role, label in ((train, Role.REAL_USED, 1),
                                            (holdout, Role.REAL_NOT_USED, 0),
                                            (synthetic, Role.GENERATED, UNKNOWN_LABEL)))
    caveats = _sample_size_notes(tr, ho, train, holdout)
    for note in caveats:
        say(note)
    factories = {n: (lambda n=n: make_method(n, seed=seed, quiet=quiet)) for n in names}
    result = run_audit(tr, ho, sy, factories, n_splits=folds, n_repeats=repeats, seed=seed,
                       n_boot=n_boot, cache=cache, quiet=quiet)

    rows = ["attack,roc_auc,roc_auc_low,roc_auc_high,tpr_at_1pct_fpr,tpr_at_0.1pct_fpr"]
    table = Table(title=f"membership attacks, {repeats} x {result.best.cv.n_splits}-fold CV "
                        f"({len(tr)} training vs {len(ho)} holdout images)",
                  title_justify="left")
    table.add_column("attack", overflow="fold")   # a method name must stay readable whole
    for col in ("ROC AUC", f"{percent(result.confidence)} CI", "TPR@1%FPR", "TPR@0.1%FPR"):
        table.add_column(col)
    for a in result.attacks:
        p = a.cv.pooled
        auc = p["roc_auc"]
        t1, t01 = p.value("tpr@1%fpr"), p.value("tpr@0.1%fpr")
        rows.append(",".join(str(v) for v in (a.name, auc.value, auc.low, auc.high, t1, t01)))
        table.add_row(a.name, f"{auc.value:.3f}" if auc.value is not None else "n/a",
                      f"{auc.low:.3f}-{auc.high:.3f}" if auc.has_interval else "-",
                      f"{t1:.3f}" if t1 is not None else "n/a",
                      f"{t01:.3f}" if t01 is not None else "n/a")
    console.print(table)

    n_copies = int(result.flagged.sum())
    pair = result.copy_table.attrs["yardstick_pair"]
    yard = result.copies.yardstick
    tolerant = result.tolerant_copies
    n_tolerant_only = int((tolerant.flagged & ~result.copies.flagged).sum())
    best = result.evidence
    auc = best.cv.pooled["roc_auc"]
    interval = (f"{percent(result.confidence)} interval {auc.low:.3f}-{auc.high:.3f}"
                + (f", 95% for all {len(names)} attacks together" if len(names) > 1 else ""))
    if result.no_signal:
        where = "lies below 0.5 (worse than chance out of fold: noise, not membership)" \
            if auc.high < 0.5 else "includes 0.5"
        verdict = (f"No detectable membership signal: the best attack ({best.name}) has ROC "
                   f"AUC {best.auc:.3f}, and its {interval} {where}.")
    else:
        which = "the best attack" if best is result.best else "an attack"
        verdict = (f"Membership is detectable: {which} ({best.name}) reaches ROC AUC "
                   f"{best.auc:.3f} ({interval}).")
        if best is not result.best:
            verdict += (f" {result.best.name} has a higher AUC, {result.best.auc:.3f}, but a "
                        "wider interval, which includes 0.5.")
    verdict += (f" {n_copies} of {len(sy)} synthetic images are copies: "
                f"{n_copies - n_tolerant_only} closer to a training image than SSIM "
                f"{yard.value:.3f} (the closest pair of distinct real images: {pair[0]} and "
                f"{pair[1]}), {n_tolerant_only} more once shifts of a few pixels and "
                f"mirroring are allowed (SSIM at 64 px above {tolerant.yardstick.value:.3f}, "
                "which no two distinct real images reach that way).")
    say(verdict)
    near = sorted(set(yard.near_duplicates) | set(tolerant.yardstick.near_duplicates))
    if near:
        real_names = tr.names + ho.names
        caveats.append(
            f"note: {len(near)} pair(s) of real images are near-duplicates (SSIM at least "
            f"{NEAR_DUPLICATE} at 256 px, or at 64 px with mirrors; first: "
            f"{real_names[near[0][0]]} and {real_names[near[0][1]]}): the same slice twice is "
            "not two distinct images, so they do not set the copy yardsticks")
        say(caveats[-1])
    if result.identical:
        groups = len(result.identical)
        say(f"note: {groups} real image{'s are' if groups > 1 else ' is'} given more than once "
            f"(same pixels; first: {' = '.join(result.identical[0])}); each counts once for the "
            "copy yardstick")

    record = new_record("audit", {"train": train, "holdout": holdout, "synthetic": synthetic},
                        {"attacks": ", ".join(names), "folds": folds, "repeats": repeats,
                         "seed": seed, "n_boot": n_boot})
    record["verdict"] = verdict
    record["metrics"] = [cv_block(f"attack: {a.name}", a.cv) for a in result.attacks]
    record["curves"] = [c for a in result.attacks
                        if (c := cv_curve(a.name, a.cv)) is not None]
    for c in record["curves"]:
        c["class_names"] = ["holdout (0)", "training (1)"]
    order = {n: i for i, n in enumerate(tr.names)}
    gallery = []
    for _, row in result.risk.head(12).iterrows():
        i = order[row["name"]]
        gallery.append({
            "name": row["name"], "image": str(tr.paths[i]), "score": row["risk_score"],
            "caption": f"risk percentile {row['risk_percentile']:.2f}",
            "matches": [{"name": sy.names[j], "image": str(sy.paths[j]),
                         "similarity": float(v)}
                        for v, j in zip(result.nearest_values[i], result.nearest_indices[i])],
        })
    record["gallery"] = gallery
    record["gallery_title"] = ("Training images most at risk, beside their closest synthetic "
                               "images (SSIM)")
    record["copy_gallery"] = _copy_gallery(result, tr, sy)
    record["table"] = {"file": "risk.csv", "sort": "risk_percentile"}
    record["notes"] = [f"{n_copies} synthetic images flagged as copies; see copies.csv.",
                       *caveats]
    with writing_outputs(out, stale, force) as staged:   # all of this run's files, or none
        atomic_write_text(staged.path / "attacks.csv", "\n".join(rows) + "\n", force=force)
        for name, frame in (("risk.csv", result.risk), ("copies.csv", result.copy_table)):
            atomic_write_text(staged.path / name,
                              frame.to_csv(index=False, float_format="%.6g"), force=force)
        if filter_copies:
            write_filtered(sy, result.flagged, staged.path / "filtered", force=force)
        save_record(staged.path, record, force=force)
        if report:
            write_report(staged.path, force=force, record=record)
    say_written(out, [f"filtered/ ({len(sy) - n_copies} images)" if n == "filtered" else n
                      for n in outputs], staged.removed)
    if np.any(result.flagged) and not filter_copies:
        console.print("rerun with --filter to write a copy of the synthetic set without them")


#: At most this many flagged copies are shown in the report (copies.csv lists them all).
SHOWN_COPIES = 24


def _copy_gallery(result, tr, sy) -> list[dict]:
    """Report gallery entries for the flagged synthetic images (at most
    :data:`SHOWN_COPIES`, highest pixel SSIM first), each beside the training image it
    copies, with the similarity of the check that flagged it."""
    pixel, tolerant = result.copies, result.tolerant_copies
    copied = result.copied_train_index()
    flagged = np.flatnonzero(result.flagged)
    order = flagged[np.argsort(-pixel.values[flagged, 0], kind="stable")][:SHOWN_COPIES]
    entries = []
    for s in order:
        by_pixels = bool(pixel.flagged[s])
        value = pixel.values[s, 0] if by_pixels else tolerant.values[s, 0]
        entries.append({
            "name": sy.names[s], "image": str(sy.paths[s]),
            "caption": "copy (pixel check)" if by_pixels else
                       "copy once shifted or mirrored (64 px check)",
            "matches": [{"name": tr.names[copied[s]], "image": str(tr.paths[copied[s]]),
                         "similarity": float(value)}],
        })
    return entries


#: Below this many training or holdout images an audit's intervals are said to be unreliable.
FEW_IMAGES = 20


def _sample_size_notes(tr, ho, train: Path, holdout: Path) -> list[str]:
    """Refuse fewer than 2 training or holdout images (nothing can be cross-validated); the
    warnings to say and record about what few images cannot support: a bootstrap interval
    (a small sample separated perfectly resamples to 1.000-1.000) and a TPR at an FPR below
    1 / (holdout images)."""
    for data, folder, option in ((tr, train, "--train"), (ho, holdout, "--holdout")):
        if len(data) < 2:
            raise SynthprintError(f"{folder}: holds {len(data)} image; an audit needs at "
                                  f"least 2 in {option} (and {FEW_IMAGES} or more for "
                                  "intervals that mean something): add images")
    notes = []
    if min(len(tr), len(ho)) < FEW_IMAGES:
        notes.append(f"warning: {len(tr)} training and {len(ho)} holdout images: with fewer "
                     f"than {FEW_IMAGES} of either, the bootstrap intervals are too narrow to "
                     "trust (a perfect separation of a small sample resamples to 1.000-1.000)")
    low_fpr = low_fpr_note(len(ho), "holdout images")
    return notes + ([low_fpr] if low_fpr else [])
