"""Heavy ink: regions filled with dense back-and-forth strokes, hatched regions and tight scribbles.

A region is an irregular blob (at most about 2:1) or a triangle or quadrilateral; filling and
hatching are parallel lines across it (``hatch``), a pen's width apart for a fill, wider for a
hatch (sometimes crossed, a polygon sometimes outlined). The pen is chosen first, from the page's
range for the drawing's size, so that a fill is solid whatever the pen.
"""

from __future__ import annotations

import numpy as np

from digitnet.sizes import CANVAS
from training.negatives.pen import Strokes, close, rotated
from training.negatives.shapes import tangle
from training.strokes import jitter, pen_range, place, render_many


def region(rng: np.random.Generator) -> np.ndarray:
    """The outline (k, 2) of a region to fill or hatch: an irregular blob (at most about 2:1)
    or a triangle or quadrilateral."""
    if rng.uniform() < 0.6:
        theta = np.linspace(0, 2 * np.pi, 72, endpoint=False)
        r = np.ones_like(theta)
        for k in (2, 3, 4, 5):
            r += rng.uniform(0, 0.6 / k) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
        p = np.stack([r * np.cos(theta), rng.uniform(0.65, 1) * r * np.sin(theta)], 1)
    else:
        k = int(rng.integers(3, 5))
        a = rng.uniform(0, 2 * np.pi) + 2 * np.pi * np.arange(k) / k + rng.uniform(-0.2, 0.2, k)
        p = np.stack([np.cos(a), np.sin(a)], 1)
    return rotated([p], rng.uniform(0, 360))[0]


def is_inside(outline: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Even-odd point-in-polygon test of pts (..., 2) against a closed outline (k, 2)."""
    x, y = pts[..., 0, None], pts[..., 1, None]
    x0, y0 = outline[:, 0], outline[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    crosses = ((y0 > y) != (y1 > y)) & (x < x0 + (y - y0) * (x1 - x0) / np.where(y1 == y0, 1e-9, y1 - y0))
    return crosses.sum(-1) % 2 == 1


def hatch(rng: np.random.Generator, outline: np.ndarray, spacing: float, zigzag: bool) -> Strokes:
    """Parallel lines ``spacing`` apart across a region (outline (k, 2)), at a random angle: one
    back-and-forth stroke (``zigzag``) or a stroke per line."""
    ang = rng.uniform(0, np.pi)
    d, nrm = np.array([np.cos(ang), np.sin(ang)]), np.array([-np.sin(ang), np.cos(ang)])
    reach = float(np.abs(outline).max()) * 1.5
    offsets = np.arange(-reach, reach, spacing)
    along = np.linspace(-reach, reach, 160)
    pts = offsets[:, None, None] * nrm + along[None, :, None] * d  # (lines, 160, 2)
    inside = is_inside(outline, pts)
    ends = []
    for k in range(len(offsets)):
        hit = np.flatnonzero(inside[k])
        if len(hit) >= 2:
            ends.append((pts[k, hit[0]], pts[k, hit[-1]]))
    if not ends:
        return []
    if zigzag:
        seq = []
        for k, (a, b) in enumerate(ends):
            seq.extend([a, b] if k % 2 == 0 else [b, a])
        return [np.array(seq, np.float32)]
    return [np.array(e, np.float32) for e in ends]


def make_blobs(rng, n, digits):
    """Filled regions, hatched regions and tight thick scribbles."""
    placed, widths = [], []
    for _ in range(n):
        size = rng.uniform(0.25, 0.85)
        low, high = pen_range(size * CANVAS, 0.35)
        width = float(low * (high / low) ** rng.uniform(0.3, 1.0))
        style = rng.integers(3)
        if style == 2:
            paths = [tangle(rng, 6.0, (15, 30))]
        else:
            outline = region(rng)
            extent = float(max(outline.max(0) - outline.min(0)))
            pen_units = width / (size * CANVAS) * extent
            if style == 0:  # filled
                paths = hatch(rng, outline, rng.uniform(0.45, 0.85) * pen_units, True)
            else:  # hatched, maybe crossed
                spacing = rng.uniform(1.6, 3.5) * pen_units
                paths = hatch(rng, outline, spacing, rng.uniform() < 0.5)
                if rng.uniform() < 0.5:
                    paths += hatch(rng, outline, spacing, rng.uniform() < 0.5)
                if len(outline) < 10 and rng.uniform() < 0.5:  # a shaded polygon
                    paths.append(close(outline))
            if not paths:
                paths = [close(outline)]
        moved = jitter(
            paths,
            (rng.uniform(-10, 10), rng.uniform(-0.2, 0.2), rng.uniform(-0.2, 0.2)),
            rng.uniform(0, 1, 6),
        )
        p, w = place(moved, size, 0.0, rng.uniform(0, 1, 2), width=width)
        placed.append(p)
        widths.append(w)
    return render_many(placed, widths, CANVAS)
