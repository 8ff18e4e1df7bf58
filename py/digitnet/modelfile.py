"""The model file: one ``.npz`` the trainer writes and the page (and CLI) loads.

Layout (format version 1)::

    W0, b0, W1, b1, ...   float32 or float16, W_l (n_l, n_{l+1}), b_l (n_{l+1},); the last
                          layer has 10 outputs (digits) or 11 (digits, then "not a digit")
    meta                  0-d unicode array, JSON: {"format": "digit-mlp", "format_version": 1,
                           "layers": [784, ..., 10], "activation": "relu", "output": "softmax",
                           "input": {"shape": [28, 28], "mean": m, "std": s, "scale": "pixel / 255",
                                     "preprocessing": {"version": 1, "steps": "..."}},
                           "hyperparameters": {...}, "test_error": 0.0123}

The page loads whatever file a URL names, so for ANY bytes ``load_model`` returns a usable ``Model``
or raises ``ModelFileError`` ("<name>: <reason>"). ``np.load`` reads the arrays once the sizes it would
trust are known to be small: the zip directory's (a zip bomb stops at them), then each ``.npy`` header's.
``digitnet.npzread`` reads each array of it safely.
"""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from pathlib import Path
from typing import IO

import numpy as np

from digitnet import preprocess
from digitnet.atomic import write_atomically
from digitnet.network import Model
from digitnet.npzread import ModelFileError, read_array, refusing, short
from digitnet.sizes import CLASSES, PIXELS, SIDE

FORMAT, FORMAT_VERSION = "digit-mlp", 1

MAX_BYTES = 64 * 2**20  # a model file, and all its arrays unpacked, at most 64 MiB
MAX_ENTRIES = 256  # zip entries (a network of up to 127 layers)
MAX_META_CHARS = 2**16  # the metadata JSON, in characters
MAX_META_DEPTH = 32  # its nesting of [ and {
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)  # a JSON string


def save_model(path: str | Path | IO[bytes], model: Model, store: str = "float32") -> None:
    """Write ``model`` as a compressed npz, weights and biases as ``store``: "float32"; "float16"
    (half the bytes; loaded as float32, so CPython and the page use the same rounded weights); or
    "exact" (float16 where that changes no value, e.g. a layer fine-tuning left as it was). A path
    is written atomically. Metadata ``load_model`` would refuse is a ValueError, nothing written."""
    meta = {
        **model.meta,
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "layers": model.sizes,
        "activation": "relu",
        "output": "softmax",
    }
    meta["input"] = {
        **meta.get("input", {}),
        "shape": [SIDE, SIDE],
        "mean": float(model.mean),
        "std": float(model.std),
        "scale": "pixel / 255",
        "preprocessing": {"version": preprocess.VERSION, "steps": preprocess.DESCRIPTION},
    }
    text = json.dumps(meta, sort_keys=True)
    if len(text) > MAX_META_CHARS or _json_depth(text) > MAX_META_DEPTH:
        raise ValueError(
            f"the model's metadata is too large or too deeply nested to be loaded again "
            f"(at most {MAX_META_CHARS} characters, {MAX_META_DEPTH} levels)"
        )
    if store not in ("float32", "float16", "exact"):
        raise ValueError(f"store must be 'float32', 'float16' or 'exact', not {store!r}")
    arrays = {"meta": np.array(text)}
    for l, (w, b) in enumerate(zip(model.weights, model.biases)):
        for key, a in ((f"W{l}", w), (f"b{l}", b)):
            a = np.asarray(a, dtype=np.float32 if store == "exact" else store)
            half = a.astype(np.float16)
            arrays[key] = half if store == "exact" and np.array_equal(half.astype(np.float32), a) else a
    if isinstance(path, (str, Path)):
        write_atomically(path, lambda f: np.savez_compressed(f, **arrays))
    else:
        np.savez_compressed(path, **arrays)


