"""How each benchmark's figures read on the results page: one renderer per benchmark's JSON (the
model's evaluation, robustness, training, the page, teaching, the server), each returning its
Markdown lines and the plots it wants, built from the same cells (percentages, numbers, Markdown
tables, goals met or not).

The renderers only turn a parsed JSON object into text and plot recipes; ``bench.report`` reads the
files, assembles the page and writes it with its PNGs, so a new benchmark needs one function here
and one line there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_ROBUSTNESS_N = 2000  # bench.robustness_bench --n


# ----------------------------------------------------------------------------- cells


def pct(x: float | None, digits: int = 2) -> str:
    """A fraction as a percentage; a dash when missing."""
    return "—" if x is None else f"{100 * x:.{digits}f}%"


def num(x: float | None, spec: str = ".0f", suffix: str = "") -> str:
    return "—" if x is None else f"{x:{spec}}{suffix}"


def table(head: list[str], body: list[list[Any]]) -> str:
    """A Markdown table (pipes in cells escaped)."""

    def row(cells: list[Any]) -> str:
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    return "\n".join([row(head), row(["---"] * len(head)), *(row(r) for r in body)])


def met(goal: dict) -> str:
    if goal.get("value") is None:
        return "not measured"
    return "met" if goal.get("met") else "**not met**"


# ----------------------------------------------------------------------------- plots


@dataclass
class Plot:
    """A PNG to write beside the page: its file name and how to draw it on a matplotlib figure."""

    name: str
    draw: Callable[[Any], None]


# ----------------------------------------------------------------------------- one section per benchmark


def evaluate_section(d: dict) -> tuple[list[str], list[Plot]]:
    lines = [
        table(
            ["figure", "value"],
            [
                [
                    'MNIST test error (a digit called "not a digit" counts as wrong)',
                    f"{pct(d.get('test_error'))} ({d.get('errors', '—')} of {d.get('n', '—')})",
                ],
                ['MNIST test digits called "not a digit"', pct(d.get("digit_reject_rate"))],
            ],
        )
    ]
    per_digit = d.get("per_digit_accuracy") or {}
    if per_digit:
        lines += [
            "",
            "Accuracy per digit:",
            "",
            table(list(per_digit), [[pct(a, 1) for a in per_digit.values()]]),
        ]
    negatives = d.get("negatives") or {}
    if negatives:
        summary = d.get("negatives_summary") or {}
        body = [
            [
                kind + (" (never seen in training)" if r.get("held_out") else ""),
                r.get("n", "—"),
                pct(r.get("rejected"), 1),
            ]
            for kind, r in negatives.items()
        ]
        total = sum(r.get("n", 0) for r in negatives.values())
        body.append(["**all kinds**", total, pct(summary.get("all"), 1)])
        lines += [
            "",
            "Drawings that are not digits, made from the test digits with a seed training never "
            'uses, called "not a digit":',
            "",
            table(["kind", "n", "rejected"], body),
        ]
    for name in ("symbols", "pictograms"):
        shares = d.get(name) or {}
        if shares:
            missed = sorted(((c, s) for c, s in shares.items() if s < 1), key=lambda cs: cs[1])
            cells = [f"`{c}` {pct(s, 0)}" for c, s in missed]
            if len(missed) < len(shares):
                cells.append(f"the other {len(shares) - len(missed)} at 100%" if missed else "all at 100%")
            lines += [
                "",
                f'{name.capitalize()} one by one ({len(shares)}), called "not a digit": '
                + ", ".join(cells)
                + ".",
            ]
    return lines, []


def robustness_section(d: dict) -> tuple[list[str], list[Plot]]:
    rows = d.get("rows") or []
    body = [
        [
            r["variant"],
            pct(r.get("ours_accuracy")),
            pct(r.get("ours_rejected")),
            pct(r.get("naive_accuracy")),
            num(r.get("ours_ms_per_pad"), ".2f"),
        ]
        for r in rows
    ]
    body.append(
        [
            "**mean**",
            f"**{pct(d.get('mean_ours'))}**",
            f"**{pct(d.get('mean_rejected'))}**",
            pct(d.get("mean_naive")),
            "",
        ]
    )
    model = Path(str(d.get("model", "?"))).name
    n = d.get("n")
    quick = (
        f" A quick run: the bench's default is {DEFAULT_ROBUSTNESS_N} digits, so each figure here "
        f"moves in steps of {100 / n:.2g} points."
        if isinstance(n, int) and 0 < n < DEFAULT_ROBUSTNESS_N
        else ""
    )
    lines = [
        f"{n if n is not None else '—'} MNIST test digits drawn each way, read by `{model}`.{quick}",
        "",
        table(
            [
                "drawn",
                "ours",
                'ours: called "not a digit"',
                "naive (whole pad scaled down)",
                "ours ms per pad",
            ],
            body,
        ),
    ]

    def draw(fig, rows=rows):
        ax = fig.add_subplot()
        names = [r["variant"] for r in rows][::-1]
        y = range(len(names))
        for shift, key, label in ((0.2, "ours_accuracy", "ours"), (-0.2, "naive_accuracy", "naive")):
            ax.barh([i + shift for i in y], [100 * r.get(key, 0) for r in rows][::-1], 0.4, label=label)
        ax.set_yticks(list(y), names)
        ax.set_xlim(0, 100)
        ax.set_xlabel("read right (%)")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
        ax.set_title("Digits drawn the ways people draw")

    return lines, [Plot("results-robustness.png", draw)] if rows else []


def train_section(d: dict) -> tuple[list[str], list[Plot]]:
    rows = d.get("rows") or []
    thresholds = d.get("thresholds") or []
    head = [
        "run",
        "s/epoch",
        *(f"to {100 * t:.1f}%" for t in thresholds),
        "final error",
        "peak MB",
        "s/epoch vs PyTorch",
    ]
    body = []
    for r in rows:
        if r.get("error"):
            body.append([r.get("label"), f"failed: {r['error']}", *[""] * (len(head) - 2)])
            continue
        body.append(
            [
                r.get("label"),
                num(r.get("sec_per_epoch"), ".2f"),
                *(num(r.get(f"seconds_to_{t:.3f}"), ".1f", " s") for t in thresholds),
                pct(r.get("final_test_error")),
                num(r.get("peak_rss_mb")),
                num(r.get("sec_per_epoch_vs_torch"), ".2f", "x"),
            ]
        )
    lines = [
        ("A quick run (`--quick`): fewer epochs and images. " if d.get("quick") else "")
        + "Training time only; each run in its own process:",
        "",
        table(head, body),
    ]
    runs = [r for r in d.get("runs") or [] if r.get("history")]

    def draw(fig, runs=runs):
        ax = fig.add_subplot()
        for r in runs:
            ax.plot(
                [h["elapsed"] for h in r["history"]],
                [100 * h["test_error"] for h in r["history"]],
                marker=".",
                label=r.get("label", r.get("key")),
            )
        ax.set_xlabel("training time (s)")
        ax.set_ylabel("MNIST test error (%)")
        ax.set_ylim(0, 5)
        ax.legend(fontsize="small")
        ax.set_title("Test error against training time")

    return lines, [Plot("results-training.png", draw)] if runs else []


def goals_table(goals: list[dict], show: Callable[[float | None, str], str]) -> str:
    return table(
        ["goal", "measured", "limit", ""],
        [
            [
                g.get("goal"),
                show(g.get("value"), g.get("unit", "")),
                f"{g.get('op', '<=')} {show(g.get('limit'), g.get('unit', ''))}",
                met(g),
            ]
            for g in goals
        ],
    )


def page_section(d: dict) -> tuple[list[str], list[Plot]]:
    def show(v: float | None, unit: str) -> str:
        if v is None:
            return "—"
        return {
            "x": f"{v:.2f}x",
            "ms": f"{v:.1f} ms" if v < 100 else f"{v:.0f} ms",
            "B": f"{v / 1e6:.2f} MB",
            "count": f"{v:g}",
        }.get(unit, f"{v:.3f}")

    config = d.get("config") or {}
    rows = d.get("rows") or {}
    inside = d.get("inside") or {}
    lines = [
        f"Ours against a bare page that boots only stock Pyodide and NumPy; medians of "
        f"{config.get('runs', '—')} runs ({config.get('throttle_runs', 0)} more on a throttled link)"
        + (", a quick run" if config.get("quick") else "")
        + ":",
        "",
        goals_table(d.get("goals") or [], show),
    ]
    if rows:
        lines += [
            "",
            table(
                ["page, visit", "ready", "pad usable", "on the wire"],
                [
                    [
                        key.replace("_", ", "),
                        num(r.get("ready_ms"), ".0f", " ms"),
                        num(r.get("pad_usable_ms"), ".0f", " ms"),
                        "—" if r.get("wire_bytes") is None else f"{r['wire_bytes'] / 1e6:.2f} MB",
                    ]
                    for key, r in rows.items()
                ],
            ),
        ]
    kinds = {"live": "while drawing", "settled": "pen up"}
    if all(inside.get(state) for state in ("closed", "open")):
        lines += [
            "",
            f'The "Inside the network" view closed against open (the same page and drawings, pooled '
            f"over {inside.get('runs', '—')} run(s)):",
            "",
            table(
                [
                    "view, readings",
                    "round trip p50",
                    "round trip p95",
                    "Python p95",
                    "drawing p95",
                    "main thread per reading",
                    "long tasks",
                ],
                [
                    [
                        f"{state}, {kinds[kind]}",
                        num(s.get("round_trip", {}).get("p50_ms"), ".1f", " ms"),
                        num(s.get("round_trip", {}).get("p95_ms"), ".1f", " ms"),
                        num(s.get("python", {}).get("p95_ms"), ".1f", " ms"),
                        num(s.get("draw", {}).get("p95_ms"), ".1f", " ms"),
                        num((s.get("main_thread_per_reading_ms") or {}).get("task"), ".1f", " ms"),
                        num(s.get("long_tasks"), "g"),
                    ]
                    for kind in kinds
                    for state in ("closed", "open")
                    for s in [inside[state].get(kind) or {}]
                ],
            ),
        ]
    return lines, []


def tune_section(d: dict) -> tuple[list[str], list[Plot]]:
    def show(v: float | None, unit: str) -> str:
        if v is None:
            return "—"
        return {"ms": f"{v:.0f} ms", "points": f"{v:+.2f} points"}.get(unit, f"{v:g}")

    config = d.get("config") or {}
    return [
        f"A page taught {config.get('taught', '—')} drawings, then **Learn my handwriting**; "
        f"{config.get('runs', '—')} runs:",
        "",
        goals_table(d.get("goals") or [], show),
    ], []


def serve_section(d: dict) -> tuple[list[str], list[Plot]]:
    names = {
        "page": "page loads",
        "runtime": "the runtime's biggest file",
        "slow": "page loads beside stalled clients",
    }
    body = [
        [
            names[k],
            r.get("clients"),
            f"{r.get('requests_ok')} / {r.get('requests_planned')}",
            r.get("failed"),
            num(r.get("p50_ms"), ".0f", " ms"),
            num(r.get("p95_ms"), ".0f", " ms"),
            r.get("server_threads_peak"),
        ]
        for k in names
        for r in [d.get(k)]
        if r
    ]
    lines = [
        table(["crowd", "clients", "answered / asked", "failed", "p50", "p95", "server threads (peak)"], body)
    ]
    slow = d.get("slow") or {}
    if slow:
        lines += [
            "",
            f"{slow.get('stalled_dropped')} of {slow.get('stalled')} stalled clients dropped "
            f"after at most "
            f"{slow.get('dropped_after_max_s')} s (header timeout {d.get('header_timeout_s')} s).",
        ]
    problems = d.get("problems") or []
    lines += ["", "Problems: " + ("; ".join(problems) if problems else "none.")]
    return lines, []
