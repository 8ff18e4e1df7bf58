"""Page boot, bytes, layout stability and prediction latency: our page against a bare Pyodide + NumPy
page, in headless Chromium, side by side in one run; every goal of "Fast start" in one table.

    .venv/bin/python -m bench.page_bench                      # 5 runs + 3 throttled runs (~10 min)
    .venv/bin/python -m bench.page_bench --no-throttle        # the 5 runs only (~2 min)
    .venv/bin/python -m bench.page_bench --quick              # smoke test: 1 run, 20 predictions, no throttling
    .venv/bin/python -m bench.page_bench --runs 3 --throttle-runs 1 --json bench/results/page.json

Two pages, each served by the project's own server (``tools.serve`` in a subprocess: same code,
same cache headers, same pre-compressed ``.br``/``.gz`` rule):

ours  ``/`` of the repository: the app (pad, worker, the digitnet wheel, the model), booting the
      versioned runtime ``static/pyodide/runtime.mjs`` -> ``static/pyodide/<tag>/``.
bare  a reference page in a temporary web root whose ``static/pyodide/stock/`` is a (hard-linked)
      copy of the stock files (``static/pyodide/stock/``: npm's Pyodide, the lock's NumPy wheel; no
      ``.pyc``, no ``.br``/``.gz`` siblings, so sent as they are). A subfolder of ``static/pyodide/``
      on purpose: ``tools.serve`` serves ``static/pyodide/<folder>/`` immutable and everything else
      ``no-cache``, so the bare runtime gets the same caching rule as ours in
      ``static/pyodide/<tag>/`` (at the top of ``static/pyodide/`` it would be revalidated on every
      visit). Each response's ``Cache-Control`` and ``Content-Encoding`` are recorded per request.
      A module script starts a module worker that loads Pyodide, then
      ``loadPackage("numpy")`` and ``import numpy``, and posts "ready" with its timings
      ``{runtime, numpy, total}``; the page then sets ``<html data-state="ready">``. No app code,
      no model: the floor for "ready".

Two phases, each page in a fresh Debian Chromium (headless, every host but 127.0.0.1 unresolvable)
with a fresh temporary profile (``launch_persistent_context``: the HTTP cache is a real disk cache);
which page goes first alternates from run to run:

unthrottled  ``--runs`` runs (default 5). Each visits the page twice: **cold** (empty profile),
             then **warm** (a new tab in the same profile once the cold tab is closed: the
             immutable runtime should come from the HTTP cache, or through the app's service
             worker), then ``--predictions`` predictions on the warm page.
throttled    ``--throttle-runs`` runs (default 3: a bare cold visit pulls 17 MB, ~90 s at
             1.6 Mbps), cold visits only, on a link emulated by CDP
             ``Network.emulateNetworkConditions`` on the tab (``--down``/``--up`` bytes per second,
             ``--latency`` ms; default 200000 B/s = 1.6 Mbps down, 93750 B/s = 750 kbps up,
             150 ms). Chromium applies it to the tab's requests and to its dedicated worker's
             (checked every visit: a visit that got ready faster than its bytes could cross the
             link is reported as a problem, exit status 1).

Measured in the page from navigation start (``performance.now()``) by an init script that runs
before any of the page's own code (``add_init_script``):

ready       a MutationObserver sees ``<html data-state>`` become "ready" (first prediction possible).
pad usable  (ours) the first animation frame in which the pad canvas is in the DOM, visible
            (``checkVisibility()``, non-zero box) and has a ``pointerdown`` listener (the script
            wraps ``EventTarget.prototype.addEventListener`` to see it added: ``pad_handlers_ms``).
offline     (ours) when ``<html data-offline>`` is set: the service worker the page registers once
            ready has cached the app. A visit ends at ready + 1 s, or when that is done if later.
long tasks  ``PerformanceObserver({type: "longtask", buffered: true})``: main-thread tasks over
            50 ms from navigation start to the end of the visit.
layout      ``PerformanceObserver({type: "layout-shift", buffered: true})``: ``cls_boot`` sums the
shift       ``value`` of entries without ``hadRecentInput`` that started before ready (the goal);
            ``cls_visit`` the same to the end of the visit.
bytes       Resource Timing, read in the page, in its worker and in the service worker (through
            Playwright). ``transfer_bytes``: ``transferSize`` (headers + body as sent, so compressed
            when a ``Content-Encoding`` applied; 0 from the HTTP cache, ~300 for a 304) of what the
            page and its worker fetched over HTTP, or what the service worker fetched for them
            before ready. ``wire_bytes`` (the goal, "bytes on the wire"): that plus what the service
            worker fetched after ready to keep the app for offline use, i.e. the whole visit.
            ``encoded_bytes``/``decoded_bytes``: ``encodedBodySize``/``decodedBodySize`` of what the
            page and its worker loaded (a service worker hands on decoded bodies: there both are
            the decoded size). Every request, the workers' too, is also seen through Playwright's
            context events: counted, the page's and its worker's matched to their timing entries
            (with status, Cache-Control, Content-Encoding) and marked when a service worker answered;
            requests to hosts other than 127.0.0.1 and failed requests are listed (and make the exit
            status 1).
stages      the worker's own ``timings``, whatever keys it reports (ours: ``digitApp.timings``, e.g.
            {runtime, code, model, total, ready}; bare: ``bareApp.timings`` = {runtime, numpy, total}),
            medians per page and kind of visit.

Predictions, once the warm visit is ready: ``--predictions`` drawings, each a digit shape from
``training/strokes.py`` scaled and shifted at random, set with ``digitApp.setStrokes`` and awaited
with ``digitApp.whenIdle()``. The round trip is the page's own ``digitApp.predictTimes``
(``performance.now()`` right before ``postMessage`` -> the result message arrives); the worker's
Python time is the ``ms`` of each result message (the init script wraps ``Worker`` to read it),
so round trip - Python = messaging and scheduling. Pooled over runs. The bare page does the same
with a CANVAS*CANVAS Uint8Array (``digitnet.sizes.CANVAS``, transferred, like ours) and
``np.frombuffer(...).sum()`` in its worker. These are the page's settled readings (pen up: nine
views, ``digitnet.predict.VIEWS``). Then the live ones: the first ``LIVE_DRAWINGS`` drawings drawn
with the mouse (Playwright's pointer events, a move to each point, ``LIVE_MOVE_MS`` apart), and the
round trips of the results read while the pen was down (one view, ``digitnet.predict.LIVE``; each
result message says which). The latency goals are judged for both kinds.

Goals: medians over runs (ratios are ours' median / bare's median, and the per-run paired ratios
are shown beside them); "worst run" is shown for every goal. ``--runs``/``--throttle-runs`` below
the defaults, or a link other than the goal's, are marked in the table.

The bench waits for ready on a console message from the init script, not with Playwright's
``wait_for_function``, so nothing else runs in the page while it boots.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Optional, Sequence
from urllib.parse import urlsplit

import numpy as np

from bench.common import fmt, format_table, machine_info, ratio, write_json
from digitnet.sizes import CANVAS
from training.strokes import DIGITS, transform
from tools.harness import CHROMIUM, CHROMIUM_ARGS, Server, link_or_copy
from tools.paths import BENCH_RESULTS, ROOT

DEFAULT_JSON = BENCH_RESULTS / "page.json"
DEFAULT_RUNS, DEFAULT_PREDICTIONS, DEFAULT_THROTTLE_RUNS = 5, 200, 3
QUICK_RUNS, QUICK_PREDICTIONS = 1, 20
BOOT_TIMEOUT_MS = 120_000
SETTLE_MS = 1000          # after ready: the page's first result, the cache written to disk
VIEWPORT = {"width": 1100, "height": 820}
PAGES = ("ours", "bare")
VISITS = ("cold", "warm")

# The goal's link: 1.6 Mbps down, 750 kbps up, 150 ms latency (CDP wants bytes per second).
GOAL_LINK = {"down_bps": 200_000, "up_bps": 93_750, "latency_ms": 150}
THROTTLE_FLOOR = 0.8      # a throttled visit may not get ready faster than 80% of its bytes / link speed

GOAL_READY_COLD_RATIO = 0.6
GOAL_READY_WARM_RATIO = 0.5
GOAL_THROTTLED_READY_RATIO = 0.6
GOAL_THROTTLED_WIRE_RATIO = 0.6
GOAL_P50_MS = 3.0
GOAL_P95_MS = 5.0
GOAL_PYTHON_P95_MS = 3.0
GOAL_LONG_TASK_MS = 50.0
GOAL_PAD_MS = 300.0
GOAL_CLS = 0.02
LIVE_DRAWINGS = 10        # drawn with the mouse for the live readings (pen down: one view each)
LIVE_MOVE_MS = 16         # between moves: about one per frame, as a hand on a 60 Hz screen

# The worker's timings, in this order when present (other keys it reports follow, sorted).
STAGE_ORDER = ("runtime", "numpy", "code", "model", "total", "ready")

# ----------------------------------------------------------------------------- in the page

INIT_JS = r"""
(() => {
  const b = (window.__bench = { readyAt: null, errorAt: null, padHandlersAt: null, padUsableAt: null,
                                offlineAt: null, offline: null, longTasks: [], longTaskSupported: true,
                                layoutShifts: [], layoutShiftSupported: true, workerMs: [],
                                workerLive: [] });
  const keep = (entries) => { for (const e of entries) b.longTasks.push({ start: e.startTime, duration: e.duration }); };
  try {
    b.observer = new PerformanceObserver((list) => keep(list.getEntries()));
    b.observer.observe({ type: "longtask", buffered: true });
  } catch (e) {
    b.longTaskSupported = false;
  }
  b.takeLongTasks = () => { if (b.observer) keep(b.observer.takeRecords()); return b.longTasks; };

  const shifts = (entries) => {
    for (const e of entries) b.layoutShifts.push({ start: e.startTime, value: e.value, input: e.hadRecentInput });
  };
  try {
    b.shiftObserver = new PerformanceObserver((list) => shifts(list.getEntries()));
    b.shiftObserver.observe({ type: "layout-shift", buffered: true });
  } catch (e) {
    b.layoutShiftSupported = false;
  }
  b.takeLayoutShifts = () => { if (b.shiftObserver) shifts(b.shiftObserver.takeRecords()); return b.layoutShifts; };

  new MutationObserver(() => {
    const { state, offline } = document.documentElement.dataset;
    if ((state === "ready" || state === "error") && b[state + "At"] === null) {
      b[state + "At"] = performance.now();
      console.info(`__bench:${state}`);
    }
    if (offline && b.offlineAt === null) [b.offlineAt, b.offline] = [performance.now(), offline];
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-state", "data-offline"] });

  const addEventListener = EventTarget.prototype.addEventListener;
  EventTarget.prototype.addEventListener = function (type, ...rest) {
    if (type === "pointerdown" && b.padHandlersAt === null && this instanceof HTMLCanvasElement &&
        this.dataset.testid === "pad") b.padHandlersAt = performance.now();
    return addEventListener.call(this, type, ...rest);
  };
  const frame = () => {
    const pad = document.querySelector('[data-testid="pad"]');
    if (pad && b.padHandlersAt !== null && pad.checkVisibility() && pad.getBoundingClientRect().width > 0) {
      b.padUsableAt = performance.now();
    } else if (pad || (b.readyAt === null && b.errorAt === null)) {  // the bare page has no pad
      requestAnimationFrame(frame);
    }
  };
  requestAnimationFrame(frame);

  const NativeWorker = window.Worker;
  window.Worker = class extends NativeWorker {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (e) => {
        if (e.data && e.data.type === "result" && typeof e.data.ms === "number") {
          b.workerMs.push(e.data.ms);
          b.workerLive.push(Boolean(e.data.live));
        }
      });
    }
  };
})();
"""

READ_JS = """() => {
  const b = window.__bench, app = window.digitApp || window.bareApp;
  return { readyAt: b.readyAt, errorAt: b.errorAt, padHandlersAt: b.padHandlersAt, padUsableAt: b.padUsableAt,
           offlineAt: b.offlineAt, offline: b.offline, timeOrigin: performance.timeOrigin,
           longTaskSupported: b.longTaskSupported, longTasks: b.takeLongTasks().slice(),
           layoutShiftSupported: b.layoutShiftSupported, layoutShifts: b.takeLayoutShifts().slice(),
           domContentLoaded: performance.getEntriesByType("navigation")[0]?.domContentLoadedEventStart ?? null,
           firstContentfulPaint: performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? null,
           workerTimings: app && app.timings ? app.timings : null,
           errorText: document.querySelector('[data-testid="error"]')?.textContent.trim() || null,
           userAgent: navigator.userAgent };
}"""

# Resource Timing of a page, worker or service worker; start is absolute (ms since 1970) to compare them.
ENTRIES_JS = """() => performance.getEntries()
  .filter((e) => e.entryType === "navigation" || e.entryType === "resource")
  .map((e) => ({ url: e.name, start: performance.timeOrigin + e.startTime, transfer: e.transferSize,
                 encoded: e.encodedBodySize, decoded: e.decodedBodySize, viaServiceWorker: e.workerStart > 0 }))"""

HAS_SERVICE_WORKER_JS = "async () => (await navigator.serviceWorker.getRegistrations()).length > 0"

# drawings: a list of drawings (ours) or null (bare: a fresh Uint8Array of side*side each time)
PREDICT_JS = """async ({ drawings, n, side }) => {
  const app = window.digitApp || window.bareApp, b = window.__bench;
  const t0 = app.predictTimes.length, w0 = b.workerMs.length, start = performance.now();
  for (let i = 0; i < n; i++) {
    if (drawings) { app.setStrokes(drawings[i]); await app.whenIdle(); } else await app.predict(i, side);
  }
  return { roundTrip: app.predictTimes.slice(t0), python: b.workerMs.slice(w0),
           longTasks: b.takeLongTasks().filter((t) => t.start >= start) };
}"""

# Marks for the live phase: where the counts stood, and later what came since (live results only).
MARK_JS = "() => [digitApp.predictTimes.length, __bench.workerMs.length, performance.now()]"
LIVE_JS = """([t0, w0, start]) => {
  const app = window.digitApp, b = window.__bench;
  const rt = app.predictTimes.slice(t0), py = b.workerMs.slice(w0), live = b.workerLive.slice(w0);
  const aligned = rt.length === py.length;  // one round trip per result message, in order
  return { roundTrip: aligned ? rt.filter((_, i) => live[i]) : [], python: py.filter((_, i) => live[i]),
           longTasks: b.takeLongTasks().filter((t) => t.start >= start) };
}"""

# ----------------------------------------------------------------------------- the bare page

BARE_HTML = """<!doctype html>
<html lang="en" data-state="loading">
<head>
  <meta charset="utf-8">
  <title>Bare Pyodide + NumPy</title>
  <link rel="icon" href="data:,">
  <script type="module" src="static/bare/main.js"></script>
