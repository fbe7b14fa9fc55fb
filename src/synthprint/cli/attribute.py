"""``synthprint attribute``: attribute each test image to a training subset (subtask 2)."""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import typer

from synthprint._defaults import ATTRIBUTION_METHOD
from synthprint.cli._app import command, console, say
from synthprint.cli._common import (
    FORCE_HELP,
    SEED_LIMITS,
    confusion_table,
    load_split_for,
    methods_table,
    plan_outputs,
    say_written,
    write_run_files,
    writing_outputs,
)
from synthprint.errors import SynthprintError
from synthprint.io import (
    Role,
    check_run_names,
    labels_for,
    prepare_output_dir,
    read_labels_csv,
)
from synthprint.io.submission import TASK_LABELS
from synthprint.io.writers import atomic_write_text



def _check_torch(method: str) -> None:
    from synthprint.attribution import METHODS

    if METHODS[method].needs_torch:
        from synthprint.attribution.cnn import import_torch

        import_torch()


def _check_subsets(data, train: Path, folds: int) -> None:
    """Before any work: subset numbers a run file can hold, every subset of the challenge
    present (a warning), and enough generated images in each to fit and cross-validate."""
    gi = data.indices(Role.GENERATED_SUBSET)
    numbers, counts = np.unique(data.labels[gi], return_counts=True)
    folder = {f.label: f.path for f in data.layout.folders if f.role is Role.GENERATED_SUBSET}
    allowed = TASK_LABELS["attribution"]
    for k in numbers:
        if k not in allowed:
            raise SynthprintError(
                f"{folder[k]}: subset {k}, but run files label subsets "
                f"{allowed[0]} to {allowed[-1]} (t1..t5): rename the subset folders")
    need = max(2, folds)
    for k, n in zip(numbers, counts):
        if n < need:
            fix = (f"; pass --folds {n} or fewer (or --folds 0)" if n >= 2 else
                   ": add images to it")
            raise SynthprintError(
                f"{folder[k]}: holds {n} generated image(s); "
                + ("fitting needs at least 2 a subset" if n < 2 else
                   f"{folds}-fold cross-validation needs at least {folds} a subset") + fix)
    absent = [f"t{k}" for k in allowed if k not in numbers]
    if absent:
        say(f"{train}: no subset {', '.join(absent)}; every test image will be labelled "
            f"{', '.join(f't{k}' for k in numbers)}")


@contextmanager
def _fitting(method: str, train: Path):
    """A method that cannot be fitted on these images (too few a subset for its inner
    cross-validation, say) is a problem with the data: one line, not a bug report."""
    try:
        yield
    except SynthprintError:
        raise
    except ValueError as exc:
        raise SynthprintError(f"{train}: {method} could not be fitted on these images ({exc});"
                              " add generated images to the small subsets, or pass fewer "
                              "--folds (or --folds 0)") from None


def scores_csv(names: list[str], classes: np.ndarray, proba: np.ndarray,
               labels: np.ndarray) -> str:
    """``name,p_t1,...,p_tK,label`` with one row per image, probabilities to 6 decimals."""
    header = ",".join(["name", *(f"p_t{c}" for c in classes), "label"])
    rows = [",".join([n, *(f"{p:.6f}" for p in row), str(int(lab))])
            for n, row, lab in zip(names, proba, labels)]
    return "\n".join([header, *rows]) + "\n"


