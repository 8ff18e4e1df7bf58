"""Loading MNIST: CSV (with an ``.npz`` cache in the repository's ``.cache/``) or IDX files.

Formats
-------
CSV
    The drawings CSV of ``digitnet.csvfile`` (the page's import reads it with the same code):
    a header line, then ``label,p1,...,p784`` per image. This is what ``python -m
    training.fetch`` puts in ``data/mnist``, and what the page exports (label 10, ``NOT_DIGIT``,
    for a drawing that is not a digit: read only when asked, ``not_digit=True``).
IDX
    LeCun's binary format: ``*-images-idx3-ubyte`` (magic 2051, dims N, 28,
    28) and ``*-labels-idx1-ubyte`` (magic 2049, dim N), big-endian, plain or
    ``.gz``.

Every loader returns a ``Dataset``: images (N, 28, 28) uint8 0-255 and labels
(N,) uint8 0-9 (or 10, with ``not_digit``). Anything wrong with the input raises
``DataError`` whose one-line message names the file and the line (CSV; 1-based, header = line 1)
or record (IDX; 0-based) -- never a traceback, never a silently dropped row.
A file with no records (a CSV with only its header, an IDX file whose count is
0) is refused too: there is nothing to train or test on.

``load_dataset`` caches the arrays in ``CACHE_DIR`` (``<repo>/.cache/datasets/``, git-ignored)
as ``<sha256 of the CSV's bytes>.npz``: the same bytes, wherever they are and
however often touched, load from the cache; any change to them is another key.
Nothing is ever written beside the user's files (a ``X.npz`` next to ``X.csv``
is theirs, perhaps a model). The cache is written atomically; a cache file that
is unreadable, damaged or from another cache version is ignored and rewritten,
never an error, and a cache that cannot be written (read-only, disk full) is
skipped. A later load hashes the CSV and
reads the arrays, a fraction of the parse.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digitnet import csvfile
from digitnet.atomic import write_atomically
from digitnet.csvfile import DataError
from digitnet.sizes import NOT_DIGIT, SIDE
from tools.paths import ROOT

IMAGES_MAGIC = 2051  # IDX: ubyte, 3 dims
LABELS_MAGIC = 2049  # IDX: ubyte, 1 dim
CACHE_VERSION = 2  # bump when the cache layout changes
CACHE_DIR = ROOT / ".cache" / "datasets"  # <sha256 of a CSV's bytes>.npz
_IMAGES_RE = re.compile(r"images([.-])idx3")
_LABELS_RE = re.compile(r"labels([.-])idx1")


@dataclass(frozen=True)
class Dataset:
    """A set of labelled digits.

    images: (N, 28, 28) uint8, 0 (background) to 255 (ink).
    labels: (N,) uint8, 0-9, or NOT_DIGIT (10) for "not a digit".
    """

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


# --------------------------------------------------------------------- dispatch


def load_dataset(path: str | Path, cache: bool = True, not_digit: bool = False) -> Dataset:
    """Load a CSV (through the cache in ``CACHE_DIR`` when ``cache``) or IDX file.

    ``not_digit``: a CSV may also hold label 10 (``NOT_DIGIT``, "not a digit", as the page
    exports it); otherwise that label is refused like any other outside 0-9.

    For IDX, ``path`` is the images file (``*-images-idx3-ubyte[.gz]``); its
    labels file is found by replacing ``images-idx3`` with ``labels-idx1``
    (trying the same ``.gz``-ness first, then the other). A labels path works
    too, the other way round. Raises ``DataError``.
    """
    path = Path(path)
    name = path.name.lower()
    if name.endswith(".csv"):
        return _load_csv_cached(path, not_digit) if cache else load_csv(path, not_digit)
    if _IMAGES_RE.search(path.name):
        return load_idx(path, _partner(path, _IMAGES_RE, r"labels\1idx1"))
    if _LABELS_RE.search(path.name):
        return load_idx(_partner(path, _LABELS_RE, r"images\1idx3"), path)
    if not path.exists():
        raise DataError(f"{path}: file not found")
    raise DataError(
        f"{path}: unrecognised data file (expected *.csv, "
        f"*-images-idx3-ubyte[.gz] or *-labels-idx1-ubyte[.gz])"
    )


def _partner(path: Path, pattern: re.Pattern[str], repl: str) -> Path:
    """The IDX file paired with ``path`` (images <-> labels), which must exist."""
    name = pattern.sub(repl, path.name, count=1)
    base = name[:-3] if name.endswith(".gz") else name
    gz_first = name.endswith(".gz")
    candidates = [path.with_name(n) for n in ((base + ".gz", base) if gz_first else (base, base + ".gz"))]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    if not path.exists():
        raise DataError(f"{path}: file not found")
    looked = " or ".join(c.name for c in candidates)
    raise DataError(f"{path}: no matching IDX file next to it (looked for {looked})")


def _read_bytes(path: Path) -> bytes:
    """The whole file; ``DataError`` if it is missing or unreadable."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except OSError as e:
        raise DataError(f"{path}: cannot read: {e.strerror or e}") from None


# -------------------------------------------------------------------------- CSV


def load_csv(path: str | Path, not_digit: bool = False) -> Dataset:
    """Parse an MNIST CSV (see ``digitnet.csvfile``); no cache. Raises ``DataError``."""
    path = Path(path)
    return parse_csv(_read_bytes(path), str(path), not_digit)


