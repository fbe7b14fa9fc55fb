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


def _link(sources: list[Path], folder: Path, prefix: str, n: int) -> None:
    folder.mkdir(parents=True)
    for i in range(n):
        os.link(sources[i % len(sources)], folder / f"{prefix}{i + 1:05d}.png")


def main() -> None:
    ap = _args.parser(__doc__.splitlines()[0])
    ap.add_argument("--method", default="auto", help="method names, comma-separated, or all")
    args = ap.parse_args()
    from synthprint.membership import METHODS

    methods = list(METHODS) if args.method == "all" else args.method.split(",")
    gen = sorted(args.bench.glob("st1-*/*/generated/*.png"))
    real = sorted(args.bench.glob("st1-*/*/real_*/*.png")) + \
        sorted(args.bench.glob("st2-*/train/real/*/*.png"))
    if len(real) < 700:
        raise SystemExit(f"need 700 distinct real images, found {len(real)}")
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        _link(gen, t / "train" / "generated", "generated_", 5000)
        _link(real[:100], t / "train" / "real_used", "real_used_", 100)
        _link(real[100:200], t / "train" / "real_not_used", "real_not_used_", 100)
        _link(gen[::-1], t / "test" / "generated", "generated_", 2000)
        _link(real[200:700], t / "test" / "real_unknown", "real_unknown_", 500)
        walls = {}
        for method in methods:
            cmd = [str(Path(sys.executable).with_name("synthprint")), "membership", "--train",
                   str(t / "train"), "--test", str(t / "test"), "--out",
                   str(t / f"out-{method}"), "--method", method, "-q"]
            start = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            walls[method] = time.perf_counter() - start
            print(f"{method}: {walls[method]:.0f} s", file=sys.stderr, flush=True)
    print(f"\n`python bench/membership_scale.py --method {args.method}` "
          f"({os.cpu_count()} cores)\n")
    print("| method | generated | labelled real | unknown real | wall s |")
    print("|---|---|---|---|---|")
    for method, wall in walls.items():
        print(f"| {method} | 7000 | 200 | 500 | {wall:.0f} |")
    out = _args.out_dir()
    (out / "membership_scale.json").write_text(json.dumps(
        [{"method": m, "wall_s": w} for m, w in walls.items()], indent=1))


if __name__ == "__main__":
    main()
