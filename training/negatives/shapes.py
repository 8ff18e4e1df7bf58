"""Shapes, scribbles and stray marks, drawn as strokes in arbitrary units (y down).

``shape``: outlines of SHAPES (triangle, square, stars, crosses, heart, arrows, spirals, house,
envelope, window). ``scribble``: SCRIBBLES (long tangles, rows of loops, zig-zags, waves).
``stray_mark``: the small MARKS put beside a digit by ``composites.make_stray_marks``. Each is chosen
so that no reader would take it for a digit: see ``training.negatives`` for what is left out.
"""

from __future__ import annotations

import numpy as np

from training.negatives.pen import Strokes, close, draw, path_length, rotated, spline

SHAPES = ("triangle", "square", "star", "cross", "heart", "arrow", "spiral", "house", "envelope", "window")
SCRIBBLES = ("tangle", "loops", "zigzag", "wave")
MARKS = ("line", "tick", "loop", "wave", "zigzag", "cross", "scribble")


def shape(rng: np.random.Generator, name: str) -> Strokes:
    """One outline drawing of SHAPES[name], in arbitrary units (y down)."""
    u = rng.uniform
    if name == "triangle":
        a = u(0, 2 * np.pi) + 2 * np.pi * np.arange(3) / 3 + u(-0.12, 0.12, 3)
        r = u(0.9, 1.1, 3)
        return [close(np.stack([r * np.cos(a), r * np.sin(a)], 1))]
    if name == "square":
        w = u(1.0, 1.5)  # never taller than wide
        sq = close([(0, 0), (w, 0), (w, 1), (0, 1)]) + u(-0.05, 0.05, (5, 2)).astype(np.float32)
        sq[-1] = sq[0]
        return rotated([sq], u(-10, 10) + 45 * (u() < 0.25))
    if name == "star":
        kind = rng.integers(3)
        if kind == 0:  # pentagram in one stroke
            a = u(0, 2 * np.pi) + 4 * np.pi * np.arange(5) / 5
            return [close(np.stack([np.cos(a), np.sin(a)], 1))]
        points = 5 + int(kind == 2)  # outline, 5 or 6 points
        a = u(0, 2 * np.pi) + np.pi * np.arange(2 * points) / points
        r = np.where(np.arange(2 * points) % 2 == 0, 1.0, u(0.35, 0.55))
        return [close(np.stack([r * np.cos(a), r * np.sin(a)], 1))]
    if name == "cross":
        c = u(0.35, 0.65, 2)
        if u() < 0.5:  # x
            return [np.array([(0, 0), (1, 1)], np.float32), np.array([(1, 0), (0, 1)], np.float32)]
        return [np.array([(0, c[1]), (1, c[1])], np.float32), np.array([(c[0], 0), (c[0], 1)], np.float32)]
    if name == "heart":
        t = np.linspace(0, 2 * np.pi, 90)
        x = 16 * np.sin(t) ** 3
        y = -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))
        return [np.stack([x, y], 1).astype(np.float32)]
    if name == "arrow":
        h, phi = u(0.2, 0.4), np.deg2rad(u(25, 45))
        head = np.array(
            [(1 - h * np.cos(phi), -h * np.sin(phi)), (1, 0), (1 - h * np.cos(phi), h * np.sin(phi))],
            np.float32,
        )
        paths = [np.array([(0, 0), (1, 0)], np.float32), head]
        if u() < 0.25:  # double-headed
            paths.append(head * np.array([-1, 1], np.float32) + np.array([1, 0], np.float32))
        return rotated(paths, u(-20, 20) + 180 * (u() < 0.5))
    if name == "spiral":
        turns = u(2, 3.5)
        theta = np.linspace(0, 2 * np.pi * turns, int(40 * turns))
        r = u(0.03, 0.12) + theta / theta[-1]
        sign = 1 if u() < 0.5 else -1
        p = np.stack([r * np.cos(sign * theta), r * np.sin(sign * theta)], 1).astype(np.float32)
        return rotated([p if u() < 0.5 else p[::-1]], u(0, 360))
    if name == "house":
        roof = u(0.3, 0.6)
        body = np.array([(0, 0), (0, 1), (1, 1), (1, 0)], np.float32)
        paths = [body, np.array([(0, 0), (0.5, -roof), (1, 0), (0, 0)], np.float32)]
        if u() < 0.5:
            dx = u(0.2, 0.6)
            paths.append(np.array([(dx, 1), (dx, 0.55), (dx + 0.2, 0.55), (dx + 0.2, 1)], np.float32))
        return paths
    if name == "envelope":
        w = u(1.3, 1.8)
        return [
            close([(0, 0), (w, 0), (w, 1), (0, 1)]),
            np.array([(0, 0), (w / 2, u(0.4, 0.65)), (w, 0)], np.float32),
        ]
    if name == "window":
        c = u(0.4, 0.6, 2)
        w = u(1.0, 1.3)
        return [
            close([(0, 0), (w, 0), (w, 1), (0, 1)]),
            np.array([(0, c[1]), (w, c[1])], np.float32),
            np.array([(c[0] * w, 0), (c[0] * w, 1)], np.float32),
        ]
    raise ValueError(name)


