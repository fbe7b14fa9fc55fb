"""Benchmark: wall time of ``synthprint membership`` at the 2025 scale.

Builds a temporary subtask 1 train/test pair of hard links to benchmark images: 5,000 train and
2,000 test generated images, 100 + 100 labelled and 500 unknown real images (all real images
distinct; generated images repeat the benchmarks' ones, which costs the same to compare).
Runs the command end to end (default method, 2 x 5-fold CV) and reports the wall time.

Usage: python bench/membership_scale.py [--bench ../shared/bench] [--method auto[,NAME...]]
(``--method all``: every method, one after the other on the same folders)
"""

from __future__ import annotations

import _args
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = _args.parser(__doc__.splitlines()[0])
    ap.add_argument("--method", default="auto", help="method names, comma-separated, or all")
    args = ap.parse_args()
    from synthprint.membership import METHODS

    methods = list(METHODS) if args.method == "all" else args.method.split(",")
    gen, real = _args.scale_images(args.bench)
    if len(real) < 700:
        raise SystemExit(f"need 700 distinct real images, found {len(real)}")
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        _args.link_images(gen, t / "train" / "generated", "generated_", 5000)
        _args.link_images(real[:100], t / "train" / "real_used", "real_used_", 100)
        _args.link_images(real[100:200], t / "train" / "real_not_used", "real_not_used_", 100)
        _args.link_images(gen[::-1], t / "test" / "generated", "generated_", 2000)
        _args.link_images(real[200:700], t / "test" / "real_unknown", "real_unknown_", 500)
        walls = {}
        for method in methods:
            cmd = [*_args.synthprint_command(), "membership", "--train", str(t / "train"),
                   "--test", str(t / "test"), "--out", str(t / f"out-{method}"), "--method",
                   method, "-q"]
            start = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            walls[method] = time.perf_counter() - start
            print(f"{method}: {walls[method]:.0f} s", file=sys.stderr, flush=True)
    print(f"\n{_args.command_line()} ({os.cpu_count()} cores)\n")
    print(_args.markdown_table(
        ["method", "generated", "labelled real", "unknown real", "wall s"],
        [[method, "7000", "200", "500", f"{wall:.0f}"] for method, wall in walls.items()]))
    out = _args.out_dir()
    (out / "membership_scale.json").write_text(json.dumps(
        [{"method": m, "wall_s": w} for m, w in walls.items()], indent=1))


if __name__ == "__main__":
    main()
