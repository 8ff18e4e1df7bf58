"""What the page asks of Python: pad pixels in; the verdict, the network's view and probabilities out.

``digitnet.browser`` (the page's Web Worker) calls ``predict_drawing`` for
every drawing; the benchmarks and tests call it in CPython.

The verdict (``verdict``): "digit" (the network's most probable output is a digit), or
"not-digit" with a reason a person can act on: "side-by-side" (the image the network sees is two
or more parts next to each other, ``preprocess.side_by_side``: one digit at a time), "not-a-digit"
(the network's NOT_DIGIT output is over NOT_DIGIT_AT: more probable than any digit at all), or
"too-small" (the ink is too short for its stroke width to read: draw it larger). A model without
the NOT_DIGIT output (10 classes) always says "digit".
An empty pad or a lone dot gives no prediction at all (None): the page shows a prompt, never a
guess. ``training.evaluate`` counts rejections by the same ``verdict``.

The network reads each image in ``VIEWS`` ways (``read_proba``): as it is and moved one pixel
in each of the eight directions, and the nine probability vectors are averaged (test-time
augmentation). A digit the network half-reads one way is usually read right the other eight,
with the same weights (docs/results.md). Computed from the ink pixels (``first_layer_views``), the
nine readings take about three times as long as one; the page reads each pen move with one view
(``LIVE``, the bars follow the pen) and reads the finished drawing, once the pen lifts, with all
nine: that reading is the verdict, the one ``training.evaluate`` and the benchmarks measure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from digitnet.network import Model, dot, forward, predict_proba, relu, softmax
from digitnet.preprocess import frame, read, side_by_side
from digitnet.sizes import CLASSES, NOT_DIGIT, PIXELS, SIDE

VERDICTS = ("empty", "digit", "not-digit", "number")  # "number": two or more characters (digitnet.number)
NOT_DIGIT_AT = 0.5  # "not a digit" when that is more probable than all ten digits together
REASONS = ("", "not-a-digit", "side-by-side", "too-small")
#: (rows down, columns right) the image is moved by before each reading; (0, 0) first.
VIEWS = ((0, 0),) + tuple((dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0))
LIVE = VIEWS[:1]  # while the pen is down: one plain reading per pen move (about a third of the time)


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


def shifted(images: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Images (N, H, W) moved ``dy`` rows down and ``dx`` columns right (either may be negative,
    less than the image's size), zeros coming in -> (N, H, W) same dtype."""
    n, h, w = images.shape
    m = max(abs(dy), abs(dx))
    return frame(images, m)[:, m - dy : m - dy + h, m - dx : m - dx + w]


def empty_response(model: Model) -> np.ndarray:
    """The first layer's pre-activations (n_1,) float32 for an empty image: b - mean / std * (the
    sum of W's rows)."""
    return model.biases[0] - np.float32(model.mean) / np.float32(model.std) * model.weights[0].sum(axis=0)


def first_layer_views(
    model: Model, image: np.ndarray, views=VIEWS, empty: np.ndarray | None = None
) -> np.ndarray:
    """The first layer's pre-activations (V, n_1) float32 for ``image`` (SIDE, SIDE) moved by each
    of ``views``, from its ink alone: moving the image by s is reading each ink pixel p with the
    weights of pixel p + s, so z_v = (sum over the ink of x[p] W[p + s_v]) / std + z_empty, where
    z_empty is the layer's answer to an empty image (``empty_response``, computed here unless
    given). A drawing has 100-250 ink pixels of 784, and the views moved by a pixel land on
    nearly the same ones: each weight row any view reads is taken once, and nine views cost
    about two dense readings of this layer, not nine."""
    w = model.weights[0]
    flat = image.reshape(-1)
    ink = np.flatnonzero(flat)
    rows, cols = np.divmod(ink, SIDE)
    dy, dx = (np.array(views).T)[:, :, None]  # (V, 1) each
    r, c = rows + dy, cols + dx  # (V, k): where each ink pixel goes
    inside = (r >= 0) & (r < SIDE) & (c >= 0) & (c < SIDE)
    goes = np.where(inside, r * SIDE + c, PIXELS)  # PIXELS: moved out of the image, gone
    used, at = np.unique(goes, return_inverse=True)  # the weight rows read, each once
    x = np.zeros((len(views), len(used)), np.float32)  # each view's ink on those rows
    x[np.arange(len(views))[:, None], at.reshape(goes.shape)] = flat[ink]
    if used[-1] == PIXELS:
        used, x = used[:-1], x[:, :-1]
    return dot(x, w[used]) / np.float32(model.std) + (empty_response(model) if empty is None else empty)


