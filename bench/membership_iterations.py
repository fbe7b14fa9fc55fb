"""Benchmark: does ``auto`` need its 200 solver iterations? Train cross-validation only.

``auto`` (:class:`~synthprint.membership.ReconstructionMembership`) spends most of its time
in the non-negative ridge reconstruction, whose cost is linear in ``n_iter``. This script
runs the CLI's protocol (label-free context over every generated and real image, 2 x 5-fold
CV on the labelled train images, 1000 bootstrap resamples) for several ``n_iter`` and
prints the pooled CV ROC AUC with its 95% interval. No test label is read.

Prints a markdown table and writes bench/out/membership_iterations.json.

Usage: python bench/membership_iterations.py [--bench ../shared/bench]
       [--datasets st1-memorize,st1-diffusion,st1-gan] [--n-iter 50,100,200,400]
"""

from __future__ import annotations

import _args
import json
import sys
import time

from synthprint.evaluation.membership_run import run_membership
from synthprint.io import load_benchmark, membership_data
from synthprint.membership import DEFAULT_METHOD, make_method


def main() -> None:
    ap = _args.parser(__doc__.splitlines()[0], datasets=True)
    ap.add_argument("--n-iter", default="50,100,200,400")
    args = ap.parse_args()
    rows = []
    for ds in args.datasets.split(","):
        bench = load_benchmark(args.bench / ds, quiet=True)
        d = membership_data(bench.train, bench.test)
        for n_iter in (int(n) for n in args.n_iter.split(",")):
            t0 = time.perf_counter()
            est = make_method(DEFAULT_METHOD).set_params(n_iter=n_iter)
            run = run_membership(est, d.generated, d.real, d.labels, d.test_real)
            auc = run.cv.pooled["roc_auc"]
            rows.append({"dataset": ds, "n_iter": n_iter, "cv_auc": auc.value,
                         "low": auc.low, "high": auc.high,
                         "wall_s": time.perf_counter() - t0})
            print(f"{ds} n_iter={n_iter}: CV AUC {auc.value:.3f}", file=sys.stderr, flush=True)
    print(f"\n{_args.command_line()}\n")
    print(_args.markdown_table(
        ["dataset", f"{DEFAULT_METHOD} n_iter", "CV ROC AUC [95% CI]", "wall s"],
        [[r["dataset"], str(r["n_iter"]),
          f"{r['cv_auc']:.3f} [{r['low']:.2f}, {r['high']:.2f}]", f"{r['wall_s']:.0f}"]
         for r in rows]))
    out = _args.out_dir()
    (out / "membership_iterations.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
