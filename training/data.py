"""Loading MNIST: CSV (with an ``.npz`` cache in the repository's ``.cache/``) or IDX files.

Formats
-------
CSV
    A header line (line 1), then one line per image: ``label,p1,...,p784``,
    the label 0-9 and 784 pixels 0-255, row-major, as plain digits. ``\\n`` or
    ``\\r\\n`` line ends. This is what ``python -m training.fetch`` puts in
    ``data/mnist``. The page's export (its drawings, for ``training.train
    --extra``) is the same format, with label 10 (``NOT_DIGIT``) for a drawing
    that is not a digit: read only when asked (``not_digit=True``), for a model
    with that class; MNIST's files hold digits only.
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

Speed: the CSV is checked and parsed without a Python loop per value (about a
second or two for MNIST's 60000 training rows); only when something is wrong
is the first bad line examined field by field to say what. ``load_dataset``
then caches the arrays in ``CACHE_DIR`` (``<repo>/.cache/datasets/``, git-ignored)
as ``<sha256 of the CSV's bytes>.npz``: the same bytes, wherever they are and
however often touched, load from the cache; any change to them is another key.
Nothing is ever written beside the user's files (a ``X.npz`` next to ``X.csv``
is theirs, perhaps a model). The cache is written atomically; a cache file that
is unreadable, damaged or from another cache version is ignored and rewritten,
never an error, and a cache that cannot be written (read-only, disk full) is
skipped. A later load hashes the CSV (about 0.1 s for MNIST's training set) and
reads the arrays, a fraction of the parse.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digitnet.atomic import write_atomically
from digitnet.sizes import NOT_DIGIT, PIXELS, SIDE
from tools.paths import ROOT

COLUMNS = 1 + PIXELS            # label + pixels per CSV line
IMAGES_MAGIC = 2051             # IDX: ubyte, 3 dims
LABELS_MAGIC = 2049             # IDX: ubyte, 1 dim
CACHE_VERSION = 2               # bump when the cache layout changes
CACHE_DIR = ROOT / ".cache" / "datasets"    # <sha256 of a CSV's bytes>.npz
_CHUNK_LINES = 4096             # CSV lines parsed per NumPy call (bounds memory)
_CSV_CHARS = b"0123456789,"     # all a CSV data line may contain
_IMAGES_RE = re.compile(r"images([.-])idx3")
_LABELS_RE = re.compile(r"labels([.-])idx1")


class DataError(ValueError):
    """Input data that cannot be used; the one-line message names the file and
    the line or record, and says what is wrong."""


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
    raise DataError(f"{path}: unrecognised data file (expected *.csv, "
                    f"*-images-idx3-ubyte[.gz] or *-labels-idx1-ubyte[.gz])")


def _partner(path: Path, pattern: re.Pattern[str], repl: str) -> Path:
    """The IDX file paired with ``path`` (images <-> labels), which must exist."""
    name = pattern.sub(repl, path.name, count=1)
    base = name[:-3] if name.endswith(".gz") else name
    gz_first = name.endswith(".gz")
    candidates = [path.with_name(n) for n in ((base + ".gz", base) if gz_first
                                               else (base, base + ".gz"))]
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
    """Parse an MNIST CSV (see module docstring); no cache. Raises ``DataError``."""
    path = Path(path)
    return parse_csv(_read_bytes(path), str(path), not_digit)


def parse_csv(data: bytes, name: str, not_digit: bool = False) -> Dataset:
    """Parse the bytes of an MNIST CSV file; ``name`` is used in error messages;
    ``not_digit``: label 10 (``NOT_DIGIT``) is allowed too.

    Returns images (N, 28, 28) uint8 and labels (N,) uint8. Raises
    ``DataError`` naming the first bad line (1-based, header = line 1).
    """
    if data.startswith(b"\xef\xbb\xbf"):                    # UTF-8 byte-order mark
        data = data[3:]
    if not data.strip():
        raise DataError(f"{name}: file is empty")
    header, _, body = data.partition(b"\n")
    _check_header(header.removesuffix(b"\r"), name)
    lines = body.split(b"\n")
    while lines and not lines[-1].strip():                  # blank lines at the end
        lines.pop()
    if not lines:
        raise DataError(f"{name}: no data rows after the header (line 1)")
    images = np.empty((len(lines), PIXELS), dtype=np.uint8)
    labels = np.empty(len(lines), dtype=np.uint8)
    for start in range(0, len(lines), _CHUNK_LINES):
        stop = min(start + _CHUNK_LINES, len(lines))
        values = _parse_chunk(lines[start:stop], start + 2, name, NOT_DIGIT if not_digit else 9)
        labels[start:stop] = values[:, 0]
        images[start:stop] = values[:, 1:]
    return Dataset(images.reshape(-1, SIDE, SIDE), labels)


def _check_header(header: bytes, name: str) -> None:
    """Line 1 must be a header (not a data row) with 785 columns."""
    fields = header.split(b",")
    if fields[0].strip().lstrip(b"+-").isdigit():           # a label: this is data
        raise DataError(f"{name}: line 1: missing header (found a data row; expected "
                        f"a header line such as 'label,1x1,...,28x28')")
    if len(fields) != COLUMNS:
        raise DataError(f"{name}: line 1: header has {len(fields)} columns, "
                        f"expected {COLUMNS} (label + {PIXELS} pixels)")


def _parse_chunk(lines: list[bytes], first_lineno: int, name: str, max_label: int) -> np.ndarray:
    """CSV data lines (k of them, the first is line ``first_lineno`` of the file)
    -> (k, 785) int64 values, all in range (labels up to ``max_label``); ``DataError``
    on the first bad line."""
    values = _parse_fast(lines)
    if values is None:                      # something is off: go line by line
        lines = [line.removesuffix(b"\r") for line in lines]
        bad = next((i for i, line in enumerate(lines) if not _well_formed(line)),
                   len(lines))
        values = _parse_lines(lines[:bad])
        _check_range(values, lines, first_lineno, name, max_label)
        if bad < len(lines):
            raise DataError(_diagnose(lines[bad], first_lineno + bad, name, max_label))
        return values
    _check_range(values, lines, first_lineno, name, max_label)
    return values


def _parse_fast(lines: list[bytes]) -> np.ndarray | None:
    """(k, 785) int64 values of k CSV lines, or None if they are not all
    well-formed (digits and commas, 785 non-empty fields, optional final CR).

    Vectorised: a few C-speed passes over the text, no per-value Python."""
    text = b",".join(lines)
    leftover = text.translate(None, _CSV_CHARS)
    if leftover and not (leftover == b"\r" * len(lines)
                         and all(line.endswith(b"\r") for line in lines)
                         and not any(line.endswith(b",\r") for line in lines)):
        return None                         # (NumPy reads ",\r" at the end as 0)
    if any(line.count(b",") != COLUMNS - 1 for line in lines):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("error")      # an empty field stops the parse early
        try:
            values = np.fromstring(text, dtype=np.int64, sep=",")
        except (DeprecationWarning, ValueError):
            return None
    if values.size != len(lines) * COLUMNS:  # an empty field at the very end
        return None
    return values.reshape(len(lines), COLUMNS)


def _well_formed(line: bytes) -> bool:
    """Digits and commas only, exactly 784 commas, no empty field."""
    return (line.count(b",") == COLUMNS - 1
            and not line.translate(None, _CSV_CHARS)
            and not line.startswith(b",") and not line.endswith(b",")
            and b",," not in line)


def _parse_lines(lines: list[bytes]) -> np.ndarray:
    """Well-formed CSV lines (k of them) -> (k, 785) int64 values."""
    values = np.fromstring(b",".join(lines), dtype=np.int64, sep=",")
    return values.reshape(len(lines), COLUMNS)


def _check_range(values: np.ndarray, lines: list[bytes], first_lineno: int,
                 name: str, max_label: int) -> None:
    """Labels 0-``max_label`` and pixels 0-255 in ``values`` (k, 785), the parsed ``lines``."""
    bad = (values[:, 0] > max_label) | (values[:, 1:] > 255).any(axis=1)
    if bad.any():
        first = int(np.argmax(bad))
        raise DataError(_diagnose(lines[first].removesuffix(b"\r"), first_lineno + first,
                                  name, max_label))


def _diagnose(line: bytes, lineno: int, name: str, max_label: int = 9) -> str:
    """What is wrong with one CSV data line, as a one-line message."""
    where = f"{name}: line {lineno}"
    fields = line.split(b",")
    if not line.strip():
        return f"{where}: blank line, expected {COLUMNS} columns (label + {PIXELS} pixels)"
    if len(fields) != COLUMNS:
        return (f"{where}: found {len(fields)} columns, expected {COLUMNS} "
                f"(label + {PIXELS} pixels)")
    for column, field in enumerate(fields, start=1):
        what = "label" if column == 1 else f"pixel {column - 1}"
        limit = max_label if column == 1 else 255
        text = field.decode("utf-8", "replace")
        if not field:
            return f"{where}, column {column}: empty {what} value"
        if re.fullmatch(rb"-?[0-9]+", field):
            value = int(field)
            if column == 1 and value == NOT_DIGIT and limit < NOT_DIGIT:
                return (f"{where}, column 1: label value {NOT_DIGIT} outside 0-9 ({NOT_DIGIT} is "
                        f"'not a digit': only a model with that class learns it, not one trained "
                        f"with --negatives 0)")
            if value > limit or value < 0:
                return f"{where}, column {column}: {what} value {value} outside 0-{limit}"
            if field.startswith(b"-"):
                return f"{where}, column {column}: {what} value {text!r} is not plain digits"
        else:
            shown = text if len(text) <= 20 else text[:20] + "..."
            return f"{where}, column {column}: non-numeric {what} value {shown!r}"
    return f"{where}: malformed line"                       # not reached


def _load_csv_cached(path: Path, not_digit: bool = False) -> Dataset:
    """``load_csv`` through the cache: ``CACHE_DIR/<sha256 of the CSV's bytes>.npz``."""
    cache = cache_path(path)
    dataset = _read_cache(cache)
    if dataset is None or (not not_digit and dataset.labels.max() > 9):   # the parse says where
        raw = _read_bytes(path)
        dataset = parse_csv(raw, str(path), not_digit)
        cache = cache_path(path, hashlib.sha256(raw).hexdigest())   # the bytes just parsed
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
    except Exception:               # missing, unreadable, truncated, not an npz, wrong keys...
        return None
    if (images.dtype != np.uint8 or labels.dtype != np.uint8 or images.ndim != 3
            or images.shape[1:] != (SIDE, SIDE) or labels.shape != images.shape[:1]
            or len(labels) == 0 or labels.max() > NOT_DIGIT):
        return None
    return Dataset(images, labels)


