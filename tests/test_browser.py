"""digitnet.browser, the worker's Python API, in CPython: the functions the page calls."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from digitnet import browser, csvfile, modelfile, preprocess
from digitnet.browser import LAYOUT, RESULT_LENGTH, Session
from digitnet.learn import init_params
from digitnet.modelfile import load_model, save_model
from digitnet.network import Model
from digitnet.number import read_number
from digitnet.predict import LIVE, VIEWS, predict_drawing
from digitnet.sizes import CANVAS, CLASSES, NOT_DIGIT, PEN_DEFAULT, PIXELS, SIDE
from tools.paths import SHIPPED_MODEL
from training.strokes import DIGITS, render, transform


def session() -> Session:
    s = Session()
    answer = json.loads(s.load_model(SHIPPED_MODEL.read_bytes(), "static/model/model.npz"))
    assert answer["ok"] and answer["layers"][0] == PIXELS and answer["layers"][-1] in (CLASSES, CLASSES + 1)
    return s


def test_describe_gives_the_page_its_sizes_and_the_result_layout():
    info = json.loads(browser.describe())
    assert info["sizes"] == {
        "side": SIDE,
        "pixels": PIXELS,
        "classes": CLASSES,
        "not_digit": NOT_DIGIT,
        "canvas": CANVAS,
    }
    assert info["limits"] == {
        "import_rows": csvfile.IMPORT_ROWS,
        "import_bytes": csvfile.IMPORT_BYTES,
        "model_bytes": modelfile.MAX_BYTES,
    }
    assert (
        info["layout"]["probs"] == [0, CLASSES]
        and info["layout"]["image"][1] - info["layout"]["image"][0] == PIXELS
    )
    assert set(info["layout"]) == {"probs", "not_digit", "verdict", "reason", "image", "count", "pen"}
    assert set(info["character"]) == {"box", "probs", "not_digit", "verdict", "reason", "image"}
    assert info["result_length"] == RESULT_LENGTH and info["character_length"] == browser.CHARACTER_LENGTH
    assert info["verdicts"] == ["empty", "digit", "not-digit", "number"] and "side-by-side" in info["reasons"]
    assert info["versions"]["preprocessing"] == preprocess.VERSION and info["versions"]["numpy"]
    spans = sorted(LAYOUT.values())
    assert spans[0][0] == 0 and spans[-1][1] == RESULT_LENGTH
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))  # back to back, no gap
    spans = sorted(browser.CHARACTER.values())
    assert spans[0][0] == 0 and spans[-1][1] == browser.CHARACTER_LENGTH
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))


def test_predict_is_predict_drawing_in_one_buffer():
    s = session()
    pad = render(DIGITS[3], size=CANVAS, width=10)
    out = s.predict(pad.tobytes(), CANVAS, CANVAS)
    assert out.dtype == np.float32 and out.shape == (RESULT_LENGTH + browser.CHARACTER_LENGTH,)
    assert out[LAYOUT["count"][0]] == 1  # one character, whose block repeats the reading
    block = out[RESULT_LENGTH:]
    assert np.array_equal(block[slice(*browser.CHARACTER["probs"])], out[slice(*LAYOUT["probs"])])
    assert np.array_equal(block[slice(*browser.CHARACTER["image"])], out[slice(*LAYOUT["image"])])
    expected = predict_drawing(load_model(SHIPPED_MODEL), pad)
    assert np.array_equal(out[slice(*LAYOUT["probs"])], expected.probs)
    assert np.array_equal(out[slice(*LAYOUT["image"])], expected.image.ravel())
    assert int(np.argmax(out[slice(*LAYOUT["probs"])])) == 3
    assert browser.VERDICTS[int(out[slice(*LAYOUT["verdict"])][0])] == expected.verdict == "digit"
    assert browser.REASONS[int(out[slice(*LAYOUT["reason"])][0])] == expected.reason == ""
    assert out[slice(*LAYOUT["not_digit"])][0] == expected.not_digit


def test_live_is_one_quick_reading_and_settled_all_nine_views():
    s = session()
    pad = render(DIGITS[7], size=CANVAS, width=10)
    model = load_model(SHIPPED_MODEL)
    live = s.predict(pad.tobytes(), CANVAS, CANVAS, 0.0, True)[slice(*LAYOUT["probs"])]
    settled = s.predict(pad.tobytes(), CANVAS, CANVAS, 0.0, False)[slice(*LAYOUT["probs"])]
    assert np.array_equal(live, predict_drawing(model, pad, views=LIVE).probs)
    assert np.array_equal(settled, predict_drawing(model, pad, views=VIEWS).probs)
    assert not np.array_equal(live, settled) and np.argmax(live) == np.argmax(settled) == 7


def test_predict_takes_what_pyodide_passes():
    """In Pyodide a Uint8Array arrives as a JsProxy with to_bytes(); a memoryview works too."""

    class FakeJsProxy:
        def __init__(self, data: bytes):
            self.data = data

        def to_bytes(self) -> bytes:
            return self.data

    s = session()
    pad = render(DIGITS[7], size=CANVAS, width=10).tobytes()
    a = s.predict(FakeJsProxy(pad), CANVAS, CANVAS)
    b = s.predict(memoryview(pad), CANVAS, CANVAS)
    assert np.array_equal(a, b)


def test_an_empty_pad_gives_none():
    assert session().predict(bytes(CANVAS * CANVAS), CANVAS, CANVAS) is None


def test_a_bad_model_keeps_the_one_in_use():
    s = session()
    answer = json.loads(s.load_model(b"PK\x03\x04 broken", "static/model/broken.npz"))
    assert answer == {"ok": False, "error": answer["error"]}
    assert answer["error"].startswith("static/model/broken.npz: not a model file")
    assert s.predict(render(DIGITS[1], size=CANVAS, width=10).tobytes(), CANVAS, CANVAS) is not None


def test_predict_before_a_model_is_an_error():
    import pytest

    with pytest.raises(RuntimeError, match="no model"):
        Session().predict(bytes(4), 2, 2)


def test_warm_up_reads_practice_drawings_and_changes_nothing():
    s = session()
    pad = render(DIGITS[5], size=CANVAS, width=10).tobytes()
    before = s.predict(pad, CANVAS, CANVAS)
    s.warm_up(8)
    assert np.array_equal(s.predict(pad, CANVAS, CANVAS), before)
    pads = browser.practice_pads()
    assert all(p.shape == (CANVAS, CANVAS) and p.dtype == np.uint8 for p in pads)
    assert all(predict_drawing(s.model, p) is not None for p in pads)  # each one is read, not skipped


def characters(out: np.ndarray) -> list[np.ndarray]:
    """The character blocks of a Session.predict result."""
    n = int(out[LAYOUT["count"][0]])
    return [out[RESULT_LENGTH + i * browser.CHARACTER_LENGTH :][: browser.CHARACTER_LENGTH] for i in range(n)]


def test_an_old_ten_class_model_loads_and_only_ever_reads_digits():
    """A file from before "not a digit" (10 outputs) loads in the worker's Session and reads each
    character as a digit; two digits side by side are a number, for it and for the shipped model."""
    old = Model(*init_params([PIXELS, 32, CLASSES], np.random.default_rng(0)), 0.1, 0.3, {})
    buffer = io.BytesIO()
    save_model(buffer, old)
    s = Session()
    answer = json.loads(s.load_model(buffer.getvalue(), "old.npz"))
    assert answer["ok"] and answer["layers"] == [PIXELS, 32, CLASSES]
    twelve = render(transform(DIGITS[1], 0.5, -0.2) + transform(DIGITS[2], 0.5, 0.2), size=CANVAS, width=8)
    out = s.predict(twelve.tobytes(), CANVAS, CANVAS)
    assert browser.VERDICTS[int(out[slice(*LAYOUT["verdict"])][0])] == "number"
    blocks = characters(out)
    assert len(blocks) == 2
    for block in blocks:
        assert browser.VERDICTS[int(block[slice(*browser.CHARACTER["verdict"])][0])] == "digit"
        assert block[slice(*browser.CHARACTER["not_digit"])][0] == 0
        assert np.isclose(block[slice(*browser.CHARACTER["probs"])].sum(), 1)
    shipped = session().predict(twelve.tobytes(), CANVAS, CANVAS)
    assert browser.VERDICTS[int(shipped[slice(*LAYOUT["verdict"])][0])] == "number"
    read = [int(np.argmax(b[slice(*browser.CHARACTER["probs"])])) for b in characters(shipped)]
    assert read == [1, 2]
    (left, _, right, _), (left2, *_) = (b[slice(*browser.CHARACTER["box"])] for b in characters(shipped))
    assert left < right <= left2  # left to right, boxes apart


def test_a_reading_offers_a_thinner_pen_as_a_fraction_of_the_pad():
    """LAYOUT "pen": ``NumberReading.fitting_pen`` over the pad's height; 0 when the pen suits."""
    digits = [transform(DIGITS[d], 0.19, x - 0.5) for d, x in zip((3, 3, 9, 6, 5), (0.1, 0.3, 0.5, 0.7, 0.9))]
    strokes = [s for d in digits for s in d]
    pen = PEN_DEFAULT * CANVAS
    pad = render(strokes, size=CANVAS, width=pen)
    out = session().predict(pad.tobytes(), CANVAS, CANVAS, pen)
    expected = read_number(session().model, pad, pen).fitting_pen(pen, CANVAS)
    assert expected > 0 and out[LAYOUT["pen"][0]] == np.float32(expected / CANVAS)
    plain = render(transform(DIGITS[3]), size=CANVAS, width=pen)
    assert session().predict(plain.tobytes(), CANVAS, CANVAS, pen)[LAYOUT["pen"][0]] == 0


