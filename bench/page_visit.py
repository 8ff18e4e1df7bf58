"""bench.page_bench in the browser: one page in a fresh Chromium and profile, visited cold, warm or
on a throttled link, with every measurement of a visit (ready, pad usable, long tasks, layout
shift, bytes and requests) and the prediction round trips; and the bare page's web root.

What runs in the page is in ``bench/pages/probe/`` (the init script, the functions evaluated there);
the bare page itself is ``bench/pages/bare/`` (HTML, its module script and worker, its Python).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from bench.browser import BARE_DIR, BOOT_TIMEOUT_MS, INIT_JS, VIEWPORT, probe
from digitnet.sizes import CANVAS
from tools.harness import CHROMIUM, CHROMIUM_ARGS, link_or_copy
from tools.paths import ROOT

SETTLE_MS = 1000  # after ready: the page's first result, the cache written to disk
THROTTLE_FLOOR = 0.8  # a throttled visit may not get ready faster than 80% of its bytes / link speed
LIVE_DRAWINGS = 10  # drawn with the mouse for the live readings (pen down: one view each)
LIVE_MOVE_MS = 16  # between moves: about one per frame, as a hand on a 60 Hz screen

READ_JS = probe("read.js")
ENTRIES_JS = probe("entries.js")
PREDICT_JS = probe("predict.js")
LIVE_JS = probe("live.js")
HAS_SERVICE_WORKER_JS = "async () => (await navigator.serviceWorker.getRegistrations()).length > 0"
# Where the counts stand before the live phase (LIVE_JS then takes what came since).
MARK_JS = "() => [digitApp.predictTimes.length, __bench.workerMs.length, performance.now()]"

# The bare page's files -> where they go in its web root.
BARE_FILES = {
    "index.html": "index.html",
    "main.js": "static/bare/main.js",
    "worker.js": "static/bare/worker.js",
    "total.py": "static/bare/total.py",
}


def bare_web_root(parent: Path) -> Path:
    """A web root with only the bare page (``bench/pages/bare/``) and (hard-linked) the STOCK Pyodide
    and NumPy files that tools/assets.py keeps verified in static/pyodide/stock/ (npm's runtime, the
    lock's wheels)."""
    root = parent / "bare"
    (root / "static" / "bare").mkdir(parents=True)
    for name, dest in BARE_FILES.items():
        shutil.copyfile(BARE_DIR / name, root / dest)
    # In a subfolder, as ours is in static/pyodide/<tag>/: the same (immutable) caching rule.
    shutil.copytree(
        ROOT / "static" / "pyodide" / "stock",
        root / "static" / "pyodide" / "stock",
        copy_function=link_or_copy,
    )
    return root


class Requests:
    """Every request of a browser context: the page's, its worker's and a service worker's."""

    def __init__(self, context) -> None:
        self.all: list = []
        self.finished: list = []
        self.failed: list = []
        context.on("request", lambda r: self.all.append(r))  # (Playwright wants a function)
        context.on("requestfinished", lambda r: self.finished.append(r))
        context.on("requestfailed", lambda r: self.failed.append(r))

    def reset(self) -> None:
        self.all.clear()
        self.finished.clear()
        self.failed.clear()


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob") or parts.hostname == "127.0.0.1"


def source(transfer: int) -> str:
    """Resource Timing's transferSize: 0 = from the cache, header bytes only (300) = 304, else the network."""
    return "cache" if transfer == 0 else "revalidated" if transfer <= 300 else "network"


def throttle(context, page, link: dict) -> None:
    """Emulate link on the tab (CDP): its requests and its dedicated worker's share it."""
    cdp = context.new_cdp_session(page)
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": link["latency_ms"],
            "downloadThroughput": link["down_bps"],
            "uploadThroughput": link["up_bps"],
        },
    )


