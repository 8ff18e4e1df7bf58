"""digitnet.inside and inside_wire, the Inside view's numbers, against twins: PyTorch's autograd
for the contributions and effective weights, network.forward for the values, and the worker's
Session (breaking the network, restoring it, fine-tuning the unbroken one)."""

from __future__ import annotations

import dataclasses
import functools
import io
import json

import numpy as np
import pytest
from hypothesis import assume, currently_in_test_context, given, settings
from hypothesis import strategies as st

from digitnet import inside, inside_wire, samples
from digitnet.browser import LAYOUT, Session
from digitnet.inside import TERMS, Changes, changed, open_up, unit
from digitnet.learn import init_params
from digitnet.modelfile import load_model, save_model
from digitnet.network import Model, forward, normalize
from digitnet.sizes import CANVAS, PEN_DEFAULT, SIDE
from tools.paths import SHIPPED_MODEL
from training.strokes import render

PROPERTY = settings(max_examples=25, deadline=None, database=None)
SHIPPED = load_model(SHIPPED_MODEL)
SEVEN = next(s["strokes"] for s in samples.for_page() if s["digit"] == 7)  # the page's sample 7
PEN = PEN_DEFAULT * CANVAS
PAD = render(SEVEN, size=CANVAS, width=PEN)
UNBROKEN = {
    "modified": False,
    "knocked": [],
    "zero_biases": False,
    "noise": 0.0,
    "noise_max": inside.NOISE_MAX,
}


def random_model(sizes: list[int], seed: int = 0) -> Model:
    rng = np.random.default_rng(seed)
    weights, biases = init_params(sizes, rng)
    biases = [(rng.standard_normal(len(b)) * 0.1).astype(np.float32) for b in biases]
    return Model(weights, biases, 0.13, 0.3, {"test_error": 0.5})


DEEP = random_model([30, 24, 16, 12, 6], seed=1)  # three hidden layers


@functools.cache
def seven() -> np.ndarray:
    """The drawn 7 as the shipped model sees it (its normalised inputs)."""
    s = session()
    s.predict(PAD.tobytes(), CANVAS, CANVAS, PEN)
    return normalize(SHIPPED, s.seen[0][None])[0]


def drawn(model: Model, seed: int) -> np.ndarray:
    """Normalised inputs: the drawn 7 for the shipped model, random ones otherwise."""
    if model is SHIPPED:
        return seven()
    return np.random.default_rng(seed).standard_normal(model.sizes[0]).astype(np.float32)


def twin(model: Model, x: np.ndarray):
    """PyTorch, float64: hidden activations, logits, each hidden layer's Jacobian d logits / d a_l
    (K, n_l) by autograd, and the smallest |z| of a hidden unit (the ReLU kinks have no slope)."""
    torch = pytest.importorskip("torch")
    ws = [torch.from_numpy(w.astype(np.float64)) for w in model.weights]
    bs = [torch.from_numpy(b.astype(np.float64)) for b in model.biases]

    def top(a, start):  # the layers from weight matrix ``start`` on, to the logits
        for w, b in zip(ws[start:-1], bs[start:-1]):
            a = torch.relu(a @ w + b)
        return a @ ws[-1] + bs[-1]

    a, hidden, kink = torch.from_numpy(x.astype(np.float64)), [], np.inf
    for w, b in zip(ws[:-1], bs[:-1]):
        z = a @ w + b
        kink = min(kink, float(z.abs().min()))
        a = torch.relu(z)
        hidden.append(a)
    jac = [torch.autograd.functional.jacobian(lambda h, l=l: top(h, l + 1), h) for l, h in enumerate(hidden)]
    return [h.numpy() for h in hidden], top(hidden[-1], len(ws) - 1).numpy(), [j.numpy() for j in jac], kink


def away_from_kinks(kink: float) -> None:
    """ReLU has no slope at 0: float32 and float64 may disagree about a unit with z ~ 0."""
    if currently_in_test_context():
        assume(kink > 1e-4)
    else:
        assert kink > 1e-4


