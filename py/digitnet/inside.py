"""The network opened up: every number it computes for one image, and the network broken on purpose.

For an image ``x`` (the normalised 784 inputs) a network of layers ``(W_l, b_l)`` computes

    z_l = a_{l-1} W_l + b_l,     a_0 = x,
    a_l = relu(z_l)              for the hidden layers l = 1 .. L-1,
    p   = softmax(z_L)           the outputs' probabilities, from the logits z_L.

``open_up`` returns all of them (``Opened``). It also says how much each hidden unit pushed the
winning output's logit ``z_L[t]`` up or down, its **contribution**: its activation times its
*effective weight* to that output,

    c_l[i] = a_l[i] * e_l[i],    e_{L-1} = W_L[:, t],    e_l = W_{l+1} (m_{l+1} * e_{l+1}),

where ``m_l = (z_l > 0)`` marks the units ReLU lets through for this image. A ReLU network is
linear wherever the same units are on, so the contributions of a layer and the biases' share
(``b_L[t]`` plus each later layer's biases through the same paths) add up to the logit exactly:
``sum(c_l) + share_l = z_L[t]``.

``unit`` looks at one unit: its incoming weights, its bias, ``z = sum w*a + b`` as its largest
terms and the rest, ``relu(z)``, and its (effective) weights to every output.

``Changes`` breaks the network on purpose (knock units out, zero the biases, add noise to the
weights); ``changed`` makes the broken copy and never touches the model it is given, so restoring
is using that model again.

NumPy only (the page's worker runs it); float32 throughout.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from digitnet.network import Model, dot, softmax

TERMS = 4  # a unit's sum shows its largest terms, then "the other N terms"
NOISE_SEED = 20260  # the noise's pattern is fixed: the slider scales it, so a scale always means one network
NOISE_MAX = 1.0  # the noise slider's top: noise as large as the weights' own spread


@dataclass(frozen=True)
class Opened:
    """One image through the network (one row each, float32).

    inputs: x (n_0,); hidden: [a_1, ..., a_{L-1}]; pre: [z_1, ..., z_L]; logits: z_L (K,);
    probs: softmax(z_L); target: the output explained (the most probable);
    contributions: [c_1, ..., c_{L-1}], each unit's push on ``logits[target]``;
    effective: [e_1, ..., e_{L-1}], each unit's effective weight to ``target``;
    shares: the biases' share of ``logits[target]`` seen from each hidden layer."""

    inputs: np.ndarray
    hidden: list[np.ndarray]
    pre: list[np.ndarray]
    logits: np.ndarray
    probs: np.ndarray
    target: int
    contributions: list[np.ndarray]
    effective: list[np.ndarray]
    shares: np.ndarray


def open_up(model: Model, x: np.ndarray, target: int | None = None) -> Opened:
    """Normalised inputs ``x`` (n_0,) -> every layer's values and the path to ``target`` (default:
    the most probable output), as the module's docstring says."""
    x = np.asarray(x, np.float32).reshape(1, -1)  # one row, as network.forward computes it
    pre, hidden, a = [], [], x
    for w, b in zip(model.weights, model.biases):
        z = dot(a, w) + b
        pre.append(z[0])
        a = np.maximum(z, 0)  # relu; the last layer's is not used
        hidden.append(a[0])
    hidden.pop()
    x = x[0]
    logits = pre[-1]
    probs = softmax(logits[None])[0]
    t = int(np.argmax(probs)) if target is None else int(target)
    effective: list[np.ndarray] = []
    contributions: list[np.ndarray] = []
    shares = np.zeros(len(hidden), np.float32)
    e = model.weights[-1][:, t]  # e_{L-1}
    share = model.biases[-1][t]
    for l in range(len(hidden) - 1, -1, -1):  # from the last hidden layer back to the first
        if l < len(hidden) - 1:
            on = (pre[l + 1] > 0).astype(np.float32)  # m_{l+1}
            share = share + (model.biases[l + 1] * on) @ e
            e = model.weights[l + 1] @ (on * e)
        effective.insert(0, e.astype(np.float32))
        contributions.insert(0, (hidden[l] * e).astype(np.float32))
        shares[l] = share
    return Opened(x, hidden, pre, logits, probs, t, contributions, effective, shares)


def effective_weights(model: Model, opened: Opened, layer: int, index: int) -> np.ndarray:
    """Unit ``index`` of hidden layer ``layer`` (1-based): its effective weights (K,) to every output,
    through the units that are on for this image; for the last hidden layer simply its row of ``W_L``."""
    e = model.weights[layer][index]  # to layer + 1
    for l in range(layer + 1, len(model.weights)):  # on through each later layer that has a ReLU
        e = (e * (opened.pre[l - 1] > 0)) @ model.weights[l]
    return e.astype(np.float32)


