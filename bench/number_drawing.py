"""Whole numbers drawn as the page's pen would draw them: MNIST digits' strokes laid out left to
right on the page's model canvas with one of three spacings (``write_numbers``), measured on the
ink, the pen's width included, in units of the number's digit height H:

apart       the ink boxes of neighbours apart by 0.25-0.5 H;
close       apart by 0.02-0.06 H (a pixel or two: anti-aliased edges may join them);
touching    each digit moved left until its ink meets the ink already drawn, then 0-0.1 H
            further: strokes touch or cross, the ink boxes overlap.

``bench.number_bench`` reads them; ``bench.page_number`` sets them on the page.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from digitnet.sizes import CANVAS
from digitnet.strokes import Strokes
from training.drawn import digit_strokes
from training.strokes import jitter, pen_range, render_many

SPACINGS = {"apart": (0.25, 0.5), "close": (0.02, 0.06), "touching": (0.0, 0.1)}
HEIGHTS = (0.85, 1.0)  # each digit's height, of the number's H
BASELINE = 0.06  # each digit's centre moves up or down by up to this much of H
FILL = (0.6, 0.95)  # the number's width, of the pad's
TALL = (0.3, 0.8)  # ...and its height at most this much of the pad's
STEP = 0.01  # strokes resampled every STEP x H to find where two digits' ink meets


@dataclass
class Written:
    """A drawn number: the pad (CANVAS, width) uint8, the pen's diameter (px), the digits."""

    pad: np.ndarray
    pen: float
    label: str
    overlap: float  # the largest overlap of neighbours' ink boxes, in digit heights (< 0: a gap)
    columns: list[tuple[float, float]]  # each digit's ink from column to column (px), left to right
    alone: np.ndarray  # (digits, CANVAS, width) uint8: each digit drawn by itself, where it is
    strokes: list[np.ndarray]  # the number's strokes, points (x, y) in pad sides (as the page's setStrokes)
    per_digit: tuple[int, ...] = ()  # how many of the strokes each digit has, left to right

    def pen_strokes(self, pen: float | None = None) -> Strokes:
        """Its strokes in pad pixels, as the page sends them, drawn with ``pen`` px (None: its own)."""
        side = max(self.pad.shape)
        return Strokes([s * side for s in self.strokes], self.pen if pen is None else pen, self.pad.shape)


def resample(paths: list[np.ndarray], step: float) -> np.ndarray:
    """Points (k, 2) along polylines, at most ``step`` apart."""
    out = []
    for p in paths:
        p = np.asarray(p, np.float64).reshape(-1, 2)
        if len(p) == 1:
            out.append(p)
            continue
        for a, b in zip(p[:-1], p[1:]):
            n = max(1, int(np.ceil(np.hypot(*(b - a)) / step)))
            out.append(a + (b - a) * (np.arange(n)[:, None] / n))
        out.append(p[-1:])
    return np.concatenate(out)


def contact(placed: np.ndarray, pts: np.ndarray, reach: float) -> float:
    """How far right of its place ``pts`` may start before its pen (discs of diameter ``reach``
    around the points) meets ``placed``'s, coming from the right: the largest x of the
    meeting-point shift, so ``pts + (s, 0)`` just touches for s = the answer."""
    dy = pts[None, :, 1] - placed[:, None, 1]
    near = np.abs(dy) < reach
    need = placed[:, None, 0] - pts[None, :, 0] + np.sqrt(np.maximum(reach**2 - dy**2, 0))
    return float(need[near].max()) if near.any() else float(placed[:, 0].max() - pts[:, 0].min())


