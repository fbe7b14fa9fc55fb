"""Benchmark: every membership method on every st1-* benchmark.

For each dataset: one fit on all labelled real images (the generated pool is all generated
images, train and test; the real pool adds the test real images, labels unread), train
cross-validation that refits only each method's head per fold, and test metrics against
truth/ (reporting only: nothing is chosen on them). "fit+CV s" is the fit and the CV (the
context is computed there), "test s" scoring the test images. Prints one markdown table and
writes bench/out/membership.csv and .json.

Usage: python bench/membership.py [--bench ../shared/bench] [--datasets st1-gan,...]
       [--methods auto,...] [--repeats 2] [--n-boot 1000]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from synthprint.evaluation import binary_metrics, cross_validate
from synthprint.io import Role, load_benchmark
from synthprint.membership import METHODS, make_method

COLUMNS = (("kappa", "kappa"), ("f1", "F1"), ("accuracy", "acc"), ("roc_auc", "AUC"),
           ("tpr@1%fpr", "TPR@1%"))


def _fmt(table, name: str) -> str:
    m = table[name]
    if m.value is None:
        return "n/a"
    if m.has_interval:
        return f"{m.value:.3f} [{m.low:.2f}, {m.high:.2f}]"
    return f"{m.value:.3f}"


def run(bench: Path, datasets: list[str], methods: list[str], repeats: int, n_boot: int):
    rows = []
    for ds in datasets:
        b = load_benchmark(bench / ds, quiet=True)
        gen = np.concatenate([b.train.images[b.train.indices(Role.GENERATED)],
                              b.test.images[b.test.indices(Role.GENERATED)]])
        lab = b.train.indices(Role.REAL_USED, Role.REAL_NOT_USED)
        real, y = b.train.images[lab], b.train.labels[lab].astype(np.int64)
        unk = b.test.indices(Role.REAL_UNKNOWN)
        test, y_test = b.test.images[unk], b.test_labels(Role.REAL_UNKNOWN)
        for name in methods:
            # fit once (the context over generated + labelled + test real images), CV refits
            # only the head; the test labels reuse the same context
            t0 = time.perf_counter()
            est = make_method(name).fit(gen, real, y)
            cv = cross_validate(est.cv_fit_predict(unlabelled=test), y, task="binary",
                                n_splits=5, n_repeats=repeats, seed=0, n_boot=n_boot)
            t1 = time.perf_counter()
            scores, pred = est.score_samples(test), est.predict(test)
            t2 = time.perf_counter()
            tm = binary_metrics(y_test, pred, scores, n_boot=n_boot, seed=0)
            rows.append({"dataset": ds, "method": name, "cv": cv.pooled, "test": tm,
                         "fit_cv_s": t1 - t0, "test_s": t2 - t1,
                         "chosen": getattr(est.head_, "candidate", "")})
            print(f"{ds} {name}: CV AUC {cv.pooled.value('roc_auc'):.3f} test AUC "
                  f"{tm.value('roc_auc'):.3f} kappa {tm.value('kappa')} "
                  f"({t1 - t0:.0f}+{t2 - t1:.0f} s)", flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bench", type=Path,
                    default=Path(__file__).resolve().parents[2] / "shared" / "bench")
    ap.add_argument("--datasets", default="st1-memorize,st1-diffusion,st1-gan")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--n-boot", type=int, default=1000)
    args = ap.parse_args()
    rows = run(args.bench, args.datasets.split(","), args.methods.split(","), args.repeats,
               args.n_boot)
    head = ["dataset", "method"] + [f"CV {c}" for _, c in COLUMNS] + \
        [f"test {c}" for _, c in COLUMNS] + ["fit+CV s", "test s"]
    print("\n| " + " | ".join(head) + " |\n|" + "---|" * len(head))
    for r in rows:
        cells = [r["dataset"], r["method"]] + [_fmt(r["cv"], n) for n, _ in COLUMNS] + \
            [_fmt(r["test"], n) for n, _ in COLUMNS] + [f"{r['fit_cv_s']:.0f}",
                                                         f"{r['test_s']:.0f}"]
        print("| " + " | ".join(cells) + " |")
    out = Path(__file__).resolve().parent / "out"
    out.mkdir(exist_ok=True)
    (out / "membership.json").write_text(json.dumps(
        [{"dataset": r["dataset"], "method": r["method"], "cv": r["cv"].to_dict(),
          "test": r["test"].to_dict(), "fit_cv_s": r["fit_cv_s"], "test_s": r["test_s"],
          "chosen": r["chosen"]} for r in rows], indent=1))


if __name__ == "__main__":
    main()
