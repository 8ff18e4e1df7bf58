"""The model file: round trip, and a clear refusal of every kind of bad file."""

import io
import json
import struct
import sys
import warnings
import zipfile
import zlib

import numpy as np
import pytest

from digitnet.learn import init_params
from digitnet.modelfile import FORMAT_VERSION, ModelFileError, load_model, save_model
from digitnet.network import Model, predict_proba
from tools.paths import ROOT


def make_model(sizes=(784, 32, 10)) -> Model:
    w, b = init_params(list(sizes), np.random.default_rng(0))
    return Model(w, b, 0.13, 0.31, {"test_error": 0.05})


def write(path, **arrays):
    np.savez(path, **arrays)
    return path


def good_arrays(model: Model, **meta_changes):
    meta = {
        "format": "digit-mlp",
        "format_version": FORMAT_VERSION,
        "layers": model.sizes,
        "input": {"mean": 0.1, "std": 0.3},
    }
    meta.update(meta_changes)
    arrays = {"meta": np.array(json.dumps(meta))}
    for l, (w, b) in enumerate(zip(model.weights, model.biases)):
        arrays[f"W{l}"], arrays[f"b{l}"] = w, b
    return arrays


def test_round_trip(tmp_path):
    model = make_model((784, 16, 8, 10))
    save_model(tmp_path / "m.npz", model)
    loaded = load_model(tmp_path / "m.npz")
    assert loaded.sizes == [784, 16, 8, 10]
    assert loaded.mean == pytest.approx(0.13) and loaded.std == pytest.approx(0.31)
    assert loaded.meta["test_error"] == 0.05 and loaded.meta["format_version"] == FORMAT_VERSION
    x = np.random.default_rng(1).random((3, 28, 28), np.float32)
    assert np.array_equal(predict_proba(model, x), predict_proba(loaded, x))
    # from bytes too, as the page does
    assert load_model((tmp_path / "m.npz").read_bytes()).sizes == [784, 16, 8, 10]


def test_exact_store_keeps_every_value_and_uses_float16_where_that_changes_none(tmp_path):
    model = make_model((784, 16, 8, 10))
    halved = [w.astype(np.float16).astype(np.float32) for w in model.weights]
    mixed = Model([halved[0], model.weights[1], halved[2]], model.biases, 0.13, 0.31, {})
    assert not np.array_equal(halved[1], model.weights[1])
    save_model(tmp_path / "m.npz", mixed, store="exact")
    with np.load(tmp_path / "m.npz") as z:
        assert [z[f"W{l}"].dtype for l in range(3)] == [np.float16, np.float32, np.float16]
    loaded = load_model(tmp_path / "m.npz")
    assert all(
        np.array_equal(a, b) for a, b in zip(mixed.weights + mixed.biases, loaded.weights + loaded.biases)
    )
    with pytest.raises(ValueError, match="store must be"):
        save_model(tmp_path / "x.npz", mixed, store="float8")


def test_shipped_model_loads_and_is_small():
    path = ROOT / "static" / "model" / "model.npz"
    model = load_model(path)
    assert model.sizes[0] == 784 and model.sizes[-1] == 11  # ten digits and "not a digit"
    assert path.stat().st_size <= 1_000_000
    assert 0 < model.meta["test_error"] <= 0.012


@pytest.mark.parametrize(
    "change, reason",
    [
        (lambda a: a.pop("W1"), "layer 1 is missing its 'W1'"),
        (lambda a: a.pop("b0"), "missing its 'b0'"),
        (lambda a: a.pop("meta"), "no 'meta' entry"),
        (lambda a: a.update(W0=a["W0"][:100]), "W0 has shape (100, 32), expected (784, 32)"),
        (lambda a: a.update(b1=a["b1"][:5]), "b1 has shape (5,), expected (10,)"),
        (lambda a: a.update(W0=a["W0"].astype(np.int32)), "W0 has dtype int32, floats expected"),
        (lambda a: a["b0"].__setitem__(3, np.nan), "b0 holds NaN or infinite"),
        (lambda a: a["W1"].__setitem__((0, 0), np.inf), "W1 holds NaN or infinite"),
        (lambda a: a.update(meta=np.array("{not json")), "'meta' is not valid JSON"),
        (lambda a: a.update(W9=np.zeros(3, np.float32)), "['W9'] are not part of"),
        (lambda a: a.update(meta=np.array(json.dumps({"format": "other"}))), "does not describe"),
    ],
)
def test_refuses_damaged_models(tmp_path, change, reason):
    arrays = good_arrays(make_model())
    change(arrays)
    with pytest.raises(ModelFileError) as e:
        load_model(write(tmp_path / "bad.npz", **arrays))
    assert reason in str(e.value) and "bad.npz" in str(e.value)


