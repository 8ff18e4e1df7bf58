"""Train the digit network on MNIST with mini-batch SGD; writes the model file the page loads.

    python -m training.train                      # the shipped model, defaults below
    python -m training.train --layers 784 128 10 --epochs 5 --no-augment --out /tmp/m.npz

Run ``python -m training.train --help`` for every flag.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np
from tqdm import tqdm

from training import ROOT
from training.augment import augment
from training.data import DataError, Dataset, load_dataset
from training.mlp import backprop, init_params, sgd_step
from modelfile import save_model
from network import Model, forward, normalize

DEFAULT_OUT = ROOT / "static" / "model" / "model.npz"
DATA_DIR = ROOT / "data" / "mnist"
PREPROCESSING = ("crop to ink, scale longer side to 20 px (area averaging), "
                 "centre of mass at the centre of 28x28, values pixel/255")


@dataclass
class TrainConfig:
    """Hyperparameters. The defaults train the model the page ships."""

    layers: list[int] = field(default_factory=lambda: [784, 256, 128, 10])
    epochs: int = 30
    batch_size: int = 64
    lr: float = 0.02
    momentum: float = 0.9
    weight_decay: float = 1e-5
    schedule: str = "cosine"      # "constant", "cosine" or "step"
    augment: bool = True
    validation: float = 0.0       # fraction of the training set held out
    patience: int = 0             # early stopping: epochs without validation gain (0: off)
    seed: int = 0


@dataclass
class EpochStats:
    epoch: int
    train_loss: float
    train_error: float
    test_error: Optional[float]
    val_error: Optional[float]
    lr: float
    seconds: float        # training time of this epoch (augmentation included, evaluation not)
    elapsed: float        # training time since the start


def learning_rate(cfg: TrainConfig, epoch: int) -> float:
    """Learning rate for epoch 0..epochs-1 under the configured schedule."""
    if cfg.schedule == "constant":
        return cfg.lr
    if cfg.schedule == "cosine":
        return 0.5 * cfg.lr * (1 + np.cos(np.pi * epoch / cfg.epochs))
    if cfg.schedule == "step":  # divide by 10 at 50% and 75% of training
        return cfg.lr * 0.1 ** ((epoch >= cfg.epochs * 0.5) + (epoch >= cfg.epochs * 0.75))
    raise ValueError(f"unknown schedule {cfg.schedule!r}")


def error_rate(model: Model, images: np.ndarray, labels: np.ndarray, batch: int = 10000) -> float:
    """Fraction of images (N, 28, 28) uint8 whose most probable digit is not the label."""
    wrong = 0
    for i in range(0, len(labels), batch):
        x = normalize(model, images[i:i + batch].astype(np.float32) / np.float32(255))
        wrong += int((forward(model.weights, model.biases, x)[-1].argmax(1) != labels[i:i + batch]).sum())
    return wrong / len(labels)


def split_validation(data: Dataset, fraction: float, rng: np.random.Generator) -> tuple[Dataset, Optional[Dataset]]:
    """Hold out a random ``fraction`` of ``data`` for validation."""
    if fraction <= 0:
        return data, None
    order = rng.permutation(len(data.labels))
    n_val = int(round(fraction * len(order)))
    val, train = order[:n_val], order[n_val:]
    return Dataset(data.images[train], data.labels[train]), Dataset(data.images[val], data.labels[val])


def train(
    cfg: TrainConfig,
    train_set: Dataset,
    test_set: Optional[Dataset] = None,
    on_batch: Optional[Callable[[int, int, float], None]] = None,
    on_epoch: Optional[Callable[[EpochStats, Model], None]] = None,
    progress: bool = True,
) -> tuple[Model, list[EpochStats]]:
    """Train a network; returns the model (best on validation if held out) and per-epoch stats.

    on_batch(epoch, batch, loss) is called after every batch, on_epoch after every epoch.
    """
    rng = np.random.default_rng(cfg.seed)
    fit, val = split_validation(train_set, cfg.validation, rng)
    images = fit.images.astype(np.float32) / np.float32(255)  # (N, 28, 28)
    labels = fit.labels.astype(np.int64)
    mean = float(images.mean())  # inputs are normalised to mean 0, variance 1
    std = float(images.std())
    weights, biases = init_params(cfg.layers, rng)
    params = weights + biases
    velocity = [np.zeros_like(p) for p in params]
    decay_mask = [True] * len(weights) + [False] * len(biases)
    meta = {"hyperparameters": dataclasses.asdict(cfg), "input": {"preprocessing": PREPROCESSING}}
    model = Model(weights, biases, mean, std, meta)
    history: list[EpochStats] = []
    best: tuple[float, list[np.ndarray]] = (np.inf, [])
    stale = 0
    n = len(labels)
    elapsed = 0.0
    for epoch in range(cfg.epochs):
        start = time.perf_counter()
        lr = learning_rate(cfg, epoch)
        order = rng.permutation(n)
        x_epoch = augment(images, rng) if cfg.augment else images
        steps_start = time.perf_counter()
        total_loss, total_correct = 0.0, 0
        bar = tqdm(range(0, n, cfg.batch_size), desc=f"epoch {epoch + 1}/{cfg.epochs}",
                   unit="batch", leave=False, disable=not progress, file=sys.stdout)
        for b, i in enumerate(bar):
            idx = order[i:i + cfg.batch_size]
            x = normalize(model, x_epoch[idx])
            loss, grad_w, grad_b, correct = backprop(weights, biases, x, labels[idx])
            sgd_step(params, grad_w + grad_b, velocity, lr, cfg.momentum, cfg.weight_decay, decay_mask)
            total_loss += loss * len(idx)
            total_correct += correct
            if on_batch:
                on_batch(epoch, b, loss)
            if b % 50 == 0:
                done = min(i + cfg.batch_size, n)
                bar.set_postfix(loss=f"{total_loss / done:.4f}", acc=f"{total_correct / done:.4f}",
                                samples_s=f"{done / (time.perf_counter() - steps_start):.0f}")
        bar.close()
        seconds = time.perf_counter() - start
        elapsed += seconds
        stats = EpochStats(
            epoch=epoch + 1, train_loss=total_loss / n, train_error=1 - total_correct / n,
            test_error=error_rate(model, test_set.images, test_set.labels) if test_set else None,
            val_error=error_rate(model, val.images, val.labels) if val else None,
            lr=lr, seconds=seconds, elapsed=elapsed)
        history.append(stats)
        if on_epoch:
            on_epoch(stats, model)
        if stats.val_error is not None:
            if stats.val_error < best[0]:
                best, stale = (stats.val_error, [p.copy() for p in params]), 0
            else:
                stale += 1
                if cfg.patience and stale >= cfg.patience:
                    break
    if best[1]:  # restore the epoch that did best on validation
        for p, saved in zip(params, best[1]):
            p[...] = saved
    return model, history


def plot_history(history: list[EpochStats], batch_losses: list[tuple[int, int, float]], path: Path) -> None:
    """PNG with the loss of every batch and the per-epoch test error."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    if batch_losses:
        per_epoch = max(b for _, b, _ in batch_losses) + 1
        xs = [e + b / per_epoch for e, b, _ in batch_losses]
        ys = np.array([l for _, _, l in batch_losses])
        ax1.plot(xs, ys, lw=0.3, alpha=0.4, label="batch")
        k = max(1, per_epoch // 5)
        smooth = np.convolve(ys, np.ones(k) / k, mode="valid")
        ax1.plot(xs[k - 1:], smooth, lw=1.2, label=f"mean of {k} batches")
        ax1.set_yscale("log")
        ax1.legend()
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("training loss (cross-entropy, nats)")
    ax1.set_title("Training loss")
    epochs = [h.epoch for h in history]
    for name, values in (("test", [h.test_error for h in history]),
                         ("validation", [h.val_error for h in history]),
                         ("training (augmented)", [h.train_error for h in history])):
        if values and values[0] is not None:
            ax2.plot(epochs, [100 * v for v in values], marker=".", label=name)
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("error (%)")
    ax2.set_yscale("log")
    ax2.set_title("Error rate")
    ax2.grid(True, which="both", alpha=0.3)
    ax2.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def build_parser() -> argparse.ArgumentParser:
    d = TrainConfig()
    p = argparse.ArgumentParser(
        prog="python -m training.train",
        description="Train the from-scratch NumPy MLP on MNIST and write the model file the page loads.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--train", type=Path, default=DATA_DIR / "mnist_train.csv",
                   help="training set: CSV (label,784 pixels) or IDX images file; the default is fetched if missing")
    p.add_argument("--test", type=Path, default=DATA_DIR / "mnist_test.csv",
                   help="test set, evaluated after every epoch (same formats)")
    p.add_argument("--layers", type=int, nargs="+", default=d.layers,
                   help="layer sizes from input to output: 784, any hidden sizes (ReLU), 10 (softmax)")
    p.add_argument("--epochs", type=int, default=d.epochs, help="passes over the training set")
    p.add_argument("--batch-size", type=int, default=d.batch_size, help="examples per gradient step")
    p.add_argument("--lr", type=float, default=d.lr,
                   help="learning rate (gradients are averaged over the batch)")
    p.add_argument("--momentum", type=float, default=d.momentum, help="SGD momentum (0 for plain SGD)")
    p.add_argument("--weight-decay", type=float, default=d.weight_decay, help="L2 penalty on weights (not biases)")
    p.add_argument("--schedule", choices=["constant", "cosine", "step"], default=d.schedule,
                   help="learning-rate schedule: constant; cosine decay to 0; step (/10 at 50%% and 75%%)")
    p.add_argument("--no-augment", dest="augment", action="store_false",
                   help="train on MNIST as it is, without random shifts, rotations, scaling and stroke changes")
    p.add_argument("--validation", type=float, default=d.validation,
                   help="fraction of the training set held out for validation (keeps the best epoch)")
    p.add_argument("--patience", type=int, default=d.patience,
                   help="stop after this many epochs without validation improvement (0: never; needs --validation)")
    p.add_argument("--seed", type=int, default=d.seed, help="random seed: same seed, same weights")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="model file to write (.npz)")
    p.add_argument("--log", type=Path, help="CSV file receiving the loss of every batch (epoch,batch,loss)")
    p.add_argument("--plot", type=Path, help="PNG file with the loss and test error over training")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def _load(path: Path, default: Path) -> Dataset:
    if path == default and not path.exists():
        from training.fetch import fetch
        fetch(default.parent)
    return load_dataset(path)


