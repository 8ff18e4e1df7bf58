"""Whole numbers (issue #23; Chromium, e2e, drawn with the mouse): "2026", "10", "47" (a 4 in two
strokes), "7A", a "47" whose digits touch and a "345" whose digits cross read as written, a lone 7
reads as a digit; one box per character, left to right, selected by click and by keyboard (the
bars, the words and the image follow it); "Reads 2026." is announced; a box taught keeps the pad;
axe clean; the flow stays in view."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import App
from test_e2e_a11y import axe, new_app
from test_e2e_flow import FLOW, in_view
from test_e2e_teach import count
from test_e2e_verdict import LETTER_A

from digitnet.preprocess import ink_components
from digitnet.sizes import PEN_DEFAULT, PEN_MIN, PEN_STEP
from tools.paths import ROOT
from training.strokes import DIGITS, transform

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1280, "height": 800}


def number(chars: str, scale: float, centres: list[float]) -> list:
    """Characters side by side: each of DIGITS (or LETTER_A for "A") scaled, centred at x."""
    out = []
    for c, x in zip(chars, centres):
        out += transform(LETTER_A if c == "A" else DIGITS[int(c)], scale, x - 0.5)
    return out


YEAR = number("2026", 0.28, [0.17, 0.39, 0.61, 0.83])  # four pieces of ink, close
FORTY_SEVEN = number("47", 0.5, [0.28, 0.72])
TOUCHING = number("47", 0.6, [0.38, 0.62])  # the ink of the 4's bar runs into the 7's top
CROSSING = number(
    "345", 0.4, [0.34, 0.5, 0.66]
)  # boxes overlapping: no column cuts them (the pixels read "?")
CASES = {
    "2026": (YEAR, "2026"),
    "10": (number("10", 0.5, [0.3, 0.7]), "10"),
    "47": (FORTY_SEVEN, "47"),
    "7A": (number("7A", 0.5, [0.3, 0.7]), "7?"),
    "touching-47": (TOUCHING, "47"),
    "touching-345": (CROSSING, "345"),  # told apart by the strokes the page sends
}


@pytest.fixture(scope="module")
def desk(chromium_browser, server):
    """One page at 1280x800, its device storage open (teaching needs it)."""
    context = chromium_browser.new_context(viewport=DESKTOP)
    app = App(context, server.url).open()
    app.page.wait_for_function("() => document.documentElement.dataset.storage === 'device'")
    yield app
    context.close()


@pytest.fixture
def pad(desk: App) -> App:
    assert desk.state == "ready"
    desk.clear()
    return desk


def prediction(app: App):
    return app.page.get_by_test_id("prediction")


def tabs(app: App) -> list[dict]:
    """The digit-box tabs in the DOM's order: index, digit, pressed, x on screen."""
    return app.page.evaluate("""() => [...document.querySelectorAll('[data-testid=digit-box]')].map((b) => ({
        index: b.dataset.index, digit: b.dataset.digit, pressed: b.getAttribute('aria-pressed'),
        x: b.getBoundingClientRect().left }))""")


def last_number(app: App) -> dict | None:
    return app.page.evaluate("""() => digitApp.lastNumber && { value: digitApp.lastNumber.value,
        boxes: digitApp.lastNumber.boxes.map((b) => ({ ...b, probs: Array.from(b.probs) })) }""")


def ink_parts(app: App) -> int:
    """How many separate pieces of ink the page's pixels hold."""
    labels = ink_components(app.pad_pixels() > 0)
    return len(np.unique(labels[labels > 0]))


def test_the_drawings_are_what_they_say():
    assert len(DIGITS[4]) == 2  # "47": the 4 is drawn in two strokes


