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

from digitnet.modelfile import ModelFileError, load_model
from digitnet.network import Model, predict_proba
from digitnet.sizes import CLASSES
from training.data import DataError, Dataset
from training.fetch import load_mnist
from training.plots import plot_confusion, plot_worst
from tools.paths import ARTIFACTS, DATA_DIR, SHIPPED_MODEL

DEFAULT_TEST = DATA_DIR / "mnist_test.csv"


@dataclass(frozen=True)
class Evaluation:
    """probs: (N, CLASSES) float32; labels: (N,) int; confusion[true, predicted] counts (CLASSES, CLASSES)."""

    probs: np.ndarray
    labels: np.ndarray

    @property
    def predicted(self) -> np.ndarray:
        return self.probs.argmax(axis=1)

    @property
    def error(self) -> float:
        """Fraction of images whose most probable class is not the label: the test error."""
        return float((self.predicted != self.labels).mean())

    @property
    def confusion(self) -> np.ndarray:
        m = np.zeros((CLASSES, CLASSES), np.int64)
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
            "test_error": round(self.error, 6),
            "n": int(len(self.labels)),
            "errors": int((self.predicted != self.labels).sum()),
            "per_digit_accuracy": {str(d): round(float(a), 6) for d, a in enumerate(self.per_digit_accuracy)},
            "confusion": self.confusion.tolist(),
        }


def evaluate(model: Model, data: Dataset, batch: int = 10000) -> Evaluation:
    """Run the model on every image of ``data`` (images uint8 (N, 28, 28)), ``batch`` at a time.

    The one way the project measures a model: training's per-epoch test error too."""
    probs = np.concatenate([
        predict_proba(model, data.images[i:i + batch].astype(np.float32) / np.float32(255))
        for i in range(0, len(data.labels), batch)
    ])
    return Evaluation(probs, data.labels.astype(np.int64))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m training.evaluate",
                                description="Evaluate a model file on MNIST test data.",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--model", type=Path, default=SHIPPED_MODEL, help="model file (.npz) to evaluate")
    p.add_argument("--test", type=Path, default=DEFAULT_TEST,
                   help="test set: CSV (label,784 pixels) or IDX images file; the default is fetched if missing")
    p.add_argument("--json", type=Path, help="also write the figures as JSON here (test_error as a fraction)")
    p.add_argument("--out-dir", type=Path, default=ARTIFACTS / "evaluate",
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
        data = load_mnist(args.test)
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    ev = evaluate(model, data)
    print(f"model {args.model}: layers {model.sizes}")
    print(f"test error {100 * ev.error:.2f}%  ({int((ev.predicted != ev.labels).sum())} of {len(ev.labels)})")
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
