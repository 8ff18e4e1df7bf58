"""Page boot, bytes, layout stability and prediction latency: our page against a bare Pyodide + NumPy
page, in headless Chromium, side by side in one run; and the same page's readings with its "Inside
the network" view closed and open, side by side; every goal of "Fast start" and of the Inside view
in one table.

    .venv/bin/python -m bench.page_bench                      # 5 runs + 3 throttled runs (~12 min)
    .venv/bin/python -m bench.page_bench --no-throttle        # the 5 runs only (~4 min)
    .venv/bin/python -m bench.page_bench --quick              # smoke test: 1 run, 20 predictions,
                                                              # a short inside phase, no throttling
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
      ``loadPackage("numpy")`` and runs ``total.py`` (``import numpy`` and a one-line function;
      fetched while the runtime loads), and posts "ready" with its timings
      ``{runtime, numpy, total}``; the page then sets ``<html data-state="ready">``. No app code,
      no model: the floor for "ready". Its files are ``bench/pages/bare/`` (``index.html`` at the
      web root's top, the rest in ``static/bare/``), copied into the web root at each bench run.

Two phases, each page in a fresh Debian Chromium (headless, every host but 127.0.0.1 unresolvable)
with a fresh temporary profile (``launch_persistent_context``: the HTTP cache is a real disk cache);
which page goes first alternates from run to run:

unthrottled  ``--runs`` runs (default 5). Each visits the page twice: **cold** (empty profile),
             then **warm** (a new tab in the same profile once the cold tab is closed: the
             immutable runtime should come from the HTTP cache, or through the app's service
             worker), then ``--predictions`` predictions on the warm page (ours: then the live
             readings, then the inside phase, below).
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

The inside phase (``bench.page_inside``), ours only, last on each run's warm page, in a 1440x900
window (the view in sight beside the pad): the "Inside the network" view closed, then open (or open,
then closed: alternating by run, so order effects cancel), with in each state the first
``--inside-drawings`` drawings drawn with the mouse (live readings) and the ``--predictions``
drawings set (settled): round trips, the worker's Python ms (open: ``Session.inside`` too), the
view's main-thread drawing per reading (``digitApp.insideDrawTimes``), long tasks while drawing.
Goals, on the live readings pooled over runs: round trip p95 open / closed <= 1.5x and open <= 8 ms,
no long task while drawing with the view open, the view's drawing p95 <= 4 ms a reading; the
settled figures are shown for information. ``--inside-drawings 0`` skips the phase.

The number phase (``bench.page_number``), on the same warm page after the inside phase:
``--numbers`` five-digit numbers of MNIST test digits drawn apart, each set with its pen and
awaited (the settled reading): the worker's Python ms (goal: p95 at most 15 ms), the round trips,
long tasks, and the share read exactly. ``--numbers 0`` skips it.

Goals: medians over runs (ratios are ours' median / bare's median, and the per-run paired ratios
are shown beside them); "worst run" is shown for every goal. ``--runs``/``--throttle-runs`` below
the defaults, or a link other than the goal's, are marked in the table.

The bench waits for ready on a console message from the init script, not with Playwright's
``wait_for_function``, so nothing else runs in the page while it boots.

Where it lives: this file reads the command line and prints and writes the results;
``bench.page_visit`` drives the browser and measures a visit (the scripts it runs in the page are
``bench/pages/probe/*.js``); ``bench.page_inside`` runs and pools the inside phase;
``bench.page_report`` turns the runs into rows, ratios and goals; ``bench.page_tables`` prints the
tables.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.browser import VIEWPORT, drawings
from bench.common import machine_info, write_json
from bench.page_inside import INSIDE_VIEWPORT, QUICK_INSIDE_DRAWINGS, inside_phase, progress
from bench.page_number import (
    NUMBER_DIGITS,
    NUMBER_SEED,
    QUICK_NUMBERS,
    five_digit_numbers,
    number_phase,
    number_progress,
)
from bench.page_report import GOAL_LINK, PAGES, summarise
from bench.page_tables import format_report, print_notes
from bench.page_visit import LIVE_DRAWINGS, SETTLE_MS, THROTTLE_FLOOR, bare_web_root, run_page, run_throttled
from digitnet.sizes import CANVAS
from tools.cli import whole_number
from tools.harness import CHROMIUM, CHROMIUM_ARGS, Server
from tools.paths import BENCH_RESULTS, ROOT

DEFAULT_JSON = BENCH_RESULTS / "page.json"
DEFAULT_RUNS, DEFAULT_PREDICTIONS, DEFAULT_THROTTLE_RUNS = 5, 200, 3
QUICK_RUNS, QUICK_PREDICTIONS = 1, 20
DEFAULT_NUMBERS = 10


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench.page_bench",
        description="Boot time (also on a throttled link), bytes, long tasks, layout shift and prediction "
        "latency of the page in headless Chromium, against a bare page that only boots the "
        "stock Pyodide and NumPy in a module worker; prints every goal of 'Fast start' (met or "
        "not).",
    )
    p.add_argument(
        "--runs",
        type=whole_number(at_least=1),
        default=None,
        metavar="N",
        help=f"how many times to measure each page without throttling, each time with a fresh "
        f"browser and profile (a cold and a warm visit, then the predictions); the table "
        f"shows medians (default {DEFAULT_RUNS}, {QUICK_RUNS} with --quick)",
    )
    p.add_argument(
        "--predictions",
        type=whole_number(at_least=1),
        default=None,
        metavar="N",
        help=f"predictions per run on the warm page, each a different drawing, for the round-trip "
        f"times (default {DEFAULT_PREDICTIONS}, {QUICK_PREDICTIONS} with --quick)",
    )
    p.add_argument(
        "--inside-drawings",
        type=whole_number(at_least=0),
        default=None,
        metavar="N",
        help=f"drawings drawn with the mouse per state of the Inside view (closed, open) in each run's "
        f"inside phase, for the live readings; the --predictions drawings are also set with each "
        f"(default {LIVE_DRAWINGS}, {QUICK_INSIDE_DRAWINGS} with --quick; 0: no inside phase)",
    )
    p.add_argument(
        "--numbers",
        type=whole_number(at_least=0),
        default=None,
        metavar="N",
        help=f"{NUMBER_DIGITS}-digit numbers set and read in each run's number phase (default "
        f"{DEFAULT_NUMBERS}, {QUICK_NUMBERS} with --quick; 0: no number phase)",
    )
    p.add_argument(
        "--throttle-runs",
        type=whole_number(at_least=0),
        default=None,
        metavar="N",
        help=f"cold visits of each page on the throttled link (default {DEFAULT_THROTTLE_RUNS}: "
        f"a bare visit takes ~90 s there; 0 with --quick or --no-throttle)",
    )
    p.add_argument(
        "--no-throttle", action="store_true", help="skip the throttled runs (same as --throttle-runs 0)"
    )
    p.add_argument(
        "--down",
        type=whole_number(at_least=1),
        default=GOAL_LINK["down_bps"],
        metavar="BYTES_PER_S",
        help=f"throttled download speed (default {GOAL_LINK['down_bps']} = 1.6 Mbps, the goal's)",
    )
    p.add_argument(
        "--up",
        type=whole_number(at_least=1),
        default=GOAL_LINK["up_bps"],
        metavar="BYTES_PER_S",
        help=f"throttled upload speed (default {GOAL_LINK['up_bps']} = 750 kbps, the goal's)",
    )
    p.add_argument(
        "--latency",
        type=whole_number(at_least=0),
        default=GOAL_LINK["latency_ms"],
        metavar="MS",
        help=f"throttled latency (default {GOAL_LINK['latency_ms']} ms, the goal's)",
    )
    p.add_argument(
        "--json",
        type=Path,
        default=DEFAULT_JSON,
        metavar="PATH",
        help="where to write every per-run value, the medians, ratios and goals "
        "(default: bench/results/page.json)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke test: {QUICK_RUNS} run, {QUICK_PREDICTIONS} predictions, {QUICK_INSIDE_DRAWINGS} "
        "inside drawings, no throttled runs (unless --runs, --predictions, --inside-drawings or "
        "--throttle-runs say otherwise)",
    )
    return p


def load() -> float:
    return round(os.getloadavg()[0], 2)


def measure(
    pw,
    servers: dict[str, Server],
    n_runs: int,
    n_predictions: int,
    n_inside: int,
    n_numbers: int,
    n_throttled: int,
    link: dict,
    loads: list,
) -> tuple[list[dict], list[dict]]:
    """The unthrottled runs (ours: with the inside phase if n_inside, open first every other run),
    then the throttled ones (which page goes first alternates); -> (runs, throttled runs). Appends the
    load average after the unthrottled runs to loads."""
    shapes = drawings(n_predictions)
    live_shapes = drawings(n_inside)  # the first of shapes, as for the live readings
    runs: list[dict] = []
    throttled: list[dict] = []
    for i in range(n_runs):
        order = PAGES if i % 2 == 0 else PAGES[::-1]
        run: dict[str, Any] = {"run": i + 1, "order": list(order), "load_average_1min": load()}
        phases = {}
        if n_inside:
            open_first = i % 2 == 1
            phases["inside"] = lambda page, o=open_first: inside_phase(page, shapes, live_shapes, o)
        if n_numbers:
            phases["number"] = lambda page: number_phase(
                page, five_digit_numbers(n_numbers), five_digit_numbers(n_numbers, NUMBER_SEED + 1)
            )
        for page in order:
            ours = page == "ours"
            r = run[page] = run_page(
                pw, servers[page].url, n_predictions, shapes if ours else None, phases if ours else None
            )
            print(
                f"run {i + 1}/{n_runs} {page}: ready cold {r['cold']['ready_ms']:.0f} ms, "
                f"warm {r['warm']['ready_ms']:.0f} ms; round trip p50 "
                f"{r['predictions']['round_trip']['p50_ms']:.2f} ms"
                + (f"; {progress(r['inside'])}" if r.get("inside") else "")
                + (f"; {number_progress(r['number'])}" if r.get("number") else "")
                + f" (load {run['load_average_1min']})",
                flush=True,
            )
        runs.append(run)
    loads.append(("after unthrottled runs", load()))
    for i in range(n_throttled):
        order = PAGES if i % 2 == 0 else PAGES[::-1]
        run = {"run": i + 1, "order": list(order), "link": link, "load_average_1min": load()}
        for page in order:
            r = run[page] = run_throttled(pw, servers[page].url, link)
            print(
                f"throttled run {i + 1}/{n_throttled} {page}: ready cold {r['cold']['ready_ms']:.0f} ms "
                f"(link floor {r['cold']['link_floor_ms']:.0f} ms), "
                f"{r['cold']['wire_bytes'] / 1e6:.2f} MB on the wire "
                f"(load {run['load_average_1min']})",
                flush=True,
            )
        throttled.append(run)
    return runs, throttled


METHODS = {
    "ready": "MutationObserver on <html data-state> (init script), performance.now() from navigation start",
    "pad_usable": "first requestAnimationFrame with the pad in the DOM, checkVisibility(), non-zero box "
    "and a pointerdown listener added (wrapped EventTarget.prototype.addEventListener)",
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
    "inside": "ours, warm page, 1440x900: the Inside view closed and open (toggle clicked from a script; "
    "order alternating by run), the same drawings drawn with the mouse (live) and set (settled) in "
    "each; round trips, Python ms, digitApp.insideDrawTimes and longtask entries between marks at "
    "each stretch's start and end (performance.now())",
    "caching": "tools.serve: static/pyodide/<folder>/ immutable (ours: <tag>/, bare: stock/), the rest "
    "no-cache; pre-compressed .br/.gz siblings sent with Content-Encoding (stock/ has none)",
}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.no_throttle and args.throttle_runs:
        parser.error("--no-throttle and --throttle-runs N contradict each other")
    n_runs = args.runs or (QUICK_RUNS if args.quick else DEFAULT_RUNS)
    n_predictions = args.predictions or (QUICK_PREDICTIONS if args.quick else DEFAULT_PREDICTIONS)
    n_inside = (
        args.inside_drawings
        if args.inside_drawings is not None
        else QUICK_INSIDE_DRAWINGS
        if args.quick
        else LIVE_DRAWINGS
    )
    n_numbers = args.numbers if args.numbers is not None else QUICK_NUMBERS if args.quick else DEFAULT_NUMBERS
    n_throttled = (
        args.throttle_runs
        if args.throttle_runs is not None
        else 0
        if args.quick or args.no_throttle
        else DEFAULT_THROTTLE_RUNS
    )
    link = {"down_bps": args.down, "up_bps": args.up, "latency_ms": args.latency}
    if not os.access(CHROMIUM, os.X_OK):
        print(
            f"error: {CHROMIUM} is missing (bash scripts/setup.sh --test installs Debian's chromium)",
            file=sys.stderr,
        )
        return 2
    if (
        not (ROOT / "static" / "pyodide" / "runtime.mjs").is_file()
        or not (ROOT / "static" / "pyodide" / "stock" / "pyodide.mjs").is_file()
    ):
        print(
            "error: static/pyodide/ (runtime.mjs, stock/) is missing: run bash scripts/setup.sh "
            "(or python -m tools.assets)",
            file=sys.stderr,
        )
        return 2
    from playwright.sync_api import sync_playwright

    machine = machine_info()
    loads = [("start", load())]
    print(
        f"machine: {machine['cpu']}, {machine['usable_cores']} usable cores, "
        f"load average {machine['load_average_1min_at_start']}; {n_runs} run(s), {n_predictions} "
        f"predictions each; inside phase: {n_inside} drawing(s) drawn per view state; {n_numbers} "
        f"{NUMBER_DIGITS}-digit number(s); {n_throttled} "
        "throttled run(s)",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="page-bench-") as tmp:
        servers: dict[str, Server] = {}
        try:
            servers["ours"] = Server()
            servers["bare"] = Server(bare_web_root(Path(tmp)))
            with sync_playwright() as pw:
                runs, throttled = measure(
                    pw, servers, n_runs, n_predictions, n_inside, n_numbers, n_throttled, link, loads
                )
        finally:
            for s in servers.values():
                s.stop()
    loads.append(("end", load()))
    machine["load_average_1min_at_end"] = loads[-1][1]
    machine["load_average_1min"] = dict(loads)
    machine["load_average_1min_per_run"] = [r["load_average_1min"] for r in runs]
    machine["load_average_1min_per_throttled_run"] = [r["load_average_1min"] for r in throttled]
    machine["browser"] = runs[0]["ours"]["cold"]["user_agent"]

    summary = summarise(runs, throttled, link)
    report = format_report(summary, n_runs, n_throttled, link)
    print()
    print(report)
    print_notes(summary, machine, loads, throttled)
    problems = [
        f"{k}: {n} {what}"
        for rows in (summary["rows"], summary["throttled_rows"])
        for k, row in rows.items()
        for what in ("non_local", "failed", "errors", "not_throttled")
        for n in [row[what]]
        if n
    ]
    for p in problems:
        print(f"problem: {p}", file=sys.stderr)
    write_json(
        args.json,
        {
            "machine": machine,
            "config": {
                "runs": n_runs,
                "predictions": n_predictions,
                "inside_drawings": n_inside,
                "inside_viewport": INSIDE_VIEWPORT,
                "numbers": n_numbers,
                "throttle_runs": n_throttled,
                "link": link,
                "goal_link": GOAL_LINK,
                "quick": args.quick,
                "settle_ms": SETTLE_MS,
                "chromium": CHROMIUM,
                "chromium_args": CHROMIUM_ARGS,
                "viewport": VIEWPORT,
                "bare_predict_side": CANVAS,
            },
            "methods": METHODS,
            **summary,
            "problems": problems,
            "runs": runs,
            "throttled_runs": throttled,
            "table": report,
        },
    )
    print(f"results written to {args.json}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
