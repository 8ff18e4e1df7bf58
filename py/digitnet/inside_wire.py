"""How the "Inside the network" view's numbers leave Python: one float32 array, laid out here.

The worker calls ``digitnet.browser.Session.inside`` after a reading; it returns ``pack``'s array,
and the worker slices it by the offsets ``layout`` gave it when the model loaded (sent with the
model's answer, since they follow the model's sizes). The page draws these numbers and computes
none: the colour scales' ends, the counts in the formulas and the short sums all come from here.

Names in the layout (L-1 hidden layers, K outputs, n_0 inputs):

    input           x, the normalised inputs (n_0)
    hidden1..       a_l = relu(z_l) of each hidden layer
    logits, probs   z_L and softmax(z_L); exp: e^(z_L - max z_L), exp_sum: their sum
    contrib1..      each hidden unit's contribution to logits[target] (``digitnet.inside``)
    up1.., down1..  the PATH units of each hidden layer with the largest contributions, and the most
                    negative, largest first (-1 fills a place when fewer pushed that way)
    shares          the biases' share of logits[target], seen from each hidden layer
    active          how many units of each hidden layer are on (z > 0)
    target          the output the contributions explain (the most probable)
    scale_*         where each colour scale ends (``inside.robust_max``): input, hidden1..,
                    logits, contrib1.., unit_in, unit_out
    unit_*          the selected unit (``inside.unit``): layer (1..L), index, bias, z, a, knocked
                    (1 or 0), fan_in (how many of unit_in are its weights), rest_count, rest_sum;
                    unit_in its incoming weights (room for n_0), unit_out its (effective) weights
                    to the outputs, term_index / term_value its TERMS largest terms w*a.
"""

from __future__ import annotations

import functools

import numpy as np

from digitnet.inside import TERMS, Opened, Unit, grid_columns, robust_max
from digitnet.network import Model
from digitnet.sizes import PIXELS, SIDE

PATH = 5  # units marked on each hidden layer's grid: the PATH that pushed the answer up most, and down

UNIT_SCALARS = ("layer", "index", "bias", "z", "a", "knocked", "fan_in", "rest_count", "rest_sum")


def layout(sizes: list[int]) -> dict[str, tuple[int, int]]:
    """Layer sizes ``[n_0, n_1, ..., K]`` -> name -> [start, stop) in ``pack``'s array."""
    return dict(_layout(tuple(sizes)))


@functools.lru_cache(maxsize=8)
def _layout(sizes: tuple[int, ...]) -> tuple[tuple[str, tuple[int, int]], ...]:
    hidden = sizes[1:-1]
    k = sizes[-1]
    parts: list[tuple[str, int]] = [("input", sizes[0])]
    parts += [(f"hidden{l}", n) for l, n in enumerate(hidden, 1)]
    parts += [("logits", k), ("probs", k), ("exp", k), ("exp_sum", 1)]
    parts += [(f"contrib{l}", n) for l, n in enumerate(hidden, 1)]
    parts += [(f"{way}{l}", PATH) for l in range(1, len(hidden) + 1) for way in ("up", "down")]
    parts += [("shares", len(hidden)), ("active", len(hidden)), ("target", 1)]
    parts += [(f"scale_{name}", 1) for name in scale_names(len(hidden))]
    parts += [(f"unit_{name}", 1) for name in UNIT_SCALARS]
    parts += [("unit_in", max(sizes[:-1])), ("unit_out", k), ("term_index", TERMS), ("term_value", TERMS)]
    spans, at = [], 0
    for name, n in parts:
        spans.append((name, (at, at + n)))
        at += n
    return tuple(spans)


def scale_names(hidden_layers: int) -> list[str]:
    layers = [f"hidden{l}" for l in range(1, hidden_layers + 1)]
    contribs = [f"contrib{l}" for l in range(1, hidden_layers + 1)]
    return ["input", *layers, "logits", *contribs, "unit_in", "unit_out"]


def describe(model: Model) -> dict:
    """What the page needs to draw the view for ``model``: the layout, its length, the layer sizes
    and how many columns each grid has (``inside.grid_columns``)."""
    spans = layout(model.sizes)
    return {
        "layout": {name: list(span) for name, span in spans.items()},
        "length": max(stop for _, stop in spans.values()),
        "sizes": model.sizes,
        "columns": [SIDE if model.sizes[0] == PIXELS else grid_columns(model.sizes[0])]
        + [grid_columns(n) for n in model.sizes[1:]],
        "terms": TERMS,
        "path": PATH,
    }


def pack(model: Model, opened: Opened, selected: Unit, knocked: bool) -> np.ndarray:
    """Everything the view shows for one reading -> float32 array laid out as ``layout``."""
    spans = layout(model.sizes)
    out = np.zeros(max(stop for _, stop in spans.values()), np.float32)

    def put(name: str, values) -> None:
        out[slice(*spans[name])] = values

    put("input", opened.inputs)
    for l, (a, c) in enumerate(zip(opened.hidden, opened.contributions), 1):
        put(f"hidden{l}", a)
        put(f"contrib{l}", c)
        put(f"scale_hidden{l}", robust_max(a))
        put(f"scale_contrib{l}", robust_max(c))
        k = min(PATH, len(c))
        up = np.argpartition(-c, k - 1)[:k]  # the PATH largest, then in order, largest first
        up = up[np.argsort(-c[up], kind="stable")]
        down = np.argpartition(c, k - 1)[:k]
        down = down[np.argsort(c[down], kind="stable")]
        fill = (0, PATH - len(up))  # a layer of fewer than PATH units: -1 fills the places left
        put(f"up{l}", np.pad(np.where(c[up] > 0, up, -1), fill, constant_values=-1))
        put(f"down{l}", np.pad(np.where(c[down] < 0, down, -1), fill, constant_values=-1))
    put("logits", opened.logits)
    put("probs", opened.probs)
    exp = np.exp(opened.logits - opened.logits.max())
    put("exp", exp)
    put("exp_sum", exp.sum())
    put("shares", opened.shares)
    put("active", [int((z > 0).sum()) for z in opened.pre[:-1]])
    put("target", opened.target)
    put("scale_input", float(np.abs(opened.inputs).max(initial=0)) or 1.0)
    put("scale_logits", float(np.abs(opened.logits).max(initial=0)) or 1.0)
    put("scale_unit_in", robust_max(selected.incoming, 100.0))
    put("scale_unit_out", float(np.abs(selected.outgoing).max(initial=0)) or 1.0)
    scalars = {
        "layer": selected.layer,
        "index": selected.index,
        "bias": selected.bias,
        "z": selected.z,
        "a": selected.a,
        "knocked": float(knocked),
        "fan_in": len(selected.incoming),
        "rest_count": selected.rest_count,
        "rest_sum": selected.rest_sum,
    }
    for name, value in scalars.items():
        put(f"unit_{name}", value)
    put("unit_out", selected.outgoing)
    # unit_in has room for the widest layer, and a unit with fewer than TERMS weights in (a hidden
    # layer of 1 to 3 units) has fewer terms: the rest of these spans stays 0 (fan_in says how many).
    for name, values in (
        ("unit_in", selected.incoming),
        ("term_index", selected.term_index),
        ("term_value", selected.term_value),
    ):
        out[spans[name][0] : spans[name][0] + len(values)] = values
    return out
