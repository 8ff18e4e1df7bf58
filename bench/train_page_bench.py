"""Train one here, measured in the page: a 784-128-10 network trained from scratch in headless Chromium
with the defaults (``digitnet.scratch.Settings``), against the same code in CPython on one BLAS thread;
the pad's readings and the main thread while it trains; every goal of issue #24 in one table.

    .venv/bin/python -m bench.train_page_bench              # the default run (~1-2 min)
    .venv/bin/python -m bench.train_page_bench --quick      # smoke test: 1 epoch

One run: the project's own server (``tools.harness.Server``), Debian's Chromium (headless, every host
but 127.0.0.1 unresolvable), a fresh context, the page at ``/``. Once the pad is ready:

1. ``--idle-drawings`` drawings are read with nothing training (``digitApp.setStrokes``, ``whenIdle``:
   settled readings by the pad's worker): the round trips' baseline;
2. the "Train your own" card is opened (``train-open``: its worker boots its own Pyodide and loads
   ``static/data/mnist.npz``), hidden 128 chosen, the rest left at the card's defaults, and Start
   pressed (``--quick``: 1 epoch); ``--via trainer`` (or a page without the card) drives the card's
   client ``static/js/trainer.js`` directly from ``bench/pages/train/start.js`` instead;
3. while it trains, drawings are read one every ``--gap-ms`` (a person drawing now and then), until
   the run is done.

Measured in the page, from the moment the "start" message is posted to the training worker (Start),
by an init script that wraps ``Worker`` (``bench/pages/train/init.js``): each epoch's test accuracy
with its time since Start; the progress messages' ``seen`` (images trained on), ``elapsedMs``
(training time, pauses left out), ``python_ms`` (the worker's ``TrainSession.step`` calls) and
``heapBytes`` (the worker's WebAssembly memory, ``pyodide._module.HEAP8.length``;
``performance.measureUserAgentSpecificMemory`` needs a cross-origin isolated page, which ours is
not: the JSON says so when it is missing). The round trips are ``digitApp.predictTimes`` (request
posted -> answer back); long tasks come from the benches' ``bench/pages/probe/init.js``
(``PerformanceObserver`` ``longtask``), those overlapping Start -> done.

CPython: after the browser closes, the same ``digitnet.train_session.TrainSession`` on the same
mnist.npz bytes and settings, stepped in the worker's slices, under ``threadpoolctl`` limited to one
BLAS thread (the page's WebAssembly has one): images per second of Python compute on both sides, and
the ratio page / CPython.

Goals: >= 95% test accuracy within 20 s of Start and >= 97% within 60 s; the worker's WebAssembly
heap <= 400 MB; the pad's round trip p95 <= 20 ms while training; no main-thread task over 50 ms
while training. Exit status 1 when something went wrong (a page error, a run that did not finish),
not when a goal is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench.browser import BOOT_TIMEOUT_MS, GOAL_LONG_TASK_MS, INIT_JS, VIEWPORT, drawings, open_ready
from bench.common import fmt, format_table, machine_info, ratio, write_json
from tools.cli import whole_number
from tools.harness import CHROMIUM, CHROMIUM_ARGS, Server
from tools.paths import BENCH_RESULTS, ROOT, STATIC

DEFAULT_JSON = BENCH_RESULTS / "train_page.json"
TRAIN_DIR = Path(__file__).resolve().parent / "pages" / "train"
MNIST_NPZ = STATIC / "data" / "mnist.npz"

SETTINGS = {"hidden": [128]}  # 784-128-10, the rest the defaults of digitnet.scratch.Settings
QUICK_SETTINGS = {"hidden": [128], "epochs": 1}
SLICE_MS = 50.0  # the worker's TrainSession.step(ms) (static/js/train-worker.js SLICE_MS)
GOALS_ACCURACY = ((0.95, 20_000.0), (0.97, 60_000.0))  # (test accuracy, within ms of Start)
GOAL_HEAP_BYTES = 400e6
GOAL_ROUND_TRIP_P95_MS = 20.0
TRAIN_TIMEOUT_MS = 600_000


# ----------------------------------------------------------------------------- pure functions


def time_to(epochs: Sequence[dict], accuracy: float, key: str = "sinceStartMs") -> float | None:
    """The ``key`` time of the first epoch whose test accuracy reached ``accuracy``, or None."""
    return next((e[key] for e in epochs if e["accuracy"] >= accuracy), None)


def percentile(values: Sequence[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if len(values) else None


def per_second(count: float | None, ms: float | None) -> float | None:
    """count / (ms / 1000), or None when either is missing (or ms is 0)."""
    return count * 1000.0 / ms if count is not None and ms else None


def overlapping(tasks: Sequence[dict], start: float, end: float) -> list[dict]:
    """The tasks ({start, duration} ms) that overlap [start, end]."""
    return [t for t in tasks if t["start"] <= end and t["start"] + t["duration"] >= start]


def goal(name: str, value: float | None, limit: float, unit: str, at_least: bool = False) -> dict:
    """value <= limit (>= with at_least); a missing value is not met."""
    met = value is not None and (value >= limit if at_least else value <= limit)
    return {
        "goal": name,
        "value": value,
        "limit": limit,
        "unit": unit,
        "op": ">=" if at_least else "<=",
        "met": met,
    }


def summarise(page: dict, cpython: dict | None) -> dict:
    """The figures of one run (page: what ``run_page`` measured; cpython: ``run_cpython``'s) and its goals."""
    epochs, done = page["epochs"], page["done"] or {}
    seen, python_ms = done.get("seen"), sum(p["pythonMs"] or 0 for p in page["progress"])
    heap = max((p["heapBytes"] or 0 for p in page["progress"]), default=None)
    trips = page["round_trips_training"]
    row = {
        "epochs": len(epochs),
        "final_accuracy": epochs[-1]["accuracy"] if epochs else None,
        "diverged": done.get("diverged"),
        "start_to_done_ms": done.get("sinceStartMs"),
        "training_ms": done.get("elapsedMs"),
        "seen": seen,
        "python_ms": python_ms or None,
        "images_per_s_python": per_second(seen, python_ms),
        "images_per_s_wall": per_second(seen, done.get("sinceStartMs")),
        "cpython_images_per_s": cpython["images_per_s"] if cpython else None,
        "heap_bytes_max": heap,
        "round_trip_p50_ms": percentile(trips, 50),
        "round_trip_p95_ms": percentile(trips, 95),
        "round_trips": len(trips),
        "idle_round_trip_p95_ms": percentile(page["round_trips_idle"], 95),
        "long_tasks": len(page["long_tasks"]),
        "long_task_max_ms": max((t["duration"] for t in page["long_tasks"]), default=0.0),
    }
    row["page_vs_cpython"] = ratio(row["images_per_s_python"], row["cpython_images_per_s"])
    goals = [
        goal(f"test accuracy >= {a:.0%} within {ms / 1000:g} s of Start", time_to(epochs, a), ms, "ms")
        for a, ms in GOALS_ACCURACY
    ]
    goals += [
        goal("the worker's WebAssembly heap", heap, GOAL_HEAP_BYTES, "bytes"),
        goal("pad round trip p95 while training", row["round_trip_p95_ms"], GOAL_ROUND_TRIP_P95_MS, "ms"),
        goal("longest main-thread task while training", row["long_task_max_ms"], GOAL_LONG_TASK_MS, "ms"),
    ]
    if not page["long_tasks_measured"]:
        goals[-1]["value"], goals[-1]["met"] = None, False
    return {"rows": row, "goals": goals}


def show(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "bytes":
        return f"{value / 1e6:.0f} MB"
    if unit == "ms" and value >= 1000:
        return f"{value / 1000:.1f} s"
    return f"{value:.1f} ms" if unit == "ms" else f"{value:g}"


def format_report(summary: dict, page: dict, cpython: dict | None) -> str:
    row = summary["rows"]
    cpy_epochs = {e["epoch"]: e for e in (cpython or {}).get("epochs", [])}
    epochs = format_table(
        ["epoch", "test accuracy", "since Start", "training time", "CPython accuracy", "CPython Python time"],
        [
            [
                str(e["epoch"]),
                fmt(e["accuracy"], ".2%"),
                fmt(e["sinceStartMs"], ".1f", " s", scale=1000),
                fmt(e["elapsedMs"], ".1f", " s", scale=1000),
                fmt(c.get("accuracy"), ".2%"),
                fmt(c.get("python_ms"), ".1f", " s", scale=1000),
            ]
            for e in page["epochs"]
            for c in [cpy_epochs.get(e["epoch"], {})]
        ],
    )
    speed = format_table(
        ["images per second", "page", "CPython (1 BLAS thread)", "page / CPython"],
        [
            [
                "Python compute (TrainSession.step calls)",
                fmt(row["images_per_s_python"], ",.0f"),
                fmt(row["cpython_images_per_s"], ",.0f"),
                fmt(row["page_vs_cpython"], ".2f", "x"),
            ],
            ["wall, Start -> done", fmt(row["images_per_s_wall"], ",.0f"), "", ""],
        ],
    )
    goals = format_table(
        ["goal", "measured", "limit", "met?"],
        [
            [
                g["goal"],
                show(g["value"], g["unit"]),
                f"{g['op']} {show(g['limit'], g['unit'])}",
                "met" if g["met"] else "NOT met",
            ]
            for g in summary["goals"]
        ],
    )
    met = sum(g["met"] for g in summary["goals"])
    diverged = f"; diverged: {row['diverged']}" if row["diverged"] else ""
    return "\n".join(
        [
            f"Settings {json.dumps(page['settings'])}; {row['epochs']} epoch(s), final test accuracy "
            f"{fmt(row['final_accuracy'], '.2%')}{diverged}; Start -> done "
            f"{fmt(row['start_to_done_ms'], '.1f', ' s', scale=1000)}",
            epochs,
            "",
            speed,
            "",
            f"pad while training: {row['round_trips']} readings, round trip p50 "
            f"{fmt(row['round_trip_p50_ms'], '.1f')} ms, p95 {fmt(row['round_trip_p95_ms'], '.1f')} ms "
            f"(idle p95 {fmt(row['idle_round_trip_p95_ms'], '.1f')} ms); {row['long_tasks']} long task(s), "
            f"longest {fmt(row['long_task_max_ms'], '.0f')} ms",
            "",
            "goals:",
            goals,
            f"{met} of {len(summary['goals'])} goals met.",
        ]
    )


# ----------------------------------------------------------------------------- measuring


def script(name: str) -> str:
    return (TRAIN_DIR / name).read_text()


def start_with_card(page, settings: dict) -> None:
    """Open the "Train your own" card and press Start with ``settings``' hidden layers and epochs (the
    rest: the card's defaults), as a person would."""
    page.get_by_test_id("train-open").click()
    page.wait_for_function("() => __train.dataReady || __train.errors.length", timeout=BOOT_TIMEOUT_MS)
    page.get_by_test_id("train-hidden").select_option("-".join(str(h) for h in settings["hidden"]))
    if "epochs" in settings:
        page.get_by_test_id("train-epochs").fill(str(settings["epochs"]))
    page.get_by_test_id("train-start").click()


def run_page(browser, url: str, settings: dict, idle_drawings: int, gap_ms: int, via: str) -> dict:
    """One run in a fresh context: idle readings, open the training, train while drawing. Raw figures.
    via: "card" (the page's "Train your own" card, clicked) or "trainer" (static/js/trainer.js driven
    by bench/pages/train/start.js; also what "card" falls back to on a page without the card)."""
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(INIT_JS)
    context.add_init_script(script("init.js"))
    errors: list[str] = []
    try:
        offsite: list[str] = []
        context.on("request", lambda r: r.url.startswith((url, "data:", "blob:")) or offsite.append(r.url))
        page = open_ready(context, url, errors)
        draw = script("draw.js")
        idle = page.evaluate(
            draw, {"drawings": drawings(idle_drawings, 1), "gapMs": gap_ms, "stopAtDone": False}
        )
        if via == "card" and page.get_by_test_id("train-open").count():
            start_with_card(page, settings)
        else:
            via = "trainer"
            page.evaluate(script("start.js"), settings)
        page.wait_for_function("() => __train.started || __train.errors.length", timeout=BOOT_TIMEOUT_MS)
        trips: list[float] = []
        deadline = time.monotonic() + TRAIN_TIMEOUT_MS / 1000
        seed = 2
        while not page.evaluate("() => Boolean(__train.done || __train.errors.length)"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the training run did not end within {TRAIN_TIMEOUT_MS / 1000:g} s")
            trips += page.evaluate(
                draw, {"drawings": drawings(10, seed), "gapMs": gap_ms, "stopAtDone": True}
            )
            seed += 1
        t = page.evaluate(script("result.js"))
        memory = page.evaluate(script("memory.js"))
    finally:
        context.close()
    if t["errors"]:
        raise RuntimeError(f"the training run failed: {t['errors']}")
    start, end = t["startAt"], t["doneAt"]
    return {
        "via": via,
        "settings": (t["started"] or {}).get("settings", settings),
        "data_ready": t["dataReady"],
        "started": t["started"],
        "open_ms": t["dataReadyAt"] - t["initAt"],
        "epochs": t["epochs"],
        "progress": t["progress"],
        "done": t["done"],
        "round_trips_idle": idle,
        "round_trips_training": trips,
        "long_tasks_measured": t["longTaskSupported"],
        "long_tasks": [
            {**task, "sinceStartMs": task["start"] - start}
            for task in overlapping(t["longTasks"], start, end)
        ],
        "memory": memory,
        "offsite_requests": offsite,
        "errors": errors,
    }


def run_cpython(settings: dict, threads: int = 1) -> dict:
    """The same TrainSession in CPython on the same bytes, in the worker's slices, one BLAS thread."""
    from threadpoolctl import threadpool_limits

    from digitnet.train_session import TrainSession

    session = TrainSession()
    json.loads(session.load_data(MNIST_NPZ.read_bytes()))
    epochs, python_ms = [], 0.0
    with threadpool_limits(limits=threads):
        t = time.perf_counter()
        json.loads(session.start(json.dumps(settings)))
        python_ms += 1000 * (time.perf_counter() - t)
        while True:
            t = time.perf_counter()
            p = json.loads(session.step(SLICE_MS))
            python_ms += 1000 * (time.perf_counter() - t)
            for i in range(len(epochs), len(p["accuracy"])):
                epochs.append({"epoch": i + 1, "accuracy": p["accuracy"][i], "python_ms": python_ms})
            if p["done"] or p["diverged"]:
                break
    return {
        "threads": threads,
        "epochs": epochs,
        "seen": p["seen"],
        "python_ms": python_ms,
        "images_per_s": per_second(p["seen"], python_ms),
        "diverged": p["diverged"],
        "time_to": {f"{a:.2f}": time_to(epochs, a, "python_ms") for a, _ in GOALS_ACCURACY},
    }


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench.train_page_bench",
        description="Train 784-128-10 from scratch in headless Chromium with the defaults and measure: test "
        "accuracy by time since Start, images/s against the same code in CPython (one BLAS thread), the "
        "worker's WebAssembly heap, the pad's round trips and main-thread long tasks while it trains.",
    )
    p.add_argument("--quick", action="store_true", help="smoke test: 1 epoch")
    p.add_argument(
        "--idle-drawings",
        type=whole_number(at_least=0),
        default=20,
        metavar="N",
        help="drawings read before training, the round trips' baseline (default 20)",
    )
    p.add_argument(
        "--gap-ms",
        type=whole_number(at_least=0),
        default=100,
        metavar="MS",
        help="pause between two drawings read while training (default 100)",
    )
    p.add_argument(
        "--via",
        choices=("card", "trainer"),
        default="card",
        help="start training with the page's card (default; the trainer when the page has none) or "
        "with static/js/trainer.js directly",
    )
    p.add_argument("--no-cpython", action="store_true", help="skip the CPython side")
    p.add_argument(
        "--json",
        type=Path,
        default=DEFAULT_JSON,
        metavar="PATH",
        help="where to write every figure (default: bench/results/train_page.json)",
    )
    return p


def preflight() -> str | None:
    """Why the bench cannot run here, or None."""
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is missing (bash scripts/setup.sh --test installs Debian's chromium)"
    if not (ROOT / "static" / "pyodide" / "runtime.mjs").is_file():
        return "static/pyodide/ is missing: run bash scripts/setup.sh (or python -m tools.assets)"
    if not MNIST_NPZ.is_file():
        return "static/data/mnist.npz is missing: run bash scripts/setup.sh (or python -m training.page_data)"
    return None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    why = preflight()
    if why:
        print(f"error: {why}", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    from tools import package

    package.ensure()  # the page runs the py/digitnet/ this process imports
    settings = QUICK_SETTINGS if args.quick else SETTINGS
    machine = machine_info()
    print(
        f"machine: {machine['cpu']}, {machine['usable_cores']} usable cores, load average "
        f"{machine['load_average_1min_at_start']}; settings {json.dumps(settings)}",
        flush=True,
    )
    server = Server()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                page = run_page(browser, server.url, settings, args.idle_drawings, args.gap_ms, args.via)
            finally:
                browser.close()
    finally:
        server.stop()
    print(f"page: {len(page['epochs'])} epoch(s) trained; CPython next", flush=True)
    cpython = None if args.no_cpython else run_cpython(page["settings"])  # the settings the page ran
    machine["load_average_1min_at_end"] = round(os.getloadavg()[0], 2)
    machine["browser"] = CHROMIUM
    summary = summarise(page, cpython)
    report = format_report(summary, page, cpython)
    print()
    print(report)
    problems = [f"page error: {e}" for e in page["errors"]]
    problems += [f"request off-site: {u}" for u in page["offsite_requests"]]
    if not page["done"]:
        problems.append("the training run did not finish")
    for p in problems:
        print(f"problem: {p}", file=sys.stderr)
    write_json(
        args.json,
        {
            "machine": machine,
            "config": {
                "settings": settings,
                "via": page["via"],
                "quick": args.quick,
                "gap_ms": args.gap_ms,
                "slice_ms": SLICE_MS,
            },
            **summary,
            "page": page,
            "cpython": cpython,
            "problems": problems,
            "table": report,
        },
    )
    print(f"results written to {args.json}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
