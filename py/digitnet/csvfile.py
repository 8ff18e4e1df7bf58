"""The drawings CSV: one reader for the page's import and the offline CLIs.

The format (documented for people in ``docs/teach.md``): a header line (line 1) of
``COLUMNS`` names, ``label,1x1,...,28x28``; then one line per image, ``label,p1,...,p784``:
the label 0-9 (or ``NOT_DIGIT``, 10, "not a digit", when the reader allows it), then 784
pixels 0-255, row-major, as plain digits. ``\\n`` or ``\\r\\n`` line ends; a UTF-8
byte-order mark and blank lines at the end are ignored. MNIST's CSV files and the page's
export are this format.

Anything wrong raises ``DataError`` with one line naming the file, the line (1-based, the
header is line 1) and the column, so the page and the terminal say the same thing about
the same file. A file with no rows is refused: there is nothing to learn from.

``CsvReader`` reads in slices (``read(lines)``), so the page's worker can report progress
and answer readings in between; ``parse_csv`` reads it all at once. The checks are
vectorised (a few C-speed passes over a slice of text); only a slice that fails them is
examined field by field to say what is wrong.
"""

from __future__ import annotations

import re
import warnings

import numpy as np

from digitnet.sizes import NOT_DIGIT, PIXELS

COLUMNS = 1 + PIXELS  # label + pixels per line
HEADER = ",".join(["label"] + [f"{i // 28 + 1}x{i % 28 + 1}" for i in range(PIXELS)])
SLICE_LINES = 4096  # lines parsed per NumPy call (bounds memory)
_CSV_CHARS = b"0123456789,"  # all a data line may contain (besides a final CR)

#: What the page imports at most, so it stays responsive: rows, and bytes checked before
#: the file is read (the longest possible row times the rows, plus the header).
IMPORT_ROWS = 5000
IMPORT_BYTES = len(HEADER) + 2 + IMPORT_ROWS * (len("10") + PIXELS * len(",255") + 2)


class DataError(ValueError):
    """A data file that cannot be used; the message names the file and the reason."""


class CsvReader:
    """Read a CSV's bytes a slice of lines at a time.

    ``name`` is used in messages; ``not_digit``: label 10 is allowed too; ``max_rows``: more
    rows than this are refused (None: no limit). After ``read`` returns True, ``images``
    (N, PIXELS) uint8 and ``labels`` (N,) uint8 hold every row.
    """

    def __init__(self, data: bytes, name: str, not_digit: bool = False, max_rows: int | None = None):
        self.name = name
        self.max_label = NOT_DIGIT if not_digit else 9
        if data.startswith(b"\xef\xbb\xbf"):  # UTF-8 byte-order mark
            data = data[3:]
        if not data.strip():
            raise DataError(f"{name}: the file is empty")
        if b"\n" not in data and b"\r" in data:
            raise DataError(
                f"{name}: lines end with a lone CR (old Mac style); expected LF or CR LF line ends"
            )
        header, _, body = data.partition(b"\n")
        _check_header(header.removesuffix(b"\r"), name)
        self.lines = body.split(b"\n")
        while self.lines and not self.lines[-1].strip():  # blank lines at the end
            self.lines.pop()
        if not self.lines:
            raise DataError(f"{name}: no data rows after the header (line 1)")
        if max_rows is not None and len(self.lines) > max_rows:
            raise DataError(
                f"{name}: {len(self.lines)} rows, more than the {max_rows} "
                f"that can be imported at once; split the file"
            )
        self.images = np.empty((len(self.lines), PIXELS), dtype=np.uint8)
        self.labels = np.empty(len(self.lines), dtype=np.uint8)
        self.row = 0  # rows read so far

    @property
    def rows(self) -> int:
        return len(self.lines)

    def read(self, lines: int = SLICE_LINES) -> bool:
        """Parse up to ``lines`` more rows; -> True once every row is read."""
        start, stop = self.row, min(self.row + lines, self.rows)
        for a in range(start, stop, SLICE_LINES):
            b = min(a + SLICE_LINES, stop)
            values = _parse_slice(self.lines[a:b], a + 2, self.name, self.max_label)
            self.labels[a:b] = values[:, 0]
            self.images[a:b] = values[:, 1:]
        self.row = stop
        return self.row == self.rows