@command("attribute")
def attribute(
    train: Path = typer.Option(None, "--train", help="Train split: real/t1..t5/ and "
                                                     "generated/t1..t5/ folders."),
    test: Path = typer.Option(None, "--test", help="Test split: generated_unknown/ (or one "
                                                   "folder of images)."),
    out: Path = typer.Option(None, "--out", help="Output folder: scores.csv, run.csv, "
                                                 "submission.zip, cv.md."),
    method: str = typer.Option(ATTRIBUTION_METHOD, "--method",
                               help="Method name; 'list' shows them all."),
    cv_folds: int = typer.Option(5, "--folds", "--cv-folds", min=0,
                                 help="Folds of the train cross-validation (0: skip it); "
                                      "--cv-folds is the earlier name."),
    seed: int = typer.Option(0, "--seed", **SEED_LIMITS,
                              help="Seed of the method and the CV folds."),
    truth: Path = typer.Option(None, "--truth", help="Optional name,label CSV of the test "
                                                    "images, to report test metrics too."),
    report: bool = typer.Option(False, "--report", help="Also write OUT/report.html."),
    resize: bool = typer.Option(False, "--resize", help="Resize images that are not 256x256."),
    force: bool = typer.Option(False, "--force", help=FORCE_HELP),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
) -> None:
    """Attribute each synthetic test image to the training subset whose generator made it
    (ImageCLEFmedical GANs 2025 subtask 2), after cross-validating the method on train."""
    from synthprint.attribution import METHODS, make_method
    from synthprint.evaluation import cross_validate, multiclass_metrics
    from synthprint.report import save_record, write_report

    if method == "list":
        console.print(methods_table("attribution", METHODS.values(), ATTRIBUTION_METHOD,
                                    {"torch": lambda m: "yes" if m.needs_torch else ""}))
        return
    if method not in METHODS:
        make_method(method)  # raises the error that lists the methods
    missing = [flag for flag, v in (("--train", train), ("--test", test), ("--out", out))
               if v is None]
    if missing:
        raise SynthprintError(f"missing {', '.join(missing)}; see synthprint attribute --help")
    if cv_folds == 1:
        raise SynthprintError("--folds must be 0 (no cross-validation) or at least 2")
    _check_torch(method)
    outputs, stale = plan_outputs("attribution", {"report.html": report}, out)
    prepare_output_dir(out, outputs, force=force, stale=stale, inputs=(train, test),
                       input_files=(truth,))

    truth_labels = read_labels_csv(truth) if truth else None   # a bad file: before any work
    train_data = load_split_for(train, "attribution-train", resize=resize, quiet=quiet)
    _check_subsets(train_data, train, cv_folds)
    test_data = load_split_for(test, "attribution-test", resize=resize, quiet=quiet)
    check_run_names(test_data.names, 2025, test)
    gi = train_data.indices(Role.GENERATED_SUBSET)
    ri = train_data.indices(Role.REAL_SUBSET)
    generated, subsets = train_data.images[gi], train_data.labels[gi].astype(np.int64)
    y_test = labels_for(test_data.names, truth_labels, truth,
                        allowed=set(subsets.tolist())) if truth else None
    real = train_data.images[ri] if len(ri) else None
    real_subsets = train_data.labels[ri].astype(np.int64) if len(ri) else None
    test_images = test_data.images
    transductive = METHODS[method].transductive
    extra = {"unlabelled": test_images} if transductive else {}

    cv_text = f"cross-validation skipped (--folds 0), method {method}\n"
    cv = None
    if cv_folds:
        def fit_predict(tr, te):
            est = make_method(method, seed=seed)
            est.fit(generated[tr], subsets[tr], real, real_subsets, **extra)
            proba = est.predict_proba(generated[te])
            return est.classes_[proba.argmax(axis=1)], proba

        with _fitting(method, train):
            cv = cross_validate(fit_predict, subsets, task="multiclass", n_splits=cv_folds,
                                n_repeats=1, seed=seed, quiet=quiet)
        title = (f"train cross-validation of {method}: {cv.n_splits}-fold stratified, "
                 f"seed {seed}, {len(subsets)} labelled generated images")
        console.print(cv.to_rich(title=title))
        matrix = confusion_table(cv.pooled, "train CV confusion (rows: truth, columns: "
                                            "predicted)", prefix="t")
        if matrix is not None:
            console.print(matrix)
        cv_text = f"method {method}\n\n{cv.to_markdown()}"

    t0 = time.perf_counter()
    est = make_method(method, seed=seed, quiet=quiet)
    with _fitting(method, train):
        est.fit(generated, subsets, real, real_subsets, **extra)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    proba = est.predict_proba(test_images)
    predict_s = time.perf_counter() - t0
    labels = est.classes_[proba.argmax(axis=1)]

    test_table = None
    if y_test is not None:
        test_table = multiclass_metrics(y_test, labels, proba, classes=est.classes_, seed=seed)
        console.print(test_table.to_rich(title="test (against --truth)"))
    record = _record(train, test, method, seed, cv, test_table, test_data, est.classes_,
                     proba, labels)
    with writing_outputs(out, stale, force) as staged:   # all of this run's files, or none
        write_run_files(staged.path, test_data.names, labels, edition=2025, task="attribution",
                        scores_csv=scores_csv(test_data.names, est.classes_, proba, labels),
                        force=force)
        atomic_write_text(staged.path / "cv.md", cv_text, force=force)
        save_record(staged.path, record, force=force)
        if report:
            write_report(staged.path, force=force, record=record)

    scores = getattr(est, "cv_scores_", None)
    if scores:
        parts = ", ".join(f"{name} {w:.1f} (out-of-fold accuracy {m['accuracy']:.3f})"
                          for (name, m), w in zip(scores["members"].items(), est.weights_))
        console.print(f"ensemble weights chosen by {scores['folds']}-fold log-loss: {parts}",
                      highlight=False)
    report = getattr(est, "pseudo_labelling_", None)
    if report:
        verdict = "kept" if report["accepted"] else "dropped"
        console.print(f"pseudo-labels {verdict}: {report['n_pseudo']} of "
                      f"{report['n_unlabelled']} test images were confident; held-out "
                      f"accuracy {report['holdout_accuracy_without']:.3f} without, "
                      f"{report.get('holdout_accuracy_with', float('nan')):.3f} with",
                      highlight=False)
    counts = ", ".join(f"t{c}: {int(np.sum(labels == c))}" for c in est.classes_)
    console.print(f"{method}: fitted in {fit_s:.1f} s, attributed {len(labels)} test images "
                  f"in {predict_s:.1f} s ({counts})", highlight=False)
    say_written(out, outputs, staged.removed)


def _record(train, test, method, seed, cv, test_table, test_data, classes, proba, labels):
    """The run record for the HTML report: metrics, confusion, least certain images."""
    from synthprint.report import new_record
    from synthprint.report.blocks import confusion_block, cv_block, metric_block

    record = new_record("attribution", {"train": train, "test": test},
                        {"method": method, "seed": seed, "test images": len(labels)})
    if cv is not None:
        record["metrics"].append(cv_block("train cross-validation", cv))
        record["confusion"] = confusion_block("train CV confusion (rows: truth)", cv.pooled,
                                             prefix="t")
    if test_table is not None:
        record["metrics"].append(metric_block("test (against --truth)", test_table))
        record["confusion"] = (confusion_block("test confusion (rows: truth)", test_table,
                                               prefix="t") or record.get("confusion"))
    confidence = proba.max(axis=1)
    order = np.argsort(confidence, kind="stable")[:16]
    record["uncertain"] = [{"name": test_data.names[i], "image": str(test_data.paths[i]),
                            "label": int(labels[i]), "confidence": float(confidence[i])}
                           for i in order]
    record["histograms"] = [{"title": "confidence of the attributed subset",
                             "xlabel": "highest class probability",
                             "groups": [{"label": f"t{c}", "scores": confidence[labels == c]}
                                        for c in classes]}]
    record["table"] = {"file": "scores.csv", "sort": "label", "descending": False}
    return record