def parse_csv(data: bytes, name: str, not_digit: bool = False) -> Dataset:
    """The bytes of a CSV file -> Dataset, read by ``digitnet.csvfile`` (the page's reader too);
    ``name`` is used in messages; ``not_digit``: label 10 (``NOT_DIGIT``) is allowed too."""
    images, labels = csvfile.parse_csv(data, name, not_digit)
    return Dataset(images.reshape(-1, SIDE, SIDE), labels)


def _load_csv_cached(path: Path, not_digit: bool = False) -> Dataset:
    """``load_csv`` through the cache: ``CACHE_DIR/<sha256 of the CSV's bytes>.npz``."""
    cache = cache_path(path)
    dataset = _read_cache(cache)
    if dataset is None or (not not_digit and dataset.labels.max() > 9):  # the parse says where
        raw = _read_bytes(path)
        dataset = parse_csv(raw, str(path), not_digit)
        cache = cache_path(path, hashlib.sha256(raw).hexdigest())  # the bytes just parsed
        _write_cache(cache, dataset)
    return dataset


def cache_path(csv_path: str | Path, digest: str | None = None) -> Path:
    """Where ``load_dataset`` caches a CSV: ``CACHE_DIR/<sha256>.npz``, the SHA-256 of the
    CSV's bytes (``digest``, or read from ``csv_path``); never beside the CSV."""
    return CACHE_DIR / f"{digest or _sha256_of_file(Path(csv_path))}.npz"


def _sha256_of_file(path: Path) -> str:
    """SHA-256 (hex) of a file's bytes, read in chunks; ``DataError`` if it can't be read."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except OSError as e:
        raise DataError(f"{path}: cannot read: {e.strerror or e}") from None
    return digest.hexdigest()


def _read_cache(cache: Path) -> Dataset | None:
    """The cached dataset if ``cache`` exists and is a well-formed cache of this version made
    from the CSV its name says; otherwise None (a damaged cache is no error, only a miss)."""
    try:
        with np.load(cache, allow_pickle=False) as z:
            if int(z["version"]) != CACHE_VERSION or str(z["sha256"]) != cache.stem:
                return None
            images, labels = z["images"], z["labels"]
    except Exception:  # missing, unreadable, truncated, not an npz, wrong keys...
        return None
    if (
        images.dtype != np.uint8
        or labels.dtype != np.uint8
        or images.ndim != 3
        or images.shape[1:] != (SIDE, SIDE)
        or labels.shape != images.shape[:1]
        or len(labels) == 0
        or labels.max() > NOT_DIGIT
    ):
        return None
    return Dataset(images, labels)


def _write_cache(cache: Path, dataset: Dataset) -> None:
    """Write the cache atomically (temporary file + rename); skip it if we can't."""

    def write(f) -> None:
        np.savez(
            f,
            images=dataset.images,
            labels=dataset.labels,
            sha256=np.array(cache.stem),
            version=np.int64(CACHE_VERSION),
        )

    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(cache, write)
    except OSError:
        pass  # read-only folder, disk full...


# -------------------------------------------------------------------------- IDX


def load_idx(images_path: str | Path, labels_path: str | Path) -> Dataset:
    """Load an IDX images file and its labels file (plain or ``.gz``).

    Returns images (N, 28, 28) uint8 and labels (N,) uint8. Raises
    ``DataError`` naming the file (and record, 0-based, where there is one).
    """
    images_path, labels_path = Path(images_path), Path(labels_path)
    dims, pixels = _read_idx(images_path, IMAGES_MAGIC, "images")
    if dims[1:] != (SIDE, SIDE):
        raise DataError(f"{images_path}: images are {dims[1]}x{dims[2]}, expected {SIDE}x{SIDE}")
    (count,), labels = _read_idx(labels_path, LABELS_MAGIC, "labels")
    if count != dims[0]:
        raise DataError(f"{images_path}: {dims[0]} images but {labels_path} has {count} labels")
    bad = np.flatnonzero(labels > 9)
    if bad.size:
        raise DataError(f"{labels_path}: record {bad[0]}: label {labels[bad[0]]} outside 0-9")
    return Dataset(pixels.reshape(dims), labels)


def _read_idx(path: Path, magic: int, kind: str) -> tuple[tuple[int, ...], np.ndarray]:
    """Read an IDX ubyte file: (dims, flat uint8 data of prod(dims) bytes)."""
    raw = _read_bytes(path)
    if path.name.endswith(".gz"):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise DataError(f"{path}: corrupt or truncated gzip data ({e})") from None
    if not raw:
        raise DataError(f"{path}: file is empty")
    if len(raw) < 4:
        raise DataError(f"{path}: truncated IDX header ({len(raw)} bytes)")
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        known = {IMAGES_MAGIC: "an IDX images file", LABELS_MAGIC: "an IDX labels file"}
        what = known.get(found, "not an IDX ubyte file")
        raise DataError(f"{path}: magic number {found} ({what}), expected {magic} for IDX {kind}")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated IDX header ({len(raw)} of {header} bytes)")
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    if dims[0] == 0:
        raise DataError(f"{path}: no records (the IDX header says 0 {kind}); nothing to train or test on")
    record = int(np.prod(dims[1:], dtype=np.int64))
    size = dims[0] * record
    have = len(raw) - header
    if have < size:
        raise DataError(
            f"{path}: truncated: record {have // record} of {dims[0]} is "
            f"incomplete ({have} of {size} data bytes)"
        )
    if have > size:
        raise DataError(f"{path}: {have - size} unexpected bytes after the last of {dims[0]} records")
    return dims, np.frombuffer(raw, dtype=np.uint8, count=size, offset=header).copy()
