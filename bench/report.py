"""The figures in one place: docs/results.md, made from the JSON files the benchmarks write.

    .venv/bin/python -m bench.report [--results bench/results] [--eval artifacts/eval.json]
                                     [--out docs/results.md]

Each benchmark writes its figures as JSON (``bench/results/*.json``; ``training.evaluate --json``
for the model). This reads whatever is there and writes one Markdown page: for each benchmark the
command that makes it, when and on what machine it ran, its figures as tables, and a plot where a
picture reads better (PNG beside the page). A file that is missing is reported as "not run"; a file
that cannot be read is reported as such. The page and its plots are written whole or not at all.

Where it lives: this file holds the page's assembly (which benchmarks, in which order, when and where
each ran, "not run" and unreadable files), the writing and the command line;
``bench.report_sections`` and ``bench.report_features`` how each benchmark's figures read.
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

from bench.report_features import number_section, reading_section, train_page_section
from bench.report_sections import (
    Plot,
    evaluate_section,
    page_section,
    robustness_section,
    serve_section,
    train_section,
    tune_section,
)
from digitnet.atomic import write_atomically
from tools.paths import ARTIFACTS, BENCH_RESULTS, ROOT

DEFAULT_OUT = ROOT / "docs" / "results.md"
DEFAULT_EVAL = ARTIFACTS / "eval.json"
WIDE_PAD = 200  # px: the page's desktop pad, CANVAS high and about 1.43 times as wide


# ----------------------------------------------------------------------------- plots


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


# ----------------------------------------------------------------------------- the benchmarks


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
        Source("Whole numbers", "python -m bench.number_bench", results / "number.json", number_section),
        Source(
            "Whole numbers on a wide pad",
            f"python -m bench.number_bench --width {WIDE_PAD} --json {rel(results / 'number_wide.json')}",
            results / "number_wide.json",
            number_section,
        ),
        Source(
            "Training in the page",
            "python -m bench.train_page_bench",
            results / "train_page.json",
            train_page_section,
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
        Source(
            "A reading, stage by stage",
            "python -m bench.reading_bench",
            results / "reading.json",
            reading_section,
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
