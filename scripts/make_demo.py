"""Rebuild the bundled demo data (src/synthprint/demo_data) from the simulated benchmarks.

The benchmarks' images are CC0. The demo keeps the challenge layouts, renumbers files
consecutively, and stays under 15 MB:

* ``membership``: from ``st1-memorize`` (strong memorisation, so the demo shows a signal):
  train 100 generated + 10 used + 10 not used; test 100 generated + 30 unknown (15 + 15).
* ``attribution``: from ``st2-subsets``: train 8 real + 20 generated per subset; test 50.

Usage: ``python scripts/make_demo.py [--bench ../shared/bench] [--force]``
"""

from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src" / "synthprint" / "demo_data"


def _pick(files: list[Path], n: int, rng: random.Random) -> list[Path]:
    return sorted(rng.sample(sorted(files), n))


def _copy(files: list[Path], dest: Path, prefix: str, width: int = 4) -> dict[str, str]:
    dest.mkdir(parents=True, exist_ok=True)
    renamed = {}
    for i, src in enumerate(files, start=1):
        name = f"{prefix}{i:0{width}d}.png"
        shutil.copyfile(src, dest / name)
        renamed[src.name] = name
    return renamed


def _truth(path: Path) -> dict[str, int]:
    return {n: int(v) for n, v in (line.split(",") for line in path.read_text().split())}


def build(bench: Path) -> None:
    rng = random.Random(2026)
    src = bench / "st1-memorize"
    dst = OUT / "membership"
    pngs = lambda d: list(d.glob("*.png"))  # noqa: E731
    _copy(_pick(pngs(src / "train/generated"), 100, rng), dst / "train/generated", "generated_")
    _copy(_pick(pngs(src / "train/real_used"), 10, rng), dst / "train/real_used", "real_used_")
    _copy(_pick(pngs(src / "train/real_not_used"), 10, rng), dst / "train/real_not_used",
          "real_not_used_")
    _copy(_pick(pngs(src / "test/generated"), 100, rng), dst / "test/generated", "generated_")
    truth = _truth(src / "truth/real_unknown.csv")
    used = [src / "test/real_unknown" / n for n, v in truth.items() if v == 1]
    not_used = [src / "test/real_unknown" / n for n, v in truth.items() if v == 0]
    chosen = _pick(used, 15, rng) + _pick(not_used, 15, rng)
    rng.shuffle(chosen)
    renamed = _copy(chosen, dst / "test/real_unknown", "real_unknown_")
    (dst / "truth").mkdir(parents=True, exist_ok=True)
    rows = sorted((new, truth[old]) for old, new in renamed.items())
    (dst / "truth/real_unknown.csv").write_text("".join(f"{n},{v}\n" for n, v in rows))

    src = bench / "st2-subsets"
    dst = OUT / "attribution"
    for k in range(1, 6):
        _copy(_pick(pngs(src / f"train/real/t{k}"), 8, rng), dst / f"train/real/t{k}",
              f"real_t{k}_")
        _copy(_pick(pngs(src / f"train/generated/t{k}"), 20, rng), dst / f"train/generated/t{k}",
              f"gen_t{k}_")
    truth = _truth(src / "truth/generated_unknown.csv")
    chosen = _pick([src / "test/generated_unknown" / n for n in truth], 50, rng)
    renamed = _copy(chosen, dst / "test/generated_unknown", "gen_unknown_", width=5)
    (dst / "truth").mkdir(parents=True, exist_ok=True)
    rows = sorted((new, truth[old]) for old, new in renamed.items())
    (dst / "truth/generated_unknown.csv").write_text("".join(f"{n},{v}\n" for n, v in rows))
    (OUT / "LICENSE").write_text(
        "The demo images are simulated CT-phantom slices and samples of small generators\n"
        "trained on them (synthprint's simulated benchmarks). Released as CC0 1.0.\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bench", type=Path, default=Path(__file__).resolve().parents[2] / "shared/bench")
    ap.add_argument("--force", action="store_true", help="replace an existing demo_data folder")
    args = ap.parse_args()
    if OUT.exists():
        if not args.force:
            raise SystemExit(f"{OUT} exists; pass --force to rebuild it")
        shutil.rmtree(OUT)
    build(args.bench)
    size = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"wrote {OUT} ({size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
