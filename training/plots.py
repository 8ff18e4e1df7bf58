"""Plots of training and evaluation (PNG files, matplotlib without a display)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from training.evaluation import Evaluation


class EpochErrors(Protocol):
    """What ``plot_history`` reads of each epoch's record (``training.train.EpochStats`` has it)."""

    epoch: int
    train_error: float
    test_error: float | None
    val_error: float | None


def pyplot():
    """matplotlib.pyplot drawing to files (the Agg backend: no screen needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_history(
    history: Sequence[EpochErrors], batch_losses: list[tuple[int, int, float]], path: Path
) -> None:
    """PNG with the loss of every batch and the per-epoch test error."""
    plt = pyplot()

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    if batch_losses:
        per_epoch = max(b for _, b, _ in batch_losses) + 1
        xs = [e + b / per_epoch for e, b, _ in batch_losses]
        ys = np.array([l for _, _, l in batch_losses])
        ax1.plot(xs, ys, lw=0.3, alpha=0.4, label="batch")
        k = max(1, per_epoch // 5)
        smooth = np.convolve(ys, np.ones(k) / k, mode="valid")
        ax1.plot(xs[k - 1 :], smooth, lw=1.2, label=f"mean of {k} batches")
        ax1.set_yscale("log")
        ax1.legend()
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("training loss (cross-entropy, nats)")
    ax1.set_title("Training loss")
    epochs = [h.epoch for h in history]
    for name, values in (
        ("test", [h.test_error for h in history]),
        ("validation", [h.val_error for h in history]),
        ("training (augmented)", [h.train_error for h in history]),
    ):
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


def plot_confusion(ev: Evaluation, path: Path) -> None:
    """PNG of the confusion matrix, mistakes coloured, counts written in."""
    plt = pyplot()

    m = ev.confusion
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    off = m.astype(float)
    np.fill_diagonal(off, np.nan)
    im = ax.imshow(off, cmap="Reds")
    for t in range(len(m)):
        for p in range(len(m)):
            if m[t, p]:
                ax.text(
                    p,
                    t,
                    str(m[t, p]),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="black" if t != p else "darkgreen",
                    weight="bold" if t == p else None,
                )
    ticks = [str(d) for d in range(10)] + ["not"] * (len(m) > 10)
    ax.set_xticks(range(len(m)), ticks)
    ax.set_yticks(range(len(m)), ticks)
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    ax.set_title(f"Confusion matrix (test error {100 * ev.error:.2f}%)")
    fig.colorbar(im, ax=ax, label="mistakes")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_worst(ev: Evaluation, images: np.ndarray, path: Path, k: int = 36) -> None:
    """PNG grid of the k most confident mistakes (true -> predicted, confidence)."""
    plt = pyplot()

    worst = ev.worst(k)
    cols = 9
    rows = max(1, -(-len(worst) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.2, rows * 1.45))
    for ax in np.atleast_1d(axes).ravel():
        ax.axis("off")
    for ax, i in zip(np.atleast_1d(axes).ravel(), worst):
        ax.imshow(images[i], cmap="gray_r")
        p = ev.predicted[i]
        ax.set_title(f"{ev.labels[i]}→{p} {100 * ev.probs[i, p]:.0f}%", fontsize=8)
    fig.suptitle("Most confident mistakes (true→predicted, confidence)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