def lay_out(
    paths: list[list[np.ndarray]],
    spacing: str,
    rng: np.random.Generator,
    width: int,
    pen_px: float | None = None,
) -> tuple[list[list[np.ndarray]], float, float, list[tuple[float, float]]]:
    """One number's digits (each its strokes, any units) -> (each digit's strokes in pad pixels, the pen's
    diameter in pixels, the largest box overlap of neighbours in digit heights, each digit's ink
    columns in pixels) on a CANVAS x ``width`` pad; see the module docstring for the spacing.
    ``pen_px``: this pen (pixels) rather than one from the range the digit height allows."""
    k = len(paths)
    digits = []
    for p in paths:
        moved = jitter(
            p,
            (rng.uniform(-8, 8), rng.uniform(-0.15, 0.15), rng.uniform(-0.12, 0.12)),
            rng.uniform(0, 1, 6),
        )
        every = np.concatenate(moved)
        lo, hi = every.min(0), every.max(0)
        h = rng.uniform(*HEIGHTS)
        top = (1 - h) / 2 + rng.uniform(-BASELINE, BASELINE)
        scale = h / max(float(hi[1] - lo[1]), 1e-6)
        digits.append([(q - lo) * scale + np.array([0.0, top]) for q in moved])
    gaps = rng.uniform(*SPACINGS[spacing], k - 1)
    fill, tall, pen_at = rng.uniform(*FILL), rng.uniform(*TALL), rng.uniform()
    pen = 0.1  # in H; settled below with the pixel size
    for _ in range(3):  # the pen depends on H in pixels, H on the number's width, that on the pen
        placed, boxes = [], []
        for j, d in enumerate(digits):
            every = np.concatenate(d)
            if j == 0:
                dx = -every[:, 0].min()
            elif spacing == "touching":
                pts = resample(d, STEP)
                dx = contact(np.concatenate(placed), pts, pen) - gaps[j - 1]
            else:
                dx = boxes[-1][1] + gaps[j - 1] + pen - every[:, 0].min()
            moved = [q + np.array([dx, 0.0]) for q in d]
            placed.append(resample(moved, STEP))
            every = np.concatenate(moved)
            boxes.append((float(every[:, 0].min()), float(every[:, 0].max())))
            digits[j] = moved
        every = np.concatenate([np.concatenate(d) for d in digits])
        lo, hi = every.min(0) - pen / 2, every.max(0) + pen / 2
        group_w, group_h = hi - lo
        unit = min(fill * width / group_w, tall * CANVAS / group_h)  # px per H
        low, high = pen_range(unit)  # at most PEN_THICKEST of H
        drawn_px = float(low * (high / low) ** pen_at) if pen_px is None else pen_px
        pen = drawn_px / unit
    overlap = max(boxes[j][1] - boxes[j + 1][0] + pen for j in range(k - 1)) if k > 1 else -np.inf
    size = np.array([group_w, group_h]) * unit
    margin = drawn_px / 2 + 1
    room = np.maximum(0, np.array([width, CANVAS]) - 2 * margin - size)
    origin = margin + room * rng.uniform(0, 1, 2)
    strokes = [[(q - lo) * unit + origin for q in d] for d in digits]
    columns = [
        ((a - pen / 2 - lo[0]) * unit + origin[0], (b + pen / 2 - lo[0]) * unit + origin[0]) for a, b in boxes
    ]
    return strokes, drawn_px, float(overlap), columns


def write_numbers(
    images: np.ndarray,
    labels: np.ndarray,
    lengths: list[int],
    spacing: str,
    seed: int,
    width: int,
    stream: int,
    pen_px: float | None = None,
) -> list[Written]:
    """len(lengths) numbers of that many test digits each (picked at random; a digit whose skeleton
    is empty is left out), drawn with ``spacing`` on a CANVAS x ``width`` pad; ``stream``: which
    of the seed's random streams; ``pen_px``: every number drawn with this pen (pixels)."""
    rng = np.random.default_rng([seed, stream])
    picks = [rng.integers(len(images), size=k) for k in lengths]
    paths = digit_strokes(images[np.concatenate(picks)])
    drawings, pens, meta, counts, at = [], [], [], [], 0
    side = max(width, CANVAS)
    single, single_pens = [], []
    for pick in picks:
        own = paths[at : at + len(pick)]
        at += len(pick)
        keep = [j for j, p in enumerate(own) if p]
        own, pick = [own[j] for j in keep], pick[keep]
        if not own:
            continue
        strokes, pen, overlap, columns = lay_out(own, spacing, rng, width, pen_px)
        drawings.append([s / side for d in strokes for s in d])
        pens.append(pen)
        single += [[s / side for s in d] for d in strokes]
        single_pens += [pen] * len(strokes)
        meta.append(("".join(str(int(labels[i])) for i in pick), overlap, columns))
        counts.append(tuple(len(d) for d in strokes))
    pads = render_many(drawings, pens, side)[:, :CANVAS, :width]
    alone = render_many(single, single_pens, side)[:, :CANVAS, :width]
    starts = np.cumsum([0] + [len(m[0]) for m in meta])
    return [
        Written(p, w, *m, alone[a:b], d, c)
        for p, w, m, a, b, d, c in zip(pads, pens, meta, starts, starts[1:], drawings, counts)
    ]