def load_model(source: str | Path | bytes | IO[bytes], name: str | None = None) -> Model:
    """Read and check a model file (path, bytes or binary file object) -> ``Model``. Any file that is
    not a usable model (not an npz, damaged, too large, bad metadata or layers, non-finite values, made
    for another preprocessing...) raises ``ModelFileError`` "<name>: <reason>", and only that; ``name``
    is how messages call the file (default: the path, or "model file")."""
    path = isinstance(source, (str, Path))
    name = name if name is not None else str(source) if path else "model file"
    if not path and not isinstance(source, (bytes, bytearray, memoryview)) and not hasattr(source, "read"):
        raise TypeError(f"load_model needs a path, bytes or a binary file, not {type(source).__name__}")
    with refusing(name, "cannot read the file"):  # at most MAX_BYTES + 1; a larger file unread
        if path:
            with open(source, "rb") as f:
                data = f.read(MAX_BYTES + 1) if os.fstat(f.fileno()).st_size <= MAX_BYTES else None
        else:
            data = memoryview(source.read(MAX_BYTES + 1) if hasattr(source, "read") else source).tobytes()
    if data is None or len(data) > MAX_BYTES:
        raise ModelFileError(f"{name}: larger than {MAX_BYTES // 2**20} MB, too large for a model file")
    if not data.startswith((b"PK\x03\x04", b"PK\x05\x06")):  # what np.load takes for an npz
        got = ", got a single array" if data.startswith(b"\x93NUMPY") else ""
        raise ModelFileError(f"{name}: not a model file (.npz archive expected{got})")
    with refusing(name, "not a model file (.npz expected)"):
        archive = zipfile.ZipFile(io.BytesIO(data))  # reads the directory only
    with archive, refusing(name, "cannot be read as a model"):  # a last resort, never needed yet
        return _load(archive, len(data), name)


def _load(archive: zipfile.ZipFile, size: int, name: str) -> Model:
    """The model in an archive of ``size`` bytes: its directory checked first (entries "W0.npy" or "W0",
    each once, stored or deflated, sizes in bounds; zipfile refuses encrypted ones), then read."""
    if len(infos := archive.infolist()) > MAX_ENTRIES:
        raise ModelFileError(f"{name}: {len(infos)} entries in the archive, at most {MAX_ENTRIES} allowed")
    entries: dict[str, zipfile.ZipInfo] = {}
    for i in infos:
        key, method, packed = i.filename.removesuffix(".npy"), i.compress_type, i.compress_size
        if key in entries:
            raise ModelFileError(f"{name}: the archive holds {short(key)} twice")
        if method not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            problem = f"uses compression method {method}; only stored or deflated entries are read"
        elif method == zipfile.ZIP_STORED and packed != i.file_size:
            problem = f"is stored uncompressed but its sizes differ ({packed} and {i.file_size} bytes)"
        elif packed > size:
            problem = f"claims {packed} bytes, more than the whole file ({size})"
        else:
            entries[key] = i
            continue
        raise ModelFileError(f"{name}: entry {short(i.filename)} {problem}")
    if sum(i.file_size for i in infos) > MAX_BYTES:
        raise ModelFileError(f"{name}: its arrays would take more than {MAX_BYTES >> 20} MB unpacked")
    if "meta" not in entries:
        raise ModelFileError(f"{name}: no 'meta' entry; not a digit model file")
    meta, layers, mean, std = _read_meta(archive, entries["meta"], name)
    params: dict[str, np.ndarray] = {}
    for l in range(len(layers) - 1):
        for key, shape in ((f"W{l}", (layers[l], layers[l + 1])), (f"b{l}", (layers[l + 1],))):
            if key not in entries:
                raise ModelFileError(f"{name}: layer {l} is missing its {key!r} array")
            a = read_array(archive, entries[key], key, name, "f", shape)
            with np.errstate(over="ignore"):
                params[key] = np.array(a, dtype=np.float32, order="C")  # a writeable C-order copy
            if not np.isfinite(params[key]).all():
                what = "values too large for float32" if np.isfinite(a).all() else "NaN or infinite values"
                raise ModelFileError(f"{name}: {key} holds {what}")
    if extra := sorted(set(entries) - set(params) - {"meta"}):
        raise ModelFileError(f"{name}: arrays {short(extra)} are not part of a {short(layers)} network")
    return Model(*[[params[f"{p}{l}"] for l in range(len(layers) - 1)] for p in "Wb"], mean, std, meta)


