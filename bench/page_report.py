"""bench.page_bench's report: the runs' visits and predictions summed up into table rows (medians over
runs), ratios ours/bare, the goals of "Fast start" judged on them, and the Inside view's goals (open
against closed; ``bench.page_inside`` pools its phase). ``bench.page_tables`` prints them."""

from __future__ import annotations

from collections.abc import Sequence

from bench.browser import GOAL_LONG_TASK_MS
from bench.common import median, ratio
from bench.page_inside import summarise_inside
from bench.page_number import NUMBER_DIGITS, summarise_number
from bench.page_visit import stats

PAGES = ("ours", "bare")
VISITS = ("cold", "warm")

# The goal's link: 1.6 Mbps down, 750 kbps up, 150 ms latency (CDP wants bytes per second).
GOAL_LINK = {"down_bps": 200_000, "up_bps": 93_750, "latency_ms": 150}

GOAL_READY_COLD_RATIO = 0.6
GOAL_READY_WARM_RATIO = 0.5
GOAL_THROTTLED_READY_RATIO = 0.6
GOAL_THROTTLED_WIRE_RATIO = 0.6
GOAL_P50_MS = 3.0
GOAL_P95_MS = 5.0
GOAL_PYTHON_P95_MS = 3.0
GOAL_PAD_MS = 300.0
GOAL_CLS = 0.02
# The Inside view open, on the readings made while drawing: the round trip's p95 at most 1.5x the
# view closed and at most 8 ms, no long task, and its drawing at most 4 ms of main thread a reading.
GOAL_INSIDE_RATIO = 1.5
GOAL_INSIDE_P95_MS = 8.0
GOAL_INSIDE_LONG_TASKS = 0
GOAL_INSIDE_DRAW_P95_MS = 4.0
# A five-digit number, settled: at most 15 ms of Python in the worker (p95), no long task.
GOAL_NUMBER_PYTHON_P95_MS = 15.0
GOAL_NUMBER_LONG_TASKS = 0

# The worker's timings, in this order when present (other keys it reports follow, sorted).
STAGE_ORDER = ("runtime", "numpy", "code", "model", "total", "ready")

ROW_KEYS = (
    "ready_ms",
    "pad_handlers_ms",
    "pad_usable_ms",
    "dom_content_loaded_ms",
    "first_contentful_paint_ms",
    "offline_ms",
    "long_task_count",
    "long_task_max_ms",
    "cls_boot",
    "cls_visit",
    "transfer_bytes",
    "wire_bytes",
    "encoded_bytes",
    "decoded_bytes",
    "requests",
    "cache",
    "revalidated",
    "network",
    "service_worker",
    "sw_requests",
    "sw_fetches_boot",
    "sw_fetches_after_ready",
    "sw_transfer_after_ready_bytes",
    "link_floor_ms",
)


def summarise_visits(visits: Sequence[dict]) -> dict:
    """One table row: medians over runs (long_task_max_ms: the median of each visit's longest task;
    the longest of all is long_task_worst_ms); problems summed over runs."""
    row = {k: median([v.get(k) for v in visits]) for k in ROW_KEYS}
    worst = [v["long_task_max_ms"] for v in visits if v["long_task_max_ms"] is not None]
    cls = [v["cls_boot"] for v in visits if v["cls_boot"] is not None]
    row.update(
        {
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
        }
    )
    return row


def summarise_predictions(preds: Sequence[dict]) -> dict:
    """Pooled over runs."""
    pooled = {k: [x for p in preds for x in p[f"{k}_ms"]] for k in ("round_trip", "python", "messaging")}
    return {
        **{k: stats(v) for k, v in pooled.items()},
        "long_tasks": sum(len(p["long_tasks"]) for p in preds),
        "long_task_max_ms": max((t["duration_ms"] for p in preds for t in p["long_tasks"]), default=0.0),
    }


def stage_names(visits: Sequence[dict]) -> list[str]:
    seen = {k for v in visits for k in (v["worker_timings"] or {})}
    return [k for k in STAGE_ORDER if k in seen] + sorted(seen - set(STAGE_ORDER))


