"""The boot always ends: missing, broken and stalled downloads end in a clear error naming the file,
never an endless "Loading…", and Try again recovers once the fault is gone (Chromium, e2e)."""

from __future__ import annotations

import re
import time

import pytest
from conftest import App

from tools.harness import Server, copy_web_root

pytestmark = pytest.mark.e2e

STALL_MS = 3000  # the page's watchdog, shortened for the tests (20 s in the app)


def open_app(chromium_browser, server, routes=(), query: str = "") -> App:
    context = chromium_browser.new_context(viewport={"width": 1000, "height": 800})
    context.add_init_script(f"window.digitAppConfig = {{ stallMs: {STALL_MS} }};")
    for pattern, handler in routes:
        context.route(pattern, handler)
    app = App(context, server.url)
    app.started = time.perf_counter()
    app.open(query)
    return app


def error_text(app: App) -> str:
    return " ".join(app.page.get_by_test_id("error").text_content().split())


def stall(route) -> None:
    """Never answer: the request hangs, as over a dead link."""


@pytest.mark.parametrize(
    "file, expect",
    [
        ("pyodide.asm.wasm", r"pyodide\.asm\.wasm: HTTP 404"),
        ("python_stdlib.zip", r"python_stdlib\.zip: HTTP 404"),
        ("pyodide-lock.json", r"pyodide-lock\.json: HTTP 404"),
        (
            "numpy-*.whl",
            r"numpy-2\.0\.2-\S+\.whl: .*sha256 pyodide-lock\.json gives",
        ),  # fetched with integrity
        ("digitnet-*.whl", r"static/pkg/digitnet-\S+\.whl: HTTP 404"),
        ("model.npz", r"static/model/model\.npz: HTTP 404"),
    ],
)
def test_a_missing_file_is_named_at_once(chromium_browser, server, file, expect):
    app = open_app(chromium_browser, server, [(f"**/{file}", lambda r: r.fulfill(status=404, body="no"))])
    try:
        assert app.state == "error"
        assert re.search(expect, error_text(app)), error_text(app)
        assert time.perf_counter() - app.started < STALL_MS / 1000 + 10
        assert app.page.get_by_test_id("retry").is_visible()
    finally:
        app.context.close()


@pytest.mark.parametrize(
    "file",
    ["pyodide.asm.wasm", "python_stdlib.zip", "numpy-*.whl", "model.npz", "digitnet-*.whl", "runtime.mjs"],
)
def test_a_stalled_download_ends_in_an_error_naming_it(chromium_browser, server, file):
    app = open_app(chromium_browser, server, [(f"**/{file}", stall)])
    try:
        took = time.perf_counter() - app.started
        assert app.state == "error", error_text(app)
        text = error_text(app)
        name = file.replace("*", "")
        if file == "runtime.mjs":  # the worker's own modules: the worker never starts
            assert "did not start" in text, text
        else:
            assert "stalled" in text and all(part in text for part in name.split("-")), text
        assert took < STALL_MS / 1000 + 15, took
    finally:
        app.context.close()


def test_a_truncated_download_is_named(chromium_browser, server):
    """The server promises more bytes than it sends (what a reset connection leaves)."""

    def half(route):
        body = route.fetch().body()
        route.fulfill(
            status=200,
            body=body[: len(body) // 2],
            headers={"Content-Type": "application/octet-stream", "Content-Length": str(len(body))},
        )

    app = open_app(chromium_browser, server, [("**/model.npz", half)])
    try:
        assert app.state == "error"
        text = error_text(app)
        assert "static/model/model.npz" in text, text
    finally:
        app.context.close()


def test_try_again_recovers_once_the_fault_is_gone(chromium_browser, server):
    broken = {"on": True}

    def flaky(route):
        if broken["on"]:
            route.fulfill(status=503, body="busy")
        else:
            route.continue_()

    app = open_app(chromium_browser, server, [("**/python_stdlib.zip", flaky)])
    try:
        assert app.state == "error" and "503" in error_text(app)
        app.draw_wait = False
        box = app.pad_box()  # a drawing made while in error is kept and read after the retry
        app.page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.2)
        app.page.mouse.down()
        app.page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.8, steps=12)
        app.page.mouse.up()
        broken["on"] = False
        app.page.get_by_test_id("retry").click()
        assert app.wait_settled() == "ready", error_text(app)
        assert app.page.get_by_test_id("error").is_hidden()
        app.idle()
        assert app.prediction() == "1"
    finally:
        app.context.close()


