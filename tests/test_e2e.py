"""End to end: the real server, the real page, Python in Chromium (Pyodide), the shipped model.

Screenshots go to artifacts/. The digit-recognition tests need the trained
model in static/model/model.npz (a random stand-in fails them, as it should).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import App

from tools import package
from tools.harness import Server, copy_web_root
from tools.paths import ARTIFACTS, ROOT
from training.strokes import transform

pytestmark = pytest.mark.e2e


def runtime_tag() -> str:
    """The version folder static/pyodide/runtime.mjs points at (tools/assets.py writes both)."""
    m = re.search(
        r'^export const TAG = "([^"]+)";$', (ROOT / "static" / "pyodide" / "runtime.mjs").read_text(), re.M
    )
    assert m, "static/pyodide/runtime.mjs names no TAG"
    return m.group(1)


# ---------------------------------------------------------------- shapes


def ellipse(cx, cy, rx, ry, n=40, start=-math.pi / 2, turns=1.08):
    """A closed-ish loop drawn clockwise from the top (a little overlap, as people do)."""
    return [
        (
            cx + rx * math.cos(start + 2 * math.pi * turns * i / n),
            cy + ry * math.sin(start + 2 * math.pi * turns * i / n),
        )
        for i in range(n + 1)
    ]


ZERO = [ellipse(0.5, 0.5, 0.2, 0.3)]
ONE = [[(0.53, 0.18), (0.47, 0.82)]]
FOUR = [[(0.38, 0.18), (0.29, 0.58), (0.73, 0.58)], [(0.6, 0.34), (0.6, 0.86)]]
SEVEN = [[(0.28, 0.22), (0.72, 0.22), (0.44, 0.84)]]

DIGITS = [
    pytest.param(ZERO, "0", id="zero"),
    pytest.param(ONE, "1", id="one"),
    pytest.param(FOUR, "4", id="four"),
    pytest.param(SEVEN, "7", id="seven"),
    pytest.param(transform(SEVEN, 0.4), "7", id="small-seven"),
    pytest.param(transform(FOUR, 0.45), "4", id="small-four"),
    pytest.param(
        transform(ZERO, 0.5, dx=-0.25, dy=-0.23), "0", id="off-centre-zero"
    ),  # centred at (0.25, 0.27)
    pytest.param(transform(SEVEN, 0.55, dx=0.2, dy=0.2), "7", id="off-centre-seven"),  # centred at (0.7, 0.7)
]


def percentile(values, q):
    return float(np.percentile(np.asarray(values, dtype=float), q))


# ---------------------------------------------------------------- boot


def test_boots_to_ready_using_only_the_local_server(app: App):
    assert app.state == "ready", app.page.get_by_test_id("error").text_content()
    assert "Ready" in app.page.get_by_test_id("status").text_content()
    assert app.page.get_by_test_id("error").is_hidden()
    assert app.requests, "no requests recorded"
    outside = [u for u in app.requests if not u.startswith(app.url) and not u.startswith("data:")]
    assert outside == []
    assert app.failed == []
    assert app.bad_status == []
    assert app.errors == []
    # The worker fetched the runtime, NumPy, the digitnet wheel (built from py/digitnet/) and the model
    # from here; no loose Python files.
    wheel = package.ensure()[0].name
    tag = runtime_tag()
    for path in (
        f"static/pyodide/{tag}/pyodide.asm.wasm",
        f"static/pyodide/{tag}/numpy-2.0.2",
        f"static/pkg/{wheel}",
        "static/model/model.npz",
    ):
        assert any(u.startswith(app.url + path) for u in app.requests), path
    assert not [u for u in app.requests if u.endswith(".py")]
    timings = app.page.evaluate("() => digitApp.timings")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "boot.json").write_text(
        json.dumps({"ready_seconds_wall": app.boot_seconds, "worker_ms": timings}, indent=2)
    )
    print(f"\ncold boot to ready: {app.boot_seconds:.2f} s; worker stages (ms): {timings}")


def test_controls_are_labelled_and_announced(app: App):
    page = app.page
    assert page.get_by_role("button", name="Undo").count() == 1
    assert page.get_by_role("button", name="Clear").count() == 1
    assert page.get_by_test_id("pad").get_attribute("aria-label")
    assert page.get_by_test_id("announce").get_attribute("aria-live") == "polite"
    assert page.get_by_test_id("status").get_attribute("role") == "status"
    assert page.get_by_test_id("pad").evaluate("c => getComputedStyle(c).touchAction") == "none"


# ---------------------------------------------------------------- nothing drawn


def assert_shows_nothing(app: App):
    assert app.prediction() == ""
    assert app.data_probs() == ["0"] * 10
    assert app.page.get_by_test_id("prompt").is_visible()
    assert app.page.evaluate("() => digitApp.lastProbs") is None


def test_empty_pad_shows_nothing(fresh_app: App):
    assert fresh_app.ink() == 0
    assert_shows_nothing(fresh_app)


def test_lone_dot_shows_nothing(fresh_app: App):
    box = fresh_app.pad_box()
    before = fresh_app.predictions()
    fresh_app.page.mouse.click(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.45)
    fresh_app.idle()
    assert fresh_app.ink() > 0, "the dot was not drawn"
    assert fresh_app.predictions() > before
    assert_shows_nothing(fresh_app)


# ---------------------------------------------------------------- reading digits


@pytest.mark.parametrize("strokes, expected", DIGITS)
def test_recognises_digit(fresh_app: App, request, strokes, expected):
    fresh_app.draw(strokes)
    name = request.node.callspec.id
    fresh_app.screenshot(f"digit-{name}.png")
    probs = fresh_app.page.evaluate("() => Array.from(digitApp.lastProbs)")
    assert fresh_app.prediction() == expected, f"{name}: probabilities {np.round(probs, 3).tolist()}"
    top = fresh_app.page.get_by_test_id(f"prob-{expected}")
    assert "top" in top.get_attribute("class")
    assert float(top.get_attribute("data-prob")) == pytest.approx(max(probs), rel=1e-6)
    not_digit = fresh_app.page.evaluate("() => digitApp.lastVerdict.notDigit")  # the 11th output
    assert sum(float(p) for p in fresh_app.data_probs()) + not_digit == pytest.approx(1, abs=1e-4)
    assert fresh_app.page.get_by_test_id("prediction").get_attribute("data-verdict") == "digit"
    assert not fresh_app.page.get_by_test_id("prompt").is_visible()


def test_predicts_live_while_drawing(fresh_app: App):
    page, box = fresh_app.page, fresh_app.pad_box()
    before = fresh_app.predictions()
    path = ellipse(0.5, 0.5, 0.22, 0.3, n=60)
    page.mouse.move(box["x"] + path[0][0] * box["height"], box["y"] + path[0][1] * box["height"])
    page.mouse.down()
    seen_mid_stroke, live = set(), set()
    for x, y in path[1:]:
        page.mouse.move(box["x"] + x * box["height"], box["y"] + y * box["height"], steps=2)
        page.wait_for_timeout(8)
        seen_mid_stroke.add(fresh_app.predictions())
        live.add(page.evaluate("() => digitApp.lastVerdict && digitApp.lastVerdict.live"))
    during = fresh_app.predictions()
    page.mouse.up()
    fresh_app.idle()
    assert during - before >= 3, "predictions should come while the stroke is being drawn"
    assert len(seen_mid_stroke) >= 3
    assert fresh_app.predictions() > during  # plus the final one when the stroke ends
    assert fresh_app.prediction() != ""
    # While the pen is down each move gets the quick reading (one view); the pen up, the full one.
    assert True in live
    assert page.evaluate("() => digitApp.lastVerdict.live") is False


# ---------------------------------------------------------------- undo and clear


def stroke_count(app: App) -> int:
    return app.page.evaluate("() => digitApp.strokes.length")


def test_undo_and_clear_buttons(fresh_app: App):
    app, page = fresh_app, fresh_app.page
    undo, clear = page.get_by_test_id("undo"), page.get_by_test_id("clear")
    assert undo.is_disabled() and clear.is_disabled()
    app.draw(FOUR)
    both = app.ink()
    assert stroke_count(app) == 2 and app.prediction() != ""
    undo.click()
    app.idle()
    assert stroke_count(app) == 1 and 0 < app.ink() < both
    assert app.prediction() != ""  # one stroke of a 4 is still something to read
    undo.click()
    app.idle()
    assert stroke_count(app) == 0 and app.ink() == 0
    assert_shows_nothing(app)
    assert undo.is_disabled()
    app.draw(SEVEN)
    assert app.prediction() != ""
    clear.click()
    app.idle()
    assert app.ink() == 0
    assert_shows_nothing(app)


@pytest.mark.parametrize("undo_key", ["Control+z", "Meta+z"])
def test_undo_and_clear_keys(fresh_app: App, undo_key):
    app, kb = fresh_app, fresh_app.page.keyboard
    app.draw(FOUR)
    kb.press(undo_key)
    app.idle()
    assert stroke_count(app) == 1
    kb.press(undo_key)
    app.idle()
    assert stroke_count(app) == 0
    assert_shows_nothing(app)
    for key in ("Escape", "Delete"):
        app.draw(SEVEN)
        assert app.prediction() != ""
        kb.press(key)
        app.idle()
        assert stroke_count(app) == 0 and app.ink() == 0, key
        assert_shows_nothing(app)


# ---------------------------------------------------------------- same answer as CPython


def test_browser_matches_cpython(fresh_app: App):
    """The worker's Python API (digitnet.browser.Session), called by CPython on the page's own pixels,
    gives the page's answer: same function, same model file, two interpreters."""
    from digitnet.browser import LAYOUT, Session
    from digitnet.sizes import SIDE

    app = fresh_app
    app.draw([[(0.3, 0.3), (0.45, 0.2), (0.65, 0.25), (0.62, 0.45), (0.35, 0.78), (0.72, 0.76)]])  # a 2
    got = app.page.evaluate("""() => ({
        pixels: Array.from(digitApp.padPixels()),
        shape: digitApp.padShape(),
        probs: Array.from(digitApp.lastProbs),
        image: Array.from(digitApp.lastImage),
        preview: Array.from(document.querySelector('[data-testid="preview"]').getContext('2d')
                            .getImageData(0, 0, 28, 28).data.filter((_, i) => i % 4 === 0)),
    })""")
    height, width = got["shape"]
    assert height == app.page.evaluate("() => digitApp.sizes.canvas") and len(got["pixels"]) == height * width
    pixels = bytes(got["pixels"])
    assert any(pixels)
    session = Session()
    loaded = json.loads(
        session.load_model((ROOT / "static" / "model" / "model.npz").read_bytes(), "model.npz")
    )
    assert loaded["ok"], loaded
    out = session.predict(pixels, height, width)
    assert out is not None and out.dtype == np.float32
    probs, image = out[slice(*LAYOUT["probs"])], out[slice(*LAYOUT["image"])].reshape(SIDE, SIDE)
    np.testing.assert_allclose(np.array(got["probs"], np.float32), probs, atol=1e-5)
    np.testing.assert_allclose(np.array(got["image"], np.float32).reshape(SIDE, SIDE), image, atol=1e-6)
    # The preview shows exactly that image (8-bit).
    preview = np.array(got["preview"], np.int32).reshape(SIDE, SIDE)
    assert np.abs(preview - np.round(np.clip(image, 0, 1) * 255)).max() <= 1
    assert app.prediction() == str(int(np.argmax(probs)))


