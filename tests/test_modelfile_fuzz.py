"""Property-based fuzzing of the model loader (Hypothesis).

The promise under test: for ANY bytes, ``load_model`` returns a usable ``Model`` (float32
weights of the shapes the layers say, all finite; a mean and std that keep every normalised
pixel finite) or raises ``ModelFileError`` "<name>: <reason>" -- never another exception,
never a hang, never the loader's last-resort message (which would mean a failure class
without its own check). Every case also runs under a tight recursion limit (Pyodide's
stack is far smaller than CPython's: deep JSON there is a fatal error, not an exception).

The corrupted files start from the shipped model and from a small model saved here
(deflated, as ``save_model`` writes it, and stored, so that damage reaches the ``.npy``
headers behind the zip's CRC): truncations, bit flips and byte overwrites, crafted zip
directory fields, crafted ``.npy`` headers, crafted metadata JSON. Derandomized (the same
cases on every run, no example database written); ``test_zz_summary`` checks that at least
``MIN_CASES`` were tried and prints how many were refused and loaded.
"""

from __future__ import annotations

import io
import json
import math
import signal
import struct
import sys
import time
import warnings
import zipfile
from collections import Counter
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from digitnet.learn import init_params
from digitnet.modelfile import ModelFileError, load_model, save_model
from digitnet.network import Model, normalize
from tools.paths import SHIPPED_MODEL

MIN_CASES = 2000
NAME = "fuzz.npz"
HANG_SECONDS = 10  # one load taking this long is a hang
STACK_FRAMES = 80  # frames the loader may use above its caller (see check)

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=timedelta(seconds=HANG_SECONDS),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)

STATS: Counter = Counter()  # cases tried, refused, loaded, per property
REASONS: Counter = Counter()  # refusal reasons, numbers and names left out
SAMPLES: dict[str, str] = {}  # reason -> the first message with it
RAN: set[str] = set()


# ------------------------------------------------------------------ the oracle


class Hang(BaseException):
    """Raised by the alarm in ``check``; a BaseException so no ``except Exception`` hides it."""


def _on_alarm(signum, frame):
    raise Hang(f"load_model ran for more than {HANG_SECONDS} s")


def _depth() -> int:
    frame, n = sys._getframe(), 0
    while frame is not None:
        frame, n = frame.f_back, n + 1
    return n


def check(data: bytes, prop: str) -> str:
    """Load ``data``; assert it is a usable model or a plain ModelFileError. -> outcome."""
    STATS["cases"] += 1
    STATS[f"{prop} cases"] += 1
    RAN.add(prop)
    alarm = hasattr(signal, "setitimer")
    if alarm:
        previous = signal.signal(signal.SIGALRM, _on_alarm)
        signal.setitimer(signal.ITIMER_REAL, HANG_SECONDS)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(_depth() + STACK_FRAMES)
    try:
        model = load_model(data, NAME)
    except ModelFileError as e:
        outcome, error = "refused", str(e)
    else:
        outcome, error = "loaded", None
    finally:
        sys.setrecursionlimit(limit)
        if alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    STATS[outcome] += 1
    STATS[f"{prop} {outcome}"] += 1
    if error is not None:
        assert error.startswith(NAME + ": ") and "\n" not in error and len(error) < 400, error
        assert "cannot be read as a model" not in error, f"safety net used: {error}"
        reason = " ".join(
            w for w in error[len(NAME) + 2 :].split()[:5] if not any(c.isdigit() for c in w) and "'" not in w
        )
        REASONS[reason] += 1
        SAMPLES.setdefault(reason, error)
        return outcome
    assert isinstance(model, Model)
    sizes = model.sizes
    assert sizes[0] == 784 and sizes[-1] in (10, 11) and len(model.weights) == len(model.biases)
    for l, (w, b) in enumerate(zip(model.weights, model.biases)):
        assert w.dtype == np.float32 and b.dtype == np.float32
        assert w.shape == (sizes[l], sizes[l + 1]) and b.shape == (sizes[l + 1],)
        assert np.isfinite(w).all() and np.isfinite(b).all()
        assert w.flags.writeable and w.flags.c_contiguous
    assert math.isfinite(model.mean) and math.isfinite(model.std)
    with np.errstate(all="ignore"):
        assert np.float32(model.std) > 0
        ends = normalize(model, np.array([[0.0], [1.0]], np.float32))
    assert np.isfinite(ends).all()
    assert isinstance(model.meta, dict)
    return outcome


