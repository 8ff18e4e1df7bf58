"""The model file: one ``.npz`` the trainer writes and the page (and CLI) loads.

Layout (format version 1)::

    W0, b0, W1, b1, ...   float32, W_l (n_l, n_{l+1}), b_l (n_{l+1},)
    meta                  0-d unicode array holding a JSON object:
                          {"format": "digit-mlp", "format_version": 1,
                           "layers": [784, ..., 10], "activation": "relu",
                           "output": "softmax",
                           "input": {"shape": [28, 28], "mean": m, "std": s,
                                     "scale": "pixel / 255",
                                     "preprocessing": {"version": 1,
                                                       "steps": "..."}},
                           "hyperparameters": {...}, "test_error": 0.0123}

``preprocessing`` is written from ``digitnet.preprocess`` (its ``VERSION`` and
``DESCRIPTION``); the loader refuses a model made for another version (a file
that records none predates versioning and was made for version 1).

Loaded with ``allow_pickle=False`` only. Anything malformed raises
``ModelFileError`` with a sentence that says what is wrong.
Saved to a path atomically: a temporary file beside it, flushed to disk, then
renamed over the target, so an interrupted save never leaves half a model.
NumPy only: this file also runs in the browser.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import IO, Any, Union

import numpy as np

from digitnet import preprocess
from digitnet.atomic import write_atomically
from digitnet.network import Model
from digitnet.sizes import CLASSES, PIXELS, SIDE

FORMAT = "digit-mlp"
FORMAT_VERSION = 1

Source = Union[str, Path, bytes, IO[bytes]]


class ModelFileError(ValueError):
    """A model file that cannot be used; the message says why."""


def save_model(path: Union[str, Path, IO[bytes]], model: Model) -> None:
    """Write ``model`` as a compressed npz (see module docstring for the layout).

    A path is written atomically (temporary file, fsync, rename): on any error
    the previous file at ``path``, if any, is left as it was.
    """
    meta = dict(model.meta)
    meta.update(
        format=FORMAT,
        format_version=FORMAT_VERSION,
        layers=model.sizes,
        activation="relu",
        output="softmax",
    )
    meta.setdefault("input", {})
    meta["input"] = {**meta["input"], "shape": [SIDE, SIDE], "mean": float(model.mean),
                     "std": float(model.std), "scale": "pixel / 255",
                     "preprocessing": {"version": preprocess.VERSION, "steps": preprocess.DESCRIPTION}}
    arrays: dict[str, np.ndarray] = {"meta": np.array(json.dumps(meta, sort_keys=True))}
    for l, (w, b) in enumerate(zip(model.weights, model.biases)):
        arrays[f"W{l}"] = np.asarray(w, dtype=np.float32)
        arrays[f"b{l}"] = np.asarray(b, dtype=np.float32)
    if not isinstance(path, (str, Path)):
        np.savez_compressed(path, **arrays)
        return
    write_atomically(path, lambda f: np.savez_compressed(f, **arrays))


def _open(source: Source, name: str) -> Any:
    if isinstance(source, (bytes, bytearray, memoryview)):
        source = io.BytesIO(bytes(source))
    try:
        return np.load(source, allow_pickle=False)
    except FileNotFoundError:
        raise ModelFileError(f"{name}: no such file") from None
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise ModelFileError(f"{name}: not a model file (.npz expected): {e}") from None


def load_model(source: Source, name: str | None = None) -> Model:
    """Read and check a model file (path, bytes or binary file object) -> ``Model``.

    ``name`` is how messages call the file (default: the path, or "model file").
    Raises ``ModelFileError`` ("<name>: <reason>") if it is not an npz, has no
    or bad metadata, an unknown format version, a missing layer, shapes that do
    not chain, non-float or non-finite values, or was made for another
    preprocessing version.
    """
    if name is None:
        name = str(source) if isinstance(source, (str, Path)) else "model file"
    npz = _open(source, name)
    if not hasattr(npz, "files"):
        raise ModelFileError(f"{name}: not a model file (.npz archive expected, got a single array)")
    with npz:
        try:
            files = set(npz.files)
            if "meta" not in files:
                raise ModelFileError(f"{name}: no 'meta' entry; not a digit model file")
            try:
                meta = json.loads(str(npz["meta"]))
            except (ValueError, TypeError) as e:
                raise ModelFileError(f"{name}: 'meta' is not valid JSON: {e}") from None
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                raise ModelFileError(f"{name}: 'meta' does not describe a {FORMAT!r} model")
            version = meta.get("format_version")
            if version != FORMAT_VERSION:
                raise ModelFileError(
                    f"{name}: format version {version!r} is not supported (this code reads {FORMAT_VERSION})"
                )
            layers = meta.get("layers")
            if (not isinstance(layers, list) or len(layers) < 2
                    or not all(isinstance(n, int) and n > 0 for n in layers)):
                raise ModelFileError(f"{name}: 'layers' must be a list of at least two positive sizes")
            if layers[0] != PIXELS or layers[-1] != CLASSES:
                raise ModelFileError(
                    f"{name}: layers {layers} do not map {PIXELS} pixels to {CLASSES} digits"
                )
            weights, biases = [], []
            for l in range(len(layers) - 1):
                for key, shape in ((f"W{l}", (layers[l], layers[l + 1])), (f"b{l}", (layers[l + 1],))):
                    if key not in files:
                        raise ModelFileError(f"{name}: layer {l} is missing its {key!r} array")
                    a = npz[key]
                    if a.dtype.kind != "f":
                        raise ModelFileError(f"{name}: {key} has dtype {a.dtype}, floats expected")
                    if a.shape != shape:
                        raise ModelFileError(f"{name}: {key} has shape {a.shape}, expected {shape}")
                    if not np.isfinite(a).all():
                        raise ModelFileError(f"{name}: {key} holds NaN or infinite values")
                    (weights if key[0] == "W" else biases).append(a.astype(np.float32))
            extra = files - {"meta"} - {f"{p}{l}" for p in "Wb" for l in range(len(layers) - 1)}
            if extra:
                raise ModelFileError(
                    f"{name}: arrays {sorted(extra)} are not part of a {layers} network"
                )
        except ModelFileError:
            raise
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError) as e:
            raise ModelFileError(f"{name}: damaged model file: {e}") from None
    inp = meta.get("input", {})
    version = _preprocessing_version(inp)
    if version != preprocess.VERSION:
        raise ModelFileError(
            f"{name}: made for preprocessing version {version!r}, but this code preprocesses "
            f"drawings with version {preprocess.VERSION}; retrain it with python -m training.train"
        )
    mean, std = inp.get("mean", 0.0), inp.get("std", 1.0)
    if not all(isinstance(v, (int, float)) and np.isfinite(v) for v in (mean, std)) or std <= 0:
        raise ModelFileError(f"{name}: input normalisation mean={mean!r} std={std!r} is invalid")
    return Model(weights, biases, float(mean), float(std), meta)


def _preprocessing_version(inp: Any) -> Any:
    """The preprocessing version a model's ``input`` metadata records (1 if it predates versions)."""
    recorded = inp.get("preprocessing") if isinstance(inp, dict) else None
    if isinstance(recorded, dict):
        return recorded.get("version")
    return 1
