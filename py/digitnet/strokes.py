"""The pen's strokes of a drawing, and which of its ink each laid down.

Where digits touch or cross, their ink is one piece and no column cuts it into digits (a 1 leaning
into a 0's box, a 7's bar through the next digit). The strokes still know whose ink is whose: the
page sends them with the pixels, in the order drawn. ``Strokes.reach`` gives, for each stroke, the
pixels within the pen's reach of its centre line (where strokes cross, both reach the ink);
``digitnet.number`` reads runs of strokes as characters.

NumPy only (the page's worker runs it).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from digitnet.network import Model
from digitnet.pieces import Piece
from digitnet.preprocess import grey_filter
from digitnet.scoring import LOW, digit_scores, most_probable

AA = 1.0  # px beyond the pen's radius that anti-aliasing inks
STEP = 0.5  # px between the points a centre line is followed at
APART = 0.6  # log-score a run of strokes pays for each stroke lying right of all the run's before it
RUN_WIDE = 1.6  # a run of strokes is at most this many times the height wide


def centre_line(points: np.ndarray) -> np.ndarray:
    """A stroke's points (k, 2) x, y -> points along its polyline at most STEP apart."""
    points = np.asarray(points, np.float64).reshape(-1, 2)
    if len(points) < 2:
        return points
    lengths = np.hypot(*np.diff(points, axis=0).T)
    steps = np.maximum(1, np.ceil(lengths / STEP)).astype(int)
    at = np.repeat(np.arange(len(lengths)), steps)
    t = (np.arange(steps.sum()) - np.repeat(np.cumsum(steps) - steps, steps)) / np.repeat(steps, steps)
    return np.concatenate([points[at] + (points[at + 1] - points[at]) * t[:, None], points[-1:]])


@dataclass
class Strokes:
    """A drawing's strokes: ``lines``, each its points (k, 2) x, y in pad pixels, in the order
    drawn; ``pen``: the pen's diameter in pixels; ``shape``: the pad's (height, width)."""

    lines: list[np.ndarray]
    pen: float
    shape: tuple[int, int]

    def moved(self, dx: float, dy: float, shape: tuple[int, int]) -> Strokes:
        """The same strokes on another pad of ``shape``, every point moved by (dx, dy) pixels."""
        return Strokes([line + (dx, dy) for line in self.lines], self.pen, shape)

    @classmethod
    def from_flat(cls, xy: np.ndarray, ends: np.ndarray, pen: float, shape: tuple[int, int]) -> Strokes:
        """Points as one flat array x0, y0, x1, y1, ... and each stroke's end (exclusive, in
        points) -> Strokes (the page's message sends them so); ValueError when they disagree."""
        xy, ends = np.asarray(xy, np.float64).ravel(), np.asarray(ends, np.int64).ravel()
        if len(xy) % 2 or np.any(np.diff(ends, prepend=0) < 0) or (len(ends) and ends[-1] * 2 != len(xy)):
            raise ValueError(
                f"strokes: {len(xy)} coordinates do not end where {len(ends)} strokes say they do"
            )
        points = xy.reshape(-1, 2)
        starts = [0, *[int(e) for e in ends[:-1]]]
        return cls([points[a:b] for a, b in zip(starts, ends) if b > a], pen, shape)

    @cached_property
    def masks(self) -> list[tuple[int, int, np.ndarray] | None]:
        """Each stroke's reach: (top, left, bool (h, w)), the pixels within the pen's radius (plus
        AA) of its centre line, both ways (a square's half side); None when it lies off the pad."""
        return [self._reach(line) for line in self.lines]

    def columns(self, k: int) -> tuple[float, float]:
        """The columns stroke k's ink spans (its points' x, the pen's radius either side)."""
        x = self.lines[k][:, 0]
        return float(x.min()) - self.pen / 2, float(x.max()) + self.pen / 2

    def over(self, piece: Piece) -> list[int]:
        """The strokes whose reach may overlap ``piece``'s columns (``columns``, widened by
        anti-aliasing's AA and a pixel of rounding), in the order drawn."""
        spans = [self.columns(k) for k in range(len(self.lines))]
        edge = AA + 1
        return [k for k, (a, b) in enumerate(spans) if a - edge < piece.right and b + edge > piece.left]

    def _reach(self, line: np.ndarray) -> tuple[int, int, np.ndarray] | None:
        r = int(np.ceil(self.pen / 2 + AA))
        rc = np.round(centre_line(line)[:, ::-1]).astype(int)
        top, left = np.maximum(rc.min(axis=0) - r, 0)
        bottom, right = np.minimum(rc.max(axis=0) + r + 1, self.shape)
        if bottom <= top or right <= left:
            return None
        seeds = np.zeros((bottom - top, right - left), bool)
        inside = (rc[:, 0] >= top) & (rc[:, 0] < bottom) & (rc[:, 1] >= left) & (rc[:, 1] < right)
        seeds[rc[inside, 0] - top, rc[inside, 1] - left] = True
        return int(top), int(left), grey_filter(seeds, 2 * r + 1, np.maximum)

    def reach(self, piece: Piece) -> list[tuple[int, np.ndarray]]:
        """Each stroke that laid down some of ``piece``'s ink, in the order drawn: (its index,
        its reach there: bool, the shape of ``piece.image``)."""
        out = []
        ink = piece.image > 0
        for k, found in enumerate(self.masks):
            if found is None:
                continue
            top, left, m = found
            a, b = max(left, piece.left), min(left + m.shape[1], piece.right)
            if a >= b:
                continue
            here = np.zeros(ink.shape, bool)
            here[top : top + m.shape[0], a - piece.left : b - piece.left] = m[:, a - left : b - left]
            if (here & ink).any():
                out.append((k, here))
        return out


