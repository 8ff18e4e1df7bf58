"""bench.page_bench's tables: boot (unthrottled and throttled), the worker's stages, the prediction
round trips, the Inside view closed against open, the goals, and the notes under them
(``bench.page_report`` sums the runs up and judges the goals; this only prints them)."""

from __future__ import annotations

from bench.common import fmt, format_table
from bench.page_report import PAGES, STAGE_ORDER, VISITS, show


def format_number(number: dict | None) -> str:
    """The number phase in one line (``bench.page_number.summarise_number``)."""
    if not number:
        return "Numbers: not measured (--numbers 0)."
    py, rt, right = number["python"], number["round_trip"], number["read_exactly"]
    written = number.get("written_python") or {}
    return (
        f"{number['digits']}-digit numbers drawn apart, settled ({number['numbers']} a run, "
        f"{number['runs']} run(s)): Python in the worker p50 {fmt(py['p50_ms'], '.1f', ' ms')}, p95 "
        f"{fmt(py['p95_ms'], '.1f', ' ms')}; round trip p95 {fmt(rt['p95_ms'], '.1f', ' ms')}; "
        f"{number['long_tasks']} long task(s); "
        f"{fmt(None if right is None else 100 * right, '.0f', '%')} read exactly; written digit by "
        f"digit, the last reading's Python p95 {fmt(written.get('p95_ms'), '.1f', ' ms')}"
    )


def format_inside(inside: dict | None) -> list[str]:
    """The Inside view's phase, closed against open, per kind of reading (pooled over runs)."""
    if not inside:
        return ["Inside the network view: not measured (--inside-drawings 0)."]
    viewport = inside.get("viewport") or {}
    kinds = {"live": "while drawing (one view)", "settled": "pen up (nine views)"}
    return [
        f"Inside the network view, closed against open (the same warm page and drawings, "
        f"{viewport.get('width', '—')}x{viewport.get('height', '—')} window; pooled over "
        f"{inside['runs']} run(s)):",
        format_table(
            [
                "view, readings",
                "n",
                "p50 ms",
                "p95 ms",
                "max ms",
                "Python p50",
                "Python p95",
                "messaging p50",
                "messaging p95",
                "drawing p50",
                "drawing p95",
                "main thread/reading",
                "layout+style",
                "long tasks",
                "longest ms",
            ],
            [
                [
                    f"{state}, {kinds[kind]}",
                    str(s["round_trip"]["n"]),
                    fmt(s["round_trip"]["p50_ms"], ".2f"),
                    fmt(s["round_trip"]["p95_ms"], ".2f"),
                    fmt(s["round_trip"]["max_ms"], ".2f"),
                    fmt(s["python"]["p50_ms"], ".2f"),
                    fmt(s["python"]["p95_ms"], ".2f"),
                    fmt(s["messaging"]["p50_ms"], ".2f"),
                    fmt(s["messaging"]["p95_ms"], ".2f"),
                    fmt(s["draw"]["p50_ms"], ".2f"),
                    fmt(s["draw"]["p95_ms"], ".2f"),
                    fmt(m["task"], ".2f"),
                    fmt(m["layout"] + m["style"] if m["layout"] is not None else None, ".2f"),
                    str(s["long_tasks"]),
                    fmt(s["long_task_max_ms"] or None, ".0f"),
                ]
                for kind in kinds
                for state in ("closed", "open")
                for s in [inside[state][kind]]
                for m in [s["main_thread_per_reading_ms"]]
            ],
        ),
        "(round trip = request posted -> answer received; Python = the worker's ms, with the view open "
        "Session.inside too; messaging = round trip - Python; drawing = digitApp.insideDrawTimes, the "
        "script ms the view spent on a reading, none while closed; main thread/reading: the main "
        "thread's busy ms over the stretch (CDP Performance.getMetrics, thread time: script, style, "
        "layout, paint...) over its readings, of which layout+style; long tasks: over 50 ms, between "
        "the stretch's marks)",
    ]


def verdict(g: dict) -> str:
    """A goal's "met?" cell: met, NOT met, or a dash when it was not measured."""
    return "met" if g["met"] else "—" if g["value"] is None else "NOT met"


