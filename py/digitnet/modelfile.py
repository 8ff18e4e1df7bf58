"""The model file: one ``.npz`` the trainer writes and the page (and CLI) loads.

Layout (format version 1)::

    W0, b0, W1, b1, ...   float32 or float16, W_l (n_l, n_{l+1}), b_l (n_{l+1},); the last
                          layer has 10 outputs (digits) or 11 (digits, then "not a digit")
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

Reading is defensive, because the page loads whatever file a URL names: for
ANY bytes ``load_model`` returns a usable ``Model`` or raises ``ModelFileError``
("<name>: <reason>"), never another exception. It reads the zip itself with
``zipfile`` and the ``.npy`` headers with a strict parser of its own (no
pickle, no ``ast``), and checks every size before it allocates: the file and
the arrays together at most ``MAX_BYTES``; an entry only stored or deflated,
not encrypted, its declared size equal to its array's shape x item size; the
metadata at most ``MAX_META_CHARS`` characters nested at most
``MAX_META_DEPTH`` deep (counted before ``json`` parses it: Pyodide's stack is
small); weights finite as float32; mean and std finite float32 numbers, std > 0,
that keep a normalised pixel finite.

Saved to a path atomically: a temporary file beside it, flushed to disk, then
renamed over the target, so an interrupted save never leaves half a model.
NumPy and the standard library only: this file also runs in the browser.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import struct
import warnings
import zipfile
import zlib
from pathlib import Path
from typing import IO, Any, Union

import numpy as np

from digitnet import preprocess
from digitnet.atomic import write_atomically
from digitnet.network import Model
from digitnet.sizes import CLASSES, PIXELS, SIDE

FORMAT = "digit-mlp"
FORMAT_VERSION = 1

MAX_BYTES = 64 * 2**20          # a model file, and all its arrays unpacked, at most 64 MiB
MAX_ENTRIES = 256               # zip entries (a network of up to 127 layers)
MAX_META_CHARS = 2**16          # the metadata JSON, in characters
MAX_META_DEPTH = 32             # its nesting of [ and {
MAX_HEADER = 10_000             # an .npy header, in bytes (NumPy's own limit)

Source = Union[str, Path, bytes, IO[bytes]]

_NPY_MAGIC = b"\x93NUMPY"
_ZIP_ENCRYPTED = 0x01 | 0x40    # traditional PKWARE encryption, strong encryption
_ZIP_PATCHED = 0x20             # "compressed patched data"
_ZIP_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}
# What zipfile and zlib raise on damaged archives and entries (OSError covers zipfile's
# EOF and seek errors; ValueError covers UnicodeDecodeError of a name).
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError,
               ValueError, KeyError, IndexError, TypeError, struct.error, OverflowError,
               NotImplementedError, RuntimeError, MemoryError)

_STR = r"""(?:'[^'\\]*'|"[^"\\]*")"""
_HEADER_ITEM = (r"""\s*(?:'(descr|fortran_order|shape)'|"(descr|fortran_order|shape)")\s*:\s*"""
                rf"""({_STR}|True|False|\((?:\s*\d{{1,19}}\s*,)*\s*(?:\d{{1,19}}\s*)?\))\s*""")
_HEADER = re.compile(rf"\{{(?:{_HEADER_ITEM},)*(?:{_HEADER_ITEM})?\s*\}}\s*")
_HEADER_ITEMS = re.compile(_HEADER_ITEM)
_DESCR = re.compile(r"[<>|=]?[A-Za-z]\d{0,9}")
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


class ModelFileError(ValueError):
    """A model file that cannot be used; the message says why."""