</head>
<body><p>Pyodide and NumPy in a module worker, nothing else.</p></body>
</html>
"""

BARE_MAIN_JS = """// Bare reference: Pyodide + NumPy in a module worker, nothing else.
const html = document.documentElement;
const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
let answered = null;
const bareApp = (window.bareApp = {
  predictTimes: [],
  timings: null,
  /** One round trip of a side*side Uint8Array (different every time), transferred like the app's. */
  predict(i, side) {
    return new Promise((resolve) => {
      const pixels = new Uint8Array(side * side);
      pixels.fill(255, i % 1000, (i % 1000) + 2000);
      const sent = performance.now();
      answered = () => { bareApp.predictTimes.push(performance.now() - sent); resolve(); };
      worker.postMessage({ type: "predict", pixels }, [pixels.buffer]);
    });
  },
});
worker.addEventListener("message", (e) => {
  if (e.data.type === "ready") { bareApp.timings = e.data.timings; html.dataset.state = "ready"; }
  else if (e.data.type === "result") answered();
  else { console.error(e.data.message); html.dataset.state = "error"; }
});
worker.addEventListener("error", (e) => { console.error(e.message); html.dataset.state = "error"; });
"""

BARE_WORKER_JS = """import { loadPyodide } from "../pyodide/stock/pyodide.mjs";

