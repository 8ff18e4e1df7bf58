"""Reading a whole number: the drawing cut into characters, each read as a single digit is read.

1. **Characters from the ink**: the pad's columns that hold ink form runs, and each run is a
   character. Strokes that share columns belong together (a 4 or a 5 in two strokes, a 7 with a
   bar, a mark on a digit); characters are ordered left to right. A mark much smaller than the
   tallest character (``MARK``) is left out, as a lone dot is.
2. **Touching digits are cut by the network**: a character wider than ``WIDE`` times its height is
   tried at candidate cuts, the valleys of its column profile (how much ink each column holds) and
   its middle; the cut is kept when the network reads both parts as digits with a higher joint
   probability (the product of each part's top digit probability) than the whole, and each part is
   tried again, up to ``MAX_CHARACTERS`` in all. Candidates are read with one view
   (``predict.LIVE``); the characters kept are read as the caller asks.
3. **Each character is read as a single digit today**: the same preprocessing, the same views,
   the same verdict (``predict.predict_drawing`` on that character's columns of the pad).
4. **One character is read exactly as before**: ``predict_drawing`` on the whole pad.

NumPy only (the page's worker runs it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from digitnet.network import Model
from digitnet.predict import LIVE, VIEWS, Prediction, predict_drawing
from digitnet.preprocess import INK, bounding_box, to_unit

WIDE = 1.15  # a character wider than this many times its height may be two touching digits
MARK = 0.3  # a character whose ink is less than this share of the tallest one's height: a mark
MAX_CHARACTERS = 8  # a number has at most this many characters (cuts stop there)
CUTS = 4  # candidate cuts tried per character: its deepest valleys, and its middle
EDGE = 0.25  # a cut leaves at least this share of the character's height on each side
NOT_A_DIGIT = "?"  # how a character that is not a digit shows in the number


@dataclass(frozen=True)
class Character:
    """One character of the drawing: its ink's box on the pad (``left``/``right`` columns,
    ``top``/``bottom`` rows, end exclusive) and how the network read it."""

    left: int
    right: int
    top: int
    bottom: int
    prediction: Prediction

    @property
    def text(self) -> str:
        digit = self.prediction.digit
        return NOT_A_DIGIT if digit is None else str(digit)


@dataclass(frozen=True)
class NumberReading:
    """The characters left to right, and what they read: ``value`` ("2026", "20?6")."""

    characters: list[Character]

    @property
    def value(self) -> str:
        return "".join(c.text for c in self.characters)


def column_runs(ink: np.ndarray) -> list[tuple[int, int]]:
    """Ink (H, W) in [0, 1] -> the runs of columns holding ink, [(start, stop), ...] left to right."""
    inked = np.concatenate([[False], (ink > 0).any(axis=0), [False]])
    edges = np.flatnonzero(inked[1:] != inked[:-1])
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]


def digit_score(p: Prediction | None) -> float:
    """How surely ``p`` is one digit: its top digit probability, 0 when it is not a digit."""
    return float(p.probs.max()) if p is not None and p.verdict == "digit" else 0.0


def candidate_cuts(ink: np.ndarray, height: int) -> list[int]:
    """Columns (within ``ink``, one character's columns) to try cutting at: up to CUTS, the
    deepest valleys of the column profile first, then the middle, each leaving EDGE x height."""
    w = ink.shape[1]
    lo, hi = int(EDGE * height), w - int(EDGE * height)
    if hi - lo < 1:
        return []
    profile = ink.sum(axis=0)
    inner = np.arange(lo, hi)
    valley = (profile[inner] <= profile[inner - 1]) & (
        profile[inner] <= profile[np.minimum(inner + 1, w - 1)]
    )
    cuts: list[int] = []
    for c in list(inner[valley][np.argsort(profile[inner[valley]], kind="stable")]) + [w // 2]:
        if all(abs(int(c) - d) >= 3 for d in cuts):
            cuts.append(int(c))
        if len(cuts) == CUTS:
            break
    return cuts


def split(model: Model, pad: np.ndarray, ink: np.ndarray, span: tuple[int, int], pen: float, room: int):
    """One character's columns ``span`` -> the spans it reads best as: itself, or cut in two (and
    those cut again) while that reads surer, at most ``room`` spans."""
    a, b = span
    box = bounding_box(ink[:, a:b])
    if box is None or room < 2:
        return [span]
    height = box[1] - box[0]
    if b - a <= WIDE * height:
        return [span]
    whole = digit_score(predict_drawing(model, pad[:, a:b], pen, LIVE))
    best, best_cut = whole, None
    for c in candidate_cuts(ink[:, a:b], height):
        left = digit_score(predict_drawing(model, pad[:, a : a + c], pen, LIVE))
        right = digit_score(predict_drawing(model, pad[:, a + c : b], pen, LIVE))
        if left * right > best:
            best, best_cut = left * right, a + c
    if best_cut is None:
        return [span]
    left = split(model, pad, ink, (a, best_cut), pen, room - 1)
    return left + split(model, pad, ink, (best_cut, b), pen, room - len(left))


def read_number(model: Model, pad: np.ndarray, pen: float = 0.0, views=VIEWS) -> NumberReading | None:
    """Pad pixels (H, W) ink 0-255 uint8 -> the characters it reads as, or None when it reads
    nothing (an empty pad, a lone dot). A drawing of one character reads exactly as
    ``predict_drawing`` reads it."""
    ink = to_unit(pad)
    ink = np.where(ink >= INK / 4, ink, np.float32(0))  # anti-aliasing's faint edges join nothing
    runs = []
    for span in column_runs(ink):
        box = bounding_box(ink[:, span[0] : span[1]])
        if box is not None:
            runs.append((span, box))
    if not runs:
        return None
    tallest = max(box[1] - box[0] for _, box in runs)
    kept = [span for span, box in runs if max(box[1] - box[0], span[1] - span[0]) >= MARK * tallest]
    spans: list[tuple[int, int]] = []
    for i, span in enumerate(kept):
        spans += split(model, pad, ink, span, pen, MAX_CHARACTERS - len(spans) - (len(kept) - i - 1))
    if len(spans) == 1:  # one character: read as a single digit always was, marks and all
        p = predict_drawing(model, pad, pen, views)
        if p is None:
            return None
        top, bottom, left, right = bounding_box(ink)
        return NumberReading([Character(left, right, top, bottom, p)])
    characters = []
    for a, b in spans:
        p = predict_drawing(model, pad[:, a:b], pen, views)
        if p is None:
            continue  # a dot
        top, bottom, left, right = bounding_box(ink[:, a:b])
        characters.append(Character(a + left, a + right, top, bottom, p))
    return NumberReading(characters) if characters else None