def read_proba(model: Model, images: np.ndarray, views=VIEWS, empty: np.ndarray | None = None) -> np.ndarray:
    """Images (N, SIDE, SIDE) in [0, 1] -> (N, K) float32, the network's probabilities averaged
    over the image moved by each of ``views`` (see the module's docstring): the same as averaging
    ``predict_proba`` of each moved image, computed from the ink (``first_layer_views``).
    ``views=VIEWS[:1]``: one plain reading, ``network.predict_proba`` over the whole batch.
    ``empty``: the model's ``empty_response``, when the caller keeps it (it is a sum over the
    whole first layer)."""
    images = np.asarray(images, np.float32).reshape(-1, SIDE, SIDE)
    if tuple(views) == ((0, 0),):
        return predict_proba(model, images)
    out = np.empty((len(images), model.sizes[-1]), np.float32)
    empty = empty_response(model) if empty is None else empty
    for i, image in enumerate(images):
        z = first_layer_views(model, image, views, empty)
        if len(model.weights) > 1:
            z = forward(model.weights[1:], model.biases[1:], relu(z))[-1]
        out[i] = softmax(z).mean(axis=0)
    return out


def parts_apart(images: np.ndarray) -> np.ndarray:
    """Images the network sees (N, SIDE, SIDE) -> (N,) bool: two or more parts side by side."""
    return np.array([side_by_side(image) for image in images], bool)


def said_classes(probs: np.ndarray, apart: np.ndarray | None = None) -> np.ndarray:
    """The page's verdict as a class, for many readings: probabilities (N, K) and whether each
    image is parts side by side (``parts_apart``; None: none is) -> (N,) ints. For a model with the
    NOT_DIGIT output, NOT_DIGIT when the image is parts side by side or that output is over
    NOT_DIGIT_AT, else the most probable digit; for a digits-only model the most probable one."""
    if probs.shape[1] <= CLASSES:
        return probs.argmax(axis=1)
    rejected = probs[:, NOT_DIGIT] > NOT_DIGIT_AT
    if apart is not None:
        rejected |= apart
    return np.where(rejected, NOT_DIGIT, probs[:, :CLASSES].argmax(axis=1))


def verdict(out: np.ndarray, apart: bool) -> tuple[str, str]:
    """The network's output (K,) for an image, and whether that image is parts side by side
    (``parts_apart``) -> (verdict, reason) for a drawing the network read."""
    if len(out) > CLASSES:  # a model that can say "not a digit"
        if apart:
            return "not-digit", "side-by-side"
        if out[NOT_DIGIT] > NOT_DIGIT_AT:
            return "not-digit", "not-a-digit"
    return "digit", ""


def predict_drawing(
    model: Model, pad: np.ndarray, pen: float = 0.0, views=VIEWS, empty: np.ndarray | None = None
) -> Prediction | None:
    """Pad pixels (H, W) ink 0-255 uint8 -> Prediction, or None for an empty pad or a lone dot.
    pen: the pen's diameter in pad pixels, if known (see ``preprocess.read``). views: how the
    network reads the image (``read_proba``); the page reads with one view while the pen is
    down (``LIVE``) and with all nine once it lifts. empty: as ``read_proba`` takes it."""
    reading = read(pad, pen)
    if reading.image is None:
        if reading.why == "small":
            return Prediction(
                "not-digit", "too-small", np.zeros((SIDE, SIDE), np.float32), np.zeros(CLASSES, np.float32)
            )
        return None
    out = read_proba(model, reading.image[None], views, empty)[0]
    said, reason = verdict(out, len(out) > CLASSES and side_by_side(reading.image))
    not_digit = float(out[NOT_DIGIT]) if len(out) > CLASSES else 0.0
    return Prediction(said, reason, reading.image, out[:CLASSES], not_digit)
