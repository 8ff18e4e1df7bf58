"""The everyday flow (Chromium, e2e): correct a misreading in one tap from the row under the answer,
with the pad, the answer and the row in view and no scroll, by mouse and by touch, at desktop and
phone sizes; ten corrections, Learn, and the page says how many of your drawings it now reads right
(the same counts CPython gives); the badge says your personal model reads; a reset can be undone;
"Delete all" can be undone; hints look like hints; the bars add up; "why" sits with the preview."""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import App
from test_e2e_teach import TRIANGLE, count, html, triangles

from digitnet.browser import reads_right
from digitnet.modelfile import load_model
from tools.paths import SHIPPED_MODEL
from training.data import load_dataset
from training.strokes import DIGITS

pytestmark = pytest.mark.e2e

SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
IN_VIEW = """(ids) => ids.map((id) => {
    const r = document.querySelector(`[data-testid="${id}"]`).getBoundingClientRect();
    return r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth && r.height > 0;
})"""
FLOW = ["pad", "prediction", "teach-4", "teach-none"]


def in_view(app: App, ids: list[str]) -> bool:
    return all(app.page.evaluate(IN_VIEW, ids))


def correct(app: App, label: str, by_touch: bool) -> None:
    """Tap (or click) the row's button for label and wait until the drawing is kept."""
    before = count(app)
    button = app.page.get_by_test_id(f"teach-{label}")
    if by_touch:
        box = button.bounding_box()
        app.page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    else:
        button.click()
    app.page.wait_for_function(
        f"() => document.querySelector('[data-testid=my-count]').dataset.count === '{before + 1}'"
    )


@pytest.mark.parametrize("size", SIZES, ids=list(SIZES))
@pytest.mark.parametrize("how", ["mouse", "touch"])
def test_correct_in_place_with_no_scroll(chromium_browser, server, size, how):
    touch = how == "touch"
    context = chromium_browser.new_context(
        viewport=SIZES[size], has_touch=touch, is_mobile=touch and size == "phone"
    )
    try:
        app = App(context, server.url).open()
        app.page.wait_for_function("() => document.documentElement.dataset.storage === 'device'")
        for strokes in triangles(3, 1):
            app.clear()
            if touch:
                app.touch(strokes[0])
                app.idle()
            else:
                app.draw(strokes)
            assert in_view(app, FLOW), f"{size}: the pad, the answer and the row are not all in view"
            scrolled = app.page.evaluate("() => scrollY")
            correct(app, "4", touch)
            assert app.ink() == 0  # the pad cleared for the next drawing
            assert app.page.evaluate("() => scrollY") == scrolled  # the page stayed where it was
            assert in_view(app, FLOW)
        app.screenshot(f"flow-{size}-{how}.png")
    finally:
        context.close()


def test_ten_corrections_learn_and_what_changed(chromium_browser, server, tmp_path):
    context = chromium_browser.new_context(viewport=SIZES["desktop"], accept_downloads=True)
    try:
        app = App(context, server.url).open()
        page = app.page
        page.wait_for_function("() => document.documentElement.dataset.storage === 'device'")
        assert "Correct a few readings first" in page.get_by_test_id("learn-advice").text_content()
        assert page.get_by_text("Export drawings (CSV)").is_disabled()  # nothing to export
        assert not page.get_by_test_id("model-badge").is_visible()
        for strokes in triangles(10, 1):
            app.clear()
            app.draw(strokes)
            correct(app, "4", by_touch=False)
        assert "enough to learn from" in page.get_by_test_id("learn-advice").text_content()
        page.get_by_test_id("fine-tune").click()
        page.wait_for_function("() => document.documentElement.dataset.tuning === 'done'", timeout=120_000)
        said = page.locator(".tune-text").text_content()
        m = re.match(r"Now reads (\d+) of your 10 drawings right \(before (\d+)\)\.", said)
        assert m, said
        after, before = int(m.group(1)), int(m.group(2))
        assert after > before
        assert page.get_by_test_id("model-badge").is_visible()

        # The same counts in CPython, from the page's own drawings and its personal model.
        with page.expect_download() as csv:
            page.get_by_text("Export drawings (CSV)").click()
        with page.expect_download() as npz:
            page.get_by_text("Export my model (.npz)").click()
        csv.value.save_as(tmp_path / "mine.csv")
        npz.value.save_as(tmp_path / "mine.npz")
        mine = load_dataset(tmp_path / "mine.csv", cache=False, not_digit=True)
        images = mine.images.astype(np.float32) / 255
        assert reads_right(load_model(SHIPPED_MODEL), images, mine.labels) == before
        assert reads_right(load_model(tmp_path / "mine.npz"), images, mine.labels) == after

        # Back to the original model, and undo that.
        page.get_by_test_id("reset-model").click()
        page.wait_for_function("() => document.documentElement.dataset.model === 'shipped'")
        assert page.locator(".tune-text").text_content() == ""  # the old line went with its model
        assert not page.get_by_test_id("model-badge").is_visible()
        page.get_by_test_id("undo-reset").click()
        page.wait_for_function("() => document.documentElement.dataset.model === 'personal'")
        page.reload()
        app.wait_settled()
        page.wait_for_function("() => document.documentElement.dataset.model === 'personal'")  # saved again

        # Delete all, and undo that.
        page.wait_for_function(
            "() => document.querySelector('[data-testid=my-count]').dataset.count === '10'"
        )
        page.get_by_test_id("delete-all").click()
        page.wait_for_function("() => document.querySelector('[data-testid=my-count]').dataset.count === '0'")
        page.get_by_test_id("undo-delete").click()
        page.wait_for_function(
            "() => document.querySelector('[data-testid=my-count]').dataset.count === '10'"
        )
        assert html(app, "model") == "personal"
    finally:
        context.close()