def same(xs: list[np.ndarray], ys: list[np.ndarray]) -> bool:
    return len(xs) == len(ys) and all(np.array_equal(a, b) for a, b in zip(xs, ys))


def close(actual, expected, rel=1e-4):
    expected = np.asarray(expected, np.float64)
    np.testing.assert_allclose(actual, expected, rtol=rel, atol=rel * max(1.0, np.abs(expected).max()))


def check_open_up(model: Model, x: np.ndarray, target: int | None) -> None:
    o = open_up(model, x, target)
    acts = forward(model.weights, model.biases, x[None])
    assert same(o.hidden, [a[0] for a in acts[1:-1]])
    assert np.array_equal(o.logits, acts[-1][0]) and o.probs.sum() == pytest.approx(1, abs=1e-6)
    assert same(o.hidden, [np.maximum(z, 0) for z in o.pre[:-1]])
    t = int(np.argmax(o.logits)) if target is None else target
    assert o.target == t
    hidden, logits, jac, kink = twin(model, x)
    away_from_kinks(kink)
    close(o.logits, logits)
    for l, (a, j) in enumerate(zip(hidden, jac), 1):
        close(o.hidden[l - 1], a)
        close(o.effective[l - 1], j[t])
        close(o.contributions[l - 1], a * j[t])
        every = [inside.effective_weights(model, o, l, i) for i in range(len(a))]
        close(np.stack(every), j.T)  # each unit's to every output
        assert float(o.contributions[l - 1].sum()) + o.shares[l - 1] == pytest.approx(
            o.logits[t], rel=1e-4, abs=1e-4 * np.abs(o.contributions[l - 1]).sum()
        )


def test_open_up_the_shipped_model_on_a_drawn_seven_against_autograd():
    check_open_up(SHIPPED, drawn(SHIPPED, 0), None)
    assert open_up(SHIPPED, drawn(SHIPPED, 0)).target == 7


@PROPERTY
@given(st.integers(0, 2**32 - 1), st.none() | st.integers(0, DEEP.sizes[-1] - 1))
def test_open_up_a_deep_random_model_against_autograd(seed, target):
    check_open_up(DEEP, drawn(DEEP, seed), target)


@PROPERTY
@given(st.sampled_from([SHIPPED, DEEP]), st.integers(0, 2**32 - 1), st.data())
def test_a_unit_is_its_sum_its_largest_terms_and_its_weights_out(model, seed, data):
    layers = len(model.weights)
    layer = data.draw(st.integers(1, layers), "layer")
    index = data.draw(st.integers(0, model.sizes[layer] - 1), "index")
    x = drawn(model, seed)
    o = open_up(model, x)
    u = unit(model, o, layer, index)
    below = ([o.inputs] + o.hidden)[layer - 1]
    assert np.array_equal(u.incoming, model.weights[layer - 1][:, index])
    assert u.bias == model.biases[layer - 1][index] and u.z == o.pre[layer - 1][index]
    terms = (u.incoming * below).astype(np.float64)
    assert u.term_value.sum() + u.rest_sum + u.bias == pytest.approx(
        u.z, abs=1e-5 * (np.abs(terms).sum() + 1)
    )
    assert len(set(u.term_index.tolist())) == TERMS and u.rest_count == len(below) - TERMS
    assert np.allclose(u.term_value, terms[u.term_index])
    assert np.abs(u.term_value).min() >= np.abs(np.delete(terms, u.term_index)).max()
    if layer == layers:  # an output: no weights out, no ReLU
        assert u.a == u.z == o.logits[index] and np.array_equal(u.outgoing, np.zeros(model.sizes[-1]))
        return
    assert u.a == o.hidden[layer - 1][index] == max(u.z, 0)
    if layer == layers - 1:
        assert np.array_equal(u.outgoing, model.weights[-1][index])
    _, _, jac, kink = twin(model, x)
    away_from_kinks(kink)
    close(u.outgoing, jac[layer - 1][:, index])  # d logits / d a_layer[index], all K outputs


