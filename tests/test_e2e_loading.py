"""Honest loading: the panel over the pad counts the bytes that cross the network (the server sends
compressed copies), in words a person understands, with the time left (Chromium, e2e)."""

from __future__ import annotations

import re

import pytest
from conftest import BOOT_TIMEOUT_MS

pytestmark = pytest.mark.e2e

# Every change of the panel's text, in order: [stage, bytes].
LOG_PANEL = """
    window.panelLog = [];
    document.addEventListener("DOMContentLoaded", () => {
        const stage = document.querySelector(".load-stage");
        const bytes = document.querySelector(".load-bytes");
        const log = () => window.panelLog.push([stage.textContent, bytes.textContent]);
        new MutationObserver(log).observe(document.querySelector(".load-text"),
                                          { childList: true, characterData: true, subtree: true });
    });
"""


def boot(chromium_browser, server, throughput: int | None = None) -> tuple[list, dict]:
    """A cold visit (a fresh context: nothing cached, no service worker), throttled to `throughput`
    bytes/s if given; -> (the panel's texts, digitApp.timings)."""
    context = chromium_browser.new_context(viewport={"width": 1000, "height": 800})
    context.add_init_script(LOG_PANEL)
    page = context.new_page()
    try:
        if throughput:
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send(
                "Network.emulateNetworkConditions",
                {
                    "offline": False,
                    "latency": 40,
                    "downloadThroughput": throughput,
                    "uploadThroughput": throughput,
                },
            )
        page.goto(server.url)
        page.wait_for_function(
            "() => document.documentElement.dataset.state !== 'loading'", timeout=BOOT_TIMEOUT_MS
        )
        state = page.evaluate("() => document.documentElement.dataset.state")
        assert state == "ready", page.get_by_test_id("error").text_content()
        return page.evaluate("() => window.panelLog"), page.evaluate("() => digitApp.timings")
    finally:
        context.close()


def megabytes(log: list) -> list[tuple[float, float]]:
    """(so far, total) of each "2.1 of 7.3 MB" the panel showed."""
    shown = [re.match(r"([\d.]+) of ([\d.]+) MB", text) for _, text in log]
    return [(float(m[1]), float(m[2])) for m in shown if m]


def test_the_total_is_what_crosses_the_network(chromium_browser, server):
    """Cold: the panel ends at its whole total, and that total is the bytes the browser says the
    worker's downloads took on the wire (the compressed copies, not the 33 MB they decode to)."""
    log, timings = boot(chromium_browser, server)
    values = megabytes(log)
    assert values, log
    assert all(a[0] <= b[0] for a, b in zip(values, values[1:])), values  # rising
    loaded, total = values[-1]
    assert loaded == total, values  # it ends at the whole
    wire = timings["transferSize"] / 1e6
    assert abs(total - wire) <= 0.05 * wire, (total, wire, timings)
    print(f"panel {total} MB, transfer size {wire:.2f} MB")


def test_a_slow_load_says_what_it_does_and_how_long(chromium_browser, server):
    """Throttled to 1.5 MB/s: "Getting the network ready", "x of y MB" and "about n s left" at some
    point, and never "Python"."""
    log, _ = boot(chromium_browser, server, throughput=1_500_000)
    said = [f"{stage} {text}" for stage, text in log]
    assert any("Getting the network ready" in s and " MB" in s and " left" in s for s in said), said
    assert [s for s in said if re.search(r"about \d+ (s|min) left", s)], said
    assert not [s for s in said if "Python" in s], said
    values = megabytes(log)
    assert all(a[0] <= b[0] for a, b in zip(values, values[1:])), values  # rising
    assert values[-1][0] == values[-1][1], values  # it ends at the whole


def test_the_bar_has_a_track_that_shows(chromium_browser, server):
    """The empty part of the bar has 3:1 contrast against the panel, light and dark."""
    for scheme in ("light", "dark"):
        context = chromium_browser.new_context(color_scheme=scheme)
        try:
            page = context.new_page()
            page.goto(server.url)
            track, card = page.evaluate("""() => [
                getComputedStyle(document.querySelector(".load-bar")).getPropertyValue("--load-track"),
                getComputedStyle(document.documentElement).getPropertyValue("--card"),
            ]""")
            assert contrast(track, card) >= 3, (scheme, track, card)
        finally:
            context.close()


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two #rrggbb colours."""

    def luminance(hex_colour: str) -> float:
        h = hex_colour.strip().lstrip("#")
        c = [int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)]
        c = [x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4 for x in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)