def test_refuses_unknown_version_and_wrong_io(tmp_path):
    m = make_model()
    with pytest.raises(ModelFileError, match="format version 99 is not supported"):
        load_model(write(tmp_path / "v.npz", **good_arrays(m, format_version=99)))
    with pytest.raises(ModelFileError, match="do not map 784 pixels to 10 digits"):
        load_model(write(tmp_path / "l.npz", **good_arrays(m, layers=[784, 32, 9])))
    with pytest.raises(ModelFileError, match="std=0"):
        load_model(write(tmp_path / "s.npz", **good_arrays(m, input={"mean": 0, "std": 0})))


def test_refuses_files_that_are_not_models(tmp_path):
    (tmp_path / "garbage.npz").write_bytes(b"this is not a zip file at all")
    with pytest.raises(ModelFileError, match="garbage.npz: not a model file"):
        load_model(tmp_path / "garbage.npz")
    with pytest.raises(ModelFileError, match="no such file"):
        load_model(tmp_path / "missing.npz")
    np.save(tmp_path / "single.npy", np.zeros(3))
    with pytest.raises(ModelFileError, match="single array"):
        load_model(tmp_path / "single.npy")
    with pytest.raises(ModelFileError, match="not a model file"):
        load_model(b"")


def test_refuses_truncated_and_pickled(tmp_path):
    save_model(tmp_path / "m.npz", make_model())
    data = (tmp_path / "m.npz").read_bytes()
    with pytest.raises(ModelFileError):
        load_model(data[: len(data) // 2])
    # an object array needs pickle: refused, never unpickled
    buf = io.BytesIO()
    arrays = good_arrays(make_model())
    arrays["W0"] = np.array([object()] * 3, dtype=object)
    np.savez(buf, **arrays)
    with pytest.raises(ModelFileError):
        load_model(buf.getvalue())


def test_refuses_corrupted_bytes_inside_the_zip(tmp_path):
    save_model(tmp_path / "m.npz", make_model())
    data = bytearray((tmp_path / "m.npz").read_bytes())
    with zipfile.ZipFile(tmp_path / "m.npz") as z:
        info = z.getinfo("W0.npy")
    start = info.header_offset + 30 + len(info.filename) + 200
    data[start : start + 64] = bytes(64)
    with pytest.raises(ModelFileError):
        load_model(bytes(data))


# ------------------------------------------------------------ preprocessing version


def test_the_preprocessing_version_is_written_from_the_code(tmp_path):
    from digitnet import preprocess

    save_model(tmp_path / "m.npz", make_model())
    recorded = load_model(tmp_path / "m.npz").meta["input"]["preprocessing"]
    assert recorded == {"version": preprocess.VERSION, "steps": preprocess.DESCRIPTION}


def test_a_model_made_for_another_preprocessing_is_refused(tmp_path):
    from digitnet import preprocess

    model = make_model()
    other = {"mean": 0.1, "std": 0.3, "preprocessing": {"version": preprocess.VERSION + 1, "steps": "new"}}
    path = write(tmp_path / "newer.npz", **good_arrays(model, input=other))
    with pytest.raises(ModelFileError) as e:
        load_model(path)
    message = str(e.value)
    assert message.startswith(str(path)) and f"preprocessing version {preprocess.VERSION + 1}" in message
    assert f"version {preprocess.VERSION}" in message and "retrain" in message


def test_a_model_from_before_versions_counts_as_version_1(tmp_path):
    legacy = {"mean": 0.1, "std": 0.3, "preprocessing": "crop to ink, scale longer side to 20 px"}
    path = write(tmp_path / "old.npz", **good_arrays(make_model(), input=legacy))
    assert load_model(path).sizes == [784, 32, 10]


def test_messages_use_the_name_given(tmp_path):
    with pytest.raises(ModelFileError) as e:
        load_model(b"not a zip", name="static/model/mine.npz")
    assert str(e.value).startswith("static/model/mine.npz: not a model file")


def test_an_interrupted_save_leaves_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    save_model(path, make_model())
    before = path.read_bytes()

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez_compressed", fail)
    with pytest.raises(OSError):
        save_model(path, make_model((784, 8, 10)))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]  # no temporary file left behind


# ------------------------------------------------------------ any bytes: ModelFileError only


def npz_bytes(arrays, compressed=True) -> bytes:
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buf, **arrays)
    return buf.getvalue()


