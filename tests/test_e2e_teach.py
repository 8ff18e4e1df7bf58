"""Teach it your handwriting (Chromium, e2e): a made-up glyph taught ten times is read right
afterwards; the drawings and the personal model survive a reload; reset, why, export and import
(a not-a-digit drawing too, as label 10)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import App

from training.strokes import transform

pytestmark = pytest.mark.e2e

TRIANGLE = [[(0.5, 0.18), (0.82, 0.8), (0.18, 0.8), (0.5, 0.18)]]  # taught as a 4
SCRIBBLE = [[(0.2, 0.3), (0.8, 0.35), (0.25, 0.45), (0.78, 0.5), (0.22, 0.62), (0.8, 0.7), (0.3, 0.8)]]


def triangles(n: int, seed: int) -> list:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        scale = float(rng.uniform(0.55, 1.0))
        dx, dy = (float(v) for v in rng.uniform(-0.2, 0.2, 2) * (1 - scale))
        out.append(transform(TRIANGLE, scale, dx, dy))
    return out


def count(app: App) -> int:
    return int(app.page.get_by_test_id("my-count").get_attribute("data-count"))


def html(app: App, name: str) -> str:
    return app.page.evaluate(f"() => document.documentElement.dataset.{name}")


def read_as_four(app: App, drawings) -> int:
    hits = 0
    for strokes in drawings:
        app.clear()
        app.draw(strokes)
        hits += app.prediction() == "4"
    return hits


def test_teach_fine_tune_reload_reset_why_export_import(chromium_browser, server, tmp_path):
    context = chromium_browser.new_context(viewport={"width": 1100, "height": 900}, accept_downloads=True)
    try:
        app = App(context, server.url).open()
        page = app.page
        page.wait_for_function("() => document.querySelector('[data-testid=my-count]') !== null")
        assert html(app, "model") == "shipped" and count(app) == 0
        assert read_as_four(app, triangles(10, 2)) <= 2  # it does not read them as 4
        for i, strokes in enumerate(triangles(10, 1)):
            app.clear()
            app.draw(strokes)
            page.get_by_test_id("teach-4").click()
            page.wait_for_function(
                f"() => document.querySelector('[data-testid=my-count]').dataset.count === '{i + 1}'"
            )
            assert app.ink() == 0  # the pad clears
        page.get_by_test_id("fine-tune").click()
        page.wait_for_function("() => document.documentElement.dataset.tuning === 'done'", timeout=120_000)
        assert html(app, "model") == "personal"
        seconds = page.evaluate("() => document.querySelector('.tune-text').textContent")
        print("\n" + seconds)
        assert read_as_four(app, triangles(10, 2)) >= 8
        app.screenshot("teach-after.png")

        # "ready" means the model the person chose is in use: the personal one, at that very moment
        page.add_init_script(
            "new MutationObserver(() => { const h = document.documentElement;"
            " if (h.dataset.state === 'ready' && !('modelAtReady' in window))"
            " window.modelAtReady = h.dataset.model; })"
            ".observe(document, {attributes: true, subtree: true, attributeFilter: ['data-state']});"
        )
        page.reload()
        app.wait_settled()
        assert page.evaluate("() => window.modelAtReady") == "personal"
        page.wait_for_function(
            "() => document.querySelector('[data-testid=my-count]')?.dataset.count === '10'"
        )
        assert read_as_four(app, triangles(3, 5)) >= 2

        page.get_by_test_id("why").check()
        app.clear()
        app.draw(triangles(1, 7)[0])
        page.wait_for_function(
            "() => document.querySelector('[data-testid=preview]').dataset.why === 'shown'"
        )

        app.clear()
        app.draw(SCRIBBLE)
        page.get_by_test_id("teach-none").click()  # exported as label 10
        page.wait_for_function(
            "() => document.querySelector('[data-testid=my-count]').dataset.count === '11'"
        )
        with page.expect_download() as download:
            page.get_by_text("Export drawings (CSV)").click()
        csv = tmp_path / "mine.csv"
        download.value.save_as(csv)
        lines = csv.read_text().splitlines()
        assert len(lines) == 12 and lines[0].startswith("label,1x1,")
        assert sorted(l.split(",", 1)[0] for l in lines[1:]) == ["10"] + ["4"] * 10
        page.locator("#import-csv").set_input_files(str(csv))
        page.wait_for_function(
            "() => document.querySelector('[data-testid=my-count]').dataset.count === '22'"
        )
        assert page.locator(".gallery-item", has_text="not a digit").count() == 2  # read back as not a digit

        page.get_by_test_id("reset-model").click()
        page.wait_for_function("() => document.documentElement.dataset.model === 'shipped'")
        assert read_as_four(app, triangles(5, 2)) <= 2
    finally:
        context.close()