def test_growing_drawing_is_answered_at_every_step(fresh_app: App):
    """~50 predictions of a growing drawing, each answered (timings go to bench.page_bench, and here
    to artifacts/predict_times.json for a look, not asserted)."""
    app = fresh_app
    path = ellipse(0.5, 0.5, 0.25, 0.32, n=50)
    start = len(app.page.evaluate("() => digitApp.predictTimes"))
    for i in range(2, len(path) + 1):
        app.page.evaluate("(s) => digitApp.setStrokes(s)", [path[:i]])
        app.idle()
    times = app.page.evaluate("() => digitApp.predictTimes")[start:]
    assert len(times) >= 45 and all(t > 0 for t in times)
    assert app.prediction() == "0"
    p50, p95 = percentile(times, 50), percentile(times, 95)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "predict_times.json").write_text(
        json.dumps(
            {"n": len(times), "p50_ms": p50, "p95_ms": p95, "max_ms": max(times), "times_ms": times}, indent=2
        )
    )
    print(f"\nprediction round trip over {len(times)}: p50 {p50:.1f} ms, p95 {p95:.1f} ms")


# ---------------------------------------------------------------- offline


def test_works_offline_after_one_visit(chromium_browser):
    """Once ready, the service worker holds every file: with the server gone the page still boots
    and reads a digit."""
    own = Server()
    context = chromium_browser.new_context()
    try:
        app = App(context, own.url).open()
        assert app.state == "ready"
        assert app.page.evaluate("() => digitApp.offline") is True
        assert app.page.evaluate("() => document.documentElement.dataset.offline") == "ready"
        own.stop()
        app.requests.clear()
        app.page.reload()
        assert app.wait_settled() == "ready", app.page.get_by_test_id("error").text_content()
        app.draw(ONE)
        assert app.prediction() == "1"
        assert any(
            u.endswith(f"static/pyodide/{runtime_tag()}/pyodide.asm.wasm") for u in app.requests
        )  # asked for
        # NumPy's second wheel (np.random: fine-tuning, training), which the boot leaves out, is kept too.
        later = app.page.evaluate(
            "async () => { const m = await import('./static/pyodide/runtime.mjs');"
            " const url = new URL(m.LOCK.packages[m.LATER[0]].file_name, m.INDEX_URL);"
            " return (await fetch(url)).ok; }"
        )
        assert later is True
    finally:
        context.close()
        own.stop()


