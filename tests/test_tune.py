"""Fine-tuning (digitnet.tune) and the worker's teaching API (digitnet.browser), in CPython:
taught ten drawings of a made-up glyph, the network reads new ones, and does not forget MNIST."""

from __future__ import annotations

import json

import numpy as np
import pytest

from digitnet.browser import Session
from digitnet.learn import input_gradient
from digitnet.modelfile import load_model
from digitnet.network import forward, normalize
from digitnet.predict import predict_drawing
from digitnet.preprocess import to_mnist
from digitnet.sizes import CANVAS, PIXELS, SIDE
from tools.paths import DATA_DIR, SHIPPED_MODEL, STATIC
from training.evaluate import evaluate
from training.fetch import load_mnist
from training.strokes import render, transform

TRIANGLE = [[(0.5, 0.18), (0.82, 0.8), (0.18, 0.8), (0.5, 0.18)]]   # taught as a 4: a made-up glyph


def triangles(n: int, seed: int) -> list[np.ndarray]:
    """n triangles drawn on the page's canvas at random sizes, places and pens."""
    rng = np.random.default_rng(seed)
    pads = []
    for _ in range(n):
        scale = rng.uniform(0.5, 1.0)
        dx, dy = rng.uniform(-0.2, 0.2, 2) * (1 - scale)
        pads.append(render(transform(TRIANGLE, scale, dx, dy), size=CANVAS, width=rng.uniform(4, 12)))
    return pads


def replay_bytes() -> bytes:
    return (STATIC / "model" / "replay.npz").read_bytes()


def test_input_gradient_matches_finite_differences():
    model = load_model(SHIPPED_MODEL)
    x = normalize(model, to_mnist(triangles(1, 0)[0])[None])
    grad = input_gradient(model.weights, model.biases, x, np.array([4]))[0]
    rng = np.random.default_rng(0)
    for i in rng.choice(PIXELS, 8, replace=False):
        eps = np.float32(1e-2)
        up, down = x.copy(), x.copy()
        up[0, i] += eps
        down[0, i] -= eps
        numeric = (forward(model.weights, model.biases, up)[-1][0, 4]
                   - forward(model.weights, model.biases, down)[-1][0, 4]) / (2 * eps)
        assert grad[i] == pytest.approx(numeric, rel=0.05, abs=2e-3)


def test_teaching_ten_drawings_of_a_glyph_makes_new_ones_read_right():
    s = Session()
    assert json.loads(s.load_model(SHIPPED_MODEL.read_bytes(), "model.npz"))["ok"]
    shipped = load_model(SHIPPED_MODEL)
    new = [to_mnist(p) for p in triangles(10, 2)]
    before = [predict_drawing(shipped, p) for p in triangles(10, 2)]
    assert sum(p.digit == 4 for p in before) <= 2             # the shipped model does not read them as 4
    taught = np.stack([to_mnist(p) for p in triangles(10, 1)])
    images = np.round(taught * 255).astype(np.uint8)
    answer = json.loads(s.start_tuning(images.tobytes(), bytes([4] * 10), replay_bytes()))
    steps = answer["steps"]
    progress = []
    while True:
        progress.append(json.loads(s.tune_step(10)))
        if progress[-1]["done"]:
            break
    assert [p["step"] for p in progress] == list(range(10, steps + 1, 10)) and progress[-1]["loss"] > 0
    personal_bytes = s.finish_tuning()
    personal = load_model(personal_bytes, "personal.npz")
    assert personal.meta["personal"] == {"drawings": 10, "steps": steps}
    after = [predict_drawing(personal, p) for p in triangles(10, 2)]
    assert sum(p.digit == 4 for p in after) >= 8, [p.digit for p in after]
    # No forgetting: MNIST's test error rises by at most 0.3 points.
    test = load_mnist(DATA_DIR / "mnist_test.csv")
    assert evaluate(personal, test).error <= evaluate(shipped, test).error + 0.003
    assert not any(np.array_equal(a, b) for a, b in zip(shipped.weights, personal.weights))
    assert len(new) == 10


def test_why_says_which_ink_pushed_the_answer():
    s = Session()
    s.load_model(SHIPPED_MODEL.read_bytes(), "model.npz")
    pad = render(transform([[(0.5, 0.18), (0.5, 0.82)]]), size=CANVAS, width=10)
    why = s.why(pad.tobytes(), CANVAS, CANVAS)
    assert why.shape == (PIXELS,) and why.dtype == np.float32
    image = to_mnist(pad).ravel()
    assert np.all(why[image == 0] == 0)                         # only ink can matter
    assert why.sum() > 0                                         # the ink of a 1 argues for the 1
    assert s.why(bytes(CANVAS * CANVAS), CANVAS, CANVAS) is None


def test_bad_teaching_input_is_refused_and_the_model_stays():
    s = Session()
    s.load_model(SHIPPED_MODEL.read_bytes(), "model.npz")
    model = s.model
    with pytest.raises(ValueError, match="2 drawings but 3 labels"):
        s.start_tuning(bytes(2 * PIXELS), bytes([1, 2, 3]), replay_bytes())
    with pytest.raises(ValueError, match="replay sample could not be read"):
        s.start_tuning(bytes(PIXELS), bytes([1]), b"not a zip")
    with pytest.raises(ValueError, match="labels must be"):
        s.start_tuning(bytes(PIXELS), bytes([12]), replay_bytes())
    assert s.model is model and s.tuning is None


def test_the_replay_sample_is_what_training_replay_writes():
    from training.replay import PER_DIGIT, npz_bytes, sample

    train = load_mnist(DATA_DIR / "mnist_train.csv")
    images, labels = sample(train.images, train.labels, PER_DIGIT, 0)
    assert npz_bytes(images=images, labels=labels) == replay_bytes()
    assert np.bincount(labels).tolist() == [PER_DIGIT] * 10 and images.shape[1:] == (SIDE, SIDE)
