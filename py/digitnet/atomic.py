"""Files that are written whole or not at all: a temporary file beside the target, flushed to
disk, then renamed over it. An interrupted write (Ctrl-C, a full disk) leaves the old file."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO


def write_atomically(path: str | Path, write: Callable[[IO[bytes]], None], mode: int = 0o644) -> None:
    """Call ``write(f)`` on a temporary binary file in ``path``'s folder, fsync it, then rename it
    to ``path``. On any error the temporary file is removed and ``path`` is left as it was."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_if_changed(path: str | Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` atomically (creating its folder) unless it already holds exactly
    that; -> whether it was written. For generated files that set-up rewrites on every run."""
    path = Path(path)
    if path.is_file() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, lambda f: f.write(data))
    return True
