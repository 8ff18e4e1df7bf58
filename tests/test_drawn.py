"""Digits redrawn with a round pen (training.drawn) and the batch pen renderer (training.strokes)."""

import numpy as np
import pytest

from digitnet.modelfile import load_model
from digitnet.network import predict_proba
from digitnet.preprocess import ink_components, to_mnist
from digitnet.sizes import CANVAS
from tools.paths import DATA_DIR, SHIPPED_MODEL
from training import drawn
from training.drawn import as_drawn, as_inked, skeletons, smooth, thin, trace
from training.fetch import load_mnist
from training.strokes import DIGITS, PEN_MAX, PEN_MIN, jitter, place, render, render_many, transform


@pytest.fixture(scope="module")
def mnist_test():
    return load_mnist(DATA_DIR / "mnist_test.csv")


# ------------------------------------------------------------------------- render_many


def test_render_many_draws_what_render_draws():
    drawings = [
        transform(DIGITS[d], s, dx, dy)
        for d in range(10)
        for s, dx, dy in ((1.0, 0, 0), (0.3, 0.2, -0.25), (0.6, -0.3, 0.3))
    ]  # the last one leaves the pad
    widths = np.linspace(PEN_MIN * CANVAS, PEN_MAX * CANVAS, len(drawings))
    many = render_many(drawings, widths, CANVAS)
    assert many.shape == (len(drawings), CANVAS, CANVAS) and many.dtype == np.uint8
    one_by_one = np.stack([render(d, CANVAS, w) for d, w in zip(drawings, widths)])
    assert np.abs(many.astype(int) - one_by_one).max() <= 1  # float rounding only
    assert (many != one_by_one).mean() < 1e-3


def test_render_many_lone_points_empty_drawings_and_batches():
    pads = render_many([[[(0.5, 0.5)]], [], [[]]], [10, 5, 5], 60)
    dot = render([[(0.5, 0.5)]], 60, 10)
    assert np.array_equal(pads[0], dot) and pads[0].max() == 255
    assert not pads[1].any() and not pads[2].any()
    assert render_many([], [], 60).shape == (0, 60, 60)
    # more drawings than one float buffer holds: the same pixels as each alone
    lots = [transform(DIGITS[k % 10], 0.5 + 0.04 * (k % 10)) for k in range(300)]
    together = render_many(lots, 6.0, 56)
    assert np.array_equal(together[257], render_many(lots[257:258], 6.0, 56)[0])


def test_place_keeps_the_pen_in_the_pages_range_and_on_the_pad():
    rng = np.random.default_rng(0)
    for _ in range(200):
        strokes = [rng.uniform(-3, 5, (int(rng.integers(1, 6)), 2))]
        moved = jitter(
            strokes,
            (rng.uniform(-20, 20), rng.uniform(-0.3, 0.3), rng.uniform(-0.3, 0.3)),
            rng.uniform(0, 1, 6),
        )
        placed, width = place(
            moved, rng.uniform(0.1, 1.0), rng.uniform(), rng.uniform(0, 1, 2), by_area=bool(rng.integers(2))
        )
        assert PEN_MIN * CANVAS - 1e-4 <= width <= PEN_MAX * CANVAS + 1e-4
        every = np.concatenate(placed) * CANVAS
        assert (every - width / 2 >= 0).all() and (every + width / 2 <= CANVAS).all()


def test_jitter_keeps_strokes_that_met_together():
    a = np.array([(0, 0), (1, 1)], np.float32)
    b = np.array([(1, 1), (2, 0)], np.float32)
    moved = jitter([a, b], (10, 0.2, 0.1), np.full(6, 0.7))
    assert np.allclose(moved[0][-1], moved[1][0], atol=1e-5)
    assert not np.allclose(moved[0], a)


# ------------------------------------------------------------------------ thin / trace


def reach_from_border(free: np.ndarray) -> np.ndarray:
    """Pixels of ``free`` reachable from the image border through 4-connected free pixels."""
    seen = np.zeros_like(free)
    seen[[0, -1], :] = free[[0, -1], :]
    seen[:, [0, -1]] |= free[:, [0, -1]]
    while True:
        grown = seen.copy()
        grown[1:] |= seen[:-1]
        grown[:-1] |= seen[1:]
        grown[:, 1:] |= seen[:, :-1]
        grown[:, :-1] |= seen[:, 1:]
        grown &= free
        if np.array_equal(grown, seen):
            return seen
        seen = grown


def test_thin_gives_one_pixel_lines_that_keep_shape_and_holes():
    bar = np.zeros((20, 40), bool)
    bar[6:13, 4:36] = True
    skel = thin(bar)
    assert skel.sum() >= 20 and (skel & ~bar).sum() == 0
    assert skel.sum(axis=0).max() == 1  # one pixel thick
    yy, xx = np.mgrid[:40, :40]
    ring = (np.hypot(yy - 20, xx - 20) < 15) & (np.hypot(yy - 20, xx - 20) > 8)
    loop = thin(ring)
    assert ink_components(loop).max() == 1  # still one piece ...
    outside = reach_from_border(~loop)
    assert not outside[20, 20] and outside.sum() + loop.sum() < loop.size  # ... around a hole
    diagonal = np.eye(20, dtype=bool) | np.eye(20, k=1, dtype=bool)  # two pixels thick
    assert thin(diagonal).sum() >= 15  # (Zhang-Suen would erase it)
    assert np.array_equal(thin(skel), skel)  # a skeleton is its own skeleton
    batch = thin(np.stack([bar[:, :20], ring[:20, :20]]))
    assert np.array_equal(batch[0], thin(bar[:, :20])) and np.array_equal(batch[1], thin(ring[:20, :20]))


