"""Digits drawn as simple strokes, and a NumPy renderer like the page's pad.

A stroke is a list of (x, y) points in pad coordinates [0, 1] (x right, y down); ``DIGITS``
(one drawing of each digit) lives in ``digitnet.samples``, where the page gets its samples from.
``transform`` makes small, large and off-centre variants; ``render`` draws
them into a (size, size) uint8 ink image with round caps and joins, as the
page's canvas does. Used by unit tests (through ``render``) and by end-to-end
tests (which draw the same strokes with the mouse).

For training data (``training.drawn``, ``training.negatives``): ``jitter`` (a hand's small
rotation, shear, stretch and wobble), ``place`` (a size, a place and a pen width from the page's
range, ``PEN_MIN``-``PEN_MAX`` of the pad) and ``render_many`` (the same pen as ``render`` for
thousands of drawings at once, vectorised).
"""

from __future__ import annotations

import numpy as np

from digitnet.samples import DIGITS as DIGITS  # one drawing of each digit, kept once: the page's samples
from digitnet.samples import Stroke
from digitnet.sizes import CANVAS, PEN_MAX, PEN_MIN, PEN_THICKEST


def transform(strokes: list[Stroke], scale: float = 1.0, dx: float = 0.0, dy: float = 0.0) -> list[Stroke]:
    """Scale about the pad centre, then shift by (dx, dy) pad fractions."""
    return [[(0.5 + (x - 0.5) * scale + dx, 0.5 + (y - 0.5) * scale + dy) for x, y in s] for s in strokes]