def stage_medians(visits: Sequence[dict]) -> dict:
    """Median of each of the worker's timings (ms) over visits."""
    return {k: median([(v["worker_timings"] or {}).get(k) for v in visits]) for k in stage_names(visits)}


def goal(
    key: str,
    name: str,
    value: float | None,
    limit: float,
    unit: str,
    per_run: Sequence[float | None],
    ours: float | None = None,
    bare: float | None = None,
    of: str = "",
    note: str = "",
) -> dict:
    """A goal: value <= limit. value is a median (unit "ms" or "" for a plain number), or for unit "x"
    the ratio ours/bare of medians whose own unit is ``of`` ("ms" or "B"); per_run: the same figure run
    by run."""
    runs = [v for v in per_run if v is not None]
    if unit != "x":
        ours, of = value, unit
    return {
        "id": key,
        "goal": name,
        "value": value,
        "limit": limit,
        "unit": unit,
        "met": value is not None and value <= limit,
        "ours": ours,
        "bare": bare,
        "of": of,
        "per_run": list(per_run),
        "best_run": min(runs) if runs else None,
        "worst_run": max(runs) if runs else None,
        "note": note,
    }


def latency_goals(
    key: str, what: str, pooled: dict | None, per_run: Sequence[dict], bare: dict
) -> list[dict]:
    """The three prediction-latency goals for one kind of reading (pooled over runs; None: not
    measured)."""
    get = lambda s, k, q: s[k][q] if s else None  # noqa: E731
    return [
        goal(
            f"{name}_{key}",
            f"{label}, {what}",
            get(pooled, k, q),
            limit,
            "ms",
            [get(p, k, q) for p in per_run],
            bare=bare[k][q],
            note="pooled over runs",
        )
        for name, label, k, q, limit in (
            ("round_trip_p50", "prediction round trip p50", "round_trip", "p50_ms", GOAL_P50_MS),
            ("round_trip_p95", "prediction round trip p95", "round_trip", "p95_ms", GOAL_P95_MS),
            ("python_p95", "Python in the worker p95", "python", "p95_ms", GOAL_PYTHON_P95_MS),
        )
    ]


def inside_goals(inside: dict | None, phases: Sequence[dict]) -> list[dict]:
    """The Inside view's goals (``summarise_inside`` pooled over runs; None: not measured), judged on
    the live readings (made while drawing); the settled ones' figures are in the notes, for
    information. Per run: the same figure from each run's phase alone."""
    runs = [summarise_inside([p]) for p in phases]

    def p95(s: dict | None, state: str, kind: str = "live") -> float | None:
        return s[state][kind]["round_trip"]["p95_ms"] if s else None

    def over(s: dict | None, kind: str = "live") -> float | None:
        return ratio(p95(s, "open", kind), p95(s, "closed", kind))

    def tasks(s: dict | None, state: str = "open") -> int | None:
        return s[state]["live"]["long_tasks"] if s else None

    draw = inside["open"]["draw"] if inside else None
    settled = f"pen up (nine views), for information: {show(p95(inside, 'open', 'settled'), 'ms')} open, "
    settled += f"{show(p95(inside, 'closed', 'settled'), 'ms')} closed"
    return [
        goal(
            "inside_round_trip_ratio_live",
            "Inside view open / closed, round trip p95 while drawing (one view)",
            over(inside),
            GOAL_INSIDE_RATIO,
            "x",
            [over(r) for r in runs],
            note=f"{show(p95(inside, 'open'), 'ms')} open / {show(p95(inside, 'closed'), 'ms')} closed; "
            f"{settled} = {show(over(inside, 'settled'), 'x')}",
        ),
        goal(
            "inside_round_trip_p95_live",
            "Inside view open, round trip p95 while drawing (one view)",
            p95(inside, "open"),
            GOAL_INSIDE_P95_MS,
            "ms",
            [p95(r, "open") for r in runs],
            note=f"closed {show(p95(inside, 'closed'), 'ms')}; {settled}",
        ),
        goal(
            "inside_long_tasks_live",
            "long tasks over 50 ms while drawing, Inside view open",
            tasks(inside),
            GOAL_INSIDE_LONG_TASKS,
            "count",
            [tasks(r) for r in runs],
            note=(
                f"longest {show(inside['open']['live']['long_task_max_ms'] or None, 'ms')}; closed: "
                f"{tasks(inside, 'closed')}, pen up open: {inside['open']['settled']['long_tasks']}"
                if inside
                else ""
            ),
        ),
        goal(
            "inside_draw_p95",
            "Inside view drawing per reading p95 (main thread)",
            draw["p95_ms"] if draw else None,
            GOAL_INSIDE_DRAW_P95_MS,
            "ms",
            [r["open"]["draw"]["p95_ms"] for r in runs],
            note=f"digitApp.insideDrawTimes: its script (not the style, layout, paint after), n = {draw['n']}"
            if draw
            else "",
        ),
    ]


