"""The teaching benchmark's verdict: the goals (the fine-tune's total in the page, the longest
main-thread task, forgetting on MNIST, the new triangles read as taught), the summary over runs
(medians of the times, the worst run for the rest, ratios to CPython) and the tables
``python -m bench.tune_bench`` prints and writes into its JSON.

Pure functions of the runs' figures, apart from the measuring (``bench.tune_page``,
``bench.tune_cpython``), so they can be checked on made-up runs.
"""

from __future__ import annotations

from collections.abc import Sequence

from bench.browser import GOAL_LONG_TASK_MS
from bench.common import fmt, format_table, median, ratio
from bench.tune_page import N_NEW, N_TAUGHT, TRIANGLE_LABEL

GOAL_TOTAL_MS = 5000.0
GOAL_FORGET_POINTS = 0.3
GOAL_PERSONAL_MIN = 8  # of N_NEW new triangles read as 4 after tuning


def goal(
    key: str,
    name: str,
    value: float | None,
    limit: float,
    unit: str,
    per_run: Sequence[float | None],
    at_least_: bool = False,
    compared: str = "",
    note: str = "",
) -> dict:
    """A goal: value <= limit (or >= with at_least_); per_run: the same figure run by run."""
    runs = [v for v in per_run if v is not None]
    met = value is not None and (value >= limit if at_least_ else value <= limit)
    best, worst = (max, min) if at_least_ else (min, max)
    return {
        "id": key,
        "goal": name,
        "value": value,
        "limit": limit,
        "unit": unit,
        "op": ">=" if at_least_ else "<=",
        "met": met,
        "per_run": list(per_run),
        "best_run": best(runs) if runs else None,
        "worst_run": worst(runs) if runs else None,
        "compared": compared,
        "note": note,
    }


def summarise(runs: Sequence[dict]) -> dict:
    """Medians over runs of the times, the worst run for the other goals, ratios to CPython."""
    page = [r["page"] for r in runs]
    tune = [p["tune"] for p in page]
    mnist = [r["mnist"] for r in runs]
    row = {
        "total_ms": median([t["total"] for t in tune]),
        "python_ms": median([t["python"] for t in tune]),
        "overhead_ms": median([t["overhead"] for t in tune]),
        "worker_ms": median([t["worker"] for t in tune]),
        "worker_other_ms": median([t["worker"] - t["python"] for t in tune]),
        "replay_ms": median([t["replay"] for t in tune]),
        "page_other_ms": median([t["total"] - t["worker"] - t["save"] for t in tune]),
        "save_ms": median([t["save"] for t in tune]),
        "steps": median([t["steps"] for t in tune]),
        "python_calls": median([len(t["calls"]) for t in tune]),
        "start_ms": median([t["calls"][0]["ms"] for t in tune]),
        "step_slices_ms": median([sum(c["ms"] for c in t["calls"][1:-1]) for t in tune]),
        "finish_ms": median([t["calls"][-1]["ms"] for t in tune]),
        "cpython_python_ms": median([r["cpython"]["python_ms"] for r in runs]),
        "long_task_worst_ms": max(
            (p["long_task_max_ms"] for p in page if p["long_task_max_ms"] is not None), default=None
        ),
        "long_tasks": sum(len(p["long_tasks"]) for p in page),
        "shipped_error": median([m["shipped_error"] for m in mnist]),
        "personal_error": median([m["personal_error"] for m in mnist]),
        "cpython_error": median([m["cpython_error"] for m in mnist]),
        "diff_points_worst": max(m["diff_points"] for m in mnist),
        "cpython_diff_points_worst": max(m["cpython_diff_points"] for m in mnist),
        "triangles_before_worst": max(p["triangles_before"] for p in page),
        "triangles_after_worst": min(p["triangles_after"] for p in page),
        "cpython_triangles_after_worst": min(m["cpython_model_reads_triangles"] for m in mnist),
        "digits_before_worst": min(p["digits_before"] for p in page),
        "digits_after_worst": min(p["digits_after"] for p in page),
    }
    ratios = {
        "total_vs_cpython": ratio(row["total_ms"], row["cpython_python_ms"]),
        "python_vs_cpython": ratio(row["python_ms"], row["cpython_python_ms"]),
        "python_share": ratio(row["python_ms"], row["total_ms"]),
    }
    n = len(runs)
    goals = [
        goal(
            "total",
            "fine-tune, click -> done, in the page",
            row["total_ms"],
            GOAL_TOTAL_MS,
            "ms",
            [t["total"] for t in tune],
            compared=f"page/CPython {fmt(ratios['total_vs_cpython'], '.1f', 'x')} "
            f"(Python alone {fmt(ratios['python_vs_cpython'], '.1f', 'x')})",
            note=f"median of {n} run(s); Python {fmt(row['python_ms'], '.0f')} + overhead "
            f"{fmt(row['overhead_ms'], '.0f')} ms",
        ),
        goal(
            "long_task",
            "longest main-thread long task, click -> done",
            row["long_task_worst_ms"],
            GOAL_LONG_TASK_MS,
            "ms",
            [p["long_task_max_ms"] for p in page],
            note=f"worst of {n} run(s); 0: none over 50 ms ({row['long_tasks']} in all)",
        ),
        goal(
            "forgetting",
            "MNIST test error, personal - shipped",
            row["diff_points_worst"],
            GOAL_FORGET_POINTS,
            "points",
            [m["diff_points"] for m in mnist],
            compared=f"CPython-tuned {row['cpython_diff_points_worst']:+.2f} points",
            note=f"worst run; shipped {100 * row['shipped_error']:.2f}%, personal "
            f"{100 * row['personal_error']:.2f}%",
        ),
        goal(
            "personal",
            f"new triangles read as {TRIANGLE_LABEL} after tuning (of {N_NEW})",
            row["triangles_after_worst"],
            GOAL_PERSONAL_MIN,
            "",
            [p["triangles_after"] for p in page],
            at_least_=True,
            compared=f"before {row['triangles_before_worst']}; "
            f"CPython-tuned {row['cpython_triangles_after_worst']}",
            note="worst run (fewest)",
        ),
    ]
    return {"rows": row, "ratios": ratios, "goals": goals}