def render(strokes: list[Stroke], size: int = 280, width: float = 20.0) -> np.ndarray:
    """Draw strokes with a round brush of ``width`` pixels into (size, size) uint8 ink, anti-aliased."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    dist = np.full((size, size), np.inf, np.float32)
    for stroke in strokes:
        pts = np.asarray(stroke, np.float32) * size
        if len(pts) == 1:
            pts = np.concatenate([pts, pts])
        for (x0, y0), (x1, y1) in zip(pts[:-1], pts[1:]):
            vx, vy = x1 - x0, y1 - y0
            t = ((xx - x0) * vx + (yy - y0) * vy) / max(vx * vx + vy * vy, 1e-12)
            t = np.clip(t, 0, 1)
            d = np.hypot(xx - (x0 + t * vx), yy - (y0 + t * vy))
            np.minimum(dist, d, out=dist)
    ink = np.clip(width / 2 - dist + 0.5, 0, 1)
    return (ink * 255).round().astype(np.uint8)


# ----------------------------------------------------------------- many drawings at once
# What follows draws thousands of pads quickly (training.drawn, training.negatives): the same
# round, anti-aliased pen as ``render`` (ink = clip(width/2 - distance + 0.5, 0, 1)), computed only
# near each segment and vectorised over all segments of all drawings.

_PATCH_ENTRIES = 1 << 21  # pixels of segment neighbourhoods evaluated at a time (bounds memory)
_DRAWINGS_AT_ONCE = 256  # pads rendered into one float buffer (bounds memory)


def jitter(strokes, affine=(0.0, 0.0, 0.0), wobble=None) -> list[np.ndarray]:
    """A hand's variation of strokes (polylines (k, 2) of (x, y), any units): ``affine`` =
    (rotation in degrees, horizontal shear, log of the x/y stretch) about the drawing's centre,
    then ``wobble`` (6 numbers in [0, 1), or None): two slow waves that bend the lines by up to 2%
    of the drawing's size. The displacement depends on where a point is, not on its stroke, so
    strokes that met still meet."""
    pts = [np.asarray(s, np.float32).reshape(-1, 2) for s in strokes]
    if not pts or not sum(len(p) for p in pts):
        return pts
    every = np.concatenate(pts)
    lo, hi = every.min(axis=0), every.max(axis=0)
    centre, extent = (lo + hi) / 2, float(max(hi - lo)) or 1.0
    angle, shear, stretch = np.deg2rad(affine[0]), affine[1], np.exp(affine[2] / 2)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    m = (rot @ np.array([[1.0, shear], [0.0, 1.0]]) @ np.diag([stretch, 1 / stretch])).astype(np.float32)
    out = [(p - centre) @ m.T for p in pts]
    if wobble is not None:
        amp, a1, p1, a2, p2, wave = (float(v) for v in wobble)
        amp *= 0.02 * extent
        k = 2 * np.pi / ((0.6 + 0.9 * wave) * extent)
        d1 = np.array([np.cos(2 * np.pi * a1), np.sin(2 * np.pi * a1)], np.float32) * k
        d2 = np.array([np.cos(2 * np.pi * a2), np.sin(2 * np.pi * a2)], np.float32) * k
        out = [
            p + amp * np.stack([np.sin(p @ d1 + 2 * np.pi * p1), np.sin(p @ d2 + 2 * np.pi * p2)], 1)
            for p in out
        ]
    return [p.astype(np.float32) for p in out]


def pen_range(extent_px: float, thickest: float = PEN_THICKEST, canvas: int = CANVAS) -> tuple[float, float]:
    """(thinnest, thickest) pen diameter in pixels for a drawing ``extent_px`` pixels across: the
    page's range (PEN_MIN-PEN_MAX of the pad), but at most ``thickest`` x the drawing's size so
    that it stays legible (both ends the page's minimum if that is more)."""
    low = PEN_MIN * canvas
    return low, max(low, min(PEN_MAX * canvas, thickest * extent_px))


def place(
    strokes,
    size: float,
    pen: float,
    position,
    thickest: float = PEN_THICKEST,
    canvas: int = CANVAS,
    by_area: bool = False,
    width: float | None = None,
) -> tuple[list[np.ndarray], float]:
    """Put strokes (any units) on the pad: the longer side of their bounding box becomes ``size``
    (a fraction of the pad), the pen diameter is ``pen`` (0-1) of the way from the thinnest to the
    thickest pen (``pen_range``, log scale) unless ``width`` (px) is given, and ``position`` (two
    numbers 0-1) picks where the drawing goes among the places where the pen stays on the pad.
    The thickest pen is ``thickest`` x the drawing's longer side, or with ``by_area`` x the
    square root of its box's area (a long flat drawing gets a thinner pen, so it stays a drawing
    and not a bar). -> (strokes in pad fractions, pen diameter in pixels)."""
    pts = [np.asarray(s, np.float32).reshape(-1, 2) for s in strokes]
    every = np.concatenate(pts)
    lo, hi = every.min(axis=0), every.max(axis=0)
    extent = float(max(hi - lo))
    reference = size
    if by_area and extent > 0:
        w, h = (hi - lo) / extent
        reference = size * max(float(np.sqrt(w * h)), 0.25)
    if width is None:
        low, high = pen_range(reference * canvas, thickest, canvas)
        width = float(low * (high / low) ** pen)
    size = min(size, 1 - (width + 2) / canvas)  # the pen's edge stays on the pad
    scale = size / extent if extent > 0 else 0.0
    box = (hi - lo) * scale
    margin = (width / 2 + 1) / canvas
    room = np.maximum(0, 1 - 2 * margin - box)
    origin = margin + room * np.asarray(position, np.float32)
    return [((p - lo) * scale + origin).astype(np.float32) for p in pts], width


def _segments(strokes, size: int) -> np.ndarray:
    """(k, 4) float32 segments x0, y0, x1, y1 in pixels of one drawing's strokes (a lone point
    is a segment of length 0)."""
    parts = []
    for stroke in strokes:
        pts = np.asarray(stroke, np.float32).reshape(-1, 2) * np.float32(size)
        if len(pts) == 0:
            continue
        if len(pts) == 1:
            pts = np.concatenate([pts, pts])
        parts.append(np.concatenate([pts[:-1], pts[1:]], axis=1))
    return np.concatenate(parts) if parts else np.zeros((0, 4), np.float32)


def _split(seg: np.ndarray, owner: np.ndarray, width: np.ndarray, longest: np.ndarray):
    """Cut segments longer than ``longest`` (per segment) into equal pieces: a round pen's
    neighbourhood of a short piece is a small square, so less work in all."""
    length = np.hypot(seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1])
    pieces = np.maximum(1, np.ceil(length / longest)).astype(np.int64)
    if (pieces == 1).all():
        return seg, owner, width
    idx = np.repeat(np.arange(len(seg)), pieces)
    first = np.cumsum(pieces) - pieces
    k = (np.arange(len(idx)) - first[idx]).astype(np.float32)
    n = pieces[idx].astype(np.float32)
    a, b = seg[idx, :2], seg[idx, 2:]
    t0, t1 = (k / n)[:, None], ((k + 1) / n)[:, None]
    return np.concatenate([a + (b - a) * t0, a + (b - a) * t1], axis=1), owner[idx], width[idx]