# ---------------------------------------------------------------- phone, touch, before ready


def test_touch_draws_on_a_phone_even_before_python_is_ready(chromium_browser, server):
    context = chromium_browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=3, is_mobile=True, has_touch=True
    )
    try:
        app = App(context, server.url).open(wait=False)
        page = app.page
        pad = page.get_by_test_id("pad")
        pad.wait_for(state="visible")
        page.wait_for_function("() => window.digitApp !== undefined")
        page.evaluate("""() => { window.pointerTypes = [];
            document.querySelector('[data-testid="pad"]').addEventListener(
                'pointerdown', (e) => window.pointerTypes.push(e.pointerType)); }""")
        app.touch([(0.3, 0.22), (0.72, 0.22), (0.45, 0.84)])  # a 7, by finger
        state_when_drawn = app.state
        assert "touch" in page.evaluate("() => window.pointerTypes")
        assert page.evaluate("() => digitApp.strokes.length") == 1
        assert app.wait_settled() == "ready", page.get_by_test_id("error").text_content()
        app.idle()
        assert app.ink() > 0, "touch did not draw"  # (the model canvas's size comes with ready)
        assert app.predictions() >= 1
        assert page.evaluate("() => digitApp.lastProbs") is not None
        assert app.prediction() != ""
        print(f"\nphone: drawn while '{state_when_drawn}'")
        # Stacked on a phone, and a sharp pad: backing store = CSS size x devicePixelRatio.
        result = page.locator(".result-card").bounding_box()
        box = pad.bounding_box()
        assert result["y"] >= box["y"] + box["height"]
        width = page.evaluate("() => document.querySelector('[data-testid=\"pad\"]').width")
        assert abs(width - round(box["width"] * 3)) <= 1
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        app.screenshot("phone.png")
        outside = [u for u in app.requests if not u.startswith(server.url) and not u.startswith("data:")]
        assert outside == [] and app.failed == []
    finally:
        context.close()


