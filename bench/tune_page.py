"""bench.tune_bench in the browser: one run in a fresh context of the page at ``/``: read new
triangles and digits, teach 20 drawings, fine-tune, read them again, export the model and the
drawings; and what it draws (the triangles, the digits) and how it counts what the page showed.

What runs in the page is in ``bench/pages/probe/``: the benches' ``init.js`` (long tasks, ready)
then ``tune_init.js`` (the click on fine-tune and the end of tuning), and the ``tune_*.js``
functions it evaluates.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench.browser import INIT_JS, VIEWPORT, drawings, open_ready, probe
from training.strokes import transform

TUNE_TIMEOUT_MS = 180_000
TRIANGLE = [[(0.5, 0.18), (0.82, 0.8), (0.18, 0.8), (0.5, 0.18)]]  # a made-up glyph...
TRIANGLE_LABEL = 4  # ...taught as a 4
N_TAUGHT, N_NEW = 10, 10  # taught: 10 triangles + 10 digits; read: 10 new of each
SEED_TAUGHT, SEED_NEW = 1, 2  # tests/test_e2e_teach.py's seeds

TUNE_INIT_JS = probe("tune_init.js")
READ_JS = probe("tune_read.js")
WAIT_TUNED_JS = probe("tune_wait.js")
TIMINGS_JS = probe("tune_timings.js")
DRAW_JS = "async (strokes) => { digitApp.setStrokes(strokes); await digitApp.whenIdle(); }"
COUNT_JS = "(n) => document.querySelector('[data-testid=my-count]').dataset.count === String(n)"


def triangles(n: int, seed: int) -> list[list[list[list[float]]]]:
    """n triangles at random sizes (0.55-1 of the pad) and places, as tests/test_e2e_teach.py draws them."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        scale = float(rng.uniform(0.55, 1.0))
        dx, dy = (float(v) for v in rng.uniform(-0.2, 0.2, 2) * (1 - scale))
        out.append([[[x, y] for x, y in s] for s in transform(TRIANGLE, scale, dx, dy)])
    return out


def taught_set() -> list[tuple[list, int]]:
    """What each run teaches: (strokes, label), the triangles then the digits 0-9."""
    return [(s, TRIANGLE_LABEL) for s in triangles(N_TAUGHT, SEED_TAUGHT)] + [
        (s, i % 10) for i, s in enumerate(drawings(N_TAUGHT, SEED_TAUGHT))
    ]


def long_tasks_between(tasks: Sequence[dict], start: float, end: float) -> list[dict]:
    """The tasks ({start, duration} ms) that overlap [start, end]: running at the click counts too."""
    return [
        {"start_ms": t["start"], "duration_ms": t["duration"]}
        for t in tasks
        if t["start"] <= end and t["start"] + t["duration"] >= start
    ]


def hits(readings: Sequence[dict], label: int) -> int:
    """How many readings showed ``label`` as the big digit."""
    return sum(r["shown"] == str(label) for r in readings)


def digit_hits(readings: Sequence[dict]) -> int:
    """How many of the new digits (0-9 in turn) read right."""
    return sum(r["shown"] == str(i % 10) for i, r in enumerate(readings))


def save_download(page, locator: str, path: Path) -> bytes:
    with page.expect_download() as download:
        page.locator(locator).click()
    download.value.save_as(path)
    return path.read_bytes()


def run_page(browser, url: str, folder: Path) -> dict:
    """One run in a fresh context: read, teach, fine-tune, read again, export. Raw figures, plus the
    exported files' bytes under "model_bytes" and "csv_bytes" (not for the JSON)."""
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.add_init_script(INIT_JS)
    context.add_init_script(TUNE_INIT_JS)
    errors: list[str] = []
    try:
        page = open_ready(context, url, errors)
        new_triangles, new_digits = triangles(N_NEW, SEED_NEW), drawings(N_NEW, SEED_NEW)
        before = {
            "triangles": page.evaluate(READ_JS, new_triangles),
            "digits": page.evaluate(READ_JS, new_digits),
        }

        taught = taught_set()
        for i, (strokes, label) in enumerate(taught):
            page.evaluate(DRAW_JS, strokes)
            page.get_by_test_id(f"teach-{label}").click()
            page.wait_for_function(COUNT_JS, arg=i + 1)

        page.get_by_test_id("fine-tune").click()
        state = page.evaluate(WAIT_TUNED_JS, TUNE_TIMEOUT_MS)
        t = page.evaluate(TIMINGS_JS)
        if state != "done" or not t["tune"] or t["tune"]["outcome"] != "tuned":
            raise RuntimeError(f"fine-tuning did not finish ({state}): {t['text']} {errors}")
        after = {
            "triangles": page.evaluate(READ_JS, new_triangles),
            "digits": page.evaluate(READ_JS, new_digits),
        }
        model = save_download(page, ".export-model", folder / "my-model.npz")
        csv = save_download(page, ".export-csv", folder / "my-digits.csv")
    finally:
        context.close()
    tasks = long_tasks_between(t["longTasks"], t["clickedAt"], t["doneAt"])
    return {
        "taught": len(taught),
        "tune": t["tune"],
        "click_to_done_ms": t["doneAt"] - t["clickedAt"],
        "tune_text": t["text"],
        "data_model": t["model"],
        "long_tasks_measured": t["longTaskSupported"],
        "long_tasks": tasks,
        "long_task_max_ms": (
            max((x["duration_ms"] for x in tasks), default=0.0) if t["longTaskSupported"] else None
        ),
        "before": {k: [r["shown"] for r in v] for k, v in before.items()},
        "after": {k: [r["shown"] for r in v] for k, v in after.items()},
        "triangles_before": hits(before["triangles"], TRIANGLE_LABEL),
        "triangles_after": hits(after["triangles"], TRIANGLE_LABEL),
        "digits_before": digit_hits(before["digits"]),
        "digits_after": digit_hits(after["digits"]),
        "triangle_images": [r["image"] for r in after["triangles"]],
        "model_sha256": hashlib.sha256(model).hexdigest(),
        "model_size": len(model),
        "errors": errors,
        "model_bytes": model,
        "csv_bytes": csv,
    }
