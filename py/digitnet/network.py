"""The network's forward pass: what the browser and CPython both run.

A multilayer perceptron is a list of layers ``(W, b)``. Layer ``l`` maps
activations ``a`` of shape ``(N, n_l)`` to ``z = a @ W + b`` of shape
``(N, n_{l+1})``. Hidden layers apply ReLU, ``max(0, z)``; the last layer's
``z`` are the logits, turned into probabilities by ``softmax``.

NumPy only (this file is imported by Pyodide in the page). float32 throughout.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# NumPy in the page (Pyodide) has no BLAS: its matrix product is a plain loop, and einsum's
# sum-of-products kernels compute the same product 2-5x faster there (a reading's 9x784 @ 784x512:
# 8.3 ms against 1.7 ms; measured in Node's Pyodide 0.27.7). With BLAS (CPython) ``@`` is the fast one.
NO_BLAS = sys.platform == "emscripten"


@dataclass(frozen=True)
class Model:
    """A trained network and what its inputs must look like.

    weights: ``W_l`` of shape ``(n_l, n_{l+1})``, float32.
    biases:  ``b_l`` of shape ``(n_{l+1},)``, float32.
    mean, std: input normalisation, ``x = (pixel/255 - mean) / std``.
    meta: the rest of the model file's metadata (hyperparameters, test error...).
    """

    weights: list[np.ndarray]
    biases: list[np.ndarray]
    mean: float = 0.0
    std: float = 1.0
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def sizes(self) -> list[int]:
        """Layer sizes, e.g. ``[784, 256, 128, 10]``."""
        return [self.weights[0].shape[0]] + [w.shape[1] for w in self.weights]


def relu(z: np.ndarray) -> np.ndarray:
    """Rectified linear unit, elementwise ``max(0, z)``."""
    return np.maximum(z, 0)


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of logits ``z`` (N, K) -> probabilities (N, K), rows sum to 1.

    The row maximum is subtracted first so ``exp`` never overflows.
    """
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def dot(a: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``a @ w`` for a (..., k) and w (k, m), by the kernel that is fastest where this runs (NO_BLAS):
    the same sums, in another order, so equal to float32 rounding."""
    return np.einsum("...j,jk->...k", a, w) if NO_BLAS else a @ w


def forward(weights: list[np.ndarray], biases: list[np.ndarray], x: np.ndarray) -> list[np.ndarray]:
    """Run the network on normalised inputs ``x`` (N, n_0) float32.

    Returns the activations of every layer: ``[x, a_1, ..., a_{L-1}, z_L]``,
    where hidden ``a_l = relu(a_{l-1} @ W + b)`` and the last entry is the
    output logits ``z_L`` (N, n_L), before softmax. Backpropagation needs them all;
    prediction only the last.
    """
    activations = [x]
    a = x
    last = len(weights) - 1
    for l, (w, b) in enumerate(zip(weights, biases)):
        z = dot(a, w) + b
        a = z if l == last else relu(z)
        activations.append(a)
    return activations


def normalize(model: Model, images: np.ndarray) -> np.ndarray:
    """Images (N, 28, 28) or (N, 784) with values in [0, 1] -> network inputs (N, 784) float32."""
    x = images.reshape(len(images), -1).astype(np.float32, copy=False)
    return (x - np.float32(model.mean)) / np.float32(model.std)


def predict_proba(model: Model, images: np.ndarray) -> np.ndarray:
    """Probabilities (N, 10) float32 for images (N, 28, 28) in [0, 1]."""
    logits = forward(model.weights, model.biases, normalize(model, images))[-1]
    return softmax(logits)
