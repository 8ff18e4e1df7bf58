"""The last check on every not-a-digit example: is it, as the network sees it, a 1 or a 0?

A lone straight line is a 1 and an ellipse is a 0 to any reader, however they were made
(a round letter, a short scribble, a thick dot). ``lookalike`` compares an image read by
``to_mnist`` with such lines and ellipses drawn and read the same way; one closer than
LOOKALIKE (cosine similarity) is not a fair example of "not a digit" and is drawn again.
"""

from __future__ import annotations

import functools

import numpy as np

from digitnet.preprocess import to_mnist
from digitnet.sizes import CANVAS
from training.strokes import render_many

LOOKALIKE = 0.8  # cosine similarity to a lone line or an ellipse: a 1 or a 0 (see lookalike)


@functools.lru_cache(maxsize=1)
def lookalike_templates() -> tuple[np.ndarray, np.ndarray]:
    """What a 1 or a 0 at its simplest looks like once ``to_mnist`` has read it: lone straight
    lines (within 45 degrees of upright) and ellipses (width/height 0.3-1, tilted up to 30
    degrees), each drawn with pens of 3, 8 and 13 px. -> (unit-length rows (k, 784) float32,
    names (k,): "line" or "ellipse")."""
    drawings, widths, names = [], [], []
    for degrees in range(-45, 46, 5):
        a = np.deg2rad(degrees)
        dx, dy = 0.35 * np.sin(a), 0.35 * np.cos(a)
        for w in (3, 8, 13):
            drawings.append([[(0.5 - dx, 0.5 - dy), (0.5 + dx, 0.5 + dy)]])
            widths.append(w)
            names.append("line")
    t = np.linspace(0, 2 * np.pi, 60)
    for aspect in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0):
        for degrees in (-30, -15, 0, 15, 30):
            a = np.deg2rad(degrees)
            x, y = 0.35 * aspect * np.cos(t), 0.35 * np.sin(t)
            ring = np.stack([0.5 + x * np.cos(a) - y * np.sin(a), 0.5 + x * np.sin(a) + y * np.cos(a)], 1)
            for w in (3, 8, 13):
                drawings.append([ring])
                widths.append(w)
                names.append("ellipse")
    rows = np.stack([to_mnist(pad) for pad in render_many(drawings, widths, CANVAS)]).reshape(len(names), -1)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True), np.array(names)


def lookalike(images: np.ndarray) -> np.ndarray:
    """Which images ((N, 28, 28), any scale) are closer than LOOKALIKE (cosine similarity) to a
    lone line or an ellipse of ``lookalike_templates``: a 1 or a 0 to a reader. (N,) bool.
    Of MNIST's digits this flags most 1s, many 0s and almost no other digit."""
    x = np.asarray(images, np.float32).reshape(len(images), -1)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)
    return (x @ lookalike_templates()[0].T).max(axis=1) > LOOKALIKE
