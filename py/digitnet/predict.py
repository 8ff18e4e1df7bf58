"""What the page asks of Python: pad pixels in, the network's view and probabilities out.

``digitnet.browser`` (the page's Web Worker) calls ``predict_drawing`` for
every drawing; the benchmarks and tests call it in CPython.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from digitnet.network import Model, predict_proba
from digitnet.preprocess import to_mnist


@dataclass(frozen=True)
class Prediction:
    """image: (SIDE, SIDE) float32 in [0, 1], what the network sees.
    probs: (CLASSES,) float32, probability of each digit 0-9."""

    image: np.ndarray
    probs: np.ndarray

    @property
    def digit(self) -> int:
        return int(np.argmax(self.probs))


def predict_drawing(model: Model, pad: np.ndarray) -> Prediction | None:
    """Pad pixels (H, W) ink 0-255 uint8 -> Prediction, or None for an empty pad or a lone dot."""
    image = to_mnist(pad)
    if image is None:
        return None
    return Prediction(image, predict_proba(model, image[None])[0])
