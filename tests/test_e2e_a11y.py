"""Every device, every person: the layout at phone, landscape and desktop sizes in light and dark,
axe-core with zero violations in every state, and editing (undo of a clear, redo, focus, the drawing
kept across a reload) (Chromium, e2e). Screenshots and axe's findings go to artifacts/."""

from __future__ import annotations

import json
import re

import pytest
from conftest import App

from tools.paths import ARTIFACTS, ROOT

pytestmark = pytest.mark.e2e

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"

SIZES = [(360, 640), (390, 844), (844, 390), (667, 375), (1100, 820), (1440, 900)]
SCHEMES = ["light", "dark"]
SCRIBBLE = [[(0.2, 0.3), (0.8, 0.35), (0.25, 0.45), (0.78, 0.5), (0.22, 0.62), (0.8, 0.7), (0.3, 0.8)]]
FOUR = [[(0.38, 0.18), (0.29, 0.58), (0.73, 0.58)], [(0.6, 0.34), (0.6, 0.86)]]
# What must be on the first screen, unscrolled.
ON_SCREEN = ["pad", "prediction", "undo", "redo", "clear"]


def new_app(chromium_browser, server, size, scheme, routes=()) -> App:
    w, h = size
    small = min(w, h) < 500
    context = chromium_browser.new_context(
        viewport={"width": w, "height": h},
        color_scheme=scheme,
        device_scale_factor=2,
        is_mobile=small,
        has_touch=small,
        bypass_csp=True,
    )  # bypass_csp: only to inject axe here
    context.add_init_script("window.digitAppConfig = { stallMs: 600000 };")  # a held file is no stall
    for pattern, handler in routes:
        context.route(pattern, handler)
    return App(context, server.url)


def boxes_on_screen(app: App, size) -> list[str]:
    """The names of ON_SCREEN elements (and the verdict's text) not wholly inside the viewport."""
    w, h = size
    page = app.page
    assert page.evaluate("() => [scrollX, scrollY]") == [0, 0]
    outside = []
    locators = {name: page.get_by_test_id(name) for name in ON_SCREEN}
    locators["verdict text"] = page.locator(".verdict-note")
    for name, loc in locators.items():
        box = loc.bounding_box()
        if box is None or box["width"] == 0:
            outside.append(f"{name} (not shown)")
        elif (
            box["x"] < -0.5
            or box["y"] < -0.5
            or box["x"] + box["width"] > w + 0.5
            or box["y"] + box["height"] > h + 0.5
        ):
            outside.append(f"{name} {box}")
    return outside


