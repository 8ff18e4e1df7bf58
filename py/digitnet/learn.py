"""Learning: initialisation, cross-entropy, backpropagation and one SGD step.

The forward pass is ``digitnet.network.forward`` (the one the page runs);
training offline and fine-tuning in the page both learn with this module.
NumPy only, float32. Notation for a batch of N examples, layer l = 0..L-1:

    a_0 = x                          (N, n_0)
    z_{l+1} = a_l @ W_l + b_l        (N, n_{l+1})
    a_{l+1} = relu(z_{l+1})          hidden layers
    p = softmax(z_L)                 output probabilities
    loss = -mean_i log p[i, y_i]     cross-entropy, in nats

Backpropagation, with delta_L = dloss/dz_L = (p - onehot(y)) / N:

    dloss/dW_l = a_l.T @ delta_{l+1}
    dloss/db_l = delta_{l+1}.sum(axis=0)
    delta_l    = (delta_{l+1} @ W_l.T) * (z_l > 0)

Both weight and bias gradients are averages over the batch (the 1/N is in delta).
"""

from __future__ import annotations

import numpy as np

from digitnet import network
from digitnet.network import forward, softmax

Params = tuple[list[np.ndarray], list[np.ndarray]]


def init_params(sizes: list[int], rng: np.random.Generator) -> Params:
    """He initialisation for ReLU layers: W_l ~ N(0, 2 / n_l), b_l = 0; float32."""
    weights = [
        (rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)).astype(np.float32)
        for n_in, n_out in zip(sizes[:-1], sizes[1:])
    ]
    biases = [np.zeros(n, np.float32) for n in sizes[1:]]
    return weights, biases


def log_softmax(z: np.ndarray) -> np.ndarray:
    """log(softmax(z)) row-wise, computed stably: z - max - log(sum(exp(z - max)))."""
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Mean cross-entropy in nats of logits (N, K) against integer labels (N,)."""
    return float(-log_softmax(logits)[np.arange(len(labels)), labels].mean())


def backprop(
    weights: list[np.ndarray], biases: list[np.ndarray], x: np.ndarray, labels: np.ndarray
) -> tuple[float, list[np.ndarray], list[np.ndarray], int]:
    """Loss and gradients for one batch.

    x: (N, n_0) float32 normalised inputs; labels: (N,) integers.
    Returns (loss, dW per layer, db per layer, number of correct predictions).
    """
    activations = forward(weights, biases, x)
    logits = activations[-1]
    n = len(labels)
    rows = np.arange(n)
    loss = cross_entropy(logits, labels)
    delta = softmax(logits)
    correct = int((logits.argmax(axis=1) == labels).sum())
    delta[rows, labels] -= 1
    delta /= n
    grad_w, grad_b = backward(weights, activations, delta)
    return loss, grad_w, grad_b, correct


def backward(
    weights: list[np.ndarray], activations: list[np.ndarray], delta: np.ndarray
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The backward pass: from delta_L = dloss/dz_L (N, n_L) and ``forward``'s activations
    to (dW per layer, db per layer), with delta_l = (delta_{l+1} @ W_l.T) * (z_l > 0).

    The layers may be the top of a network (``weights[k:]``, activations from the output of
    layer k): their gradients are the full network's for those layers, and nothing is spent
    on the layers below (fine-tuning keeps them fixed: ``digitnet.tune``)."""
    grad_w: list[np.ndarray] = [np.empty(0)] * len(weights)
    grad_b: list[np.ndarray] = [np.empty(0)] * len(weights)
    for l in range(len(weights) - 1, -1, -1):
        grad_w[l] = weight_gradient(activations[l], delta)
        grad_b[l] = delta.sum(axis=0)
        if l > 0:
            delta = (delta @ weights[l].T) * (activations[l] > 0)
    return grad_w, grad_b


def weight_gradient(a: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """``a.T @ delta``: a layer's weight gradient, the batch's outer products summed. Where NumPy has
    no BLAS (``network.NO_BLAS``: the page) einsum's kernels make its transpose 1.5x faster than
    ``@`` makes it (a 784-128-10 step in Node's Pyodide: ~5.5k -> ~8.5k images/s), returned as
    the transpose's view."""
    return np.einsum("ki,kj->ji", a, delta).T if network.NO_BLAS else a.T @ delta


def sgd_step(
    params: list[np.ndarray],
    grads: list[np.ndarray],
    velocity: list[np.ndarray],
    lr: float,
    momentum: float,
    weight_decay: float = 0.0,
    decay_mask: list[bool] | None = None,
) -> None:
    """Mini-batch SGD with (heavy-ball) momentum, in place:

        v <- momentum * v - lr * (g + weight_decay * p)
        p <- p + v

    Weight decay applies to the entries whose ``decay_mask`` is True (weights, not biases).
    """
    lr32, mom32 = np.float32(lr), np.float32(momentum)
    for i, (p, g, v) in enumerate(zip(params, grads, velocity)):
        if weight_decay and (decay_mask is None or decay_mask[i]):
            g = g + np.float32(weight_decay) * p
        v *= mom32
        v -= lr32 * g
        p += v


def input_gradient(
    weights: list[np.ndarray], biases: list[np.ndarray], x: np.ndarray, classes: np.ndarray
) -> np.ndarray:
    """Gradient of each row's logit for ``classes[i]`` with respect to its input row.

    x: (N, n_0) float32 normalised inputs; classes: (N,) ints -> (N, n_0) float32.
    Backpropagation from delta_L = onehot(class) (instead of the loss's p - onehot(y)):
    delta_l = (delta_{l+1} @ W_l.T) * (z_l > 0), and at the input d logit / dx = delta_1 @ W_0.T.
    """
    activations = forward(weights, biases, x)
    delta = np.zeros_like(activations[-1])
    delta[np.arange(len(x)), classes] = 1
    for l in range(len(weights) - 1, 0, -1):
        delta = (delta @ weights[l].T) * (activations[l] > 0)
    return delta @ weights[0].T