def save_model(path: Union[str, Path, IO[bytes]], model: Model, store: str = "float32") -> None:
    """Write ``model`` as a compressed npz (see module docstring for the layout), its weights and
    biases stored as ``store`` ("float32", or "float16": half the bytes; the loader makes them
    float32 again, so CPython and the page compute with the same rounded weights; or "exact":
    each array as float16 if that changes none of its values, else float32, e.g. a fine-tuned
    model whose first layer is still the float16 one it started from).

    A path is written atomically (temporary file, fsync, rename): on any error
    the previous file at ``path``, if any, is left as it was. Metadata that
    ``load_model`` would refuse (too long, too deeply nested) is a ``ValueError``
    before anything is written.
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
    text = json.dumps(meta, sort_keys=True)
    if len(text) > MAX_META_CHARS or _json_depth(text) > MAX_META_DEPTH:
        raise ValueError(f"the model's metadata is too large or too deeply nested to be loaded again "
                         f"(at most {MAX_META_CHARS} characters, {MAX_META_DEPTH} levels)")
    arrays: dict[str, np.ndarray] = {"meta": np.array(text)}
    if store not in ("float32", "float16", "exact"):
        raise ValueError(f"store must be 'float32', 'float16' or 'exact', not {store!r}")
    for l, (w, b) in enumerate(zip(model.weights, model.biases)):
        arrays[f"W{l}"], arrays[f"b{l}"] = _stored(w, store), _stored(b, store)
    if not isinstance(path, (str, Path)):
        np.savez_compressed(path, **arrays)
        return
    write_atomically(path, lambda f: np.savez_compressed(f, **arrays))


def _stored(a: np.ndarray, store: str) -> np.ndarray:
    """The array as save_model stores it: float16 or float32, or for "exact" float16 when every
    value survives the round trip (float32 -> float16 -> float32) unchanged."""
    if store != "exact":
        return np.asarray(a, dtype=store)
    a = np.asarray(a, dtype=np.float32)
    half = a.astype(np.float16)
    return half if np.array_equal(half.astype(np.float32), a) else a


def load_model(source: Source, name: str | None = None) -> Model:
    """Read and check a model file (path, bytes or binary file object) -> ``Model``.

    ``name`` is how messages call the file (default: the path, or "model file").
    Raises ``ModelFileError`` ("<name>: <reason>") for any file that is not a
    usable model: not an npz, damaged, too large, no or bad metadata, an unknown
    format version, a missing layer, shapes that do not chain, non-float or
    non-finite values, bad input normalisation, or made for another
    preprocessing version. Nothing else escapes, whatever the bytes.
    """
    if name is None:
        name = str(source) if isinstance(source, (str, Path)) else "model file"
    if not isinstance(source, (str, Path, bytes, bytearray, memoryview)) and not hasattr(source, "read"):
        raise TypeError(f"load_model needs a path, bytes or a binary file, not {type(source).__name__}")
    try:
        return _load(_read_source(source, name), name)
    except ModelFileError:
        raise
    except Exception as e:      # a safety net: every known failure has its own message above
        raise ModelFileError(f"{name}: cannot be read as a model ({type(e).__name__}: {e})") from None


# ----------------------------------------------------------------------- reading

def _read_source(source: Source, name: str) -> bytes:
    """The file's bytes, at most ``MAX_BYTES`` of them (a larger file is refused unread)."""
    too_large = ModelFileError(f"{name}: larger than {MAX_BYTES // 2**20} MB, too large for a model file")
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        try:
            if isinstance(source, (str, Path)):
                with open(source, "rb") as f:
                    if os.fstat(f.fileno()).st_size > MAX_BYTES:
                        raise too_large
                    data = f.read(MAX_BYTES + 1)
            else:
                data = source.read(MAX_BYTES + 1)
        except ModelFileError:
            raise
        except FileNotFoundError:
            raise ModelFileError(f"{name}: no such file") from None
        except (OSError, ValueError) as e:
            raise ModelFileError(f"{name}: cannot read the file: {_why(e)}") from None
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise ModelFileError(f"{name}: cannot read the file: it gave {type(data).__name__}, not bytes")
        data = bytes(data)
    if len(data) > MAX_BYTES:
        raise too_large
    return data


def _load(data: bytes, name: str) -> Model:
    entries, archive = _open_zip(data, name)
    with archive:
        return _load_entries(entries, archive, name)


def _load_entries(entries: dict[str, zipfile.ZipInfo], archive: zipfile.ZipFile, name: str) -> Model:
    if "meta" not in entries:
        raise ModelFileError(f"{name}: no 'meta' entry; not a digit model file")
    meta = _read_meta(archive, entries["meta"], name)
    layers = _check_meta(meta, name)
    mean, std = _check_input(meta, name)
    weights, biases = [], []
    for l in range(len(layers) - 1):
        for key, shape in ((f"W{l}", (layers[l], layers[l + 1])), (f"b{l}", (layers[l + 1],))):
            if key not in entries:
                raise ModelFileError(f"{name}: layer {l} is missing its {key!r} array")
            (weights if key[0] == "W" else biases).append(
                _read_weights(archive, entries[key], key, shape, name))
    extra = set(entries) - {"meta"} - {f"{p}{l}" for p in "Wb" for l in range(len(layers) - 1)}
    if extra:
        shown = sorted(extra)
        shown = repr(shown) if len(shown) <= 5 else repr(shown[:5])[:-1] + ", ...]"
        raise ModelFileError(f"{name}: arrays {_cut(shown)} are not part of a {_short(layers)} network")
    return Model(weights, biases, mean, std, meta)


