"""Inside the network (Chromium, e2e): the three grids and every number in them equal CPython's
digitnet for the page's own image; a unit selected by mouse and by keyboard; knocking units out
moves the answer exactly as CPython's Session.modify does, and Restore brings back the same bits;
axe-core clean with the view open at phone and desktop sizes, light and dark; the colour scales'
ends 3:1 on the card; the view remembered across a reload; a broken network is never kept."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import App
from test_e2e_a11y import axe, contrast, new_app

from digitnet.browser import Session
from digitnet.inside import grid_columns, open_up, top_path
from digitnet.modelfile import load_model
from digitnet.network import forward, normalize, softmax
from digitnet.sizes import CANVAS, PEN_DEFAULT, SIDE
from tools.paths import SHIPPED_MODEL
from training.strokes import DIGITS

pytestmark = pytest.mark.e2e

MODEL = load_model(SHIPPED_MODEL)
UNITS = MODEL.sizes[1:]  # the hidden layers' and the outputs' sizes: what the grids must say
GRIDS = ["layer-1", "layer-2", "layer-out"]
PEN = PEN_DEFAULT * CANVAS  # a first visit's pen, in pad pixels (as the page sends it)
DESKTOP = {"width": 1280, "height": 800}
SCALE_ENDS = ["--cell-high", "--cell-neg", "--cell-pos", "--path-up", "--path-down"]
SCROLLED = "() => [scrollX, scrollY, document.querySelector('.inside-card').scrollTop]"
READ = """() => {
    const i = digitApp.inside, a = (v) => Array.from(v);
    return {input: a(i.input), hidden: i.hidden.map(a), logits: a(i.logits), probs: a(i.probs),
            contributions: i.contributions.map(a), target: i.target, image: a(digitApp.lastImage)};
}"""


@pytest.fixture(scope="module")
def desk(chromium_browser, server):
    """One desktop page (1280x800, mouse) shared by this module's tests; each sets up its own state."""
    context = chromium_browser.new_context(viewport=DESKTOP)
    app = App(context, server.url).open()
    assert app.state == "ready", app.page.get_by_test_id("error").text_content()
    yield app
    context.close()


def html(app: App, name: str) -> str:
    return app.page.evaluate(f"() => document.documentElement.dataset.{name}")


def detail(app: App, name: str) -> str:
    return app.page.get_by_test_id("unit-detail").get_attribute(f"data-{name}")


def last_probs(app: App) -> bytes:
    """The shown result's probabilities, bit for bit."""
    return np.array(app.page.evaluate("() => Array.from(digitApp.lastProbs)"), np.float32).tobytes()


def set_open(app: App, want: bool) -> None:
    toggle = app.page.get_by_test_id("inside")
    if (toggle.get_attribute("aria-expanded") == "true") != want:
        toggle.click()
    app.idle()


def draw_seven(app: App) -> None:
    app.clear()
    app.draw(DIGITS[7])
    assert app.prediction() == "7"


def changed(app: App, act, modified: str) -> None:
    """Do act (a click or a key that breaks or restores the network), then wait for <html
    data-modified> to say modified and for the reading of the network as it is now."""
    shown = app.predictions()
    act()
    app.page.wait_for_function(
        "([m, n]) => document.documentElement.dataset.modified === m"
        " && Number(document.documentElement.dataset.predictions) > n",
        arg=[modified, shown],
    )
    app.idle()


def tab_to(app: App, testid: str, most: int = 60) -> None:
    """Move the focus with Tab alone until it is on testid's element."""
    for _ in range(most):
        if app.page.evaluate(f"() => document.activeElement?.dataset?.testid === '{testid}'"):
            return
        app.page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {testid}")


def cpython() -> Session:
    """CPython's twin of the page's worker session, on the shipped model."""
    s = Session()
    assert json.loads(s.load_model(SHIPPED_MODEL.read_bytes(), "model.npz"))["ok"]
    return s


def close(a, b, tol=1e-5) -> None:
    np.testing.assert_allclose(np.asarray(a, np.float32), np.asarray(b, np.float32), rtol=tol, atol=tol)


