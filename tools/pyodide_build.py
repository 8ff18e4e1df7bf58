"""The page's runtime: ``static/pyodide/<tag>/``, built from the verified stock files.

``tag`` is ``0.27.7-<10 hex>``. In the folder: ``python_stdlib.zip`` and the three wheels with
every ``.py`` precompiled to a sourceless ``.pyc`` by Pyodide's own Python (``tools.precompile``:
no compiling at each boot), their entries *stored* (not deflated: the ``.br`` beside them is then
much smaller, and nothing is inflated at boot), NumPy's split in two (``tools.numpy_split``: the
boot installs only the extension modules ``import numpy`` loads, the page the rest once ready); a
``pyodide-lock.json`` with only these packages and the new files' names and sha256 (Pyodide checks
them); the runtime's JS/wasm as they are; and ``<file>.br`` (brotli, max quality) and
``<file>.gz`` (gzip -9) next to every file the page downloads, for a server to send with
``Content-Encoding``. The tag is a hash of the folder's content (the ``.br``/``.gz`` aside), so the
folder can be cached as immutable.
``static/pyodide/runtime.mjs`` points at it::

    import { loadPyodide, INDEX_URL } from "../pyodide/runtime.mjs";
    const pyodide = await loadPyodide({ indexURL: INDEX_URL });

Other tag folders and the leftovers of an interrupted build are removed. ``.build.json`` records
what the folder was built from (the stock inputs and this code, hashed), so that a build with the
same inputs keeps the folder instead of redoing a minute of compiling.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path

from digitnet.atomic import write_if_changed
from tools import numpy_split, precompile
from tools.precompile import Archive, PrecompileError
from tools.pyodide_stock import (
    CACHE,
    DEST,
    PACKAGES,
    PYODIDE_VERSION,
    STOCK,
    AssetError,
    package_entries,
    read_lock,
    verify_packages,
)
from tools.wheels import sha256_file

RUNTIME_MJS = "runtime.mjs"  # DEST/runtime.mjs: points at the current tag folder
BUILD_JSON = ".build.json"  # DEST/.build.json: what the tag folder was built from (not served)
TAG_RE = re.compile(r"^\d+\.\d+\.\d+(?:[a-z]+\d*)?-[0-9a-f]{10}$")

#: Runtime files that go unchanged into the tag folder.
COPIED = ("pyodide.mjs", "pyodide.mjs.map", "pyodide.asm.js", "pyodide.asm.wasm")
#: Files of the tag folder that get .br/.gz copies (plus every package's wheel).
COMPRESSED = ("pyodide.mjs", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json")
COMPRESS_KINDS = ("br", "gz")
#: Zip entries of the rewritten archives: stored (see the module docstring).
ZIP_COMPRESSION = zipfile.ZIP_STORED
#: Changes whenever what a build produces changes in a way the inputs and code hashes would not show.
RECIPE_VERSION = 1


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
    code = [Path(__file__), Path(precompile.__file__), Path(numpy_split.__file__), precompile.SCRIPT]
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
    tag: str,
    lock: dict,
    preload: Iterable[str],
    sizes: dict[str, int] | None = None,
    wire: dict[str, dict[str, int]] | None = None,
) -> bytes:
    """The text of static/pyodide/runtime.mjs for ``tag`` (``sizes``: bytes of each file there;
    ``wire``: bytes of each precompressed copy by Content-Encoding, ``{"br": {file: n}, "gzip": ...}``)."""
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
        "/** Packages the boot leaves out, to load once ready (tools.numpy_split): NumPy's extension "
        "modules that import numpy does not load (np.random among them). */",
        f"export const LATER = {json.dumps([numpy_split.LATER])};",
        "/** Bytes of each file (decoded: what a progress bar counts when the server sends a .br copy). */",
        f"export const SIZES = {json.dumps(dict(sorted((sizes or {}).items())))};",
        "/** Bytes on the wire of each file's precompressed copy, by Content-Encoding: what crosses the "
        "network. */",
        f"export const WIRE = {json.dumps(wire or {}, sort_keys=True)};",
        "",
    ]
    return "\n".join(lines).encode("utf-8")


#: Content-Encoding of each kind of precompressed copy.
ENCODINGS = {"br": "br", "gz": "gzip"}


def wire_sizes(folder: Path) -> dict[str, dict[str, int]]:
    """Bytes of the ``.br``/``.gz`` copies in ``folder`` by Content-Encoding.

    ``{"br": {file: n}, "gzip": {file: n}}``: what a server sending them puts on the wire.
    """
    wire: dict[str, dict[str, int]] = {}
    for f in sorted(folder.iterdir()):
        kind = f.suffix[1:]
        if f.is_file() and kind in ENCODINGS:
            wire.setdefault(ENCODINGS[kind], {})[f.name[: -len(f.suffix)]] = f.stat().st_size
    return wire


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
    (re)written when they differ; other tag folders and leftovers of an interrupted build go.
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
    write_if_changed(dest / RUNTIME_MJS, runtime_module(tag, page, preload, sizes, wire_sizes(dest / tag)))
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
        later = numpy_split.split(wheels["numpy"], ZIP_COMPRESSION)
        page = page_lock(lock, wheels)
        page["packages"][numpy_split.LATER] = numpy_split.lock_entry(
            page["packages"]["numpy"], later, sha256_file(later)
        )
        wheels[numpy_split.LATER] = later
        (work / "pyodide-lock.json").write_bytes(_json_bytes(page))
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
