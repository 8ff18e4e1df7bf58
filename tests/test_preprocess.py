"""Pad pixels -> 28x28 MNIST-like image: invariance to where, how big and how thick a digit is drawn."""

import numpy as np
import pytest

from digitnet.modelfile import load_model
from digitnet.predict import predict_drawing
from digitnet.preprocess import (
    bounding_box,
    center_of_mass,
    frame,
    grey_filter,
    ink_components,
    resize_area,
    stroke_width,
    to_mnist,
)
from tools.paths import ROOT
from training.strokes import DIGITS, render, transform


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two images."""
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))


def overlap_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in): how much of input pixel j output pixel i covers, divided by r = n_in / n_out."""
    r = n_in / n_out
    lo = np.arange(n_out)[:, None] * r
    j = np.arange(n_in)[None, :]
    return np.clip(np.minimum(lo + r, j + 1) - np.maximum(lo, j), 0, None) / r


@pytest.mark.parametrize(
    "shape_in, shape_out",
    [((90, 37), (20, 8)), ((280, 280), (80, 80)), ((7, 3), (20, 9)), ((33, 1), (20, 1))],
)
def test_resize_area_is_the_area_average(shape_in, shape_out):
    img = np.random.default_rng(0).random(shape_in).astype(np.float32)
    expected = overlap_matrix(shape_in[0], shape_out[0]) @ img @ overlap_matrix(shape_in[1], shape_out[1]).T
    out = resize_area(img, shape_out)
    assert out.shape == shape_out and out.dtype == np.float32
    np.testing.assert_allclose(out, expected, atol=1e-5)
    assert out.mean() == pytest.approx(img.mean(), rel=1e-4)  # keeps the mean intensity
    assert np.allclose(resize_area(np.ones(shape_in, np.float32), shape_out), 1)


def test_grey_filter_dilates_and_erodes_by_a_square():
    img = np.zeros((9, 9), np.float32)
    img[4, 4] = 1
    grown = grey_filter(img, 5, np.maximum)  # a 5x5 square, centred
    assert bounding_box(grown) == (2, 7, 2, 7) and grown.sum() == 25
    assert np.array_equal(grey_filter(grown, 5, np.minimum), img)
    block = frame(np.ones((5, 5), np.float32), 2)
    assert np.array_equal(grey_filter(block, 3, np.minimum), frame(np.ones((3, 3), np.float32), 3))
    assert np.array_equal(
        grey_filter(np.ones((4, 4), np.float32), 3, np.minimum), np.ones((4, 4))
    )  # edges are ink
    # An even square covers the pixel and the ones above and to the left of it.
    two = grey_filter(img, 2, np.maximum)
    assert bounding_box(two) == (4, 6, 4, 6) and two.sum() == 4


def test_grey_filter_works_on_a_batch_as_on_each_image():
    """augment.thicken/thin filter a batch (N, 28, 28) with the same function preprocessing uses."""
    rng = np.random.default_rng(0)
    batch = rng.random((5, 12, 9)).astype(np.float32)
    for size in (2, 3, 4):
        for op in (np.maximum, np.minimum):
            together = grey_filter(batch, size, op)
            assert together.shape == batch.shape
            for image, filtered in zip(batch, together):
                assert np.array_equal(grey_filter(image, size, op), filtered)
    # the 2x2 dilation by hand: each pixel is the max of itself and its upper/left neighbours
    hand = batch.copy()
    hand[:, 1:, :] = np.maximum(hand[:, 1:, :], batch[:, :-1, :])
    hand2 = hand.copy()
    hand2[:, :, 1:] = np.maximum(hand2[:, :, 1:], hand[:, :, :-1])
    assert np.array_equal(grey_filter(batch, 2, np.maximum), hand2)


def test_center_of_mass_and_bounding_box():
    img = np.zeros((10, 12), np.float32)
    img[2, 3] = 1
    img[6, 9] = 3
    assert center_of_mass(img) == pytest.approx((5.0, 7.5))
    assert bounding_box(img) == (2, 7, 3, 10)
    assert bounding_box(np.zeros((4, 4))) is None


def test_components_are_eight_connected():
    mask = np.array([[1, 0, 0, 1], [0, 1, 0, 1], [0, 0, 0, 0], [1, 1, 0, 1]], bool)
    labels = ink_components(mask)
    assert labels[0, 0] == labels[1, 1] != labels[0, 3]
    assert labels[0, 3] == labels[1, 3]
    assert len(set(labels[mask].tolist())) == 4
    u = np.array([[1, 0, 1], [1, 0, 1], [1, 1, 1]], bool)  # a U joins late
    assert len(set(ink_components(u)[u].tolist())) == 1


def test_stroke_width_estimate():
    for width in (6, 12, 20):
        pad = render([[(0.2, 0.5), (0.8, 0.5)]], width=width)
        assert stroke_width(pad / 255) == pytest.approx(width, rel=0.25)


def test_empty_pad_and_lone_dot_give_nothing():
    assert to_mnist(np.zeros((280, 280), np.uint8)) is None
    assert to_mnist(render([[(0.4, 0.4)]])) is None  # a tap
    assert to_mnist(render([[(0.4, 0.4), (0.41, 0.41)]])) is None  # a tiny scribble
    faint = np.full((280, 280), 40, np.uint8)  # no pixel above half ink
    assert to_mnist(faint) is None


