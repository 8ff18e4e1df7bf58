"""What the page asks of Python: pad pixels in; the verdict, the network's view and probabilities out.

``digitnet.browser`` (the page's Web Worker) calls ``predict_drawing`` for
every drawing; the benchmarks and tests call it in CPython.

The verdict: "digit" (the network's most probable output is a digit), or "not-digit" with a
reason a person can act on: "not-a-digit" (the network's NOT_DIGIT output wins), "side-by-side"
(it does, and the drawing is two or more parts next to each other: one digit at a time), or
"too-small" (the ink is too short for its stroke width to read: draw it larger). An empty pad
or a lone dot gives no prediction at all (None): the page shows a prompt, never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from digitnet.network import Model, predict_proba
from digitnet.preprocess import read, side_by_side
from digitnet.sizes import CLASSES, NOT_DIGIT, SIDE

VERDICTS = ("empty", "digit", "not-digit")
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
    probs = out[:CLASSES]
    not_digit = float(out[NOT_DIGIT]) if len(out) > CLASSES else 0.0
    if not_digit > probs.max():
        reason = "side-by-side" if side_by_side(pad) else "not-a-digit"
        return Prediction("not-digit", reason, reading.image, probs, not_digit)
    return Prediction("digit", "", reading.image, probs, not_digit)
