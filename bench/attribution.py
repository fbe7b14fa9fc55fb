"""Benchmark of the subtask 2 attribution methods on the simulated st2-* benchmarks.

For every ``st2-*`` folder in ``--bench`` (default ``/work/shared/bench``) and every method:
train cross-validation accuracy (stratified K-fold on train/ only), test accuracy, macro F1 and
macro specificity with 95% bootstrap intervals (truth/ is read only to report these), the test
confusion matrix, the time to fit on the whole train split, and prediction throughput measured
on ``--throughput-n`` images (the test images repeated), extrapolated to 25,000 images.

``--variants full,native64,few`` picks what to run. ``few`` keeps only ``--per-subset N``
(default 20) labelled generated images per subset (the real images and the test split
unchanged), to see how each method copes with fewer labels.

``native64`` is a control: every image reduced to 64 px by 4x4 means (the generators'
own resolution, undoing most of the 64 -> 256 bilinear upsampling). A method that keeps its
accuracy there does not depend on artefacts of the upsampling.

Not a test: it takes minutes to an hour (the CNN). Prints markdown tables and writes
bench/out/attribution-<variants>.{md,json}.

    python bench/attribution.py [--methods a,b] [--cv-folds 5] [--no-cv a,b]
                                [--variants full,native64,few] [--per-subset N] [--quiet]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")

import numpy as np  # noqa: E402

from synthprint.attribution import DEFAULT_METHOD, METHODS, make_method  # noqa: E402
from synthprint.evaluation import cross_validate, multiclass_metrics  # noqa: E402
from synthprint.features import pyramid_level  # noqa: E402
from synthprint.io import Role, load_benchmark  # noqa: E402

OUT = Path(__file__).parent / "out"
DEFAULT_METHODS = ("nearest", "nearest-ssim", "nearest-centroid", "spectral", "residual",
                   "ensemble", "ensemble-pl", "cnn")


def _ci(m) -> str:
    if m.value is None:
        return "n/a"
    if m.low is None:
        return f"{m.value:.3f}"
    return f"{m.value:.3f} [{m.low:.3f}, {m.high:.3f}]"


def evaluate_method(name: str, data: dict, *, cv_folds: int, seed: int, throughput_n: int,
                    quiet: bool) -> dict:
    G, yG, R, yR, T, yT = (data[k] for k in ("G", "yG", "R", "yR", "T", "yT"))
    extra = {"unlabelled": T} if METHODS[name].transductive else {}
    row: dict = {"method": name}
    if cv_folds:
        def fit_predict(tr, te):
            est = make_method(name, seed=seed)
            est.fit(G[tr], yG[tr], R, yR, **extra)
            proba = est.predict_proba(G[te])
            return est.classes_[proba.argmax(axis=1)], proba

        t0 = time.perf_counter()
        cv = cross_validate(fit_predict, yG, task="multiclass", n_splits=cv_folds,
                            n_repeats=1, seed=seed, quiet=quiet, n_boot=1000)
        row["cv_seconds"] = time.perf_counter() - t0
        row["cv"] = cv.pooled.to_dict()
        row["cv_accuracy"] = cv.pooled["accuracy"]
    t0 = time.perf_counter()
    est = make_method(name, seed=seed, quiet=quiet)
    est.fit(G, yG, R, yR, **extra)
    row["fit_seconds"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    proba = est.predict_proba(T)
    row["test_predict_seconds"] = time.perf_counter() - t0
    pred = est.classes_[proba.argmax(axis=1)]
    table = multiclass_metrics(yT, pred, proba=proba, classes=est.classes_, n_boot=1000,
                               seed=seed)
    row["test"] = table.to_dict()
    row["test_table"] = table
    row["confusion"] = table.extras["confusion"].tolist()
    if throughput_n:
        reps = int(np.ceil(throughput_n / len(T)))
        X = np.concatenate([T] * reps)[:throughput_n]
        t0 = time.perf_counter()
        est.predict_proba(X)
        dt = time.perf_counter() - t0
    else:
        X, dt = T, row["test_predict_seconds"]
    row["throughput_images_per_s"] = len(X) / dt
    row["predict_25k_seconds"] = 25000 / row["throughput_images_per_s"]
    report = getattr(est, "pseudo_labelling_", None)
    if report:
        row["pseudo_labelling"] = report
    if getattr(est, "cv_scores_", None):
        names = list(est.cv_scores_["members"])
        row["ensemble_weights"] = dict(zip(names, est.weights_.round(3).tolist()))
        row["ensemble_cv_scores"] = est.cv_scores_
    return row


def subsample(data: dict, per_subset: int, seed: int) -> dict:
    """Keep ``per_subset`` labelled generated images of each subset (seeded random pick)."""
    rng = np.random.default_rng(seed)
    keep = np.sort(np.concatenate([
        rng.choice(np.flatnonzero(data["yG"] == c), per_subset, replace=False)
        for c in np.unique(data["yG"])]))
    return {**data, "G": data["G"][keep], "yG": data["yG"][keep]}


def load(root: Path, native64: bool) -> dict:
    bench = load_benchmark(root, quiet=True)
    gi = bench.train.indices(Role.GENERATED_SUBSET)
    ri = bench.train.indices(Role.REAL_SUBSET)

    def prep(x):
        if not native64:
            return x
        return np.clip(np.rint(pyramid_level(x, 2)), 0, 255).astype(np.uint8)

    return {"G": prep(bench.train.images[gi]), "yG": bench.train.labels[gi].astype(np.int64),
            "R": prep(bench.train.images[ri]), "yR": bench.train.labels[ri].astype(np.int64),
            "T": prep(bench.test.images), "yT": bench.test_labels(Role.GENERATED_UNKNOWN)}


def markdown(rows: list[dict], title: str) -> str:
    lines = [f"### {title}", "",
             "| method | train CV accuracy [95% CI] | test accuracy [95% CI] | test macro F1 "
             "| test macro specificity | fit s | predict img/s | 25k images s |",
             "|---|---|---|---|---|---:|---:|---:|"]
    for r in rows:
        t = r["test_table"]
        cv = _ci(r["cv_accuracy"]) if "cv_accuracy" in r else "not run"
        name = f"**{r['method']}** (default)" if r["method"] == DEFAULT_METHOD else r["method"]
        lines.append(f"| {name} | {cv} | {_ci(t['accuracy'])} | {_ci(t['macro_f1'])} | "
                     f"{_ci(t['macro_specificity'])} | {r['fit_seconds']:.1f} | "
                     f"{r['throughput_images_per_s']:.0f} | {r['predict_25k_seconds']:.0f} |")
    lines += ["", "Test confusion matrices (rows: truth t1..t5, columns: predicted):", ""]
    for r in rows:
        cm = "; ".join(" ".join(f"{v:3d}" for v in row) for row in r["confusion"])
        lines.append(f"- {r['method']}: `{cm}`")
    for r in rows:
        if "ensemble_weights" in r:
            w = ", ".join(f"{k} {v:.1f}" for k, v in r["ensemble_weights"].items())
            lines.append(f"- {r['method']} weights (chosen by cross-validated log-loss on "
                         f"train): {w}")
    pl = [r for r in rows if "pseudo_labelling" in r]
    for r in pl:
        p = r["pseudo_labelling"]
        lines.append(f"- {r['method']} pseudo-labelling: {p['n_pseudo']} of "
                     f"{p['n_unlabelled']} test images confident; held-out accuracy "
                     f"{p['holdout_accuracy_without']:.3f} without, "
                     f"{p.get('holdout_accuracy_with', float('nan')):.3f} with; "
                     f"{'kept' if p['accepted'] else 'dropped'}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bench", type=Path, default=Path("/work/shared/bench"))
    ap.add_argument("--methods", default=",".join(DEFAULT_METHODS))
    ap.add_argument("--cv-folds", type=int, default=5)
    ap.add_argument("--no-cv", default="", help="comma-separated methods to skip the CV for")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--throughput-n", type=int, default=2000)
    ap.add_argument("--variants", default="full",
                    help="comma-separated: full (as given), native64 (64 px control), "
                         "few (only --per-subset labelled generated images per subset)")
    ap.add_argument("--per-subset", type=int, default=20,
                    help="labelled generated images per subset kept by the 'few' variant")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    methods = [m for m in args.methods.split(",") if m]
    no_cv = set(filter(None, args.no_cv.split(",")))
    roots = sorted(p for p in args.bench.glob("st2-*") if p.is_dir())
    if not roots:
        print(f"no st2-* benchmarks in {args.bench}", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    results, text = {}, []
    for root in roots:
        wanted = set(filter(None, args.variants.split(",")))
        unknown = wanted - {"full", "native64", "few"}
        if unknown:
            ap.error(f"unknown variants {sorted(unknown)}")
        variants = [v for v in [(False, 0) if "full" in wanted else None,
                                (True, 0) if "native64" in wanted else None,
                                (False, args.per_subset) if "few" in wanted else None] if v]
        for native, per_subset in variants:
            data = load(root, native)
            title = f"{root.name}" + (" (64 px control: 4x4 means)" if native else "")
            if per_subset:
                data = subsample(data, per_subset, args.seed)
                title += f" (only {per_subset} labelled generated images per subset)"
            rows = []
            for name in methods:
                print(f"{title}: {name} ...", file=sys.stderr, flush=True)
                row = evaluate_method(name, data, cv_folds=0 if name in no_cv
                                      else args.cv_folds, seed=args.seed,
                                      throughput_n=args.throughput_n, quiet=args.quiet)
                rows.append(row)
                print(markdown([row], f"{title}: {name}"), file=sys.stderr, flush=True)
            text.append(markdown(rows, title))
            results[title] = [{k: (v.to_dict() if hasattr(v, "to_dict") else v)
                               for k, v in r.items()} for r in rows]
    out = "\n".join(text)
    print(out)
    stem = "attribution-" + "-".join(sorted(wanted))
    (OUT / f"{stem}.json").write_text(json.dumps(results, indent=1, default=float))
    (OUT / f"{stem}.md").write_text(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
