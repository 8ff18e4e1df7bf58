"""Page boot and prediction latency: our page against a bare Pyodide + NumPy page, in headless Chromium.

    .venv/bin/python -m bench.page_bench                      # 5 runs, 200 predictions per run
    .venv/bin/python -m bench.page_bench --runs 3 --json bench/results/page.json
    .venv/bin/python -m bench.page_bench --quick              # smoke test: 1 run, 20 predictions

Two pages, each served by the project's own server (``tools.serve`` in a subprocess: same code,
same cache headers):

ours  ``/`` of the repository: the app (pad, worker, py/*.py, the model).
bare  a reference page in a temporary web root whose ``static/pyodide/stock/`` is a (hard-linked)
      copy of the stock files (``static/pyodide/stock/``: npm's Pyodide, the lock's NumPy wheel; no
      ``.pyc``, no ``.br``/``.gz`` siblings, so sent as they are). A subfolder of ``static/pyodide/``
      on purpose: ``tools.serve`` serves ``static/pyodide/<folder>/`` immutable and everything else
      ``no-cache``, so the bare runtime gets the same caching rule as ours in
      ``static/pyodide/<tag>/`` (at the top of ``static/pyodide/`` it would be revalidated on every
      visit). A module script starts a module worker that loads Pyodide, then
      ``loadPackage("numpy")`` and ``import numpy``, and posts "ready"; the page then sets
      ``<html data-state="ready">``. No app code, no model: the floor for "ready".

Each run gives each page a fresh Debian Chromium (headless, every host but 127.0.0.1
unresolvable) with a fresh temporary profile (``launch_persistent_context``, so the HTTP cache is
a real disk cache) and visits it twice: **cold** (empty profile), then **warm** (a new tab in the
same profile once the cold visit has finished and its tab is closed: ``static/pyodide/`` is served
``immutable``, so the runtime should come from the HTTP cache, or from the service worker's cache
once the app has one). Which page goes first alternates.

Measured in the page from navigation start (``performance.now()``) by an init script that runs
before any of the page's own code (``add_init_script``):

ready       a MutationObserver sees ``<html data-state>`` become "ready".
pad usable  (ours) the first animation frame in which the pad canvas is in the DOM, visible
            (``checkVisibility()``, non-zero box) and has a ``pointerdown`` listener (the script
            wraps ``EventTarget.prototype.addEventListener`` to see it added: ``pad_handlers_ms``).
offline     (ours) when ``<html data-offline>`` is set: the service worker the page registers once
            ready has cached the app. A visit ends at ready + 1 s, or when that is done if later.
long tasks  ``PerformanceObserver({type: "longtask", buffered: true})``: main-thread tasks over
            50 ms from navigation start to the end of the visit.
bytes       Resource Timing, read in the page, in its worker and in the service worker (through
            Playwright): ``transfer`` sums ``transferSize`` (0 from the HTTP cache, 300 for a 304)
            of what was fetched over HTTP until ready: by the page and its worker, or for them by
            the service worker (its entries between navigation start and ready); ``encoded`` sums
            ``encodedBodySize`` of what the page and its worker loaded. What the service worker
            fetched after ready (to cache the app) is counted apart. Every request, the workers'
            too, is also seen through Playwright's context events: counted, the page's and its
            worker's matched to their timing entries and marked when a service worker answered
            (``response.from_service_worker``); requests to hosts other than 127.0.0.1 and failed
            requests are listed (and make the exit status 1).

Predictions, once the warm visit is ready: ``--predictions`` drawings, each a digit shape from
``training/strokes.py`` scaled and shifted at random, set with ``digitApp.setStrokes`` and awaited
with ``digitApp.whenIdle()``. The round trip is the page's own ``digitApp.predictTimes``
(``performance.now()`` right before ``postMessage`` -> the result message arrives); the worker's
Python time is the ``ms`` of each result message (the init script wraps ``Worker`` to read it),
so round trip - Python = messaging and scheduling. The bare page does the same with a 280*280
Uint8Array (transferred, like ours) and ``np.frombuffer(...).sum()`` in its worker.

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
from typing import Any, Optional, Sequence
from urllib.parse import urlsplit

import numpy as np

from bench.common import fmt, format_table, machine_info, ratio, write_json
from training.strokes import DIGITS, transform
from tools.harness import CHROMIUM, CHROMIUM_ARGS, Server, link_or_copy
from tools.paths import BENCH_RESULTS, ROOT

DEFAULT_JSON = BENCH_RESULTS / "page.json"
DEFAULT_RUNS, DEFAULT_PREDICTIONS = 5, 200
QUICK_RUNS, QUICK_PREDICTIONS = 1, 20
BOOT_TIMEOUT_MS = 120_000
SETTLE_MS = 1000          # after ready: the page's first result, the cache written to disk
VIEWPORT = {"width": 1100, "height": 820}
PAGES = ("ours", "bare")
VISITS = ("cold", "warm")

GOAL_READY_RATIO = 1.1
GOAL_P95_MS = 5.0
GOAL_LONG_TASK_MS = 50.0
GOAL_PAD_MS = 300.0

# ----------------------------------------------------------------------------- in the page

INIT_JS = r"""
(() => {
  const b = (window.__bench = { readyAt: null, errorAt: null, padHandlersAt: null, padUsableAt: null,
                                offlineAt: null, offline: null, longTasks: [], longTaskSupported: true,
                                workerMs: [] });
  const keep = (entries) => { for (const e of entries) b.longTasks.push({ start: e.startTime, duration: e.duration }); };
  try {
    b.observer = new PerformanceObserver((list) => keep(list.getEntries()));
    b.observer.observe({ type: "longtask", buffered: true });
  } catch (e) {
    b.longTaskSupported = false;
  }
  b.takeLongTasks = () => { if (b.observer) keep(b.observer.takeRecords()); return b.longTasks; };

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
        if (e.data && e.data.type === "result" && typeof e.data.ms === "number") b.workerMs.push(e.data.ms);
      });
    }
  };
})();
"""

READ_JS = """() => {
  const b = window.__bench;
  return { readyAt: b.readyAt, errorAt: b.errorAt, padHandlersAt: b.padHandlersAt, padUsableAt: b.padUsableAt,
           offlineAt: b.offlineAt, offline: b.offline, timeOrigin: performance.timeOrigin,
           longTaskSupported: b.longTaskSupported, longTasks: b.takeLongTasks().slice(),
           domContentLoaded: performance.getEntriesByType("navigation")[0]?.domContentLoadedEventStart ?? null,
           firstContentfulPaint: performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? null,
           workerTimings: window.digitApp ? window.digitApp.timings : null,
           errorText: document.querySelector('[data-testid="error"]')?.textContent.trim() || null,
           userAgent: navigator.userAgent };
}"""

# Resource Timing of a page, worker or service worker; start is absolute (ms since 1970) to compare them.
ENTRIES_JS = """() => performance.getEntries()
  .filter((e) => e.entryType === "navigation" || e.entryType === "resource")
  .map((e) => ({ url: e.name, start: performance.timeOrigin + e.startTime, transfer: e.transferSize,
                 encoded: e.encodedBodySize, viaServiceWorker: e.workerStart > 0 }))"""

HAS_SERVICE_WORKER_JS = "async () => (await navigator.serviceWorker.getRegistrations()).length > 0"

# drawings: a list of drawings (ours) or null (bare: a fresh Uint8Array each time)
PREDICT_JS = """async ({ drawings, n }) => {
  const app = window.digitApp || window.bareApp, b = window.__bench;
  const t0 = app.predictTimes.length, w0 = b.workerMs.length, start = performance.now();
  for (let i = 0; i < n; i++) {
    if (drawings) { app.setStrokes(drawings[i]); await app.whenIdle(); } else await app.predict(i);
  }
  return { roundTrip: app.predictTimes.slice(t0), python: b.workerMs.slice(w0),
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
  /** One round trip of a 280*280 Uint8Array (different every time), transferred like the app's. */
  predict(i) {
    return new Promise((resolve) => {
      const pixels = new Uint8Array(280 * 280);
      pixels.fill(255, i % 1000, (i % 1000) + 2000);
      const sent = performance.now();
      answered = () => { bareApp.predictTimes.push(performance.now() - sent); resolve(); };
      worker.postMessage({ type: "predict", pixels }, [pixels.buffer]);
    });
  },
});
worker.addEventListener("message", (e) => {
  if (e.data.type === "ready") html.dataset.state = "ready";
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
  const pyodide = await loadPyodide({ indexURL: new URL("../pyodide/stock/", import.meta.url).href });
  await pyodide.loadPackage("numpy", { messageCallback: () => {} });
  total = pyodide.runPython(`
import numpy as np

def total(data):
    return int(np.frombuffer(data.to_bytes(), dtype=np.uint8).sum())

total`);
  self.postMessage({ type: "ready" });
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


def visit(context, requests: Requests, url: str) -> tuple[Any, dict]:
    """Open url in a new tab of context and let it settle; -> (the page, its measurements).

    Settled: ready, SETTLE_MS more, and if the page registered a service worker, until it says
    whether the app is cached for offline use (``<html data-offline>``).
    """
    requests.reset()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    with page.expect_console_message(lambda m: m.text in ("__bench:ready", "__bench:error"),
                                     timeout=BOOT_TIMEOUT_MS):
        page.goto(url)
    page.wait_for_timeout(SETTLE_MS)
    if page.evaluate(HAS_SERVICE_WORKER_JS):
        page.wait_for_function("() => window.__bench.offlineAt !== null", timeout=BOOT_TIMEOUT_MS)
    b = page.evaluate(READ_JS)
    if b["errorAt"] is not None or b["readyAt"] is None:
        raise RuntimeError(f"{url} did not get ready: {b['errorText'] or errors}")
    ready_at = b["timeOrigin"] + b["readyAt"]

    # What the page and its worker loaded; what a service worker fetched (for them, or to cache them).
    loaded = page.evaluate(ENTRIES_JS) + [e for w in page.workers for e in w.evaluate(ENTRIES_JS)]
    sw_fetched = [e for w in context.service_workers for e in w.evaluate(ENTRIES_JS) if e["start"] >= b["timeOrigin"]]
    boot_sw = [e for e in sw_fetched if e["start"] <= ready_at]
    after_sw = [e for e in sw_fetched if e["start"] > ready_at]
    fetched = [e for e in loaded if not e["viaServiceWorker"]] + boot_sw    # over HTTP during boot

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
        detail.append({"path": urlsplit(r.url).path, "type": r.resource_type, "status": response.status,
                       "transfer": e["transfer"], "encoded": e["encoded"],
                       "source": "service worker" if response.from_service_worker else source(e["transfer"])})
    tasks = [{"start_ms": t["start"], "duration_ms": t["duration"]} for t in b["longTasks"]]
    ours = [r for r in requests.all if urlsplit(r.url).scheme not in ("data", "blob")]
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
        "transfer_bytes": sum(e["transfer"] for e in fetched),
        "encoded_bytes": sum(e["encoded"] for e in loaded),
        "timing_entries": len(loaded),
        "requests": sum(not r.service_worker for r in ours),
        **{k: sum(source(e["transfer"]) == k for e in fetched) for k in ("cache", "revalidated", "network")},
        "service_worker": sum(e["viaServiceWorker"] for e in loaded),
        "sw_requests": sum(bool(r.service_worker) for r in ours),
        "sw_fetches_boot": len(boot_sw),
        "sw_fetches_after_ready": len(after_sw),
        "sw_transfer_after_ready_bytes": sum(e["transfer"] for e in after_sw),
        "unmatched_requests": unmatched,
        "non_local_requests": [r.url for r in requests.all if not is_local(r.url)],
        "failed_requests": [f"{r.url} {r.failure}" for r in requests.failed],
        "errors": errors,
        "worker_timings": b["workerTimings"],
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
    got = page.evaluate(PREDICT_JS, {"drawings": shapes, "n": n})
    rt, py = got["roundTrip"], got["python"]
    messaging = [a - b for a, b in zip(rt, py)] if len(rt) == len(py) else []
    return {"round_trip_ms": rt, "python_ms": py, "messaging_ms": messaging,
            "round_trip": stats(rt), "python": stats(py), "messaging": stats(messaging),
            "long_tasks": [{"start_ms": t["start"], "duration_ms": t["duration"]} for t in got["longTasks"]]}


def run_page(pw, url: str, n_predictions: int, shapes: Optional[list]) -> dict:
    """A fresh browser and profile: the cold visit, the warm visit, then predictions on the warm page."""
    with tempfile.TemporaryDirectory(prefix="page-bench-profile-") as profile:
        context = pw.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                                        headless=True, viewport=VIEWPORT)
        try:
            context.add_init_script(INIT_JS)
            requests = Requests(context)
            page, cold = visit(context, requests, url)
            page.close()
            page, warm = visit(context, requests, url)
            return {"cold": cold, "warm": warm, "predictions": predict(page, n_predictions, shapes)}
        finally:
            context.close()


# ----------------------------------------------------------------------------- summary

def median(values: Sequence[Optional[float]]) -> Optional[float]:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarise_visits(visits: Sequence[dict]) -> dict:
    """One table row: medians over runs; the worst long task; problems summed over runs."""
    row = {k: median([v[k] for v in visits]) for k in (
        "ready_ms", "pad_handlers_ms", "pad_usable_ms", "dom_content_loaded_ms", "first_contentful_paint_ms",
        "offline_ms", "long_task_count", "transfer_bytes", "encoded_bytes", "requests", "cache", "revalidated",
        "network", "service_worker", "sw_requests", "sw_fetches_boot", "sw_fetches_after_ready",
        "sw_transfer_after_ready_bytes")}
    maxima = [v["long_task_max_ms"] for v in visits if v["long_task_max_ms"] is not None]
    row.update({
        "runs": len(visits),
        "ready_ms_min": min(v["ready_ms"] for v in visits),
        "ready_ms_max": max(v["ready_ms"] for v in visits),
        "long_task_max_ms": max(maxima) if maxima else None,
        "non_local": sum(len(v["non_local_requests"]) for v in visits),
        "failed": sum(len(v["failed_requests"]) for v in visits),
        "unmatched": sum(len(v["unmatched_requests"]) for v in visits),
        "errors": sum(len(v["errors"]) for v in visits),
    })
    return row


def summarise_predictions(preds: Sequence[dict]) -> dict:
    """Pooled over runs."""
    pooled = {k: [x for p in preds for x in p[f"{k}_ms"]] for k in ("round_trip", "python", "messaging")}
    return {**{k: stats(v) for k, v in pooled.items()},
            "long_tasks": sum(len(p["long_tasks"]) for p in preds),
            "long_task_max_ms": max((t["duration_ms"] for p in preds for t in p["long_tasks"]), default=0.0)}


def goal(name: str, value: Optional[float], limit: float, unit: str) -> dict:
    return {"goal": name, "value": value, "limit": limit, "unit": unit,
            "met": value is not None and value <= limit}


def summarise(runs: Sequence[dict]) -> dict:
    rows = {f"{p}_{v}": summarise_visits([r[p][v] for r in runs]) for v in VISITS for p in PAGES}
    preds = {p: summarise_predictions([r[p]["predictions"] for r in runs]) for p in PAGES}
    ratios = {f"ready_{v}": ratio(rows[f"ours_{v}"]["ready_ms"], rows[f"bare_{v}"]["ready_ms"]) for v in VISITS}
    maxima = [rows[f"ours_{v}"]["long_task_max_ms"] for v in VISITS]
    pads = [rows[f"ours_{v}"]["pad_usable_ms"] for v in VISITS]
    goals = [
        goal(f"ready <= {GOAL_READY_RATIO}x bare (cold)", ratios["ready_cold"], GOAL_READY_RATIO, "x"),
        goal(f"ready <= {GOAL_READY_RATIO}x bare (warm)", ratios["ready_warm"], GOAL_READY_RATIO, "x"),
        goal(f"p95 prediction round trip <= {GOAL_P95_MS:g} ms", preds["ours"]["round_trip"]["p95_ms"],
             GOAL_P95_MS, "ms"),
        goal(f"no main-thread long task > {GOAL_LONG_TASK_MS:g} ms during boot (longest, any run)",
             None if None in maxima else max(maxima), GOAL_LONG_TASK_MS, "ms"),
        goal(f"pad usable <= {GOAL_PAD_MS:g} ms (median, worse of cold/warm)",
             None if None in pads else max(pads), GOAL_PAD_MS, "ms"),
    ]
    return {"rows": rows, "predictions": preds, "ratios": ratios, "goals": goals}


def format_report(summary: dict) -> str:
    rows, preds, ratios = summary["rows"], summary["predictions"], summary["ratios"]
    boot = format_table(
        ["page, visit", "ready ms", "min-max", "pad usable ms", "long tasks", "longest ms", "transfer MB",
         "encoded MB", "requests", "cache/304/net/SW", "non-local", "offline ms"],
        [[f"{p}, {v}", fmt(r["ready_ms"], ".0f"), f"{r['ready_ms_min']:.0f}-{r['ready_ms_max']:.0f}",
          fmt(r["pad_usable_ms"], ".0f"), fmt(r["long_task_count"], "g"), fmt(r["long_task_max_ms"], ".0f"),
          fmt(r["transfer_bytes"], ".2f", scale=1e6), fmt(r["encoded_bytes"], ".2f", scale=1e6), fmt(r["requests"], "g"),
          f"{r['cache']:g}/{r['revalidated']:g}/{r['network']:g}/{r['service_worker']:g}", str(r["non_local"]),
          fmt(r["offline_ms"], ".0f")]
         for v in VISITS for p in PAGES for r in [rows[f"{p}_{v}"]]])
    labels = {"ours": "ours (predict_drawing)", "bare": "bare (np.frombuffer().sum())"}
    pred = format_table(
        ["worker round trip", "n", "p50 ms", "p95 ms", "max ms", "Python p50", "Python p95", "messaging p50",
         "long tasks"],
        [[labels[p], str(s["round_trip"]["n"]), fmt(s["round_trip"]["p50_ms"], ".2f"),
          fmt(s["round_trip"]["p95_ms"], ".2f"), fmt(s["round_trip"]["max_ms"], ".2f"),
          fmt(s["python"]["p50_ms"], ".2f"), fmt(s["python"]["p95_ms"], ".2f"), fmt(s["messaging"]["p50_ms"], ".2f"),
          str(s["long_tasks"])] for p in PAGES for s in [preds[p]]])
    lines = [boot, "",
             f"ready, ours/bare: cold {fmt(ratios['ready_cold'], '.2f')}x, warm {fmt(ratios['ready_warm'], '.2f')}x",
             "", pred, "", "goals:"]
    for g in summary["goals"]:
        shown = "not measured" if g["value"] is None else f"{g['value']:.2f}{'x' if g['unit'] == 'x' else ' ms'}"
        lines.append(f"  {'met    ' if g['met'] else 'NOT met'}  {g['goal']}: {shown}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- main

def positive(text: str) -> int:
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {n}")
    return n


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench.page_bench",
        description="Boot time, long tasks, bytes and prediction latency of the page in headless Chromium, "
                    "against a bare page that only boots Pyodide and NumPy in a module worker.")
    p.add_argument("--runs", type=positive, default=None, metavar="N",
                   help=f"how many times to measure each page, each time with a fresh browser and profile "
                        f"(a cold and a warm visit); the table shows medians (default {DEFAULT_RUNS}, "
                        f"{QUICK_RUNS} with --quick)")
    p.add_argument("--predictions", type=positive, default=None, metavar="N",
                   help=f"predictions per run on the warm page, each a different drawing, for the round-trip "
                        f"times (default {DEFAULT_PREDICTIONS}, {QUICK_PREDICTIONS} with --quick)")
    p.add_argument("--json", type=Path, default=DEFAULT_JSON, metavar="PATH",
                   help="where to write every per-run value, the medians, ratios and goals "
                        "(default: bench/results/page.json)")
    p.add_argument("--quick", action="store_true",
                   help=f"smoke test: {QUICK_RUNS} run and {QUICK_PREDICTIONS} predictions "
                        "(unless --runs or --predictions say otherwise)")
    return p


def main(argv: Optional[list[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    n_runs = args.runs or (QUICK_RUNS if args.quick else DEFAULT_RUNS)
    n_predictions = args.predictions or (QUICK_PREDICTIONS if args.quick else DEFAULT_PREDICTIONS)
    if not os.access(CHROMIUM, os.X_OK):
        print(f"error: {CHROMIUM} is missing (bash scripts/setup.sh --test installs Debian's chromium)",
              file=sys.stderr)
        return 2
    if not (ROOT / "static" / "pyodide" / "runtime.mjs").is_file():
        print("error: static/pyodide/ is missing: run bash scripts/setup.sh (or python -m tools.assets)",
              file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    machine = machine_info()
    print(f"machine: {machine['cpu']}, {machine['usable_cores']} usable cores, "
          f"load average {machine['load_average_1min_at_start']}; {n_runs} run(s), {n_predictions} predictions each")
    shapes = drawings(n_predictions)
    runs: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="page-bench-") as tmp:
        servers: dict[str, Server] = {}
        try:
            servers["ours"] = Server()
            servers["bare"] = Server(bare_web_root(Path(tmp)))
            with sync_playwright() as pw:
                for i in range(n_runs):
                    order = PAGES if i % 2 == 0 else PAGES[::-1]
                    run: dict[str, Any] = {"run": i + 1, "order": list(order)}
                    for page in order:
                        r = run[page] = run_page(pw, servers[page].url, n_predictions,
                                                 shapes if page == "ours" else None)
                        print(f"run {i + 1}/{n_runs} {page}: ready cold {r['cold']['ready_ms']:.0f} ms, "
                              f"warm {r['warm']['ready_ms']:.0f} ms; round trip p50 "
                              f"{r['predictions']['round_trip']['p50_ms']:.2f} ms", flush=True)
                    runs.append(run)
        finally:
            for s in servers.values():
                s.stop()
    machine["load_average_1min_at_end"] = round(os.getloadavg()[0], 2)
    machine["browser"] = runs[0]["ours"]["cold"]["user_agent"]

    summary = summarise(runs)
    report = format_report(summary)
    stages = {k: median([(r["ours"]["cold"]["worker_timings"] or {}).get(k) for r in runs])
              for k in ("runtime", "numpy", "code", "model", "total")}
    print()
    print(report)
    print("\nours, cold, in the worker (median ms): " + ", ".join(f"{k} {v:.0f}" for k, v in stages.items()
                                                                 if v is not None))
    for v in VISITS:
        r = summary["rows"][f"ours_{v}"]
        if r["sw_fetches_after_ready"]:
            print(f"ours, {v}: after ready the service worker fetched {r['sw_fetches_after_ready']:g} files "
                  f"({r['sw_transfer_after_ready_bytes'] / 1e6:.2f} MB over HTTP) to cache them for offline use; "
                  f"done at {r['offline_ms']:.0f} ms")
    print("Times from navigation start, measured in the page (see the module docstring). transfer = Resource "
          "Timing transferSize of what was fetched over HTTP until ready (page, worker, service worker); encoded = "
          "encodedBodySize of what the page and its worker loaded; cache/304/net/SW = HTTP cache, revalidated, "
          "downloaded, answered by the service worker.")
    print(f"Load average (1 min): {machine['load_average_1min_at_start']} at start, "
          f"{machine['load_average_1min_at_end']} at end.")
    write_json(args.json, {
        "machine": machine,
        "config": {"runs": n_runs, "predictions": n_predictions, "quick": args.quick, "settle_ms": SETTLE_MS,
                   "chromium": CHROMIUM, "chromium_args": CHROMIUM_ARGS, "viewport": VIEWPORT},
        "methods": {
            "ready": "MutationObserver on <html data-state> (init script), performance.now() from navigation start",
            "pad_usable": "first requestAnimationFrame with the pad in the DOM, checkVisibility(), non-zero box and "
                          "a pointerdown listener added (wrapped EventTarget.prototype.addEventListener)",
            "long_tasks": "PerformanceObserver longtask, buffered, installed by add_init_script; up to ready + "
                          f"{SETTLE_MS} ms",
            "bytes": "Resource Timing transferSize / encodedBodySize of the page and of the worker "
                     "(Worker.evaluate); requests counted with Playwright context events",
            "round_trip": "ours: digitApp.predictTimes (postMessage -> result); bare: the same in its page",
            "python_ms": "the 'ms' field of the worker's result messages (Worker wrapped by the init script)",
        },
        **summary,
        "worker_stages_cold_median_ms": stages,
        "runs": runs,
        "table": report,
    })
    print(f"results written to {args.json}")
    problems = sum(rows[k] for rows in summary["rows"].values() for k in ("non_local", "failed", "errors"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
