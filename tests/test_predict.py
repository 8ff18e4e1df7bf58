"""digitnet.predict.read_proba: the network's probabilities averaged over the image and its eight
one-pixel shifts, the one reading the page, training.evaluate and the benchmarks use."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from digitnet.network import Model, predict_proba
from digitnet.predict import VIEWS, predict_drawing, read_proba, shifted
from digitnet.sizes import CANVAS, CLASSES, SIDE
from training.data import Dataset
from training.evaluation import evaluate
from training.strokes import DIGITS, render, transform


def random_model(seed: int = 0, outputs: int = CLASSES + 1) -> Model:
    rng = np.random.default_rng(seed)
    return Model(
        [
            rng.normal(0, 0.05, (SIDE * SIDE, 32)).astype(np.float32),
            rng.normal(0, 0.3, (32, outputs)).astype(np.float32),
        ],
        [np.zeros(32, np.float32), np.zeros(outputs, np.float32)],
        0.1,
        0.3,
        {},
    )


@given(st.integers(-3, 3), st.integers(-3, 3), st.integers(0, 2**32 - 1))
def test_shifted_moves_the_ink_and_lets_zeros_in(dy, dx, seed):
    images = np.random.default_rng(seed).random((2, 9, 7)).astype(np.float32)
    out = shifted(images, dy, dx)
    assert out.shape == images.shape and out.dtype == images.dtype
    for r in range(9):
        for c in range(7):
            inside = 0 <= r - dy < 9 and 0 <= c - dx < 7
            expected = images[:, r - dy, c - dx] if inside else np.zeros(2, np.float32)
            assert np.array_equal(out[:, r, c], expected)


def test_views_are_the_image_and_its_eight_neighbours():
    assert VIEWS[0] == (0, 0) and len(set(VIEWS)) == 9
    assert all(max(abs(dy), abs(dx)) == 1 for dy, dx in VIEWS[1:])


def test_read_proba_averages_the_readings_of_the_views():
    model = random_model()
    images = np.random.default_rng(1).random((5, SIDE, SIDE)).astype(np.float32)
    one_by_one = np.mean([predict_proba(model, shifted(images, dy, dx)) for dy, dx in VIEWS], axis=0)
    out = read_proba(model, images)
    assert out.shape == (5, CLASSES + 1) and out.dtype == np.float32
    assert np.allclose(out, one_by_one, atol=1e-5) and np.allclose(out.sum(1), 1, atol=1e-5)
    assert np.array_equal(read_proba(model, images, VIEWS[:1]), predict_proba(model, images))
    assert not np.allclose(out, predict_proba(model, images), atol=1e-3)  # the views do count


def test_the_page_and_evaluate_read_the_same_way():
    model = random_model(2)
    prediction = predict_drawing(model, render(DIGITS[3], size=140, width=8))
    expected = read_proba(model, prediction.image[None])[0]
    assert np.allclose(prediction.probs, expected[:CLASSES]) and np.isclose(
        prediction.not_digit, expected[CLASSES]
    )
    image = np.round(prediction.image * 255).astype(np.uint8)[None]
    ev = evaluate(model, Dataset(image, np.array([3], np.uint8)))
    assert np.allclose(ev.probs, read_proba(model, image.astype(np.float32) / 255))


def test_a_small_drawing_with_a_thick_pen_is_too_small_to_read():
    """ "Draw it larger" comes before the network: the same small 7 is read with a thin pen, and is
    ink too short for its own stroke width with the thickest pen; a tap is nothing to read."""
    model = random_model(3)
    small = transform(DIGITS[7], 0.12)
    thick, thin = 0.1 * CANVAS, 0.02 * CANVAS  # the page's thickest pen, and a thin one
    said = predict_drawing(model, render(small, CANVAS, thick), thick)
    assert (said.verdict, said.reason, said.digit) == ("not-digit", "too-small", None)
    assert not said.image.any() and not said.probs.any() and said.not_digit == 0
    said = predict_drawing(model, render(small, CANVAS, thin), thin)
    assert (
        said.reason != "too-small" and said.image.any() and np.isclose(said.probs.sum() + said.not_digit, 1)
    )
    assert predict_drawing(model, render([[(0.5, 0.5)]], CANVAS, thick), thick) is None
