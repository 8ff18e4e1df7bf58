"""How surely candidate parts of a drawing read as digits, quickly: the scores the number reader
searches over (``digitnet.cuts`` for cuts of the ink, ``digitnet.strokes`` for runs of strokes).

A candidate is read with one view (``glance``: the page's preprocessing less its speck pass) and
scored by the log of its most probable digit's probability (``digit_scores``); the best way to
read a character as several is the most probable path over the candidates (``most_probable``).

NumPy only (the page's worker runs it).
"""

from __future__ import annotations

import numpy as np

from digitnet.network import Model
from digitnet.pieces import Piece
from digitnet.predict import LIVE, read_proba
from digitnet.preprocess import (
    INK,
    MIN_ASPECT,
    bounding_box,
    normalize_stroke,
    place,
    resize_area,
    stroke_width,
    to_working_size,
)
from digitnet.sizes import BOX, CLASSES

LOW = 0.6  # a part whose ink is less high than this share of the height: a piece of a digit
CUT_COST = 0.2  # log-score any cut costs
PENALTY = -8.0  # log-score of a part read as nothing


def glance(ink: np.ndarray, width: float) -> np.ndarray | None:
    """A candidate part's ink (h, w) float32 in [0, 1], cropped to its ink over INK, its strokes
    ``width`` px wide (``preprocess.stroke_width``) -> the 28x28 image ``preprocess.read`` makes
    of it, less the speck pass (about half its time; a candidate's fragments then cost it a
    little), or None when it is too small to read."""
    crop = to_working_size(ink)
    if crop.shape != ink.shape:
        width *= max(crop.shape) / max(ink.shape)
    if max(crop.shape) < MIN_ASPECT * width:
        return None
    crop = normalize_stroke(crop, width)
    box = bounding_box(crop)
    if box is None:
        return None
    crop = crop[box[0] : box[1], box[2] : box[3]]
    h, w = crop.shape
    scale = BOX / max(h, w)
    return place(np.clip(resize_area(crop, (max(1, round(h * scale)), max(1, round(w * scale)))), 0, 1))


def digit_scores(model: Model, parts: list[Piece], height: int) -> np.ndarray:
    """Log-scores of parts read as one digit each with one view (``LIVE``), each ``glance``d at:
    the log of the most probable digit's probability; PENALTY for a part that reads as nothing
    or whose ink is less high than LOW x ``height``."""
    out = np.full(len(parts), PENALTY)
    images, where = [], []
    for i, part in enumerate(parts):
        box = bounding_box(part.image, INK * 255)
        if box is None or box[1] - box[0] < LOW * height:
            continue
        ink = part.image[box[0] : box[1], box[2] : box[3]].astype(np.float32) / np.float32(255)
        image = glance(ink, stroke_width(ink))
        if image is not None:
            images.append(image)
            where.append(i)
    if images:
        probs = read_proba(model, np.stack(images), LIVE)[:, :CLASSES]
        out[where] = np.maximum(np.log(np.maximum(probs.max(axis=1), 1e-12)), PENALTY)
    return out


def most_probable(n: int, scores: dict[tuple[int, int], float], room: int) -> list[int]:
    """The best way through nodes 0..n-1 in steps (i, j), i < j, each worth ``scores[(i, j)]``
    (steps not given cannot be taken), each step but the last costing CUT_COST, at most ``room``
    steps -> the nodes between the steps ([]: no way through)."""
    best = np.full(n, -np.inf)
    count = np.zeros(n, int)
    back = np.full(n, -1)
    best[0] = 0.0
    for i, j in sorted(scores):  # ordered by i: best[i] is final when it is used
        if best[i] == -np.inf or count[i] >= room:
            continue
        v = best[i] + scores[(i, j)] - (CUT_COST if j < n - 1 else 0.0)
        if v > best[j]:
            best[j], back[j], count[j] = v, i, count[i] + 1
    if best[n - 1] == -np.inf:
        return []
    nodes, j = [], int(back[n - 1])
    while j > 0:
        nodes.append(j)
        j = int(back[j])
    return nodes[::-1]
