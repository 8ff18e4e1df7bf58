"""A reading, stage by stage: what ``bench.reading_bench`` times, in CPython and in Node's Pyodide.

NumPy and digitnet only, so the same file runs in both. Each stage times the very functions a
reading calls (``digitnet.preprocess.read``'s steps, ``digitnet.predict``, ``digitnet.number``) on
inputs made once per drawing, so a stage's figure is its own; the last two rows are a whole
``Session.predict`` as the page's worker calls it, pen down and pen up (readings kept from the
call before forgotten, as for a new drawing).
"""

from __future__ import annotations

import time

import numpy as np

#: The stages, in the order a reading meets them: name -> what is timed (see ``measure``).
STAGES = (
    "pieces",
    "crop and specks",
    "stroke width",
    "thin or thicken",
    "scale and centre",
    "preprocessing, all",
    "network, one view",
    "first layer, nine views",
    "the rest, nine views",
    "verdict: side by side",
    "Session.predict, pen down",
    "Session.predict, pen up",
)


def _timed(call, inputs: list, rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        for x in inputs:
            t = time.perf_counter()
            call(x)
            out.append((time.perf_counter() - t) * 1000)
    return out


def measure(pads: np.ndarray, model_bytes: bytes, pen: float, rounds: int) -> dict:
    """Pads (N, H, W) uint8 drawn with a pen of ``pen`` pixels, a model file's bytes ->
    ``{"stages": {name: {"p50", "p95"}} ms, "drawings", "rounds"}``; every stage over every pad,
    ``rounds`` times (after one round to warm up)."""
    # Imported here: under Pyodide, ``in_pyodide`` puts digitnet on the path first.
    from digitnet import browser, network, pieces, predict, preprocess
    from digitnet.predict import LIVE, VIEWS

    session = browser.Session()
    session.load_model(model_bytes, "model.npz")
    model = session.model
    session.warm_up(4)
    empty = predict.empty_response(model)
    h, w = pads.shape[1:]

    # Each stage's inputs: what the stage before it made, per drawing.
    ink = [preprocess.to_unit(p) for p in pads]
    crops, widths, thin, images, first = [], [], [], [], []
    for i, p in enumerate(ink):
        top, bottom, left, right = preprocess.bounding_box(p)
        cropped = preprocess.drop_specks(p[top:bottom, left:right])
        top, bottom, left, right = preprocess.bounding_box(cropped, preprocess.INK)
        crops.append(preprocess.to_working_size(cropped[top:bottom, left:right]))
        widths.append(preprocess.stroke_width(crops[-1]))
        thin.append(preprocess.normalize_stroke(crops[-1], widths[-1]))
        images.append(preprocess.read(pads[i], pen).image)
        first.append(network.relu(predict.first_layer_views(model, images[-1], VIEWS, empty)))

    def crop_and_specks(i):
        top, bottom, left, right = preprocess.bounding_box(ink[i])
        cropped = preprocess.drop_specks(ink[i][top:bottom, left:right])
        return preprocess.bounding_box(cropped, preprocess.INK)

    def scale_and_centre(i):
        top, bottom, left, right = preprocess.bounding_box(thin[i])
        crop = thin[i][top:bottom, left:right]
        scale = preprocess.BOX / max(crop.shape)
        shape = (max(1, round(crop.shape[0] * scale)), max(1, round(crop.shape[1] * scale)))
        return preprocess.place(np.clip(preprocess.resize_area(crop, shape), 0, 1))

    def session_predict(i, live):
        session.kept.forget()
        return session.predict(pads[i].tobytes(), h, w, pen, live)

    calls = {
        "pieces": lambda i: pieces.pieces(pads[i]),
        "crop and specks": crop_and_specks,
        "stroke width": lambda i: preprocess.stroke_width(preprocess.to_working_size(crops[i])),
        "thin or thicken": lambda i: preprocess.normalize_stroke(crops[i], widths[i]),
        "scale and centre": scale_and_centre,
        "preprocessing, all": lambda i: preprocess.read(pads[i], pen),
        "network, one view": lambda i: predict.read_proba(model, images[i][None], LIVE),
        "first layer, nine views": lambda i: predict.first_layer_views(model, images[i], VIEWS, empty),
        "the rest, nine views": lambda i: network.forward(model.weights[1:], model.biases[1:], first[i]),
        "verdict: side by side": lambda i: preprocess.side_by_side(images[i]),
        "Session.predict, pen down": lambda i: session_predict(i, True),
        "Session.predict, pen up": lambda i: session_predict(i, False),
    }
    drawings = list(range(len(pads)))
    stages = {}
    for name in STAGES:
        _timed(calls[name], drawings, 1)  # warm
        ms = _timed(calls[name], drawings, rounds)
        stages[name] = {"p50": float(np.median(ms)), "p95": float(np.percentile(ms, 95))}
    return {"stages": stages, "drawings": len(pads), "rounds": rounds}


def in_pyodide(repo: str, data: str, pen: float, rounds: int) -> str:
    """The same, in Pyodide under Node (``tools/nodeboot.mjs``): ``repo``'s py/ and the folder
    ``data`` (pads.npy, model.npz) mounted from the disk; -> ``measure``'s result as JSON."""
    import json
    import os
    import sys

    import js  # Pyodide's
    import pyodide_js
    from pyodide.ffi import to_js

    fs = pyodide_js.FS
    for real, at in ((repo, "/repo"), (data, "/data")):
        os.makedirs(at, exist_ok=True)
        fs.mount(fs.filesystems.NODEFS, js.Object.fromEntries(to_js([["root", real]])), at)
    sys.path.insert(0, "/repo/py")
    with open("/data/model.npz", "rb") as f:
        model_bytes = f.read()
    return json.dumps(measure(np.load("/data/pads.npy"), model_bytes, pen, rounds))
