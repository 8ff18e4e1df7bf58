"""End to end: the pad and its controls in everyday use. A pen change applies to new strokes
only, the pen's preview dot, a sample digit drawn from the keyboard, buttons that fit from 320 px
wide to a desktop, and the empty first screen (an example digit, a labelled empty preview)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import App

from digitnet.samples import for_page
from digitnet.sizes import PEN_MAX

pytestmark = pytest.mark.e2e

SAMPLES = for_page()  # the worker sends the page these, in this order
LINE_TOP = [[(0.2, 0.3), (0.8, 0.3)]]
LINE_LOW = [[(0.2, 0.7), (0.8, 0.7)]]


@pytest.fixture(scope="module")
def own(chromium_browser, server):
    """A page of its own: these tests move the pen slider (kept in localStorage) and the viewport."""
    context = chromium_browser.new_context(viewport={"width": 1100, "height": 820})
    app = App(context, server.url).open()
    assert app.state == "ready", app.page.get_by_test_id("error").text_content()
    yield app
    context.close()


@pytest.fixture
def pad(own: App) -> App:
    own.page.set_viewport_size({"width": 1100, "height": 820})
    own.page.get_by_test_id("brush").fill("0.07")
    own.clear()
    return own


def pixels(app: App) -> list[int]:
    return app.page.evaluate("() => Array.from(digitApp.padPixels())")


def thickness(app: App, y: float) -> int:
    """Rows of ink (> half) in the model canvas's column at x = 0.5 (in pad heights, where the
    lines are) within 0.12 of the pad around y."""
    ink = app.pad_pixels()
    side = ink.shape[0]
    return int((ink[round((y - 0.12) * side) : round((y + 0.12) * side), side // 2] > 127).sum())


def test_a_pen_change_applies_to_new_strokes_only(pad: App):
    brush = pad.page.get_by_test_id("brush")
    side = pad.page.evaluate("() => digitApp.sizes.canvas")
    brush.fill("0.03")
    pad.draw(LINE_TOP)
    before = pixels(pad)
    brush.fill("0.09")
    pad.idle()
    assert pixels(pad) == before  # the stroke already drawn keeps its pen
    pad.draw(LINE_LOW)
    assert abs(thickness(pad, 0.3) - 0.03 * side) <= 2
    assert abs(thickness(pad, 0.7) - 0.09 * side) <= 2  # the new stroke has the new pen
    both = pixels(pad)
    pad.page.get_by_test_id("undo").click()
    pad.idle()
    assert pixels(pad) == before
    pad.page.get_by_test_id("redo").click()
    pad.idle()
    assert pixels(pad) == both
    # The drawing kept across a reload keeps each stroke's pen (the slider keeps 0.09).
    pad.page.reload()
    pad.wait_settled()
    pad.idle()
    assert float(brush.input_value()) == pytest.approx(0.09)
    assert pixels(pad) == both
    # A stroke given without a pen gets the current one; one given with its pen keeps it.
    pad.page.evaluate(
        "() => digitApp.setStrokes("
        "[[[0.2, 0.3], [0.8, 0.3]], {points: [[0.2, 0.7], [0.8, 0.7]], width: 0.03}])"
    )
    pad.idle()
    assert abs(thickness(pad, 0.3) - 0.09 * side) <= 2 and abs(thickness(pad, 0.7) - 0.03 * side) <= 2


def test_the_pen_preview_follows_the_slider(pad: App):
    preview = pad.page.get_by_test_id("pen-preview")
    assert preview.get_attribute("aria-hidden") == "true"
    side = pad.pad_box()["height"]  # a pen is a fraction of the pad's height, however wide the pad
    box = preview.bounding_box()
    for value in ("0.015", "0.05", "0.1", "0.07"):
        pad.page.get_by_test_id("brush").fill(value)
        dot = pad.page.locator(".pen-dot").bounding_box()
        assert dot["width"] == pytest.approx(float(value) * side, abs=1), value  # as wide as it draws
        assert dot["height"] == pytest.approx(dot["width"], abs=0.5)
        assert preview.bounding_box() == box  # its box never changes: nothing moves
    assert box["width"] == pytest.approx(max(12, PEN_MAX * side), abs=1)


def test_a_sample_digit_by_keyboard_only(pad: App):
    page = pad.page
    sample = page.get_by_test_id("sample")
    page.wait_for_function("() => !document.querySelector('[data-testid=\"sample\"]').disabled")
    page.evaluate("() => document.activeElement?.blur()")
    page.mouse.move(0, 0)
    for _ in range(40):  # Tab from the top of the page to the button
        page.keyboard.press("Tab")
        if sample.evaluate("b => b === document.activeElement"):
            break
    else:
        pytest.fail("Tab never reached the sample button")
    for sample_digit in SAMPLES[:2]:  # each press: the next sample
        page.keyboard.press("Enter")
        pad.idle()
        assert page.evaluate("() => digitApp.lastVerdict.verdict") == "digit"
        assert pad.prediction() == str(sample_digit["digit"])
        shift = (pad.span - 1) / 2  # in the middle of a wide pad, as drawn on a square one
        drawn = page.evaluate("() => digitApp.strokes")
        want = [[[x + shift, y] for x, y in s] for s in sample_digit["strokes"]]
        assert [len(s) for s in drawn] == [len(s) for s in want]
        np.testing.assert_allclose(np.concatenate(drawn), np.concatenate(want), atol=1e-3)
        assert page.get_by_test_id("announce").text_content().startswith("Looks like")
    page.keyboard.press("Control+z")  # an ordinary drawing: undoable
    pad.idle()
    assert pad.prediction() == str(SAMPLES[0]["digit"])


@pytest.mark.parametrize("width", [320, 800, 1280])
def test_no_pad_button_overflows(pad: App, width: int):
    pad.page.set_viewport_size({"width": width, "height": 900})
    pad.page.get_by_test_id("undo").scroll_into_view_if_needed()
    buttons = pad.page.evaluate(
        """() => [...document.querySelectorAll('.pad-card button:not([hidden])')].map((b) => {
            const box = b.getBoundingClientRect();
            const range = document.createRange();
            range.selectNodeContents(b);
            const content = range.getBoundingClientRect();
            const svg = b.querySelector('svg');
            const kbd = b.querySelector('kbd');
            const shown = kbd && getComputedStyle(kbd).display !== 'none';
            return {id: b.dataset.testid, scroll: b.scrollWidth, client: b.clientWidth,
                    svg: svg ? svg.getBoundingClientRect().width : null,
                    kbd: shown ? kbd.getBoundingClientRect().width : null,
                    inside: content.left >= box.left && content.right <= box.right,
                    height: box.height};
        })"""
    )
    assert {b["id"] for b in buttons} >= {"undo", "redo", "clear", "sample"}
    for b in buttons:
        assert b["scroll"] <= b["client"], b
        assert b["svg"] and b["svg"] >= 17, b  # icons never squeezed (18 px)
        assert b["inside"], b  # nothing clipped at either side
        assert b["kbd"] is None or b["kbd"] > 0, b
        assert b["height"] <= 50, b  # one line: the words never wrap
    redo = pad.page.get_by_test_id("redo")
    assert redo.locator("kbd.key-hint").text_content().replace("\xa0", " ") in ("Ctrl Y", "Ctrl Shift Z")
    if width == 1280:  # a desktop shows the key hints
        assert all(b["kbd"] for b in buttons if b["id"] in ("undo", "redo", "clear")), buttons


def test_the_empty_first_screen(pad: App):
    page = pad.page
    example = page.get_by_test_id("pad-example")
    hint = page.locator(".pad-hint")
    placeholder = page.get_by_test_id("preview-empty")
    assert pad.ink() == 0  # the example digit is not on the canvas: never read, never sent
    assert example.is_visible() and example.get_attribute("aria-hidden") == "true"
    assert hint.is_visible() and hint.text_content() == "Draw here"
    assert float(hint.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 20
    assert placeholder.is_visible() and "appears here" in placeholder.text_content()
    assert page.locator(".preview figcaption").is_visible()
    pad.draw(SAMPLES[0]["strokes"])
    for gone in (example, hint, placeholder):
        gone.wait_for(state="hidden")
    assert pad.prediction() == str(SAMPLES[0]["digit"])
    pad.clear()
    for back in (example, hint, placeholder):
        back.wait_for(state="visible")
