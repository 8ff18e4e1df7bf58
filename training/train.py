"""Train the digit network on MNIST with mini-batch SGD; writes the model file the page loads.

    python -m training.train                      # the shipped model (defaults: training/config.py)
    python -m training.train --layers 784 128 10 --epochs 5 --no-augment --out /tmp/m.npz

Run ``python -m training.train --help`` for every flag.

Here is the algorithm, read top to bottom: ``sgd`` (epochs of shuffled mini-batches, backprop and
a momentum step), ``train`` around it (validation, early stopping, per-epoch figures) and ``main``,
which loads the data, trains and saves. The hyperparameters are in training/config.py, the
generated training examples in training/trainset.py, the flags, their checks and the progress bar
in training/cli_train.py.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import math
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from digitnet.learn import backprop, init_params, sgd_step
from digitnet.modelfile import save_model
from digitnet.network import Model, normalize
from digitnet.predict import VIEWS, parts_apart
from digitnet.sizes import CLASSES, PIXELS
from training import ahead
from training.augment import AugmentConfig, augment
from training.cli_train import ProgressBar, build_parser, check_learned, check_outputs, check_validation
from training.config import TrainConfig, config_from_args
from training.data import DataError, Dataset, load_dataset
from training.evaluation import evaluate
from training.fetch import load_mnist
from training.negatives import KINDS
from training.plots import plot_history
from training.trainset import training_set

# ------------------------------------------------------------------- the algorithm


def learning_rate(cfg: TrainConfig, epoch: int) -> float:
    """Learning rate for epoch 0..epochs-1 under the configured schedule."""
    if cfg.schedule == "constant":
        return cfg.lr
    if cfg.schedule == "cosine":
        return 0.5 * cfg.lr * (1 + np.cos(np.pi * epoch / cfg.epochs))
    if cfg.schedule == "step":  # divide by 10 at 50% and 75% of training
        return cfg.lr * 0.1 ** ((epoch >= cfg.epochs * 0.5) + (epoch >= cfg.epochs * 0.75))
    raise ValueError(f"unknown schedule {cfg.schedule!r}")


@dataclass
class Epoch:
    """What one pass over the training set did: its index (0-based), learning rate,
    mean loss and error on the (augmented) training images."""

    index: int
    lr: float
    loss: float
    error: float


BatchHook = Callable[[int, int, float, int, int], None]  # (epoch, batch, loss, correct, size)


AUGMENT_STREAM = 0xA6  # the augmentation's random numbers: SeedSequence([seed, AUGMENT_STREAM, epoch])


def sgd(
    model: Model,
    images: np.ndarray,
    labels: np.ndarray,
    cfg: TrainConfig,
    rng: np.random.Generator,
    on_batch: BatchHook | None = None,
) -> Iterator[Epoch]:
    """Mini-batch stochastic gradient descent with momentum, in place on ``model``.

    images: (N, 28, 28) float32 in [0, 1]; labels: (N,) int. Each epoch: a fresh
    shuffle and (with cfg.augment) a fresh random distortion of every image (made in a
    second process while the epoch before trains: ``training.ahead``), then one
    backprop + SGD step per mini-batch. Yields after every epoch, so the caller can
    evaluate, and stop early by breaking out of the loop.
    """
    params = model.weights + model.biases
    velocity = [np.zeros_like(p) for p in params]
    decays = [True] * len(model.weights) + [False] * len(model.biases)  # no decay on biases
    n = len(labels)

    def distorted(epoch: int) -> np.ndarray:
        epoch_rng = np.random.default_rng([cfg.seed, AUGMENT_STREAM, epoch])
        return augment(images, epoch_rng, AugmentConfig(elastic=cfg.elastic))

    # With a child augmenting, each process gets one core: BLAS's second thread would fight the
    # child for it (epochs of 15-20 s instead of 8 here).
    blas = threadpool_limits(1 if cfg.augment else None, user_api="blas")
    stream = (
        ahead.epochs(distorted, cfg.epochs, images.shape)
        if cfg.augment
        else (images for _ in range(cfg.epochs))
    )
    with blas, contextlib.closing(stream):
        for epoch, x_epoch in enumerate(stream):
            lr = learning_rate(cfg, epoch)
            order = rng.permutation(n)
            total_loss, total_correct = 0.0, 0
            for b, i in enumerate(range(0, n, cfg.batch_size)):
                batch = order[i : i + cfg.batch_size]
                x = normalize(model, x_epoch[batch])
                loss, grad_w, grad_b, correct = backprop(model.weights, model.biases, x, labels[batch])
                sgd_step(params, grad_w + grad_b, velocity, lr, cfg.momentum, cfg.weight_decay, decays)
                total_loss += loss * len(batch)
                total_correct += correct
                if on_batch:
                    on_batch(epoch, b, loss, correct, len(batch))
            yield Epoch(epoch, lr, total_loss / n, 1 - total_correct / n)


# ------------------------------------------------------------------ bookkeeping


@dataclass
class EpochStats:
    epoch: int
    train_loss: float
    train_error: float
    test_error: float | None  # one plain reading per image (the final figure reads nine views)
    val_error: float | None
    lr: float
    seconds: float  # training time of this epoch (waiting for its images included, evaluation not)
    elapsed: float  # training time since the start


def split_validation(
    data: Dataset, fraction: float, rng: np.random.Generator
) -> tuple[Dataset, Dataset | None]:
    """Hold out a random ``fraction`` of ``data`` for validation."""
    if fraction <= 0:
        return data, None
    order = rng.permutation(len(data.labels))
    n_val = int(round(fraction * len(order)))
    val, train = order[:n_val], order[n_val:]
    return Dataset(data.images[train], data.labels[train]), Dataset(data.images[val], data.labels[val])


def new_model(cfg: TrainConfig, images: np.ndarray, rng: np.random.Generator) -> Model:
    """He-initialised network whose inputs are normalised to the images' mean 0, variance 1."""
    weights, biases = init_params(cfg.layers, rng)
    meta = {"hyperparameters": dataclasses.asdict(cfg)}
    return Model(weights, biases, float(images.mean()), float(images.std()), meta)


