"""The ink of a drawing as the pieces that may be characters, left to right (``pieces``).

The columns the strokes cross make the pieces: ink over INK counts, so two strokes joined only by
anti-aliasing's faint edges stay apart (the edges are shared out at the middle of the gap). A run
of columns wider than COMPONENTS_AT times its height is split into its strokes' groups: strokes
sharing SHARED of the narrower one's columns are one character (a 4 or a 5 in two strokes, a 7
with a bar), so slanted neighbours that only overlap a little stay apart. Ink less than MARK of
the tallest piece's height both ways (a dot, a speck) is left out. ``digitnet.number`` reads the
pieces as a number.

NumPy only (the page's worker runs it).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from digitnet.preprocess import INK, bounding_box, grey_filter, ink_components

FAINT = round(255 * INK / 4)  # ink fainter than this (anti-aliasing's edges) joins nothing
MARK = 0.3  # ink less than this share of the tallest character's height, both ways: a mark
SHARED = 0.5  # parts sharing this share of the narrower one's columns are one character
COMPONENTS_AT = 0.8  # a run of columns wider than this many times its height: looked at part by part


@dataclass
class Piece:
    """Ink that may be one character: ``image`` (the pad's rows, some of its columns) uint8, the
    pad's ink there that belongs to it; its column 0 is the pad's column ``left``."""

    left: int
    image: np.ndarray
    marks: tuple[int, int, int, int] | None = None  # the box of it and the marks beside it, if any

    @property
    def right(self) -> int:
        return self.left + self.image.shape[1]

    def box(self) -> tuple[int, int, int, int] | None:
        """(top, bottom, left, right) of its ink (over FAINT), in pad coordinates."""
        return self.ink_box

    @cached_property
    def ink_box(self) -> tuple[int, int, int, int] | None:
        """``box()``, found once: a piece's ink never changes once it is made."""
        box = bounding_box(self.image, FAINT)
        if box is None:
            return None
        return box[0], box[1], self.left + box[2], self.left + box[3]

    def reaches(self, rows: float) -> bool:
        """Whether a stretch of its connected ink (over FAINT) is at least ``rows`` high: a dash
        and a comma one above the other are tall together, short each. A column of ink that long
        says so at once; else its parts are found (``ink_components``) and measured."""
        ink = self.image > FAINT
        count = np.cumsum(ink, axis=0, dtype=np.int32)
        since_gap = count - np.maximum.accumulate(np.where(ink, 0, count), axis=0)
        if since_gap.max(initial=0) >= rows:
            return True
        rows_at, cols_at = np.nonzero(ink)
        if not rows_at.size:
            return False
        labels = ink_components(ink)[rows_at, cols_at]
        top = np.full(labels.max() + 1, self.image.shape[0])
        bottom = np.zeros(labels.max() + 1, np.intp)
        np.minimum.at(top, labels, rows_at)
        np.maximum.at(bottom, labels, rows_at + 1)
        return bool((bottom - top).max() >= rows)


def joined(a: Piece, b: Piece) -> Piece:
    """Two pieces -> one holding the ink of both."""
    left, right = min(a.left, b.left), max(a.right, b.right)
    image = np.zeros((a.image.shape[0], right - left), np.uint8)
    for p in (a, b):
        at = image[:, p.left - left : p.right - left]
        np.maximum(at, p.image, out=at)
    return Piece(left, image)


def column_runs(ink: np.ndarray) -> list[tuple[int, int]]:
    """Ink (H, W) -> the runs of columns holding ink, [(start, stop), ...] left to right."""
    inked = np.concatenate([[False], (ink > 0).any(axis=0), [False]])
    edges = np.flatnonzero(inked[1:] != inked[:-1])
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]


