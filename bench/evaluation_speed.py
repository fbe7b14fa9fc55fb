"""Wall time of the metric tables with 1,000 bootstrap resamples, and of validating a run.

Usage: python bench/evaluation_speed.py   (writes bench/out/evaluation_speed.json)
"""

from __future__ import annotations

import _args
import json
import time

import numpy as np

from synthprint.evaluation import binary_metrics, cross_validate, multiclass_metrics
from synthprint.io.submission import format_run
from synthprint.io.validator import validate_text


def timed(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    rng = np.random.default_rng(0)
    rows = []
    for n in (200, 2000, 10000):
        y = rng.integers(0, 2, n)
        s = 0.3 * y + rng.normal(size=n)
        p = (s > 0.2).astype(int)
        rows.append(("binary_metrics (labels + scores), n_boot=1000", n,
                     timed(lambda: binary_metrics(y, p, s, n_boot=1000))))
    for n in (500, 5000):
        y = rng.integers(1, 6, n)
        p = np.where(rng.random(n) < 0.4, y, rng.integers(1, 6, n))
        pr = rng.dirichlet(np.ones(5), n)
        rows.append(("multiclass_metrics (labels + proba), n_boot=1000", n,
                     timed(lambda: multiclass_metrics(y, p, pr, n_boot=1000))))
    y = rng.integers(0, 2, 400)
    s = 0.3 * y + rng.normal(size=400)
    rows.append(("cross_validate 5x5 (trivial method), n_boot=1000", 400, timed(
        lambda: cross_validate(lambda tr, te: ((s[te] > np.median(s[tr])).astype(int), s[te]),
                               y, n_repeats=5))))
    names = [f"real_unknown_{i:05d}.png" for i in range(1, 10001)]
    text = format_run(names, rng.integers(0, 2, 10000), edition=2023, task="membership")
    ids = [n[:-4] for n in names]
    rows.append(("validate a 2023 run (first error mode)", 10000,
                 timed(lambda: validate_text(text.encode(), ids, edition=2023,
                                             task="membership"))))
    out = _args.out_dir()
    (out / "evaluation_speed.json").write_text(json.dumps(
        [{"what": w, "n": n, "seconds": t} for w, n, t in rows], indent=2))
    print("| what | n | seconds (best of 3) |\n|---|---:|---:|")
    for w, n, t in rows:
        print(f"| {w} | {n} | {t:.3f} |")


if __name__ == "__main__":
    main()
