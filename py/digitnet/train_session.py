"""The Python API of the page's training worker (``static/js/train-worker.js``), and nothing else.

Like ``digitnet.browser.Session``: plain values in and out (bytes, numbers, JSON strings, one
float32 or uint8 array), so the JavaScript side holds no Python. The algorithm is
``digitnet.scratch``; this file reads the page's MNIST file (``static/data/mnist.npz``, made by
``python -m training.page_data``) and runs the training in slices of wall time.
"""

from __future__ import annotations

import io
import json
import math
import time
import zipfile
from typing import Any

import numpy as np

from digitnet.modelfile import save_model
from digitnet.npzread import ModelFileError, read_array, read_header, refusing, short
from digitnet.scratch import Run, Settings
from digitnet.sizes import CLASSES, PIXELS

NAME = "mnist.npz"  # how messages call the data file
ARRAYS = ("train_images", "train_labels", "test_images", "test_labels")
MAX_BYTES = 256 * 2**20  # the file, and its arrays unpacked, at most (MNIST: 11 MB, 55 MB unpacked)


def _bytes(data: Any) -> bytes:
    """Bytes of ``data``: bytes-like in CPython, a JavaScript typed array (JsProxy) in Pyodide."""
    to_bytes = getattr(data, "to_bytes", None)
    return to_bytes() if to_bytes else bytes(data)


def read_data(data: bytes, name: str = NAME) -> dict[str, np.ndarray]:
    """The four arrays of the page's MNIST file, checked: images (N, 784) and labels (N,) uint8,
    labels 0-9, for train and test. Anything else raises ValueError "<name>: <array>: <reason>"
    (a ``ModelFileError``, from ``digitnet.npzread``'s safe reading)."""
    if len(data) > MAX_BYTES:
        raise ModelFileError(f"{name}: larger than {MAX_BYTES >> 20} MB, too large for the digits file")
    with refusing(name, "not an .npz archive"):
        archive = zipfile.ZipFile(io.BytesIO(data))
    with archive:
        entries = {i.filename.removesuffix(".npy"): i for i in archive.infolist()}
        if sum(i.file_size for i in entries.values()) > MAX_BYTES:
            raise ModelFileError(f"{name}: its arrays would take more than {MAX_BYTES >> 20} MB unpacked")
        arrays = {}
        for key in ARRAYS:
            if key not in entries:
                raise ModelFileError(f"{name}: {key}: missing (the file needs {', '.join(ARRAYS)})")
            shape, dtype = _header(archive, entries[key], key, name)
            images = key.endswith("images")
            if dtype != np.uint8:
                raise ModelFileError(f"{name}: {key}: dtype {short(dtype, str)}, uint8 expected")
            if len(shape) != (2 if images else 1) or images and shape[1] != PIXELS or shape[0] < 1:
                expected = f"(N, {PIXELS})" if images else "(N,)"
                raise ModelFileError(f"{name}: {key}: shape {short(shape)}, {expected} with N >= 1 expected")
            arrays[key] = read_array(archive, entries[key], key, name, "u", shape)
    for part in ("train", "test"):
        images, labels = arrays[f"{part}_images"], arrays[f"{part}_labels"]
        if len(images) != len(labels):
            raise ModelFileError(f"{name}: {part}_labels: {len(labels)} labels for {len(images)} images")
        if labels.max() >= CLASSES:
            raise ModelFileError(f"{name}: {part}_labels: holds {int(labels.max())}, digits 0-9 expected")
    return arrays


def _header(archive: zipfile.ZipFile, info: zipfile.ZipInfo, key: str, name: str) -> tuple[tuple, np.dtype]:
    """An entry's .npy header (shape, dtype), read before the entry itself: its shape says N."""
    what = f"{key}: damaged array header"
    with refusing(name, what), archive.open(info) as f:
        return read_header(f, name, what)


class TrainSession:
    """The training worker's state: the digits loaded and the run under way."""

    def __init__(self) -> None:
        self.data: dict[str, np.ndarray] | None = None
        self.run: Run | None = None
        self.sent = 0  # losses already returned by step()

    def load_data(self, data: Any) -> str:
        """Read the page's MNIST file's bytes -> JSON {"train": N, "test": M, "defaults": the default
        Settings as a dict (the card shows them; they are named once, here)}. Bad bytes raise
        ValueError naming the array and the reason; the digits loaded before stay."""
        self.data = read_data(_bytes(data))
        return json.dumps(
            {
                "train": len(self.data["train_labels"]),
                "test": len(self.data["test_labels"]),
                "defaults": Settings().as_dict(),
            }
        )

    def start(self, settings_json: str) -> str:
        """Begin a run (any run before is dropped) -> JSON {"settings": {...all, normalised},
        "batches_per_epoch", "batches"}. Bad settings raise ValueError naming the field."""
        if self.data is None:
            raise RuntimeError("no digits are loaded: call load_data first")
        settings = Settings.from_json(settings_json)
        d = self.data
        self.run = Run(settings, d["train_images"], d["train_labels"], d["test_images"], d["test_labels"])
        self.sent = 0
        per_epoch = self.run.batches_per_epoch
        return json.dumps(
            {
                "settings": settings.as_dict(),
                "batches_per_epoch": per_epoch,
                "batches": per_epoch * settings.epochs,
            }
        )

    def step(self, ms: float) -> str:
        """Learn for about ``ms`` milliseconds (at least one batch, or one chunk of an epoch's test
        reading; the epoch's end ends the slice) -> JSON {"epoch", "epochs", "batch",
        "batches_per_epoch", "seen", "losses": the batches' losses since the last call (null where
        not finite), "accuracy": test accuracy after each finished epoch, "done", "diverged": null
        or a plain message, "python_ms"}."""
        run = self._run()
        start = time.perf_counter()
        epoch = run.epoch
        until = start + ms / 1000
        while not run.done:
            run.step(1, until)
            if run.epoch != epoch or time.perf_counter() >= until:
                break
        losses = [x if math.isfinite(x) else None for x in run.losses[self.sent :]]
        self.sent = len(run.losses)
        return json.dumps(
            {
                **run.progress(),
                "losses": losses,
                "python_ms": round((time.perf_counter() - start) * 1000, 2),
            }
        )

    def pictures(self, n: int) -> np.ndarray:
        """The first layer's weights of up to ``n`` units as pictures: (k * 784,) float32 in [-1, 1]."""
        return self._run().pictures(int(n)).ravel()

    def mistakes(self, n: int) -> str:
        """Up to ``n`` test digits the network reads wrong -> JSON [{"index", "label", "read"}]."""
        return json.dumps([{"index": i, "label": y, "read": r} for i, y, r in self._run().mistakes(int(n))])

    def mistake_images(self, n: int) -> np.ndarray:
        """The images of ``mistakes(n)``, in its order: (k * 784,) uint8."""
        run = self._run()
        index = [i for i, _, _ in run.mistakes(int(n))]
        return np.ascontiguousarray(run.test_images[index], np.uint8).ravel()

    def model_bytes(self) -> bytes:
        """The network as it is (after divergence: the one kept) as a model file (``save_model``'s
        .npz, float32): the page's main worker, ``?model=`` and ``training.evaluate --model`` read it."""
        buf = io.BytesIO()
        save_model(buf, self._run().model())
        return buf.getvalue()

    def cancel(self) -> None:
        self.run = None

    def _run(self) -> Run:
        if self.run is None:
            raise RuntimeError("no training run: call start first")
        return self.run
