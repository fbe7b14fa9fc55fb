"""How often do the bootstrap 95% intervals of synthprint.evaluation cover the true value?

Simulates data whose population metrics are known in closed form and counts how often the
interval of :func:`binary_metrics` / :func:`multiclass_metrics` holds the true value.

Binary: n/2 positives and n/2 negatives, scores ~ N(d * y, 1), labels = score > d / 2. Then
AUC = Phi(d / sqrt 2), accuracy = recall = specificity = Phi(d / 2), kappa = 2 Phi(d / 2) - 1,
TPR at 1% FPR = Phi(d - z_0.99).
Multiclass: K = 5 equal classes, the prediction is right with probability q, else one of the
other classes uniformly. Then accuracy = macro recall = macro F1 = q, macro specificity =
1 - (1 - q) / 4.

Usage: python bench/evaluation_coverage.py [--sims 300] [--n-boot 1000]
Writes bench/out/evaluation_coverage.{csv,json}.
"""

from __future__ import annotations

import argparse
import _args
import json
import time

import numpy as np
import pandas as pd
from scipy.stats import norm

from synthprint.evaluation import binary_metrics, multiclass_metrics


def binary_truth(d: float) -> dict[str, float]:
    acc = norm.cdf(d / 2)
    return {"roc_auc": norm.cdf(d / np.sqrt(2)), "accuracy": acc, "kappa": 2 * acc - 1,
            "recall": acc, "specificity": acc, "tpr@1%fpr": norm.cdf(d - norm.ppf(0.99))}


def multiclass_truth(q: float) -> dict[str, float]:
    return {"accuracy": q, "macro_recall": q, "macro_f1": q,
            "macro_specificity": 1 - (1 - q) / 4}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sims", type=int, default=300)
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--auc-only", type=int, default=0, metavar="N",
                    help="only the binary ROC AUC at this n (a finer look at one cell)")
    args = ap.parse_args()
    if args.auc_only:
        rng = np.random.default_rng(777)
        d, n = 1.0, args.auc_only
        true = binary_truth(d)["roc_auc"]
        hits = []
        for s in range(args.sims):
            y = np.repeat([0, 1], n // 2)
            m = binary_metrics(y, scores=rng.normal(d * y, 1.0), n_boot=args.n_boot,
                               seed=s)["roc_auc"]
            hits.append(m.low <= true <= m.high)
        print(f"ROC AUC n={n}: coverage {np.mean(hits):.3f} over {args.sims} simulations, "
              f"n_boot={args.n_boot}")
        return
    rng = np.random.default_rng(12345)
    rows = []
    t0 = time.perf_counter()
    for n in (60, 200, 1000):
        d = 1.0
        truth = binary_truth(d)
        hits = {k: [] for k in truth}
        widths = {k: [] for k in truth}
        for s in range(args.sims):
            y = np.repeat([0, 1], n // 2)
            scores = rng.normal(d * y, 1.0)
            table = binary_metrics(y, (scores > d / 2).astype(int), scores,
                                   n_boot=args.n_boot, seed=s)
            for k, v in truth.items():
                m = table[k]
                hits[k].append(m.low <= v <= m.high)
                widths[k].append(m.high - m.low)
        for k in truth:
            rows.append({"task": "binary", "n": n, "metric": k, "true": round(truth[k], 4),
                         "coverage": float(np.mean(hits[k])),
                         "mean_width": float(np.mean(widths[k]))})
    for n in (100, 500):
        q, k_cls = 0.5, 5
        truth = multiclass_truth(q)
        hits = {k: [] for k in truth}
        widths = {k: [] for k in truth}
        for s in range(args.sims):
            y = np.repeat(np.arange(1, k_cls + 1), n // k_cls)
            wrong = (y - 1 + rng.integers(1, k_cls, len(y))) % k_cls + 1
            pred = np.where(rng.random(len(y)) < q, y, wrong)
            table = multiclass_metrics(y, pred, n_boot=args.n_boot, seed=s)
            for k, v in truth.items():
                m = table[k]
                hits[k].append(m.low <= v <= m.high)
                widths[k].append(m.high - m.low)
        for k in truth:
            rows.append({"task": "multiclass", "n": n, "metric": k, "true": truth[k],
                         "coverage": float(np.mean(hits[k])),
                         "mean_width": float(np.mean(widths[k]))})
    elapsed = time.perf_counter() - t0
    df = pd.DataFrame(rows)
    out = _args.out_dir()
    df.to_csv(out / "evaluation_coverage.csv", index=False)
    (out / "evaluation_coverage.json").write_text(json.dumps(
        {"sims": args.sims, "n_boot": args.n_boot, "seconds": elapsed, "rows": rows}, indent=2))
    print(f"coverage of nominal 95% intervals, {args.sims} simulations each, "
          f"n_boot={args.n_boot} ({elapsed:.0f} s)\n")
    print("| task | n | metric | true value | coverage | mean width |")
    print("|---|---:|---|---:|---:|---:|")
    for r in rows:
        print(f"| {r['task']} | {r['n']} | {r['metric']} | {r['true']:.3f} | "
              f"{r['coverage']:.3f} | {r['mean_width']:.3f} |")


if __name__ == "__main__":
    main()