# ---------------------------------------------------------------- failures, in plain words


def web_root_with_model(tmp_path: Path, model: bytes) -> Path:
    """A web root like the repository's but with its own static/model/model.npz."""
    root = copy_web_root(tmp_path / "webroot", without=("static/model",))
    (root / "static" / "model").mkdir(parents=True)
    (root / "static" / "model" / "model.npz").write_bytes(model)
    return root


def test_corrupt_model_file_is_reported(chromium_browser, tmp_path):
    server = Server(web_root_with_model(tmp_path, b"this is not a model, just some bytes\n" * 10))
    context = chromium_browser.new_context(viewport={"width": 1100, "height": 820})
    try:
        app = App(context, server.url).open()
        assert app.state == "error"
        error = app.page.get_by_test_id("error")
        assert error.is_visible()
        text = error.text_content()
        assert "model" in text and "static/model/model.npz" in text and "not a model file" in text, text
        assert "Error" in app.page.get_by_test_id("status").text_content()
        app.screenshot("error-corrupt-model.png")
        # The pad still draws; nothing is guessed.
        box = app.pad_box()
        app.page.mouse.move(box["x"] + 50, box["y"] + 50)
        app.page.mouse.down()
        app.page.mouse.move(box["x"] + 200, box["y"] + 250, steps=10)
        app.page.mouse.up()
        assert app.ink() > 0 and app.prediction() == ""
    finally:
        context.close()
        server.stop()


def test_model_query_parameter(chromium_browser, server):
    context = chromium_browser.new_context()
    try:
        app = App(context, server.url)
        app.open("?model=static/model/missing.npz")
        assert app.state == "error"
        text = app.page.get_by_test_id("error").text_content()
        assert "static/model/missing.npz" in text and "404" in text, text
        app.open("?model=https://example.com/model.npz")
        assert app.state == "error"
        assert "relative path" in app.page.get_by_test_id("error").text_content()
        app.open("?model=//example.com/model.npz")
        assert app.state == "error"
        outside = [u for u in app.requests if not u.startswith(server.url) and not u.startswith("data:")]
        assert outside == []
    finally:
        context.close()
