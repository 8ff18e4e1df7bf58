"""bench.page_bench's number phase: five-digit numbers read by the page, the worker's Python time.

On the warm page of each unthrottled run of ours, after its predictions: ``--numbers`` numbers of
NUMBER_DIGITS MNIST test digits drawn apart (``bench.number_drawing.write_numbers``, the spacing whose
reading is cheapest to get right, the same drawings every run), each set with
``digitApp.setStrokes`` with the pen it was drawn with (the brush slider moved to it first) and
awaited: the settled reading, nine views a character and the cut search
(``digitnet.number.read_number``). Recorded: the round trips, the worker's Python ms (the ``ms`` of
its result messages), the main thread's long tasks, and what each number read as
(``digitApp.lastNumber``). Then each number written as a person writes it, digit by digit (its
first digit's strokes set and read, then the first two digits', and so on): the Python ms of the
last reading, the whole number's once its fifth digit is there (the worker has read the other four
before: ``digitnet.number.Kept``).

``summarise_number`` pools the runs; ``bench.page_report`` judges the goals on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from bench.browser import probe
from bench.common import fmt
from bench.page_visit import reading_times, stats
from digitnet.sizes import CANVAS

NUMBER_DIGITS = 5
QUICK_NUMBERS = 3  # --quick: a short number phase
NUMBER_SEED = 2026  # the numbers' digits and layout (the same every run)

NUMBER_JS = probe("number.js")


@cache
def five_digit_numbers(n: int, seed: int = NUMBER_SEED) -> tuple[dict, ...]:
    """n numbers of NUMBER_DIGITS test digits drawn apart: {strokes (pad sides), pen (pad sides), label}."""
    from bench.number_drawing import write_numbers
    from tools.paths import DATA_DIR
    from training.fetch import load_mnist

    test = load_mnist(DATA_DIR / "mnist_test.csv")
    written = write_numbers(test.images, test.labels, [NUMBER_DIGITS] * n, "apart", seed, CANVAS, 0)
    return tuple(
        {
            "strokes": [[[float(x), float(y)] for x, y in s] for s in w.strokes],
            "pen": w.pen / CANVAS,
            "label": w.label,
            "per_digit": list(w.per_digit),
        }
        for w in written
    )


def number_phase(page, numbers: Sequence[dict], written: Sequence[dict]) -> dict:
    """The numbers set one by one on the warm page and awaited; then ``written`` (other numbers:
    none of their characters read before) written digit by digit; then the pad cleared and the pen
    as it was."""
    got = page.evaluate(NUMBER_JS, {"numbers": list(numbers), "written": list(written)})
    out = reading_times(got)
    out["values"] = got["values"]
    out["labels"] = [n["label"] for n in numbers]
    out["written_python_ms"] = got["writtenPython"]
    return out


def number_progress(phase: dict) -> str:
    """One run's number phase in a few words, for the bench's progress lines."""
    right = sum(v == label for v, label in zip(phase["values"], phase["labels"]))
    return (
        f"{NUMBER_DIGITS}-digit numbers: Python p95 {fmt(phase['python']['p95_ms'], '.1f', ' ms')}, "
        f"{right}/{len(phase['labels'])} read exactly"
    )


def summarise_number(phases: Sequence[dict]) -> dict | None:
    """The runs' number phases pooled: round trip and Python (stats), long tasks (count, longest), the
    share read exactly; None when no run had the phase."""
    if not phases:
        return None
    tasks = [t["duration_ms"] for p in phases for t in p["long_tasks"]]
    pairs = [(v, label) for p in phases for v, label in zip(p["values"], p["labels"])]
    return {
        "runs": len(phases),
        "numbers": len(phases[0]["labels"]),
        "digits": NUMBER_DIGITS,
        "round_trip": stats([x for p in phases for x in p["round_trip_ms"]]),
        "python": stats([x for p in phases for x in p["python_ms"]]),
        "long_tasks": len(tasks),
        "long_task_max_ms": max(tasks, default=0.0),
        "read_exactly": sum(v == label for v, label in pairs) / len(pairs) if pairs else None,
        "written_python": stats([x for p in phases for x in p.get("written_python_ms", [])]),
    }