def visit(
    context, requests: Requests, url: str, link: dict | None = None, timeout_ms: int = BOOT_TIMEOUT_MS
) -> tuple[Any, dict]:
    """Open url in a new tab of context (on link, if given) and let it settle;
    -> (the page, its measurements).

    Settled: ready, SETTLE_MS more, and if the page registered a service worker, until it says
    whether the app is cached for offline use (``<html data-offline>``).
    """
    requests.reset()
    page = context.new_page()
    if link:
        throttle(context, page, link)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    with page.expect_console_message(
        lambda m: m.text in ("__bench:ready", "__bench:error"), timeout=timeout_ms
    ):
        page.goto(url, timeout=timeout_ms)
    page.wait_for_timeout(SETTLE_MS)
    if page.evaluate(HAS_SERVICE_WORKER_JS):
        page.wait_for_function("() => window.__bench.offlineAt !== null", timeout=timeout_ms)
    b = page.evaluate(READ_JS)
    if b["errorAt"] is not None or b["readyAt"] is None:
        raise RuntimeError(f"{url} did not get ready: {b['errorText'] or errors}")
    ready_at = b["timeOrigin"] + b["readyAt"]

    # What the page and its worker loaded; what a service worker fetched (for them, or to cache them).
    loaded = page.evaluate(ENTRIES_JS) + [e for w in page.workers for e in w.evaluate(ENTRIES_JS)]
    sw_fetched = [
        e for w in context.service_workers for e in w.evaluate(ENTRIES_JS) if e["start"] >= b["timeOrigin"]
    ]
    boot_sw = [e for e in sw_fetched if e["start"] <= ready_at]
    after_sw = [e for e in sw_fetched if e["start"] > ready_at]
    fetched = [e for e in loaded if not e["viaServiceWorker"]] + boot_sw  # over HTTP for the page

    by_url: dict[str, list[dict]] = {}
    for e in loaded:
        by_url.setdefault(e["url"], []).append(e)
    detail, unmatched = [], []
    for r in requests.finished:
        if urlsplit(r.url).scheme in ("data", "blob") or r.service_worker:
            continue  # a service worker's own fetches: see sw_fetched
        if not by_url.get(r.url):
            unmatched.append(r.url)
            continue
        e = by_url[r.url].pop(0)
        response = r.response()
        headers = response.headers
        detail.append(
            {
                "path": urlsplit(r.url).path,
                "type": r.resource_type,
                "status": response.status,
                "transfer": e["transfer"],
                "encoded": e["encoded"],
                "decoded": e["decoded"],
                "cache_control": headers.get("cache-control"),
                "content_encoding": headers.get("content-encoding"),
                "source": "service worker" if response.from_service_worker else source(e["transfer"]),
            }
        )
    tasks = [{"start_ms": t["start"], "duration_ms": t["duration"]} for t in b["longTasks"]]
    shifts = [
        {"start_ms": s["start"], "value": s["value"], "had_recent_input": s["input"]}
        for s in b["layoutShifts"]
    ]
    counted = [s for s in shifts if not s["had_recent_input"]]
    ours = [r for r in requests.all if urlsplit(r.url).scheme not in ("data", "blob")]
    transfer = sum(e["transfer"] for e in fetched)
    after = sum(e["transfer"] for e in after_sw)
    return page, {
        "ready_ms": b["readyAt"],
        "pad_handlers_ms": b["padHandlersAt"],
        "pad_usable_ms": b["padUsableAt"],
        "dom_content_loaded_ms": b["domContentLoaded"],
        "first_contentful_paint_ms": b["firstContentfulPaint"],
        "offline_ms": b["offlineAt"],
        "offline": b["offline"],
        "long_tasks_measured": b["longTaskSupported"],
        "long_tasks": tasks,
        "long_task_count": len(tasks) if b["longTaskSupported"] else None,
        "long_task_max_ms": (
            max((t["duration_ms"] for t in tasks), default=0.0) if b["longTaskSupported"] else None
        ),
        "layout_shifts_measured": b["layoutShiftSupported"],
        "layout_shifts": shifts,
        "cls_boot": sum(s["value"] for s in counted if s["start_ms"] <= b["readyAt"])
        if b["layoutShiftSupported"]
        else None,
        "cls_visit": sum(s["value"] for s in counted) if b["layoutShiftSupported"] else None,
        "transfer_bytes": transfer,
        "wire_bytes": transfer + after,
        "encoded_bytes": sum(e["encoded"] for e in loaded),
        "decoded_bytes": sum(e["decoded"] for e in loaded),
        "timing_entries": len(loaded),
        "requests": sum(not r.service_worker for r in ours),
        **{k: sum(source(e["transfer"]) == k for e in fetched) for k in ("cache", "revalidated", "network")},
        "service_worker": sum(e["viaServiceWorker"] for e in loaded),
        "sw_requests": sum(bool(r.service_worker) for r in ours),
        "sw_fetches_boot": len(boot_sw),
        "sw_fetches_after_ready": len(after_sw),
        "sw_transfer_after_ready_bytes": after,
        "unmatched_requests": unmatched,
        "non_local_requests": [r.url for r in requests.all if not is_local(r.url)],
        "failed_requests": [f"{r.url} {r.failure}" for r in requests.failed],
        "errors": errors,
        "worker_timings": b["workerTimings"],
        "link": link,
        "user_agent": b["userAgent"],
        "request_detail": detail,
    }


