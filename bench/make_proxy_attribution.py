"""Build a subtask-2 proxy benchmark: one GAN pretrained on a pool of real images, a copy
fine-tuned on each of the five real subsets of a shared st2-* benchmark, in the st2 layout
with truth.

As the shared st2-subsets README describes its own (whose code we do not have): the pool is
every real image of an st1-* benchmark (``--pool``; other phantom patients than the
subsets'), the subsets are ``--source``'s ``train/real/t1..t5`` (their mild biases: dose,
patient size, TB prevalence), and every generator works at 64 px (4 x 4 block means) and is
upsampled bilinearly to 256 px. The generator and training loop are those of
``make_proxy_benchmark.py`` (DCGAN-style hinge GAN, spectral-norm discriminator).

Writes ``OUT/train/real/t1..t5`` (the fine-tuning images, copied), ``OUT/train/generated/
t1..t5``, ``OUT/test/generated_unknown`` (shuffled), ``OUT/truth/generated_unknown.csv``
(``gen_unknown_0001.png,3``, no header) and ``OUT/meta.json``. Name ``OUT`` ``st2-...`` for
``bench/attribution.py --bench`` to find it. Needs torch (the ``torch`` extra).

Usage: python bench/make_proxy_attribution.py --source ../shared/bench/st2-subsets \\
           --pool ../shared/bench/st1-gan --seed 21 --out /tmp/proxies-st2/st2-px-subsets
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np
import torch

from make_proxy_benchmark import (
    Discriminator,
    Generator,
    real_pool,
    sample_gan,
    step_printer,
    to_64px,
    to_png_256,
    train_gan,
)

SUBSETS = ("t1", "t2", "t3", "t4", "t5")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", type=Path, required=True,
                    help="an st2-* benchmark whose train/real/t1..t5 are the subsets")
    ap.add_argument("--pool", type=Path, required=True,
                    help="an st1-* benchmark whose real images pretrain the GAN")
    ap.add_argument("--pretrain-steps", type=int, default=600)
    ap.add_argument("--finetune-steps", type=int, default=300)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--n-generated", type=int, nargs=2, default=(80, 80),
                    metavar=("TRAIN", "TEST"), help="per subset")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    if a.out.exists():
        raise SystemExit(f"{a.out} exists: choose a new --out (nothing is overwritten)")
    subsets = {t: sorted((a.source / "train" / "real" / t).glob("*.png")) for t in SUBSETS}
    if not all(subsets.values()):
        raise SystemExit(f"{a.source}: expected real images in train/real/t1..t5")
    torch.manual_seed(a.seed)
    torch.set_num_threads(2)
    gen = torch.Generator().manual_seed(a.seed)

    pool = torch.from_numpy(np.stack([to_64px(f) for f in real_pool(a.pool)]))[:, None]
    t0 = time.perf_counter()
    G, D = Generator(), Discriminator()
    train_gan(pool, a.pretrain_steps, a.batch, a.lr, 32, gen,
              step_printer(a.pretrain_steps, "pretrain "), models=(G, D))
    wall = {"pretrain": round(time.perf_counter() - t0, 1)}

    tmp = a.out.with_name(f".{a.out.name}.tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    n_train, n_test = a.n_generated
    unknown = []
    for k, t in enumerate(SUBSETS, start=1):
        x = torch.from_numpy(np.stack([to_64px(f) for f in subsets[t]]))[:, None]
        t1 = time.perf_counter()
        G_t, D_t = Generator(), Discriminator()   # copies (spectral norm defeats deepcopy)
        G_t.load_state_dict(G.state_dict())
        D_t.load_state_dict(D.state_dict())
        train_gan(x, a.finetune_steps, a.batch, a.lr, 32, gen,
                  step_printer(a.finetune_steps, f"{t} "), models=(G_t, D_t))
        wall[t] = round(time.perf_counter() - t1, 1)
        images = to_png_256(sample_gan(G_t, n_train + n_test,
                                       torch.Generator().manual_seed(a.seed + 1000 + k)))
        for sub in ("real", "generated"):
            (tmp / "train" / sub / t).mkdir(parents=True)
        for i, f in enumerate(subsets[t]):
            shutil.copyfile(f, tmp / "train" / "real" / t / f"real_{t}_{i + 1:04d}.png")
        for i, img in enumerate(images[:n_train]):
            img.save(tmp / "train" / "generated" / t / f"gen_{t}_{i + 1:04d}.png")
        unknown += [(img, k) for img in images[n_train:]]

    order = np.random.default_rng(a.seed + 1).permutation(len(unknown))
    (tmp / "test" / "generated_unknown").mkdir(parents=True)
    (tmp / "truth").mkdir()
    truth = []
    for i, j in enumerate(order):
        img, k = unknown[j]
        name = f"gen_unknown_{i + 1:04d}.png"
        img.save(tmp / "test" / "generated_unknown" / name)
        truth.append(f"{name},{k}")
    (tmp / "truth" / "generated_unknown.csv").write_text("\n".join(truth) + "\n")
    meta = {"dataset": a.out.name, "benchmark": "proxy (bench/make_proxy_attribution.py)",
            "source": str(a.source.resolve()), "pool": str(a.pool.resolve()),
            "pool_size": len(pool),
            "pretrain_steps": a.pretrain_steps, "finetune_steps": a.finetune_steps,
            "batch_size": a.batch, "learning_rate": a.lr, "seed": a.seed,
            "training_wall_s": wall,
            "counts": {"train_real_per_subset": {t: len(subsets[t]) for t in SUBSETS},
                       "train_generated_per_subset": n_train,
                       "test_generated_unknown": len(unknown)}}
    (tmp / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    tmp.rename(a.out)
    print(f"wrote {a.out}: {wall}")


if __name__ == "__main__":
    main()