def number_goals(number: dict | None, phases: Sequence[dict]) -> list[dict]:
    """The number phase's goals (``summarise_number`` pooled over runs; None: not measured)."""
    runs = [summarise_number([p]) for p in phases]
    read = (
        f"{number['read_exactly']:.0%} read exactly" if number and number["read_exactly"] is not None else ""
    )
    return [
        goal(
            "number_python_p95",
            f"{NUMBER_DIGITS}-digit number, settled: Python in the worker p95",
            number["python"]["p95_ms"] if number else None,
            GOAL_NUMBER_PYTHON_P95_MS,
            "ms",
            [r["python"]["p95_ms"] for r in runs],
            note=f"round trip p95 {show(number['round_trip']['p95_ms'], 'ms')}; {read}" if number else "",
        ),
        goal(
            "number_written_python_p95",
            f"{NUMBER_DIGITS}-digit number written digit by digit, the last reading: Python p95",
            number["written_python"]["p95_ms"] if number and number.get("written_python") else None,
            GOAL_NUMBER_PYTHON_P95_MS,
            "ms",
            [(r.get("written_python") or {}).get("p95_ms") for r in runs],
            note="the other characters were read as they were written (digitnet.number.Kept)"
            if number
            else "",
        ),
        goal(
            "number_long_tasks",
            f"long tasks over 50 ms while reading {NUMBER_DIGITS}-digit numbers",
            number["long_tasks"] if number else None,
            GOAL_NUMBER_LONG_TASKS,
            "count",
            [r["long_tasks"] for r in runs],
            note=f"longest {show(number['long_task_max_ms'] or None, 'ms')}" if number else "",
        ),
    ]


def paired(runs: Sequence[dict], visit_kind: str, key: str) -> list[float | None]:
    """ours / bare of one figure, run by run (each run measures both pages back to back)."""
    return [ratio(r["ours"][visit_kind][key], r["bare"][visit_kind][key]) for r in runs]