@dataclass(frozen=True)
class Unit:
    """One unit of layer ``layer`` (1-based; L is the output layer) for one image.

    incoming: its weights (n_{layer-1},); bias; z = incoming . a_{layer-1} + bias; a = relu(z) for a
    hidden unit, z for an output; outgoing: its (effective) weights to every output (K,), zeros for
    an output unit; terms: the indices of its TERMS largest terms ``w_k a_k`` (by size) and their
    values; rest: how many other terms, and their sum."""

    layer: int
    index: int
    incoming: np.ndarray
    bias: float
    z: float
    a: float
    outgoing: np.ndarray
    term_index: np.ndarray
    term_value: np.ndarray
    rest_count: int
    rest_sum: float


def unit(model: Model, opened: Opened, layer: int, index: int) -> Unit:
    """Unit ``index`` of layer ``layer`` (1 .. L; L: the outputs) for the image ``opened`` read."""
    below = ([opened.inputs] + opened.hidden)[layer - 1]
    w = model.weights[layer - 1][:, index]
    b = float(model.biases[layer - 1][index])
    terms = w * below
    order = np.argsort(-np.abs(terms), kind="stable")[:TERMS]
    z = float(opened.pre[layer - 1][index])
    last = layer == len(model.weights)
    if last:
        outgoing = np.zeros(len(opened.logits), np.float32)
    else:
        outgoing = effective_weights(model, opened, layer, index)
    rest = np.delete(terms, order)
    return Unit(
        layer,
        index,
        w.astype(np.float32),
        b,
        z,
        z if last else max(z, 0.0),
        outgoing,
        order,
        terms[order].astype(np.float32),
        len(rest),
        float(rest.sum()),
    )


@dataclass(frozen=True)
class Changes:
    """How the network is broken: knocked-out units as (layer, index) pairs (hidden layers, 1-based),
    all biases zero, and noise on the weights (a multiple of each layer's weight spread)."""

    knocked: frozenset = field(default_factory=frozenset)
    zero_biases: bool = False
    noise: float = 0.0

    @property
    def any(self) -> bool:
        return bool(self.knocked) or self.zero_biases or self.noise > 0


def noise_pattern(model: Model) -> list[np.ndarray]:
    """One fixed standard-normal draw per weight matrix (NOISE_SEED), scaled by that matrix's
    standard deviation: the noise at scale s is ``s * pattern``."""
    rng = np.random.default_rng(NOISE_SEED)
    return [(rng.standard_normal(w.shape, np.float32) * w.std()).astype(np.float32) for w in model.weights]


def changed(model: Model, changes: Changes, pattern: list[np.ndarray] | None = None) -> Model:
    """A copy of ``model`` broken as ``changes`` says: noise added first, then the biases zeroed,
    then each knocked-out unit's incoming weights and bias set to zero (so it outputs relu(0) = 0
    for every image). ``model`` itself is never changed; no changes: ``model`` itself."""
    if not changes.any:
        return model
    weights = [w.copy() for w in model.weights]
    biases = [b.copy() for b in model.biases]
    if changes.noise > 0:
        pattern = noise_pattern(model) if pattern is None else pattern
        for w, n in zip(weights, pattern):
            w += np.float32(changes.noise) * n
    if changes.zero_biases:
        for b in biases:
            b[:] = 0
    for layer, index in changes.knocked:
        weights[layer - 1][:, index] = 0
        biases[layer - 1][index] = 0
    meta = {**model.meta, "modified": True}
    return Model(weights, biases, model.mean, model.std, meta)


def top_path(opened: Opened, layer: int, count: int) -> list[int]:
    """The ``count`` units of hidden layer ``layer`` (1-based) that pushed the explained output up
    most (largest positive contributions), largest first."""
    c = opened.contributions[layer - 1]
    order = np.argsort(-c, kind="stable")
    return [int(i) for i in order[:count] if c[i] > 0]


def grid_columns(units: int) -> int:
    """How many columns the page draws a layer of ``units`` in: the power of two at or above the
    square root of twice the count (512 -> 32 x 16, 128 -> 16 x 8), all in one row up to 16."""
    if units <= 16:
        return units
    return 1 << int(np.ceil(np.log2(np.sqrt(2 * units))))


def robust_max(values: np.ndarray, q: float = 99.0) -> float:
    """The scale a colour map of ``values`` ends at: the size at the ``q``-th percentile (the nearest
    value below it: one extreme value does not wash out the rest), never 0."""
    v = np.abs(np.asarray(values, np.float32)).ravel()
    if not v.size:
        return 1.0
    k = int(q / 100 * (v.size - 1))
    top = float(np.partition(v, k)[k])
    return top if top > 0 else float(v.max()) or 1.0
