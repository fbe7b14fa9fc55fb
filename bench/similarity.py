"""Benchmark of the similarity engine against the scikit-image SSIM loop (not a test).

On 256x256 CT-like images of the simulated benchmarks (default 2,000 x 500 pairs: A = the
real images of every benchmark plus generated images of st2-subsets, B = generated images of
st1-gan), in one run:

* the loop ``structural_similarity(a, b, data_range=255)`` over all pairs, as the 2023 winner
  ran it: timed on a random sample of pairs and scaled to all pairs (one process, one core);
* ``synthprint.features.pairwise(A, B, "ssim")``: exact all-pairs SSIM, all cores;
* ``synthprint.features.topk(A, B, 1, "ssim", candidates=c)``: the pruned search (SSIM
  estimated on a 6-pixel grid of windows, then exact SSIM on the c best), with its top-1
  agreement with the exact top-1 on every row;
* optionally the Gaussian variant (``--gaussian-rows``), on a subset of rows, scaled.

It prints a markdown table (pairs per second, ratio to the loop, CPU seconds, peak resident
memory of the process during each stage) and writes bench/out/similarity.{json,csv}. On a
shared machine the wall times depend on the other load; the "idle-machine" columns estimate
them from CPU time (loop: its CPU time on one core; synthprint: CPU time / threads).

    PYTHONPATH=src python bench/similarity.py                 # the full run
    PYTHONPATH=src python bench/similarity.py --n 400 --m 100 # a quick look

Wall times depend on what else runs on the machine: CPU seconds are reported next to them.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
from skimage.metrics import structural_similarity

from synthprint.features import _native, default_n_jobs, pairwise, topk
from synthprint.io import load_dataset

HERE = Path(__file__).resolve().parent
GAUSS = dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False)


def _load(root: Path, split: str, real: bool) -> list[np.ndarray]:
    folder = root / split
    if not folder.is_dir():
        return []
    ds = load_dataset(folder, quiet=True)
    idx = [i for i, r in enumerate(ds.roles) if r.is_real == real]
    return [ds.images[idx]] if idx else []


def bench_images(root: Path, n: int, m: int) -> tuple[np.ndarray, np.ndarray, str]:
    """A (n, 256, 256) and B (m, 256, 256) uint8 from the benchmarks under ``root``."""
    gen_b = _load(root, "st1-gan/test", False) + _load(root, "st1-gan/train", False)
    real = []
    for name in ("st1-gan", "st2-subsets", "st1-diffusion", "st1-memorize"):
        for split in ("train", "test"):
            real += _load(root, f"{name}/{split}", True)
    gen_a = _load(root, "st2-subsets/train", False) + _load(root, "st2-subsets/test", False)
    if not gen_b or not real:
        sys.exit(f"{root}: no benchmark images found; pass --bench-dir")
    B = np.concatenate(gen_b)
    A = np.concatenate(real + gen_a)
    note = (f"A: {len(A)} images (real of all benchmarks + st2 generated), "
            f"B: {len(B)} (st1-gan generated)")
    if len(A) < n or len(B) < m:
        note += f"; repeated cyclically to {n} x {m}"
    A = A[np.arange(n) % len(A)]
    B = B[np.arange(m) % len(B)]
    return np.ascontiguousarray(A), np.ascontiguousarray(B), note


class Stage:
    """Wall time, CPU time and peak RSS of a block of code (Linux: VmHWM reset per stage)."""

    def __enter__(self):
        self.hwm_reset = _reset_peak_rss()
        self.rss0 = _rss_mb()
        self.ru0 = resource.getrusage(resource.RUSAGE_SELF)
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.t0
        ru1 = resource.getrusage(resource.RUSAGE_SELF)
        self.cpu = (ru1.ru_utime - self.ru0.ru_utime) + (ru1.ru_stime - self.ru0.ru_stime)
        self.peak = _peak_rss_mb() if self.hwm_reset else ru1.ru_maxrss / 1024
        return False


def _status(field: str) -> float | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _rss_mb() -> float:
    return _status("VmRSS") or 0.0


def _peak_rss_mb() -> float:
    return _status("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bench-dir", type=Path, default=HERE.parent.parent / "shared" / "bench",
                    help="folder of the simulated benchmarks (default: ../shared/bench)")
    ap.add_argument("--n", type=int, default=2000, help="rows (images of A)")
    ap.add_argument("--m", type=int, default=500, help="columns (images of B)")
    ap.add_argument("--loop-pairs", type=int, default=150,
                    help="random pairs timed with the skimage loop (scaled to n x m)")
    ap.add_argument("--candidates", default="5,10",
                    help="pruned search: candidates per row (comma-separated list: one run each)")
    ap.add_argument("--gaussian-rows", type=int, default=0,
                    help="also time the Gaussian SSIM on this many rows of A (0: skip)")
    ap.add_argument("--study", default="",
                    help="comma-separated candidate metrics NAME[@LEVEL] (e.g. ssim-grid6,"
                         "ncc@2): report how often the exact top-1 is among their c best")
    ap.add_argument("--n-jobs", type=int, default=None, help="threads (default: all cores)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=HERE / "out")
    args = ap.parse_args(argv)

    n_jobs = args.n_jobs or default_n_jobs()
    A, B, note = bench_images(args.bench_dir, args.n, args.m)
    n, m = len(A), len(B)
    pairs = n * m
    rng = np.random.default_rng(args.seed)
    lib = _native.library()
    load = os.getloadavg()
    print(f"# similarity benchmark: {n} x {m} = {pairs:,} pairs of 256x256 uint8 images")
    print(f"{note}. {n_jobs} threads; {os.cpu_count()} CPUs; load average before the run "
          f"{load[0]:.2f}; kernels: {'compiled' if lib is not None else 'numpy (no compiler)'}; "
          f"{platform.processor() or platform.machine()}")

    rows: list[dict] = []

    def add(method, n_pairs, st, extra=None, note=""):
        rows.append({"method": method, "pairs": n_pairs, "wall_s": st.wall, "cpu_s": st.cpu,
                     "peak_rss_mb": st.peak, "note": note, **(extra or {})})

    # 1. the skimage loop on a random sample of pairs
    si = rng.integers(0, n, args.loop_pairs)
    sj = rng.integers(0, m, args.loop_pairs)
    with Stage() as st:
        loop_vals = np.array([structural_similarity(A[i], B[j], data_range=255)
                              for i, j in zip(si, sj)])
    loop_per_pair = st.wall / args.loop_pairs
    st.wall, st.cpu = loop_per_pair * pairs, st.cpu / args.loop_pairs * pairs
    add("skimage loop (1 process)", pairs, st,
        note=f"timed on {args.loop_pairs} random pairs, scaled")

    # 2. exact all pairs
    with Stage() as st:
        S = pairwise(A, B, "ssim", n_jobs=n_jobs)
    err = float(np.abs(S[si, sj] - loop_vals).max())
    add("synthprint exact pairwise", pairs, st, {"max_abs_err_vs_skimage": err},
        note=f"max abs error vs skimage on the sampled pairs: {err:.1e}")

    # 3. pruned top-1: ssim-grid6 candidates, then exact SSIM on c candidates per row
    exact_best = S.argmax(axis=1)
    for c in (int(x) for x in str(args.candidates).split(",") if x.strip()):
        with Stage() as st:
            pv, pi = topk(A, B, 1, "ssim", candidates=c, n_jobs=n_jobs)
        same = (pi[:, 0] == exact_best) | (pv[:, 0] == S[np.arange(n), exact_best])
        agree = float(same.mean())
        add(f"synthprint pruned top-1 (c={c})", pairs, st, {"top1_agreement": agree},
            note=f"same top-1 as exact for {agree:.2%} of {n} rows; "
                 f"exact SSIM on {n * c:,} pairs")

    # 3b. optional: candidate metrics, recall of the exact top-1 among their c best
    study = []
    for spec in (x.strip() for x in args.study.split(",") if x.strip()):
        name, _, lvl = spec.partition("@")
        with Stage() as st:
            C = pairwise(A, B, name, level=int(lvl or 0), n_jobs=n_jobs, quiet=True)
        rank = (C > C[np.arange(n), exact_best][:, None]).sum(axis=1)
        study.append({"candidate_metric": spec, "wall_s": st.wall, "cpu_s": st.cpu,
                      **{f"recall_at_{c}": float((rank < c).mean()) for c in (1, 3, 5, 10, 20)},
                      "max_rank": int(rank.max())})

    # 4. optional: Gaussian SSIM on a subset of rows
    if args.gaussian_rows:
        g = min(args.gaussian_rows, n)
        k = min(20, args.loop_pairs)
        with Stage() as st:
            gl = np.array([structural_similarity(A[i % g], B[j], data_range=255, **GAUSS)
                           for i, j in zip(si[:k], sj[:k])])
        st.wall, st.cpu = st.wall / k * pairs, st.cpu / k * pairs
        add("skimage loop, Gaussian (1 process)", pairs, st, note=f"timed on {k} pairs, scaled")
        with Stage() as st:
            G = pairwise(A[:g], B, "ssim-gaussian", n_jobs=n_jobs)
        gerr = float(np.abs(G[si[:k] % g, sj[:k]] - gl).max())
        st.wall, st.cpu = st.wall * n / g, st.cpu * n / g
        add("synthprint exact pairwise, Gaussian", pairs, st,
            {"max_abs_err_vs_skimage": gerr},
            note=f"timed on {g} x {m}, scaled; max abs error {gerr:.1e}")

    loop_wall, loop_cpu = rows[0]["wall_s"], rows[0]["cpu_s"]
    gauss = [r for r in rows if r["method"].startswith("skimage loop, Gaussian")]
    gauss_loop_wall = gauss[0]["wall_s"] if gauss else loop_wall
    gauss_loop_cpu = gauss[0]["cpu_s"] if gauss else loop_cpu
    print()
    print("| method | pairs | wall s | pairs/s | x loop (wall) | CPU s | idle-machine "
          "wall s (est.) | x loop (est.) | peak RSS MB | notes |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        loop = r["method"].startswith("skimage loop")
        gauss = "Gaussian" in r["method"]
        base = gauss_loop_wall if gauss else loop_wall
        base_cpu = (gauss_loop_cpu if gauss else loop_cpu)
        r["pairs_per_s"] = r["pairs"] / r["wall_s"]
        r["x_loop"] = base / r["wall_s"]
        # on an idle machine the loop runs at its CPU time on one core, synthprint at its
        # CPU time spread over its threads (an estimate, not a measurement)
        r["idle_wall_est_s"] = r["cpu_s"] / (1 if loop else n_jobs)
        r["x_loop_est"] = base_cpu / r["idle_wall_est_s"]
        print(f"| {r['method']} | {r['pairs']:,} | {r['wall_s']:,.1f} | {r['pairs_per_s']:,.0f} "
              f"| {r['x_loop']:,.1f} | {r['cpu_s']:,.1f} | {r['idle_wall_est_s']:,.1f} "
              f"| {r['x_loop_est']:,.0f} | {r['peak_rss_mb']:,.0f} | {r['note']} |")
    if study:
        print(f"\nCandidate metrics: fraction of the {n} rows whose exact SSIM top-1 is among "
              "the metric's c best (all pairs)\n")
        print("| candidate metric | wall s | CPU s | c=1 | c=3 | c=5 | c=10 | c=20 | worst rank |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in study:
            print(f"| {r['candidate_metric']} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | "
                  + " | ".join(f"{r[f'recall_at_{c}']:.4f}" for c in (1, 3, 5, 10, 20))
                  + f" | {r['max_rank'] + 1} |")
    print(f"\nload average after the run: {os.getloadavg()[0]:.2f}")

    args.out.mkdir(parents=True, exist_ok=True)
    meta = {"n": n, "m": m, "n_jobs": n_jobs, "loadavg_before": load,
            "loadavg_after": os.getloadavg(), "argv": sys.argv, "note": note}
    payload = {"meta": meta, "rows": rows, "study": study}
    (args.out / "similarity.json").write_text(json.dumps(payload, indent=1, default=float))
    with open(args.out / "similarity.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=sorted({k for r in rows for k in r}))
        w.writeheader()
        w.writerows(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