@pytest.mark.parametrize("name", CASES)
def test_a_number_reads_as_written(pad: App, name):
    strokes, value = CASES[name]
    pad.draw(strokes)
    assert ink_parts(pad) == (1 if name.startswith("touching") else len(value))  # the drawing is as named
    shown = prediction(pad)
    assert shown.get_attribute("data-verdict") == "number", pad.page.evaluate("() => digitApp.lastVerdict")
    assert shown.get_attribute("data-value") == value and pad.prediction() == value
    boxes = tabs(pad)
    assert [b["digit"] for b in boxes] == list(value)  # one box per character, left to right
    assert [b["index"] for b in boxes] == [str(i) for i in range(len(value))]
    assert [b["pressed"] for b in boxes] == ["true"] + ["false"] * (len(value) - 1)
    assert all(a["x"] < b["x"] for a, b in zip(boxes, boxes[1:]))
    read = last_number(pad)
    assert read["value"] == value and "".join(b["digit"] for b in read["boxes"]) == value
    for b in read["boxes"]:
        assert 0 <= b["x0"] < b["x1"] <= pad.span + 0.01 and 0 <= b["y0"] < b["y1"] <= 1, b  # in pad heights
        assert len(b["probs"]) == 10 and (b["digit"] == "?" or int(np.argmax(b["probs"])) == int(b["digit"]))
    assert all(a["x0"] < b["x0"] and a["x1"] <= b["x1"] for a, b in zip(read["boxes"], read["boxes"][1:]))
    said = pad.page.get_by_test_id("announce").text_content()
    unread = " Character 2 is not a digit." if "?" in value else ""
    assert said == f"Reads {value}.{unread}"


def test_a_lone_seven_is_a_digit(pad: App):
    pad.draw(DIGITS[7])
    shown = prediction(pad)
    assert shown.get_attribute("data-verdict") == "digit" and pad.prediction() == "7"
    assert shown.get_attribute("data-value") is None
    assert pad.page.get_by_test_id("digit-box").count() == 0
    assert last_number(pad) is None
    assert pad.page.get_by_test_id("announce").text_content().startswith("Looks like a 7")


def cpython_images(app: App) -> list[np.ndarray]:
    """Each character's image as CPython's digitnet.browser.Session reads the page's own pixels."""
    from digitnet.browser import CHARACTER, CHARACTER_LENGTH, LAYOUT, RESULT_LENGTH, Session

    session = Session()
    session.load_model((ROOT / "static" / "model" / "model.npz").read_bytes(), "model.npz")
    pixels = app.pad_pixels()
    pen = float(app.page.get_by_test_id("brush").input_value()) * pixels.shape[0]
    out = session.predict(pixels.tobytes(), *pixels.shape, pen)
    n = int(out[LAYOUT["count"][0]])
    blocks = [out[RESULT_LENGTH + i * CHARACTER_LENGTH :][:CHARACTER_LENGTH] for i in range(n)]
    return [b[slice(*CHARACTER["image"])] for b in blocks]


def shows_character(app: App, i: int, n: int, images: list[np.ndarray]) -> None:
    """The page shows character i of n: its box pressed, its bars, its words, its image."""
    assert [b["pressed"] for b in tabs(app)] == ["true" if j == i else "false" for j in range(n)]
    bars = [float(p) for p in app.data_probs()]
    np.testing.assert_allclose(bars, last_number(app)["boxes"][i]["probs"], atol=1e-6)
    assert app.page.locator(".confidence").text_content().startswith(f"Character {i + 1} of {n}: ")
    image = np.array(app.page.evaluate("() => Array.from(digitApp.lastImage)"), np.float32)
    np.testing.assert_allclose(image, images[i], atol=1e-5)
    assert prediction(app).get_attribute("data-value") == "2026"  # the readout keeps the number


def wait_pressed(app: App, i: int) -> None:
    app.page.wait_for_function(
        f"() => document.querySelector('[data-testid=digit-box][data-index=\"{i}\"]')"
        "?.getAttribute('aria-pressed') === 'true'"
    )
    app.idle()


def test_selecting_a_box_by_click_and_by_keyboard(pad: App):
    pad.draw(YEAR)
    images = cpython_images(pad)
    assert (
        len(images) == 4 and not np.allclose(images[0], images[2]) and not np.allclose(images[0], images[1])
    )
    shows_character(pad, 0, 4, images)

    pad.page.get_by_test_id("digit-box").nth(2).click()
    wait_pressed(pad, 2)
    shows_character(pad, 2, 4, images)

    page = pad.page
    page.locator("body").focus()
    for _ in range(60):  # Tab alone to the second box, then Enter
        if page.evaluate(
            "() => document.activeElement?.matches('[data-testid=digit-box][data-index=\"1\"]')"
        ):
            break
        page.keyboard.press("Tab")
    else:
        raise AssertionError("Tab never reached the second digit-box")
    page.keyboard.press("Enter")
    wait_pressed(pad, 1)
    shows_character(pad, 1, 4, images)
    assert page.evaluate("() => document.activeElement?.dataset.index") == "1"  # the focus stays on it
    assert pad.ink() > 0  # selecting drew nothing and cleared nothing


