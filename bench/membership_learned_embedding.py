"""Candidate study: do embeddings learned on the generated images carry membership signal?

Issue #5 lists "a learned embedding trained on the generated images themselves
(self-supervised, on CPU, minutes not hours)" as an idea worth testing. This script tests two
such embeddings, each trained from scratch on every generated image of a benchmark (train and
test split; no label, no real image), at 64 px (the benchmarks' generators work at 64 px):

* ``contrastive``: a 4-layer CNN trained with a SimCLR loss (NT-Xent, temperature 0.2) to
  match two augmented views of a generated image (shift up to 1/16 of the side with reflect
  padding, intensity gain and offset, Gaussian noise). Scores of a real image: cosine
  similarity to its closest generated image (``nn``), mean of the 5 closest (``top5``), and
  ``nn`` minus its similarity to the closest other real image (``calibrated``).
* ``autoencoder``: a convolutional autoencoder (3 stride-2 convolutions, a ``zdim`` bottleneck,
  the mirror decoder) trained with MSE. Score: minus the real image's reconstruction error
  (an image from the generator's training set should lie closer to what it learned).

Reported: ROC AUC with a 95% stratified-bootstrap interval on the labelled train images (the
numbers a method choice may use) and, for the record, on the test images against truth/.
Needs the torch extra (``pip install -e .[torch]``). Deterministic for a seed on one machine.

Usage: python bench/membership_learned_embedding.py [--bench ../shared/bench]
       [--datasets st1-memorize,st1-diffusion,st1-gan] [--epochs-contrastive 30]
       [--epochs-ae 60]
       [--zdim 32] [--seed 0]
"""

from __future__ import annotations

import _args
import json
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from synthprint.evaluation import binary_metrics
from synthprint.io import Role, load_benchmark, membership_data

RES = 64


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """(n, H, W) uint8 -> (n, 1, RES, RES) float32 in [0, 1] (area downsampling)."""
    t = torch.from_numpy(images.astype(np.float32) / 255.0)[:, None]
    return F.interpolate(t, size=(RES, RES), mode="area")


def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    n, pad = len(x), RES // 16
    xp = F.pad(x, (pad, pad, pad, pad), mode="reflect")
    i, j = torch.randint(0, 2 * pad + 1, (2, n), generator=gen)
    out = torch.stack([xp[k, :, i[k]:i[k] + RES, j[k]:j[k] + RES] for k in range(n)])
    gain = 1 + 0.1 * torch.randn(n, 1, 1, 1, generator=gen)
    offset = 0.05 * torch.randn(n, 1, 1, 1, generator=gen)
    return out * gain + offset + 0.02 * torch.randn(out.shape, generator=gen)


def contrastive_scores(G, reals, epochs: int, seed: int) -> list[dict[str, np.ndarray]]:
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    w = 32

    def block(i, o, pool=True):
        layers = [nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU()]
        return layers + [nn.MaxPool2d(2)] if pool else layers

    encoder = nn.Sequential(*block(1, w), *block(w, 2 * w), *block(2 * w, 4 * w),
                            *block(4 * w, 4 * w, pool=False), nn.AdaptiveAvgPool2d(1),
                            nn.Flatten())
    head = nn.Sequential(nn.Linear(4 * w, 128), nn.ReLU(), nn.Linear(128, 64))
    opt = torch.optim.Adam([*encoder.parameters(), *head.parameters()], lr=1e-3)
    batch = min(128, len(G))
    for _ in range(epochs):
        perm = torch.randperm(len(G), generator=gen)
        for s in range(0, len(G) - batch + 1, batch):
            x = G[perm[s:s + batch]]
            z = F.normalize(torch.cat([head(encoder(augment(x, gen))),
                                       head(encoder(augment(x, gen)))]), dim=1)
            sim = (z @ z.T / 0.2).fill_diagonal_(-1e9)
            target = torch.cat([torch.arange(batch) + batch, torch.arange(batch)])
            loss = F.cross_entropy(sim, target)
            opt.zero_grad()
            loss.backward()
            opt.step()
    encoder.eval()
    with torch.no_grad():
        def embed(X):
            return F.normalize(torch.cat([encoder(X[i:i + 256])
                                          for i in range(0, len(X), 256)]), dim=1).numpy()
        eG = embed(G)
        eR = [embed(X) for X in reals]
    pool = np.concatenate(eR)
    out = []
    for e in eR:
        s = e @ eG.T
        rr = e @ pool.T
        rr[rr > 1 - 1e-5] = -1.0          # the image itself
        out.append({"nn": s.max(1), "top5": np.sort(s, 1)[:, -5:].mean(1),
                    "calibrated": s.max(1) - rr.max(1)})
    return out


