"""Fixtures for the end-to-end tests: the real server, Debian's Chromium, one shared page.

Only loopback traffic: the server listens on 127.0.0.1 and Chromium resolves
every other host name to nothing.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import numpy as np
import pytest

from tools import package
from tools.harness import CHROMIUM, CHROMIUM_ARGS, Server
from tools.paths import ARTIFACTS, ROOT

BOOT_TIMEOUT_MS = 90_000


class App:
    """A page of the app plus everything it requested."""

    def __init__(self, context, url: str):
        self.context = context
        self.url = url
        self.requests: list[str] = []
        self.failed: list[str] = []
        self.bad_status: list[str] = []
        self.errors: list[str] = []
        context.on("request", lambda r: self.requests.append(r.url))
        context.on("requestfailed", lambda r: self.failed.append(f"{r.url} {r.failure}"))
        context.on("response", lambda r: r.status >= 400 and self.bad_status.append(f"{r.status} {r.url}"))
        self.page = context.new_page()
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.boot_seconds: float | None = None

    def open(self, query: str = "", wait: bool = True) -> App:
        t = time.perf_counter()
        self.page.goto(self.url + query)
        if wait:
            self.wait_settled()
            self.boot_seconds = time.perf_counter() - t
        return self

    def wait_settled(self) -> str:
        """Wait until the page leaves 'loading'; -> 'ready' or 'error'."""
        self.page.wait_for_function(
            "() => document.documentElement.dataset.state !== 'loading'",
            timeout=BOOT_TIMEOUT_MS,
        )
        return self.state

    @property
    def state(self) -> str:
        return self.page.evaluate("() => document.documentElement.dataset.state")

    # --- drawing ---

    def pad_box(self) -> dict:
        return self.page.get_by_test_id("pad").bounding_box()

    def draw(self, strokes, spacing: float = 10.0) -> None:
        """Draw strokes (lists of (x, y) in pad heights, as the page keeps them: y in [0, 1], x from 0
        to the pad's width over its height) with the mouse, then wait for the result.

        Between given points the mouse moves in steps of about ``spacing`` CSS pixels.
        """
        self.page.get_by_test_id(
            "pad"
        ).scroll_into_view_if_needed()  # a button clicked below may have scrolled it away
        box = self.pad_box()
        mouse = self.page.mouse

        def at(p):
            return box["x"] + p[0] * box["height"], box["y"] + p[1] * box["height"]

        for stroke in strokes:
            last = at(stroke[0])
            mouse.move(*last)
            mouse.down()
            for p in stroke[1:]:
                xy = at(p)
                steps = max(1, round(math.dist(last, xy) / spacing))
                mouse.move(*xy, steps=steps)
                last = xy
            mouse.up()
        self.idle()

    def touch(self, points, steps: int = 15) -> None:
        """Draw one stroke through points (in pad heights) by finger: CDP touch events (Playwright's
        touchscreen only taps), steps touch moves per segment. Does not wait for the result."""
        box = self.pad_box()
        dense = []
        for (x0, y0), (x1, y1) in zip(points, points[1:]):
            dense += [(x0 + (x1 - x0) * t / steps, y0 + (y1 - y0) * t / steps) for t in range(steps)]
        dense.append(points[-1])
        xy = [{"x": box["x"] + x * box["height"], "y": box["y"] + y * box["height"]} for x, y in dense]
        cdp = self.context.new_cdp_session(self.page)
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [xy[0]]})
        for p in xy[1:]:
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [p]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})

    def idle(self) -> None:
        self.page.evaluate("() => digitApp.whenIdle()")

    def clear(self) -> None:
        self.page.evaluate("() => digitApp.clear()")
        self.idle()

    # --- reading ---

    def prediction(self) -> str:
        return self.page.get_by_test_id("prediction").text_content().strip()

    def data_probs(self) -> list[str]:
        return [self.page.get_by_test_id(f"prob-{d}").get_attribute("data-prob") for d in range(10)]

    def predictions(self) -> int:
        return int(self.page.evaluate("() => document.documentElement.dataset.predictions"))

    def pad_pixels(self) -> np.ndarray:
        """The ink the model gets for the drawing: (height, width) uint8 (digitApp.padPixels)."""
        got = self.page.evaluate(
            "() => ({ink: Array.from(digitApp.padPixels()), shape: digitApp.padShape()})"
        )
        return np.array(got["ink"], np.uint8).reshape(got["shape"])

    @property
    def span(self) -> float:
        """The pad's width over its height: how far x goes in pad heights."""
        box = self.pad_box()
        return box["width"] / box["height"]

    def ink(self) -> int:
        """Sum of the pad pixels the model gets."""
        return self.page.evaluate("() => digitApp.padPixels().reduce((a, b) => a + b, 0)")

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / name
        self.page.screenshot(path=str(path))
        return path


@pytest.fixture(scope="session")
def chromium_browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is missing: the end-to-end tests need Debian's chromium "
            "(bash scripts/setup.sh --test installs it)",
            pytrace=False,
        )
    if not (ROOT / "static" / "pyodide" / "runtime.mjs").is_file():
        pytest.fail(
            "static/pyodide/ is missing: run bash scripts/setup.sh (or python -m tools.assets)", pytrace=False
        )
    package.ensure()  # the page must run the py/digitnet/ these tests see, never a stale wheel
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="session")
def server():
    """The page served from the repository, or from the folder DIGIT_WEB_ROOT names (another copy
    of the page, e.g. an older one, to see a test fail on it)."""
    s = Server(Path(os.environ["DIGIT_WEB_ROOT"])) if os.environ.get("DIGIT_WEB_ROOT") else Server()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def app(chromium_browser, server):
    """One desktop page, booted once and shared by the drawing tests (each clears first)."""
    context = chromium_browser.new_context(viewport={"width": 1100, "height": 820}, device_scale_factor=2)
    a = App(context, server.url).open()
    yield a
    context.close()


@pytest.fixture
def fresh_app(app):
    """The shared page with an empty pad and its result shown."""
    assert app.state == "ready", app.page.get_by_test_id("error").text_content()
    app.clear()
    return app
