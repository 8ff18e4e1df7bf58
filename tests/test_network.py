"""Forward pass, softmax, cross-entropy and backpropagation (finite-difference check)."""

import numpy as np
import pytest

from digitnet import network
from digitnet.learn import backprop, backward, cross_entropy, init_params, sgd_step, weight_gradient
from digitnet.network import Model, dot, forward, predict_proba, softmax


def test_softmax_rows_sum_to_one_and_survive_huge_logits():
    z = np.array([[1000.0, 1000.0, -1000.0], [1.0, 2.0, 3.0]], np.float32)
    p = softmax(z)
    assert np.allclose(p.sum(axis=1), 1)
    assert np.allclose(p[0], [0.5, 0.5, 0.0])
    assert np.isfinite(p).all()
    assert p[1].argmax() == 2


def test_forward_shapes_relu_and_logits():
    rng = np.random.default_rng(1)
    w, b = init_params([6, 5, 4, 3], rng)
    x = rng.standard_normal((7, 6)).astype(np.float32)
    acts = forward(w, b, x)
    assert [a.shape for a in acts] == [(7, 6), (7, 5), (7, 4), (7, 3)]
    assert (acts[1] >= 0).all() and (acts[2] >= 0).all()  # hidden layers are ReLU
    assert (acts[-1] < 0).any()  # the output logits are not
    assert all(a.dtype == np.float32 for a in acts)


def test_he_initialisation_scale():
    w, b = init_params([784, 400, 10], np.random.default_rng(0))
    assert abs(w[0].std() - np.sqrt(2 / 784)) < 0.002
    assert w[0].dtype == np.float32 and not b[0].any()


def test_cross_entropy_matches_definition():
    z = np.array([[2.0, 1.0, 0.1], [0.0, 0.0, 0.0]])
    y = np.array([0, 2])
    expected = -np.mean([np.log(softmax(z)[0, 0]), np.log(1 / 3)])
    assert cross_entropy(z, y) == pytest.approx(expected)


def test_backprop_matches_finite_differences():
    """Gradient check on a tiny float64 network: every weight and bias."""
    rng = np.random.default_rng(0)
    w, b = init_params([5, 4, 3, 3], rng)
    w = [a.astype(np.float64) for a in w]
    b = [a.astype(np.float64) + 0.1 for a in b]  # non-zero biases keep units away from the ReLU kink
    x = rng.standard_normal((6, 5))
    y = rng.integers(0, 3, 6)
    loss, gw, gb, _ = backprop(w, b, x, y)
    assert loss == pytest.approx(cross_entropy(forward(w, b, x)[-1], y))
    eps = 1e-6
    for params, grads in ((w, gw), (b, gb)):
        for p, g in zip(params, grads):
            numeric = np.zeros_like(p)
            for i in np.ndindex(p.shape):
                p[i] += eps
                up = cross_entropy(forward(w, b, x)[-1], y)
                p[i] -= 2 * eps
                down = cross_entropy(forward(w, b, x)[-1], y)
                p[i] += eps
                numeric[i] = (up - down) / (2 * eps)
            assert np.allclose(g, numeric, atol=1e-7), (g, numeric)


def test_backward_through_the_top_layers_gives_the_full_backprops_gradients_for_them():
    """Fine-tuning keeps the first k layers fixed and backpropagates through the rest only, from
    their input h = a_k: the gradients of those layers are exactly the full backprop's."""
    rng = np.random.default_rng(2)
    w, b = init_params([10, 8, 6, 4], rng)
    x = rng.standard_normal((7, 10)).astype(np.float32)
    y = rng.integers(0, 4, 7)
    _, gw, gb, _ = backprop(w, b, x, y)
    for k in (1, 2):
        h = x
        for wl, bl in zip(w[:k], b[:k]):
            h = np.maximum(h @ wl + bl, 0)
        activations = forward(w[k:], b[k:], h)
        delta = softmax(activations[-1])
        delta[np.arange(7), y] -= 1
        top_w, top_b = backward(w[k:], activations, delta / 7)
        assert len(top_w) == len(top_b) == 3 - k
        for got, full in zip(top_w + top_b, gw[k:] + gb[k:]):
            assert np.allclose(got, full, rtol=1e-5, atol=1e-7)