def central_record(data: bytes, member: str) -> int:
    """Offset of ``member``'s record in the zip's central directory."""
    at = struct.unpack_from("<I", data, data.rindex(b"PK\x05\x06") + 16)[0]
    while True:
        nlen, elen, clen = struct.unpack_from("<HHH", data, at + 28)
        if data[at + 46 : at + 46 + nlen] == member.encode():
            return at
        at += 46 + nlen + elen + clen


def meta_with(**changes) -> dict:
    return {
        "format": "digit-mlp",
        "format_version": FORMAT_VERSION,
        "layers": [784, 32, 10],
        "input": {"mean": 0.1, "std": 0.3},
        **changes,
    }


def with_meta(text: str) -> bytes:
    arrays = good_arrays(make_model())
    arrays["meta"] = np.array(text)
    return npz_bytes(arrays)


def refusal(data, name="m.npz") -> str:
    with pytest.raises(ModelFileError) as e:
        load_model(data, name)
    message = str(e.value)
    assert message.startswith(f"{name}: ") and "\n" not in message
    assert "cannot be read as a model" not in message  # a known class, its own words
    return message


def test_corrupt_compressed_data_is_refused():
    """zlib.error, as a damaged or half-copied file gives: a plain refusal."""
    data = bytearray(npz_bytes(good_arrays(make_model())))
    local = struct.unpack_from("<I", data, central_record(bytes(data), "W0.npy") + 42)[0]
    nlen, elen = struct.unpack_from("<HH", data, local + 26)
    data[local + 30 + nlen + elen] = 0xFF  # an invalid deflate block type
    message = refusal(bytes(data))
    assert "W0.npy" in message and "compressed data is corrupt" in message


@pytest.mark.parametrize(
    "flags, reason", [(0x1, "is encrypted"), (0x40, "is encrypted"), (0x20, "stored as a patch")]
)
def test_encrypted_entries_are_refused(flags, reason):
    data = bytearray(npz_bytes(good_arrays(make_model())))
    at = central_record(bytes(data), "b0.npy")
    struct.pack_into("<H", data, at + 8, struct.unpack_from("<H", data, at + 8)[0] | flags)
    assert reason in refusal(bytes(data))


@pytest.mark.parametrize("method", [1, 12, 14, 93, 99, 0xFFFF])
def test_unsupported_compression_methods_are_refused(method):
    data = bytearray(npz_bytes(good_arrays(make_model())))
    struct.pack_into("<H", data, central_record(bytes(data), "W1.npy") + 10, method)
    assert f"compression method {method}; only stored or deflated" in refusal(bytes(data))


@pytest.mark.parametrize(
    "compressed, field, value, reason",
    [
        (True, 24, lambda n: 0xFFFFFFFF, "more than 64 MB unpacked"),  # declared uncompressed size
        (True, 20, lambda n: 0xFFFFFFF0, "more than the whole file"),  # declared compressed size
        (True, 24, lambda n: n + 10, "holds 100480 bytes, its directory says 100490"),
        (True, 24, lambda n: 7, "does not match its checksum"),
        (False, 24, lambda n: n - 1, "stored uncompressed but its sizes differ"),
    ],
)
def test_zip_sizes_are_checked_before_reading(compressed, field, value, reason):
    data = bytearray(npz_bytes(good_arrays(make_model()), compressed))
    at = central_record(bytes(data), "W0.npy") + field
    struct.pack_into("<I", data, at, value(struct.unpack_from("<I", data, at)[0]))
    assert reason in refusal(bytes(data))


@pytest.mark.parametrize("inp", [[0.1, 0.3], "mean 0.1", 5, None, True])
def test_input_metadata_must_be_an_object(tmp_path, inp):
    message = refusal(with_meta(json.dumps(meta_with(input=inp))))
    assert "'input' in 'meta' must be an object" in message


