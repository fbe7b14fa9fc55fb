"""A compact CNN trained from scratch (PyTorch, CPU) to recognise each subset's generator.

PyTorch is imported only inside this module's functions, so the rest of synthprint works
without it (install the ``torch`` extra: ``pip install synthprint[torch]``).

Network: the image and its Gaussian noise residual (2 channels) -> a lossless 4x4
patchify stem (pixel-unshuffle, so no pixel is blurred or dropped) -> four 3x3
conv/BatchNorm/ReLU stages, the last three with stride 2 -> global average pooling ->
dropout -> linear layer over the subsets. A second linear head on the same features learns the
subset of the *real* training images (an auxiliary task, weight ``real_weight``), so the
trunk also sees what the subsets' data look like.

Training keeps fingerprints intact: the only augmentations offered are flips and small
integer shifts (reflect-padded, never interpolated), and they are off by default. A GAN's
fingerprint is largely a pattern fixed in image coordinates (see
:mod:`synthprint.attribution.residual`), which flips and shifts move: on the simulated
subtask 2 data the held-out log-loss after 24 epochs was 0.034 without them and 0.20 with
them. The epoch with the lowest log-loss on a held-out, stratified fold of the labelled
generated images is kept (early stopping). Same inputs and ``random_state`` give identical
weights: fixed seeds, deterministic algorithms, a fixed thread count.
"""

from __future__ import annotations

import contextlib
import copy

import numpy as np

from synthprint._progress import progress_task
from synthprint.attribution._base import AttributionEstimator, chunk_slices, log_loss
from synthprint.errors import SynthprintError


def import_torch():
    """Import torch, or raise a :class:`SynthprintError` saying how to install it."""
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise SynthprintError(
            "FingerprintCNN needs PyTorch, which is not installed: pip install "
            "'synthprint[torch]' (torch==2.13.0, CPU), or pick a method without it "
            "(synthprint attribute --method list)") from exc
    return torch


@contextlib.contextmanager
def torch_settings(n_threads: int):
    """Deterministic algorithms and ``n_threads`` intra-op threads, restored afterwards."""
    torch = import_torch()
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(max(1, int(n_threads)))
    torch.use_deterministic_algorithms(True)
    try:
        yield torch
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)


def _gaussian_kernel(sigma: float) -> np.ndarray:
    if not sigma > 0:
        raise ValueError(f"sigma (the residual's Gaussian width in pixels) must be > 0, "
                         f"got {sigma}")
    radius = max(1, int(np.ceil(3 * sigma)))
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    g = np.exp(-x * x / (2 * sigma * sigma))
    g /= g.sum()
    return np.outer(g, g).astype(np.float32)


def build_network(n_classes: int, widths: tuple[int, ...] = (16, 32, 64, 64),
                  patch: int = 4, sigma: float = 1.0, dropout: float = 0.3):
    """The :class:`torch.nn.Module` of :class:`FingerprintCNN`.

    ``forward(x, aux=False)``: x (B, 1, S, S) float32 in 0..1, S divisible by ``patch``
    -> (B, n_classes) logits (the auxiliary real-image head when ``aux``).
    """
    torch = import_torch()
    nn = torch.nn
    F = torch.nn.functional

    class FingerprintNet(nn.Module):
        def __init__(self):
            super().__init__()
            kernel = torch.from_numpy(_gaussian_kernel(sigma))[None, None]
            self.register_buffer("blur", kernel)
            self.patch = patch
            layers: list = []
            c_in = 2 * patch * patch
            for i, c_out in enumerate(widths):
                layers += [nn.Conv2d(c_in, c_out, 3, stride=1 if i == 0 else 2, padding=1,
                                     bias=False),
                           nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]
                c_in = c_out
            self.trunk = nn.Sequential(*layers)
            self.dropout = nn.Dropout(dropout)
            self.head = nn.Linear(c_in, n_classes)
            self.aux_head = nn.Linear(c_in, n_classes)

        def forward(self, x, aux: bool = False):
            pad = self.blur.shape[-1] // 2
            residual = x - F.conv2d(F.pad(x, (pad,) * 4, mode="reflect"), self.blur)
            h = torch.cat([x - 0.5, residual * 10.0], dim=1)
            if self.patch > 1:
                h = F.pixel_unshuffle(h, self.patch)
            h = self.trunk(h).mean(dim=(2, 3))
            return (self.aux_head if aux else self.head)(self.dropout(h))

    return FingerprintNet()