def _open_zip(data: bytes, name: str) -> tuple[dict[str, zipfile.ZipInfo], zipfile.ZipFile]:
    """The archive and its entries by array name, every entry checked from the zip directory
    alone: a name that appears once, stored or deflated, not encrypted, sizes in bounds."""
    if data.startswith(_NPY_MAGIC):
        raise ModelFileError(f"{name}: not a model file (.npz archive expected, got a single array)")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except _ZIP_ERRORS as e:
        raise ModelFileError(f"{name}: not a model file (.npz expected): {_why(e)}") from None
    if len(infos) > MAX_ENTRIES:
        raise ModelFileError(f"{name}: {len(infos)} entries in the archive, a model has at most {MAX_ENTRIES}")
    entries: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
        entry = _short(info.filename)
        if key in entries:
            raise ModelFileError(f"{name}: the archive holds {key!r} twice")
        if info.flag_bits & _ZIP_ENCRYPTED:
            raise ModelFileError(f"{name}: entry {entry} is encrypted; a model file is never encrypted")
        if info.flag_bits & _ZIP_PATCHED:
            raise ModelFileError(f"{name}: entry {entry} is stored as a patch, which this loader does not read")
        if info.compress_type not in _ZIP_METHODS:
            raise ModelFileError(f"{name}: entry {entry} uses compression method {info.compress_type}; "
                                 f"only stored or deflated entries are read")
        if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
            raise ModelFileError(f"{name}: entry {entry} is stored uncompressed but its sizes differ "
                                 f"({info.compress_size} and {info.file_size} bytes)")
        if info.compress_size > len(data):
            raise ModelFileError(f"{name}: entry {entry} claims {info.compress_size} bytes, "
                                 f"more than the whole file ({len(data)})")
        total += info.file_size
        if total > MAX_BYTES:
            raise ModelFileError(f"{name}: its arrays would take more than {MAX_BYTES // 2**20} MB "
                                 f"unpacked, too large for a model file")
        entries[key] = info
    return entries, archive


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> bytes:
    """An entry's bytes, exactly as many as the zip directory declares (bounded there)."""
    entry = _short(info.filename)
    try:
        with archive.open(info) as f:
            raw = f.read(info.file_size + 1)
    except _ZIP_ERRORS as e:
        raise ModelFileError(f"{name}: entry {entry} is damaged: {_entry_damage(e)}") from None
    if len(raw) != info.file_size:
        raise ModelFileError(f"{name}: entry {entry} holds {len(raw)} bytes, "
                             f"its directory says {info.file_size}")
    return raw


def _entry_damage(e: BaseException) -> str:
    """What an exception reading a zip entry means, in words (the library's text after it)."""
    text = str(e)
    if isinstance(e, zlib.error):
        return f"its compressed data is corrupt ({_why(e)}); was the file cut short or altered?"
    if isinstance(e, EOFError):
        what = "its data ends before the size its directory declares"
    elif "CRC" in text:
        what = "its data does not match its checksum (altered or damaged)"
    elif "magic number" in text or "Truncated file header" in text:
        what = "there is no entry header where the zip directory points"
    elif "seek" in text:
        what = "the zip directory points outside the file"
    else:
        return _why(e)
    return f"{what} ({_why(e)})" if text else what


