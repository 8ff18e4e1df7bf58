"""Precompile the Python in zips and wheels for Pyodide, with the pinned Pyodide's own CPython.

A Pyodide page that imports ``.py`` files compiles each one at every boot; a ``.pyc`` is
loaded as is. This rewrites an archive so that every ``X.py`` becomes a sourceless ``X.pyc`` at
the same place (what ``pyodide py-compile`` from pyodide-build does): ``zipimport`` (the standard
library, ``/lib/python312.zip``) and ``FileFinder`` (``site-packages``, where Pyodide unpacks a
wheel) both load a ``.pyc`` that has no ``.py`` beside it without any freshness check.

The ``.pyc`` are written by Pyodide's Python itself (``tools/precompile.mjs`` under Node, from
the stock runtime: same version, same magic number), with an unchecked-hash header (no mtime)
and ``co_filename`` set to where the module lives at run time (``/lib/python312.zip/os.py``,
``/lib/python3.12/site-packages/numpy/...``), so tracebacks name the right file.

The archives are written by Python here, deterministically: entries sorted (a wheel's
``.dist-info`` last, ``RECORD`` at the very end), fixed timestamps (1980-01-01), normalised
permissions, one compression setting. Same inputs, same bytes.

    python -m tools.precompile WHEEL... --dest DIR     # any pure-Python (or Pyodide) wheel

``precompile_wheel(src, dest)`` does the same from Python (e.g. for the project's own wheel).
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from digitnet.atomic import write_atomically
from tools.paths import ROOT

SCRIPT = Path(__file__).resolve().with_suffix(".mjs")
#: The stock runtime whose Python compiles (the npm package; tools.assets passes its verified copy).
PYODIDE_DIR = ROOT / "node_modules" / "pyodide"
PYTHON_VERSION = "3.12"  # Pyodide 0.27's CPython; checked against what the runtime reports

ZIP_DATE = (1980, 1, 1, 0, 0, 0)
#: How entries are stored in a rewritten archive by default: deflated, the usual for a wheel
#: served as is. tools.assets stores them instead (ZIP_STORED): its .br copies are then smaller.
DEFAULT_COMPRESSION = zipfile.ZIP_DEFLATED
DEFLATE_LEVEL = 9


class PrecompileError(Exception):
    """Something went wrong; the message is one line naming the file."""


@dataclass(frozen=True)
class Archive:
    """One zip to rewrite: ``src`` -> ``dest``; ``prefix`` is where its members live at run time."""

    src: Path
    dest: Path
    prefix: str
    wheel: bool = False


def site_packages(python: str = PYTHON_VERSION) -> str:
    return f"/lib/python{python}/site-packages/"


def stdlib_zip_path(python: str = PYTHON_VERSION) -> str:
    return f"/lib/python{python.replace('.', '')}.zip/"


# ----------------------------------------------------------------------------- Node


def node() -> str:
    exe = shutil.which("node")
    if not exe:
        raise PrecompileError("node: not found on PATH (Node.js runs Pyodide to precompile)")
    return exe


def run_node(*args: str, what: str) -> dict:
    """``node tools/precompile.mjs ARGS`` -> its JSON line; PrecompileError with its one-line reason."""
    proc = subprocess.run([node(), str(SCRIPT), *args], capture_output=True, text=True)
    if proc.returncode != 0:
        lines = [ln.strip() for ln in proc.stderr.splitlines() if ln.strip()]
        why = lines[-1] if lines else f"exit status {proc.returncode}"
        raise PrecompileError(f"{what}: {why.removeprefix('precompile: error: ')}")
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        raise PrecompileError(
            f"{what}: tools/precompile.mjs printed no result: {proc.stdout[-200:]!r}"
        ) from None


# ----------------------------------------------------------------------------- zips


def _mode(info: zipfile.ZipInfo) -> int:
    return 0o755 if (info.external_attr >> 16) & 0o111 else 0o644


def zip_entry(
    name: str, *, directory: bool = False, executable: bool = False, compression: int = DEFAULT_COMPRESSION
) -> zipfile.ZipInfo:
    """A ZipInfo with nothing in it that depends on when or where it was made."""
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.create_system = 3  # Unix, so that the permission bits mean what they say
    if directory:
        info.external_attr = (0o40755 << 16) | 0x10
        info.compress_type = zipfile.ZIP_STORED
    else:
        info.external_attr = (0o100755 if executable else 0o100644) << 16
        info.compress_type = compression
    return info


def write_zip(dest: Path, entries: Sequence[tuple[zipfile.ZipInfo, bytes]]) -> None:
    """Write ``entries`` in the given order to ``dest`` (atomically)."""

    def write(f) -> None:
        with zipfile.ZipFile(f, "w") as z:
            for info, data in entries:
                level = DEFLATE_LEVEL if info.compress_type == zipfile.ZIP_DEFLATED else None
                z.writestr(info, data, compresslevel=level)

    dest.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(dest, write)


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


WHEEL_NAME = re.compile(
    r"^(?P<stem>[^-]+-[^-]+)(?:-\d[^-]*)?-(?P<py>[^-]+)-(?P<abi>[^-]+)-(?P<plat>[^-]+)\.whl$"
)


def compiled_wheel_name(name: str, python: str = PYTHON_VERSION) -> str:
    """The wheel's name once its .py are .pyc: the Python tag becomes this CPython's, as pyodide-build does.

    ``micropip-0.9.0-py3-none-any.whl`` -> ``micropip-0.9.0-cp312-none-any.whl``;
    ``numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl`` is unchanged.
    """
    m = WHEEL_NAME.match(name)
    if not m:
        raise PrecompileError(f"{name}: not a wheel file name (name-version-python-abi-platform.whl)")
    cp = "cp" + python.replace(".", "")
    tags = m.group("py").split(".")
    if not any(t in (cp, "py3", f"py{python.replace('.', '')}") for t in tags):
        raise PrecompileError(f"{name}: Python tag {m.group('py')} is not for CPython {python}")
    return name[: m.start("py")] + cp + name[m.end("py") :]


def _dist_info(names: Iterable[str]) -> str | None:
    found = sorted({n.split("/", 1)[0] for n in names if re.match(r"^[^/]+\.dist-info/WHEEL$", n)})
    return found[0] if found else None


def _wheel_runtime_path(name: str, dist_data: str | None) -> str | None:
    """Where a wheel member lands under site-packages (None: outside it, e.g. scripts)."""
    if dist_data and name.startswith(dist_data + "/"):
        rest = name[len(dist_data) + 1 :]
        kind, _, inner = rest.partition("/")
        return inner if kind in ("purelib", "platlib") else None
    return name


def _entries_in_order(names: Iterable[str], dist_info: str | None) -> list[str]:
    def key(n: str):
        in_info = bool(dist_info) and n.startswith(dist_info + "/")
        return (in_info, n == f"{dist_info}/RECORD", n)

    return sorted(names, key=key)


def precompile_archives(
    archives: Sequence[Archive], pyodide_dir: Path = PYODIDE_DIR, compression: int = DEFAULT_COMPRESSION
) -> dict:
    """Rewrite each archive with every .py compiled to a sourceless .pyc, in one Pyodide run.

    -> {"python", "magic", "compiled"} as the runtime reported them. PrecompileError on any
    problem (an unreadable archive, a file that does not compile, Node or Pyodide failing).
    """
    with tempfile.TemporaryDirectory(prefix="precompile-") as tmp:
        work = Path(tmp)
        jobs: list[list[str]] = []
        plans = []
        for i, arc in enumerate(archives):
            try:
                z = zipfile.ZipFile(arc.src)
            except (OSError, zipfile.BadZipFile) as e:
                raise PrecompileError(f"{arc.src.name}: not a readable zip: {e}") from None
            with z:
                infos = z.infolist()
                names = {info.filename for info in infos}
                dist_info = _dist_info(names) if arc.wheel else None
                if arc.wheel and not dist_info:
                    raise PrecompileError(f"{arc.src.name}: not a wheel (no *.dist-info/WHEEL)")
                dist_data = dist_info[: -len(".dist-info")] + ".data" if dist_info else None
                members = {}
                for info in infos:
                    name = info.filename
                    if name.endswith(".pyc") and name[:-1] in names:
                        continue  # recompiled from its source below
                    if name.startswith("/") or ".." in PurePosixPath(name).parts:
                        raise PrecompileError(f"{arc.src.name}: unsafe member name {name!r}")
                    data = b"" if info.is_dir() else z.read(info)
                    runtime = _wheel_runtime_path(name, dist_data) if arc.wheel else name
                    if name.endswith(".py") and runtime is not None:
                        src = f"in/{i}/{name}"
                        (work / src).parent.mkdir(parents=True, exist_ok=True)
                        (work / src).write_bytes(data)
                        jobs.append([src, f"out/{i}/{name}c", arc.prefix + runtime])
                        members[name + "c"] = (info, None)
                    else:
                        members[name] = (info, data)
            plans.append((arc, dist_info, members))

        (work / "jobs.json").write_text(json.dumps(jobs), encoding="utf-8")
        what = ", ".join(a.src.name for a in archives)
        result = run_node("compile", str(Path(pyodide_dir).resolve()), str(work), what=f"compiling {what}")
        if result.get("python", "").rsplit(".", 1)[0] != PYTHON_VERSION:
            raise PrecompileError(
                f"{pyodide_dir}: Pyodide runs Python {result.get('python')}, {PYTHON_VERSION} expected"
            )

        for i, (arc, dist_info, members) in enumerate(plans):
            entries = []
            for name in _entries_in_order(members, dist_info):
                info, data = members[name]
                if data is None:
                    data = (work / "out" / str(i) / name).read_bytes()
                if dist_info and name == f"{dist_info}/RECORD":
                    continue  # written last, from what is actually in the archive
                if (
                    dist_info
                    and name == f"{dist_info}/WHEEL"
                    and arc.dest.name != arc.src.name
                    and WHEEL_NAME.match(arc.dest.name)
                ):
                    data = _retag(data, arc.dest.name)
                entries.append(
                    (
                        zip_entry(
                            name,
                            directory=info.is_dir(),
                            executable=_mode(info) == 0o755,
                            compression=compression,
                        ),
                        data,
                    )
                )
            if dist_info:
                entries.append(
                    (
                        zip_entry(f"{dist_info}/RECORD", compression=compression),
                        record(entries, f"{dist_info}/RECORD"),
                    )
                )
            write_zip(arc.dest, entries)
        return result


def record(entries: Sequence[tuple[zipfile.ZipInfo, bytes]], record_name: str) -> bytes:
    """A wheel's RECORD for ``entries`` (each file's path, sha256 and size), RECORD itself last."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    for info, data in entries:
        if not info.is_dir():
            w.writerow([info.filename, _record_hash(data), len(data)])
    w.writerow([record_name, "", ""])
    return out.getvalue().encode()


