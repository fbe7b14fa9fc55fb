"""Build a subtask-1 proxy benchmark: a fresh generator trained on CPU on real images of a
shared benchmark, in the st1-* layout, with truth.

The shared benchmarks are judged against others "built the same way but with other seeds,
patients and generator settings". This script makes such look-alikes from the real images we
have, so that a method can be checked on generators it was never developed on:

1. the real pool: every real image of ``--source`` (its labelled and unknown real images;
   one slice per patient there, so the patients of "used" and "not used" never overlap);
2. a seeded split into ``--n-used`` used and as many not-used images, of which
   ``--labelled`` per class go to ``train/`` and the rest to ``test/real_unknown/``;
3. a generator trained on the used images at 64 px (4 x 4 block means of the 256 px
   slices, scaled to [-1, 1]): a DDPM-style diffusion UNet sampled with DDIM
   (``--kind diffusion``), or a DCGAN-style hinge GAN with a spectral-norm discriminator
   (``--kind gan``), as the shared benchmarks' README describes theirs;
4. its samples, bilinearly upsampled to 256 px and rounded to 8-bit PNGs, split into
   ``train/generated/`` and ``test/generated/``.

Writes ``OUT/train``, ``OUT/test``, ``OUT/truth/real_unknown.csv`` and ``OUT/meta.json``
(the settings, the split, the loss curve and the wall times). Needs torch (the ``torch``
extra). Deterministic for a seed on one machine (torch CPU kernels, 2 threads).

Usage: python bench/make_proxy_benchmark.py --source ../shared/bench/st1-gan \\
           --kind diffusion --n-used 160 --labelled 80 --steps 3000 --seed 7 \\
           --out /tmp/proxies/px-diffusion
(``bash bench/proxies.sh DIR`` builds the five proxies of bench/RESULTS.md and runs the
membership benchmark on them.)
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn
from torch.nn.utils import spectral_norm

REAL_FOLDERS = ("train/real_used", "train/real_not_used", "test/real_unknown")


# ---------------------------------------------------------------------------------- data

def real_pool(source: Path) -> list[Path]:
    """Every real PNG of the st1-* benchmark ``source``, sorted."""
    files = [f for sub in REAL_FOLDERS for f in sorted((source / sub).glob("*.png"))]
    if not files:
        raise SystemExit(f"no real images under {source}: expected {', '.join(REAL_FOLDERS)}")
    return files


def to_64px(path: Path) -> np.ndarray:
    """(64, 64) float32 in [-1, 1]: 4 x 4 block means of the 256 px grayscale slice."""
    img = np.asarray(Image.open(path).convert("L"), dtype=np.float32)
    if img.shape != (256, 256):
        raise SystemExit(f"{path}: expected 256 x 256 pixels, got {img.shape}")
    return img.reshape(64, 4, 64, 4).mean(axis=(1, 3)) / 127.5 - 1.0


def to_png_256(x: torch.Tensor) -> list[Image.Image]:
    """(N, 1, 64, 64) in about [-1, 1] to N 256 px 8-bit grayscale images (bilinear)."""
    up = F.interpolate(x.clamp(-1, 1), size=(256, 256), mode="bilinear", align_corners=False)
    arr = ((up[:, 0].numpy() + 1.0) * 127.5).round().clip(0, 255).astype(np.uint8)
    return [Image.fromarray(a, mode="L") for a in arr]


# ------------------------------------------------------------------------- diffusion UNet

def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1)


class ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int, tdim: int):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(8, cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.time = nn.Linear(tdim, cout)
        self.norm2, self.conv2 = nn.GroupNorm(8, cout), nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x))) + self.time(temb)[:, :, None, None]
        return self.skip(x) + self.conv2(F.silu(self.norm2(h)))


class Attention(nn.Module):
    def __init__(self, ch: int):
        super().__init__()
        self.norm, self.qkv, self.proj = nn.GroupNorm(8, ch), nn.Conv2d(ch, 3 * ch, 1), \
            nn.Conv2d(ch, ch, 1)

    def forward(self, x, temb=None):
        b, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3, c, h * w).unbind(1)
        a = torch.softmax(q.transpose(1, 2) @ k / math.sqrt(c), dim=-1)   # (b, hw, hw)
        return x + self.proj((v @ a.transpose(1, 2)).reshape(b, c, h, w))


class UNet(nn.Module):
    """Epsilon-prediction UNet on 64 px images, run on 2 x 2 patches (32 px, 4 channels):
    levels of ``base * mults`` channels, self-attention at ``attn_res`` px."""

    def __init__(self, base: int = 16, mults=(1, 2, 4), attn_res: int = 8, patch: int = 2):
        super().__init__()
        self.patch, tdim = patch, base * 4
        self.temb = nn.Sequential(nn.Linear(base, tdim), nn.SiLU(), nn.Linear(tdim, tdim))
        self.base = base
        cin = patch * patch
        self.inp = nn.Conv2d(cin, base, 3, padding=1)
        chans, res = [base], 64 // patch
        self.down = nn.ModuleList()
        ch = base
        for i, m in enumerate(mults):
            layers = [ResBlock(ch, base * m, tdim)]
            ch = base * m
            if res == attn_res:
                layers.append(Attention(ch))
            self.down.append(nn.ModuleList(layers))
            chans.append(ch)
            if i < len(mults) - 1:
                self.down.append(nn.ModuleList([nn.Conv2d(ch, ch, 3, stride=2, padding=1)]))
                chans.append(ch)
                res //= 2
        self.mid = nn.ModuleList([ResBlock(ch, ch, tdim), Attention(ch), ResBlock(ch, ch, tdim)])
        self.up = nn.ModuleList()
        for i, m in reversed(list(enumerate(mults))):
            for _ in range(2):
                layers = [ResBlock(ch + chans.pop(), base * m, tdim)]
                ch = base * m
                if res == attn_res:
                    layers.append(Attention(ch))
                self.up.append(nn.ModuleList(layers))
            if i > 0:
                self.up.append(nn.ModuleList([nn.Upsample(scale_factor=2, mode="nearest"),
                                              nn.Conv2d(ch, ch, 3, padding=1)]))
                res *= 2
        self.out = nn.Sequential(nn.GroupNorm(8, base), nn.SiLU(), nn.Conv2d(base, cin, 3,
                                                                              padding=1))

    @staticmethod
    def _run(layers, h, temb):
        for layer in layers:
            h = layer(h, temb) if isinstance(layer, (ResBlock, Attention)) else layer(h)
        return h

    def forward(self, x, t):
        temb = self.temb(timestep_embedding(t, self.base))
        h = self.inp(F.pixel_unshuffle(x, self.patch))
        skips = [h]
        for layers in self.down:
            h = self._run(layers, h, temb)
            skips.append(h)
        h = self._run(self.mid, h, temb)
        for layers in self.up:
            if isinstance(layers[0], ResBlock):
                h = torch.cat([h, skips.pop()], dim=1)
            h = self._run(layers, h, temb)
        return F.pixel_shuffle(self.out(h), self.patch)


def cosine_alpha_bar(n_steps: int) -> torch.Tensor:
    """(n_steps,) cumulative signal shares of the cosine noise schedule."""
    s = torch.arange(n_steps + 1, dtype=torch.float64) / n_steps
    f = torch.cos((s + 0.008) / 1.008 * math.pi / 2) ** 2
    return (f[1:] / f[0]).clamp(1e-5, 0.9999).float()


def train_diffusion(x: torch.Tensor, steps: int, batch: int, lr: float, base: int,
                    gen: torch.Generator, progress) -> tuple[nn.Module, list[float]]:
    model, T = UNet(base), 1000
    ema = UNet(base)
    ema.load_state_dict(model.state_dict())
    abar = cosine_alpha_bar(T)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    losses = []
    for step in range(steps):
        idx = torch.randint(len(x), (batch,), generator=gen)
        x0 = x[idx]
        t = torch.randint(T, (batch,), generator=gen)
        eps = torch.randn(x0.shape, generator=gen)
        a = abar[t][:, None, None, None]
        loss = F.mse_loss(model(a.sqrt() * x0 + (1 - a).sqrt() * eps, t), eps)
        for g in opt.param_groups:
            g["lr"] = lr * min(1.0, (step + 1) / 100)
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(0.995).add_(pm, alpha=0.005)
        losses.append(loss.item())
        progress(step)
    return ema, losses


@torch.no_grad()
def sample_diffusion(model: nn.Module, n: int, ddim_steps: int, gen: torch.Generator,
                     batch: int = 50) -> torch.Tensor:
    """(n, 1, 64, 64) DDIM (eta 0) samples."""
    model.eval()
    T = 1000
    abar = cosine_alpha_bar(T)
    ts = torch.linspace(T - 1, 0, ddim_steps).round().long()
    out = []
    for start in range(0, n, batch):
        x = torch.randn((min(batch, n - start), 1, 64, 64), generator=gen)
        for i, t in enumerate(ts):
            a = abar[t]
            a_prev = abar[ts[i + 1]] if i + 1 < len(ts) else torch.tensor(1.0)
            eps = model(x, t.repeat(len(x)))
            x0 = ((x - (1 - a).sqrt() * eps) / a.sqrt()).clamp(-1, 1)
            x = a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps
        out.append(x)
    return torch.cat(out)


# ---------------------------------------------------------------------------------- GAN

class Generator(nn.Module):
    """DCGAN-style: z -> 4 px -> ... -> 32 px of 2 x 2 patches (64 px), BatchNorm."""

    def __init__(self, zdim: int = 128, base: int = 32, patch: int = 2):
        super().__init__()
        self.fc = nn.Linear(zdim, base * 8 * 16)
        self.base = base
        blocks, ch = [], base * 8
        for cout in (base * 4, base * 2, base):          # 4 -> 8 -> 16 -> 32 px
            blocks += [nn.Upsample(scale_factor=2), nn.Conv2d(ch, cout, 3, padding=1),
                       nn.BatchNorm2d(cout), nn.ReLU()]
            ch = cout
        blocks += [nn.Conv2d(ch, patch * patch, 3, padding=1)]
        self.net, self.patch = nn.Sequential(*blocks), patch
        self.bn0 = nn.BatchNorm2d(base * 8)

    def forward(self, z):
        h = F.relu(self.bn0(self.fc(z).reshape(len(z), self.base * 8, 4, 4)))
        return torch.tanh(F.pixel_shuffle(self.net(h), self.patch))


class Discriminator(nn.Module):
    def __init__(self, base: int = 32, patch: int = 2):
        super().__init__()
        layers, ch = [], patch * patch
        for cout in (base, base * 2, base * 4, base * 8):    # 32 -> 16 -> 8 -> 4 -> 2 px
            layers += [spectral_norm(nn.Conv2d(ch, cout, 4, stride=2, padding=1)),
                       nn.LeakyReLU(0.2)]
            ch = cout
        self.net, self.patch = nn.Sequential(*layers), patch
        self.fc = spectral_norm(nn.Linear(ch * 4, 1))

    def forward(self, x):
        return self.fc(self.net(F.pixel_unshuffle(x, self.patch)).flatten(1)).squeeze(1)


def train_gan(x: torch.Tensor, steps: int, batch: int, lr: float, base: int,
              gen: torch.Generator, progress, models: tuple[nn.Module, nn.Module] | None = None
              ) -> tuple[nn.Module, list[float]]:
    """Train a new (generator, discriminator) pair, or go on training ``models`` in place
    (fine-tuning); returns the generator and the generator's loss at each step."""
    G, D = models or (Generator(base=base), Discriminator(base=base))
    opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    losses = []
    for step in range(steps):
        real = x[torch.randint(len(x), (batch,), generator=gen)]
        fake = G(torch.randn((batch, 128), generator=gen))
        loss_d = F.relu(1 - D(real)).mean() + F.relu(1 + D(fake.detach())).mean()
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = -D(fake).mean()
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        losses.append(loss_g.item())
        progress(step)
    return G, losses


