"""The page as a folder of static files, for any web server or CDN.

    python -m tools.site --out DIR

writes into DIR (new, or an empty folder) exactly what the page loads:

    index.html, sw.js                       (the service worker sits beside the page: its scope is the app)
    static/js/, static/css/, static/model/  (the code, the styles, the shipped model)
    static/data/                            (MNIST for the training view: python -m training.page_data)
    static/pkg/                             (the digitnet wheel, built fresh from py/ first, + .br/.gz)
    static/pyodide/runtime.mjs              (names the current runtime folder; revalidate it)
    static/pyodide/<tag>/                   (the current runtime, with its .br/.gz copies; immutable)

and nothing else: not static/pyodide/stock/ (the benchmarks' stock runtime), not another tag
folder, no dot-file or dot-folder (static/pyodide/.build.json, .lock, static/pkg/.source), no
stale pre-compressed copy (a .br/.gz older than its file, or without one). Real files (hard links
where possible, else copies), never symlinks. A non-empty DIR is refused (exit 2), so a deploy
never mixes an old site with a new one. Prints every file written and the total size.

docs/deploy.md says which headers the host should send; tests/test_deploy.py serves the folder
with nginx and runs the page in Chromium, online and then offline.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

from tools.harness import link_or_copy
from tools.paths import ROOT

PAGE_FILES = ("index.html", "sw.js")
STATIC_DIRS = ("js", "css", "model", "pkg", "data")  # static/<these>/, whole (less dot-files)
RUNTIME_MJS = "runtime.mjs"
COMPRESSED = (".br", ".gz")
TAG_LINE = re.compile(r'^export const TAG = "([^"/]+)";$', re.M)


class SiteError(Exception):
    """The site cannot be written (a clear message for the command line)."""


def runtime_tag(root: Path = ROOT) -> str:
    """The runtime folder static/pyodide/runtime.mjs points at (tools.assets writes both)."""
    mjs = root / "static" / "pyodide" / RUNTIME_MJS
    try:
        m = TAG_LINE.search(mjs.read_text())
    except OSError:
        raise SiteError(f"{mjs} is missing: run bash scripts/setup.sh (or python -m tools.assets)") from None
    if not m or not (mjs.parent / m.group(1)).is_dir():
        raise SiteError(f"{mjs} names no runtime folder that exists: run python -m tools.assets")
    return m.group(1)


def _wanted(file: Path) -> bool:
    """A file of the site: no dot-files, no stale or orphan .br/.gz copy."""
    if file.name.startswith(".") or not file.is_file():
        return False
    if file.suffix in COMPRESSED:
        original = file.with_suffix("")
        try:
            return original.is_file() and file.stat().st_mtime >= original.stat().st_mtime
        except OSError:
            return False
    return True


def _walk(folder: Path) -> list[Path]:
    """Every wanted file under ``folder`` (dot-folders skipped), sorted."""
    files = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        files += [Path(dirpath, f) for f in sorted(filenames) if _wanted(Path(dirpath, f))]
    return files


def site_files(root: Path = ROOT) -> list[Path]:
    """The files of the site, relative to ``root`` (the repository)."""
    tag = runtime_tag(root)
    files = [root / f for f in PAGE_FILES]
    for name in STATIC_DIRS:
        folder = root / "static" / name
        if not folder.is_dir():
            raise SiteError(f"{folder} is missing: run bash scripts/setup.sh")
        files += _walk(folder)
    files.append(root / "static" / "pyodide" / RUNTIME_MJS)
    files += _walk(root / "static" / "pyodide" / tag)
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise SiteError(f"missing: {', '.join(missing)}")
    return [f.relative_to(root) for f in files]


def write_site(out: Path, root: Path = ROOT, build: bool = True) -> list[tuple[Path, int]]:
    """Write the site into ``out`` (absent or empty); -> [(relative path, bytes)].

    ``build``: first make sure static/pkg/ holds the wheel of the current py/digitnet/.
    """
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise SiteError(f"{out} exists and is not an empty folder: give a new or empty --out")
    if build:
        from tools import package

        package.ensure()
    files = site_files(root)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for rel in files:
        dest = out / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        link_or_copy(str(root / rel), str(dest))
        written.append((rel, dest.stat().st_size))
    return written


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB"):
        if n < 1000 or unit == "MB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.site", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, type=Path, help="a new (or empty) folder for the site")
    ap.add_argument("--quiet", action="store_true", help="print only the total")
    args = ap.parse_args(argv)
    try:
        written = write_site(args.out)
    except SiteError as e:
        print(f"tools.site: {e}", file=sys.stderr)
        return 2
    if not args.quiet:
        for rel, size in written:
            print(f"{size:>12,}  {rel.as_posix()}")
    total = sum(size for _, size in written)
    print(f"tools.site: {len(written)} files, {_size(total)} in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