@pytest.mark.parametrize(
    "missing, said",
    [
        ("ui.js", "static/js/ui.js could not be loaded: HTTP 404"),  # a module of the page: boot-check.js
        ("worker.js", "static/js/worker.js is missing"),  # the worker: model.js finds out which
    ],
)
def test_a_missing_script_is_named(chromium_browser, tmp_path, missing, said):
    root = copy_web_root(tmp_path / "webroot")
    (root / "static" / "js" / missing).unlink()
    server = Server(root)
    context = chromium_browser.new_context()
    try:
        app = App(context, server.url).open()
        assert app.state == "error"
        assert said in error_text(app), error_text(app)
    finally:
        context.close()
        server.stop()


def test_loading_a_bad_model_after_a_good_boot_keeps_the_app_working(chromium_browser, server):
    app = open_app(chromium_browser, server)
    try:
        assert app.state == "ready"
        message = app.page.evaluate("""() => digitApp.loadModel('static/model/missing.npz')
            .then(() => 'loaded', (e) => e.message)""")
        assert "static/model/missing.npz" in message and "404" in message, message
        assert app.state == "ready" and app.page.get_by_test_id("error").is_hidden()
        app.draw([[(0.5, 0.2), (0.5, 0.8)]])
        assert app.prediction() == "1"
    finally:
        app.context.close()


def test_progress_tells_the_truth_on_a_slow_link(chromium_browser, server):
    """Throttled: the bar shows MB of MB, rising, at least every second (but while Python starts);
    a drawing made while loading is promised a reading; when ready the panel goes and nothing on
    the page moves."""
    context = chromium_browser.new_context(viewport={"width": 1000, "height": 800})
    context.add_init_script("""
        window.progressLog = [];
        window.layoutShift = 0;
        new PerformanceObserver((list) => {
            for (const e of list.getEntries()) if (!e.hadRecentInput) window.layoutShift += e.value;
        }).observe({ type: "layout-shift", buffered: true });
        document.addEventListener("DOMContentLoaded", () => {
            const bytes = document.querySelector(".load-bytes");
            new MutationObserver(() => window.progressLog.push([performance.timeOrigin + performance.now(),
                                                                bytes.textContent]))
                .observe(bytes, { childList: true, characterData: true, subtree: true });
        });
    """)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 40, "downloadThroughput": 3_000_000, "uploadThroughput": 1_000_000},
    )
    try:
        app = App.__new__(App)
        app.context, app.page, app.url = context, page, server.url
        page.goto(server.url)
        page.wait_for_function("() => window.progressLog.length > 3", timeout=60_000)
        assert app.state == "loading"
        box = page.get_by_test_id("pad").bounding_box()
        page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.2)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.8, steps=10)
        page.mouse.up()
        if app.state == "loading":
            assert "Read as soon as the network is ready" in page.get_by_test_id("prompt").text_content()
        assert app.wait_settled() == "ready", error_text(app)
        log = page.evaluate("() => window.progressLog")
        shown = [(t, text) for t, text in log if " of " in text]
        assert len(shown) >= 5, log
        values = [tuple(float(x) for x in re.findall(r"[\d.]+", text)[:2]) for _, text in shown]
        assert all(a[0] <= b[0] for a, b in zip(values, values[1:])), values  # rising
        # the whole runtime (its compressed copies: about 8 MB with br, 11 with gzip)
        assert values[-1][0] >= 0.95 * values[-1][1] and values[-1][1] > 5, values
        # At least every second, but while the worker was blocked (Python starting is one synchronous
        # call): then it cannot post what the network has brought. The worker reports those spans.
        blocked = page.evaluate("() => digitApp.workerBlocked")
        silent = [(a[0], b[0]) for a, b in zip(shown, shown[1:]) if b[0] - a[0] >= 1000]
        unexplained = [(t0, t1) for t0, t1 in silent if not any(s < t1 and e > t0 for s, e in blocked)]
        assert not unexplained, (unexplained, blocked)
        page.locator(".pad-loading").wait_for(state="hidden", timeout=2000)  # it fades out
        app.idle()
        assert page.get_by_test_id("prediction").text_content().strip() == "1"
        assert page.evaluate("() => window.layoutShift") <= 0.02
    finally:
        context.close()
