"""Build the wheel of ``digitnet`` (py/digitnet/) that the page's worker installs.

    python -m tools.package            # -> static/pkg/digitnet-<version>-cp312-none-any.whl (+ .br, .gz)

The worker loads it with ``pyodide.loadPackage(url)``, Pyodide's way to
install a wheel of your own code, and then imports ``digitnet.browser``: the
page runs the very files CPython imports. The wheel's URL reaches the worker
through ``static/pkg/digitnet.mjs``, a generated module the worker imports, so the
version is written in ``py/digitnet/__init__.py`` only; beside it the sha256 of
``static/model/replay.npz`` (the fine-tuning's replay sample, checked by the worker) and
``digitnet.modelfile.MAX_BYTES`` (a model download larger than that is refused from its
``Content-Length``, before it is read). ``static/pkg/pen.mjs`` holds the pen's range
(``digitnet.sizes``) for the page's slider: the main thread imports it, since the pad draws before
Python starts.

Reproducible: sorted entries, fixed timestamps, so the same sources give the
same bytes. Precompiled like the runtime (``tools.precompile``): the page imports
``.pyc`` files, never compiling our source at each visit. Idempotent: nothing is written when the
wheel is already right.
``scripts/setup.sh`` runs it; the end-to-end tests run it too (``ensure``), so
the page never serves a stale copy of py/.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import re
import sys
import tempfile
import zipfile
from pathlib import Path

from digitnet import modelfile, sizes
from digitnet.atomic import write_if_changed
from tools.paths import ROOT, STATIC

SOURCE = ROOT / "py" / "digitnet"
DEST = STATIC / "pkg"
NAME = "digitnet"
#: The page's pen range (digitnet.sizes), for its slider: the page reads it before Python starts.
PEN = {"min": sizes.PEN_MIN, "max": sizes.PEN_MAX, "step": sizes.PEN_STEP, "default": sizes.PEN_DEFAULT}
REPLAY = STATIC / "model" / "replay.npz"  # the fine-tuning replay sample (training.replay)
EPOCH = (1980, 1, 1, 0, 0, 0)  # zip timestamps: fixed, for the same bytes every time


def version(source: Path = SOURCE) -> str:
    """``__version__`` as written in the package's ``__init__.py``."""
    m = re.search(r'^__version__ = "([^"]+)"$', (source / "__init__.py").read_text(), re.M)
    if not m:
        raise SystemExit(f'package: error: {source / "__init__.py"} has no __version__ = "..." line')
    return m.group(1)


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def wheel_bytes(source: Path = SOURCE) -> tuple[str, bytes]:
    """(file name, bytes) of the wheel: every ``*.py`` of the package plus its dist-info."""
    ver = version(source)
    info = f"{NAME}-{ver}.dist-info"
    files = {f"{NAME}/{p.name}": p.read_bytes() for p in sorted(source.glob("*.py"))}
    files[f"{info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {ver}\n"
        "Summary: The draw-a-digit network's maths (NumPy only)\n"
        "Requires-Dist: numpy\n"
    ).encode()
    files[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: tools.package\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    files[f"{info}/top_level.txt"] = f"{NAME}\n".encode()
    record = "".join(f"{n},{_record_hash(d)},{len(d)}\n" for n, d in files.items()) + f"{info}/RECORD,,\n"
    files[f"{info}/RECORD"] = record.encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            entry = zipfile.ZipInfo(name, EPOCH)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            zf.writestr(entry, data, compresslevel=9)
    return f"{NAME}-{ver}-py3-none-any.whl", buf.getvalue()


def ensure(source: Path = SOURCE, dest: Path = DEST, compile: bool = True) -> tuple[Path, bool]:
    """The wheel and ``digitnet.mjs`` in ``dest``, rebuilt if the sources changed; -> (wheel, changed).

    With ``compile`` (what the page gets) every .py is replaced by a sourceless .pyc compiled by
    the pinned Pyodide's own Python (``tools.precompile``: no compiling at each visit), the wheel
    is named ``...-cp312-none-any.whl`` and gets ``.br``/``.gz`` copies beside it for the server.
    Pyodide runs only when the sources changed: ``.source`` records the source wheel's sha256.
    """
    name, data = wheel_bytes(source)
    stamp = dest / ".source"
    digest = f"{hashlib.sha256(data).hexdigest()} compile={compile}\n"
    if compile:
        from tools import precompile

        wheel = dest / precompile.compiled_wheel_name(name)
        changed = not (wheel.is_file() and stamp.is_file() and stamp.read_text() == digest)
        if changed:
            dest.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(prefix="digitnet-wheel-") as tmp:
                (Path(tmp) / name).write_bytes(data)
                precompile.precompile_wheel(Path(tmp) / name, wheel, compression=zipfile.ZIP_STORED)
            precompile.compress_files([wheel], ("br", "gz"))
    else:
        wheel = dest / name
        changed = write_if_changed(wheel, data)
    write_if_changed(stamp, digest.encode())
    # Bytes of its .br/.gz copies by Content-Encoding: what crosses the network.
    copies = {"br": wheel.with_name(wheel.name + ".br"), "gzip": wheel.with_name(wheel.name + ".gz")}
    wire = {enc: p.stat().st_size for enc, p in copies.items() if compile and p.is_file()}
    replay = hashlib.sha256(REPLAY.read_bytes()).hexdigest()
    module = (
        f"// Generated by tools/package.py: the wheel of py/digitnet/ that the worker installs,\n"
        f"// the sha256 of the replay sample it checks, and the largest model file it loads.\n"
        f"export const WHEEL_URL = new URL({wheel.name!r}, import.meta.url).href;\n"
        f"export const WHEEL_SIZE = {wheel.stat().st_size};\n"
        f"export const WHEEL_WIRE = {json.dumps(wire)};\n"
        f"export const REPLAY_SHA256 = {replay!r};\n"
        f"export const MODEL_MAX_BYTES = {modelfile.MAX_BYTES};\n"
    ).replace("'", '"')
    changed |= write_if_changed(dest / "digitnet.mjs", module.encode())
    # The main thread's own module: only what the page needs before Python starts (a module both
    # threads imported would be fetched twice, the second time revalidated).
    pen = (
        "// Generated by tools/package.py: the range of the pen (digitnet.sizes) for the page's slider.\n"
        f"export const PEN = {json.dumps(PEN)};\n"
    )
    changed |= write_if_changed(dest / "pen.mjs", pen.encode())
    for old in dest.glob(f"{NAME}-*.whl*"):
        if old.name.split(".whl")[0] + ".whl" != wheel.name:
            old.unlink()
            changed = True
    return wheel, changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.package", description=__doc__.split("\n\n")[0])
    parser.parse_args(argv)
    wheel, changed = ensure()
    where = wheel.relative_to(ROOT) if wheel.is_relative_to(ROOT) else wheel
    print(f"package: {where} {'built' if changed else 'is up to date'}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