def test_output_is_mnist_like():
    img = to_mnist(render(DIGITS[3]))
    assert img.shape == (28, 28) and img.dtype == np.float32
    assert 0 <= img.min() and img.max() <= 1 and img.max() > 0.9
    top, bottom, left, right = bounding_box(img, 0.05)
    assert max(bottom - top, right - left) in (20, 21)  # longer side scaled to 20
    cy, cx = center_of_mass(img)
    assert abs(cy - 13.5) <= 0.5 and abs(cx - 13.5) <= 0.5  # centre of mass at the centre
    assert 1.8 <= stroke_width(frame(img, 1)) <= 3.3  # MNIST-like stroke (median 2.3)


VARIANTS = {
    "small": dict(scale=0.35),
    "tiny corner": dict(scale=0.25, dx=-0.35, dy=0.35),
    "large": dict(scale=1.25),
    "off-centre": dict(scale=0.6, dx=0.2, dy=-0.2),
}


@pytest.mark.parametrize("digit", range(10))
@pytest.mark.parametrize("variant", VARIANTS)
def test_where_and_how_big_hardly_matters(digit, variant):
    reference = to_mnist(render(DIGITS[digit]))
    moved = to_mnist(render(transform(DIGITS[digit], **VARIANTS[variant])))
    assert similarity(reference, moved) > 0.65  # unprocessed, a moved digit would score about 0


@pytest.mark.parametrize("width", [8, 34])
@pytest.mark.parametrize("digit", [0, 1, 4, 7])
def test_brush_thickness_is_normalised(digit, width):
    reference = to_mnist(render(DIGITS[digit]))
    img = to_mnist(render(DIGITS[digit], width=width))
    assert 1.8 <= stroke_width(frame(img, 1)) <= 3.5
    assert similarity(reference, img) > 0.75


def test_stray_speck_is_ignored():
    clean = to_mnist(render(DIGITS[7]))
    specked = to_mnist(render(DIGITS[7] + [[(0.95, 0.95)]]))
    assert np.allclose(clean, specked)


def test_part_of_a_digit_is_not_a_speck():
    """The separate bar of a 4 drawn in two strokes is kept."""
    four = DIGITS[4]
    assert not np.allclose(to_mnist(render(four)), to_mnist(render(four[:1])))


def test_line_touching_the_edge():
    img = to_mnist(render([[(0.5, -0.1), (0.5, 1.1)]]))
    assert img is not None
    top, bottom, left, right = bounding_box(img, 0.05)
    assert bottom - top in (20, 21) and right - left <= 5


def test_accepts_float_and_rejects_colour():
    pad = render(DIGITS[1])
    assert np.allclose(to_mnist(pad), to_mnist(pad / 255.0), atol=1e-6)
    with pytest.raises(ValueError, match="2-D"):
        to_mnist(np.zeros((10, 10, 4), np.uint8))


@pytest.fixture(scope="module")
def shipped_model():
    return load_model(ROOT / "static" / "model" / "model.npz")


@pytest.mark.parametrize("digit", range(10))
@pytest.mark.parametrize("variant", ["normal", "small", "large", "off-centre", "thin", "thick", "page"])
def test_shipped_model_reads_drawn_digits(shipped_model, digit, variant):
    strokes, width, size = DIGITS[digit], 20, 280
    if variant == "page":
        size, width = 140, 10  # the page's model canvas (static/js/pad.js MODEL_SIZE, BRUSH)
    elif variant in VARIANTS:
        strokes = transform(strokes, **VARIANTS[variant])
    elif variant == "thin":
        width = 7
    elif variant == "thick":
        width = 36
    prediction = predict_drawing(shipped_model, render(strokes, size=size, width=width))
    assert prediction is not None
    assert prediction.digit == digit, np.round(prediction.probs, 3)


# ------------------------------------------------------------- parts side by side: the verdict


def test_side_by_side_needs_two_big_parts_with_no_column_in_common():
    from digitnet.preprocess import side_by_side

    twelve = render(transform(DIGITS[1], 0.5, -0.2) + transform(DIGITS[2], 0.5, 0.2), size=140, width=8)
    assert side_by_side(twelve) and side_by_side(to_mnist(twelve))  # on the pad and on 28x28
    for digit in range(10):  # one digit, whole or in strokes
        assert not side_by_side(render(DIGITS[digit], size=140, width=8)), digit
    five = render(
        [
            [(0.3, 0.2), (0.3, 0.5), (0.5, 0.45), (0.65, 0.6), (0.6, 0.8), (0.3, 0.82)],
            [(0.36, 0.2), (0.7, 0.2)],
        ],
        size=140,
        width=6,
    )  # its bar drawn apart, above
    assert not side_by_side(five)
    speck = render(DIGITS[3] + [[(0.95, 0.5), (0.96, 0.5)]], size=140, width=6)
    assert not side_by_side(speck)  # too little ink to be a part
    assert not side_by_side(np.zeros((28, 28), np.float32))


def test_the_verdict_is_the_networks_unless_the_parts_are_apart():
    from digitnet.predict import verdict

    digit = np.array([0.05] * 9 + [0.5, 0.05], np.float32)  # 9 wins
    rejected = np.array([0.04] * 10 + [0.6], np.float32)
    unsure = np.array([0.055] * 9 + [0.005, 0.5], np.float32)  # not a digit: just half
    assert verdict(unsure, False) == ("digit", "")
    assert verdict(digit, False) == ("digit", "")
    assert verdict(digit, True) == ("not-digit", "side-by-side")
    assert verdict(rejected, False) == ("not-digit", "not-a-digit")
    assert verdict(rejected, True) == ("not-digit", "side-by-side")
    assert verdict(digit[:10], True) == ("digit", "")  # a 10-class model cannot say it