def train(
    cfg: TrainConfig,
    train_set: Dataset,
    test_set: Dataset | None = None,
    on_batch: Callable[[int, int, float], None] | None = None,
    on_epoch: Callable[[EpochStats, Model], None] | None = None,
    progress: bool = True,
) -> tuple[Model, list[EpochStats]]:
    """Train a network; returns the model (best on validation if held out) and per-epoch stats.

    on_batch(epoch, batch, loss) is called after every batch, on_epoch after every epoch.
    """
    rng = np.random.default_rng(cfg.seed)
    fit, val = split_validation(train_set, cfg.validation, rng)
    images = fit.images.astype(np.float32) / np.float32(255)  # (N, 28, 28)
    labels = fit.labels.astype(np.int64)
    model = new_model(cfg, images, rng)
    params = model.weights + model.biases
    bar = ProgressBar(cfg, len(labels), progress)

    def batch_hook(epoch: int, batch: int, loss: float, correct: int, size: int) -> None:
        bar(epoch, batch, loss, correct, size)
        if on_batch:
            on_batch(epoch, batch, loss)

    rejects = cfg.layers[-1] > CLASSES  # the verdict's side-by-side rule: once per image
    test_apart = parts_apart(test_set.images) if test_set and rejects else None
    val_apart = parts_apart(val.images) if val and rejects else None
    history: list[EpochStats] = []
    best_error, best_params, stale = math.inf, None, 0
    elapsed = 0.0
    start = time.perf_counter()
    for ep in sgd(model, images, labels, cfg, rng, batch_hook):
        seconds = time.perf_counter() - start
        elapsed += seconds
        bar.close()
        stats = EpochStats(
            epoch=ep.index + 1,
            train_loss=ep.loss,
            train_error=ep.error,
            test_error=evaluate(model, test_set, apart=test_apart, views=VIEWS[:1]).error
            if test_set
            else None,
            val_error=evaluate(model, val, apart=val_apart, views=VIEWS[:1]).error if val else None,
            lr=ep.lr,
            seconds=seconds,
            elapsed=elapsed,
        )
        history.append(stats)
        if on_epoch:
            on_epoch(stats, model)
        if stats.val_error is not None:  # early stopping on validation error
            if stats.val_error < best_error:
                best_error, best_params, stale = stats.val_error, [p.copy() for p in params], 0
            else:
                stale += 1
                if cfg.patience and stale >= cfg.patience:
                    break
        start = time.perf_counter()
    bar.close()
    if best_params is not None:  # restore the epoch that did best on validation
        for p, saved in zip(params, best_params):
            p[...] = saved
    return model, history


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    cfg = config_from_args(args)
    outputs = CLASSES + 1 if cfg.negatives else CLASSES
    if cfg.layers == TrainConfig().layers:  # the default sizes, ending in as many outputs as needed
        cfg.layers = cfg.layers[:-1] + [outputs]
    if len(cfg.layers) < 2 or cfg.layers[0] != PIXELS or cfg.layers[-1] != outputs:
        print(
            f"error: --layers must start with {PIXELS} and end with {outputs} "
            f"({'digits and not a digit' if cfg.negatives else 'digits; with --negatives 0'}), "
            f"got {cfg.layers}",
            file=sys.stderr,
        )
        return 2
    if cfg.negatives and not set(KINDS) - set(cfg.hold_out):
        print(
            f"error: --hold-out keeps every kind of not-a-digit drawing out of training "
            f"({' '.join(KINDS)}); leave at least one in, or use --negatives 0",
            file=sys.stderr,
        )
        return 2
    problem = check_outputs(args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        train_set = load_mnist(args.train)
        test_set = load_mnist(args.test)
        for extra in args.extra:  # label 10, the page's 'not a digit', only for a model with that class
            more = load_dataset(extra, not_digit=cfg.negatives > 0)
            train_set = Dataset(
                np.concatenate([train_set.images, more.images]),
                np.concatenate([train_set.labels, more.labels]),
            )
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
        print(
            f"epoch {s.epoch:3d}  loss {s.train_loss:.4f}  test error {100 * s.test_error:.2f}%{val}"
            f"  lr {s.lr:.4f}  {s.seconds:.1f}s",
            flush=True,
        )

    try:
        data = training_set(cfg, train_set)
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    problem = check_validation(cfg.validation, len(data.labels))
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    print(
        f"training {cfg.layers} on {len(data.labels)} images ({len(train_set.labels)} MNIST digits"
        f"{f', {len(data.labels) - len(train_set.labels)} generated' if len(data) > len(train_set) else ''}"
        "), "
        f"testing on {len(test_set.labels)}"
    )
    try:
        model, history = train(cfg, data, test_set, on_batch, on_epoch, progress=not args.quiet)
    except ahead.AheadError as e:
        print(f"error: {e}; {args.out} was not written", file=sys.stderr)
        return 1
    finally:
        if log_file:
            log_file.close()
    if cfg.store == "float16":  # measure (and ship) the weights as the file will hold them
        model.weights[:] = [w.astype(np.float16).astype(np.float32) for w in model.weights]
        model.biases[:] = [b.astype(np.float16).astype(np.float32) for b in model.biases]
    test_error = evaluate(model, test_set).error
    problem = check_learned(model, test_error)
    if problem:
        print(f"error: {problem}; {args.out} was not written", file=sys.stderr)
        return 1
    model.meta["test_error"] = test_error
    model.meta["epochs_trained"] = len(history)
    model.meta["train_seconds"] = round(history[-1].elapsed, 1)
    save_model(args.out, model, store=cfg.store)
    print(
        f"test error {100 * test_error:.2f}%  ({history[-1].elapsed:.0f}s training)  "
        f"model written to {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)"
    )
    if args.plot:
        plot_history(history, batch_losses, args.plot)
        print(f"plot written to {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