def strokes_apart(model: Model, strokes: Strokes, piece: Piece, height: int, room: int) -> list[Piece]:
    """A character drawn with ``strokes`` -> its ink split between runs of them in the order drawn
    (a digit is finished before the next is begun): the runs that read best with one view (a run
    holding a stroke that lies right of all the run's strokes before it costs APART), found as
    ``cuts.Cuts.path`` finds cuts (``scoring.most_probable``); a run whose ink is less high than
    LOW x ``height`` (a digit's fragment) goes with the run before it. [piece] when that is all
    its strokes together."""
    reach = strokes.reach(piece)
    n = len(reach)
    if n < 2:
        return [piece]
    spans = [strokes.columns(k) for k, _ in reach]
    ink = piece.image > 0
    runs: dict[tuple[int, int], Piece] = {}
    apart: dict[tuple[int, int], float] = {}
    for i in range(n):
        together = np.zeros(piece.image.shape, bool)
        right, cost = -np.inf, 0.0
        for j in range(i + 1, n + 1):
            together |= reach[j - 1][1]
            a, b = spans[j - 1]
            cost += APART if (a + b) / 2 > right else 0.0
            right = max(right, b)
            if (i, j) == (0, n):
                continue
            cols = np.flatnonzero((together & ink).any(axis=0))
            if len(cols) and cols[-1] + 1 - cols[0] <= RUN_WIDE * height:
                own = np.where(together[:, cols[0] : cols[-1] + 1], piece.image[:, cols[0] : cols[-1] + 1], 0)
                runs[(i, j)] = Piece(piece.left + int(cols[0]), own.astype(np.uint8))
                apart[(i, j)] = cost - APART  # the first stroke of a run costs nothing
    if not runs:
        return [piece]
    keys = list(runs)
    scores = digit_scores(model, [runs[k] for k in keys], height) - np.array([apart[k] for k in keys])
    steps = most_probable(n + 1, dict(zip(keys, scores)), room)
    if not steps:
        return [piece]

    def run(i: int, j: int) -> Piece:
        if (i, j) not in runs:
            together = np.logical_or.reduce([m for _, m in reach[i:j]])
            runs[(i, j)] = Piece(piece.left, np.where(together, piece.image, 0).astype(np.uint8))
        return runs[(i, j)]

    bounds = [0, *steps, n]
    for k in range(len(bounds) - 2, -1, -1):  # fragments go with the run before (or after) them
        box = run(bounds[k], bounds[k + 1]).box()
        if len(bounds) > 2 and (box is None or box[1] - box[0] < LOW * height):
            del bounds[max(k, 1)]
    if len(bounds) < 3:
        return [piece]
    parts = [run(i, j) for i, j in zip(bounds, bounds[1:])]
    if any(p.box() is None for p in parts):
        return [piece]
    return sorted(parts, key=lambda p: (p.box()[2] + p.box()[3]) / 2)
