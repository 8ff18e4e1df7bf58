"""Digits drawn as simple strokes, and a NumPy renderer like the page's pad.

A stroke is a list of (x, y) points in pad coordinates [0, 1] (x right, y down).
``transform`` makes small, large and off-centre variants; ``render`` draws
them into a (size, size) uint8 ink image with round caps and joins, as the
page's canvas does. Used by unit tests (through ``render``) and by end-to-end
tests (which draw the same strokes with the mouse).
"""

from __future__ import annotations

import numpy as np

Stroke = list[tuple[float, float]]


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, stop: float, n: int = 40) -> Stroke:
    t = np.linspace(np.deg2rad(start), np.deg2rad(stop), n)
    return [(cx + rx * np.cos(a), cy + ry * np.sin(a)) for a in t]


DIGITS: dict[int, list[Stroke]] = {
    0: [_arc(0.5, 0.5, 0.22, 0.32, -90, 270)],
    1: [[(0.5, 0.18), (0.5, 0.82)]],
    2: [_arc(0.5, 0.35, 0.2, 0.17, 200, 380, 30) + [(0.3, 0.8), (0.72, 0.8)]],
    3: [_arc(0.48, 0.34, 0.2, 0.16, 210, 450, 30) + _arc(0.48, 0.66, 0.22, 0.16, 270, 510, 30)[1:]],
    4: [[(0.6, 0.18), (0.3, 0.6), (0.75, 0.6)], [(0.6, 0.35), (0.6, 0.85)]],
    5: [[(0.7, 0.2), (0.35, 0.2), (0.33, 0.46)] + _arc(0.5, 0.62, 0.2, 0.18, 220, 490, 30)[1:]],
    6: [[(0.62, 0.18), (0.38, 0.5)] + _arc(0.5, 0.66, 0.17, 0.17, 200, 560, 40)],
    7: [[(0.28, 0.2), (0.72, 0.2), (0.42, 0.85)]],
    8: [_arc(0.5, 0.33, 0.15, 0.14, 90, 450, 40), _arc(0.5, 0.66, 0.19, 0.18, -90, 270, 40)],
    9: [_arc(0.5, 0.35, 0.17, 0.16, 0, 360, 40) + [(0.67, 0.35), (0.62, 0.85)]],
}


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
