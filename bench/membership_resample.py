"""Benchmark: how stable is each membership method's ranking over other train/test splits?

One benchmark is one draw of which real images are labelled. This script asks what the
ranking of the methods looks like over many such draws of the same images: it pools every
real image of a benchmark (the labelled train images and the test images with their truth),
and R times draws a new stratified split with the benchmark's own train class counts. On
each draw every method refits its head and decision on the new train images only and
scores the rest, exactly as in a cross-validation fold (``cv_fit_predict``): the label-free
context (similarities, reconstructions, descriptors over all generated and all real images)
is the one the CLI computes, so it is computed once per method.

Reported per dataset and method: the mean test ROC AUC over draws (with its standard
deviation), the mean kappa of the method's own labels, and against the default method the
mean AUC difference (default minus method), its 2.5-97.5 percentile range over draws, and
the share of draws in which the default's AUC is at least the method's; per dataset, the
share of draws in which it is at least every other method's at once (the JSON keeps every
draw's AUC).

The draws share images and the generator, so this measures split noise, not the spread
between benchmarks built with other generators (those are unseen). truth/ is used to form
the draws' labels for reporting; no method or threshold is chosen on it.

Prints a markdown table and writes bench/out/membership_resample.csv and .json (with each
method's wall time, which is not a speed measure: see bench/membership_scale.py).

Usage: python bench/membership_resample.py [--bench ../shared/bench]
       [--datasets st1-gan,...] [--methods auto,...] [--draws 50] [--seed 0]
"""

from __future__ import annotations

import _args
import csv
import json
import time
from pathlib import Path

import numpy as np
from rich.progress import Progress

from synthprint.evaluation import cohen_kappa, roc_auc
from synthprint.io import Role, load_benchmark, membership_data
from synthprint.membership import DEFAULT_METHOD, make_method


def stratified_draws(y: np.ndarray, n_train: dict[int, int], draws: int, seed: int):
    """``draws`` (train_idx, test_idx) pairs over ``y`` (N,) in {0, 1}, each train part
    holding ``n_train[c]`` images of class c, chosen uniformly; deterministic in ``seed``."""
    rng = np.random.default_rng(seed)
    by_class = {c: np.flatnonzero(y == c) for c in (0, 1)}
    for _ in range(draws):
        train = np.sort(np.concatenate([rng.choice(by_class[c], n_train[c], replace=False)
                                        for c in (0, 1)]))
        yield train, np.setdiff1d(np.arange(len(y)), train)


def run(bench: Path, datasets: list[str], methods: list[str], draws: int, seed: int):
    rows = []
    for ds in datasets:
        b = load_benchmark(bench / ds, quiet=True)
        d = membership_data(b.train, b.test)
        gen, y_train = d.generated, d.labels
        # the pool in the CLI's order: labelled train images, then the test images
        real = np.concatenate([d.real, d.test_real])
        y = np.concatenate([y_train, b.test_labels(Role.REAL_UNKNOWN)]).astype(np.int64)
        n_train = {c: int((y_train == c).sum()) for c in (0, 1)}
        splits = list(stratified_draws(y, n_train, draws, seed))
        for name in methods:
            t0 = time.perf_counter()
            fit_predict = make_method(name).fit(gen, real, y).cv_fit_predict()
            aucs, kappas = np.empty(draws), np.empty(draws)
            with Progress(transient=True) as bar:
                task = bar.add_task(f"{ds} {name}", total=draws)
                for i, (tr, te) in enumerate(splits):
                    labels, scores = fit_predict(tr, te)
                    aucs[i] = roc_auc(y[te], scores)
                    kappas[i] = cohen_kappa(y[te], labels)
                    bar.advance(task)
            wall = time.perf_counter() - t0
            rows.append({"dataset": ds, "method": name, "auc": aucs, "kappa": kappas,
                         "wall_s": wall})
            print(f"{ds} {name}: mean AUC {aucs.mean():.3f} (sd {aucs.std():.3f}), mean kappa "
                  f"{kappas.mean():.3f} ({wall:.0f} s)", flush=True)
    return rows


def summarize(rows: list[dict]) -> list[dict]:
    out = []
    for r in rows:
        base = _args.default_row(rows, r["dataset"])
        s = {"dataset": r["dataset"], "method": r["method"],
             "auc_mean": float(r["auc"].mean()), "auc_sd": float(r["auc"].std()),
             "kappa_mean": float(r["kappa"].mean()), "kappa_sd": float(r["kappa"].std()),
             "wall_s": r["wall_s"]}
        if base is not None and base is not r:
            d = base["auc"] - r["auc"]
            s.update(diff_mean=float(d.mean()), diff_low=float(np.percentile(d, 2.5)),
                     diff_high=float(np.percentile(d, 97.5)),
                     default_at_least=float(np.mean(d >= 0)))
        out.append(s)
    return out


def joint_shares(rows: list[dict]) -> dict[str, float]:
    """{dataset: share of draws in which the default's test AUC is at least every other
    method's on that draw} (the issue's target, read per split)."""
    shares = {}
    for ds in dict.fromkeys(r["dataset"] for r in rows):
        mine = [r for r in rows if r["dataset"] == ds]
        base = _args.default_row(rows, ds)
        others = [r["auc"] for r in mine if r is not base]
        if base is not None and others:
            shares[ds] = float(np.mean(base["auc"] >= np.max(others, axis=0)))
    return shares


def main() -> None:
    ap = _args.parser(__doc__.splitlines()[0], datasets=True, methods=True)
    ap.add_argument("--draws", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.draws < 1:
        ap.error("--draws must be at least 1")
    rows = run(args.bench, args.datasets.split(","), args.methods.split(","), args.draws,
               args.seed)
    summary, joint = summarize(rows), joint_shares(rows)
    head = ["dataset", "method", "test AUC mean (sd)", "test kappa mean (sd)",
            f"AUC {DEFAULT_METHOD} minus method: mean [2.5%, 97.5%]",
            f"draws with {DEFAULT_METHOD} >= method"]
    table = []
    for s in summary:
        vs = ("" if "diff_mean" not in s else
              f"{s['diff_mean']:+.3f} [{s['diff_low']:+.2f}, {s['diff_high']:+.2f}]")
        share = "" if "default_at_least" not in s else f"{s['default_at_least']:.0%}"
        table.append([s["dataset"], s["method"], f"{s['auc_mean']:.3f} ({s['auc_sd']:.3f})",
                      f"{s['kappa_mean']:.3f} ({s['kappa_sd']:.3f})", vs, share])
    print(f"\n{_args.command_line()}\n")
    print(_args.markdown_table(head, table))
    if joint:
        print(f"\nDraws in which {DEFAULT_METHOD}'s test AUC is at least every other method's: "
              + ", ".join(f"{ds} {share:.0%}" for ds, share in joint.items()))
    out = _args.out_dir()
    with open(out / "membership_resample.csv", "w", newline="") as fh:
        csv.writer(fh).writerows([head] + table)
    (out / "membership_resample.json").write_text(json.dumps(
        {"draws": args.draws, "seed": args.seed, "rows": summary,
         "default_at_least_every_method": joint,
         "auc_per_draw": {f"{r['dataset']}/{r['method']}": r["auc"].round(6).tolist()
                          for r in rows}}, indent=1))


if __name__ == "__main__":
    main()
