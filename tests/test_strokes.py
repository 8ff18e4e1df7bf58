"""digitnet.strokes: the page's strokes as the reader takes them, and the ink each one laid down."""

from __future__ import annotations

import numpy as np
import pytest

from digitnet.pieces import FAINT, Piece
from digitnet.sizes import CANVAS
from digitnet.strokes import Strokes, centre_line
from training.strokes import DIGITS, render_many

PEN = 6.0


def drawn(digit: int, at: tuple[float, float] = (20.0, 20.0), size: float = 80.0):
    """A sample digit's strokes (training.strokes.DIGITS) in pad pixels, and the pad they draw."""
    lines = [np.asarray(s, np.float64) * size + np.array(at) for s in DIGITS[digit]]
    pad = render_many([[line / CANVAS for line in lines]], [PEN], CANVAS)[0]
    return lines, pad


def test_from_flat_splits_the_points_where_each_stroke_ends():
    xy = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], np.float32)
    s = Strokes.from_flat(xy, np.array([2, 5], np.int32), PEN, (CANVAS, CANVAS))
    assert [line.tolist() for line in s.lines] == [[[1, 2], [3, 4]], [[5, 6], [7, 8], [9, 10]]]


@pytest.mark.parametrize(
    "xy, ends",
    [([1, 2, 3], [1]), ([1, 2, 3, 4], [1]), ([1, 2, 3, 4], [2, 1]), ([1, 2], [3])],
    ids=["odd", "short", "backwards", "long"],
)
def test_from_flat_refuses_points_that_do_not_match_the_ends(xy, ends):
    with pytest.raises(ValueError, match="strokes:"):
        Strokes.from_flat(np.array(xy, np.float32), np.array(ends, np.int32), PEN, (CANVAS, CANVAS))


def test_centre_line_follows_the_polyline_in_small_steps():
    points = centre_line(np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 5.0]]))
    assert points[0].tolist() == [0, 0] and points[-1].tolist() == [10, 5]
    assert np.hypot(*np.diff(points, axis=0).T).max() <= 0.5 + 1e-9
    assert np.all((points[:, 1] == 0) | (points[:, 0] == 10))  # on the two segments


@pytest.mark.parametrize("digit", [4, 5, 7])
def test_each_stroke_reaches_all_the_ink_it_laid_down(digit):
    lines, pad = drawn(digit)
    strokes = Strokes(lines, PEN, pad.shape)
    piece = Piece(0, pad)
    reach = strokes.reach(piece)
    assert [k for k, _ in reach] == list(range(len(lines)))
    for (_, here), line in zip(reach, lines):
        alone = render_many([[line / CANVAS]], [PEN], CANVAS)[0]
        assert not np.any((alone > FAINT) & ~here)  # the stroke's own ink is in its reach
        assert here.sum() < 4 * max(1, (alone > 0).sum())  # and not much more


def test_a_stroke_off_the_ink_reaches_none_of_it():
    lines, pad = drawn(1, at=(0.0, 0.0), size=40.0)
    far = np.array([[120.0, 120.0], [130.0, 130.0]])
    strokes = Strokes([*lines, far], PEN, pad.shape)
    assert [k for k, _ in strokes.reach(Piece(0, pad[:, :60]))] == list(range(len(lines)))