# ------------------------------------------------------------------ the files


def small_model_bytes() -> bytes:
    w, b = init_params([784, 6, 10], np.random.default_rng(0))
    buf = io.BytesIO()
    save_model(buf, Model(w, b, 0.13, 0.31, {"test_error": 0.05}))
    return buf.getvalue()


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def rezip(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip with these entries (right CRCs, right sizes)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name": some cases want one
        for name, raw in entries.items():
            z.writestr(name, raw)
    return buf.getvalue()


def rezip64(entries: dict[str, bytes]) -> bytes:
    """A zip whose entries carry zip64 extra fields (as very large files do)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, raw in entries.items():
            with z.open(name, "w", force_zip64=True) as f:
                f.write(raw)
    return buf.getvalue()


def npy(header: str, data: bytes, version: int = 1) -> bytes:
    """An .npy file with this header text (padded like NumPy's) and data."""
    head_len = 10 if version == 1 else 12
    text = header.encode("latin-1" if version < 3 else "utf-8")
    text += b" " * (-(head_len + len(text) + 1) % 64) + b"\n"
    size = struct.pack("<H" if version == 1 else "<I", len(text) if len(text) < 65536 else 0)
    return b"\x93NUMPY" + bytes([version, 0]) + size + text + data


def npy_of(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


SHIPPED = SHIPPED_MODEL.read_bytes()
SMALL = small_model_bytes()
SMALL_MEMBERS = members(SMALL)
SMALL_STORED = rezip(SMALL_MEMBERS, zipfile.ZIP_STORED)
META = json.loads(str(np.load(io.BytesIO(SMALL_MEMBERS["meta.npy"]))))
BASES = {
    "shipped": SHIPPED,
    "small": SMALL,
    "small-stored": SMALL_STORED,
    "small-zip64": rezip64(SMALL_MEMBERS),
}


def eocd(data: bytes) -> tuple[int, int, int]:
    """(end record offset, central directory offset, entries)."""
    at = data.rindex(b"PK\x05\x06")
    entries, _, cd = struct.unpack_from("<HII", data, at + 10)
    return at, cd, entries


def central_records(data: bytes) -> list[int]:
    """Offsets of the central directory records."""
    _, at, n = eocd(data)
    out = []
    for _ in range(n):
        out.append(at)
        nlen, elen, clen = struct.unpack_from("<HHH", data, at + 28)
        at += 46 + nlen + elen + clen
    return out


def local_records(data: bytes) -> list[int]:
    return [struct.unpack_from("<I", data, c + 42)[0] for c in central_records(data)]


def hot_ranges(data: bytes) -> list[tuple[int, int]]:
    """The bytes where damage means most: the zip's structure and the first bytes of each
    entry (the .npy header, when stored)."""
    ranges = [(eocd(data)[1], len(data))]
    for off in local_records(data):
        nlen, elen = struct.unpack_from("<HH", data, off + 26)
        ranges.append((off, min(len(data), off + 30 + nlen + elen + 160)))
    return ranges


HOT = {name: hot_ranges(data) for name, data in BASES.items()}


def test_the_starting_files_load():
    for name, data in BASES.items():
        assert check(data, "bases") == "loaded", name
        assert load_model(data).sizes[0] == 784


# ------------------------------------------------------------ truncation


@settings(FUZZ, max_examples=600)
@given(
    base=st.sampled_from(sorted(BASES)),
    cut=st.floats(0, 1),
    how=st.sampled_from(["cut", "cut", "zero-tail", "drop-middle", "append"]),
    junk=st.binary(max_size=64),
)
@example(base="shipped", cut=0.5, how="cut", junk=b"")
@example(base="small", cut=0.999, how="zero-tail", junk=b"")
def test_truncated_files(base, cut, how, junk):
    """An interrupted copy or save: cut short, a zero-filled tail, a hole, junk after."""
    data = BASES[base]
    at = int(cut * (len(data) - 1))
    if how == "cut":
        data = data[:at]
    elif how == "zero-tail":
        data = data[:at] + bytes(len(data) - at)
    elif how == "drop-middle":
        data = data[:at] + data[at + 1 + len(junk) * 97 :]
    else:
        data = data + junk
    check(data, "truncation")


# ------------------------------------------------------------ bit flips, overwrites

INTERESTING = [0x00, 0xFF, 0x7F, 0x80, 0x01, ord("9"), ord("("), ord("-"), ord("'"), ord("{")]


@st.composite
def damaged(draw):
    base = draw(st.sampled_from(sorted(BASES)))
    data = bytearray(BASES[base])
    for _ in range(draw(st.integers(1, 8))):
        if draw(st.booleans()):
            lo, hi = draw(st.sampled_from(HOT[base]))
        else:
            lo, hi = 0, len(data)
        at = draw(st.integers(lo, hi - 1))
        how = draw(st.sampled_from(["flip", "flip", "byte", "interesting"]))
        if how == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif how == "byte":
            data[at] = draw(st.integers(0, 255))
        else:
            data[at] = draw(st.sampled_from(INTERESTING))
    return bytes(data)


@settings(FUZZ, max_examples=1500)
@given(data=damaged())
def test_bit_flips_and_overwritten_bytes(data):
    check(data, "bit flips")


# ------------------------------------------------------------ crafted zip directory

CENTRAL = {
    "flags": (8, "<H"),
    "method": (10, "<H"),
    "crc": (16, "<I"),
    "csize": (20, "<I"),
    "usize": (24, "<I"),
    "nlen": (28, "<H"),
    "elen": (30, "<H"),
    "offset": (42, "<I"),
}
LOCAL = {
    "flags": (6, "<H"),
    "method": (8, "<H"),
    "crc": (14, "<I"),
    "csize": (18, "<I"),
    "usize": (22, "<I"),
    "nlen": (26, "<H"),
    "elen": (28, "<H"),
}
END = {"entries": (10, "<H"), "size": (12, "<I"), "offset": (16, "<I")}


@st.composite
def zip_field_value(draw, field, current):
    if field == "flags":
        return current | draw(st.sampled_from([0x1, 0x40, 0x20, 0x8, 0x800, 0x41, 0xFFFF]))
    if field == "method":
        return draw(st.sampled_from([1, 6, 9, 12, 14, 19, 93, 95, 97, 98, 99, 0xFFFF, 0]))
    if field in ("csize", "usize", "size", "offset", "crc"):
        return draw(
            st.one_of(
                st.sampled_from([0, 1, 0xFFFFFFFF, 0xFFFFFFFE, 2**31, 64 * 2**20, 64 * 2**20 + 1]),
                st.integers(-64, 64).map(lambda d: max(0, min(0xFFFFFFFF, current + d))),
                st.integers(0, 0xFFFFFFFF),
            )
        )
    return draw(st.one_of(st.integers(0, 8).map(lambda d: current + d), st.integers(0, 0xFFFF)))


@st.composite
def crafted_zip(draw):
    method = draw(st.sampled_from([zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED]))
    entries = dict(SMALL_MEMBERS)
    if draw(st.booleans()):  # a name twice, or an extra entry
        extra = draw(st.sampled_from(["W0.npy", "W0", "meta", "x.npy", "b1.npy", "../etc"]))
        entries = {
            **entries,
            extra + ("\0" if extra in entries else ""): draw(
                st.sampled_from([b"", SMALL_MEMBERS["b0.npy"], b"PK\x03\x04"])
            ),
        }
    data = bytearray(rezip(entries, method))
    if draw(st.booleans()) and "W0" not in entries:  # same name twice in the directory
        central = central_records(bytes(data))
        if len(central) > 1:
            i = draw(st.integers(1, len(central) - 1))
            nlen = struct.unpack_from("<H", data, central[i] + 28)[0]
            first = struct.unpack_from("<H", data, central[0] + 28)[0]
            if nlen == first:
                data[central[i] + 46 : central[i] + 46 + nlen] = data[
                    central[0] + 46 : central[0] + 46 + nlen
                ]
    central, local = central_records(bytes(data)), local_records(bytes(data))
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.sampled_from(["central", "central", "local", "both", "end"]))
        if where == "end":
            field = draw(st.sampled_from(sorted(END)))
            spots = [(eocd(bytes(data))[0], END[field])]
        else:
            field = draw(st.sampled_from(sorted(LOCAL if where == "local" else CENTRAL)))
            i = draw(st.integers(0, len(central) - 1))
            spots = []
            if where in ("central", "both"):
                spots.append((central[i], CENTRAL[field]))
            if where in ("local", "both") and field in LOCAL:
                spots.append((local[i], LOCAL[field]))
        for at, (off, fmt) in spots:
            current = struct.unpack_from(fmt, data, at + off)[0]
            value = draw(zip_field_value(field, current))
            struct.pack_into(fmt, data, at + off, value & (0xFFFF if fmt == "<H" else 0xFFFFFFFF))
    return bytes(data)


@settings(FUZZ, max_examples=800)
@given(data=crafted_zip())
def test_crafted_zip_entries(data):
    """Encrypted flags, unknown compression methods, wrong and huge sizes, duplicate names."""
    check(data, "zip entries")


# ------------------------------------------------------------ crafted .npy headers

DESCRS = [
    "<f4",
    ">f4",
    "<f8",
    ">f8",
    "<f2",
    "<f16",
    "|O",
    "O",
    "<U10",
    "<U",
    "<c8",
    "<c16",
    "<i4",
    "|b1",
    "|V4",
    "|S3",
    "<M8",
    "a",
    "a5",
    "<U99999999999",
    "xyz",
    "",
    "<f4 ",
    "|u1",
    "=f4",
    "f",
    "d",
]
RAW_DESCRS = ["[('a', '<f4')]", "[('a', '<f4'), ('b', '|O')]", "None", "42", "{'x': 1}"]


@st.composite
def npy_header(draw, right_shape, right_descr):
    descr = draw(st.one_of(st.just(right_descr), st.sampled_from(DESCRS)))
    descr_text = (
        draw(st.one_of(st.just(repr(descr)), st.sampled_from(RAW_DESCRS)))
        if draw(st.integers(0, 9)) == 0
        else repr(descr)
    )
    order = draw(st.sampled_from(["False", "False", "True", "'maybe'", "1", "None"]))
    dims = st.one_of(
        st.integers(0, 2000),
        st.integers(-3, 3),
        st.sampled_from([2**50, 3 * 2**48, 2**62, 2**63, 2**64 + 1, 10**30, 10**400]),
    )
    shape = draw(
        st.one_of(
            st.just(right_shape),
            st.lists(dims, max_size=4).map(tuple),
            st.just(tuple([1] * 40)),
            st.just((3 * 2**50 // 4,)),  # 3 PiB of float32
        )
    )
    shape_text = draw(
        st.one_of(
            st.just(repr(shape)),
            st.sampled_from(
                ["(3, -1)", "(784, 6", "[784, 6]", "(784.0, 6)", "'(784, 6)'", "(784,, 6)", "()", "(1e3,)"]
            ),
        )
    )
    items = [f"'descr': {descr_text}", f"'fortran_order': {order}", f"'shape': {shape_text}"]
    items = draw(st.permutations(items))
    if draw(st.integers(0, 7)) == 0:
        items = items + [draw(st.sampled_from(["'shape': (1,)", "'extra': 1", "'descr': '<f4'"]))]
    if draw(st.integers(0, 7)) == 0:
        items = items[: draw(st.integers(0, 2))]
    header = "{" + ", ".join(items) + ", }"
    if draw(st.integers(0, 9)) == 0:
        header = draw(
            st.sampled_from(
                [
                    header.replace("'", '"'),
                    header[:-1],
                    "(" + header + ")",
                    header.replace(":", "="),
                    "x" * 20000,
                    header * 2,
                ]
            )
        )
    version = draw(st.sampled_from([1, 1, 1, 2, 3]))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # NumPy 2 deprecates the alias 'a'
            need = max(0, math.prod(shape) * np.dtype(descr).itemsize)
    except Exception:
        need = 64
    size = draw(st.sampled_from(["exact", "exact", "short", "long", "empty"]))
    if need > 4_000_000:
        size = draw(st.sampled_from(["short", "empty"]))
    length = {"exact": need, "short": max(0, min(need, 4096) - 7), "long": need + 5, "empty": 0}[size]
    payload = draw(st.binary(min_size=min(length, 64), max_size=min(length, 64)))
    data = (payload * (length // max(1, len(payload)) + 1))[:length] if payload else bytes(length)
    raw = npy(header, data, version)
    if draw(st.integers(0, 9)) == 0:  # a damaged magic or header length
        raw = bytearray(raw)
        at = draw(st.integers(0, min(len(raw), 12) - 1))
        raw[at] = draw(st.integers(0, 255))
        raw = bytes(raw)
    return raw


@st.composite
def crafted_npy(draw):
    entries = dict(SMALL_MEMBERS)
    key = draw(st.sampled_from(["W0.npy", "b0.npy", "W1.npy", "b1.npy", "meta.npy"]))
    if key == "meta.npy":
        text = json.dumps(META)
        right, descr = (), f"<U{len(text)}"
    else:
        a = np.load(io.BytesIO(entries[key]))
        right, descr = a.shape, a.dtype.str
    entries[key] = draw(npy_header(right, descr))
    return rezip(entries, draw(st.sampled_from([zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])))


@settings(FUZZ, max_examples=800)
@given(data=crafted_npy())
@example(
    data=rezip(
        {
            **SMALL_MEMBERS,
            "W0.npy": npy("{'descr': '<f4', 'fortran_order': False, 'shape': (211106232532992, 784), }", b""),
        }
    )
)
def test_crafted_npy_headers(data):
    """Huge and negative shapes, object/unicode/complex/structured dtypes, Fortran order,
    headers that lie about the data, damaged magic and header lengths."""
    check(data, "npy headers")


def test_fortran_order_and_other_float_widths_load_right():
    a = np.load(io.BytesIO(SMALL_MEMBERS["W0.npy"]))
    for variant in (np.asfortranarray(a), a.astype(">f4"), a.astype("<f8"), a.astype("<f2")):
        model = load_model(rezip({**SMALL_MEMBERS, "W0.npy": npy_of(variant)}))
        np.testing.assert_array_equal(model.weights[0], variant.astype(np.float32))
        assert model.weights[0].flags.c_contiguous


# ------------------------------------------------------------ crafted metadata JSON

FRAGMENTS = [
    "1e39",
    "-1e39",
    "NaN",
    "Infinity",
    "-Infinity",
    "1e400",
    "-1e400",
    "0",
    "-0.0",
    "-1",
    "1e-46",
    "1e-40",
    "1e-38",
    "3.4028235e38",
    "3.4e38",
    "340282366920938463463374607431768211456",
    '"0.3"',
    '"abc"',
    "true",
    "false",
    "null",
    "[]",
    "{}",
    "[1, 2]",
    '{"version": 1}',
    "1" * 5000,
    "9" * 400,
    "0.1",
    "0.3",
    "1",
    "[784, 6, 10]",
    "[784, 10]",
    "[784, 6.0, 10]",
    "[784, -6, 10]",
    "[784, true, 10]",
    "[784, 0, 10]",
]
PATHS = [
    ("input", "mean"),
    ("input", "std"),
    ("input",),
    ("layers",),
    ("format_version",),
    ("format",),
    ("input", "preprocessing"),
    ("input", "preprocessing", "version"),
    ("test_error",),
    ("hyperparameters",),
    ("extra",),
]


@st.composite
def json_value(draw):
    kind = draw(st.integers(0, 5))
    if kind == 0:
        return json.dumps(draw(st.floats(allow_nan=True, allow_infinity=True)))
    if kind == 1:
        return str(draw(st.integers(-(2**200), 2**200)))
    if kind == 2:
        depth = draw(st.one_of(st.integers(0, 40), st.integers(0, 40000)))
        if draw(st.booleans()):
            return "[" * depth + "]" * depth
        return '{"a": ' * depth + "1" + "}" * depth
    if kind == 3:
        depth = draw(st.integers(0, 40000))  # unbalanced
        return draw(st.sampled_from(["[", "{", '{"a":[', "]"])) * depth
    return draw(st.sampled_from(FRAGMENTS))


@st.composite
def meta_text(draw):
    if draw(st.integers(0, 9)) == 0:  # not a JSON object at all
        return draw(
            st.one_of(
                st.text(max_size=200),
                st.sampled_from(["[]", '"x"', "1", "null", json.dumps([META]), "{" * 100000, "", "\0" * 10]),
            )
        )
    meta = json.loads(json.dumps(META))
    raw = {}
    for i in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(PATHS))
        node = meta
        for key in path[:-1]:
            if not isinstance(node.get(key), dict):
                node[key] = {}
            node = node[key]
        node[path[-1]] = sentinel = f"@@{i}@@"
        raw[json.dumps(sentinel)] = draw(json_value())
    text = json.dumps(meta)
    for sentinel, value in raw.items():
        text = text.replace(sentinel, value)
    return text


@st.composite
def crafted_meta(draw):
    text = draw(meta_text())
    how = draw(st.sampled_from(["<U"] * 6 + [">U", "S", "1-d", "bad code points"]))
    if how == "<U":
        raw = npy_of(np.array(text))
    elif how == ">U":
        raw = npy_of(np.array(text).astype(f">U{max(1, len(text))}"))
    elif how == "S":
        raw = npy_of(np.array(text.encode("utf-8", "replace")))
    elif how == "1-d":
        raw = npy_of(np.array([text]))
    else:
        codes = np.frombuffer(np.array(text or "x").tobytes(), "<u4").copy()
        codes[draw(st.integers(0, len(codes) - 1))] = draw(
            st.sampled_from([0xD800, 0xDFFF, 0x110000, 0xFFFFFFFF])
        )
        raw = npy(f"{{'descr': '<U{len(codes)}', 'fortran_order': False, 'shape': (), }}", codes.tobytes())
    return rezip({**SMALL_MEMBERS, "meta.npy": raw})


def meta_file(text: str) -> bytes:
    return rezip({**SMALL_MEMBERS, "meta.npy": npy_of(np.array(text))})


@settings(FUZZ, max_examples=1000)
@given(data=crafted_meta())
@example(data=meta_file("[" * 30000 + "]" * 30000))
@example(data=meta_file(json.dumps({**META, "input": {**META["input"], "std": 1e39}})))
@example(data=meta_file(json.dumps({**META, "input": [0.1, 0.3]})))
def test_crafted_meta_json(data):
    """Deep nesting, huge numbers, non-object input, mean/std 1e39 / NaN / strings / tiny,
    wrong layers and versions, text that is not JSON or not even valid characters."""
    check(data, "meta json")


# ------------------------------------------------------------ summary

PROPERTIES = {"truncation", "bit flips", "zip entries", "npy headers", "meta json"}


def test_zz_summary(record_property):
    """At least MIN_CASES corrupted files were tried (when the whole file ran); print the tally."""
    if not PROPERTIES <= RAN:
        pytest.skip(f"only {sorted(RAN)} ran; the tally needs every property")
    lines = [f"model-file fuzz: {STATS['cases']} cases, {STATS['refused']} refused, {STATS['loaded']} loaded"]
    for prop in sorted(PROPERTIES):
        lines.append(
            f"  {prop:12} {STATS[prop + ' cases']:5} cases  {STATS[prop + ' refused']:5} refused"
            f"  {STATS[prop + ' loaded']:5} loaded"
        )
    lines.append(f"  {len(REASONS)} kinds of refusal, the most common:")
    lines += [f"  {n:6}  {SAMPLES[reason]}" for reason, n in REASONS.most_common(12)]
    print("\n" + "\n".join(lines))
    for key in ("cases", "refused", "loaded"):
        record_property(f"fuzz_{key}", STATS[key])
    assert STATS["cases"] >= MIN_CASES, lines[0]
    assert STATS["refused"] > 0 and STATS["loaded"] > 0, lines[0]
    assert len(REASONS) >= 20, REASONS


def test_the_loader_is_quick_on_the_worst_cases():
    """The slowest inputs we know (the most nested, the longest, the largest) take well under
    a second: every size is checked before anything big is parsed or allocated."""
    worst = [
        meta_file("[" * 65536),
        meta_file("[" * 32768 + "]" * 32768),
        meta_file('"' + "\\\\" * 30000 + '"'),
        rezip(
            {
                **SMALL_MEMBERS,
                "W0.npy": npy(
                    "{'descr': '<f4', 'fortran_order': False, 'shape': (" + "1," * 3000 + "), }", b""
                ),
            }
        ),
        rezip(
            {
                **SMALL_MEMBERS,
                "W0.npy": npy("{'descr': '<f4', 'fortran_order': False, 'shape': (" + "9" * 9000, b""),
            }
        ),
    ]
    for data in worst:
        t = time.perf_counter()
        with pytest.raises(ModelFileError):
            load_model(data)
        assert time.perf_counter() - t < 1.0
