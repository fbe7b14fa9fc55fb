"""``synthprint membership``: label each real test image used (1) or not used (0)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import typer

from synthprint._defaults import MEMBERSHIP_METHOD
from synthprint.cli._app import command, console, say
from synthprint.cli._common import (
    CACHE_HELP,
    FORCE_HELP,
    N_BOOT_HELP,
    SEED_LIMITS,
    VERDICT_MIN_BOOT,
    load_split_for,
    low_fpr_note,
    methods_table,
    plan_outputs,
    say_written,
    write_run_files,
    writing_outputs,
)
from synthprint.errors import SynthprintError
from synthprint.io import (
    check_outside_data,
    check_run_names,
    labels_for,
    membership_data,
    prepare_output_dir,
    read_labels_csv,
)
from synthprint.io.submission import TASK_LABELS

NO_SIGNAL = ("no detectable membership signal: the train cross-validation ROC AUC's 95% "
             "interval does not lie above 0.5")



@command("membership")
def membership(
    train: Path = typer.Option(None, "--train", help="Subtask 1 train split: generated/, "
                                                    "real_used/, real_not_used/."),
    test: Path = typer.Option(None, "--test", help="Subtask 1 test split: generated/ + "
                                                  "real_unknown/ (or generated_1/ + "
                                                  "real_unknown_1/ for 2023)."),
    out: Path = typer.Option(None, "--out", help="Output folder."),
    method: str = typer.Option(MEMBERSHIP_METHOD, "--method",
                               help="Method name, or 'list' to list them."),
    edition: int = typer.Option(None, "--edition", help="Run-file format: 2023 (F1, ids "
                                "without extension) or 2025 (kappa, names with extension). "
                                "Default: from the test folder names."),
    prior: float = typer.Option(None, "--prior",
                                help="Assumed share of used images, between 0 and 1 "
                                     "exclusive (any method): label that share of the "
                                     "highest scores used, instead of the method's "
                                     "threshold or rule."),
    truth: Path = typer.Option(None, "--truth", help="Optional name,label CSV of the test "
                                                    "images, to report test metrics too."),
    report: bool = typer.Option(False, "--report", help="Also write OUT/report.html."),
    when_no_signal: str = typer.Option(
        "all-used", "--when-no-signal",
        help="Labels to write when the train CV finds no signal (ROC AUC interval includes "
             "0.5): 'all-used' (kappa 0 exactly, the best uninformed F1; no image cleared) "
             "or 'threshold' (the method's labels anyway). Ignored with --prior."),
    folds: int = typer.Option(5, "--folds", min=2, help="Cross-validation folds."),
    repeats: int = typer.Option(2, "--repeats", min=1, help="Cross-validation repeats."),
    n_boot: int = typer.Option(1000, "--n-boot", min=VERDICT_MIN_BOOT, help=N_BOOT_HELP),
    seed: int = typer.Option(0, "--seed", **SEED_LIMITS,
                              help="Seed of folds, bootstrap and methods."),
    cache_dir: Path = typer.Option(None, "--cache-dir", help=CACHE_HELP),
    resize: bool = typer.Option(False, "--resize", help="Resize images that are not 256x256."),
    force: bool = typer.Option(False, "--force", help=FORCE_HELP),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
) -> None:
    """Subtask 1: which real test images trained the generator.

    Cross-validates METHOD on the labelled train images (the threshold is chosen inside each
    fold for the edition's metric), fits it on all of them, and writes OUT/scores.csv
    (name,score,label), OUT/run.csv and OUT/submission.zip.
    """
    from synthprint.evaluation import binary_metrics
    from synthprint.evaluation.membership_run import run_membership
    from synthprint.features import FeatureCache, topk
    from synthprint.membership import METHODS, OFFICIAL_METRIC, make_method
    from synthprint.membership.decision import NO_SIGNAL_POLICIES
    from synthprint.report import new_record, save_record, write_report
    from synthprint.report.blocks import cv_block, cv_curve, metric_block

    if method == "list":
        console.print(methods_table("membership", METHODS.values(), MEMBERSHIP_METHOD))
        return
    if when_no_signal not in NO_SIGNAL_POLICIES:
        raise SynthprintError(f"--when-no-signal must be one of {', '.join(NO_SIGNAL_POLICIES)}"
                              f", got {when_no_signal!r}")
    if train is None or test is None or out is None:
        raise SynthprintError("--train, --test and --out are required (or --method list)")
    if prior is not None and not 0.0 < prior < 1.0:
        raise SynthprintError(f"--prior is a share of images, strictly between 0 and 1; got "
                              f"{prior}")
    if method not in METHODS:
        make_method(method)  # raises the error that lists the methods
    outputs, stale = plan_outputs("membership", {"report.html": report}, out)
    prepare_output_dir(out, outputs, force=force, stale=stale, inputs=(train, test),
                       input_files=(truth,))
    cache = FeatureCache.from_options(cache_dir)
    if cache.directory is not None:
        check_outside_data(cache.directory, (train, test),
                           "--cache-dir" if cache_dir else "SYNTHPRINT_CACHE_DIR")
    truth_labels = read_labels_csv(truth) if truth else None   # a bad file: before any work
    tr = load_split_for(train, "membership-train", resize=resize, quiet=quiet)
    te = load_split_for(test, "membership-test", resize=resize, quiet=quiet)
    edition = edition or te.layout.edition or 2025
    if edition not in (2023, 2025):
        raise SynthprintError(f"--edition must be 2023 or 2025, got {edition}")
    metric = OFFICIAL_METRIC[edition]

    data = membership_data(tr, te)
    generated, y, unk = data.generated, data.labels, data.unknown
    names = [te.names[i] for i in unk]
    check_run_names(names, edition, test)
    y_test = labels_for(names, truth_labels, truth,
                        allowed=TASK_LABELS["membership"]) if truth else None

    estimator = make_method(method, metric=metric, seed=seed, quiet=quiet, cache=cache)
    result = run_membership(estimator.set_params(prior=prior),
                            generated, data.real, y, data.test_real, n_splits=folds,
                            n_repeats=repeats, seed=seed, n_boot=n_boot,
                            when_no_signal=when_no_signal, quiet=quiet)
    cv, no_signal = result.cv, result.no_signal
    scores, labels, labels_note = result.scores, result.labels, result.labels_note
    console.print(cv.to_rich(title=f"{method}: train cross-validation ({len(y)} labelled real "
                                   f"images, {len(generated)} generated)"))
    low_fpr = low_fpr_note(int(np.sum(y == 0)), "labelled images not used")
    if low_fpr:
        say(low_fpr)
    scores_csv = "name,score,label\n" + "".join(
        f"{n},{s:.6g},{int(lab_)}\n" for n, s, lab_ in zip(names, scores, labels))
    record = new_record("membership", {"train": train, "test": test},
                        {"method": method, "edition": edition, "threshold metric": metric,
                         "prior": "none (the method's threshold)" if prior is None else prior,
                         "seed": seed, "when no signal": when_no_signal,
                         "generated images": len(generated),
                         "labelled real images": len(y), "test real images": len(names)})
    record["metrics"] = [cv_block("train cross-validation", cv)]
    record["curves"] = [cv_curve("train CV (out-of-fold)", cv)]
    if y_test is not None:
        tm = binary_metrics(y_test, labels, scores, n_boot=n_boot, seed=seed)
        console.print(tm.to_rich(title="test (against --truth)"))
        record["metrics"].append(metric_block("test (against --truth)", tm))
        record["curves"].append({"title": "test", "y_true": y_test, "scores": scores})
    record["verdict"] = f"{NO_SIGNAL}; {labels_note}." if no_signal else None
    order = np.argsort(-scores, kind="stable")[:12]
    near_ssim, near_idx = topk(data.test_real[order], generated, min(3, len(generated)),
                               "ssim", cache=cache, quiet=True)
    gallery = []
    for values, best, i in zip(near_ssim, near_idx, order):
        gallery.append({
            "name": names[i], "image": str(te.paths[unk[i]]), "score": float(scores[i]),
            "caption": f"score {scores[i]:.3f}, label {int(labels[i])}",
            "matches": [{"name": data.generated_names[j],
                         "image": str(data.generated_paths[j]),
                         "similarity": float(v)} for v, j in zip(values, best)]})
    record["gallery"] = gallery
    record["table"] = {"file": "scores.csv", "sort": "score"}
    record["notes"] = [f"Threshold chosen for {metric} on the labelled train images; labels "
                       "assume the unknown images come from the same population.",
                       *([low_fpr] if low_fpr else [])]
    with writing_outputs(out, stale, force) as staged:   # all of this run's files, or none
        write_run_files(staged.path, names, labels, edition=edition, task="membership",
                        scores_csv=scores_csv, force=force)
        save_record(staged.path, record, force=force)
        if report:
            write_report(staged.path, force=force, record=record)
    n_used = int(labels.sum())
    if no_signal:
        console.print(f"[bold yellow]{NO_SIGNAL}[/]: {labels_note}.", highlight=False)
    say_written(out, outputs, staged.removed,
                f"{n_used} of {len(names)} test images labelled used; ")