def summarise(runs: Sequence[dict], throttled: Sequence[dict], link: dict) -> dict:
    rows = {f"{p}_{v}": summarise_visits([r[p][v] for r in runs]) for v in VISITS for p in PAGES}
    trows = (
        {f"{p}_cold": summarise_visits([r[p]["cold"] for r in throttled]) for p in PAGES} if throttled else {}
    )
    preds = {p: summarise_predictions([r[p]["predictions"] for r in runs]) for p in PAGES}
    lives = [r["ours"]["live"] for r in runs if r["ours"].get("live")]
    preds["ours_live"] = summarise_predictions(lives) if lives else None
    ratios = {
        f"ready_{v}": ratio(rows[f"ours_{v}"]["ready_ms"], rows[f"bare_{v}"]["ready_ms"]) for v in VISITS
    }
    ratios["wire_cold"] = ratio(rows["ours_cold"]["wire_bytes"], rows["bare_cold"]["wire_bytes"])
    get = lambda rs, k: rs.get(k) if rs else None  # noqa: E731
    ratios["throttled_ready_cold"] = ratio(
        get(trows.get("ours_cold"), "ready_ms"), get(trows.get("bare_cold"), "ready_ms")
    )
    ratios["throttled_wire_cold"] = ratio(
        get(trows.get("ours_cold"), "wire_bytes"), get(trows.get("bare_cold"), "wire_bytes")
    )
    ours_cold = [r["ours"]["cold"] for r in runs]
    per_pred = [r["ours"]["predictions"] for r in runs]
    oc, tc, bc, tbc = rows["ours_cold"], trows.get("ours_cold"), rows["bare_cold"], trows.get("bare_cold")
    link_text = (
        f"{link['down_bps'] * 8 / 1e6:g} Mbps down, {link['up_bps'] * 8 / 1e3:g} kbps up, "
        f"{link['latency_ms']:g} ms"
    )
    link_note = f"{len(throttled)} run{'s' if len(throttled) != 1 else ''}"
    if link != GOAL_LINK:
        link_note += "; NOT the goal's link"
    goals = [
        goal(
            "ready_cold",
            "ready, cold visit (ours/bare)",
            ratios["ready_cold"],
            GOAL_READY_COLD_RATIO,
            "x",
            paired(runs, "cold", "ready_ms"),
            oc["ready_ms"],
            bc["ready_ms"],
            "ms",
        ),
        goal(
            "ready_warm",
            "ready, warm visit (ours/bare)",
            ratios["ready_warm"],
            GOAL_READY_WARM_RATIO,
            "x",
            paired(runs, "warm", "ready_ms"),
            rows["ours_warm"]["ready_ms"],
            rows["bare_warm"]["ready_ms"],
            "ms",
        ),
        goal(
            "throttled_ready_cold",
            f"ready, cold, throttled {link_text} (ours/bare)",
            ratios["throttled_ready_cold"],
            GOAL_THROTTLED_READY_RATIO,
            "x",
            paired(throttled, "cold", "ready_ms"),
            get(tc, "ready_ms"),
            get(tbc, "ready_ms"),
            "ms",
            link_note,
        ),
        goal(
            "throttled_wire_cold",
            "bytes on the wire, cold, throttled (ours/bare)",
            ratios["throttled_wire_cold"],
            GOAL_THROTTLED_WIRE_RATIO,
            "x",
            paired(throttled, "cold", "wire_bytes"),
            get(tc, "wire_bytes"),
            get(tbc, "wire_bytes"),
            "B",
            link_note,
        ),
        *latency_goals("live", "while drawing (one view)", preds["ours_live"], lives, preds["bare"]),
        *latency_goals("settled", "pen up (nine views)", preds["ours"], per_pred, preds["bare"]),
        goal(
            "long_task_cold",
            "longest main-thread long task, cold",
            oc["long_task_max_ms"],
            GOAL_LONG_TASK_MS,
            "ms",
            [v["long_task_max_ms"] for v in ours_cold],
            bare=bc["long_task_max_ms"],
            note="0: none over 50 ms",
        ),
        goal(
            "pad_usable_cold",
            "pad usable, cold",
            oc["pad_usable_ms"],
            GOAL_PAD_MS,
            "ms",
            [v["pad_usable_ms"] for v in ours_cold],
        ),
        goal(
            "cls_boot_cold",
            "cumulative layout shift until ready, cold",
            oc["cls_boot"],
            GOAL_CLS,
            "",
            [v["cls_boot"] for v in ours_cold],
            bare=bc["cls_boot"],
        ),
    ]
    phases = [r["ours"]["inside"] for r in runs if r["ours"].get("inside")]
    inside = summarise_inside(phases)
    goals += inside_goals(inside, phases)
    number_phases = [r["ours"]["number"] for r in runs if r["ours"].get("number")]
    number = summarise_number(number_phases)
    goals += number_goals(number, number_phases)
    stages = {f"{p}_{v}": stage_medians([r[p][v] for r in runs]) for p in PAGES for v in VISITS}
    if throttled:
        stages.update(
            {f"{p}_cold_throttled": stage_medians([r[p]["cold"] for r in throttled]) for p in PAGES}
        )
    return {
        "rows": rows,
        "throttled_rows": trows,
        "predictions": preds,
        "inside": inside,
        "number": number,
        "ratios": ratios,
        "goals": goals,
        "worker_stages_median_ms": stages,
    }


def show(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "ms":
        return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"
    if unit == "B":
        return f"{value / 1e6:.2f} MB"
    if unit == "count":
        return f"{value:g}"
    return f"{value:.3f}"