let total = null;
self.onmessage = (e) => {
  const t = performance.now();
  const sum = total(e.data.pixels);
  self.postMessage({ type: "result", sum, ms: performance.now() - t });
};
try {
  const t0 = performance.now();
  const pyodide = await loadPyodide({ indexURL: new URL("../pyodide/stock/", import.meta.url).href });
  const t1 = performance.now();
  await pyodide.loadPackage("numpy", { messageCallback: () => {} });
  total = pyodide.runPython(`
import numpy as np

def total(data):
    return int(np.frombuffer(data.to_bytes(), dtype=np.uint8).sum())

total`);
  const t2 = performance.now();
  const timings = { runtime: Math.round(t1 - t0), numpy: Math.round(t2 - t1), total: Math.round(t2 - t0) };
  self.postMessage({ type: "ready", timings });
} catch (err) {
  self.postMessage({ type: "error", message: String(err) });
}
"""


def bare_web_root(parent: Path) -> Path:
    """A web root with only the bare page and (hard-linked) the STOCK Pyodide and NumPy files that
    tools/assets.py keeps verified in static/pyodide/stock/ (npm's runtime, the lock's wheels)."""
    root = parent / "bare"
    (root / "static" / "bare").mkdir(parents=True)
    (root / "index.html").write_text(BARE_HTML)
    (root / "static" / "bare" / "main.js").write_text(BARE_MAIN_JS)
    (root / "static" / "bare" / "worker.js").write_text(BARE_WORKER_JS)
    # In a subfolder, as ours is in static/pyodide/<tag>/: the same (immutable) caching rule.
    shutil.copytree(ROOT / "static" / "pyodide" / "stock", root / "static" / "pyodide" / "stock",
                    copy_function=link_or_copy)
    return root


def drawings(n: int, seed: int = 0) -> list[list[list[list[float]]]]:
    """n different drawings: the ten digit shapes in turn, each scaled 0.6-1.0 and shifted up to 0.1."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        scale, dx, dy = rng.uniform(0.6, 1.0), rng.uniform(-0.1, 0.1), rng.uniform(-0.1, 0.1)
        out.append([[[float(x), float(y)] for x, y in s] for s in transform(DIGITS[i % 10], scale, dx, dy)])
    return out