def test_gradients_are_batch_averages_for_weights_and_biases():
    """Doubling the batch with a copy of itself leaves every gradient unchanged."""
    rng = np.random.default_rng(3)
    w, b = init_params([4, 3, 2], rng)
    x = rng.standard_normal((5, 4)).astype(np.float32)
    y = rng.integers(0, 2, 5)
    _, gw1, gb1, _ = backprop(w, b, x, y)
    _, gw2, gb2, _ = backprop(w, b, np.concatenate([x, x]), np.concatenate([y, y]))
    for g1, g2 in zip(gw1 + gb1, gw2 + gb2):
        assert np.allclose(g1, g2, atol=1e-6)


def test_sgd_with_momentum_and_decay():
    p = [np.array([1.0], np.float32), np.array([1.0], np.float32)]
    v = [np.zeros(1, np.float32), np.zeros(1, np.float32)]
    g = [np.array([0.5], np.float32), np.array([0.5], np.float32)]
    sgd_step(p, g, v, lr=0.1, momentum=0.9, weight_decay=0.1, decay_mask=[True, False])
    assert p[0][0] == pytest.approx(1 - 0.1 * (0.5 + 0.1))
    assert p[1][0] == pytest.approx(1 - 0.1 * 0.5)
    sgd_step(p, g, v, lr=0.1, momentum=0.9)
    assert v[1][0] == pytest.approx(0.9 * -0.05 - 0.05)


def test_a_few_steps_fit_a_tiny_problem():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 8)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    w, b = init_params([8, 16, 2], rng)
    v = [np.zeros_like(p) for p in w + b]
    first = backprop(w, b, x, y)[0]
    for _ in range(200):
        _, gw, gb, _ = backprop(w, b, x, y)
        sgd_step(w + b, gw + gb, v, lr=0.1, momentum=0.9)
    loss, _, _, correct = backprop(w, b, x, y)
    assert loss < first / 5 and correct >= 62


def test_predict_proba_normalises_inputs():
    w = [np.zeros((784, 10), np.float32)]
    w[0][:, 3] = 1.0
    b = [np.zeros(10, np.float32)]
    img = np.full((1, 28, 28), 0.5, np.float32)
    # (0.5 - 0.5) / 0.25 = 0 everywhere: all logits 0, uniform probabilities
    assert np.allclose(predict_proba(Model(w, b, mean=0.5, std=0.25), img), 0.1)
    assert predict_proba(Model(w, b, mean=0.0, std=1.0), img)[0].argmax() == 3


@pytest.mark.parametrize("shape", [(9, 784, 512), (64, 128, 10), (1, 512, 128)])
def test_dot_without_blas_is_the_matrix_product(monkeypatch, shape):
    # the page's NumPy has no BLAS and dot takes einsum's kernels there: the same sums to float32 rounding
    n, k, m = shape
    rng = np.random.default_rng(0)
    a, w = rng.standard_normal((n, k)).astype(np.float32), rng.standard_normal((k, m)).astype(np.float32)
    expected = a.astype(np.float64) @ w.astype(np.float64)
    monkeypatch.setattr(network, "NO_BLAS", True)
    got = dot(a, w)
    assert got.dtype == np.float32 and got.shape == (n, m)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
    np.testing.assert_allclose(dot(a[0], w), got[0], rtol=1e-6)  # one row, as a vector
    monkeypatch.setattr(network, "NO_BLAS", False)
    np.testing.assert_allclose(dot(a, w), got, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


def test_weight_gradient_without_blas_is_the_outer_products_summed(monkeypatch):
    rng = np.random.default_rng(1)
    a, delta = (
        rng.standard_normal((64, 784)).astype(np.float32),
        rng.standard_normal((64, 128)).astype(np.float32),
    )
    expected = a.T.astype(np.float64) @ delta.astype(np.float64)
    monkeypatch.setattr(network, "NO_BLAS", True)
    got = weight_gradient(a, delta)
    assert got.dtype == np.float32 and got.shape == (784, 128)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
    monkeypatch.setattr(network, "NO_BLAS", False)
    np.testing.assert_allclose(weight_gradient(a, delta), got, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