def test_an_import_is_read_in_slices_as_the_cli_reads_it():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (7, PIXELS)).astype(np.uint8)
    labels = np.array([0, 10, 3, 9, 4, 10, 1], np.uint8)
    text = csvfile.csv_text(images, labels).encode()
    s = Session()
    assert json.loads(s.start_import(text, "mine.csv")) == {"ok": True, "rows": 7}
    steps = [json.loads(s.import_step(3)) for _ in range(3)]
    assert [(p["row"], p["done"]) for p in steps] == [(3, False), (6, False), (7, True)]
    out = s.finish_import()
    assert out.dtype == np.uint8 and np.array_equal(out[:7], labels)
    assert np.array_equal(out[7:].reshape(7, PIXELS), images)
    assert Session.export_csv(images.tobytes(), labels.tobytes()).encode() == text


def test_an_import_refused_says_what_the_cli_says():
    bad = (csvfile.HEADER + "\n" + " 3 ," + ",".join(["0"] * PIXELS) + "\n").encode()
    s = Session()
    answer = json.loads(s.start_import(bad, "bad.csv"))
    assert answer == {"ok": True, "rows": 1}
    refused = json.loads(s.import_step(100))
    with pytest.raises(csvfile.DataError) as cli:
        csvfile.parse_csv(bad, "bad.csv", not_digit=True)
    assert refused == {"ok": False, "error": str(cli.value)} and "line 2, column 1" in refused["error"]
    too_many = (csvfile.HEADER + "\n" + ("0," * PIXELS + "0\n") * (csvfile.IMPORT_ROWS + 1)).encode()
    answer = json.loads(s.start_import(too_many, "many.csv"))
    assert not answer["ok"] and f"more than the {csvfile.IMPORT_ROWS}" in answer["error"]