# ----------------------------------------------------------------------------- in the browser

class Requests:
    """Every request of a browser context: the page's, its worker's and a service worker's."""

    def __init__(self, context) -> None:
        self.all: list = []
        self.finished: list = []
        self.failed: list = []
        context.on("request", lambda r: self.all.append(r))          # (Playwright wants a function)
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
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": link["latency_ms"],
        "downloadThroughput": link["down_bps"], "uploadThroughput": link["up_bps"]})


def visit(context, requests: Requests, url: str, link: Optional[dict] = None,
          timeout_ms: int = BOOT_TIMEOUT_MS) -> tuple[Any, dict]:
    """Open url in a new tab of context (on link, if given) and let it settle; -> (the page, its measurements).

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
    with page.expect_console_message(lambda m: m.text in ("__bench:ready", "__bench:error"), timeout=timeout_ms):
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
    sw_fetched = [e for w in context.service_workers for e in w.evaluate(ENTRIES_JS) if e["start"] >= b["timeOrigin"]]
    boot_sw = [e for e in sw_fetched if e["start"] <= ready_at]
    after_sw = [e for e in sw_fetched if e["start"] > ready_at]
    fetched = [e for e in loaded if not e["viaServiceWorker"]] + boot_sw    # over HTTP for the page

    by_url: dict[str, list[dict]] = {}
    for e in loaded:
        by_url.setdefault(e["url"], []).append(e)
    detail, unmatched = [], []
    for r in requests.finished:
        if urlsplit(r.url).scheme in ("data", "blob") or r.service_worker:
            continue                                     # a service worker's own fetches: see sw_fetched
        if not by_url.get(r.url):
            unmatched.append(r.url)
            continue
        e = by_url[r.url].pop(0)
        response = r.response()
        headers = response.headers
        detail.append({"path": urlsplit(r.url).path, "type": r.resource_type, "status": response.status,
                       "transfer": e["transfer"], "encoded": e["encoded"], "decoded": e["decoded"],
                       "cache_control": headers.get("cache-control"),
                       "content_encoding": headers.get("content-encoding"),
                       "source": "service worker" if response.from_service_worker else source(e["transfer"])})
    tasks = [{"start_ms": t["start"], "duration_ms": t["duration"]} for t in b["longTasks"]]
    shifts = [{"start_ms": s["start"], "value": s["value"], "had_recent_input": s["input"]} for s in b["layoutShifts"]]
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
        "long_task_max_ms": max((t["duration_ms"] for t in tasks), default=0.0) if b["longTaskSupported"] else None,
        "layout_shifts_measured": b["layoutShiftSupported"],
        "layout_shifts": shifts,
        "cls_boot": sum(s["value"] for s in counted if s["start_ms"] <= b["readyAt"])
        if b["layoutShiftSupported"] else None,
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
    return {"n": int(a.size), "p50_ms": float(np.percentile(a, 50)), "p95_ms": float(np.percentile(a, 95)),
            "max_ms": float(a.max()), "mean_ms": float(a.mean())}


def predict(page, n: int, shapes: Optional[list]) -> dict:
    """n predictions, one after the other; raw times plus their stats."""
    return reading_times(page.evaluate(PREDICT_JS, {"drawings": shapes, "n": n, "side": CANVAS}))


def reading_times(got: dict) -> dict:
    """What PREDICT_JS or LIVE_JS returned -> raw times (round trip, Python, messaging) plus their stats."""
    rt, py = got["roundTrip"], got["python"]
    messaging = [a - b for a, b in zip(rt, py)] if len(rt) == len(py) else []
    return {"round_trip_ms": rt, "python_ms": py, "messaging_ms": messaging,
            "round_trip": stats(rt), "python": stats(py), "messaging": stats(messaging),
            "long_tasks": [{"start_ms": t["start"], "duration_ms": t["duration"]} for t in got["longTasks"]]}


def new_context(pw, profile: str):
    context = pw.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                                    headless=True, viewport=VIEWPORT)
    context.add_init_script(INIT_JS)
    return context


def predict_live(page, shapes: list) -> dict:
    """The shapes drawn with the mouse, a move at a time: the predictions made while the pen is down
    (one view each, ``digitnet.predict.LIVE``); raw times plus their stats, like ``predict``."""
    box = page.locator('[data-testid="pad"]').bounding_box()
    at = lambda x, y: (box["x"] + x * box["width"], box["y"] + y * box["height"])   # noqa: E731
    mark = page.evaluate(MARK_JS)
    for drawing in shapes:
        page.evaluate("() => digitApp.clear()")
        for stroke in drawing:
            page.mouse.move(*at(*stroke[0]))
            page.mouse.down()
            for x, y in stroke[1:]:                     # a move to each point of the stroke (~330 in all)
                page.mouse.move(*at(x, y))
                page.wait_for_timeout(LIVE_MOVE_MS)
            page.mouse.up()
        page.evaluate("() => digitApp.whenIdle()")
    return reading_times(page.evaluate(LIVE_JS, mark))


def run_page(pw, url: str, n_predictions: int, shapes: Optional[list]) -> dict:
    """A fresh browser and profile: the cold visit, the warm visit, then predictions on the warm page
    (ours: also drawn with the mouse, for the live readings)."""
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


# ----------------------------------------------------------------------------- summary

def median(values: Sequence[Optional[float]]) -> Optional[float]:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


ROW_KEYS = ("ready_ms", "pad_handlers_ms", "pad_usable_ms", "dom_content_loaded_ms", "first_contentful_paint_ms",
            "offline_ms", "long_task_count", "long_task_max_ms", "cls_boot", "cls_visit", "transfer_bytes",
            "wire_bytes", "encoded_bytes", "decoded_bytes", "requests", "cache", "revalidated", "network",
            "service_worker", "sw_requests", "sw_fetches_boot", "sw_fetches_after_ready",
            "sw_transfer_after_ready_bytes", "link_floor_ms")


def summarise_visits(visits: Sequence[dict]) -> dict:
    """One table row: medians over runs (long_task_max_ms: the median of each visit's longest task;
    the longest of all is long_task_worst_ms); problems summed over runs."""
    row = {k: median([v.get(k) for v in visits]) for k in ROW_KEYS}
    worst = [v["long_task_max_ms"] for v in visits if v["long_task_max_ms"] is not None]
    cls = [v["cls_boot"] for v in visits if v["cls_boot"] is not None]
    row.update({
        "runs": len(visits),
        "ready_ms_min": min(v["ready_ms"] for v in visits),
        "ready_ms_max": max(v["ready_ms"] for v in visits),
        "long_task_worst_ms": max(worst) if worst else None,
        "cls_boot_worst": max(cls) if cls else None,
        "non_local": sum(len(v["non_local_requests"]) for v in visits),
        "failed": sum(len(v["failed_requests"]) for v in visits),
        "unmatched": sum(len(v["unmatched_requests"]) for v in visits),
        "errors": sum(len(v["errors"]) for v in visits),
        "not_throttled": sum(not v.get("throttle_applied", True) for v in visits),
    })
    return row


def summarise_predictions(preds: Sequence[dict]) -> dict:
    """Pooled over runs."""
    pooled = {k: [x for p in preds for x in p[f"{k}_ms"]] for k in ("round_trip", "python", "messaging")}
    return {**{k: stats(v) for k, v in pooled.items()},
            "long_tasks": sum(len(p["long_tasks"]) for p in preds),
            "long_task_max_ms": max((t["duration_ms"] for p in preds for t in p["long_tasks"]), default=0.0)}


def stage_names(visits: Sequence[dict]) -> list[str]:
    seen = {k for v in visits for k in (v["worker_timings"] or {})}
    return [k for k in STAGE_ORDER if k in seen] + sorted(seen - set(STAGE_ORDER))


def stage_medians(visits: Sequence[dict]) -> dict:
    """Median of each of the worker's timings (ms) over visits."""
    return {k: median([(v["worker_timings"] or {}).get(k) for v in visits]) for k in stage_names(visits)}


