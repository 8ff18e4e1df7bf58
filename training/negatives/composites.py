"""Drawings made of MNIST digits that are not one digit: two or three digits side by side, a
digit beside a letter, a digit with a stray mark far from it.

A digit is drawn as pen strokes (its skeleton, ``training.drawn.digit_strokes``) or placed as
its own ink, upscaled (``training.drawn.ink_layer``). Each part is drawn on a layer of its own
so that its share of the ink can be checked: every part of a row holds at least 15% of it, a
stray mark 8-50%, so the page's speck filter (5%) cannot drop one and leave a single digit.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from digitnet.preprocess import bounding_box, stroke_width
from digitnet.sizes import CANVAS, SIDE
from training.drawn import digit_strokes, ink_box, ink_layer
from training.negatives.fonts import LETTERS, glyph_drawings
from training.negatives.pen import Strokes, path_length
from training.negatives.shapes import MARKS, stray_mark
from training.strokes import PEN_MAX, jitter, pen_range, render_many


def _digit_in_box(paths: Strokes, rng, left: float, top: float, height: float) -> Strokes:
    """Digit strokes (any units) jittered a little, scaled to ``height`` px tall with its top
    left at (left, top) px -> pad fractions."""
    moved = jitter(
        paths, (rng.uniform(-8, 8), rng.uniform(-0.15, 0.15), rng.uniform(-0.1, 0.1)), rng.uniform(0, 1, 6)
    )
    every = np.concatenate(moved)
    lo, hi = every.min(0), every.max(0)
    scale = height / max(float(hi[1] - lo[1]), 1e-6)
    return [((p - lo) * scale + np.array([left, top], np.float32)) / CANVAS for p in moved]


def _compose(items: list[list[tuple]], check: Callable[[list[float]], bool]) -> list[np.ndarray]:
    """Pads from layers: an item is a list of layers ("pen", strokes in pad fractions, width) or
    ("ink", (CANVAS, CANVAS) float 0-255); each layer is drawn alone, ``check`` gets the
    layers' ink sums and says whether to keep the item; a pad is the maximum of its layers."""
    pen = [(i, j) for i, layers in enumerate(items) for j, layer in enumerate(layers) if layer[0] == "pen"]
    rendered = render_many([items[i][j][1] for i, j in pen], [items[i][j][2] for i, j in pen], CANVAS)
    drawn_layers = {key: pad for key, pad in zip(pen, rendered)}
    pads = []
    for i, layers in enumerate(items):
        arrays = [
            drawn_layers[(i, j)].astype(np.float32) if layer[0] == "pen" else layer[1]
            for j, layer in enumerate(layers)
        ]
        if not check([float(a.sum()) for a in arrays]):
            continue
        pads.append(np.round(np.max(arrays, axis=0)).astype(np.uint8))
    return pads


def digit_images(digits) -> np.ndarray:
    """The MNIST images of ``digits`` (a Dataset or an (N, 28, 28) array) as uint8; refuses others."""
    images = getattr(digits, "images", digits)
    images = np.asarray(images, np.uint8)
    if images.ndim != 3 or images.shape[1:] != (SIDE, SIDE) or not len(images):
        raise ValueError(f"digits must be MNIST images (N, {SIDE}, {SIDE}), got shape {images.shape}")
    return images


def make_two_digits(rng, n, digits):
    """Two or three digits side by side, each with at least 15% of the ink."""
    return _side_by_side(rng, n, digits, letter=False)


def make_digit_and_letter(rng, n, digits):
    """A digit beside a letter (and perhaps another digit), each with at least 15% of the ink."""
    return _side_by_side(rng, n, digits, letter=True)


