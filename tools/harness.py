"""The project's server in a subprocess, and how to start Debian's Chromium against it.

Shared by the end-to-end tests (``tests/conftest.py``) and ``bench.page_bench``.
Only loopback traffic: the server listens on 127.0.0.1 and Chromium resolves
every other host name to nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tools.paths import ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class Server:
    """``python -m tools.serve --port 0`` in a subprocess; ``url`` is what it printed."""

    def __init__(self, root: Path = ROOT):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tools.serve", "--port", "0", "--root", str(root)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = self.proc.stdout.readline()
        m = re.match(r"Serving on (http://127\.0\.0\.1:\d+/)$", line.strip())
        if not m:
            self.stop()
            raise RuntimeError(f"tools.serve did not start: {line!r} {self.proc.stderr.read()!r}")
        self.url = m.group(1)

    def stop(self) -> None:
        stop_process(self.proc)


def stop_process(proc: subprocess.Popen) -> None:
    """Terminate proc (SIGTERM, then SIGKILL after 10 s) and reap it."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def link_or_copy(src: str, dst: str) -> None:
    """A hard link of src at dst (fast, no space) or, across file systems, a copy."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def copy_web_root(dest: Path, without: tuple[str, ...] = ()) -> Path:
    """A copy of the page's files (index.html, sw.js and static/, less the ``without`` folders) at ``dest``,
    as a static host would get them: real files, not symlinks (the server refuses symlinks that
    lead outside its web root)."""
    skip = {ROOT / w for w in without}
    (dest / "static").mkdir(parents=True)
    for page_file in ("index.html", "sw.js"):
        link_or_copy(str(ROOT / page_file), str(dest / page_file))
    for item in (ROOT / "static").iterdir():
        if item in skip:
            continue
        if item.is_dir():
            shutil.copytree(item, dest / "static" / item.name, copy_function=link_or_copy)
        else:
            link_or_copy(str(item), str(dest / "static" / item.name))
    return dest