def goal(key: str, name: str, value: Optional[float], limit: float, unit: str, per_run: Sequence[Optional[float]],
         ours: Optional[float] = None, bare: Optional[float] = None, of: str = "", note: str = "") -> dict:
    """A goal: value <= limit. value is a median (unit "ms" or "" for a plain number), or for unit "x" the
    ratio ours/bare of medians whose own unit is ``of`` ("ms" or "B"); per_run: the same figure run by run."""
    runs = [v for v in per_run if v is not None]
    if unit != "x":
        ours, of = value, unit
    return {"id": key, "goal": name, "value": value, "limit": limit, "unit": unit,
            "met": value is not None and value <= limit, "ours": ours, "bare": bare, "of": of,
            "per_run": list(per_run), "best_run": min(runs) if runs else None,
            "worst_run": max(runs) if runs else None, "note": note}


def latency_goals(key: str, what: str, pooled: Optional[dict], per_run: Sequence[dict], bare: dict) -> list[dict]:
    """The three prediction-latency goals for one kind of reading (pooled over runs; None: not measured)."""
    get = lambda s, k, q: s[k][q] if s else None                                 # noqa: E731
    return [goal(f"{name}_{key}", f"{label}, {what}", get(pooled, k, q), limit, "ms",
                 [get(p, k, q) for p in per_run], bare=bare[k][q], note="pooled over runs")
            for name, label, k, q, limit in (
                ("round_trip_p50", "prediction round trip p50", "round_trip", "p50_ms", GOAL_P50_MS),
                ("round_trip_p95", "prediction round trip p95", "round_trip", "p95_ms", GOAL_P95_MS),
                ("python_p95", "Python in the worker p95", "python", "p95_ms", GOAL_PYTHON_P95_MS))]


def paired(runs: Sequence[dict], visit_kind: str, key: str) -> list[Optional[float]]:
    """ours / bare of one figure, run by run (each run measures both pages back to back)."""
    return [ratio(r["ours"][visit_kind][key], r["bare"][visit_kind][key]) for r in runs]