def show(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "ms":
        return f"{value:.0f} ms" if value >= 100 else f"{value:.1f} ms"
    if unit == "points":
        return f"{value:+.2f} points"
    return f"{value:g}"


def format_report(summary: dict, runs: Sequence[dict]) -> str:
    row, ratios = summary["rows"], summary["ratios"]
    per_run = format_table(
        [
            "run",
            "load",
            "total ms",
            "Python ms",
            "overhead ms",
            "CPython ms",
            "page/CPython",
            "longest task ms",
            "MNIST shipped",
            "personal",
            "diff points",
            "triangles as 4",
            "new digits right",
        ],
        [
            [
                str(r["run"]),
                fmt(r["load_average_1min"], ".1f"),
                fmt(p["tune"]["total"], ".0f"),
                fmt(p["tune"]["python"], ".0f"),
                fmt(p["tune"]["overhead"], ".0f"),
                fmt(r["cpython"]["python_ms"], ".0f"),
                fmt(ratio(p["tune"]["total"], r["cpython"]["python_ms"]), ".1f", "x"),
                fmt(p["long_task_max_ms"], ".0f"),
                fmt(m["shipped_error"], ".2f", "%", scale=0.01),
                fmt(m["personal_error"], ".2f", "%", scale=0.01),
                f"{m['diff_points']:+.2f}",
                f"{p['triangles_before']} -> {p['triangles_after']}",
                f"{p['digits_before']} -> {p['digits_after']}",
            ]
            for r in runs
            for p, m in [(r["page"], r["mnist"])]
        ],
    )
    steps, calls = row["steps"], row["python_calls"]
    where = format_table(
        ["where the time goes (median ms)", "page", "CPython"],
        [
            [label, fmt(row[key], ".0f"), fmt(row[cpython], ".0f") if cpython else ""]
            for label, key, cpython in (
                ("Python: start_tuning", "start_ms", None),
                (f"Python: tune_step, {steps:g} SGD steps in {calls - 2:g} slices", "step_slices_ms", None),
                ("Python: finish_tuning (the model file)", "finish_ms", None),
                ("Python compute, all calls", "python_ms", "cpython_python_ms"),
                ("worker, besides Python (replay fetch + sha256, pauses, copying)", "worker_other_ms", None),
                ("  of which the replay sample", "replay_ms", None),
                ("page: drawings from IndexedDB, messages", "page_other_ms", None),
                ("page: the model saved in IndexedDB", "save_ms", None),
                ("total, click -> done", "total_ms", None),
                ("overhead (total - Python)", "overhead_ms", None),
            )
        ],
    )
    goals = format_table(
        ["goal", "measured", "limit", "met?", "runs (best-worst)", "compared", "note"],
        [
            [
                g["goal"],
                show(g["value"], g["unit"]),
                f"{g['op']} {show(g['limit'], g['unit'])}",
                "met" if g["met"] else "—" if g["value"] is None else "NOT met",
                "—"
                if g["best_run"] is None
                else f"{show(g['best_run'], g['unit'])} - {show(g['worst_run'], g['unit'])}",
                g["compared"],
                g["note"],
            ]
            for g in summary["goals"]
        ],
    )
    met = sum(g["met"] for g in summary["goals"])
    return "\n".join(
        [
            f"Per run ({len(runs)}; {N_TAUGHT} triangles as {TRIANGLE_LABEL} + {N_TAUGHT} digits taught; "
            f"{N_NEW} new triangles and {N_NEW} new digits read before -> after):",
            per_run,
            "",
            where,
            "",
            f"page / CPython: total {fmt(ratios['total_vs_cpython'], '.1f', 'x')}, Python compute "
            f"{fmt(ratios['python_vs_cpython'], '.1f', 'x')}; Python is {fmt(ratios['python_share'], '.0%')} "
            f"of the page's total",
            "",
            "goals:",
            goals,
            f"{met} of {len(summary['goals'])} goals met.",
        ]
    )
