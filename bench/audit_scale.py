"""Benchmark: wall time of ``synthprint audit`` on a release-sized synthetic set.

Builds temporary folders of hard links to benchmark images: 500 training and 500 holdout real
images (all distinct) and 5,000 synthetic images (the benchmarks' generated images, repeated,
which costs the same to compare). Runs the command end to end with the default attacks
(2 x 5-fold CV, copy search, risk table) and reports the wall time.

Usage: python bench/audit_scale.py [--bench ../shared/bench] [--attacks default]
"""

from __future__ import annotations

import _args
import json
import subprocess
import os
import tempfile
import time
from pathlib import Path

N_TRAIN, N_HOLDOUT, N_SYNTHETIC = 500, 500, 5000


def main() -> None:
    ap = _args.parser(__doc__.splitlines()[0])
    ap.add_argument("--attacks", default="default")
    args = ap.parse_args()
    gen, real = _args.scale_images(args.bench)
    if len(real) < N_TRAIN + N_HOLDOUT:
        raise SystemExit(f"need {N_TRAIN + N_HOLDOUT} distinct real images, found {len(real)}")
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        _args.link_images(real[:N_TRAIN], t / "train", "train_", N_TRAIN)
        _args.link_images(real[N_TRAIN:N_TRAIN + N_HOLDOUT], t / "holdout", "holdout_", N_HOLDOUT)
        _args.link_images(gen, t / "synthetic", "synthetic_", N_SYNTHETIC)
        cmd = [*_args.synthprint_command(), "audit", "--train", str(t / "train"), "--holdout", str(t / "holdout"), "--synthetic",
               str(t / "synthetic"), "--out", str(t / "out"), "--attacks", args.attacks, "-q"]
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - start
    print(f"\n{_args.command_line()} ({os.cpu_count()} cores)\n")
    print(_args.markdown_table(["attacks", "training", "holdout", "synthetic", "wall s"],
                               [[args.attacks, str(N_TRAIN), str(N_HOLDOUT), str(N_SYNTHETIC),
                                 f"{wall:.0f}"]]))
    out = _args.out_dir()
    (out / "audit_scale.json").write_text(json.dumps(
        {"attacks": args.attacks, "train": N_TRAIN, "holdout": N_HOLDOUT,
         "synthetic": N_SYNTHETIC, "wall_s": wall}, indent=1))


if __name__ == "__main__":
    main()