def summarise(runs: Sequence[dict], throttled: Sequence[dict], link: dict) -> dict:
    rows = {f"{p}_{v}": summarise_visits([r[p][v] for r in runs]) for v in VISITS for p in PAGES}
    trows = {f"{p}_cold": summarise_visits([r[p]["cold"] for r in throttled]) for p in PAGES} if throttled else {}
    preds = {p: summarise_predictions([r[p]["predictions"] for r in runs]) for p in PAGES}
    lives = [r["ours"]["live"] for r in runs if r["ours"].get("live")]
    preds["ours_live"] = summarise_predictions(lives) if lives else None
    ratios = {f"ready_{v}": ratio(rows[f"ours_{v}"]["ready_ms"], rows[f"bare_{v}"]["ready_ms"]) for v in VISITS}
    ratios["wire_cold"] = ratio(rows["ours_cold"]["wire_bytes"], rows["bare_cold"]["wire_bytes"])
    get = lambda rs, k: rs.get(k) if rs else None                                  # noqa: E731
    ratios["throttled_ready_cold"] = ratio(get(trows.get("ours_cold"), "ready_ms"),
                                           get(trows.get("bare_cold"), "ready_ms"))
    ratios["throttled_wire_cold"] = ratio(get(trows.get("ours_cold"), "wire_bytes"),
                                          get(trows.get("bare_cold"), "wire_bytes"))
    ours_cold = [r["ours"]["cold"] for r in runs]
    per_pred = [r["ours"]["predictions"] for r in runs]
    oc, tc = rows["ours_cold"], trows.get("ours_cold")
    link_text = (f"{link['down_bps'] * 8 / 1e6:g} Mbps down, {link['up_bps'] * 8 / 1e3:g} kbps up, "
                 f"{link['latency_ms']:g} ms")
    link_note = f"{len(throttled)} run{'s' if len(throttled) != 1 else ''}"
    if link != GOAL_LINK:
        link_note += "; NOT the goal's link"
    goals = [
        goal("ready_cold", "ready, cold visit (ours/bare)", ratios["ready_cold"], GOAL_READY_COLD_RATIO, "x",
             paired(runs, "cold", "ready_ms"), oc["ready_ms"], rows["bare_cold"]["ready_ms"], "ms"),
        goal("ready_warm", "ready, warm visit (ours/bare)", ratios["ready_warm"], GOAL_READY_WARM_RATIO, "x",
             paired(runs, "warm", "ready_ms"), rows["ours_warm"]["ready_ms"], rows["bare_warm"]["ready_ms"], "ms"),
        goal("throttled_ready_cold", f"ready, cold, throttled {link_text} (ours/bare)",
             ratios["throttled_ready_cold"], GOAL_THROTTLED_READY_RATIO, "x", paired(throttled, "cold", "ready_ms"),
             get(tc, "ready_ms"), get(trows.get("bare_cold"), "ready_ms"), "ms", link_note),
        goal("throttled_wire_cold", "bytes on the wire, cold, throttled (ours/bare)",
             ratios["throttled_wire_cold"], GOAL_THROTTLED_WIRE_RATIO, "x", paired(throttled, "cold", "wire_bytes"),
             get(tc, "wire_bytes"), get(trows.get("bare_cold"), "wire_bytes"), "B", link_note),
        *latency_goals("live", "while drawing (one view)", preds["ours_live"], lives, preds["bare"]),
        *latency_goals("settled", "pen up (nine views)", preds["ours"], per_pred, preds["bare"]),
        goal("long_task_cold", "longest main-thread long task, cold", oc["long_task_max_ms"], GOAL_LONG_TASK_MS, "ms",
             [v["long_task_max_ms"] for v in ours_cold], bare=rows["bare_cold"]["long_task_max_ms"],
             note="0: none over 50 ms"),
        goal("pad_usable_cold", "pad usable, cold", oc["pad_usable_ms"], GOAL_PAD_MS, "ms",
             [v["pad_usable_ms"] for v in ours_cold]),
        goal("cls_boot_cold", "cumulative layout shift until ready, cold", oc["cls_boot"], GOAL_CLS, "",
             [v["cls_boot"] for v in ours_cold], bare=rows["bare_cold"]["cls_boot"]),
    ]
    stages = {f"{p}_{v}": stage_medians([r[p][v] for r in runs]) for p in PAGES for v in VISITS}
    if throttled:
        stages.update({f"{p}_cold_throttled": stage_medians([r[p]["cold"] for r in throttled]) for p in PAGES})
    return {"rows": rows, "throttled_rows": trows, "predictions": preds, "ratios": ratios, "goals": goals,
            "worker_stages_median_ms": stages}


def show(value: Optional[float], unit: str) -> str:
    if value is None:
        return "—"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "ms":
        return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"
    if unit == "B":
        return f"{value / 1e6:.2f} MB"
    return f"{value:.3f}"


def format_report(summary: dict, n_runs: int, n_throttled: int, link: dict) -> str:
    rows, trows, preds, ratios = summary["rows"], summary["throttled_rows"], summary["predictions"], summary["ratios"]
    boot = format_table(
        ["page, visit", "ready ms", "min-max", "pad usable ms", "CLS", "long tasks", "longest ms", "wire MB",
         "decoded MB", "requests", "cache/304/net/SW", "non-local", "offline ms"],
        [[f"{p}, {v}", fmt(r["ready_ms"], ".0f"), f"{r['ready_ms_min']:.0f}-{r['ready_ms_max']:.0f}",
          fmt(r["pad_usable_ms"], ".0f"), fmt(r["cls_boot"], ".3f"), fmt(r["long_task_count"], "g"),
          fmt(r["long_task_max_ms"], ".0f"), fmt(r["wire_bytes"], ".2f", scale=1e6),
          fmt(r["decoded_bytes"], ".2f", scale=1e6), fmt(r["requests"], "g"),
          f"{r['cache']:g}/{r['revalidated']:g}/{r['network']:g}/{r['service_worker']:g}", str(r["non_local"]),
          fmt(r["offline_ms"], ".0f")]
         for v in VISITS for p in PAGES for r in [rows[f"{p}_{v}"]]])
    lines = [f"Boot, no throttling (medians of {n_runs} run(s); times from navigation start):", boot, ""]
    link_text = (f"{link['down_bps']} B/s = {link['down_bps'] * 8 / 1e6:g} Mbps down, "
                 f"{link['up_bps'] * 8 / 1e3:g} kbps up, {link['latency_ms']:g} ms latency")
    if trows:
        lines += [f"Boot, throttled link ({link_text}; medians of {n_throttled} run(s), cold visits):",
                  format_table(
                      ["page, visit", "ready ms", "min-max", "link floor ms", "pad usable ms", "CLS", "long tasks",
                       "longest ms", "wire MB", "requests", "non-local", "offline ms"],
                      [[f"{p}, cold", fmt(r["ready_ms"], ".0f"), f"{r['ready_ms_min']:.0f}-{r['ready_ms_max']:.0f}",
                        fmt(r["link_floor_ms"], ".0f"), fmt(r["pad_usable_ms"], ".0f"), fmt(r["cls_boot"], ".3f"),
                        fmt(r["long_task_count"], "g"), fmt(r["long_task_max_ms"], ".0f"),
                        fmt(r["wire_bytes"], ".2f", scale=1e6), fmt(r["requests"], "g"), str(r["non_local"]),
                        fmt(r["offline_ms"], ".0f")]
                       for p in PAGES for r in [trows[f"{p}_cold"]]]),
                  "(link floor: the bytes fetched before ready at the link's download speed)", ""]
    else:
        lines += ["Boot, throttled link: not measured (--no-throttle, --quick or --throttle-runs 0).", ""]
    lines.append(
        f"ours/bare: ready cold {fmt(ratios['ready_cold'], '.2f', 'x')}, warm {fmt(ratios['ready_warm'], '.2f', 'x')}; "
        f"wire bytes cold {fmt(ratios['wire_cold'], '.2f', 'x')}; throttled: ready cold "
        f"{fmt(ratios['throttled_ready_cold'], '.2f', 'x')}, wire bytes cold "
        f"{fmt(ratios['throttled_wire_cold'], '.2f', 'x')}")

    stages = summary["worker_stages_median_ms"]
    keys = [k for k in ("ours_cold", "ours_warm", "ours_cold_throttled", "bare_cold", "bare_warm",
                        "bare_cold_throttled") if k in stages]
    seen = {name for k in keys for name in stages[k]}
    names = [n for n in STAGE_ORDER if n in seen] + sorted(seen - set(STAGE_ORDER))
    lines += ["", "In the worker: its own timings, median ms (ours: digitApp.timings, ready = since the page "
              "made the worker; bare: numpy = loadPackage + import numpy):",
              format_table(["worker stages", *names],
                           [[k.replace("_", ", "), *(fmt(stages[k].get(n), ".0f") for n in names)] for k in keys])]

    labels = {"ours": "ours, pen up (nine views)", "ours_live": "ours, while drawing (one view)",
              "bare": "bare (np.frombuffer().sum())"}
    lines += ["", format_table(
        ["worker round trip", "n", "p50 ms", "p95 ms", "max ms", "Python p50", "Python p95", "messaging p50",
         "long tasks"],
        [[labels[p], str(s["round_trip"]["n"]), fmt(s["round_trip"]["p50_ms"], ".2f"),
          fmt(s["round_trip"]["p95_ms"], ".2f"), fmt(s["round_trip"]["max_ms"], ".2f"),
          fmt(s["python"]["p50_ms"], ".2f"), fmt(s["python"]["p95_ms"], ".2f"), fmt(s["messaging"]["p50_ms"], ".2f"),
          str(s["long_tasks"])] for p in ("ours_live", *PAGES) for s in [preds.get(p)] if s])]

    lines += ["", "goals:", format_table(
        ["goal", "ours", "bare", "value", "limit", "met?", "runs (best-worst)", "note"],
        [[g["goal"], show(g["ours"], g["of"]), show(g["bare"], g["of"]), show(g["value"], g["unit"]),
          f"<= {show(g['limit'], g['unit'])}", "met" if g["met"] else "—" if g["value"] is None else "NOT met",
          "—" if g["best_run"] is None else f"{show(g['best_run'], g['unit'])}-{show(g['worst_run'], g['unit'])}",
          g["note"] if g["value"] is not None else "not measured"]
         for g in summary["goals"]])]
    met = sum(g["met"] for g in summary["goals"])
    lines.append(f"{met} of {len(summary['goals'])} goals met.")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- main

