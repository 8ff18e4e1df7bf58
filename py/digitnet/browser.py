"""The Python API of the page's Web Worker (``static/js/worker.js``), and nothing else.

The worker imports this module by name and makes one ``Session``; every call
takes and returns plain values (bytes, ints, JSON strings, one float32 array),
so the JavaScript side holds no Python and no knowledge of NumPy. CPython runs
the very same functions in the tests.

A prediction leaves Python as ONE float32 array laid out as ``LAYOUT`` says
(the digit probabilities, the not-a-digit probability, the verdict and its reason
as indices, then the 28x28 image the network saw); the worker slices it
by the offsets it received in ``describe()``, so the layout is defined here only.
"""

from __future__ import annotations

import io
import json
import math
import sys
from typing import Any

import numpy as np

import digitnet
from digitnet import csvfile, inside, inside_wire, modelfile, preprocess, samples
from digitnet.learn import input_gradient
from digitnet.modelfile import ModelFileError, load_model, save_model
from digitnet.network import Model, normalize
from digitnet.number import Kept, read_number
from digitnet.predict import (
    LIVE,
    REASONS,
    VERDICTS,
    VIEWS,
    Prediction,
    predict_drawing,
    read_proba,
    said_classes,
)
from digitnet.sizes import CANVAS, CLASSES, NOT_DIGIT, PIXELS, SIDE
from digitnet.strokes import Strokes
from digitnet.tune import FineTune, TuneConfig

#: Where each part of a prediction sits in the float32 result: name -> [start, stop).
#: verdict and reason are indices into VERDICTS and REASONS (sent to the page by describe()). The
#: reading as a whole comes first; "count" says how many characters it read (``digitnet.number``),
#: and that many blocks laid out as CHARACTER follow, left to right. One character: its block
#: repeats the reading; a number: the reading's verdict is "number", the rest is its first character.
#: "pen": a thinner pen that suits characters this size, as a fraction of the pad's height, or 0
#: (``NumberReading.fitting_pen``).
LAYOUT = {
    "probs": (0, CLASSES),
    "not_digit": (CLASSES, CLASSES + 1),
    "verdict": (CLASSES + 1, CLASSES + 2),
    "reason": (CLASSES + 2, CLASSES + 3),
    "image": (CLASSES + 3, CLASSES + 3 + PIXELS),
    "count": (CLASSES + 3 + PIXELS, CLASSES + 4 + PIXELS),
    "pen": (CLASSES + 4 + PIXELS, CLASSES + 5 + PIXELS),
}
RESULT_LENGTH = CLASSES + 5 + PIXELS
#: One character's block: its ink's box on the pad (left, top, right, bottom: pad pixels, the ends
#: exclusive), then as LAYOUT's first five.
CHARACTER = {
    "box": (0, 4),
    "probs": (4, 4 + CLASSES),
    "not_digit": (4 + CLASSES, 5 + CLASSES),
    "verdict": (5 + CLASSES, 6 + CLASSES),
    "reason": (6 + CLASSES, 7 + CLASSES),
    "image": (7 + CLASSES, 7 + CLASSES + PIXELS),
}
CHARACTER_LENGTH = 7 + CLASSES + PIXELS


def _put(out: np.ndarray, layout: dict, p: Prediction, verdict: str) -> None:
    """Write prediction ``p`` into ``out`` where ``layout`` says, with ``verdict``."""
    out[slice(*layout["probs"])] = p.probs
    out[slice(*layout["not_digit"])] = p.not_digit
    out[slice(*layout["verdict"])] = VERDICTS.index(verdict)
    out[slice(*layout["reason"])] = REASONS.index(p.reason)
    out[slice(*layout["image"])] = p.image.ravel()


def _bytes(data: Any) -> bytes:
    """Bytes of ``data``: bytes-like in CPython, a JavaScript typed array (JsProxy) in Pyodide."""
    to_bytes = getattr(data, "to_bytes", None)
    return to_bytes() if to_bytes else bytes(data)


def _strokes(xy: Any, ends: Any, pen: float, shape: tuple[int, int]) -> Strokes | None:
    """The page's strokes (``Session.predict``'s xy and ends) -> Strokes, or None when not sent."""
    if xy is None or ends is None:
        return None
    points = np.frombuffer(_bytes(xy), dtype=np.float32)
    return Strokes.from_flat(points, np.frombuffer(_bytes(ends), dtype=np.int32), pen, shape)