def axe(app: App, label: str, findings: dict) -> list[dict]:
    page = app.page
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => {
        // Colours mid-transition (a button just enabled) are not what a person reads: let them end.
        const moving = document.getAnimations().filter((a) => a instanceof CSSTransition);
        await Promise.all(moving.map((a) => a.finished.catch(() => {})));
        const r = await axe.run(document, { resultTypes: ['violations'] });
        return r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => ({ target: n.target.join(' '), summary: n.failureSummary })) }));
    }""")
    findings[label] = result
    return result


def settle_drawing(app: App, strokes) -> None:
    app.clear()
    app.draw(strokes)


@pytest.fixture(scope="module")
def findings():
    found: dict = {}
    yield found
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "axe.json").write_text(json.dumps(found, indent=1))


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_layout_and_axe_in_every_state(chromium_browser, server, size, scheme, findings):
    """Loading (the model held back), ready, a digit, not a digit, and an error: the pad, the verdict
    and Undo/Redo/Clear on one unscrolled screen, nothing moves when loading ends, zero axe violations."""
    tag = f"{size[0]}x{size[1]}-{scheme}"
    held = []
    app = new_app(chromium_browser, server, size, scheme, [("**/model.npz", lambda r: held.append(r))])
    problems = {}
    try:
        app.open(wait=False)
        app.page.get_by_test_id("pad").wait_for(state="visible")
        app.page.wait_for_function("() => window.digitApp !== undefined")
        assert app.state == "loading"
        problems["loading layout"] = boxes_on_screen(app, size)
        before = {
            n: app.page.get_by_test_id(n).bounding_box() for n in ("pad", "prediction", "undo", "clear")
        }
        status_before = app.page.get_by_test_id("status").bounding_box()
        app.screenshot(f"layout-{tag}-loading.png")
        problems["loading axe"] = axe(app, f"{tag} loading", findings)
        assert app.state == "loading"
        for _ in range(600):
            if held:
                break
            app.page.wait_for_timeout(100)
        for route in held:
            route.continue_()
        assert app.wait_settled() == "ready", app.page.get_by_test_id("error").text_content()
        app.page.wait_for_timeout(400)  # the loading panel fades
        after = {n: app.page.get_by_test_id(n).bounding_box() for n in before}
        problems["layout shift"] = [n for n in before if before[n] != after[n]]
        status_after = app.page.get_by_test_id("status").bounding_box()
        problems["status pill moved"] = (
            []
            if abs(status_before["height"] - status_after["height"]) < 1
            else [(status_before, status_after)]
        )
        problems["ready layout"] = boxes_on_screen(app, size)
        problems["ready axe"] = axe(app, f"{tag} ready", findings)
        for name, strokes, verdict in (("digit", FOUR, "digit"), ("not-digit", SCRIBBLE, "not-digit")):
            settle_drawing(app, strokes)
            app.page.wait_for_timeout(200)
            assert app.page.get_by_test_id("prediction").get_attribute("data-verdict") == verdict
            problems[f"{name} layout"] = boxes_on_screen(app, size)
            app.screenshot(f"layout-{tag}-{name}.png")
            problems[f"{name} axe"] = axe(app, f"{tag} {name}", findings)
        # "Show why" on: the preview grows, its legend shows; and the drawing taught from the row.
        settle_drawing(app, FOUR)
        app.page.get_by_test_id("why").check()
        app.page.wait_for_function(
            "() => document.querySelector('[data-testid=preview]').dataset.why === 'shown'"
        )
        problems["why axe"] = axe(app, f"{tag} why", findings)
        app.page.get_by_test_id("why").uncheck()
        app.page.wait_for_function("() => document.documentElement.dataset.storage !== undefined")
        app.page.get_by_test_id("teach-4").click()
        app.page.wait_for_function(
            "() => document.querySelector('[data-testid=my-count]').dataset.count === '1'"
        )
        problems["taught axe"] = axe(app, f"{tag} taught", findings)
        if size[0] > size[1] and size[1] < 500:  # phone landscape: side by side
            pad = app.page.get_by_test_id("pad").bounding_box()
            result = app.page.locator(".result-card").bounding_box()
            problems["landscape side by side"] = (
                [] if result["x"] >= pad["x"] + pad["width"] else [(pad, result)]
            )
    finally:
        app.context.close()

    err = new_app(
        chromium_browser,
        server,
        size,
        scheme,
        [("**/pyodide.asm.wasm", lambda r: r.fulfill(status=404, body="no"))],
    )
    try:
        err.open()
        assert err.state == "error"
        err.page.evaluate("(s) => digitApp.setStrokes(s)", FOUR)
        err.page.wait_for_timeout(200)
        problems["error layout"] = boxes_on_screen(err, size)
        err.screenshot(f"layout-{tag}-error.png")
        problems["error axe"] = axe(err, f"{tag} error", findings)
    finally:
        err.context.close()
    problems = {k: v for k, v in problems.items() if v}
    assert not problems, json.dumps(problems, indent=1)


# ---------------------------------------------------------------- editing


def strokes(app: App) -> int:
    return app.page.evaluate("() => digitApp.strokes.length")


def test_clear_is_undone_redo_and_focus(chromium_browser, server):
    context = chromium_browser.new_context(viewport={"width": 1100, "height": 820})
    try:
        app = App(context, server.url).open()
        page = app.page
        undo, redo, clear = (page.get_by_test_id(n) for n in ("undo", "redo", "clear"))
        app.draw(FOUR)
        assert strokes(app) == 2 and redo.is_disabled()
        clear.focus()
        page.keyboard.press("Enter")  # Clear, from the keyboard
        app.idle()
        assert strokes(app) == 0 and clear.is_disabled()
        assert page.evaluate("() => document.activeElement.dataset.testid") == "undo"  # not <body>
        page.keyboard.press("Enter")  # Undo brings the cleared drawing back
        app.idle()
        assert strokes(app) == 2 and app.prediction() == "4"
        for key in ("Control+Shift+Z", "Control+y"):
            page.keyboard.press("Control+z")
            app.idle()
            assert strokes(app) == 0 or strokes(app) == 1
            before = strokes(app)
            page.keyboard.press(key)
            app.idle()
            assert strokes(app) > before, key
        for _ in range(10):
            if undo.is_disabled():
                break
            undo.click()
            app.idle()
        assert undo.is_disabled() and not redo.is_disabled()
        assert page.evaluate("() => document.activeElement.dataset.testid") in ("redo", "clear")
        redo.click()
        app.idle()
        assert strokes(app) >= 1
        # A visible focus ring on every control.
        for name in ("undo", "redo", "clear", "brush"):
            loc = page.get_by_test_id(name)
            if loc.is_disabled():
                continue
            loc.focus()
            page.keyboard.press("Shift+Tab")
            page.keyboard.press("Tab")
            style = loc.evaluate(
                "e => getComputedStyle(e).outlineStyle + ' ' + getComputedStyle(e).outlineWidth"
            )
            assert style.startswith("solid") and not style.endswith(" 0px"), (name, style)
    finally:
        context.close()


def test_the_drawing_is_kept_across_a_reload(chromium_browser, server):
    context = chromium_browser.new_context(viewport={"width": 1100, "height": 820})
    try:
        app = App(context, server.url).open()
        app.draw(FOUR)
        kept = app.page.evaluate("() => digitApp.strokes")
        app.page.reload()
        assert app.wait_settled() == "ready"
        app.idle()
        assert app.page.evaluate("() => digitApp.strokes") == kept
        assert app.prediction() == "4"
    finally:
        context.close()


def test_announcements_wait_for_a_settled_verdict(chromium_browser, server):
    context = chromium_browser.new_context(viewport={"width": 1100, "height": 820})
    try:
        app = App(context, server.url).open()
        announce = app.page.get_by_test_id("announce")
        app.draw(FOUR)
        assert announce.text_content() == "Looks like a 4, 100% sure." or re.match(
            r"Looks like a 4, \d+% sure\.", announce.text_content()
        )
    finally:
        context.close()


# ---------------------------------------------------------------- touch, both ways; contrast by numbers


@pytest.mark.parametrize("size", [(390, 844), (844, 390)], ids=["portrait", "landscape"])
def test_touch_draws_without_scrolling_or_zooming(chromium_browser, server, size):
    """A 7 drawn by finger (CDP touch events) reads as 7; the page neither scrolls nor zooms meanwhile."""
    context = chromium_browser.new_context(
        viewport={"width": size[0], "height": size[1]}, device_scale_factor=3, is_mobile=True, has_touch=True
    )
    try:
        app = App(context, server.url).open()
        page = app.page
        before = page.evaluate("() => [scrollX, scrollY, visualViewport.scale]")
        app.touch([(0.3, 0.22), (0.72, 0.22), (0.45, 0.84)])  # a 7, by finger
        app.idle()
        assert page.evaluate("() => [scrollX, scrollY, visualViewport.scale]") == before == [0, 0, 1]
        assert app.prediction() == "7"
    finally:
        context.close()


def _luminance(rgb: str) -> float:
    r, g, b = (int(v) / 255 for v in re.findall(r"\d+(?:\.\d+)?", rgb)[:3])
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_non_text_contrast_is_at_least_3_to_1(chromium_browser, server, scheme):
    """axe checks text; WCAG 1.4.11 asks 3:1 for what a person must see: the pad's edge on its card,
    a bar on its track (measured from the computed colours)."""
    context = chromium_browser.new_context(color_scheme=scheme)
    try:
        app = App(context, server.url).open()
        app.draw(FOUR)
        colours = app.page.evaluate("""() => {
            const css = (sel, prop) => getComputedStyle(document.querySelector(sel))[prop];
            return {
                padEdge: css('.pad-frame', 'borderTopColor'), card: css('.pad-card', 'backgroundColor'),
                bar: css('.bar:not(.top) .bar-fill', 'backgroundColor'),
                topBar: css('.bar.top .bar-fill', 'backgroundColor'),
                track: css('.bar-track', 'backgroundColor'),
            };
        }""")
        assert contrast(colours["padEdge"], colours["card"]) >= 3, colours
        assert contrast(colours["bar"], colours["track"]) >= 3, colours
        assert contrast(colours["topBar"], colours["track"]) >= 3, colours
    finally:
        context.close()