def at_least(minimum: int) -> Callable[[str], int]:
    def check(text: str) -> int:
        n = int(text)
        if n < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, not {n}")
        return n
    return check


positive = at_least(1)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench.page_bench",
        description="Boot time (also on a throttled link), bytes, long tasks, layout shift and prediction "
                    "latency of the page in headless Chromium, against a bare page that only boots the stock "
                    "Pyodide and NumPy in a module worker; prints every goal of 'Fast start' (met or not).")
    p.add_argument("--runs", type=positive, default=None, metavar="N",
                   help=f"how many times to measure each page without throttling, each time with a fresh browser "
                        f"and profile (a cold and a warm visit, then the predictions); the table shows medians "
                        f"(default {DEFAULT_RUNS}, {QUICK_RUNS} with --quick)")
    p.add_argument("--predictions", type=positive, default=None, metavar="N",
                   help=f"predictions per run on the warm page, each a different drawing, for the round-trip "
                        f"times (default {DEFAULT_PREDICTIONS}, {QUICK_PREDICTIONS} with --quick)")
    p.add_argument("--throttle-runs", type=at_least(0), default=None, metavar="N",
                   help=f"cold visits of each page on the throttled link (default {DEFAULT_THROTTLE_RUNS}: a bare "
                        f"visit takes ~90 s there; 0 with --quick or --no-throttle)")
    p.add_argument("--no-throttle", action="store_true", help="skip the throttled runs (same as --throttle-runs 0)")
    p.add_argument("--down", type=positive, default=GOAL_LINK["down_bps"], metavar="BYTES_PER_S",
                   help=f"throttled download speed (default {GOAL_LINK['down_bps']} = 1.6 Mbps, the goal's)")
    p.add_argument("--up", type=positive, default=GOAL_LINK["up_bps"], metavar="BYTES_PER_S",
                   help=f"throttled upload speed (default {GOAL_LINK['up_bps']} = 750 kbps, the goal's)")
    p.add_argument("--latency", type=at_least(0), default=GOAL_LINK["latency_ms"], metavar="MS",
                   help=f"throttled latency (default {GOAL_LINK['latency_ms']} ms, the goal's)")
    p.add_argument("--json", type=Path, default=DEFAULT_JSON, metavar="PATH",
                   help="where to write every per-run value, the medians, ratios and goals "
                        "(default: bench/results/page.json)")
    p.add_argument("--quick", action="store_true",
                   help=f"smoke test: {QUICK_RUNS} run, {QUICK_PREDICTIONS} predictions, no throttled runs "
                        "(unless --runs, --predictions or --throttle-runs say otherwise)")
    return p