def knockable(model: Model):
    return st.sampled_from([(l, i) for l in range(1, len(model.weights)) for i in range(model.sizes[l])])


@PROPERTY
@given(st.frozensets(knockable(DEEP), max_size=8), st.booleans(), st.floats(0, inside.NOISE_MAX))
def test_changed_breaks_a_copy_and_knocked_units_stay_silent(knocked, zero, noise):
    before = [p.tobytes() for p in DEEP.weights + DEEP.biases]
    meta = dict(DEEP.meta)
    c = Changes(knocked, zero, noise)
    broken = changed(DEEP, c)
    assert [p.tobytes() for p in DEEP.weights + DEEP.biases] == before and DEEP.meta == meta
    if not c.any:
        assert broken is DEEP
        return
    assert broken.meta["modified"] is True and broken.sizes == DEEP.sizes
    x = np.random.default_rng(0).standard_normal((50, DEEP.sizes[0])).astype(np.float32) * 10
    acts = forward(broken.weights, broken.biases, np.concatenate([x, -x]))
    for l, i in knocked:
        assert not acts[l][:, i].any()
    assert not zero or not any(b.any() for b in broken.biases)
    if not zero and not knocked:
        assert same(broken.biases, DEEP.biases)


def test_noise_is_one_fixed_pattern_scaled():
    assert changed(DEEP, Changes(noise=0.0)) is DEEP and changed(SHIPPED, Changes()) is SHIPPED
    half, again, full = (changed(DEEP, Changes(noise=s)) for s in (0.5, 0.5, 1.0))
    pattern = inside.noise_pattern(DEEP)
    for w, h, a, f, n in zip(DEEP.weights, half.weights, again.weights, full.weights, pattern):
        assert np.array_equal(h, a) and not np.array_equal(h, w)
        np.testing.assert_allclose(2 * (h - w), f - w, atol=1e-6)
        np.testing.assert_allclose(f - w, n, atol=1e-6)
        assert (f - w).std() == pytest.approx(w.std(), rel=0.15)  # noise as large as the weights' spread
    assert same(full.biases, DEEP.biases) and same(
        changed(DEEP, Changes(noise=0.5), pattern).weights, half.weights
    )


def session(model: Model | None = None) -> Session:
    s = Session()
    data = SHIPPED_MODEL.read_bytes()
    if model is not None:
        buf = io.BytesIO()
        save_model(buf, model)
        data = buf.getvalue()
    assert json.loads(s.load_model(data, "model.npz"))["ok"]
    return s


def fields(packed: np.ndarray, model: Model) -> dict[str, np.ndarray]:
    spans = json.loads(json.dumps(inside_wire.describe(model)))["layout"]  # as the page gets them
    return {name: packed[a:b] for name, (a, b) in spans.items()}


def padded(units: list[int]) -> list[int]:
    return units + [-1] * (inside_wire.PATH - len(units))


def negated(o: inside.Opened, layer: int) -> inside.Opened:
    """``o`` with layer ``layer``'s contributions negated: its top path is the units that pushed down."""
    contributions = list(o.contributions)
    contributions[layer - 1] = -contributions[layer - 1]
    return dataclasses.replace(o, contributions=contributions)


def read(s: Session) -> np.ndarray:
    return s.predict(PAD.tobytes(), CANVAS, CANVAS, PEN)[slice(*LAYOUT["probs"])]


def test_inside_is_nothing_until_something_is_read():
    s = session()
    assert s.inside(1, 0) is None and s.inside(-1, -1) is None
    assert s.predict(bytes(CANVAS * CANVAS), CANVAS, CANVAS) is None
    assert s.inside(-1, -1) is None