def test_deep_or_huge_metadata_is_refused_before_json_parses_it():
    from digitnet.modelfile import MAX_META_CHARS, MAX_META_DEPTH

    deep = json.dumps(meta_with(hyperparameters="@"))
    nested = deep.replace('"@"', "[" * 5000 + "]" * 5000)
    assert f"nests 5001 levels deep, more than the {MAX_META_DEPTH}" in refusal(with_meta(nested))
    assert "nests" in refusal(with_meta("{" * 20000))  # unbalanced, still counted
    assert "characters long" in refusal(with_meta("[" * (MAX_META_CHARS + 1)))
    brackets_in_strings = deep.replace('"@"', json.dumps("[{" * 5000))
    assert load_model(with_meta(brackets_in_strings)).meta["hyperparameters"] == "[{" * 5000
    ok = deep.replace('"@"', "[" * (MAX_META_DEPTH - 1) + "]" * (MAX_META_DEPTH - 1))  # 32 deep
    limit = sys.getrecursionlimit()
    depth, frame = 0, sys._getframe()
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    sys.setrecursionlimit(depth + 80)  # a small stack, like Pyodide's: still enough
    try:
        model = load_model(with_meta(ok))
    finally:
        sys.setrecursionlimit(limit)
    assert model.sizes == [784, 32, 10]


