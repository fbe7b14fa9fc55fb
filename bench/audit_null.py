"""Benchmark: how often the audit says "membership is detectable" when there is none.

From one membership benchmark, the real images that no generator saw (train/real_not_used
and the test images whose truth is 0) are split at random in two halves, a fake "training"
set and a holdout; the synthetic set is the benchmark's train/generated images. No image
of either half trained the generator, so every "detectable" verdict is a false alarm. The
audit runs with its default attacks and protocol (2 x 5-fold CV, 1,000 bootstrap
resamples, family-wise intervals); the table gives the share of false alarms over the
splits, which the family-wise intervals should hold near or below 5%.

Usage: python bench/audit_null.py [--benchmark PATH] [--splits 49] [--first-seed 12]
(default benchmark: the bundled demo, built from st1-memorize)
"""

from __future__ import annotations

import _args
import json
import os
import random
import time
from pathlib import Path

import numpy as np


def main() -> None:
    from synthprint.audit import run_audit
    from synthprint.io import Role, demo_path, load_benchmark
    from synthprint.io.dataset import ImageDataset
    from synthprint.io.layouts import Layout
    from synthprint.membership import AUDIT_ATTACKS, make_method

    ap = _args.parser(__doc__.splitlines()[0])
    ap.add_argument("--benchmark", type=Path, default=None)
    ap.add_argument("--splits", type=int, default=49)
    ap.add_argument("--first-seed", type=int, default=12)
    args = ap.parse_args()
    root = args.benchmark or demo_path("membership")
    bench = load_benchmark(root, quiet=True)
    unused = bench.train.indices(Role.REAL_NOT_USED)
    pool = [bench.train.images[unused]]
    truth = bench.test_labels(Role.REAL_UNKNOWN)
    test_real = bench.test.indices(Role.REAL_UNKNOWN)
    pool.append(bench.test.images[test_real[truth == 0]])
    pool = np.concatenate(pool)
    synthetic = bench.train.select(Role.GENERATED)

    def dataset(images: np.ndarray, role: Role, label: int) -> ImageDataset:
        names = [f"{role.value}_{i}.png" for i in range(len(images))]
        layout = Layout("folder-" + role.value, root, ())
        return ImageDataset(layout, names, [Path(n) for n in names], images,
                            np.array([role] * len(images), dtype=object),
                            np.full(len(images), label, dtype=np.int16))

    attacks = {n: (lambda n=n: make_method(n)) for n in AUDIT_ATTACKS}
    alarms, runs = [], []
    start = time.perf_counter()
    for seed in range(args.first_seed, args.first_seed + args.splits):
        order = list(range(len(pool)))
        random.Random(seed).shuffle(order)
        half = len(order) // 2
        fake_train = dataset(pool[order[:half]], Role.REAL_USED, 1)
        holdout = dataset(pool[order[half:]], Role.REAL_NOT_USED, 0)
        result = run_audit(fake_train, holdout, synthetic, attacks, seed=0, quiet=True)
        auc = result.best.cv.pooled["roc_auc"]
        runs.append({"seed": seed, "best": result.best.name, "auc": auc.value,
                     "low": auc.low, "high": auc.high, "detectable": not result.no_signal})
        alarms.append(not result.no_signal)
        print(f"seed {seed}: best {result.best.name} AUC {auc.value:.3f} "
              f"[{auc.low:.3f}, {auc.high:.3f}] -> "
              f"{'DETECTABLE' if alarms[-1] else 'no signal'}", flush=True)
    wall = time.perf_counter() - start
    print(f"\n{_args.command_line()} ({os.cpu_count()} cores, {wall:.0f} s)\n")
    print(_args.markdown_table(
        ["benchmark", "real images never used", "splits", "false 'detectable'", "share"],
        [[root.name, str(len(pool)), str(len(alarms)), str(sum(alarms)),
          f"{np.mean(alarms):.3f}"]]))
    (_args.out_dir() / "audit_null.json").write_text(json.dumps(
        {"benchmark": str(root), "pool": len(pool), "runs": runs,
         "false_alarms": int(sum(alarms)), "wall_s": wall}, indent=1))


if __name__ == "__main__":
    main()