@pytest.mark.parametrize("model", [None, random_model([784, 64, 10], 3)], ids=["shipped", "784-64-10"])
def test_inside_packs_open_up_of_what_the_network_saw(model):
    s = session(model)
    read(s)
    o = open_up(s.model, normalize(s.model, s.seen[0][None])[0])
    f = fields(s.inside(-1, -1), s.model)
    assert len(s.inside(-1, -1)) == inside_wire.describe(s.model)["length"]
    assert np.array_equal(f["input"], o.inputs) and np.array_equal(f["logits"], o.logits)
    assert np.array_equal(f["probs"], o.probs) and f["exp_sum"][0] == pytest.approx(f["exp"].sum())
    assert np.array_equal(f["shares"], o.shares) and f["target"][0] == o.target
    for l, (a, c) in enumerate(zip(o.hidden, o.contributions), 1):
        assert np.array_equal(f[f"hidden{l}"], a) and np.array_equal(f[f"contrib{l}"], c)
        assert f["active"][l - 1] == (a > 0).sum() > 0
        assert list(f[f"up{l}"]) == padded(inside.top_path(o, l, inside_wire.PATH))
        assert list(f[f"down{l}"]) == padded(inside.top_path(negated(o, l), l, inside_wire.PATH))
    best = inside.top_path(o, 1, 1)[0]  # the default unit: the first layer's top contributor
    assert f["unit_layer"][0] == 1 and f["unit_index"][0] == best == np.argmax(o.contributions[0])
    u = unit(s.model, o, 1, best)
    assert f["unit_z"][0] == np.float32(u.z) and f["unit_a"][0] == np.float32(u.a) > 0
    assert f["unit_fan_in"][0] == 784 and np.array_equal(f["unit_in"], u.incoming)
    assert np.array_equal(f["unit_out"], u.outgoing) and np.array_equal(f["term_index"], u.term_index)
    out = fields(s.inside(len(s.model.weights), 3), s.model)  # an output unit
    assert out["unit_a"][0] == out["unit_z"][0] == o.logits[3] and not out["unit_out"].any()
    assert np.array_equal(out["unit_in"][: s.model.sizes[-2]], s.model.weights[-1][:, 3])
    assert not out["unit_in"][s.model.sizes[-2] :].any()


def test_knocking_out_the_path_lowers_the_answer_and_restore_gives_it_back():
    s = session()
    before = s.predict(PAD.tobytes(), CANVAS, CANVAS, PEN)
    path = inside.top_path(open_up(s.model, normalize(s.model, s.seen[0][None])[0]), 1, 10)
    answer = json.loads(s.modify('{"knock_path": [1, 10]}'))
    assert answer == json.loads(s.modification())
    assert answer["modified"] and answer["knocked"] == sorted([1, i] for i in path) and len(path) == 10
    assert s.model is not s.base
    f = fields(s.inside(1, path[0]), s.model)  # still the last reading, now through the broken network
    assert f["unit_knocked"][0] == 1 and f["unit_a"][0] == 0 and not f["hidden1"][path].any()
    assert read(s)[7] < before[slice(*LAYOUT["probs"])][7] - 0.005
    s.modify(json.dumps({"knock": [1, path[0]]}))  # a second knock brings it back
    assert [1, path[0]] not in json.loads(s.modification())["knocked"]
    s.modify('{"zero_biases": true}')
    s.modify('{"noise": 0.5}')
    rest = sorted([1, i] for i in path[1:])
    broken = {"modified": True, "knocked": rest, "zero_biases": True, "noise": 0.5}
    assert json.loads(s.modification()) == UNBROKEN | broken and not any(b.any() for b in s.model.biases)
    assert json.loads(s.modify('{"restore": true}')) == UNBROKEN
    assert s.model is s.base and np.array_equal(s.predict(PAD.tobytes(), CANVAS, CANVAS, PEN), before)