def _side_by_side(rng, n, digits, letter: bool):
    """Two or three drawings in a row, of about the same height, one pen: MNIST digits (as pen
    strokes, or 40% of the rows as their own ink) and, with ``letter``, one letter (``LETTERS``,
    as pen strokes) in a random place of the row."""
    images = digit_images(digits)
    counts = np.where(rng.uniform(size=n) < 0.75, 2, 3)
    picks = [rng.integers(len(images), size=k) for k in counts]
    flat = np.concatenate(picks)
    paths = digit_strokes(images[flat])
    glyph_rows = glyph_drawings(rng, n, LETTERS) if letter else []
    items, at = [], 0
    for row, pick in enumerate(picks):
        k = len(pick)
        own = paths[at : at + k]
        at += k
        aspects = np.array([ink_box(images[p])[1] for p in pick])
        slot = int(rng.integers(k)) if letter else -1  # where the letter goes
        if letter:
            own[slot] = glyph_rows[row]
            every = np.concatenate(own[slot])
            w, h = every.max(0) - every.min(0)
            aspects[slot] = float(np.clip(w / max(float(h), 1e-6), 0.3, 2.0))
        heights = rng.uniform(0.75, 1.0, k)
        widths = heights * aspects
        gaps = rng.uniform(0.05, 0.35, k - 1)
        lefts = np.concatenate([[0], np.cumsum(widths[:-1] + gaps)])
        tops = rng.uniform(-0.12, 0.12, k) + (1 - heights) / 2
        group_w = lefts[-1] + widths[-1]
        group_h = float((tops + heights).max() - tops.min())
        span = rng.uniform(0.5, 0.98) * CANVAS  # the group's longer side, px
        unit = span / max(group_w, group_h)  # px per digit height
        low, high = pen_range(unit, 0.2)
        width = float(low * (high / low) ** rng.uniform())
        unit = min(unit, (CANVAS - width - 2) / max(group_w, group_h))
        margin = width / 2 + 1
        x0 = margin + rng.uniform() * max(0.0, CANVAS - 2 * margin - group_w * unit)
        y0 = margin + rng.uniform() * max(0.0, CANVAS - 2 * margin - group_h * unit) - tops.min() * unit
        as_ink = rng.uniform() < 0.4 or any(not p for p in own)
        layers = []
        for j, p in enumerate(pick):
            left, top, height = x0 + lefts[j] * unit, y0 + tops[j] * unit, heights[j] * unit
            if as_ink and j != slot:
                layers.append(("ink", ink_layer(images[p], left, top, height)))
            else:
                layers.append(("pen", _digit_in_box(own[j], rng, left, top, height), width))
        items.append(layers)
    return _compose(items, lambda ink: min(ink) >= 0.15 * sum(ink))


def make_stray_marks(rng, n, digits):
    """A digit and a separate mark far from it, with 8-50% of the ink."""
    images = digit_images(digits)
    picks = rng.integers(len(images), size=n)
    paths = digit_strokes(images[picks])
    items = []
    for p, own in zip(picks, paths):
        height = rng.uniform(0.3, 0.6) * CANVAS
        aspect = ink_box(images[p])[1]
        left = rng.uniform(2, max(2.0, CANVAS - 2 - height * aspect))
        top = rng.uniform(2, CANVAS - 2 - height)
        low, high = pen_range(height, 0.2)
        width = float(low * (high / low) ** rng.uniform())
        if rng.uniform() < 0.4 or not own:
            layer = ink_layer(images[p], left, top, height)
            digit = ("ink", layer)
            width = float(np.clip(stroke_width(layer / 255), low, PEN_MAX * CANVAS))
            digit_ink = float(layer.sum()) / 255
        else:
            placed = _digit_in_box(own, rng, left, top, height)
            digit = ("pen", placed, width)
            digit_ink = path_length(placed) * CANVAS * width
        box = bounding_box(digit[1]) if digit[0] == "ink" else None
        every = np.concatenate(digit[1]) * CANVAS if digit[0] == "pen" else None
        if box is not None:
            d_lo, d_hi = np.array([box[2], box[0]], float), np.array([box[3], box[1]], float)
        elif every is not None:
            d_lo, d_hi = every.min(0) - width / 2, every.max(0) + width / 2
        else:
            continue
        share = rng.uniform(0.12, 0.4)
        name = MARKS[rng.integers(len(MARKS))]
        mark = stray_mark(rng, name)
        # a mark, not a dot: several pen widths long (a loop twice as many)
        length = max(share / (1 - share) * digit_ink / width, (10 if name == "loop" else 6) * width)
        mark = [m * length for m in mark]
        m_every = np.concatenate(mark)
        m_lo, m_hi = m_every.min(0) - width / 2 - 1, m_every.max(0) + width / 2 + 1
        gap = max(14.0, 0.3 * height)
        room = CANVAS - (m_hi - m_lo)
        if (room < 0).any():
            continue
        for _ in range(30):
            at = rng.uniform(0, 1, 2) * room  # where m_lo goes
            lo, hi = at, at + (m_hi - m_lo)
            if lo[0] > d_hi[0] + gap or hi[0] < d_lo[0] - gap:  # beside it (above: an i or !)
                shift = at - m_lo
                items.append([digit, ("pen", [(m + shift) / CANVAS for m in mark], width)])
                break
    return _compose(items, lambda ink: 0.08 * sum(ink) <= ink[1] <= 0.5 * sum(ink))