@torch.no_grad()
def sample_gan(G: nn.Module, n: int, gen: torch.Generator, batch: int = 50) -> torch.Tensor:
    """(n, 1, 64, 64) samples, BatchNorm on batch statistics as in training."""
    return torch.cat([G(torch.randn((min(batch, n - s), 128), generator=gen))
                      for s in range(0, n, batch)])


def step_printer(steps: int, label: str = ""):
    """A progress callback for the training loops: prints the step every 30 s and at the
    end."""
    t0, last = time.perf_counter(), [0.0]

    def progress(step: int) -> None:
        now = time.perf_counter() - t0
        if now - last[0] > 30 or step == steps - 1:
            last[0] = now
            print(f"{label}step {step + 1}/{steps}  {now:.0f} s", flush=True)

    return progress


# ------------------------------------------------------------------------------- layout

def write_layout(out: Path, used: list[Path], not_used: list[Path], labelled: int,
                 generated: list[Image.Image], n_gen_train: int, seed: int) -> dict:
    """Write train/, test/ and truth/ under ``out``; return the counts."""
    rng = np.random.default_rng(seed + 1)
    for sub in ("train/generated", "train/real_used", "train/real_not_used",
                "test/generated", "test/real_unknown", "truth"):
        (out / sub).mkdir(parents=True)
    for i, f in enumerate(used[:labelled]):
        shutil.copyfile(f, out / "train/real_used" / f"real_used_{i + 1:04d}.png")
    for i, f in enumerate(not_used[:labelled]):
        shutil.copyfile(f, out / "train/real_not_used" / f"real_not_used_{i + 1:04d}.png")
    unknown = [(f, 1) for f in used[labelled:]] + [(f, 0) for f in not_used[labelled:]]
    unknown = [unknown[i] for i in rng.permutation(len(unknown))]
    truth = []
    for i, (f, label) in enumerate(unknown):
        name = f"real_unknown_{i + 1:04d}.png"
        shutil.copyfile(f, out / "test/real_unknown" / name)
        truth.append(f"{name},{label}")
    (out / "truth/real_unknown.csv").write_text("\n".join(truth) + "\n")
    for i, img in enumerate(generated):
        split, j = ("train", i) if i < n_gen_train else ("test", i - n_gen_train)
        img.save(out / split / "generated" / f"generated_{j + 1:04d}.png", optimize=False)
    return {"train_generated": n_gen_train,
            "train_real_used": labelled, "train_real_not_used": labelled,
            "test_generated": len(generated) - n_gen_train,
            "test_real_unknown": len(unknown),
            "test_used": len(used) - labelled, "test_not_used": len(not_used) - labelled}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", type=Path, required=True,
                    help="an st1-* benchmark whose real images make the pool")
    ap.add_argument("--kind", choices=("diffusion", "gan"), required=True)
    ap.add_argument("--n-used", type=int, required=True, help="training images (per class)")
    ap.add_argument("--labelled", type=int, required=True, help="labelled per class")
    ap.add_argument("--steps", type=int, required=True, help="training steps")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=None,
                    help="default 6e-4 (diffusion), 2e-4 (GAN)")
    ap.add_argument("--base", type=int, default=None,
                    help="channels of the first level: default 16 (diffusion), 32 (GAN)")
    ap.add_argument("--n-generated", type=int, nargs=2, default=(250, 300),
                    metavar=("TRAIN", "TEST"))
    ap.add_argument("--ddim-steps", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    if a.out.exists():
        raise SystemExit(f"{a.out} exists: choose a new --out (nothing is overwritten)")
    torch.manual_seed(a.seed)
    torch.set_num_threads(2)

    pool = real_pool(a.source)
    if 2 * a.n_used > len(pool) or a.labelled >= a.n_used:
        raise SystemExit(f"{a.source} has {len(pool)} real images: need 2 x --n-used "
                         f"({2 * a.n_used}) and --labelled below --n-used")
    order = np.random.default_rng(a.seed).permutation(len(pool))
    used = [pool[i] for i in order[:a.n_used]]
    not_used = [pool[i] for i in order[a.n_used:2 * a.n_used]]
    x = torch.from_numpy(np.stack([to_64px(f) for f in used]))[:, None]

    gen = torch.Generator().manual_seed(a.seed)
    t0 = time.perf_counter()
    progress = step_printer(a.steps)
    lr = a.lr or (6e-4 if a.kind == "diffusion" else 2e-4)
    train = train_diffusion if a.kind == "diffusion" else train_gan
    base = a.base or (16 if a.kind == "diffusion" else 32)
    model, losses = train(x, a.steps, a.batch, lr, base, gen, progress)
    train_s = time.perf_counter() - t0
    n_gen = sum(a.n_generated)
    t1 = time.perf_counter()
    sample_gen = torch.Generator().manual_seed(a.seed + 1000)
    samples = (sample_diffusion(model, n_gen, a.ddim_steps, sample_gen) if a.kind == "diffusion"
               else sample_gan(model, n_gen, sample_gen))
    sample_s = time.perf_counter() - t1

    tmp = a.out.with_name(f".{a.out.name}.tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    counts = write_layout(tmp, used, not_used, a.labelled, to_png_256(samples),
                          a.n_generated[0], a.seed)
    every = max(1, len(losses) // 10)
    meta = {"dataset": a.out.name, "benchmark": "proxy (bench/make_proxy_benchmark.py)",
            "source": str(a.source.resolve()), "generator_type": a.kind, "training_set_size": a.n_used,
            "training_steps": a.steps, "batch_size": a.batch, "learning_rate": lr,
            "base_channels": base,
            "seed": a.seed, "ddim_steps": a.ddim_steps if a.kind == "diffusion" else None,
            "params": sum(p.numel() for p in model.parameters()),
            "training_wall_s": round(train_s, 1), "sampling_wall_s": round(sample_s, 1),
            "loss_every_tenth": [round(float(np.mean(losses[i:i + every])), 4)
                                 for i in range(0, len(losses), every)],
            "counts": counts,
            "used": [str(f.resolve()) for f in used],
            "not_used": [str(f.resolve()) for f in not_used]}
    (tmp / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    tmp.rename(a.out)
    print(f"wrote {a.out}: trained {train_s:.0f} s, sampled {sample_s:.0f} s, "
          f"params {meta['params']}")


if __name__ == "__main__":
    main()