def tangle(rng: np.random.Generator, at_least: float = 4.0, points: tuple[int, int] = (7, 13)) -> np.ndarray:
    """A random smooth scribble at least ``at_least`` times as long as its bounding box's
    diagonal (a short smooth curve can be a 2, 3, 6 or 9; a long tangle is none)."""
    aspect = rng.uniform(0.5, 1.0)
    pts = rng.uniform(0, 1, (int(rng.integers(*points)), 2)) * np.array([1, aspect])
    while True:
        curve = spline(pts)
        diag = float(np.hypot(*(curve.max(0) - curve.min(0))))
        if path_length([curve]) >= at_least * diag:
            return curve
        pts = np.concatenate([pts, rng.uniform(0, 1, (1, 2)) * np.array([1, aspect])])


def scribble(rng: np.random.Generator, name: str) -> Strokes:
    """One drawing of SCRIBBLES[name]: a long tangle, a row of 3-5.5 loops side by side (never
    stacked: an 8), a zig-zag of 5-9 legs (fewer make a 7, a Z or an N) or a wave of 2.5-4 periods."""
    u = rng.uniform
    if name == "tangle":
        return [tangle(rng)]
    if name == "loops":
        loops, b = u(3, 5.5), u(1.5, 3.0)
        t = np.linspace(0, 2 * np.pi * loops, int(30 * loops))
        p = np.stack([t - b * np.sin(t), -u(2.0, 4.0) * np.cos(t)], 1)
        return [p.astype(np.float32)]
    if name == "zigzag":
        legs = int(rng.integers(5, 10))
        x = np.linspace(0, 1, legs + 1) + u(-0.25, 0.25, legs + 1) / legs
        y = np.where(np.arange(legs + 1) % 2 == 0, 0.0, 1.0) * u(0.3, 0.8) + u(-0.04, 0.04, legs + 1)
        p = np.stack([x, y], 1).astype(np.float32)
        return [spline(p, 6) if u() < 0.4 else p]
    if name == "wave":
        periods = u(2.5, 4)
        x = np.linspace(0, 1, int(40 * periods))
        y = u(0.15, 0.35) * np.sin(2 * np.pi * periods * x + u(0, 2 * np.pi))
        return [np.stack([x, y], 1).astype(np.float32)]
    raise ValueError(name)


def stray_mark(rng: np.random.Generator, name: str) -> Strokes:
    """A small stray mark, scaled to a path length of 1."""
    u = rng.uniform
    if name == "line":
        paths = [np.array([(0, 0), (1, 0)], np.float32)]
    elif name == "tick":
        paths = [np.array([(0, 0.5), (0.35, 1), (1, 0)], np.float32)]
    elif name == "loop":
        t = np.linspace(0, 2 * np.pi, 40)
        paths = [np.stack([np.cos(t), u(0.5, 1) * np.sin(t)], 1).astype(np.float32)]
    elif name == "wave":
        paths = scribble(rng, "wave")
    elif name == "zigzag":
        legs = int(rng.integers(3, 6))
        paths = [
            np.stack([np.linspace(0, 1, legs + 1), (np.arange(legs + 1) % 2) * u(0.2, 0.5)], 1).astype(
                np.float32
            )
        ]
    elif name == "cross":
        paths = [np.array([(0, 0), (1, 1)], np.float32), np.array([(1, 0), (0, 1)], np.float32)]
    elif name == "scribble":
        paths = [spline(rng.uniform(0, 1, (int(rng.integers(4, 8)), 2)))]
    else:
        raise ValueError(name)
    paths = rotated(paths, u(0, 360))
    return [p / path_length(paths) for p in paths]


def make_shapes(rng, n, digits):
    """n outlines of SHAPES, each shape as likely as another."""
    names = rng.integers(len(SHAPES), size=n)
    return draw(rng, [shape(rng, SHAPES[k]) for k in names], rotate=10)


def make_scribbles(rng, n, digits):
    """n SCRIBBLES, with thinner pens than other kinds: a thick pen turns a zig-zag into a bar."""
    names = rng.integers(len(SCRIBBLES), size=n)
    return draw(rng, [scribble(rng, SCRIBBLES[k]) for k in names], thickest=0.12)
