"""Reading one array of an untrusted ``.npz``, safely, for the model file (``digitnet.modelfile``).

``np.load`` allocates what an ``.npy`` header declares before it finds how little data follows, and
Python's parser, which NumPy reads the header with, overflows the page worker's small stack on deep
text. So an entry is read at its declared size, its header by NumPy's own reader with at most
``MAX_HEADER`` characters, and only an array that is what the model needs and holds that many bytes
is handed to ``np.load``. Whatever zipfile, zlib, NumPy or json raise becomes ``ModelFileError``,
"<name>: <what>: <why>", in plain words where the library's are not.
"""

from __future__ import annotations

import io
import math
import re
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

import numpy as np
from numpy.lib.format import read_array_header_1_0, read_array_header_2_0, read_magic

MAX_HEADER = 512  # an .npy header's text: short, so Python's parser never nests deep

# Library errors in plain words, found by a part of "module.Error: text".
_PLAIN = (
    ("FileNotFoundError", "no such file"),
    ("zlib.error", "its compressed data is corrupt"),
    ("Bad CRC-32", "its data does not match its checksum"),
    ("patched data", "it is stored as a patch"),
    ("strong encryption", "it is encrypted"),
    ("file header", "no entry header is where it should be"),
    ("negative seek", "it lies outside the file"),
    ("C ssize_t", "it lies outside the file"),
    ("builtins.EOFError", "its data ends before the size its directory declares"),
)


class ModelFileError(ValueError):
    """A model file that cannot be used; the message says why."""


@contextmanager
def refusing(name: str, what: str) -> Iterator[None]:
    """Any exception but ours raised while doing ``what`` -> ModelFileError "<name>: <what>: <why>"."""
    try:
        yield
    except ModelFileError:
        raise
    except Exception as e:
        why = short(re.split(r"\.\s", str(e))[0] or type(e).__name__, str)  # its first sentence
        plain = [words for part, words in _PLAIN if part in f"{type(e).__module__}.{type(e).__name__}: {e}"]
        raise ModelFileError(f"{name}: {what}: " + (f"{plain[0]} ({why})" if plain else why)) from None


def read_array(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, key: str, name: str, kind: str, shape: tuple[int, ...]
) -> np.ndarray:
    """An entry as ``np.load`` reads it, once its header (read by NumPy) shows no Python objects,
    dtype kind ``kind`` ("f" or "U"), ``shape`` and that many bytes: NumPy allocates no more."""
    where = f"entry {short(info.filename)}"
    with refusing(name, f"{where} cannot be read"), archive.open(info.filename) as f:
        raw = f.read(info.file_size + 1)
    if len(raw) != info.file_size:
        raise ModelFileError(f"{name}: {where} holds {len(raw)} bytes, its directory says {info.file_size}")
    npy = io.BytesIO(raw)
    found, dtype = read_header(npy, name, f"{key} has a damaged array header")
    need, held = math.prod(found) * dtype.itemsize, len(raw) - npy.tell()
    if dtype.hasobject:
        raise ModelFileError(f"{name}: {key} holds Python objects (pickled data), never loaded here")
    if need != held:
        raise ModelFileError(
            f"{name}: {key} declares shape {short(found)} of {short(dtype, str)} "
            f"but holds {held} bytes of data"
        )
    if dtype.kind != kind or kind == "f" and dtype.itemsize > 8:
        expected = "floats expected (16, 32 or 64 bits)" if kind == "f" else "text expected"
        raise ModelFileError(f"{name}: {key} has dtype {short(dtype, str)}, {expected}")
    if found != shape:
        raise ModelFileError(f"{name}: {key} has shape {short(found)}, expected {shape}")
    with refusing(name, f"{key} cannot be read"):
        return np.load(io.BytesIO(raw), allow_pickle=False)


def read_header(npy: IO[bytes], name: str, what: str) -> tuple[tuple[int, ...], np.dtype]:
    """An .npy file's header (shape, dtype), read by NumPy's own reader, at most MAX_HEADER long;
    anything wrong with it: ModelFileError "<name>: <what>: <why>"."""
    with refusing(name, what), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NumPy 2 deprecates dtype aliases such as 'a'
        read = read_array_header_1_0 if read_magic(npy) == (1, 0) else read_array_header_2_0
        shape, _, dtype = read(npy, MAX_HEADER)  # (3.0 is 2.0 in UTF-8; np.load refuses later ones)
    return shape, dtype


def short(value: Any, show: Any = repr, limit: int = 80) -> str:
    """``repr(value)`` (or ``show(value)``) on one line, cut to a length a message can show."""
    text = " ".join(show(value).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