def autoencoder_scores(G, reals, epochs: int, zdim: int, seed: int) -> list[dict]:
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    w = 32
    encoder = nn.Sequential(nn.Conv2d(1, w, 4, 2, 1), nn.ReLU(), nn.Conv2d(w, 2 * w, 4, 2, 1),
                            nn.ReLU(), nn.Conv2d(2 * w, 4 * w, 4, 2, 1), nn.ReLU(), nn.Flatten(),
                            nn.Linear(4 * w * 64, zdim))
    decoder = nn.Sequential(nn.Linear(zdim, 4 * w * 64), nn.Unflatten(1, (4 * w, 8, 8)),
                            nn.ReLU(), nn.ConvTranspose2d(4 * w, 2 * w, 4, 2, 1), nn.ReLU(),
                            nn.ConvTranspose2d(2 * w, w, 4, 2, 1), nn.ReLU(),
                            nn.ConvTranspose2d(w, 1, 4, 2, 1))
    opt = torch.optim.Adam([*encoder.parameters(), *decoder.parameters()], lr=1e-3)
    for _ in range(epochs):
        perm = torch.randperm(len(G), generator=gen)
        for s in range(0, len(G), 64):
            x = G[perm[s:s + 64]]
            loss = F.mse_loss(decoder(encoder(x)), x)
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        return [{"recon": -((decoder(encoder(X)) - X) ** 2).mean((1, 2, 3)).numpy()}
                for X in reals]


def auc_text(y, s, seed):
    m = binary_metrics(y, scores=s, n_boot=1000, seed=seed)["roc_auc"]
    return f"{m.value:.3f} [{m.low:.2f}, {m.high:.2f}]", m.value


def main() -> None:
    ap = _args.parser(__doc__.splitlines()[0], datasets=True)
    ap.add_argument("--epochs-contrastive", type=int, default=30)
    ap.add_argument("--epochs-ae", type=int, default=60)
    ap.add_argument("--zdim", type=int, default=32)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(2)
    rows = []
    for ds in args.datasets.split(","):
        b = load_benchmark(args.bench / ds, quiet=True)
        d = membership_data(b.train, b.test)
        y_test = b.test_labels(Role.REAL_UNKNOWN)
        G, reals = to_tensor(d.generated), [to_tensor(d.real), to_tensor(d.test_real)]
        for embedding, fn in (
                ("contrastive", lambda: contrastive_scores(G, reals, args.epochs_contrastive,
                                                           args.seed)),
                ("autoencoder", lambda: autoencoder_scores(G, reals, args.epochs_ae,
                                                           args.zdim, args.seed))):
            t0 = time.perf_counter()
            train, test = fn()
            wall = time.perf_counter() - t0
            for score in train:
                tr_text, tr = auc_text(d.labels, train[score], args.seed)
                te_text, te = auc_text(y_test, test[score], args.seed)
                rows.append({"dataset": ds, "embedding": embedding, "score": score,
                             "train_auc": tr, "test_auc": te, "train": tr_text,
                             "test": te_text, "wall_s": round(wall)})
                print(f"{ds} {embedding} {score}: train {tr_text} test {te_text} "
                      f"({wall:.0f} s)", file=sys.stderr, flush=True)
    print(f"{_args.command_line()}\n")
    print(_args.markdown_table(
        ["dataset", "embedding", "score", "train AUC [95% CI]", "test AUC [95% CI]", "wall s"],
        [[r["dataset"], r["embedding"], r["score"], r["train"], r["test"], str(r["wall_s"])]
         for r in rows]))
    out = _args.out_dir()
    (out / "membership_learned_embedding.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