def _parse_npy(raw: bytes, key: str, name: str) -> tuple[np.dtype, tuple[int, ...], bool, int]:
    """An ``.npy`` entry's (dtype, shape, fortran order, data offset), checked: a plain dtype
    NumPy knows, no object arrays, and exactly shape x itemsize bytes of data after the header."""
    what = f"{name}: {key}"
    if not raw.startswith(_NPY_MAGIC) or len(raw) < 10:
        raise ModelFileError(f"{what} is not a NumPy array")
    major = raw[6]
    if major == 1:
        size, start = int.from_bytes(raw[8:10], "little"), 10
    elif major in (2, 3) and len(raw) >= 12:
        size, start = int.from_bytes(raw[8:12], "little"), 12
    else:
        raise ModelFileError(f"{what} is a NumPy array of an unknown format version {major}.{raw[7]}")
    if size > MAX_HEADER or start + size > len(raw):
        raise ModelFileError(f"{what} has a damaged array header (it claims {size} bytes)")
    try:
        header = raw[start:start + size].decode("utf-8" if major == 3 else "latin-1")
    except UnicodeDecodeError:
        raise ModelFileError(f"{what} has a damaged array header (not text)") from None
    found = list(_HEADER_ITEMS.finditer(header, 1)) if _HEADER.fullmatch(header) else []
    items = {m[1] or m[2]: m[3] for m in found}
    if len(found) != 3 or len(items) != 3:
        raise ModelFileError(f"{what} has a damaged array header (a plain dtype, an order and "
                             f"a shape expected)")
    descr = items["descr"][1:-1] if items["descr"][0] in "'\"" else ""
    if not _DESCR.fullmatch(descr):
        raise ModelFileError(f"{what} has dtype {_short(items['descr'])}, which is not a plain NumPy type")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")         # deprecated aliases such as 'a'
            dtype = np.dtype(descr)
    except Exception:           # TypeError, or a size NumPy cannot hold
        raise ModelFileError(f"{what} has dtype {_short(descr)}, which NumPy does not know") from None
    if items["fortran_order"] not in ("True", "False"):
        raise ModelFileError(f"{what} has a damaged array header (fortran_order is not True or False)")
    if items["shape"][0] != "(":
        raise ModelFileError(f"{what} has a damaged array header (its shape is not a tuple)")
    shape = tuple(int(d) for d in re.findall(r"\d+", items["shape"]))
    if dtype.hasobject:
        raise ModelFileError(f"{what} holds Python objects (pickled data), never loaded here")
    offset = start + size
    need = math.prod(shape) * dtype.itemsize
    if need != len(raw) - offset:
        raise ModelFileError(f"{what} declares shape {_short(shape)} of {dtype} ({need} bytes) "
                             f"but holds {len(raw) - offset} bytes of data")
    return dtype, shape, items["fortran_order"] == "True", offset


def _read_weights(archive: zipfile.ZipFile, info: zipfile.ZipInfo, key: str,
                  shape: tuple[int, ...], name: str) -> np.ndarray:
    """One ``W_l`` or ``b_l``: float of the expected shape, finite as float32 -> float32."""
    raw = _read_entry(archive, info, name)
    dtype, found, fortran, offset = _parse_npy(raw, key, name)
    if dtype.kind != "f":
        raise ModelFileError(f"{name}: {key} has dtype {dtype}, floats expected")
    if dtype.itemsize not in (2, 4, 8):
        raise ModelFileError(f"{name}: {key} has dtype {dtype}; float16, float32 or float64 expected")
    if found != shape:
        raise ModelFileError(f"{name}: {key} has shape {_short(found)}, expected {shape}")
    a = np.frombuffer(raw, dtype=dtype, count=math.prod(shape), offset=offset)
    a = a.reshape(shape[::-1]).T if fortran else a.reshape(shape)
    if not np.isfinite(a).all():
        raise ModelFileError(f"{name}: {key} holds NaN or infinite values")
    with np.errstate(over="ignore"):
        a = np.array(a, dtype=np.float32, order="C")        # a copy: writeable, owns its data
    if not np.isfinite(a).all():
        raise ModelFileError(f"{name}: {key} holds values too large for float32")
    return a


