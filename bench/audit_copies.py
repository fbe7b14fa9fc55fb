"""Benchmark: which planted copies of training images the audit's copy checks flag.

For each st1-* dataset, the train split's real_used images are the training set and its
real_not_used images the holdout (the yardsticks are measured on both, as ``synthprint
audit`` measures them). Copies of the first N training images are planted after one
transformation each (a shift of 2, 4 or 6 px, a left-right mirror, a mirror shifted 2 px,
Gaussian noise of sd 12 gray levels, and the image itself), and the table counts how many
the pixel check flags and how many either check (pixel or tolerant) flags. A last row
counts the dataset's own generated images (up to 300) that each check flags: on the weakly
memorising generators that is the false-flag count, since their samples copy nothing.

Usage: python bench/audit_copies.py [--bench ../shared/bench] [--datasets ...] [--n 20]
"""

from __future__ import annotations

import _args
import json
import os
import time

import numpy as np

TRANSFORMS = {
    "exact": lambda x, rng: x,
    "shift 2 px": lambda x, rng: np.roll(x, 2, axis=1),
    "shift 4 px": lambda x, rng: np.roll(x, 4, axis=1),
    "shift 6 px": lambda x, rng: np.roll(x, 6, axis=1),
    "mirror": lambda x, rng: x[:, ::-1],
    "mirror + shift 2 px": lambda x, rng: np.roll(x[:, ::-1], 2, axis=0),
    "noise sd 12": lambda x, rng: np.clip(x + rng.normal(0, 12, x.shape), 0, 255
                                          ).astype(np.uint8),
}


def main() -> None:
    from synthprint.audit.copies import TOLERANT_LEVEL, find_copies, real_yardstick
    from synthprint.io import Role, load_benchmark

    ap = _args.parser(__doc__.splitlines()[0], datasets=True)
    ap.add_argument("--n", type=int, default=20, help="training images copied per transform")
    args = ap.parse_args()
    rows, results = [], []
    for name in args.datasets.split(","):
        start = time.perf_counter()
        split = load_benchmark(args.bench / name, quiet=True).train
        train = split.images[split.indices(Role.REAL_USED)]
        holdout = split.images[split.indices(Role.REAL_NOT_USED)]
        generated = split.images[split.indices(Role.GENERATED)][:300]
        real = np.concatenate([train, holdout])
        pixel_yard = real_yardstick(real, quiet=True)
        tolerant_yard = real_yardstick(real, level=TOLERANT_LEVEL, mirrored=True, quiet=True)
        rng = np.random.default_rng(0)
        n = min(args.n, len(train))
        cases = {t: np.stack([f(img, rng) for img in train[:n]]) for t, f in TRANSFORMS.items()}
        cases["own generated images (no plant)"] = generated
        for case, images in cases.items():
            pixel = find_copies(images, train, pixel_yard, quiet=True).flagged
            tolerant = find_copies(images, train, tolerant_yard, quiet=True).flagged
            row = {"dataset": name, "case": case, "n": len(images),
                   "pixel": int(pixel.sum()), "either": int((pixel | tolerant).sum()),
                   "pixel_yardstick": pixel_yard.value, "tolerant_yardstick": tolerant_yard.value}
            results.append(row)
            rows.append([name, case, str(len(images)), str(row["pixel"]), str(row["either"])])
        print(f"{name}: {len(train)} training, {len(holdout)} holdout images; yardsticks "
              f"{pixel_yard.value:.3f} (256 px) and {tolerant_yard.value:.3f} (64 px, mirrors); "
              f"{time.perf_counter() - start:.0f} s", flush=True)
    print(f"\n{_args.command_line()} ({os.cpu_count()} cores)\n")
    print(_args.markdown_table(["dataset", "planted copies", "n", "flagged: pixel check",
                                "flagged: either check"], rows))
    (_args.out_dir() / "audit_copies.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
