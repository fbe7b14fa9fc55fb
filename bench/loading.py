"""Benchmark: load 25,000 challenge-size PNGs (the 2025 subtask 2 test scale).

Builds a temporary folder of hard links to the benchmark images (renamed gen_unknown_NNNNN.png),
loads it with 1 worker and with all cores, and reports wall time, images/s and peak resident
memory against the raw pixel size (25,000 x 256 x 256 bytes = 1.64 GB).

Usage: python bench/loading.py [--bench ../shared/bench] [--n 25000]
Each load runs in a fresh subprocess so that peak memory is measured per load.
"""

from __future__ import annotations

import _args
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
from synthprint.io import load_dataset
t = time.perf_counter()
ds = load_dataset(sys.argv[1], workers=int(sys.argv[2]), quiet=True)
wall = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"n": len(ds), "wall_s": wall, "peak_rss": peak, "raw": ds.images.nbytes}))
"""


def main() -> None:
    ap = _args.parser(__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=25_000)
    args = ap.parse_args()
    sources = sorted(args.bench.glob("*/*/*/*.png")) + sorted(args.bench.glob("*/*/*/*/*.png"))
    if not sources:
        raise SystemExit(f"no PNGs under {args.bench}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        _args.link_images(sources, Path(tmp) / "generated_unknown", "gen_unknown_", args.n)
        for workers in (1, os.cpu_count() or 1):
            out = subprocess.run([sys.executable, "-c", CHILD, str(tmp), str(workers)],
                                 check=True, capture_output=True, text=True).stdout
            r = json.loads(out)
            r["workers"] = workers
            rows.append(r)
    print(f"\n{_args.command_line()} ({os.cpu_count()} cores)\n")
    print(_args.markdown_table(
        ["workers", "images", "wall s", "images/s", "peak RSS GB", "raw GB", "peak / raw"],
        [[str(r["workers"]), str(r["n"]), f"{r['wall_s']:.1f}", f"{r['n'] / r['wall_s']:.0f}",
          f"{r['peak_rss'] / 1e9:.2f}", f"{r['raw'] / 1e9:.2f}",
          f"{r['peak_rss'] / r['raw']:.2f}"] for r in rows]))
    (_args.out_dir() / "loading.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