def main(argv: Optional[list[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.no_throttle and args.throttle_runs:
        parser.error("--no-throttle and --throttle-runs N contradict each other")
    n_runs = args.runs or (QUICK_RUNS if args.quick else DEFAULT_RUNS)
    n_predictions = args.predictions or (QUICK_PREDICTIONS if args.quick else DEFAULT_PREDICTIONS)
    n_throttled = (args.throttle_runs if args.throttle_runs is not None
                   else 0 if args.quick or args.no_throttle else DEFAULT_THROTTLE_RUNS)
    link = {"down_bps": args.down, "up_bps": args.up, "latency_ms": args.latency}
    if not os.access(CHROMIUM, os.X_OK):
        print(f"error: {CHROMIUM} is missing (bash scripts/setup.sh --test installs Debian's chromium)",
              file=sys.stderr)
        return 2
    if not (ROOT / "static" / "pyodide" / "runtime.mjs").is_file() or \
            not (ROOT / "static" / "pyodide" / "stock" / "pyodide.mjs").is_file():
        print("error: static/pyodide/ (runtime.mjs, stock/) is missing: run bash scripts/setup.sh "
              "(or python -m tools.assets)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    machine = machine_info()
    loads = [("start", round(os.getloadavg()[0], 2))]
    print(f"machine: {machine['cpu']}, {machine['usable_cores']} usable cores, "
          f"load average {machine['load_average_1min_at_start']}; {n_runs} run(s), {n_predictions} predictions "
          f"each; {n_throttled} throttled run(s)", flush=True)
    shapes = drawings(n_predictions)
    runs: list[dict] = []
    throttled: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="page-bench-") as tmp:
        servers: dict[str, Server] = {}
        try:
            servers["ours"] = Server()
            servers["bare"] = Server(bare_web_root(Path(tmp)))
            with sync_playwright() as pw:
                for i in range(n_runs):
                    order = PAGES if i % 2 == 0 else PAGES[::-1]
                    run: dict[str, Any] = {"run": i + 1, "order": list(order),
                                           "load_average_1min": round(os.getloadavg()[0], 2)}
                    for page in order:
                        r = run[page] = run_page(pw, servers[page].url, n_predictions,
                                                 shapes if page == "ours" else None)
                        print(f"run {i + 1}/{n_runs} {page}: ready cold {r['cold']['ready_ms']:.0f} ms, "
                              f"warm {r['warm']['ready_ms']:.0f} ms; round trip p50 "
                              f"{r['predictions']['round_trip']['p50_ms']:.2f} ms "
                              f"(load {run['load_average_1min']})", flush=True)
                    runs.append(run)
                loads.append(("after unthrottled runs", round(os.getloadavg()[0], 2)))
                for i in range(n_throttled):
                    order = PAGES if i % 2 == 0 else PAGES[::-1]
                    run = {"run": i + 1, "order": list(order), "link": link,
                           "load_average_1min": round(os.getloadavg()[0], 2)}
                    for page in order:
                        r = run[page] = run_throttled(pw, servers[page].url, link)
                        print(f"throttled run {i + 1}/{n_throttled} {page}: ready cold {r['cold']['ready_ms']:.0f} ms "
                              f"(link floor {r['cold']['link_floor_ms']:.0f} ms), "
                              f"{r['cold']['wire_bytes'] / 1e6:.2f} MB on the wire "
                              f"(load {run['load_average_1min']})", flush=True)
                    throttled.append(run)
        finally:
            for s in servers.values():
                s.stop()
    loads.append(("end", round(os.getloadavg()[0], 2)))
    machine["load_average_1min_at_end"] = loads[-1][1]
    machine["load_average_1min"] = dict(loads)
    machine["load_average_1min_per_run"] = [r["load_average_1min"] for r in runs]
    machine["load_average_1min_per_throttled_run"] = [r["load_average_1min"] for r in throttled]
    machine["browser"] = runs[0]["ours"]["cold"]["user_agent"]

    summary = summarise(runs, throttled, link)
    report = format_report(summary, n_runs, n_throttled, link)
    print()
    print(report)
    for key in ("ours_cold", "ours_warm"):
        r = summary["rows"][key]
        if r["sw_fetches_after_ready"]:
            print(f"{key.replace('_', ', ')}: after ready the service worker fetched {r['sw_fetches_after_ready']:g} "
                  f"files ({r['sw_transfer_after_ready_bytes'] / 1e6:.2f} MB over HTTP, counted in wire bytes) to "
                  f"cache them for offline use; done at {r['offline_ms']:.0f} ms")
    print("wire = Resource Timing transferSize (headers + body as sent, compressed where Content-Encoding applied) "
          "of everything the visit fetched over HTTP (page, worker, service worker); decoded = decodedBodySize; "
          "cache/304/net/SW = HTTP cache, revalidated, downloaded, answered by the service worker. Goals are "
          "judged on medians (ratios: of the medians); 'runs' shows the same figure's best and worst run.")
    print("Load average (1 min): " + ", ".join(f"{k} {v}" for k, v in loads) +
          f"; per run {machine['load_average_1min_per_run']}"
          + (f", per throttled run {machine['load_average_1min_per_throttled_run']}" if throttled else "") + ".")
    problems = [f"{k}: {n} {what}" for rows in (summary["rows"], summary["throttled_rows"])
                for k, row in rows.items()
                for what in ("non_local", "failed", "errors", "not_throttled") for n in [row[what]] if n]
    for p in problems:
        print(f"problem: {p}", file=sys.stderr)
    write_json(args.json, {
        "machine": machine,
        "config": {"runs": n_runs, "predictions": n_predictions, "throttle_runs": n_throttled, "link": link,
                   "goal_link": GOAL_LINK, "quick": args.quick, "settle_ms": SETTLE_MS, "chromium": CHROMIUM,
                   "chromium_args": CHROMIUM_ARGS, "viewport": VIEWPORT, "bare_predict_side": CANVAS},
        "methods": {
            "ready": "MutationObserver on <html data-state> (init script), performance.now() from navigation start",
            "pad_usable": "first requestAnimationFrame with the pad in the DOM, checkVisibility(), non-zero box and "
                          "a pointerdown listener added (wrapped EventTarget.prototype.addEventListener)",
            "long_tasks": "PerformanceObserver longtask, buffered, installed by add_init_script; up to ready + "
                          f"{SETTLE_MS} ms (or the end of the offline caching)",
            "cls": "PerformanceObserver layout-shift, buffered, installed by add_init_script; sum of value over "
                   "entries without hadRecentInput starting before ready (cls_boot) / before the visit's end",
            "bytes": "Resource Timing transferSize (wire) / encodedBodySize / decodedBodySize of the page, its "
                     "worker and the service worker (Worker.evaluate); requests counted with Playwright context "
                     "events; Cache-Control and Content-Encoding from each response",
            "throttling": "CDP Network.emulateNetworkConditions on the tab (new_cdp_session) before navigation; "
                          f"checked: ready >= {THROTTLE_FLOOR} x transfer bytes / download speed",
            "round_trip": "ours: digitApp.predictTimes (postMessage -> result); bare: the same in its page",
            "python_ms": "the 'ms' field of the worker's result messages (Worker wrapped by the init script)",
            "caching": "tools.serve: static/pyodide/<folder>/ immutable (ours: <tag>/, bare: stock/), the rest "
                       "no-cache; pre-compressed .br/.gz siblings sent with Content-Encoding (stock/ has none)",
        },
        **summary,
        "problems": problems,
        "runs": runs,
        "throttled_runs": throttled,
        "table": report,
    })
    print(f"results written to {args.json}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