def test_mouse_grids_numbers_knock_out_and_restore(desk):
    app, page = desk, desk.page
    set_open(app, False)
    draw_seven(app)
    page.get_by_test_id("inside").click()
    app.idle()
    assert page.get_by_test_id("inside").get_attribute("aria-expanded") == "true"
    for name, units in zip(GRIDS, UNITS, strict=True):
        grid = page.get_by_test_id(name)
        assert grid.is_visible() and grid.get_attribute("role") == "grid", name
        assert grid.get_attribute("data-units") == str(units), name

    # Every number of the reading is CPython's forward pass on the page's own 28x28 image.
    got = page.evaluate(READ)
    x = normalize(MODEL, np.array(got["image"], np.float32).reshape(1, SIDE, SIDE))
    acts = forward(MODEL.weights, MODEL.biases, x)
    close(got["input"], x[0])
    assert len(got["hidden"]) == len(acts) - 2
    for mine, theirs in zip(got["hidden"], acts[1:-1], strict=True):
        close(mine, theirs[0])
    close(got["logits"], acts[-1][0])
    close(got["probs"], softmax(acts[-1])[0])
    opened = open_up(MODEL, x[0])
    for mine, theirs in zip(got["contributions"], opened.contributions, strict=True):
        close(mine, theirs)
    assert got["target"] == opened.target == 7

    # A real click on the cell of layer 1's largest push selects that unit.
    top = int(np.argmax(opened.contributions[0]))
    canvas = page.get_by_test_id("layer-1").locator("canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    columns = grid_columns(UNITS[0])
    rows = -(-UNITS[0] // columns)
    page.mouse.click(
        box["x"] + (top % columns + 0.5) * box["width"] / columns,
        box["y"] + (top // columns + 0.5) * box["height"] / rows,
    )
    app.idle()
    assert (detail(app, "layer"), detail(app, "unit")) == ("1", str(top))
    assert float(detail(app, "z")) == pytest.approx(float(opened.pre[0][top]), abs=1e-4)
    assert page.evaluate("() => digitApp.inside.unit.index") == top

    # Knock out the top 10 of layer 1: the 7 loses probability, the bars show it, as CPython says.
    before_bits = last_probs(app)
    before_bars = app.data_probs()
    seven_before = float(before_bars[7])
    pixels = app.pad_pixels()
    session = cpython()
    close(session.predict(pixels.tobytes(), *pixels.shape, PEN)[:10], np.frombuffer(before_bits, np.float32))
    page.get_by_test_id("knock-count").fill("10")
    page.get_by_test_id("knock-layer").select_option("1")
    changed(app, lambda: page.get_by_test_id("knock-path").click(), "true")
    after = np.frombuffer(last_probs(app), np.float32)
    bars = app.data_probs()
    assert after[7] < seven_before
    assert [float(b) for b in bars] == [float(p) for p in after] and bars != before_bars  # the new bars
    assert "10 units knocked out" in page.get_by_test_id("modified-note").text_content()
    knocked = top_path(opened, 1, 10)
    assert len(knocked) == 10
    hidden1 = np.array(page.evaluate("() => Array.from(digitApp.inside.hidden[0])"))
    assert not hidden1[knocked].any()  # the knocked-out units are silent
    state = json.loads(session.modify(json.dumps({"knock_path": [1, 10]})))
    assert sorted(i for _, i in state["knocked"]) == sorted(knocked)
    close(session.predict(pixels.tobytes(), *pixels.shape, PEN)[:10], after)

    # Restore: the very same probabilities, bit for bit.
    changed(app, lambda: page.get_by_test_id("restore").click(), "false")
    assert last_probs(app) == before_bits
    assert app.data_probs() == before_bars
    assert html(app, "modified") == "false"
    assert not app.errors, app.errors


def test_keyboard_only_select_knock_out_and_restore(desk):
    app, page = desk, desk.page
    set_open(app, False)
    draw_seven(app)
    strokes = page.evaluate("() => digitApp.strokes")
    toggle = page.get_by_test_id("inside")
    toggle.focus()
    page.keyboard.press("Enter")
    app.idle()
    assert toggle.get_attribute("aria-expanded") == "true"
    tab_to(app, "layer-1")
    grid = page.get_by_test_id("layer-1")
    cell = page.locator(f"#{grid.get_attribute('aria-activedescendant')}")
    start = cell.text_content()
    at = int(start.split()[1])  # "Unit N (row r, column c): ..."
    columns = grid_columns(UNITS[0])
    scrolled = page.evaluate(SCROLLED)
    across = "ArrowRight" if at % columns < columns - 1 else "ArrowLeft"
    down, back = ("ArrowDown", "ArrowUp") if at + columns < UNITS[0] else ("ArrowUp", "ArrowDown")
    for key in (down, back, across, down):
        page.keyboard.press(key)
    want = at + (1 if across == "ArrowRight" else -1) + (columns if down == "ArrowDown" else -columns)
    row, column = want // columns + 1, want % columns + 1
    assert cell.text_content().startswith(f"Unit {want} (row {row}, column {column})"), cell.text_content()
    page.keyboard.press("Enter")
    app.idle()
    assert (detail(app, "layer"), detail(app, "unit")) == ("1", str(want))
    assert cell.text_content().endswith(", selected")
    # The grid's keys are its own: arrows, Enter and Space scroll nothing; Delete and Escape (which
    # clear the pad elsewhere) leave the drawing under inspection alone.
    page.keyboard.press(" ")
    app.idle()
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
    assert page.evaluate(SCROLLED) == scrolled
    for key in ("Delete", "Escape"):
        page.keyboard.press(key)
        app.idle()
        assert page.evaluate("() => digitApp.strokes") == strokes and app.prediction() == "7", key
    assert detail(app, "unit") == str(want)

    tab_to(app, "knock-out")
    changed(app, lambda: page.keyboard.press("Enter"), "true")
    assert detail(app, "unit") == str(want) and detail(app, "knocked") == "true"
    assert float(detail(app, "a")) == 0
    tab_to(app, "restore")
    changed(app, lambda: page.keyboard.press("Enter"), "false")
    assert detail(app, "knocked") == "false"
    assert page.evaluate("() => digitApp.strokes") == strokes


SIZES = [(360, 640), (1280, 800)]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_axe_with_the_view_open(chromium_browser, server, size, scheme):
    """Zero axe violations with a unit selected and after a knock-out; the pad still reads with the
    view open, which sits below the answer on a phone."""
    app = new_app(chromium_browser, server, size, scheme)
    found, problems = {}, {}
    try:
        app.open()
        page = app.page
        set_open(app, True)
        draw_seven(app)  # the pad reads with the view open
        assert page.get_by_test_id("layer-1").is_visible()
        if size[0] < 500:
            answer = page.locator(".result-card").bounding_box()
            view = page.get_by_test_id("inside-card").bounding_box()
            assert view["y"] >= answer["y"] + answer["height"], (answer, view)
        page.evaluate("() => digitApp.selectUnit(2, 5)")
        app.idle()
        assert (detail(app, "layer"), detail(app, "unit")) == ("2", "5")
        tag = f"{size[0]}x{size[1]}-{scheme}"
        problems["selected"] = axe(app, f"inside {tag} selected", found)
        changed(app, lambda: page.get_by_test_id("knock-out").click(), "true")
        assert page.get_by_test_id("modified-note").text_content().startswith("Modified")
        problems["modified"] = axe(app, f"inside {tag} modified", found)
        app.screenshot(f"inside-{tag}.png")
    finally:
        app.context.close()
    problems = {k: v for k, v in problems.items() if v}
    assert not problems, json.dumps(problems, indent=1)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_colour_scales_ends_are_3_to_1_on_the_card(desk, scheme):
    page = desk.page
    page.emulate_media(color_scheme=scheme)
    try:
        colours = page.evaluate(
            """(names) => {
                const probe = document.createElement('div');
                document.body.append(probe);
                const out = {};
                for (const name of names) {
                    probe.style.color = `var(${name})`;
                    out[name] = getComputedStyle(probe).color;
                }
                probe.remove();
                return out;
            }""",
            [*SCALE_ENDS, "--card"],
        )
    finally:
        page.emulate_media(color_scheme="light")
    assert len(set(colours.values())) == len(colours), colours  # each a colour of its own, all defined
    low = {name: round(contrast(colours[name], colours["--card"]), 2) for name in SCALE_ENDS}
    assert all(c >= 3 for c in low.values()), (scheme, low, colours)


def test_the_view_is_remembered_and_close_returns_focus(desk):
    app, page = desk, desk.page
    set_open(app, True)
    page.reload()
    assert app.wait_settled() == "ready"
    toggle = page.get_by_test_id("inside")
    assert toggle.get_attribute("aria-expanded") == "true" and html(app, "inside") == "open"
    assert page.get_by_test_id("inside-card").is_visible()
    page.get_by_role("button", name="Close the view inside the network").click()
    assert not page.get_by_test_id("inside-card").is_visible()
    assert toggle.get_attribute("aria-expanded") == "false"
    assert page.evaluate("() => document.activeElement?.dataset.testid") == "inside"
    page.reload()
    assert app.wait_settled() == "ready"
    assert toggle.get_attribute("aria-expanded") == "false" and html(app, "inside") == "closed"


def test_a_broken_network_is_never_kept(desk):
    """Knocked out, then reloaded: the network is as trained again, and reads as before."""
    app, page = desk, desk.page
    set_open(app, True)
    draw_seven(app)
    before = last_probs(app)
    changed(app, lambda: page.get_by_test_id("knock-path").click(), "true")
    assert last_probs(app) != before
    page.reload()
    assert app.wait_settled() == "ready"
    app.idle()
    page.wait_for_function("() => document.documentElement.dataset.storage !== undefined")
    assert html(app, "modified") == "false" and html(app, "model") == "shipped"
    assert app.prediction() == "7"
    assert last_probs(app) == before


def test_noise_on_the_weights_uses_numpy_s_second_wheel(desk):
    """The noise's pattern comes from np.random, whose extension modules the boot leaves out
    (tools.numpy_split): the worker installs them once ready, and the noise waits for them."""
    app, page = desk, desk.page
    set_open(app, True)
    draw_seven(app)
    before = last_probs(app)
    changed(app, lambda: page.get_by_test_id("noise").fill("0.5"), "true")
    assert last_probs(app) != before
    assert any("/numpy_later-" in u for u in app.requests)
    changed(app, lambda: page.get_by_test_id("restore").click(), "false")
    assert last_probs(app) == before