def describe() -> str:
    """JSON for the worker's info message: versions, sizes, the result layout and the page's sample
    digits (``digitnet.samples.for_page``: the strokes its "Draw a sample digit" button draws)."""
    return json.dumps(
        {
            "versions": {
                "python": sys.version.split()[0],
                "numpy": np.__version__,
                "digitnet": digitnet.__version__,
                "preprocessing": preprocess.VERSION,
            },
            "sizes": {
                "side": SIDE,
                "pixels": PIXELS,
                "classes": CLASSES,
                "not_digit": NOT_DIGIT,
                "canvas": CANVAS,
            },
            "limits": {
                "import_rows": csvfile.IMPORT_ROWS,
                "import_bytes": csvfile.IMPORT_BYTES,
                "model_bytes": modelfile.MAX_BYTES,
            },
            "layout": {name: list(span) for name, span in LAYOUT.items()},
            "character": {name: list(span) for name, span in CHARACTER.items()},
            "result_length": RESULT_LENGTH,
            "character_length": CHARACTER_LENGTH,
            "verdicts": list(VERDICTS),
            "reasons": list(REASONS),
            "samples": samples.for_page(),
        }
    )


def reads_right(model: Model, images: np.ndarray, labels: np.ndarray) -> int:
    """How many of the drawings (N, SIDE, SIDE) the model reads as their labels, one plain reading
    each (the kept images are already as the network sees them)."""
    images = np.asarray(images, np.float32).reshape(-1, SIDE, SIDE)
    if images.max(initial=0) > 1:
        images = images / np.float32(255)
    said = said_classes(read_proba(model, images, LIVE))
    return int((said == np.asarray(labels)).sum())


def practice_pads() -> list[np.ndarray]:
    """Rings of several sizes and pen widths on a (CANVAS, CANVAS) uint8 pad: drawings that take
    preprocessing through its paths (thinning, thickening, scaling) without a real user."""
    yy, xx = np.mgrid[0:CANVAS, 0:CANVAS].astype(np.float32) / CANVAS
    pads = []
    for cy, cx, radius, pen in (
        (0.5, 0.5, 0.3, 0.07),
        (0.3, 0.6, 0.1, 0.07),
        (0.5, 0.5, 0.3, 0.015),
        (0.6, 0.4, 0.2, 0.1),
    ):
        ring = np.abs(np.hypot(yy - cy, xx - cx) - radius) < pen / 2
        pads.append(ring.astype(np.uint8) * np.uint8(255))
    return pads