def parse_csv(data: bytes, name: str, not_digit: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Every row of a CSV file's bytes -> images (N, PIXELS) uint8, labels (N,) uint8."""
    reader = CsvReader(data, name, not_digit)
    while not reader.read():
        pass
    return reader.images, reader.labels


def csv_text(images: np.ndarray, labels: np.ndarray) -> str:
    """Images (N, PIXELS) and labels (N,) -> the CSV's text, header first."""
    rows = np.column_stack([np.asarray(labels).reshape(-1, 1), np.asarray(images).reshape(len(labels), -1)])
    return "\n".join([HEADER] + [",".join(map(str, row)) for row in rows.tolist()]) + "\n"


def _check_header(header: bytes, name: str) -> None:
    """Line 1 must be a header (not a data row) with COLUMNS columns."""
    fields = header.split(b",")
    if fields[0].strip().lstrip(b"+-").isdigit():  # a label: this is data
        raise DataError(
            f"{name}: line 1: missing header (found a data row; expected "
            f"a header line such as 'label,1x1,...,28x28')"
        )
    if len(fields) != COLUMNS:
        raise DataError(
            f"{name}: line 1: header has {len(fields)} columns, expected {COLUMNS} (label + {PIXELS} pixels)"
        )


def _parse_slice(lines: list[bytes], first_lineno: int, name: str, max_label: int) -> np.ndarray:
    """Data lines (the first is line ``first_lineno`` of the file) -> (k, COLUMNS) int64
    values, all in range; ``DataError`` on the first bad line."""
    values = _parse_fast(lines)
    if values is None:  # something is off: go line by line
        lines = [line.removesuffix(b"\r") for line in lines]
        bad = next((i for i, line in enumerate(lines) if not _well_formed(line)), len(lines))
        values = _parse_lines(lines[:bad])
        _check_range(values, lines, first_lineno, name, max_label)
        if bad < len(lines):
            raise DataError(_diagnose(lines[bad], first_lineno + bad, name, max_label))
        return values
    _check_range(values, lines, first_lineno, name, max_label)
    return values


def _parse_fast(lines: list[bytes]) -> np.ndarray | None:
    """(k, COLUMNS) int64 values of k lines, or None if they are not all well-formed
    (digits and commas, COLUMNS non-empty fields, an optional final CR)."""
    text = b",".join(lines)
    leftover = text.translate(None, _CSV_CHARS)
    if leftover and not (
        leftover == b"\r" * len(lines)
        and all(line.endswith(b"\r") for line in lines)
        and not any(line.endswith(b",\r") for line in lines)
    ):
        return None  # (NumPy reads ",\r" at the end as 0)
    if any(line.count(b",") != COLUMNS - 1 for line in lines):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an empty field stops the parse early
        try:
            values = np.fromstring(text, dtype=np.int64, sep=",")
        except (DeprecationWarning, ValueError):
            return None
    if values.size != len(lines) * COLUMNS:  # an empty field at the very end
        return None
    return values.reshape(len(lines), COLUMNS)


def _well_formed(line: bytes) -> bool:
    """Digits and commas only, exactly COLUMNS - 1 commas, no empty field."""
    return (
        line.count(b",") == COLUMNS - 1
        and not line.translate(None, _CSV_CHARS)
        and not line.startswith(b",")
        and not line.endswith(b",")
        and b",," not in line
    )


def _parse_lines(lines: list[bytes]) -> np.ndarray:
    """Well-formed lines (k of them) -> (k, COLUMNS) int64 values."""
    values = np.fromstring(b",".join(lines), dtype=np.int64, sep=",")
    return values.reshape(len(lines), COLUMNS)


def _check_range(
    values: np.ndarray, lines: list[bytes], first_lineno: int, name: str, max_label: int
) -> None:
    """Labels 0-``max_label`` and pixels 0-255 in ``values``, the parsed ``lines``."""
    bad = (values[:, 0] > max_label) | (values[:, 1:] > 255).any(axis=1)
    if bad.any():
        first = int(np.argmax(bad))
        raise DataError(_diagnose(lines[first].removesuffix(b"\r"), first_lineno + first, name, max_label))


def _diagnose(line: bytes, lineno: int, name: str, max_label: int = 9) -> str:
    """What is wrong with one data line, as a one-line message."""
    where = f"{name}: line {lineno}"
    fields = line.split(b",")
    if not line.strip():
        return f"{where}: blank line, expected {COLUMNS} columns (label + {PIXELS} pixels)"
    if len(fields) != COLUMNS:
        return f"{where}: found {len(fields)} columns, expected {COLUMNS} (label + {PIXELS} pixels)"
    for column, field in enumerate(fields, start=1):
        what = "label" if column == 1 else f"pixel {column - 1}"
        limit = max_label if column == 1 else 255
        text = field.decode("utf-8", "replace")
        if not field:
            return f"{where}, column {column}: empty {what} value"
        if re.fullmatch(rb"-?[0-9]+", field):
            value = int(field)
            if column == 1 and value == NOT_DIGIT and limit < NOT_DIGIT:
                return (
                    f"{where}, column 1: label value {NOT_DIGIT} outside 0-9 ({NOT_DIGIT} is "
                    f"'not a digit': only a model with that class learns it, not one trained "
                    f"with --negatives 0)"
                )
            if value > limit or value < 0:
                return f"{where}, column {column}: {what} value {value} outside 0-{limit}"
            if field.startswith(b"-"):
                return f"{where}, column {column}: {what} value {text!r} is not plain digits"
        else:
            shown = text if len(text) <= 20 else text[:20] + "..."
            return f"{where}, column {column}: non-numeric {what} value {shown!r}"
    return f"{where}: malformed line"  # not reached
