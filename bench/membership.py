"""Benchmark: every membership method on every st1-* benchmark.

For each dataset: one fit on all labelled real images (the generated pool is all generated
images, train and test; the real pool adds the test real images, labels unread), train
cross-validation that refits only each method's head per fold, and test metrics against
truth/ (reporting only: nothing is chosen on them) of the labels the CLI writes (all used
when the method's CV AUC interval includes 0.5, unless --when-no-signal threshold; the
method's own labels' kappa is shown beside them). "wall s" is the whole run of
`synthprint.evaluation.membership_run.run_membership` (fit, CV, test scores and labels), the
function the CLI calls. Prints one markdown table and
writes bench/out/membership.csv and .json.

Usage: python bench/membership.py [--bench ../shared/bench] [--datasets st1-gan,...]
       [--methods auto,...] [--repeats 2] [--n-boot 1000] [--when-no-signal all-used]
"""

from __future__ import annotations

import _args
import csv
import json
import time
from pathlib import Path

from synthprint.evaluation import binary_metrics, roc_auc_difference
from synthprint.evaluation.membership_run import run_membership
from synthprint.io import Role, load_benchmark, membership_data
from synthprint.membership import DEFAULT_METHOD, make_method
from synthprint.membership.decision import NO_SIGNAL_POLICIES

COLUMNS = (("kappa", "kappa"), ("f1", "F1"), ("accuracy", "acc"), ("roc_auc", "AUC"),
           ("tpr@1%fpr", "TPR@1%"))


def _fmt(table, name: str) -> str:
    m = table[name]
    if m.value is None:
        return "n/a"
    if m.has_interval:
        return f"{m.value:.3f} [{m.low:.2f}, {m.high:.2f}]"
    return f"{m.value:.3f}"


def run(bench: Path, datasets: list[str], methods: list[str], repeats: int, n_boot: int,
        policy: str = "all-used"):
    rows = []
    for ds in datasets:
        b = load_benchmark(bench / ds, quiet=True)
        d = membership_data(b.train, b.test)
        gen, real, y, test = d.generated, d.real, d.labels, d.test_real
        y_test = b.test_labels(Role.REAL_UNKNOWN)
        for name in methods:
            # exactly what `synthprint membership` does (fit, CV, test labels)
            t0 = time.perf_counter()
            r = run_membership(make_method(name), gen, real, y, test, n_repeats=repeats,
                               n_boot=n_boot, when_no_signal=policy, quiet=False)
            wall = time.perf_counter() - t0
            cv, scores = r.cv, r.scores
            tm = binary_metrics(y_test, r.labels, scores, n_boot=n_boot, seed=0)
            own = binary_metrics(y_test, r.method_labels, scores, n_boot=0)
            rows.append({"dataset": ds, "method": name, "cv": cv.pooled, "test": tm,
                         "signal": not r.no_signal, "own_kappa": own.value("kappa"),
                         "wall_s": wall, "scores": scores, "y_test": y_test,
                         "chosen": getattr(r.estimator.head_, "candidate", "")})
            print(f"{ds} {name}: CV AUC {cv.pooled.value('roc_auc'):.3f} test AUC "
                  f"{tm.value('roc_auc'):.3f} kappa {tm.value('kappa')} "
                  f"({wall:.0f} s)", flush=True)
    return rows


def compare_with_default(rows: list[dict], n_boot: int) -> list[tuple]:
    """(dataset, method, ROC AUC difference Metric) of the default minus every other method."""
    out = []
    for r in rows:
        base = _args.default_row(rows, r["dataset"])
        if base is None or r is base:
            continue
        out.append((r["dataset"], r["method"],
                    roc_auc_difference(r["y_test"], base["scores"], r["scores"],
                                       n_boot=n_boot, seed=0)["roc_auc_difference"]))
    return out


def main() -> None:
    ap = _args.parser(__doc__.splitlines()[0], datasets=True, methods=True)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--when-no-signal", default="all-used", choices=NO_SIGNAL_POLICIES,
                    help="test labels of a method whose CV finds no signal, as the CLI")
    args = ap.parse_args()
    rows = run(args.bench, args.datasets.split(","), args.methods.split(","), args.repeats,
               args.n_boot, args.when_no_signal)
    head = ["dataset", "method", "CV signal"] + [f"CV {c}" for _, c in COLUMNS] + \
        [f"test {c}" for _, c in COLUMNS] + ["test kappa (method's labels)", "wall s"]
    table = []
    for r in rows:
        table.append([r["dataset"], r["method"], "yes" if r["signal"] else "**no**"]
                     + [_fmt(r["cv"], n) for n, _ in COLUMNS]
                     + [_fmt(r["test"], n) for n, _ in COLUMNS]
                     + [f"{r['own_kappa']:.3f}", f"{r['wall_s']:.0f}"])
    print(f"\n{_args.command_line()} (test labels as the CLI writes them)\n")
    print(_args.markdown_table(head, table))
    paired = compare_with_default(rows, args.n_boot)
    if paired:
        print(f"\nTest ROC AUC of `{DEFAULT_METHOD}` minus each other method's, on the same "
              f"images (paired stratified bootstrap, {args.n_boot} resamples; an interval "
              "that includes 0 does not tell the two apart):\n")
        print("| dataset | other method | AUC difference [95% CI] |\n|---|---|---|")
        for ds, name, d in paired:
            print(f"| {ds} | {name} | {d.value:+.3f} [{d.low:+.2f}, {d.high:+.2f}] |")
    out = _args.out_dir()
    with open(out / "membership.csv", "w", newline="") as fh:
        csv.writer(fh).writerows([head] + table)
    (out / "membership.json").write_text(json.dumps(
        [{"dataset": r["dataset"], "method": r["method"], "cv_signal": r["signal"],
          "cv": r["cv"].to_dict(), "test": r["test"].to_dict(),
          "test_kappa_method_labels": r["own_kappa"], "policy": args.when_no_signal,
          "wall_s": r["wall_s"], "chosen": r["chosen"]}
         for r in rows], indent=1))


if __name__ == "__main__":
    main()
