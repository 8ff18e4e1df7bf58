"""Fine-tuning (digitnet.tune) and the worker's teaching API (digitnet.browser), in CPython:
taught ten drawings of a made-up glyph, the network reads new ones, and does not forget MNIST;
its gradients (the own drawings' cross-entropy, the replay's distillation) against finite
differences, and what it computes (the first layer once per replay image)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from digitnet.browser import Session
from digitnet.learn import init_params, input_gradient
from digitnet.modelfile import load_model
from digitnet.network import Model, forward, normalize
from digitnet.predict import LIVE, predict_drawing, read_proba, said_classes
from digitnet.preprocess import to_mnist
from digitnet.sizes import CANVAS, PIXELS, SIDE
from digitnet.tune import FineTune, TuneConfig, _Deck
from tools.paths import DATA_DIR, SHIPPED_MODEL, STATIC
from training.evaluation import evaluate
from training.fetch import load_mnist
from training.strokes import render, transform

TRIANGLE = [[(0.5, 0.18), (0.82, 0.8), (0.18, 0.8), (0.5, 0.18)]]  # taught as a 4: a made-up glyph


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
        numeric = (
            forward(model.weights, model.biases, up)[-1][0, 4]
            - forward(model.weights, model.biases, down)[-1][0, 4]
        ) / (2 * eps)
        assert grad[i] == pytest.approx(numeric, rel=0.05, abs=2e-3)


def test_teaching_ten_drawings_of_a_glyph_makes_new_ones_read_right():
    s = Session()
    assert json.loads(s.load_model(SHIPPED_MODEL.read_bytes(), "model.npz"))["ok"]
    shipped = load_model(SHIPPED_MODEL)
    new = [to_mnist(p) for p in triangles(10, 2)]
    before = [predict_drawing(shipped, p) for p in triangles(10, 2)]
    assert sum(p.digit == 4 for p in before) <= 2  # the shipped model does not read them as 4
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
    # What it changed, in the person's terms: the taught drawings read right, before and after.
    report = json.loads(s.tuning_report())

    def plain(model):
        return int((said_classes(read_proba(model, taught, LIVE)) == 4).sum())

    assert report == {"drawings": 10, "before": plain(shipped), "after": plain(personal)}
    assert report["before"] <= 2 and report["after"] == 10
    after = [predict_drawing(personal, p) for p in triangles(10, 2)]
    assert sum(p.digit == 4 for p in after) >= 9, [p.digit for p in after]
    # Hardly any forgetting: MNIST's test error rises by at most 0.15 points.
    test = load_mnist(DATA_DIR / "mnist_test.csv")
    assert evaluate(personal, test).error <= evaluate(shipped, test).error + 0.0015
    # The first layer is kept as it was; the layers above it learnt.
    assert np.array_equal(shipped.weights[0], personal.weights[0]) and np.array_equal(
        shipped.biases[0], personal.biases[0]
    )
    assert not any(np.array_equal(a, b) for a, b in zip(shipped.weights[1:], personal.weights[1:]))
    assert len(new) == 10


def tiny_tuning(temperature: float, seed: int = 0) -> FineTune:
    """A fine-tuning of a small random float64 network 784-6-5-4 (first layer frozen) on random images."""
    rng = np.random.default_rng(seed)
    w, b = init_params([PIXELS, 6, 5, 4], rng)
    model = Model([a.astype(np.float64) for a in w], [a.astype(np.float64) + 0.1 for a in b], 0.1, 0.3)
    images, replay = rng.random((5, SIDE, SIDE)), rng.random((9, SIDE, SIDE))
    cfg = TuneConfig(batch_size=8, own_share=0.25, replay=6, temperature=temperature, seed=seed)
    return FineTune(model, images, rng.integers(0, 4, 5), replay, rng.integers(0, 4, 9), cfg)


@pytest.mark.parametrize("temperature", [4.0, 0.0])
def test_fine_tuning_gradients_match_finite_differences(temperature):
    """The loss of a batch (own drawings: cross-entropy; replay: T^2 KL to the starting model at
    temperature T, or cross-entropy with T = 0) and its gradients for every learning weight."""
    tune = tiny_tuning(temperature)
    tune.step(3)  # away from the start, where the replay's KL is 0
    h, labels, z0 = tune._batch()
    assert len(h) == len(labels) == 8 and len(z0) == (6 if temperature else 0)
    loss, gw, gb = tune.gradients(h, labels, z0)
    assert loss > 0
    eps = 1e-6
    for p, g in zip(tune.weights + tune.biases, gw + gb):
        for i in list(np.ndindex(p.shape))[:12]:
            p[i] += eps
            up = tune.gradients(h, labels, z0)[0]
            p[i] -= 2 * eps
            down = tune.gradients(h, labels, z0)[0]
            p[i] += eps
            assert g[i] == pytest.approx((up - down) / (2 * eps), rel=1e-4, abs=1e-8)


def test_distillation_starts_at_zero_and_the_frozen_layer_stays():
    tune = tiny_tuning(4.0)
    h, labels, z0 = tune._batch()
    z = forward(tune.weights, tune.biases, h)[-1]
    assert np.allclose(z[len(z) - len(z0) :], z0)  # the replay's targets: the start's own logits
    first = [w.copy() for w in tune.model.weights]
    tune.step(10)
    assert np.array_equal(first[0], tune.model.weights[0])
    assert not np.array_equal(first[1], tune.model.weights[1])


def test_the_first_layer_runs_once_per_replay_image_and_once_per_own_drawing_used(monkeypatch):
    """What fine-tuning computes through the frozen first layer (784 x 512 in the shipped model):
    each replay image once, however often it is used, and the own drawings of every batch (each
    shifted anew)."""
    shipped = load_model(SHIPPED_MODEL)
    with np.load(STATIC / "model" / "replay.npz") as z:
        replay_images, replay_labels = z["images"], z["labels"]
    images = np.stack([to_mnist(p) for p in triangles(10, 1)])
    cfg = TuneConfig()
    tune = FineTune(shipped, images, np.full(10, 4), replay_images, replay_labels, cfg)
    rows = []
    features = tune.features
    monkeypatch.setattr(tune, "features", lambda x: rows.append(len(x)) or features(x))
    while not tune.done:
        tune.step(5)
    own = round(cfg.batch_size * cfg.own_share)
    assert sum(rows) == cfg.replay + cfg.steps * own
    assert tune.known.all() and len(tune.replay_h) == cfg.replay < len(replay_images)


def test_the_deck_deals_every_index_once_per_pass():
    deck = _Deck(7, np.random.default_rng(0))
    dealt = np.concatenate([deck.deal(3) for _ in range(14)])  # 42 = 6 passes of 7
    for k in range(6):
        assert sorted(dealt[7 * k : 7 * k + 7]) == list(range(7))


def test_why_says_which_ink_pushed_the_answer():
    s = Session()
    s.load_model(SHIPPED_MODEL.read_bytes(), "model.npz")
    pad = render(transform([[(0.5, 0.18), (0.5, 0.82)]]), size=CANVAS, width=10)
    why = s.why(pad.tobytes(), CANVAS, CANVAS)
    assert why.shape == (PIXELS,) and why.dtype == np.float32
    image = to_mnist(pad).ravel()
    assert np.all(why[image == 0] == 0)  # only ink can matter
    assert why.sum() > 0  # the ink of a 1 argues for the 1
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