def _read_meta(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> Any:
    """The JSON in the ``meta`` entry, its size and nesting bounded before it is parsed."""
    raw = _read_entry(archive, info, name)
    dtype, shape, _, offset = _parse_npy(raw, "meta", name)
    if dtype.kind != "U" or shape != ():
        raise ModelFileError(f"{name}: 'meta' is not a text entry (dtype {dtype}, shape {_short(shape)})")
    if dtype.itemsize // 4 > MAX_META_CHARS:
        raise ModelFileError(f"{name}: 'meta' is {dtype.itemsize // 4} characters long, "
                             f"more than the {MAX_META_CHARS} a model's metadata may have")
    try:
        text = raw[offset:].decode("utf-32-le" if dtype.str[0] == "<" else "utf-32-be").rstrip("\0")
    except UnicodeDecodeError:
        raise ModelFileError(f"{name}: 'meta' is not valid text (bad character codes)") from None
    depth = _json_depth(text)
    if depth > MAX_META_DEPTH:
        raise ModelFileError(f"{name}: 'meta' nests {depth} levels deep, more than the "
                             f"{MAX_META_DEPTH} a model's metadata may")
    try:
        return json.loads(text)
    except (ValueError, RecursionError, MemoryError) as e:
        raise ModelFileError(f"{name}: 'meta' is not valid JSON: {_why(e)}") from None


def _json_depth(text: str) -> int:
    """How deep ``[`` and ``{`` nest in JSON text, strings left out (an upper bound on what
    ``json.loads`` recurses into; an unterminated string counts its brackets too)."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text)).encode("ascii")
    if not brackets:
        return 0
    codes = np.frombuffer(brackets, dtype=np.uint8)
    steps = np.where((codes == ord("[")) | (codes == ord("{")), 1, -1)
    return int(np.cumsum(steps).max())


def _check_meta(meta: Any, name: str) -> list[int]:
    """Format, format version and layer sizes of the metadata -> the sizes."""
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"{name}: 'meta' does not describe a {FORMAT!r} model")
    version = meta.get("format_version")
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise ModelFileError(
            f"{name}: format version {_short(version)} is not supported (this code reads {FORMAT_VERSION})"
        )
    layers = meta.get("layers")
    if (not isinstance(layers, list) or len(layers) < 2
            or not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in layers)):
        raise ModelFileError(f"{name}: 'layers' must be a list of at least two positive sizes")
    if layers[0] != PIXELS or layers[-1] not in (CLASSES, CLASSES + 1):
        raise ModelFileError(
            f"{name}: layers {_short(layers)} do not map {PIXELS} pixels to {CLASSES} digits "
            f"(or {CLASSES} digits and 'not a digit')"
        )
    if 2 * (len(layers) - 1) + 1 > MAX_ENTRIES:
        raise ModelFileError(f"{name}: {len(layers)} layers, more than a model file may hold")
    return layers


def _check_input(meta: dict, name: str) -> tuple[float, float]:
    """The ``input`` metadata: made for this preprocessing; mean and std usable as float32."""
    inp = meta.get("input", {})
    if not isinstance(inp, dict):
        raise ModelFileError(f"{name}: 'input' in 'meta' must be an object, not {_kind(inp)}")
    version = _preprocessing_version(inp)
    if version != preprocess.VERSION or isinstance(version, bool):
        raise ModelFileError(
            f"{name}: made for preprocessing version {_short(version)}, but this code preprocesses "
            f"drawings with version {preprocess.VERSION}; retrain it with python -m training.train"
        )
    mean, std = inp.get("mean", 0.0), inp.get("std", 1.0)
    if not _normalisation_ok(mean, std):
        raise ModelFileError(f"{name}: input normalisation mean={_short(mean)} std={_short(std)} "
                             f"is invalid (finite float32 numbers, std > 0, expected)")
    return float(mean), float(std)


def _normalisation_ok(mean: Any, std: Any) -> bool:
    """Numbers that are finite as float32, std > 0, and that map every pixel value in [0, 1]
    to a finite network input, ``(x - mean) / std`` in float32 as ``network.normalize`` does."""
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (mean, std)):
        return False
    if not all(math.isfinite(v) if isinstance(v, float) else abs(v) < 2**128 for v in (mean, std)):
        return False
    with np.errstate(all="ignore"):
        m, s = np.float32(mean), np.float32(std)
        ends = (np.float32([0, 1]) - m) / s
    return bool(np.isfinite(m) and np.isfinite(s) and s > 0 and np.isfinite(ends).all())


def _preprocessing_version(inp: Any) -> Any:
    """The preprocessing version a model's ``input`` metadata records (1 if it predates versions)."""
    recorded = inp.get("preprocessing") if isinstance(inp, dict) else None
    if isinstance(recorded, dict):
        return recorded.get("version")
    return 1


# ------------------------------------------------------------------------ words

def _why(e: BaseException) -> str:
    """An exception as a short phrase for a message (its text, or its kind if it has none)."""
    return _cut(str(e) or type(e).__name__)


def _short(value: Any) -> str:
    """``repr(value)``, cut to a length a message can show."""
    return _cut(repr(value))


def _cut(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _kind(value: Any) -> str:
    return {list: "a list", str: "a string", int: "a number", float: "a number",
            bool: "true/false", type(None): "null"}.get(type(value), type(value).__name__)