def augment(images: np.ndarray, rng: np.random.Generator, flips: bool,
            max_shift: int) -> np.ndarray:
    """Random flips and integer shifts (reflect padding), no interpolation.

    images : (B, S, S) uint8 -> (B, S, S) uint8.
    """
    out = np.empty_like(images)
    size = images.shape[1]
    for i, x in enumerate(images):
        if flips and rng.random() < 0.5:
            x = x[:, ::-1]
        if flips and rng.random() < 0.5:
            x = x[::-1, :]
        if max_shift > 0:
            dy, dx = rng.integers(-max_shift, max_shift + 1, size=2)
            x = np.pad(x, max_shift, mode="reflect")
            x = x[max_shift + dy:max_shift + dy + size, max_shift + dx:max_shift + dx + size]
        out[i] = x
    return out


def _to_tensor(torch, images: np.ndarray):
    x = np.ascontiguousarray(images, dtype=np.float32) * np.float32(1.0 / 255.0)
    return torch.from_numpy(x)[:, None]


class FingerprintCNN(AttributionEstimator):
    """Compact CNN trained from scratch on the labelled generated images (PyTorch, CPU).

    Parameters
    ----------
    widths : output channels of the four conv stages.
    patch : side of the lossless patchify stem (image side must be divisible by it).
    sigma : Gaussian width (pixels) of the residual input channel.
    epochs : maximum training epochs.
    patience : stop after this many epochs without a lower held-out log-loss, counted only
        from ``min_epochs`` on.
    min_epochs : epochs always trained (default: half of ``epochs``); before the one-cycle
        learning rate has peaked the held-out loss says little.
    batch_size : generated images per step (plus a quarter as many real images when
        ``real_weight > 0``).
    lr : peak learning rate of the one-cycle AdamW schedule.
    weight_decay, dropout : regularisation.
    flips, max_shift : augmentations (random horizontal/vertical flips; integer shifts of up
        to ``max_shift`` pixels); off by default, as they move position-locked fingerprints.
    real_weight : weight of the auxiliary loss on the real images' subsets (0 = unused).
    validation_fraction : stratified share of the generated images held out for early
        stopping (at least one per subset).
    random_state : seeds the split, batch order, augmentations and initial weights.
    n_threads : torch intra-op threads (fixed, for reproducible sums).
    verbose : progress bars.

    Attributes
    ----------
    classes_ : (K,) int64 subset numbers.
    model_ : the trained network (eval mode), weights of the best held-out epoch.
    architecture_ : (n_classes, widths, patch, sigma, dropout) of ``model_``, for
        :func:`build_network`.
    best_epoch_ : 1-based epoch whose weights were kept.
    history_ : list of dicts (epoch, train_loss, val_loss, val_accuracy) per epoch.
    """

    def __init__(self, widths: tuple[int, ...] = (16, 32, 64, 64), patch: int = 4,
                 sigma: float = 1.0, epochs: int = 16, patience: int = 4,
                 min_epochs: int | None = None,
                 batch_size: int = 32, lr: float = 3e-3, weight_decay: float = 1e-4,
                 dropout: float = 0.3, flips: bool = False, max_shift: int = 0,
                 real_weight: float = 0.3, validation_fraction: float = 0.2,
                 random_state: int = 0, n_threads: int = 2, verbose: bool = False):
        self.widths = widths
        self.patch = patch
        self.sigma = sigma
        self.epochs = epochs
        self.patience = patience
        self.min_epochs = min_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.flips = flips
        self.max_shift = max_shift
        self.real_weight = real_weight
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.n_threads = n_threads
        self.verbose = verbose

    def _split(self, subsets: np.ndarray, rng: np.random.Generator):
        train, held = [], []
        for c in self.classes_:
            idx = rng.permutation(np.flatnonzero(subsets == c))
            n_held = max(1, int(round(self.validation_fraction * len(idx))))
            held.append(idx[:n_held])
            train.append(idx[n_held:])
        return np.sort(np.concatenate(train)), np.sort(np.concatenate(held))

    def fit(self, generated: np.ndarray, subsets: np.ndarray, real: np.ndarray | None = None,
            real_subsets: np.ndarray | None = None) -> FingerprintCNN:
        """Train on the labelled generated images; real images feed the auxiliary head.

        generated : (N, S, S) uint8; subsets : (N,) ints >= 1; real : (R, S, S) uint8 or
        None; real_subsets : (R,) ints or None.
        """
        generated, subsets, real, real_subsets = self._check_fit(
            generated, subsets, real, real_subsets, min_per_class=2)
        if generated.shape[1] % self.patch:
            raise ValueError(f"image side {generated.shape[1]} is not divisible by "
                             f"patch={self.patch}")
        y = np.searchsorted(self.classes_, subsets)
        use_real = real is not None and self.real_weight > 0
        if use_real:
            keep = np.isin(real_subsets, self.classes_)
            real, yr = real[keep], np.searchsorted(self.classes_, real_subsets[keep])
            use_real = len(real) > 0
        seed = self._seed()
        rng = np.random.default_rng(seed)
        train, held = self._split(subsets, rng)
        with torch_settings(self.n_threads) as torch:
            torch.manual_seed(seed)
            net = build_network(len(self.classes_), tuple(self.widths), self.patch,
                                self.sigma, self.dropout)
            opt = torch.optim.AdamW(net.parameters(), lr=self.lr,
                                    weight_decay=self.weight_decay)
            steps = int(np.ceil(len(train) / self.batch_size))
            sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=self.lr,
                                                        total_steps=self.epochs * steps)
            self._best_loss, self._best_state, self._wait = np.inf, None, 0
            self.history_ = []
            with progress_task("training CNN (epochs)", self.epochs,
                               quiet=not self.verbose) as advance:
                for epoch in range(1, self.epochs + 1):
                    advance()
                    if not self._epoch(torch, net, opt, sched, generated, y, train, held,
                                       real if use_real else None, yr if use_real else None,
                                       rng, epoch):
                        break
            net.load_state_dict(self._best_state)
            del self._best_state, self._best_loss, self._wait
            net.eval()
        self.model_ = net
        self.architecture_ = (len(self.classes_), tuple(self.widths), self.patch, self.sigma,
                              self.dropout)
        return self

    def _epoch(self, torch, net, opt, sched, generated, y, train, held, real, yr, rng,
               epoch: int) -> bool:
        """One training epoch and its held-out evaluation; False when training should stop."""
        F = torch.nn.functional
        net.train()
        order = rng.permutation(train)
        real_order = rng.permutation(len(real)) if real is not None else None
        steps = int(np.ceil(len(train) / self.batch_size))
        losses = []
        for step in range(steps):
            batch = order[step * self.batch_size:(step + 1) * self.batch_size]
            xb = _to_tensor(torch, augment(generated[batch], rng, self.flips,
                                           self.max_shift))
            loss = F.cross_entropy(net(xb), torch.from_numpy(y[batch]))
            if real is not None:
                quarter = max(1, self.batch_size // 4)
                start = (step * quarter) % len(real_order)
                rb = real_order[start:start + quarter]
                xr = _to_tensor(torch, augment(real[rb], rng, self.flips,
                                               self.max_shift))
                loss = loss + self.real_weight * F.cross_entropy(
                    net(xr, aux=True), torch.from_numpy(yr[rb]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            losses.append(float(loss.detach()))
        proba = self._proba(torch, net, generated[held])
        val_loss = log_loss(proba, y[held])
        val_acc = float(np.mean(proba.argmax(axis=1) == y[held]))
        self.history_.append({"epoch": epoch, "train_loss": float(np.mean(losses)),
                              "val_loss": val_loss, "val_accuracy": val_acc})
        if val_loss < self._best_loss - 1e-6:
            self._best_loss, self._wait = val_loss, 0
            self._best_state = copy.deepcopy(net.state_dict())
            self.best_epoch_ = epoch
            return True
        min_epochs = self.epochs // 2 if self.min_epochs is None else self.min_epochs
        if epoch >= min_epochs:
            self._wait += 1
        return self._wait < self.patience

    def _proba(self, torch, net, images: np.ndarray, batch: int = 64,
               verbose: bool = False) -> np.ndarray:
        net.eval()
        out = np.empty((len(images), len(self.classes_)), dtype=np.float64)
        with torch.no_grad():
            for sl in chunk_slices(len(images), batch, "CNN", verbose):
                logits = net(_to_tensor(torch, images[sl])).double()
                out[sl] = torch.softmax(logits, dim=1).numpy()
        return out / out.sum(axis=1, keepdims=True)

    def __getstate__(self) -> dict:
        """Pickle the trained network as its weights (its class is built at fit time, so
        the module itself cannot be pickled); :meth:`__setstate__` rebuilds it."""
        state = dict(super().__getstate__())
        if "model_" in state:   # rebuilt as fitted (architecture_), not from today's params
            state["model_"] = {k: v.detach().clone()
                               for k, v in state["model_"].state_dict().items()}
        return state

    def __setstate__(self, state: dict) -> None:
        weights = state.get("model_")
        super().__setstate__(state)
        if isinstance(weights, dict):
            net = build_network(*self.architecture_)
            net.load_state_dict(weights)
            self.model_ = net.eval()

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """(M, K) float64 probabilities, columns in ``classes_`` order, rows sum to 1."""
        images = self._check_predict(images)
        with torch_settings(self.n_threads) as torch:
            return self._proba(torch, self.model_, images, verbose=self.verbose)