def test_hints_look_like_hints_and_the_bars_add_up(app):
    app.clear()
    app.draw([TRIANGLE[0]])
    probs = [float(v) for v in app.data_probs()]
    none = float(app.page.get_by_test_id("prob-none").get_attribute("data-prob"))
    assert sum(probs) + none == pytest.approx(1, abs=1e-3)
    two = [[(x * 0.4 + 0.05, y) for x, y in DIGITS[1][0]], [(x * 0.4 + 0.55, y) for x, y in DIGITS[1][0]]]
    app.clear()
    app.draw(two)
    prediction = app.page.get_by_test_id("prediction")
    if prediction.get_attribute("data-verdict") == "not-digit":  # one digit at a time: a hint
        assert prediction.get_attribute("data-hint") == "side-by-side"
        assert prediction.text_content() == "✎"


@pytest.mark.parametrize("size", SIZES, ids=list(SIZES))
def test_why_sits_with_the_preview(chromium_browser, server, size):
    context = chromium_browser.new_context(viewport=SIZES[size])
    try:
        app = App(context, server.url).open()
        app.draw(DIGITS[7])
        assert in_view(app, ["why", "preview"])
        app.page.get_by_test_id("why").check()
        app.page.wait_for_function(
            "() => document.querySelector('[data-testid=preview]').dataset.why === 'shown'"
        )
        assert in_view(app, ["why", "preview"])
        legend = app.page.locator(".why-legend")
        assert legend.is_visible() and "red" in legend.text_content() and "blue" in legend.text_content()
        assert app.page.locator(".preview-caption").text_content() == "Why it answered"
        app.page.get_by_test_id("why").uncheck()
        assert not legend.is_visible()
    finally:
        context.close()


def press(app: App, testid: str, key: str = "Enter", most: int = 80) -> None:
    """Move the focus with Tab alone until it is on testid's control, then press key."""
    page = app.page
    for _ in range(most):
        if page.evaluate(f"() => document.activeElement?.dataset?.testid === '{testid}'"):
            page.keyboard.press(key)
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {testid}")


def test_keyboard_only_sample_correct_learn_reset_undo(chromium_browser, server):
    context = chromium_browser.new_context(viewport=SIZES["desktop"])
    try:
        app = App(context, server.url).open()
        page = app.page
        page.wait_for_function("() => document.documentElement.dataset.storage === 'device'")
        page.locator("body").focus()
        press(app, "sample")  # a real digit's strokes on the pad
        app.idle()
        assert app.page.get_by_test_id("prediction").get_attribute("data-verdict") == "digit"
        read = app.prediction()
        wrong = str((int(read) + 1) % 10)
        press(app, f"teach-{wrong}")  # correct it, from the row
        page.wait_for_function("() => document.querySelector('[data-testid=my-count]').dataset.count === '1'")
        press(app, "fine-tune")
        page.wait_for_function("() => document.documentElement.dataset.tuning === 'done'", timeout=120_000)
        assert html(app, "model") == "personal"
        press(app, "reset-model")
        page.wait_for_function("() => document.documentElement.dataset.model === 'shipped'")
        press(app, "undo-reset")
        page.wait_for_function("() => document.documentElement.dataset.model === 'personal'")
    finally:
        context.close()