def _read_meta(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str
) -> tuple[dict, list[int], float, float]:
    """The ``meta`` entry's JSON, its length, characters and nesting checked first (Pyodide's stack is
    small), then its format, version, layers and input -> (meta, layers, mean, std): this preprocessing
    (none recorded: 1), mean and std finite in float32, std > 0, pixels in [0, 1] to a finite input."""
    a = read_array(archive, info, "meta", name, "U", ())
    if a.nbytes // 4 > MAX_META_CHARS:
        raise ModelFileError(f"{name}: 'meta' is {a.nbytes // 4} characters long, more than {MAX_META_CHARS}")
    codes = np.frombuffer(a.tobytes(), a.dtype.byteorder + "u4")  # before Python makes them a str
    if ((codes > 0x10FFFF) | ((codes >= 0xD800) & (codes < 0xE000))).any():
        raise ModelFileError(f"{name}: 'meta' is not valid text (bad character codes)")
    text = str(a[()])
    if (d := _json_depth(text)) > MAX_META_DEPTH:
        raise ModelFileError(f"{name}: 'meta' nests {d} levels deep, more than the {MAX_META_DEPTH} allowed")
    with refusing(name, "'meta' is not valid JSON"):
        meta = json.loads(text)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"{name}: 'meta' does not describe a {FORMAT!r} model")
    version, layers, inp = meta.get("format_version"), meta.get("layers"), meta.get("input", {})
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise ModelFileError(
            f"{name}: format version {short(version)} is not supported (only {FORMAT_VERSION})"
        )
    if not isinstance(layers, list) or len(layers) < 2 or not all(type(n) is int and n > 0 for n in layers):
        raise ModelFileError(f"{name}: 'layers' must be a list of at least two positive sizes")
    if layers[0] != PIXELS or layers[-1] not in (CLASSES, CLASSES + 1):
        raise ModelFileError(
            f"{name}: layers {short(layers)} do not map {PIXELS} pixels to {CLASSES} "
            f"digits (or {CLASSES} digits and 'not a digit')"
        )
    if not isinstance(inp, dict):
        raise ModelFileError(f"{name}: 'input' in 'meta' must be an object, not {short(inp)}")
    version = p.get("version") if isinstance(p := inp.get("preprocessing"), dict) else 1  # none: 1
    if version != preprocess.VERSION or isinstance(version, bool):
        raise ModelFileError(
            f"{name}: made for preprocessing version {short(version)}, this code has "
            f"version {preprocess.VERSION}; retrain it with python -m training.train"
        )
    mean, std = inp.get("mean", 0.0), inp.get("std", 1.0)
    numbers = all(type(v) in (int, float) and abs(v) < 2**128 for v in (mean, std))  # NaN compares false
    with np.errstate(all="ignore"):
        m, s = (np.float32(mean), np.float32(std)) if numbers else (np.nan, np.nan)
        if not (s > 0 and np.isfinite([m, s, *((np.float32([0, 1]) - m) / s)]).all()):
            raise ModelFileError(
                f"{name}: input normalisation mean={short(mean)} std={short(std)} "
                f"is invalid (finite float32 numbers, std > 0, expected)"
            )
    return meta, layers, float(mean), float(std)


def _json_depth(text: str) -> int:
    """How deep ``[`` and ``{`` nest in JSON text, strings left out (an upper bound on what
    ``json.loads`` recurses into; an unterminated string counts its brackets too)."""
    brackets = np.frombuffer(re.sub(r"[^\[\]{}]+", "", _JSON_STRING.sub("", text)).encode("ascii"), np.uint8)
    return int(np.cumsum(np.where((brackets == ord("[")) | (brackets == ord("{")), 1, -1)).max(initial=0))
