"""The model file: round trip, and a clear refusal of every kind of bad file."""

import io
import json
import zipfile

import numpy as np
import pytest

from digitnet.modelfile import FORMAT_VERSION, ModelFileError, load_model, save_model
from digitnet.network import Model, predict_proba
from tools.paths import ROOT
from digitnet.learn import init_params


def make_model(sizes=(784, 32, 10)) -> Model:
    w, b = init_params(list(sizes), np.random.default_rng(0))
    return Model(w, b, 0.13, 0.31, {"test_error": 0.05})


def write(path, **arrays):
    np.savez(path, **arrays)
    return path


def good_arrays(model: Model, **meta_changes):
    meta = {"format": "digit-mlp", "format_version": FORMAT_VERSION, "layers": model.sizes,
            "input": {"mean": 0.1, "std": 0.3}}
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


def test_shipped_model_loads_and_is_small():
    path = ROOT / "static" / "model" / "model.npz"
    model = load_model(path)
    assert model.sizes[0] == 784 and model.sizes[-1] == 10
    assert path.stat().st_size <= 1_000_000
    assert 0 < model.meta["test_error"] <= 0.012


@pytest.mark.parametrize("change, reason", [
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
])
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
    data[start:start + 64] = bytes(64)
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
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]      # no temporary file left behind