def _write_cache(cache: Path, dataset: Dataset) -> None:
    """Write the cache atomically (temporary file + rename); skip it if we can't."""
    def write(f) -> None:
        np.savez(f, images=dataset.images, labels=dataset.labels, sha256=np.array(cache.stem),
                 version=np.int64(CACHE_VERSION))

    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(cache, write)
    except OSError:
        pass                                            # read-only folder, disk full...


# -------------------------------------------------------------------------- IDX

def load_idx(images_path: str | Path, labels_path: str | Path) -> Dataset:
    """Load an IDX images file and its labels file (plain or ``.gz``).

    Returns images (N, 28, 28) uint8 and labels (N,) uint8. Raises
    ``DataError`` naming the file (and record, 0-based, where there is one).
    """
    images_path, labels_path = Path(images_path), Path(labels_path)
    dims, pixels = _read_idx(images_path, IMAGES_MAGIC, "images")
    if dims[1:] != (SIDE, SIDE):
        raise DataError(f"{images_path}: images are {dims[1]}x{dims[2]}, "
                        f"expected {SIDE}x{SIDE}")
    (count,), labels = _read_idx(labels_path, LABELS_MAGIC, "labels")
    if count != dims[0]:
        raise DataError(f"{images_path}: {dims[0]} images but {labels_path} "
                        f"has {count} labels")
    bad = np.flatnonzero(labels > 9)
    if bad.size:
        raise DataError(f"{labels_path}: record {bad[0]}: label {labels[bad[0]]} "
                        f"outside 0-9")
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
        raise DataError(f"{path}: magic number {found} ({what}), expected {magic} "
                        f"for IDX {kind}")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated IDX header ({len(raw)} of {header} bytes)")
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    if dims[0] == 0:
        raise DataError(f"{path}: no records (the IDX header says 0 {kind}); "
                        f"nothing to train or test on")
    record = int(np.prod(dims[1:], dtype=np.int64))
    size = dims[0] * record
    have = len(raw) - header
    if have < size:
        raise DataError(f"{path}: truncated: record {have // record} of {dims[0]} is "
                        f"incomplete ({have} of {size} data bytes)")
    if have > size:
        raise DataError(f"{path}: {have - size} unexpected bytes after the last of "
                        f"{dims[0]} records")
    return dims, np.frombuffer(raw, dtype=np.uint8, count=size, offset=header).copy()