def best_worst(g: dict) -> str:
    """A goal's "runs (best-worst)" cell."""
    if g["best_run"] is None:
        return "—"
    return f"{show(g['best_run'], g['unit'])}-{show(g['worst_run'], g['unit'])}"


def format_report(summary: dict, n_runs: int, n_throttled: int, link: dict) -> str:
    rows, trows = summary["rows"], summary["throttled_rows"]
    preds, ratios = summary["predictions"], summary["ratios"]
    boot = format_table(
        [
            "page, visit",
            "ready ms",
            "min-max",
            "pad usable ms",
            "CLS",
            "long tasks",
            "longest ms",
            "wire MB",
            "decoded MB",
            "requests",
            "cache/304/net/SW",
            "non-local",
            "offline ms",
        ],
        [
            [
                f"{p}, {v}",
                fmt(r["ready_ms"], ".0f"),
                f"{r['ready_ms_min']:.0f}-{r['ready_ms_max']:.0f}",
                fmt(r["pad_usable_ms"], ".0f"),
                fmt(r["cls_boot"], ".3f"),
                fmt(r["long_task_count"], "g"),
                fmt(r["long_task_max_ms"], ".0f"),
                fmt(r["wire_bytes"], ".2f", scale=1e6),
                fmt(r["decoded_bytes"], ".2f", scale=1e6),
                fmt(r["requests"], "g"),
                f"{r['cache']:g}/{r['revalidated']:g}/{r['network']:g}/{r['service_worker']:g}",
                str(r["non_local"]),
                fmt(r["offline_ms"], ".0f"),
            ]
            for v in VISITS
            for p in PAGES
            for r in [rows[f"{p}_{v}"]]
        ],
    )
    lines = [f"Boot, no throttling (medians of {n_runs} run(s); times from navigation start):", boot, ""]
    link_text = (
        f"{link['down_bps']} B/s = {link['down_bps'] * 8 / 1e6:g} Mbps down, "
        f"{link['up_bps'] * 8 / 1e3:g} kbps up, {link['latency_ms']:g} ms latency"
    )
    if trows:
        lines += [
            f"Boot, throttled link ({link_text}; medians of {n_throttled} run(s), cold visits):",
            format_table(
                [
                    "page, visit",
                    "ready ms",
                    "min-max",
                    "link floor ms",
                    "pad usable ms",
                    "CLS",
                    "long tasks",
                    "longest ms",
                    "wire MB",
                    "requests",
                    "non-local",
                    "offline ms",
                ],
                [
                    [
                        f"{p}, cold",
                        fmt(r["ready_ms"], ".0f"),
                        f"{r['ready_ms_min']:.0f}-{r['ready_ms_max']:.0f}",
                        fmt(r["link_floor_ms"], ".0f"),
                        fmt(r["pad_usable_ms"], ".0f"),
                        fmt(r["cls_boot"], ".3f"),
                        fmt(r["long_task_count"], "g"),
                        fmt(r["long_task_max_ms"], ".0f"),
                        fmt(r["wire_bytes"], ".2f", scale=1e6),
                        fmt(r["requests"], "g"),
                        str(r["non_local"]),
                        fmt(r["offline_ms"], ".0f"),
                    ]
                    for p in PAGES
                    for r in [trows[f"{p}_cold"]]
                ],
            ),
            "(link floor: the bytes fetched before ready at the link's download speed)",
            "",
        ]
    else:
        lines += ["Boot, throttled link: not measured (--no-throttle, --quick or --throttle-runs 0).", ""]
    lines.append(
        f"ours/bare: ready cold {fmt(ratios['ready_cold'], '.2f', 'x')}, "
        f"warm {fmt(ratios['ready_warm'], '.2f', 'x')}; "
        f"wire bytes cold {fmt(ratios['wire_cold'], '.2f', 'x')}; throttled: ready cold "
        f"{fmt(ratios['throttled_ready_cold'], '.2f', 'x')}, wire bytes cold "
        f"{fmt(ratios['throttled_wire_cold'], '.2f', 'x')}"
    )

    stages = summary["worker_stages_median_ms"]
    keys = [
        k
        for k in (
            "ours_cold",
            "ours_warm",
            "ours_cold_throttled",
            "bare_cold",
            "bare_warm",
            "bare_cold_throttled",
        )
        if k in stages
    ]
    seen = {name for k in keys for name in stages[k]}
    names = [n for n in STAGE_ORDER if n in seen] + sorted(seen - set(STAGE_ORDER))
    lines += [
        "",
        "In the worker: its own timings, median ms (ours: digitApp.timings, ready = since the page "
        "made the worker; bare: numpy = loadPackage + import numpy):",
        format_table(
            ["worker stages", *names],
            [[k.replace("_", ", "), *(fmt(stages[k].get(n), ".0f") for n in names)] for k in keys],
        ),
    ]

    labels = {
        "ours": "ours, pen up (nine views)",
        "ours_live": "ours, while drawing (one view)",
        "bare": "bare (np.frombuffer().sum())",
    }
    lines += [
        "",
        format_table(
            [
                "worker round trip",
                "n",
                "p50 ms",
                "p95 ms",
                "max ms",
                "Python p50",
                "Python p95",
                "messaging p50",
                "long tasks",
            ],
            [
                [
                    labels[p],
                    str(s["round_trip"]["n"]),
                    fmt(s["round_trip"]["p50_ms"], ".2f"),
                    fmt(s["round_trip"]["p95_ms"], ".2f"),
                    fmt(s["round_trip"]["max_ms"], ".2f"),
                    fmt(s["python"]["p50_ms"], ".2f"),
                    fmt(s["python"]["p95_ms"], ".2f"),
                    fmt(s["messaging"]["p50_ms"], ".2f"),
                    str(s["long_tasks"]),
                ]
                for p in ("ours_live", *PAGES)
                for s in [preds.get(p)]
                if s
            ],
        ),
    ]

    lines += ["", *format_inside(summary.get("inside")), "", format_number(summary.get("number"))]

    lines += [
        "",
        "goals:",
        format_table(
            ["goal", "ours", "bare", "value", "limit", "met?", "runs (best-worst)", "note"],
            [
                [
                    g["goal"],
                    show(g["ours"], g["of"]),
                    show(g["bare"], g["of"]),
                    show(g["value"], g["unit"]),
                    f"<= {show(g['limit'], g['unit'])}",
                    verdict(g),
                    best_worst(g),
                    g["note"] if g["value"] is not None else "not measured",
                ]
                for g in summary["goals"]
            ],
        ),
    ]
    met = sum(g["met"] for g in summary["goals"])
    lines.append(f"{met} of {len(summary['goals'])} goals met.")
    return "\n".join(lines)


