"""Drawings as a hand makes them: polylines in any units, then drawn on pads with a round pen.

A drawing is a list of strokes, each a polyline (k, 2) of (x, y), y down. ``spline``,
``path_length``, ``rotated`` and ``close`` build and measure them; ``draw`` puts each drawing on
a CANVAS x CANVAS pad under a random rotation, shear, stretch and slow wobble
(``training.strokes.jitter``), at a random size and place, with a random pen width from the
page's range (``training.strokes.place``), all rendered in one vectorised pass.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from digitnet.sizes import CANVAS, PEN_THICKEST
from training.strokes import jitter, place, render_many

Strokes = list[np.ndarray]


def spline(points: np.ndarray, per: int = 8, closed: bool = False) -> np.ndarray:
    """A Catmull-Rom curve through points (k, 2) -> (about per * k, 2)."""
    p = np.asarray(points, np.float64)
    if closed:
        p = np.concatenate([p[-1:], p, p[:2]])
    else:
        p = np.concatenate([2 * p[:1] - p[1:2], p, 2 * p[-1:] - p[-2:-1]])
    t = np.linspace(0, 1, per, endpoint=False)[:, None, None]
    p0, p1, p2, p3 = p[:-3], p[1:-2], p[2:-1], p[3:]
    curve = 0.5 * (
        2 * p1 + (p2 - p0) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2 + (3 * p1 - p0 - 3 * p2 + p3) * t**3
    )  # (per, k-1, 2)
    curve = curve.transpose(1, 0, 2).reshape(-1, 2)
    return np.concatenate([curve, p[-2:-1]]).astype(np.float32)


def path_length(paths: Sequence[np.ndarray]) -> float:
    """The summed length of the strokes' segments."""
    return float(sum(np.hypot(*np.diff(p, axis=0).T).sum() for p in paths if len(p) > 1))


def rotated(paths: Sequence[np.ndarray], degrees: float) -> Strokes:
    """The strokes turned by ``degrees`` about the origin (clockwise on the pad, y down)."""
    a = np.deg2rad(degrees)
    m = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]], np.float32)
    return [np.asarray(p, np.float32) @ m.T for p in paths]


def close(points) -> np.ndarray:
    """A polygon's corners (k, 2) as a closed polyline: the first point again at the end."""
    p = np.asarray(points, np.float32)
    return np.concatenate([p, p[:1]])


def draw(
    rng: np.random.Generator,
    drawings: list[Strokes],
    size=(0.3, 0.95),
    thickest=PEN_THICKEST,
    rotate=12.0,
    shear=0.25,
    stretch=0.3,
    pen=(0.0, 1.0),
) -> np.ndarray:
    """Draw each drawing (arbitrary units) on a pad: random jitter, size, pen and place; the
    thickest pen goes by the square root of the drawing's area (see strokes.place)."""
    placed, widths = [], []
    for d in drawings:
        moved = jitter(
            d,
            (rng.uniform(-rotate, rotate), rng.uniform(-shear, shear), rng.uniform(-stretch, stretch)),
            rng.uniform(0, 1, 6),
        )
        p, w = place(
            moved, rng.uniform(*size), rng.uniform(*pen), rng.uniform(0, 1, 2), thickest, by_area=True
        )
        placed.append(p)
        widths.append(w)
    return render_many(placed, widths, CANVAS)
