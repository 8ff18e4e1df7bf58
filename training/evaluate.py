"""Evaluate a model file on a test set: error, per-digit accuracy, confusion matrix, worst mistakes.

    python -m training.evaluate --model static/model/model.npz --json result.json
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from training import ROOT
from training.data import DataError, Dataset, load_dataset
from modelfile import ModelFileError, load_model
from network import Model, predict_proba

DEFAULT_TEST = ROOT / "data" / "mnist" / "mnist_test.csv"
DEFAULT_MODEL = ROOT / "static" / "model" / "model.npz"


@dataclass(frozen=True)
class Evaluation:
    """probs: (N, 10) float32; labels: (N,) int; confusion[true, predicted] counts (10, 10)."""

    probs: np.ndarray
    labels: np.ndarray

    @property
    def predicted(self) -> np.ndarray:
        return self.probs.argmax(axis=1)

    @property
    def test_error(self) -> float:
        return float((self.predicted != self.labels).mean())

    @property
    def confusion(self) -> np.ndarray:
        m = np.zeros((10, 10), np.int64)
        np.add.at(m, (self.labels, self.predicted), 1)
        return m

    @property
    def per_digit_accuracy(self) -> np.ndarray:
        m = self.confusion
        return np.diag(m) / np.maximum(m.sum(axis=1), 1)

    def worst(self, k: int) -> np.ndarray:
        """Indices of the k mistakes made with the highest confidence."""
        wrong = np.flatnonzero(self.predicted != self.labels)
        confidence = self.probs[wrong, self.predicted[wrong]]
        return wrong[np.argsort(-confidence)[:k]]

    def to_json(self) -> dict:
        return {
            "test_error": round(self.test_error, 6),
            "n": int(len(self.labels)),
            "errors": int((self.predicted != self.labels).sum()),
            "per_digit_accuracy": {str(d): round(float(a), 6) for d, a in enumerate(self.per_digit_accuracy)},
            "confusion": self.confusion.tolist(),
        }


def evaluate(model: Model, data: Dataset, batch: int = 10000) -> Evaluation:
    """Run the model on every image of ``data`` (images uint8 (N, 28, 28))."""
    probs = np.concatenate([
        predict_proba(model, data.images[i:i + batch].astype(np.float32) / np.float32(255))
        for i in range(0, len(data.labels), batch)
    ])
    return Evaluation(probs, data.labels.astype(np.int64))


def plot_confusion(ev: Evaluation, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = ev.confusion
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    off = m.astype(float)
    np.fill_diagonal(off, np.nan)
    im = ax.imshow(off, cmap="Reds")
    for t in range(10):
        for p in range(10):
            if m[t, p]:
                ax.text(p, t, str(m[t, p]), ha="center", va="center", fontsize=8,
                        color="black" if t != p else "darkgreen", weight="bold" if t == p else None)
    ax.set_xticks(range(10))
    ax.set_yticks(range(10))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    ax.set_title(f"Confusion matrix (test error {100 * ev.test_error:.2f}%)")
    fig.colorbar(im, ax=ax, label="mistakes")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_worst(ev: Evaluation, images: np.ndarray, path: Path, k: int = 36) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m training.evaluate",
                                description="Evaluate a model file on MNIST test data.",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="model file (.npz) to evaluate")
    p.add_argument("--test", type=Path, default=DEFAULT_TEST,
                   help="test set: CSV (label,784 pixels) or IDX images file; the default is fetched if missing")
    p.add_argument("--json", type=Path, help="also write the figures as JSON here (test_error as a fraction)")
    p.add_argument("--out-dir", type=Path, default=ROOT / "artifacts" / "evaluate",
                   help="folder for confusion.png and worst.png")
    return p


def main(argv: Optional[list[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        model = load_model(args.model)
    except ModelFileError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        if args.test == DEFAULT_TEST and not args.test.exists():
            from training.fetch import fetch
            fetch(DEFAULT_TEST.parent)
        data = load_dataset(args.test)
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    ev = evaluate(model, data)
    print(f"model {args.model}: layers {model.sizes}")
    print(f"test error {100 * ev.test_error:.2f}%  ({int((ev.predicted != ev.labels).sum())} of {len(ev.labels)})")
    print("per-digit accuracy: " + "  ".join(f"{d}:{100 * a:.1f}%" for d, a in enumerate(ev.per_digit_accuracy)))
    args.out_dir.mkdir(parents=True, exist_ok=True)
    plot_confusion(ev, args.out_dir / "confusion.png")
    plot_worst(ev, data.images, args.out_dir / "worst.png")
    print(f"plots written to {args.out_dir}/confusion.png and worst.png")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(ev.to_json(), indent=2))
        print(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
