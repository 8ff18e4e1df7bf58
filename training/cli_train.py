"""The terminal side of ``python -m training.train``: its flags, the checks of their values
before any work starts, and the progress bar while it trains.

Kept apart from the loop (training/train.py) so that the algorithm reads on its own; every
message here is the one the command prints.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from digitnet.network import Model
from tools.cli import file_problem
from tools.paths import DATA_DIR, SHIPPED_MODEL
from training.config import TrainConfig, add_config_flags


class ProgressBar:
    """A tqdm bar per epoch with the running loss, accuracy and speed (every 50 batches)."""

    def __init__(self, cfg: TrainConfig, n: int, enabled: bool):
        self.cfg, self.n, self.enabled, self.bar = cfg, n, enabled, None

    def __call__(self, epoch: int, batch: int, loss: float, correct: int, size: int) -> None:
        if batch == 0:
            self.close()
            self.bar = tqdm(
                total=-(-self.n // self.cfg.batch_size),
                desc=f"epoch {epoch + 1}/{self.cfg.epochs}",
                unit="batch",
                leave=False,
                disable=not self.enabled,
                file=sys.stdout,
            )
            self.start, self.loss, self.correct, self.seen = time.perf_counter(), 0.0, 0, 0
        self.loss, self.correct, self.seen = self.loss + loss * size, self.correct + correct, self.seen + size
        self.bar.update()
        if batch % 50 == 0:
            self.bar.set_postfix(
                loss=f"{self.loss / self.seen:.4f}",
                acc=f"{self.correct / self.seen:.4f}",
                samples_s=f"{self.seen / (time.perf_counter() - self.start):.0f}",
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m training.train",
        description="Train the from-scratch NumPy MLP on MNIST and write the model file the page loads.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--train",
        type=Path,
        default=DATA_DIR / "mnist_train.csv",
        help="training set: CSV (label,784 pixels) or IDX images file; the default is fetched if missing",
    )
    p.add_argument(
        "--test",
        type=Path,
        default=DATA_DIR / "mnist_test.csv",
        help="test set, evaluated after every epoch (same formats)",
    )
    p.add_argument(
        "--extra",
        type=Path,
        action="append",
        default=[],
        metavar="CSV",
        help="more labelled digits added to the training set (same formats; e.g. drawings "
        "exported from the page, where label 10 is 'not a digit': refused with --negatives 0); "
        "may be given more than once",
    )
    add_config_flags(p)
    p.add_argument(
        "--out",
        type=Path,
        default=SHIPPED_MODEL,
        help="model file to write (.npz); written atomically, only if training succeeded",
    )
    p.add_argument("--log", type=Path, help="CSV file receiving the loss of every batch (epoch,batch,loss)")
    p.add_argument("--plot", type=Path, help="PNG file with the loss and test error over training")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def check_outputs(args: argparse.Namespace) -> str | None:
    """What is wrong with the output paths, before any work starts (None if nothing)."""
    for flag, path, suffix in (
        ("--out", args.out, ".npz"),
        ("--log", args.log, None),
        ("--plot", args.plot, None),
    ):
        problem = path and file_problem(path, suffix)
        if problem:
            return f"{flag} {problem}"
    return None


def check_validation(fraction: float, examples: int) -> str | None:
    """What is wrong with holding out ``fraction`` of ``examples`` for validation (None if nothing):
    it must leave at least one example to train on and, when asked for, hold out at least one."""
    held_out = int(round(fraction * examples))  # as split_validation counts them
    if fraction > 0 and held_out == 0:
        return f"--validation {fraction:g}: holds out none of the {examples} training examples"
    if held_out >= examples:
        return (
            f"--validation {fraction:g}: holds out all {examples} training examples, "
            f"none are left to train on"
        )
    return None


def check_learned(model: Model, test_error: float) -> str | None:
    """Why the trained model must not be saved (None if it may): non-finite weights or no learning."""
    if not all(np.isfinite(p).all() for p in model.weights + model.biases):
        return "training diverged: the weights hold NaN or infinite values (try a smaller --lr)"
    if not test_error <= 0.5:
        return f"training diverged: test error {100 * test_error:.1f}% (try a smaller --lr)"
    return None
