"""How the project measures a model: its verdicts on a labelled set, as the page gives them.

``evaluate`` runs a model on a Dataset the way the page reads a drawing
(``digitnet.predict.read_proba``, a drawing of parts side by side is "not a digit"); the
``Evaluation`` it returns holds the probabilities and labels and derives the rest: the error,
the confusion matrix, per-digit accuracy, the share of digits rejected, the worst mistakes.
Training measures every epoch with it, ``python -m training.evaluate`` a model file.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from digitnet.network import Model
from digitnet.predict import VIEWS, parts_apart, read_proba, said_classes
from digitnet.sizes import CLASSES, NOT_DIGIT
from training.data import Dataset


@dataclass(frozen=True)
class Evaluation:
    """probs: (N, K) float32, K = CLASSES or CLASSES + 1 (the model's NOT_DIGIT output); labels: (N,)
    int, NOT_DIGIT for drawings that are not digits; apart: (N,) bool, the image is parts side by
    side (``digitnet.predict.parts_apart``; None: no image is); confusion[true, predicted] counts
    (K', K'), K' = CLASSES + 1 when either the model or the labels know "not a digit"."""

    probs: np.ndarray
    labels: np.ndarray
    apart: np.ndarray | None = None

    @property
    def predicted(self) -> np.ndarray:
        """The page's verdict (``digitnet.predict.verdict``) as a class: for a model with the
        NOT_DIGIT output, NOT_DIGIT when the image is parts side by side or that output is over
        NOT_DIGIT_AT, else the most probable digit; for a digits-only model the most probable one."""
        return said_classes(self.probs, self.apart)

    @property
    def error(self) -> float:
        """Fraction of images whose predicted class is not the label: the test error
        (a digit the model calls "not a digit" is an error)."""
        return float((self.predicted != self.labels).mean())

    @property
    def rejected(self) -> np.ndarray:
        """(N,) bool: the model called it "not a digit"."""
        return self.predicted == NOT_DIGIT

    @property
    def digit_reject_rate(self) -> float | None:
        """Share of the real digits called "not a digit" (None if there are none)."""
        digits = self.labels < CLASSES
        return float(self.rejected[digits].mean()) if digits.any() else None

    @property
    def confusion(self) -> np.ndarray:
        k = CLASSES + 1 if self.probs.shape[1] > CLASSES or (self.labels == NOT_DIGIT).any() else CLASSES
        m = np.zeros((k, k), np.int64)
        np.add.at(m, (self.labels, self.predicted), 1)
        return m

    @property
    def per_digit_accuracy(self) -> np.ndarray:
        m = self.confusion[:CLASSES]
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
            "digit_reject_rate": None if self.digit_reject_rate is None else round(self.digit_reject_rate, 6),
            "confusion": self.confusion.tolist(),
        }


def evaluate(
    model: Model, data: Dataset, batch: int = 2000, apart: np.ndarray | None = None, views=VIEWS
) -> Evaluation:
    """Run the model on every image of ``data`` (images uint8 (N, 28, 28)), ``batch`` at a time,
    and give its verdict as the page does (``digitnet.predict.read_proba`` over ``views``);
    ``apart``: ``parts_apart(data.images)`` if the caller has it already (training evaluates the
    same test set every epoch, with one view: nine would make every epoch much slower).

    The one way the project measures a model: training's per-epoch test error too."""
    probs = np.concatenate(
        [
            read_proba(model, data.images[i : i + batch].astype(np.float32) / np.float32(255), views)
            for i in range(0, len(data.labels), batch)
        ]
    )
    if apart is None and probs.shape[1] > CLASSES:
        apart = parts_apart(data.images)
    return Evaluation(probs, data.labels.astype(np.int64), apart)