def test_teaching_a_box_keeps_the_number(pad: App):
    page = pad.page
    pad.draw(FORTY_SEVEN)
    assert prediction(pad).get_attribute("data-value") == "47"
    page.get_by_test_id("digit-box").nth(1).click()  # the 7
    wait_pressed(pad, 1)
    strokes, ink, before = page.evaluate("() => digitApp.strokes"), pad.ink(), count(pad)
    items = page.locator(".gallery-item").count()
    page.get_by_test_id("teach-1").click()
    page.wait_for_function(
        f"() => document.querySelector('[data-testid=my-count]').dataset.count === '{before + 1}'"
    )
    pad.idle()
    assert page.locator(".gallery-item").count() == items + 1
    assert page.evaluate("() => digitApp.strokes") == strokes and pad.ink() == ink  # the pad kept
    assert prediction(pad).get_attribute("data-value") == "47"
    assert [b["digit"] for b in tabs(pad)] == ["4", "7"]


@pytest.mark.parametrize("size", [(390, 844), (1280, 800)], ids=["390x844", "1280x800"])
def test_axe_with_a_number_and_a_box_selected(chromium_browser, server, size):
    app = new_app(chromium_browser, server, size, "light")
    try:
        app.open()
        app.draw(YEAR)
        app.page.get_by_test_id("digit-box").nth(1).click()
        wait_pressed(app, 1)
        assert prediction(app).get_attribute("data-value") == "2026"
        assert axe(app, f"number {size[0]}x{size[1]}", {}) == []
    finally:
        app.context.close()


BOXES_IN_VIEW = """() => [...document.querySelectorAll('[data-testid=digit-box]')].every((b) => {
    const r = b.getBoundingClientRect();
    return r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth && r.height > 0;
})"""


@pytest.mark.parametrize("size", [(390, 844), (360, 640)], ids=["390x844", "360x640"])
def test_the_flow_stays_in_view_with_a_number(chromium_browser, server, size):
    """At 390x844 the pad, the answer and the correction row stay in view, as for a digit; at 360x640
    the row is below the fold for a digit too, so the pad, the answer and the edit buttons are."""
    app = new_app(chromium_browser, server, size, "light")
    try:
        app.open()
        app.draw(YEAR)
        assert prediction(app).get_attribute("data-value") == "2026"
        assert app.page.evaluate("() => [scrollX, scrollY]") == [0, 0]
        assert app.page.get_by_test_id("digit-box").count() == 4 and app.page.evaluate(BOXES_IN_VIEW)
        wanted = FLOW if size == (390, 844) else ["pad", "prediction", "undo", "redo", "clear"]
        assert in_view(app, wanted), wanted
    finally:
        app.context.close()


WIDE = {"1280x800": (1280, 800), "844x390": (844, 390)}
ACROSS = "33965"