def print_notes(summary: dict, machine: dict, loads: list, throttled: list[dict]) -> None:
    """What follows the tables: the service worker's offline caching, what the columns mean, the load."""
    for key in ("ours_cold", "ours_warm"):
        r = summary["rows"][key]
        if r["sw_fetches_after_ready"]:
            print(
                f"{key.replace('_', ', ')}: after ready the service worker fetched "
                f"{r['sw_fetches_after_ready']:g} files ({r['sw_transfer_after_ready_bytes'] / 1e6:.2f} MB "
                f"over HTTP, counted in wire bytes) to cache them for offline use; done at "
                f"{r['offline_ms']:.0f} ms"
            )
    print(
        "wire = Resource Timing transferSize (headers + body as sent, compressed where Content-Encoding "
        "applied) of everything the visit fetched over HTTP (page, worker, service worker); decoded = "
        "decodedBodySize; cache/304/net/SW = HTTP cache, revalidated, downloaded, answered by the service "
        "worker. Goals are judged on medians (ratios: of the medians); 'runs' shows the same figure's best "
        "and worst run."
    )
    per_throttled = (
        f", per throttled run {machine['load_average_1min_per_throttled_run']}" if throttled else ""
    )
    print(
        "Load average (1 min): "
        + ", ".join(f"{k} {v}" for k, v in loads)
        + f"; per run {machine['load_average_1min_per_run']}"
        + per_throttled
        + "."
    )
