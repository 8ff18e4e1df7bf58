"""Generated arrays kept on disk, so that training does not make the same ones twice.

``cached(name, params, make, sources)`` returns what ``make()`` returns (a dict of arrays), or
what an earlier call stored under the same key. The key is the SHA-256 of the name, the params
(JSON) and a fingerprint of everything else the arrays depend on: NumPy's version and the bytes
of ``sources``, the files that make them (code, fonts). Change one of those and the key changes,
so a stale file is never read; it just stays in ``CACHE_DIR`` until someone deletes it.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from digitnet.atomic import write_atomically
from tools.paths import ROOT

CACHE_DIR = ROOT / ".cache" / "generated"

Arrays = dict[str, np.ndarray]


def digest(array: np.ndarray) -> str:
    """SHA-256 of an array's shape, dtype and bytes: an array as a param of ``cached``."""
    a = np.ascontiguousarray(array)
    h = hashlib.sha256(f"{a.shape}{a.dtype.str}".encode())
    h.update(a.tobytes())
    return h.hexdigest()


def module_files(*modules) -> tuple[Path, ...]:
    """The source files of ``modules``: the code that makes an array, as ``sources``."""
    return tuple(Path(module.__file__) for module in modules)


@functools.cache
def fingerprint(sources: tuple[Path, ...]) -> str:
    """SHA-256 of NumPy's version and each source file's name and bytes (a missing file counts
    as missing: the fonts may not be installed). Read once per process."""
    h = hashlib.sha256(np.__version__.encode())
    for path in sources:
        h.update(path.name.encode() + (path.read_bytes() if path.is_file() else b"missing"))
    return h.hexdigest()


def cache_path(name: str, params: dict, sources: Sequence[Path] = ()) -> Path:
    """``CACHE_DIR/<sha256 of name, params and the fingerprint of sources>.npz``."""
    key = {"name": name, "params": params, "code": fingerprint(tuple(sources))}
    text = json.dumps(key, sort_keys=True)
    return CACHE_DIR / f"{hashlib.sha256(text.encode()).hexdigest()}.npz"


def cached(name: str, params: dict, make: Callable[[], Arrays], sources: Sequence[Path] = ()) -> Arrays:
    """``make()``, or what an earlier call with the same name, params and sources stored in
    ``cache_path``. A missing, unreadable or damaged file is a miss: the arrays are made again
    and written atomically (a cache that cannot be written is skipped). The file holds its own
    key, so a file renamed into place by mistake is a miss too."""
    path = cache_path(name, params, sources)
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        if str(arrays.pop("__key__", "")) == path.stem:
            return arrays
    except Exception:  # missing, truncated, not a zip, bad CRC, pickled...: rebuild
        pass
    arrays = make()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, lambda f: np.savez(f, __key__=np.array(path.stem), **arrays))
    except OSError:
        pass
    return arrays