@pytest.mark.parametrize(
    "change, message",
    [
        ('{"knock": [0, 1]}', "layer 0 is not a hidden layer"),
        ('{"knock_path": [3, 5]}', "layer 3 is not a hidden layer"),
        ('{"knock": [1, 512]}', "layer 1 has no unit 512"),
        ('{"knock": [2, -1]}', "layer 2 has no unit -1"),
        ('{"noise": 2}', "noise 2.0 is outside 0 to 1.0"),
        ('{"noise": -0.1}', "outside 0 to"),
        ('{"blur": 1}', "unknown change"),
        ('{"knock_path": [1, 10]}', "draw something first"),
        ("[1]", "a change is one"),
        ('{"noise": 0.1, "restore": true}', "a change is one"),
        ('{"knock": [1]}', "two whole numbers"),
        ('{"knock": [1.7, 2]}', "two whole numbers"),
        ('{"knock": [true, 2]}', "two whole numbers"),
    ],
)
def test_a_bad_change_is_refused_plainly_and_changes_nothing(change, message):
    s = session()
    s.modify('{"knock": [1, 5]}')
    state = s.modification()
    with pytest.raises(ValueError, match=message):
        s.modify(change)
    assert s.modification() == state and not s.model.weights[0][:, 5].any()


def test_fine_tuning_while_broken_tunes_the_unbroken_model():
    s = session()
    read(s)
    best = int(np.argmax(open_up(s.model, normalize(s.model, s.seen[0][None])[0]).contributions[0]))
    for change in ({"knock": [1, best]}, {"zero_biases": True}, {"noise": 0.3}):
        s.modify(json.dumps(change))
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    np.savez(buf, images=rng.integers(0, 256, (40, SIDE, SIDE), np.uint8), labels=rng.integers(0, 10, 40))
    own = np.round(np.stack([s.seen[0]] * 4) * 255).astype(np.uint8)
    s.start_tuning(own.tobytes(), bytes([7] * 4), buf.getvalue(), steps=3)
    start = s.tuning.model
    assert same(start.weights + start.biases, SHIPPED.weights + SHIPPED.biases)
    while not json.loads(s.tune_step(2))["done"]:
        pass
    s.finish_tuning()
    assert json.loads(s.modification()) == UNBROKEN and s.model is s.base
    assert "modified" not in s.model.meta and all(b.any() for b in s.model.biases)
    assert np.array_equal(s.model.weights[0][:, best], SHIPPED.weights[0][:, best])  # frozen, not zero
    assert s.model.weights[0][:, best].any() and s.model.biases[0][best] == SHIPPED.biases[0][best]


@PROPERTY
@given(st.integers(1, 900), st.lists(st.integers(1, 700), max_size=4), st.integers(1, 12))
def test_layout_is_back_to_back_and_follows_the_sizes_only(n0, hidden, k):
    sizes = [n0, *hidden, k]
    spans = inside_wire.layout(sizes)
    ordered = sorted(spans.values())
    assert ordered[0][0] == 0 and all(a[1] == b[0] for a, b in zip(ordered, ordered[1:]))
    assert all(a <= b for a, b in ordered) and ordered[-1][1] == sum(b - a for a, b in ordered)
    assert spans["input"] == (0, n0) and spans["unit_in"][1] - spans["unit_in"][0] == max(sizes[:-1])
    assert [spans[f"hidden{l}"][1] - spans[f"hidden{l}"][0] for l in range(1, len(hidden) + 1)] == hidden
    assert spans == inside_wire.layout(list(sizes))


@pytest.mark.parametrize("sizes", [[784, 64, 10], [784, 3, 11], [784, 11]])
def test_pack_fits_the_layout_for_any_model_of_those_sizes(sizes):
    a, b = random_model(sizes, 4), random_model(sizes, 5)
    assert inside_wire.describe(a) == inside_wire.describe(b)
    x = drawn(a, 0)
    o = open_up(a, x)
    for layer in range(1, len(sizes)):
        u = unit(a, o, layer, sizes[layer] - 1)
        f = fields(inside_wire.pack(a, o, u, False), a)
        assert f["unit_layer"][0] == layer and f["unit_fan_in"][0] == sizes[layer - 1]
        for l in range(1, len(sizes) - 1):  # the path's places: -1 where fewer units pushed that way
            assert list(f[f"up{l}"]) == padded(inside.top_path(o, l, inside_wire.PATH))
            assert list(f[f"down{l}"]) == padded(inside.top_path(negated(o, l), l, inside_wire.PATH))
        n = min(TERMS, sizes[layer - 1])
        assert np.array_equal(f["term_value"][:n], u.term_value) and not f["term_value"][n:].any()