def npy_file(header: str, data: bytes = b"") -> bytes:
    text = header.encode("latin-1")
    text += b" " * (-(10 + len(text) + 1) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + data


def npz_with_entries(**raw: bytes) -> bytes:
    """The good test model's entries, some replaced by raw ``.npy`` bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for key, value in good_arrays(make_model()).items():
            one = io.BytesIO()
            np.save(one, value)
            z.writestr(f"{key}.npy", raw.get(key, one.getvalue()))
    return buf.getvalue()


@pytest.mark.parametrize(
    "shape, reason",
    [
        ("(211106232532992, 4096)", "declares shape (211106232532992, 4096) of float32"),  # 3 PiB
        ("(784, 32, 1000000000000000000)", "declares shape (784, 32, 1000000000000000000)"),
        ("(784, -1)", "declares shape (784, -1) of float32"),
        ("(" + "9" * 30 + ", 32)", "declares shape (999999"),
        ("(784, 32", "damaged array header"),
    ],
)
def test_npy_headers_are_checked_before_allocating(shape, reason):
    header = f"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}"
    assert reason in refusal(npz_with_entries(W0=npy_file(header, bytes(100))))


@pytest.mark.parametrize(
    "descr, reason",
    [
        ("'|O'", "holds Python objects (pickled data), never loaded"),
        ("[('a', '<f4'), ('b', '|O')]", "holds Python objects (pickled data), never loaded"),
        ("'x9'", "damaged array header: descr is not a valid dtype descriptor: 'x9'"),
        ("'<f4[3]'", "damaged array header"),
        ("__import__('os')", "damaged array header"),
    ],
)
def test_npy_headers_never_unpickle_nor_evaluate(descr, reason):
    header = f"{{'descr': {descr}, 'fortran_order': False, 'shape': (32,), }}"
    assert reason in refusal(npz_with_entries(b0=npy_file(header, bytes(256))))


def test_long_npy_headers_are_refused_before_python_parses_them():
    """NumPy reads a header with Python's parser, which nests as deep as the text does: a few thousand
    characters overflow the stack of the page's worker. A header over MAX_HEADER is never parsed."""
    from digitnet.npzread import MAX_HEADER

    for shape in ("-" * 4000 + "1", "1" + "+1" * 2500, "(784, 32" + " " * MAX_HEADER + ")"):
        header = f"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}"
        message = refusal(npz_with_entries(W0=npy_file(header, bytes(100352))))
        assert "W0 has a damaged array header: Header info length" in message and "safe" in message


def test_an_entry_twice_is_refused():
    buf = io.BytesIO(npz_with_entries())
    with zipfile.ZipFile(buf, "a") as z, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name"
        z.writestr("W0.npy", b"")
    assert "the archive holds 'W0' twice" in refusal(buf.getvalue())


@pytest.mark.parametrize("dtype", ["<c8", "<U4", "|S4", "<i8", "|b1", "<M8[s]"])
def test_non_float_weights_are_refused(dtype):
    arrays = good_arrays(make_model())
    arrays["b0"] = np.zeros(32, dtype)
    assert "b0 has dtype" in refusal(npz_bytes(arrays))


def test_float64_weights_must_fit_float32():
    arrays = good_arrays(make_model())
    arrays["W1"] = arrays["W1"].astype(np.float64)
    assert load_model(npz_bytes(arrays)).weights[1].dtype == np.float32
    arrays["W1"][3, 4] = 1e300
    assert "W1 holds values too large for float32" in refusal(npz_bytes(arrays))


@pytest.mark.parametrize(
    "mean, std",
    [
        (0.1, 1e39),
        (1e39, 0.3),
        (-1e39, 0.3),
        ("NaN", 0.3),
        (0.1, "Infinity"),
        (0.1, "-Infinity"),
        (0.1, 1e-46),  # 0 as float32
        (0.1, 1e-40),  # a float32 subnormal: (1 - 0.1) / std overflows
        (3.4e38, 1e-3),  # finite, but (0 - mean) / std is not
        (0.1, '"0.3"'),
        ('"0.1"', 0.3),
        (0.1, "true"),
        (0.1, "null"),
        (0.1, -0.3),
        (0.1, "1e400"),
        ("1" + "0" * 40, 0.3),  # an int beyond float32
    ],
)
def test_normalisation_must_be_finite_float32(mean, std):
    text = json.dumps(meta_with(input={"mean": "@m", "std": "@s"}))
    text = text.replace('"@m"', str(mean)).replace('"@s"', str(std))
    assert "input normalisation" in refusal(with_meta(text))


def test_files_too_large_are_refused_unread(tmp_path, monkeypatch):
    from digitnet import modelfile

    path = tmp_path / "m.npz"
    path.write_bytes(npz_bytes(good_arrays(make_model()), compressed=False))
    monkeypatch.setattr(modelfile, "MAX_BYTES", path.stat().st_size - 1)
    assert "too large for a model file" in refusal(path, str(path))
    assert "too large for a model file" in refusal(path.read_bytes())
    with open(path, "rb") as f:
        assert "too large for a model file" in refusal(f)
    monkeypatch.setattr(modelfile, "MAX_BYTES", path.stat().st_size)
    assert load_model(path).sizes == [784, 32, 10]
    assert "cannot read the file" in refusal(tmp_path, "folder")


ERRORS = [
    zipfile.BadZipFile("bad"),
    zipfile.LargeZipFile("large"),
    NotImplementedError("method"),
    RuntimeError("File is encrypted"),
    zlib.error("Error -3"),
    EOFError(),
    OSError("io"),
    ValueError("v"),
    KeyError("k"),
    UnicodeDecodeError("utf-8", b"\xff", 0, 1, "bad"),
    OverflowError("o"),
    struct.error("s"),
    MemoryError(),
    RecursionError("r"),
    TypeError("t"),
    IndexError("i"),
]


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("where", ["zip directory", "zip entry", "json"])
def test_every_library_error_becomes_a_model_file_error(monkeypatch, error, where):
    """Whatever zipfile, zlib or json raise (real or not yet seen), the caller gets a
    ModelFileError naming the file, never the library's exception."""
    data = npz_bytes(good_arrays(make_model()))

    def fail(*args, **kwargs):
        raise error

    target = {
        "zip directory": (zipfile.ZipFile, "_RealGetContents"),
        "zip entry": (zipfile.ZipFile, "open"),
        "json": (json, "loads"),
    }[where]
    monkeypatch.setattr(*target, fail)
    with pytest.raises(ModelFileError) as e:
        load_model(data, "x.npz")
    assert str(e.value).startswith("x.npz: ")


def test_save_refuses_metadata_the_loader_would_refuse(tmp_path):
    from digitnet.modelfile import MAX_META_CHARS

    model = make_model()
    for meta in ({"notes": "x" * MAX_META_CHARS}, {"deep": json.loads("[" * 40 + "]" * 40)}):
        with pytest.raises(ValueError, match="too large or too deeply nested"):
            save_model(tmp_path / "m.npz", Model(model.weights, model.biases, 0.1, 0.3, meta))
    assert not list(tmp_path.iterdir())