class Session:
    """The worker's state: the model in use.

    ``base`` is the model loaded (or fine-tuned); ``model`` the one in use: ``base`` itself, or a
    copy broken on purpose by the Inside view (``changes``, ``digitnet.inside.changed``). Fine-tuning
    always starts from ``base``, and a broken copy is never written anywhere."""

    def __init__(self) -> None:
        self.model: Model | None = None
        self.base: Model | None = None
        self.changes = inside.Changes()
        self.noise: list[np.ndarray] | None = None  # the noise pattern of base (made when first asked)
        self.seen: list[np.ndarray] | None = None  # the last reading's images, one a character
        self.kept = Kept()  # characters read before: a number written digit by digit reads each once
        self.tuning: FineTune | None = None
        self.reading: csvfile.CsvReader | None = None
        self.tuned: dict | None = None
        self.warm_ups = 0

    def load_model(self, data: Any, name: str) -> str:
        """Load a model file's bytes; JSON ``{"ok": true, "layers", "test_error"}`` or
        ``{"ok": false, "error": "<name>: <reason>"}``. A failed load keeps the model in use."""
        try:
            model = load_model(_bytes(data), name)
        except ModelFileError as e:
            return json.dumps({"ok": False, "error": str(e)})
        self.use(model)
        err = model.meta.get("test_error")
        if not (isinstance(err, (int, float)) and math.isfinite(err)):
            err = None
        return json.dumps(
            {"ok": True, "layers": model.sizes, "test_error": err, "inside": inside_wire.describe(model)}
        )

    def use(self, model: Model) -> None:
        """Use ``model`` as it is from now on: any breakage of the previous one is gone."""
        self.model = self.base = model
        self.changes = inside.Changes()
        self.noise = None

    def warm_up(self, rounds: int = 1) -> None:
        """Predict ``rounds`` practice drawings (made here) and forget the answers: the first calls
        of a function are slow in Pyodide until V8 has compiled its hot paths, so the worker runs
        these once ready, between real requests."""
        pads = practice_pads()
        for _ in range(rounds):  # both ways the page reads, in turn: settled and live
            i, self.warm_ups = self.warm_ups, self.warm_ups + 1
            predict_drawing(self.model, pads[i % len(pads)], views=LIVE if i % 2 else VIEWS)

    def predict(
        self,
        pixels: Any,
        height: int,
        width: int,
        pen: float = 0.0,
        live: bool = False,
        xy: Any = None,
        ends: Any = None,
    ) -> np.ndarray | None:
        """Pad pixels (``height * width`` bytes of ink 0-255, row-major; drawn with a pen of
        ``pen`` pixels if known) -> float32 laid out as ``LAYOUT`` and ``CHARACTER`` (the reading,
        then each character it read: ``digitnet.number.read_number``), or None for an empty pad
        or a lone dot. live: the pen is still down, read with one view (``digitnet.predict.LIVE``)
        instead of all nine. xy, ends: the drawing's strokes if known (float32 points x, y in
        pad pixels, and int32 where each stroke ends: ``strokes.Strokes.from_flat``)."""
        if self.model is None:
            raise RuntimeError("no model is loaded")
        pad = np.frombuffer(_bytes(pixels), dtype=np.uint8).reshape(height, width)
        strokes = _strokes(xy, ends, pen, pad.shape)
        reading = read_number(self.model, pad, pen, LIVE if live else VIEWS, strokes, self.kept)
        self.seen = None if reading is None else [c.prediction.image for c in reading.characters]
        if reading is None:
            return None
        chars = reading.characters
        out = np.empty(RESULT_LENGTH + len(chars) * CHARACTER_LENGTH, np.float32)
        first = chars[0].prediction
        _put(out, LAYOUT, first, "number" if len(chars) > 1 else first.verdict)
        out[LAYOUT["count"][0]] = len(chars)
        out[LAYOUT["pen"][0]] = reading.fitting_pen(pen, height) / height
        for i, c in enumerate(chars):
            block = out[RESULT_LENGTH + i * CHARACTER_LENGTH : RESULT_LENGTH + (i + 1) * CHARACTER_LENGTH]
            _put(block, CHARACTER, c.prediction, c.prediction.verdict)
            block[slice(*CHARACTER["box"])] = (c.left, c.top, c.right, c.bottom)
        return out

    def why(
        self,
        pixels: Any,
        height: int,
        width: int,
        pen: float = 0.0,
        character: int = 0,
        xy: Any = None,
        ends: Any = None,
    ) -> np.ndarray | None:
        """Which pixels pushed the answer up or down: (PIXELS,) float32, the gradient of the most
        probable output's logit with respect to the 28x28 image, times the image (positive: this
        ink made the answer more likely), for ``character`` of the reading (0: the first, or the
        only one; xy, ends: the strokes, as ``predict`` takes them). None when there is nothing to
        read."""
        if self.model is None:
            raise RuntimeError("no model is loaded")
        pad = np.frombuffer(_bytes(pixels), dtype=np.uint8).reshape(height, width)
        reading = read_number(self.model, pad, pen, VIEWS, _strokes(xy, ends, pen, pad.shape), self.kept)
        if reading is None or not 0 <= character < len(reading.characters):
            return None
        p = reading.characters[character].prediction
        if not p.image.any():
            return None
        x = normalize(self.model, p.image[None])
        top = NOT_DIGIT if p.not_digit > p.probs.max() else int(np.argmax(p.probs))
        grad = input_gradient(self.model.weights, self.model.biases, x, np.array([top]))[0]
        return (grad / np.float32(self.model.std) * p.image.ravel()).astype(np.float32)

    def start_tuning(self, images: Any, labels: Any, replay: Any, steps: int = TuneConfig.steps) -> str:
        """Begin fine-tuning the model in use on the person's drawings (``images``: N*PIXELS bytes
        of 28x28 uint8 images; ``labels``: N bytes) mixed with a replay sample (``replay``: the
        bytes of static/model/replay.npz: arrays "images" (M, 28, 28) uint8, "labels" (M,)).
        -> JSON {"steps": total}. Raises ValueError with a plain message for bad input."""
        if self.model is None:
            raise RuntimeError("no model is loaded")
        own = np.frombuffer(_bytes(images), dtype=np.uint8).reshape(-1, SIDE, SIDE)
        ys = np.frombuffer(_bytes(labels), dtype=np.uint8)
        if len(ys) != len(own):
            raise ValueError(f"{len(own)} drawings but {len(ys)} labels")
        try:
            with np.load(io.BytesIO(_bytes(replay)), allow_pickle=False) as z:
                replay_images, replay_labels = z["images"], z["labels"]
        except Exception as e:  # any damage to the replay file: one plain message
            raise ValueError(f"the MNIST replay sample could not be read: {e}") from None
        self.tuning = FineTune(self.base, own, ys, replay_images, replay_labels, TuneConfig(steps=steps))
        self.tuned = {"drawings": len(ys), "before": reads_right(self.base, own, ys), "after": None}
        return json.dumps({"steps": self.tuning.cfg.steps})

    def tune_step(self, n: int) -> str:
        """Run n more steps -> JSON {"done", "step", "steps", "loss"}."""
        if self.tuning is None:
            raise RuntimeError("no fine-tuning is under way")
        loss = self.tuning.step(n)
        t = self.tuning
        return json.dumps(
            {
                "done": t.done,
                "step": t.steps_done,
                "steps": t.cfg.steps,
                "loss": None if not math.isfinite(loss) else round(loss, 5),
            }
        )

    def finish_tuning(self) -> bytes:
        """Use the fine-tuned model from now on -> its model file's bytes (to keep on the device).
        Refused (ValueError) if its weights are not finite: the model in use stays."""
        if self.tuning is None or not self.tuning.done:
            raise RuntimeError("no finished fine-tuning")
        model = self.tuning.model
        if not all(np.isfinite(p).all() for p in model.weights + model.biases):
            self.tuning = None
            raise ValueError("fine-tuning diverged (the weights are not finite); the model is unchanged")
        model.meta["personal"] = {"drawings": int(len(self.tuning.images)), "steps": self.tuning.steps_done}
        self.tuned["after"] = reads_right(model, self.tuning.images, self.tuning.labels)
        buf = io.BytesIO()
        save_model(buf, model, store="exact")  # the frozen layer stays float16 (smaller, quicker to zip)
        self.use(model)
        self.tuning = None
        return buf.getvalue()

    def tuning_report(self) -> str:
        """What the last fine-tuning changed -> JSON {"drawings": M, "before": K, "after": N}: how
        many of the person's M drawings the model read right before it and after it."""
        return json.dumps(self.tuned)

    def cancel_tuning(self) -> None:
        self.tuning = None

    def start_import(self, data: Any, name: str) -> str:
        """Begin reading a drawings CSV's bytes (``digitnet.csvfile``, as the CLIs read it; label 10
        allowed, at most ``IMPORT_ROWS`` rows) -> JSON ``{"ok": true, "rows"}`` or
        ``{"ok": false, "error": "<name>: line ..."}``."""
        self.reading = None
        try:
            reader = csvfile.CsvReader(_bytes(data), name, not_digit=True, max_rows=csvfile.IMPORT_ROWS)
        except csvfile.DataError as e:
            return json.dumps({"ok": False, "error": str(e)})
        self.reading = reader
        return json.dumps({"ok": True, "rows": reader.rows})

    def import_step(self, lines: int) -> str:
        """Read up to ``lines`` more rows -> JSON ``{"ok", "done", "row", "rows"}`` (or the error)."""
        if self.reading is None:
            raise RuntimeError("no import is under way")
        try:
            done = self.reading.read(lines)
        except csvfile.DataError as e:
            self.reading = None
            return json.dumps({"ok": False, "error": str(e)})
        return json.dumps({"ok": True, "done": done, "row": self.reading.row, "rows": self.reading.rows})

    @staticmethod
    def export_csv(images: Any, labels: Any) -> str:
        """Drawings (``images``: N*PIXELS bytes, ``labels``: N bytes) -> the CSV's text, as
        ``training.train --extra`` and the import read it."""
        ys = np.frombuffer(_bytes(labels), dtype=np.uint8)
        return csvfile.csv_text(np.frombuffer(_bytes(images), dtype=np.uint8).reshape(len(ys), PIXELS), ys)

    def finish_import(self) -> np.ndarray:
        """The rows read -> uint8 (N + N * PIXELS,): the N labels, then the N images row by row."""
        if self.reading is None or self.reading.row < self.reading.rows:
            raise RuntimeError("no finished import")
        reader, self.reading = self.reading, None
        return np.concatenate([reader.labels, reader.images.ravel()])

    # ---- the Inside view (digitnet.inside): the numbers of the last reading, and breaking the network ----

    def inside(self, layer: int, index: int, character: int = 0) -> np.ndarray | None:
        """Every number the network computed for the last reading's image (its central view), with
        unit ``index`` of layer ``layer`` (1-based; the last is the outputs) in detail, for
        ``character`` of the reading (0: the first, or the only one) -> float32
        laid out as ``inside_wire.layout`` (sent with the model), or None when it read nothing. A
        unit out of range (say -1) means the one that pushed the answer up most in the first layer."""
        if self.model is None:
            raise RuntimeError("no model is loaded")
        if self.seen is None or not 0 <= character < len(self.seen) or not self.seen[character].any():
            return None
        opened = inside.open_up(self.model, normalize(self.model, self.seen[character][None])[0])
        sizes = self.model.sizes
        if not (1 <= layer < len(sizes) and 0 <= index < sizes[layer]):
            layer, index = 1, int(np.argmax(opened.contributions[0])) if opened.hidden else opened.target
        selected = inside.unit(self.model, opened, layer, index)
        return inside_wire.pack(self.model, opened, selected, (layer, index) in self.changes.knocked)

    def modify(self, change: str) -> str:
        """Break the network, or restore it. ``change`` is JSON, one of ``{"knock": [layer, index]}``
        (knock that hidden unit out, or bring it back), ``{"knock_path": [layer, count]}`` (knock out
        the ``count`` units of that layer that pushed the last reading's answer up most),
        ``{"zero_biases": bool}``, ``{"noise": scale}`` (0 to ``inside.NOISE_MAX``), ``{"restore":
        true}`` -> JSON ``modification()``."""
        if self.base is None:
            raise RuntimeError("no model is loaded")
        c = json.loads(change)
        if not isinstance(c, dict) or len(c) != 1:
            raise ValueError(f"a change is one {{name: value}}, not {change}")
        changes = self.changes
        hidden = len(self.base.sizes) - 2
        if "knock" in c or "knock_path" in c:
            pair = c.get("knock", c.get("knock_path"))
            if not (isinstance(pair, list) and len(pair) == 2 and all(type(v) is int for v in pair)):
                raise ValueError(f"{next(iter(c))} takes [layer, number], two whole numbers, not {pair}")
            layer, n = pair
            if not 1 <= layer <= hidden:
                raise ValueError(f"layer {layer} is not a hidden layer (1 to {hidden})")
            if "knock" in c:
                if not 0 <= n < self.base.sizes[layer]:
                    raise ValueError(f"layer {layer} has no unit {n}")
                units = {(layer, n)}
                knocked = changes.knocked ^ units
            else:
                if self.seen is None or not self.seen[0].any():
                    raise ValueError("draw something first: the path is the last reading's")
                opened = inside.open_up(self.model, normalize(self.model, self.seen[0][None])[0])
                knocked = changes.knocked | {(layer, i) for i in inside.top_path(opened, layer, n)}
            changes = inside.Changes(frozenset(knocked), changes.zero_biases, changes.noise)
        elif "zero_biases" in c:
            changes = inside.Changes(changes.knocked, bool(c["zero_biases"]), changes.noise)
        elif "noise" in c:
            scale = float(c["noise"])
            if not 0 <= scale <= inside.NOISE_MAX:
                raise ValueError(f"noise {scale} is outside 0 to {inside.NOISE_MAX}")
            changes = inside.Changes(changes.knocked, changes.zero_biases, scale)
        elif c.get("restore"):
            changes = inside.Changes()
        else:
            raise ValueError(f"unknown change {change}")
        if changes.noise > 0 and self.noise is None:
            self.noise = inside.noise_pattern(self.base)
        self.changes = changes
        self.model = inside.changed(self.base, changes, self.noise)
        return self.modification()

    def modification(self) -> str:
        """JSON ``{"modified", "knocked": [[layer, index], ...], "zero_biases", "noise", "noise_max"}``:
        how the model in use differs from the one loaded."""
        c = self.changes
        return json.dumps(
            {
                "modified": c.any,
                "knocked": sorted([list(u) for u in c.knocked]),
                "zero_biases": c.zero_biases,
                "noise": c.noise,
                "noise_max": inside.NOISE_MAX,
            }
        )