def test_trace_covers_the_skeleton_with_strokes_meeting_at_junctions():
    t = np.zeros((30, 30), bool)
    t[5, 5:26] = True  # the bar of a T
    t[5:26, 15] = True  # its stem
    paths = trace(t)
    assert len(paths) == 3
    junction = np.array([15.5, 5.5], np.float32)
    assert all(any(np.allclose(end, junction) for end in (p[0], p[-1])) for p in paths)
    covered = {(int(y), int(x)) for p in paths for x, y in p}
    assert covered == set(zip(*np.nonzero(t)))
    spur = t.copy()
    spur[6, 8] = True  # a one-pixel branch
    assert any(sorted(p.tolist()) == [[8.5, 5.5], [8.5, 6.5]] for p in trace(spur))
    pruned = {(int(y), int(x)) for p in trace(spur, spur=3) for x, y in p}
    assert pruned == set(zip(*np.nonzero(t)))
    ring = np.zeros((12, 12), bool)
    ring[2, 2:9] = ring[8, 2:9] = ring[2:9, 2] = ring[2:9, 8] = True
    (loop,) = trace(ring)
    assert np.array_equal(loop[0], loop[-1]) and len(loop) == ring.sum() + 1
    dot = np.zeros((5, 5), bool)
    dot[2, 3] = True
    assert [p.tolist() for p in trace(dot)] == [[[3.5, 2.5]]]
    assert trace(np.zeros((5, 5), bool)) == []


def test_smooth_keeps_ends_and_closed_loops():
    zigzag = np.array([(0, 0), (1, 1), (2, 0), (3, 1), (4, 0)], np.float32)
    s = smooth(zigzag, 3)
    assert np.array_equal(s[[0, -1]], zigzag[[0, -1]]) and np.ptp(s[1:-1, 1]) < 0.5
    square = np.array([(0, 0), (1, 0), (1, 1), (0, 1), (0, 0)], np.float32)
    assert np.array_equal(smooth(square)[0], smooth(square)[-1])


# ------------------------------------------------------------------------------ as_drawn


@pytest.mark.parametrize("redraw", [as_drawn, as_inked])
def test_redrawing_is_reproducible_and_changes_every_digit(mnist_test, redraw):
    images = mnist_test.images[:60]
    out = redraw(images, seed=5)
    assert out.shape == images.shape and out.dtype == np.uint8
    assert np.array_equal(out, redraw(images, seed=5))
    assert not np.array_equal(out, redraw(images, seed=6))
    assert (np.abs(out.astype(int) - images).sum(axis=(1, 2)) > 0).all()  # every one redrawn


def test_as_drawn_is_the_pages_preprocessing(mnist_test):
    images = mnist_test.images[:60]
    out = as_drawn(images, seed=5)
    pads: list = []
    again = drawn._as_drawn(images, 5, pads)
    assert np.array_equal(again, out)
    for image, pad in zip(out, pads):
        assert pad.shape == (CANVAS, CANVAS) and pad.dtype == np.uint8
        assert np.array_equal(image, np.round(to_mnist(pad) * 255).astype(np.uint8))


def test_as_drawn_does_not_depend_on_the_chunk_size(mnist_test, monkeypatch):
    images = mnist_test.images[:30]
    whole = as_drawn(images, seed=1)
    monkeypatch.setattr(drawn, "CHUNK", 7)
    assert np.array_equal(as_drawn(images, seed=1), whole)


def test_as_drawn_keeps_a_digit_it_cannot_redraw():
    images = np.zeros((3, 28, 28), np.uint8)
    images[1, 14, 14] = 90  # too faint to have a skeleton
    images[2, 10:12, 10:12] = 255  # a dot: the page reads nothing
    assert not skeletons(images[:2]).any()
    assert np.array_equal(as_drawn(images, seed=0), images)


def test_as_inked_digits_come_out_as_the_pages_preprocessing_leaves_them(mnist_test):
    out = as_inked(mnist_test.images[:60], seed=5)
    rows, cols = np.mgrid[:28, :28]
    for image in out.astype(np.float32):  # as to_mnist leaves a digit:
        assert 0 < image.max() <= 255
        mass = image.sum()
        centre = (rows * image).sum() / mass, (cols * image).sum() / mass
        assert np.allclose(centre, 13.5, atol=1.0)  # centre of mass in the middle
    blank = np.zeros((2, 28, 28), np.uint8)
    blank[1, 10:12, 10:12] = 255  # a dot: the page reads nothing
    assert np.array_equal(as_inked(blank, seed=0), blank)  # kept as it was


def test_as_drawn_digits_are_still_read_right_by_the_shipped_model(mnist_test):
    model = load_model(SHIPPED_MODEL)
    images, labels = mnist_test.images[:200], mnist_test.labels[:200]
    out = as_drawn(images, seed=0)
    accuracy = float((predict_proba(model, out.astype(np.float32) / 255).argmax(1) == labels).mean())
    assert accuracy >= 0.90, accuracy