def _retag(wheel_meta: bytes, new_name: str) -> bytes:
    """WHEEL's ``Tag:`` lines -> the one tag of the new file name."""
    m = WHEEL_NAME.match(new_name)
    tag = f"{m.group('py')}-{m.group('abi')}-{m.group('plat')}"
    lines = wheel_meta.decode("utf-8").splitlines(keepends=True)
    out, tagged = [], False
    for line in lines:
        if line.startswith("Tag:"):
            if not tagged:
                out.append(f"Tag: {tag}\n")
                tagged = True
            continue
        out.append(line)
    return "".join(out).encode("utf-8")


def precompile_wheel(
    src: Path, dest: Path, pyodide_dir: Path = PYODIDE_DIR, compression: int = DEFAULT_COMPRESSION
) -> Path:
    """Precompile one wheel (pure Python, or built for Pyodide) for Pyodide's site-packages.

    ``dest`` is a directory (the file is named as ``compiled_wheel_name`` says) or a ``.whl``
    path. Every .py becomes a sourceless .pyc, RECORD lists the new files with their sha256, and
    WHEEL's tag follows the name. -> the written wheel's path.
    """
    src, dest = Path(src), Path(dest)
    if dest.suffix != ".whl":
        dest = dest / compiled_wheel_name(src.name)
    if dest.resolve() == src.resolve():
        raise PrecompileError(f"{src.name}: would overwrite its own input; choose another dest")
    precompile_archives([Archive(src, dest, site_packages(), wheel=True)], pyodide_dir, compression)
    return dest