@pytest.mark.parametrize("size", WIDE.values(), ids=WIDE.keys())
def test_a_five_digit_number_across_a_wide_pad(chromium_browser, server, size):
    """Where there is room (desktop, a phone on its side) the pad is wider than tall, as high as a
    square one would be: five digits written across it, each as large as a lone digit on a phone,
    read right, each box over its digit, the flow in view. Narrowed (the window, a phone turned
    upright), the pad shows the whole drawing smaller and reads the same number."""
    app = new_app(chromium_browser, server, size, "light")
    try:
        app.open()
        span = app.span
        assert span >= 1.4, span
        centres = [span * (i + 0.5) / len(ACROSS) for i in range(len(ACROSS))]
        app.draw(number(ACROSS, 0.85 * span / len(ACROSS), centres))
        assert prediction(app).get_attribute("data-value") == ACROSS
        wide = app.pad_pixels()
        assert wide.shape[1] == round(wide.shape[0] * span)  # the model reads the whole width
        boxes = last_number(app)["boxes"]
        assert [(b["x0"] + b["x1"]) / 2 for b in boxes] == pytest.approx(centres, abs=0.1)  # over its digit
        assert app.page.evaluate("() => [scrollX, scrollY]") == [0, 0] and app.page.evaluate(BOXES_IN_VIEW)
        assert in_view(app, ["pad", "prediction", "undo", "redo", "clear"])

        app.page.set_viewport_size({"width": 390, "height": 844})
        app.page.wait_for_function(
            "() => { const r = document.querySelector('[data-testid=pad]').getBoundingClientRect();"
            " return Math.abs(r.width - r.height) < 1; }"
        )
        narrow = app.pad_pixels()  # the same ink, as wide as the pad it was drawn on
        assert narrow.shape == wide.shape
        assert np.abs(narrow.astype(int) - wide).max() <= 32  # (the canvas's anti-aliasing moves a little)
        app.idle()  # read again by itself, as it is now
        assert prediction(app).get_attribute("data-value") == ACROSS
        pad = app.pad_box()
        height, width = app.page.evaluate("() => digitApp.padShape()")
        scale = pad["width"] * height / width  # CSS px to a pad height: the drawing shown smaller
        for box, outline in zip(last_number(app)["boxes"], app.page.locator(".digit-outline").all()):
            r = outline.bounding_box()  # the boxes followed the drawing
            assert r["x"] + r["width"] / 2 == pytest.approx(
                pad["x"] + (box["x0"] + box["x1"]) / 2 * scale, abs=4
            )
        shown = app.pad_box()
        ink = app.page.evaluate(
            """() => { const c = document.querySelector('[data-testid=pad]');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let right = -1;
            for (let i = 3; i < d.length; i += 4) if (d[i]) right = Math.max(right, (i >> 2) % c.width);
            return right / c.width; }"""
        )
        assert 0.9 < ink <= 1  # the whole number on the narrowed pad, its last digit at its right edge
        assert shown["width"] == pytest.approx(shown["height"], abs=1)
    finally:
        app.context.close()


@pytest.mark.parametrize("size", [(390, 844), (360, 640)], ids=["390x844", "360x640"])
def test_a_phone_held_upright_keeps_a_square_pad(chromium_browser, server, size):
    app = new_app(chromium_browser, server, size, "light")
    try:
        app.open()
        assert app.span == pytest.approx(1, abs=0.01)
        assert app.page.evaluate("() => digitApp.padShape()") == [140, 140]
    finally:
        app.context.close()


@pytest.mark.parametrize("size", [(390, 844), (360, 640)], ids=["390x844", "360x640"])
def test_a_number_too_small_for_the_pen_is_offered_a_thinner_one(chromium_browser, server, size):
    """On a phone held upright five digits are a fifth of the pad wide: with the first visit's pen
    (a lone digit's) their holes close and they misread, and the page offers a thinner pen. One tap
    redraws them with it and they read; the slider has it for what is drawn next; Undo brings the
    old pens back, and the offer with them. A number the pen suits is offered nothing."""
    app = new_app(chromium_browser, server, size, "light")
    try:
        app.open()
        offer = app.page.get_by_test_id("thinner-pen")
        brush = app.page.get_by_test_id("brush")
        assert float(brush.input_value()) == PEN_DEFAULT
        app.draw(YEAR)
        assert prediction(app).get_attribute("data-value") == "2026" and offer.is_hidden()
        app.clear()
        app.draw(number(ACROSS, 0.19, [0.1, 0.3, 0.5, 0.7, 0.9]))
        assert prediction(app).get_attribute("data-value") != ACROSS
        assert offer.is_visible() and in_view(app, ["pad", "prediction", "thinner-pen"])
        fit = float(offer.get_attribute("data-pen"))
        assert PEN_MIN <= fit < PEN_DEFAULT
        offer.click()
        app.idle()
        assert prediction(app).get_attribute("data-value") == ACROSS
        assert offer.is_hidden() and float(brush.input_value()) == pytest.approx(fit, abs=PEN_STEP)
        app.page.get_by_test_id("undo").click()
        app.idle()
        assert prediction(app).get_attribute("data-value") != ACROSS and offer.is_visible()
    finally:
        app.context.close()
