"""What the benches that drive the page in headless Chromium share (``bench.page_bench``,
``bench.tune_bench``): the window, how long a boot may take, the long-task limit, the init script
that records ready, long tasks and the worker's times (``bench/pages/probe/init.js``), how to read
the other scripts they run in the page, and the drawings they make."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from training.strokes import DIGITS, transform

PAGES_DIR = Path(__file__).resolve().parent / "pages"
PROBE_DIR = PAGES_DIR / "probe"  # scripts run in the page: init scripts, page.evaluate functions
BARE_DIR = PAGES_DIR / "bare"  # page_bench's bare page: HTML, its JS, its Python

BOOT_TIMEOUT_MS = 120_000
VIEWPORT = {"width": 1100, "height": 820}
GOAL_LONG_TASK_MS = 50.0  # a main-thread task longer than this breaks the goal


def probe(name: str) -> str:
    """The text of ``bench/pages/probe/<name>``: an init script, or a function for page.evaluate."""
    return (PROBE_DIR / name).read_text()


INIT_JS = probe("init.js")


def drawings(n: int, seed: int = 0) -> list[list[list[list[float]]]]:
    """n different drawings: the ten digit shapes in turn, each scaled 0.6-1.0 and shifted up to 0.1."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        scale, dx, dy = rng.uniform(0.6, 1.0), rng.uniform(-0.1, 0.1), rng.uniform(-0.1, 0.1)
        out.append([[[float(x), float(y)] for x, y in s] for s in transform(DIGITS[i % 10], scale, dx, dy)])
    return out


def open_ready(context, url: str, errors: list[str]):
    """A new page of ``context`` at ``url`` (with INIT_JS among the context's init scripts), once it
    says it is ready or failed; its page errors and console errors gathered into ``errors``.
    RuntimeError when it did not get ready."""
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    with page.expect_console_message(
        lambda m: m.text in ("__bench:ready", "__bench:error"), timeout=BOOT_TIMEOUT_MS
    ):
        page.goto(url, timeout=BOOT_TIMEOUT_MS)
    if page.evaluate("() => document.documentElement.dataset.state") != "ready":
        raise RuntimeError(f"the page did not get ready: {errors}")
    return page