def grouped_spans(spans: list[tuple[float, float]]) -> list[list[int]]:
    """Column spans [(start, stop), ...] -> groups of their indices that are one character: spans
    sharing SHARED of the narrower one's width are joined, and so on transitively (a 4 or a 5 in
    two strokes), each group in index order, the groups in order of their first index."""
    n = len(spans)
    parent = list(range(n))

    def find(a: int) -> int:
        while parent[a] != a:
            a = parent[a]
        return a

    for i in range(n):
        for j in range(i + 1, n):
            shared = min(spans[i][1], spans[j][1]) - max(spans[i][0], spans[j][0])
            narrower = min(spans[i][1] - spans[i][0], spans[j][1] - spans[j][0])
            if shared >= SHARED * narrower:
                parent[find(j)] = find(i)
    groups: dict[int, list[int]] = {}
    for k in range(n):
        groups.setdefault(find(k), []).append(k)
    return list(groups.values())


def grouped(labels: np.ndarray, ids: np.ndarray) -> list[np.ndarray]:
    """Component labels (h, w) and the labels in use -> groups of labels that are one character
    (``grouped_spans`` of the columns each component covers)."""
    spans = []
    for k in ids:
        cols = np.flatnonzero((labels == k).any(axis=0))
        spans.append((int(cols[0]), int(cols[-1]) + 1))
    return [np.array([int(ids[k]) for k in g]) for g in grouped_spans(spans)]


def run_pieces(ink: np.ndarray, a: int, b: int) -> list[tuple[int, np.ndarray]]:
    """A run of columns' ink (H, w) uint8, its strokes crossing its columns a..b -> its pieces as
    (first column, image): the run whole, or, when wider than COMPONENTS_AT x its height, its
    strokes' groups (``grouped``, each with the faint edge around it)."""
    core = ink >= INK * 255
    top, bottom, _, _ = bounding_box(core[:, a:b])
    if b - a > COMPONENTS_AT * (bottom - top):
        labels = ink_components(core)
        ids = np.unique(labels[labels > 0])
        if len(ids) > 1:
            out = []
            for group in grouped(labels, ids):
                near = grey_filter(np.isin(labels, group).astype(np.float32), 3, np.maximum) > 0
                cols = np.flatnonzero(near.any(axis=0))
                c0, c1 = int(cols[0]), int(cols[-1]) + 1
                out.append((c0, np.where(near[:, c0:c1], ink[:, c0:c1], np.uint8(0))))
            return out
    return [(0, ink)]


def pieces(pad: np.ndarray, kept: dict | None = None) -> list[Piece]:
    """Pad (H, W) uint8 -> the ink of its characters as they lie, left to right, marks left out:
    the runs of columns its strokes cross (ink over INK; anti-aliasing's faint edges between two
    runs are shared out at the middle of the gap), each as ``run_pieces`` splits it. ``kept``: a
    dict keeping each run's pieces from call to call (they depend only on the run's ink: while a
    number is written, the digits already there are not taken apart again)."""
    core = pad >= INK * 255
    runs = column_runs(core)
    found: list[Piece] = []
    for i, (a, b) in enumerate(runs):
        lo = (runs[i - 1][1] + a) // 2 if i else 0
        hi = (b + runs[i + 1][0] + 1) // 2 if i + 1 < len(runs) else pad.shape[1]
        inked = np.flatnonzero(pad[:, lo:hi].any(axis=0))
        lo, hi = lo + int(inked[0]), lo + int(inked[-1]) + 1
        if kept is None or len(runs) == 1:  # (one run: a digit being drawn, new at every move)
            parts = run_pieces(pad[:, lo:hi], a - lo, b - lo)
        else:
            key = ("run", a - lo, b - lo, pad.shape[0], pad[:, lo:hi].tobytes())
            if key not in kept:  # (copies: the pad they came from is not kept with them)
                kept[key] = [(at, image.copy()) for at, image in run_pieces(pad[:, lo:hi], a - lo, b - lo)]
            parts = kept[key]
        found += [Piece(lo + at, image) for at, image in parts]
    found.sort(key=lambda p: p.left)
    boxes = [p.box() for p in found]
    tallest = max((b[1] - b[0] for b in boxes if b), default=0)
    return [p for p, b in zip(found, boxes) if b and max(b[1] - b[0], b[3] - b[2]) >= MARK * tallest]
