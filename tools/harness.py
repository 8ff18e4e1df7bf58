"""The project's server in a subprocess, and how to start Debian's Chromium against it.

Shared by the end-to-end tests (``tests/conftest.py``) and ``bench.page_bench``.
Only loopback traffic: the server listens on 127.0.0.1 and Chromium resolves
every other host name to nothing.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
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
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        line = self.proc.stdout.readline()
        m = re.match(r"Serving on (http://127\.0\.0\.1:\d+/)$", line.strip())
        if not m:
            self.stop()
            raise RuntimeError(f"tools.serve did not start: {line!r} {self.proc.stderr.read()!r}")
        self.url = m.group(1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
