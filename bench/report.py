"""The figures in one place: docs/results.md, made from the JSON files the benchmarks write.

    .venv/bin/python -m bench.report [--results bench/results] [--eval artifacts/eval.json]
                                     [--out docs/results.md]

Each benchmark writes its figures as JSON (``bench/results/*.json``; ``training.evaluate --json``
for the model). This reads whatever is there and writes one Markdown page: for each benchmark the
command that makes it, when and on what machine it ran, its figures as tables, and a plot where a
picture reads better (PNG beside the page). A file that is missing is reported as "not run"; a file
that cannot be read is reported as such. The page and its plots are written whole or not at all.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from digitnet.atomic import write_atomically
from tools.paths import ARTIFACTS, BENCH_RESULTS, ROOT

DEFAULT_OUT = ROOT / "docs" / "results.md"
DEFAULT_EVAL = ARTIFACTS / "eval.json"
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


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_plot(plot: Plot, folder: Path) -> None:
    plt = pyplot()
    fig = plt.figure(figsize=(8, 4.2), dpi=100)
    try:
        plot.draw(fig)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", metadata={"Software": None})
    finally:
        plt.close(fig)
    write_atomically(folder / plot.name, lambda f: f.write(buf.getvalue()))


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
        }.get(unit, f"{v:.3f}")

    config = d.get("config") or {}
    rows = d.get("rows") or {}
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


@dataclass
class Source:
    """A benchmark: its title, the command that writes its JSON, the file, and how to show it."""

    title: str
    command: str
    path: Path
    render: Callable[[dict], tuple[list[str], list[Plot]]]


def sources(results: Path, eval_json: Path) -> list[Source]:
    def rel(p: Path) -> str:
        try:
            return str(p.resolve().relative_to(ROOT))
        except ValueError:
            return str(p)

    return [
        Source(
            "The shipped model",
            f"python -m training.evaluate --json {rel(eval_json)}",
            eval_json,
            evaluate_section,
        ),
        Source(
            "Robustness to how people draw",
            "python -m bench.robustness_bench",
            results / "robustness.json",
            robustness_section,
        ),
        Source(
            "Training: ours against PyTorch",
            "python -m bench.train_bench",
            results / "train_bench.json",
            train_section,
        ),
        Source(
            "The page: boot and prediction", "python -m bench.page_bench", results / "page.json", page_section
        ),
        Source("Teaching in the page", "python -m bench.tune_bench", results / "tune.json", tune_section),
        Source(
            "The server under load",
            "python -m bench.serve_bench",
            results / "serve_bench.json",
            serve_section,
        ),
    ]


# ----------------------------------------------------------------------------- the page


def when_and_where(d: dict, path: Path) -> str:
    """'Run 2026-12-07 03:10 UTC on 2 cores (CPU), load 1.2.' from the file's run_at and machine."""
    if d.get("run_at"):
        when = datetime.fromisoformat(d["run_at"]).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    else:
        stamp = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        when = stamp.strftime("%Y-%m-%d %H:%M UTC (the file's time)")
    m = d.get("machine")
    if not isinstance(m, dict):
        return f"Run {when}; machine not recorded."
    load = m.get("load_average_1min_at_start")
    return (
        f"Run {when} on {m.get('usable_cores', m.get('cores', '?'))} cores ({m.get('cpu', '?')}), "
        f"Python {m.get('python', '?')}, NumPy {m.get('numpy', '?')}"
        + (f", load {load} at start" if load is not None else "")
        + "."
    )


def render(srcs: list[Source]) -> tuple[str, list[Plot], list[str]]:
    """-> the Markdown page, the plots it links, and the titles of the benchmarks not run."""
    lines = [
        "# Results",
        "",
        "Generated by `python -m bench.report` from the JSON files the benchmarks write; do not edit by "
        "hand. What each benchmark measures: [benchmarks.md](benchmarks.md). Figures from a shared "
        "machine move between runs; the date and machine of each run are given with it.",
        "",
    ]
    plots: list[Plot] = []
    not_run: list[str] = []
    for s in srcs:
        lines += [f"## {s.title}", "", f"`{s.command}`", ""]
        if not s.path.is_file():
            not_run.append(s.title)
            lines += [
                "**Not run**: no results file yet. Run the command above, then `python -m bench.report`.",
                "",
            ]
            continue
        try:
            d = json.loads(s.path.read_text())
            if not isinstance(d, dict):
                raise ValueError("not a JSON object")
            body, figs = s.render(d)
            head = when_and_where(d, s.path)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            lines += [f"**Could not be read** ({type(e).__name__}: {e}); run the command above again.", ""]
            continue
        lines += [head, "", *body, ""]
        for p in figs:
            lines += [f"![{s.title}]({p.name})", ""]
        plots += figs
    if not_run:
        lines += ["## Not run", "", "No results yet for: " + ", ".join(not_run) + ".", ""]
    return "\n".join(lines).rstrip() + "\n", plots, not_run


def write_report(out: Path, results: Path = BENCH_RESULTS, eval_json: Path = DEFAULT_EVAL) -> list[str]:
    """Write the page (and its plots beside it) atomically; -> the titles of the benchmarks not run."""
    text, plots, not_run = render(sources(results, eval_json))
    out.parent.mkdir(parents=True, exist_ok=True)
    for p in plots:
        save_plot(p, out.parent)
    write_atomically(out, lambda f: f.write(text.encode()))
    return not_run


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.report", description=__doc__.split("\n\n")[0])
    p.add_argument("--results", type=Path, default=BENCH_RESULTS, help="the benchmarks' JSON folder")
    p.add_argument("--eval", type=Path, default=DEFAULT_EVAL, help="training.evaluate's JSON file")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the page to write (plots go beside it)")
    args = p.parse_args(argv)
    not_run = write_report(args.out, args.results, args.eval)
    print(f"written to {args.out}" + (f"; not run: {', '.join(not_run)}" if not_run else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