def main(argv: Optional[list[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    cfg = TrainConfig(layers=args.layers, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                      momentum=args.momentum, weight_decay=args.weight_decay, schedule=args.schedule,
                      augment=args.augment, validation=args.validation, patience=args.patience,
                      seed=args.seed)
    if len(cfg.layers) < 2 or cfg.layers[0] != 784 or cfg.layers[-1] != 10:
        print(f"error: --layers must start with 784 and end with 10, got {cfg.layers}", file=sys.stderr)
        return 2
    if not 0 <= cfg.validation < 1 or cfg.epochs < 1 or cfg.batch_size < 1 or cfg.lr <= 0:
        print("error: need 0 <= --validation < 1, --epochs >= 1, --batch-size >= 1, --lr > 0", file=sys.stderr)
        return 2
    defaults = build_parser().parse_args([])
    try:
        train_set = _load(args.train, defaults.train)
        test_set = _load(args.test, defaults.test)
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    batch_losses: list[tuple[int, int, float]] = []
    log_file = open(args.log, "w", newline="") if args.log else None
    log = csv.writer(log_file) if log_file else None
    if log:
        log.writerow(["epoch", "batch", "loss"])

    def on_batch(epoch: int, batch: int, loss: float) -> None:
        batch_losses.append((epoch, batch, loss))
        if log:
            log.writerow([epoch + 1, batch + 1, f"{loss:.6f}"])

    def on_epoch(s: EpochStats, _: Model) -> None:
        val = f"  validation error {100 * s.val_error:.2f}%" if s.val_error is not None else ""
        print(f"epoch {s.epoch:3d}  loss {s.train_loss:.4f}  test error {100 * s.test_error:.2f}%{val}"
              f"  lr {s.lr:.4f}  {s.seconds:.1f}s", flush=True)

    print(f"training {cfg.layers} on {len(train_set.labels)} images, testing on {len(test_set.labels)}")
    try:
        model, history = train(cfg, train_set, test_set, on_batch, on_epoch, progress=not args.quiet)
    finally:
        if log_file:
            log_file.close()
    test_error = error_rate(model, test_set.images, test_set.labels)
    model.meta["test_error"] = test_error
    model.meta["epochs_trained"] = len(history)
    model.meta["train_seconds"] = round(history[-1].elapsed, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_model(args.out, model)
    print(f"test error {100 * test_error:.2f}%  ({history[-1].elapsed:.0f}s training)  "
          f"model written to {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")
    if args.plot:
        plot_history(history, batch_losses, args.plot)
        print(f"plot written to {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