def render_many(drawings, widths, size: int = 280) -> np.ndarray:
    """``render`` for many drawings at once: drawings[i] is a list of strokes (points in pad
    fractions, x right, y down) drawn with a round pen of widths[i] pixels -> (N, size, size)
    uint8 ink, the same pixels as ``render`` (to rounding)."""
    widths = np.broadcast_to(np.asarray(widths, np.float32), (len(drawings),))
    out = np.empty((len(drawings), size, size), np.uint8)
    for i in range(0, len(drawings), _DRAWINGS_AT_ONCE):
        out[i : i + _DRAWINGS_AT_ONCE] = _render_chunk(
            drawings[i : i + _DRAWINGS_AT_ONCE], widths[i : i + _DRAWINGS_AT_ONCE], size
        )
    return out


def _render_chunk(drawings, widths: np.ndarray, size: int) -> np.ndarray:
    segs, owners = [], []
    for i, strokes in enumerate(drawings):
        s = _segments(strokes, size)
        segs.append(s)
        owners.append(np.full(len(s), i, np.int64))
    out = np.zeros(len(drawings) * size * size, np.float32)
    seg = np.concatenate(segs) if segs else np.zeros((0, 4), np.float32)
    owner = np.concatenate(owners) if owners else np.zeros(0, np.int64)
    width = widths[owner]
    seg, owner, width = _split(seg, owner, width, np.maximum(3.0, width + 2))
    reach = width / 2 + 0.5  # ink > 0 closer than this to the segment
    lo = np.floor(np.minimum(seg[:, :2], seg[:, 2:]) - reach[:, None] - 0.5).astype(np.int64)
    hi = np.ceil(np.maximum(seg[:, :2], seg[:, 2:]) + reach[:, None] - 0.5).astype(np.int64)
    side = (hi - lo).max(axis=1) + 1  # square neighbourhood, pixels per side
    bucket = 4 * -(-side // 4)  # a few sizes, each one vectorised
    for k in np.unique(bucket):
        sel = np.flatnonzero(bucket == k)
        step = max(1, _PATCH_ENTRIES // (k * k))
        grid = np.arange(k, dtype=np.int64)
        for start in range(0, len(sel), step):
            s = sel[start : start + step]
            px = lo[s, 0, None, None] + grid[None, None, :]  # (n, 1, k) columns
            py = lo[s, 1, None, None] + grid[None, :, None]  # (n, k, 1) rows
            x0, y0, x1, y1 = (seg[s, j, None, None] for j in range(4))
            vx, vy = x1 - x0, y1 - y0
            cx, cy = px.astype(np.float32) + 0.5 - x0, py.astype(np.float32) + 0.5 - y0
            t = np.clip((cx * vx + cy * vy) / np.maximum(vx * vx + vy * vy, 1e-12), 0, 1)
            d = np.hypot(cx - t * vx, cy - t * vy)
            ink = np.clip(width[s, None, None] / 2 - d + 0.5, 0, 1)
            inside = (ink > 0) & (px >= 0) & (px < size) & (py >= 0) & (py < size)
            flat = (owner[s, None, None] * size + py) * size + px
            np.maximum.at(out, flat[inside], ink[inside])
    out *= 255
    out += 0.5  # ink >= 0: rounds like render's round()
    return out.astype(np.uint8).reshape(len(drawings), size, size)
