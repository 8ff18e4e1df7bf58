"""Touching digits cut by the network: the columns to cut a character at, found by reading its
candidate parts (``Cuts.best``), and each cut moved off the strokes where it can be (``clean``).

Candidate cuts (``candidate_cuts``: gaps no stroke crosses, valleys of the column profile, every
COARSE x height) are read with one view (``scoring.glance``); the best way to cut is the most
probable path over them (``Cuts.path``: cuts and slivers costing a little; two parts at most below
PAIR x height), each cut then moved up to REFINE x height where its parts read better.
``digitnet.number`` decides whether the parts are kept.

NumPy only (the page's worker runs it).
"""

from __future__ import annotations

import numpy as np

from digitnet.network import Model
from digitnet.pieces import Piece
from digitnet.preprocess import INK
from digitnet.scoring import digit_scores, most_probable

MIN_PART = 0.1  # a part is at least this share of the height wide
MAX_PART = 1.3  # ...and at most this much
GRID = 0.1  # cuts tried every GRID x height, and at the valleys of the column profile
PAIR = 1.6  # a character less wide than this many times its height is cut in two at most
COARSE = 0.2  # ...first every COARSE x height, then each cut chosen moved by up to REFINE
REFINE = 0.1
CLEAN = 0.1  # a cut moves this share of the height at most to cross no stroke
NARROW = 0.3  # a cut leaving a part narrower than this share of the height...
THIN_COST = 0.3  # ...costs this much log-score (a sliver reads as a confident 1 too easily)


def candidate_cuts(piece: Piece, height: int, grid: float = GRID) -> list[int]:
    """Columns of ``piece`` to try cutting at, each part at least MIN_PART x ``height`` wide: the
    middle of each run of columns no stroke crosses (no ink over INK: strokes only nearly
    touching), the valleys of its column profile (how much ink each column holds) and every
    ``grid`` x ``height``."""
    w = piece.image.shape[1]
    lo = max(1, int(round(MIN_PART * height)))
    if w - lo <= lo:
        return []
    inner = np.arange(lo, w - lo + 1)
    clear = np.concatenate([[False], piece.image.max(axis=0)[inner] < INK * 255, [False]])
    edges = np.flatnonzero(clear[1:] != clear[:-1])
    gaps = inner[(edges[::2] + edges[1::2] - 1) // 2]
    profile = piece.image.sum(axis=0, dtype=np.float32)
    smooth = np.convolve(np.pad(profile, 1, mode="edge"), [0.25, 0.5, 0.25], mode="valid")
    left, right = smooth[inner - 1], smooth[np.minimum(inner + 1, w - 1)]
    valleys = inner[(smooth[inner] <= left) & (smooth[inner] < right)]
    sure = np.union1d(gaps, valleys)
    step = max(2, int(round(grid * height)))
    even = [int(g) for g in np.arange(lo, w - lo + 1, step) if np.abs(sure - g).min(initial=99) > 1]
    return sorted({int(c) for c in sure} | set(even))


def clean(piece: Piece, cuts: list[int], height: int) -> tuple[list[int], bool]:
    """Each cut moved to a column within CLEAN x height where no ink is over INK (strokes that
    nearly touch, joined only by anti-aliasing's edges), if there is one -> (the cuts,
    whether all are so)."""
    reach = max(1, int(round(CLEAN * height)))
    dark = (piece.image >= INK * 255).any(axis=0)
    out, all_clean = [], True
    for c in cuts:
        near = [c + d for d in sorted(range(-reach, reach + 1), key=abs) if 0 < c + d < len(dark)]
        free = [x for x in near if not dark[x]]
        out.append(free[0] if free else c)
        all_clean &= bool(free)
    return out, all_clean


class Cuts:
    """The cut search for one reading: the model, and each candidate part's score, read once."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.glanced: dict[tuple[int, int, int], float] = {}  # (piece's left, a, b) -> log-score

    def best(self, piece: Piece, height: int, room: int) -> list[int]:
        """The columns to cut ``piece`` at into two or more digits (at most ``room``) that read
        best with one view: the best path over its candidate cuts (``path``), each cut then moved
        up to REFINE x height either way where its two parts read better, and the best path
        found again with those columns as candidates too. [] when no way reads at all."""
        w = piece.image.shape[1]
        nodes = [0, *candidate_cuts(piece, height, COARSE), w]
        cuts: list[int] = []
        for _ in range(2):
            found = self.path(piece, nodes, height, room)
            if not found or found == cuts:
                return found
            cuts = found
            edges = [0, *cuts, w]
            step = max(1, int(round(REFINE * height / 3)))
            for k in range(1, len(edges) - 1):
                a, c, b = edges[k - 1], edges[k], edges[k + 1]
                tries = [c + d * step for d in (-3, -2, -1, 0, 1, 2, 3)]
                tries = [t for t in tries if a + MIN_PART * height <= t <= b - MIN_PART * height]
                if len(tries) > 1:
                    s = self.live([(a, t) for t in tries] + [(t, b) for t in tries], piece, height)
                    edges[k] = tries[int(np.argmax(s.reshape(2, -1).sum(axis=0)))]
            nodes = sorted(set(nodes) | set(edges))
            cuts = edges[1:-1]
        return cuts

    def path(self, piece: Piece, nodes: list[int], height: int, room: int) -> list[int]:
        """The best way to cut ``piece`` at some of ``nodes`` (its columns, first 0, last its
        width) into 2 to ``room`` parts read with one view: the most probable path, each part
        its log-score, a cut costing CUT_COST and a sliver THIN_COST -> the cuts ([]: none)."""
        n = len(nodes)
        box = piece.box()
        pair = box[3] - box[2] < PAIR * (box[1] - box[0])  # two digits at most: each cut, two parts
        spans = [
            (i, j)
            for i in range(n)
            for j in range(i + 1, n)
            if (i, j) != (0, n - 1)
            and (not pair or i == 0 or j == n - 1)
            and MIN_PART * height <= nodes[j] - nodes[i] <= MAX_PART * height
        ]
        if not spans:
            return []
        scores = self.live([(nodes[i], nodes[j]) for i, j in spans], piece, height)
        thin = [THIN_COST if nodes[j] - nodes[i] < NARROW * height else 0.0 for i, j in spans]
        return [nodes[j] for j in most_probable(n, dict(zip(spans, scores - np.array(thin))), room)]

    def live(self, spans: list[tuple[int, int]], piece: Piece, height: int) -> np.ndarray:
        """Log-scores (``digit_scores``, one view) of ``piece``'s columns a..b for each (a, b),
        each read once."""
        todo = [(a, b) for a, b in dict.fromkeys(spans) if (piece.left, a, b) not in self.glanced]
        parts = [Piece(piece.left + a, piece.image[:, a:b]) for a, b in todo]
        for (a, b), v in zip(todo, digit_scores(self.model, parts, height)):
            self.glanced[(piece.left, a, b)] = float(v)
        return np.array([self.glanced[(piece.left, a, b)] for a, b in spans])