def stats(values: Sequence[float]) -> dict:
    a = np.asarray(values, dtype=float)
    if a.size == 0:
        return {"n": 0, "p50_ms": None, "p95_ms": None, "max_ms": None, "mean_ms": None}
    return {
        "n": int(a.size),
        "p50_ms": float(np.percentile(a, 50)),
        "p95_ms": float(np.percentile(a, 95)),
        "max_ms": float(a.max()),
        "mean_ms": float(a.mean()),
    }


def predict(page, n: int, shapes: list | None) -> dict:
    """n predictions, one after the other; raw times plus their stats."""
    return reading_times(page.evaluate(PREDICT_JS, {"drawings": shapes, "n": n, "side": CANVAS}))


def reading_times(got: dict) -> dict:
    """What PREDICT_JS or LIVE_JS returned -> raw times (round trip, Python, messaging) plus their stats."""
    rt, py = got["roundTrip"], got["python"]
    messaging = [a - b for a, b in zip(rt, py)] if len(rt) == len(py) else []
    return {
        "round_trip_ms": rt,
        "python_ms": py,
        "messaging_ms": messaging,
        "round_trip": stats(rt),
        "python": stats(py),
        "messaging": stats(messaging),
        "long_tasks": [{"start_ms": t["start"], "duration_ms": t["duration"]} for t in got["longTasks"]],
    }


def new_context(pw, profile: str):
    context = pw.chromium.launch_persistent_context(
        profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, viewport=VIEWPORT
    )
    context.add_init_script(INIT_JS)
    return context


def predict_live(page, shapes: list) -> dict:
    """The shapes drawn with the mouse, a move at a time: the predictions made while the pen is down
    (one view each, ``digitnet.predict.LIVE``); raw times plus their stats, like ``predict``."""
    mark = page.evaluate(MARK_JS)
    draw_with_mouse(page, shapes)
    return reading_times(page.evaluate(LIVE_JS, mark))


def draw_with_mouse(page, shapes: list) -> None:
    """Each shape drawn on a cleared pad with the mouse, a move to each point ``LIVE_MOVE_MS`` apart
    (the page reads it live while the pen is down), then waited for until its reading is shown."""
    box = page.locator('[data-testid="pad"]').bounding_box()
    at = lambda x, y: (box["x"] + x * box["height"], box["y"] + y * box["height"])  # noqa: E731  (pad heights)
    for drawing in shapes:
        page.evaluate("() => digitApp.clear()")
        for stroke in drawing:
            page.mouse.move(*at(*stroke[0]))
            page.mouse.down()
            for x, y in stroke[1:]:  # a move to each point of the stroke (~330 in all)
                page.mouse.move(*at(x, y))
                page.wait_for_timeout(LIVE_MOVE_MS)
            page.mouse.up()
        page.evaluate("() => digitApp.whenIdle()")


def run_page(
    pw, url: str, n_predictions: int, shapes: list | None, phases: dict[str, Callable] | None = None
) -> dict:
    """A fresh browser and profile: the cold visit, the warm visit, then predictions on the warm page
    (ours: also drawn with the mouse, for the live readings); then each of ``phases`` (name ->
    function of the warm page, e.g. ``bench.page_inside``'s), its result kept under its name."""
    with tempfile.TemporaryDirectory(prefix="page-bench-profile-") as profile:
        context = new_context(pw, profile)
        try:
            requests = Requests(context)
            page, cold = visit(context, requests, url)
            page.close()
            page, warm = visit(context, requests, url)
            out = {"cold": cold, "warm": warm, "predictions": predict(page, n_predictions, shapes)}
            if shapes:
                out["live"] = predict_live(page, shapes[:LIVE_DRAWINGS])
            for name, phase in (phases or {}).items():
                out[name] = phase(page)
            return out
        finally:
            context.close()


def throttle_timeout_ms(link: dict) -> int:
    """Long enough for ~20 MB over link (the bare page's 17 MB), twice over."""
    return BOOT_TIMEOUT_MS + int(2 * 20e6 / link["down_bps"] * 1000)


def run_throttled(pw, url: str, link: dict) -> dict:
    """A fresh browser and profile: one cold visit on the emulated link."""
    with tempfile.TemporaryDirectory(prefix="page-bench-profile-") as profile:
        context = new_context(pw, profile)
        try:
            _, cold = visit(context, Requests(context), url, link, throttle_timeout_ms(link))
            # What the link allows: the bytes fetched before ready at its download speed.
            cold["link_floor_ms"] = 1000 * cold["transfer_bytes"] / link["down_bps"]
            cold["throttle_applied"] = cold["ready_ms"] >= THROTTLE_FLOOR * cold["link_floor_ms"]
            return {"cold": cold}
        finally:
            context.close()
