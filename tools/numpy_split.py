"""NumPy's wheel in two: what ``import numpy`` loads, and the rest, installed once the page is ready.

Pyodide instantiates every extension module (``.so``) of a wheel as it installs it, one after
another, on the boot's critical path (``get_dynlibs`` in ``pyodide/_package_loader.py``), whether
Python ever imports it or not. ``import numpy`` loads three of NumPy's nineteen. So the page's
``numpy`` keeps only those; the extension modules of ``numpy.random``, ``numpy.fft``,
``lapack_lite`` and ``_simd`` go in a wheel of their own, the package ``LATER`` (the pad's worker
installs it once it is ready, before fine-tuning or the Inside view's noise use ``np.random``;
the training worker installs it as it boots), and NumPy's own test modules are left out. Their
Python files stay in ``numpy``: ``import numpy.random`` before ``LATER`` is installed fails with
an ImportError, never quietly.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from tools.precompile import record, write_zip, zip_entry
from tools.pyodide_stock import AssetError

LATER = "numpy-later"  # the second wheel's package name in pyodide-lock.json
#: Extension modules (path prefixes in the wheel) moved to LATER's wheel.
MOVED = ("numpy/random/", "numpy/fft/", "numpy/linalg/lapack_lite.", "numpy/_core/_simd.")
#: NumPy's test modules: in neither wheel.
DROPPED = (
    "numpy/_core/_operand_flag_tests.",
    "numpy/_core/_rational_tests.",
    "numpy/_core/_struct_ufunc_tests.",
    "numpy/_core/_umath_tests.",
)


def _is_record(name: str) -> bool:
    return name.endswith(".dist-info/RECORD")


def split(wheel: Path, compression: int) -> Path:
    """Rewrite NumPy's ``wheel`` without the MOVED and DROPPED extension modules (its RECORD
    rewritten to match) and write the MOVED ones to LATER's wheel beside it (entries stored with
    ``compression``, dates fixed: the same bytes every build); -> that wheel's path. AssetError
    naming the wheel when it has none of them (not the NumPy this split was made for)."""
    with zipfile.ZipFile(wheel) as z:
        entries = [(info, z.read(info)) for info in z.infolist()]
    _, version, *tags = wheel.name.split("-")  # numpy, version, python, abi, platform.whl
    so = [(i, d) for i, d in entries if i.filename.endswith(".so")]
    moved = [(i, d) for i, d in so if i.filename.startswith(MOVED)]
    if not moved or not any(i.filename.startswith(DROPPED) for i, _ in so):
        raise AssetError(f"{wheel.name}: no {MOVED} or {DROPPED} extension modules to split off")
    gone = {i.filename for i, _ in so if i.filename.startswith(MOVED + DROPPED)}
    kept = [(i, d) for i, d in entries if i.filename not in gone and not _is_record(i.filename)]
    record_name = next(i.filename for i, _ in entries if _is_record(i.filename))
    kept.append((zip_entry(record_name, compression=compression), record(kept, record_name)))
    write_zip(wheel, kept)

    name = LATER.replace("-", "_")
    info = f"{name}-{version}.dist-info"
    tag = "-".join(tags)[: -len(".whl")]
    meta = {
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {LATER}\nVersion: {version}\n"
        "Summary: NumPy's extension modules that import numpy does not load (tools.numpy_split)\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: tools.numpy_split\nRoot-Is-Purelib: false\n"
        f"Tag: {tag}\n",
    }
    later = [
        (zip_entry(i.filename, executable=bool((i.external_attr >> 16) & 0o111), compression=compression), d)
        for i, d in moved
    ]
    later += [(zip_entry(n, compression=compression), text.encode()) for n, text in meta.items()]
    later.append((zip_entry(f"{info}/RECORD", compression=compression), record(later, f"{info}/RECORD")))
    dest = wheel.with_name("-".join([name, version, *tags]))
    write_zip(dest, later)
    return dest


def lock_entry(numpy_entry: dict, wheel: Path, sha256: str) -> dict:
    """LATER's pyodide-lock.json entry: NumPy's version and platform, its file, depending on NumPy."""
    return {
        "name": LATER,
        "version": numpy_entry["version"],
        "file_name": wheel.name,
        "install_dir": "site",
        "sha256": sha256,
        "package_type": "package",
        "imports": [],
        "depends": ["numpy"],
        "unvendored_tests": False,
    }