# ----------------------------------------------------------------------------- compression


def compress_files(files: Iterable[Path], kinds: Sequence[str] = ("br",)) -> list[Path]:
    """Write ``<file>.br`` (brotli, max quality) and/or ``<file>.gz`` (gzip -9) beside each file.

    With Node's zlib. -> the paths written. Deterministic: the same bytes give the same compressed bytes.
    """
    return compress_jobs([(Path(f), kind) for f in files for kind in kinds])


def compress_jobs(jobs: Iterable[tuple[Path, str]]) -> list[Path]:
    """``compress_files`` for any mix of (file, "br" | "gz"): one Node process, the biggest files first."""
    jobs = sorted(((Path(f), k) for f, k in jobs), key=lambda j: (-j[0].stat().st_size, str(j[0]), j[1]))
    if not jobs:
        return []
    outs = [f.with_name(f"{f.name}.{kind}") for f, kind in jobs]
    with tempfile.TemporaryDirectory(prefix="compress-") as tmp:
        spec = [[str(f.resolve()), str(out.resolve()), kind] for (f, kind), out in zip(jobs, outs)]
        (Path(tmp) / "jobs.json").write_text(json.dumps(spec), encoding="utf-8")
        run_node("compress", tmp, what="compressing " + ", ".join(sorted({f.name for f, _ in jobs})))
    return outs


# ----------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.precompile",
        description="Precompile wheels to sourceless .pyc for Pyodide "
        "(with the pinned Pyodide's Python, under Node).",
    )
    parser.add_argument("wheels", nargs="+", type=Path, help="input .whl files")
    parser.add_argument("--dest", type=Path, required=True, help="output directory")
    parser.add_argument(
        "--pyodide",
        type=Path,
        default=PYODIDE_DIR,
        help="stock Pyodide runtime directory (default: node_modules/pyodide)",
    )
    args = parser.parse_args(argv)
    try:
        for wheel in args.wheels:
            out = precompile_wheel(wheel, args.dest, args.pyodide)
            print(f"precompile: {wheel.name} -> {out}", flush=True)
    except PrecompileError as e:
        print(f"precompile: error: {e}", file=sys.stderr, flush=True)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
