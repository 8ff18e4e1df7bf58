"""What the page asks of Python: pad pixels in; the verdict, the network's view and probabilities out.

``digitnet.browser`` (the page's Web Worker) calls ``predict_drawing`` for
every drawing; the benchmarks and tests call it in CPython.

The verdict (``verdict``): "digit" (the network's most probable output is a digit), or
"not-digit" with a reason a person can act on: "side-by-side" (the image the network sees is two
or more parts next to each other, ``preprocess.side_by_side``: one digit at a time), "not-a-digit"
(the network's NOT_DIGIT output is over NOT_DIGIT_AT: more probable than any digit at all), or "too-small" (the ink is too short for its stroke width
to read: draw it larger). A model without the NOT_DIGIT output (10 classes) always says "digit".
An empty pad or a lone dot gives no prediction at all (None): the page shows a prompt, never a
guess. ``training.evaluate`` counts rejections by the same ``verdict``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from digitnet.network import Model, predict_proba
from digitnet.preprocess import read, side_by_side
from digitnet.sizes import CLASSES, NOT_DIGIT, SIDE

VERDICTS = ("empty", "digit", "not-digit")
NOT_DIGIT_AT = 0.5     # "not a digit" when that is more probable than all ten digits together
REASONS = ("", "not-a-digit", "side-by-side", "too-small")


@dataclass(frozen=True)
class Prediction:
    """verdict: "digit" or "not-digit"; reason: one of REASONS ("" for a digit).
    image: (SIDE, SIDE) float32 in [0, 1], what the network saw (zeros if it saw nothing).
    probs: (CLASSES,) float32, probability of each digit 0-9.
    not_digit: probability of the NOT_DIGIT output (0 for a model without one).
    probs and not_digit sum to 1 when the network ran."""

    verdict: str
    reason: str
    image: np.ndarray
    probs: np.ndarray
    not_digit: float = 0.0

    @property
    def digit(self) -> int | None:
        return int(np.argmax(self.probs)) if self.verdict == "digit" else None


def parts_apart(images: np.ndarray) -> np.ndarray:
    """Images the network sees (N, SIDE, SIDE) -> (N,) bool: two or more parts side by side."""
    return np.array([side_by_side(image) for image in images], bool)


def verdict(out: np.ndarray, apart: bool) -> tuple[str, str]:
    """The network's output (K,) for an image, and whether that image is parts side by side
    (``parts_apart``) -> (verdict, reason) for a drawing the network read."""
    if len(out) > CLASSES:                      # a model that can say "not a digit"
        if apart:
            return "not-digit", "side-by-side"
        if out[NOT_DIGIT] > NOT_DIGIT_AT:
            return "not-digit", "not-a-digit"
    return "digit", ""


def predict_drawing(model: Model, pad: np.ndarray, pen: float = 0.0) -> Prediction | None:
    """Pad pixels (H, W) ink 0-255 uint8 -> Prediction, or None for an empty pad or a lone dot.
    pen: the pen's diameter in pad pixels, if known (see ``preprocess.read``)."""
    reading = read(pad, pen)
    if reading.image is None:
        if reading.why == "small":
            return Prediction("not-digit", "too-small", np.zeros((SIDE, SIDE), np.float32),
                              np.zeros(CLASSES, np.float32))
        return None
    out = predict_proba(model, reading.image[None])[0]
    said, reason = verdict(out, len(out) > CLASSES and side_by_side(reading.image))
    not_digit = float(out[NOT_DIGIT]) if len(out) > CLASSES else 0.0
    return Prediction(said, reason, reading.image, out[:CLASSES], not_digit)
