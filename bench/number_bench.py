"""Whole numbers: MNIST test digits written side by side as pen strokes, read by
``digitnet.number.read_number`` as the page reads them. One table and the goals, met or not.

    .venv/bin/python -m bench.number_bench                 # 300 numbers per spacing (~2 min)
    .venv/bin/python -m bench.number_bench --quick         # a smoke run (~15 s)
    .venv/bin/python -m bench.number_bench --width 280     # a pad twice as wide as tall

Numbers: 2 to 5 digits (each length a quarter of them), picked from MNIST's **test** set at random,
each drawn as the page's pen would draw it (its skeleton's strokes, ``training.drawn.digit_strokes``;
a hand's small rotation, shear, stretch and wobble, ``training.strokes.jitter``; heights 85-100% of
the number's, baselines within 6%), laid out left to right on the page's model canvas (CANVAS
rows, ``--width`` columns: default the square pad) with one of three spacings, measured on the
ink (the pen's width included) in units of the number's digit height H:

apart       the ink boxes of neighbours apart by 0.25-0.5 H;
close       apart by 0.02-0.06 H (a pixel or two: anti-aliased edges may join them);
touching    each digit moved left until its ink meets the ink already drawn, then 0-0.1 H
            further: strokes touch or cross, the ink boxes overlap.

The number fills 60-95% of the pad's width (at most 30-80% of its height for short ones), a pen
from the page's range (``training.strokes.pen_range``: PEN_MIN-PEN_MAX of the pad, at most a
fifth of the digit height, log-uniform as the training drawings take it); ``training.strokes.
render_many`` draws it. ``read_number(model, pad, pen, VIEWS)`` reads it with the page's pen
(its diameter in pad pixels) and nine views. "Read exactly": every digit right, nothing extra.

Single digits unchanged: MNIST test digits drawn the same way one at a time (``--digits``), read
by ``read_number`` and by ``predict.predict_drawing`` (what the page reads a drawing with today):
both errors and the count of drawings whose verdict or digit differs. Not a digit: the drawn non-
digits of ``training.negatives`` (``--negatives`` of each kind, made from the test digits with
``training.evaluate``'s seed 12345), the share each reader accepts as digits: ``predict_drawing``'s
verdict "digit"; ``read_number``'s reading of characters that are all digits. ``two_digits`` is
a number now (it is meant to read "12"): shown, left out of the sum.

Time: ``read_number``'s wall time per number in this process (CPython, one thread of BLAS as
the page's WebAssembly has), p50 and p95 per spacing and for five-digit numbers; the page's goal
is 15 ms of Python in the worker, and Pyodide runs this code about 3-4x slower than CPython
(bench/page_bench.py measures the worker). Reads: how many images the network read per number
(``predict.read_proba`` calls, one image each; nine views count once).

Deterministic: the same ``--seed`` gives the same drawings.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from bench import common
from bench.number_drawing import SPACINGS, Written, write_numbers
from bench.number_pen import thick_pen
from bench.number_report import GOALS, LENGTHS, PAGE_MS, PYODIDE_RATIO, REJECT_GOAL, goals, pct, print_report
from digitnet import number, predict
from digitnet.modelfile import load_model
from digitnet.network import Model
from digitnet.predict import LIVE, VIEWS, predict_drawing
from digitnet.sizes import CANVAS
from digitnet.strokes import Strokes
from tools.cli import output_file, whole_number
from tools.paths import BENCH_RESULTS, DATA_DIR, SHIPPED_MODEL
from training.fetch import load_mnist

#: spacing -> (low, high) of the gap between neighbours' ink boxes in digit heights; touching: how
#: far past the first contact of their ink (a negative gap).
NEGATIVES_SEED = 12345  # training.evaluate's: a seed training never uses
QUICK = {"n": 40, "digits": 200, "negatives": 20, "thick": 20}
DEFAULTS = {"n": 300, "digits": 2000, "negatives": 200, "thick": 200}


# ----------------------------------------------------------------------------- reading them


class Counter:
    """Counts the images the network reads (``predict.read_proba``'s, one per image) while on."""

    def __init__(self) -> None:
        self.images = 0
        self._real = predict.read_proba

    def __enter__(self) -> Counter:
        real = self._real

        def counting(model, images, views=VIEWS, empty=None):
            self.images += len(np.asarray(images).reshape(-1, 28, 28))
            return real(model, images, views, empty)

        predict.read_proba = counting
        for name in ("read_proba",):
            if hasattr(number, name):
                setattr(number, name, counting)
        return self

    def __exit__(self, *exc) -> None:
        predict.read_proba = self._real
        if hasattr(number, "read_proba"):
            number.read_proba = self._real


def strokes_of(w: Written, pixels_only: bool = False) -> Strokes | None:
    """The number's pen strokes in pad pixels, as the page sends them (None: read from pixels only)."""
    return None if pixels_only else w.pen_strokes()


def read_all(model: Model, written: list[Written], pixels_only: bool = False) -> list[dict]:
    """Each number read: its value (None: nothing read), ms, images the network read, and whether
    each digit drawn alone reads right (``predict_drawing``: what perfect cuts would give)."""
    out = []
    for w in written:
        alone = [predict_drawing(model, pad, w.pen, VIEWS) for pad in w.alone]
        oracle = all(p is not None and str(p.digit) == d for p, d in zip(alone, w.label))
        with Counter() as c:
            start = time.perf_counter()
            reading = number.read_number(model, w.pad, w.pen, VIEWS, strokes_of(w, pixels_only))
            ms = 1000 * (time.perf_counter() - start)
        value = None if reading is None else reading.value
        out.append({"value": value, "ms": ms, "reads": c.images, "alone": oracle})
    return out


def timed(model: Model, w: Written, views, pixels_only: bool = False) -> float:
    """Milliseconds ``read_number`` takes on one number, read with ``views``."""
    start = time.perf_counter()
    number.read_number(model, w.pad, w.pen, views, strokes_of(w, pixels_only))
    return 1000 * (time.perf_counter() - start)


def p(values, q: float) -> float | None:
    return float(np.percentile(values, q)) if len(values) else None


def spacing_row(spacing: str, written: list[Written], readings: list[dict]) -> dict:
    right = np.array([r["value"] == w.label for w, r in zip(written, readings)])
    alone = np.array([r["alone"] for r in readings])
    lengths = np.array([len(w.label) for w in written])
    ms = np.array([r["ms"] for r in readings])
    reads = np.array([r["reads"] for r in readings])
    five = lengths == 5
    wrong = [
        {"label": w.label, "read": r["value"]} for w, r in zip(written, readings) if r["value"] != w.label
    ]
    return {
        "spacing": spacing,
        "gap": SPACINGS[spacing],
        "n": len(written),
        "exact": float(right.mean()),
        "goal": GOALS[spacing],
        "met": bool(right.mean() >= GOALS[spacing]),
        "digits_alone": float(alone.mean()),
        "exact_by_length": {
            str(k): float(right[lengths == k].mean()) for k in LENGTHS if (lengths == k).any()
        },
        "box_overlap_median": float(np.median([w.overlap for w in written])),
        "ms_p50": p(ms, 50),
        "ms_p95": p(ms, 95),
        "five_ms_p50": p(ms[five], 50),
        "five_ms_p95": p(ms[five], 95),
        "reads_mean": float(reads.mean()),
        "five_reads_mean": float(reads[five].mean()) if five.any() else None,
        "wrong_examples": wrong[:12],
    }


def single_digits(
    model: Model,
    images: np.ndarray,
    labels: np.ndarray,
    n: int,
    seed: int,
    width: int,
    pixels_only: bool = False,
) -> dict:
    """``n`` test digits drawn one at a time, read by read_number and by predict_drawing."""
    written = write_numbers(images, labels, [1] * n, "apart", seed, width, len(SPACINGS))
    n = len(written)
    same = err_number = err_digit = offered = 0
    for w in written:
        reading = number.read_number(model, w.pad, w.pen, VIEWS, strokes_of(w, pixels_only))
        p1 = predict_drawing(model, w.pad, w.pen, VIEWS)
        value = None if reading is None else reading.value
        old = None if p1 is None else (str(p1.digit) if p1.digit is not None else number.NOT_A_DIGIT)
        same += value == old
        err_number += value != w.label
        err_digit += old != w.label
        offered += reading is not None and reading.fitting_pen(w.pen, w.pad.shape[0]) > 0
    return {
        "n": n,
        "error_read_number": err_number / n,
        "error_predict_drawing": err_digit / n,
        "differ": n - same,
        "offered_thinner_pen": offered,
        "met": n == same,
    }


def negatives(model: Model, test_images: np.ndarray, per_kind: int, seed: int) -> dict:
    """The drawn non-digits of training.negatives: the share each reader accepts as digits."""
    from training.negatives import KINDS, generate

    rows = {}
    for k, kind in enumerate(KINDS):
        pads: list[np.ndarray] = []
        generate(kind, per_kind, np.random.default_rng([seed, k]), test_images, pads)
        old = new = 0
        for pad in pads:
            p1 = predict_drawing(model, pad, 0.0, VIEWS)
            old += p1 is not None and p1.verdict == "digit"
            reading = number.read_number(model, pad, 0.0, VIEWS)
            new += reading is not None and all(c.prediction.verdict == "digit" for c in reading.characters)
        rows[kind] = {
            "n": len(pads),
            "accepted_predict_drawing": old / len(pads),
            "accepted_read_number": new / len(pads),
        }
    counted = [r for kind, r in rows.items() if kind != "two_digits"]
    n = sum(r["n"] for r in counted)
    old = sum(r["accepted_predict_drawing"] * r["n"] for r in counted) / n
    new = sum(r["accepted_read_number"] * r["n"] for r in counted) / n
    return {
        "per_kind": per_kind,
        "kinds": rows,
        "accepted_predict_drawing": old,
        "accepted_read_number": new,
        "met": bool(new - old <= REJECT_GOAL),
    }


# ----------------------------------------------------------------------------- the command


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.number_bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", type=Path, default=SHIPPED_MODEL, help="model file")
    p.add_argument("--n", type=whole_number(at_least=4), help=f"numbers per spacing ({DEFAULTS['n']})")
    p.add_argument(
        "--digits", type=whole_number(at_least=0), help=f"single test digits ({DEFAULTS['digits']}; 0: none)"
    )
    p.add_argument(
        "--negatives",
        type=whole_number(at_least=0),
        help=f"drawn non-digits of each kind ({DEFAULTS['negatives']}; 0: none)",
    )
    p.add_argument(
        "--thick",
        type=whole_number(at_least=0),
        help=f"five-digit numbers drawn with the page's first pen, too thick ({DEFAULTS['thick']}; 0: none)",
    )
    p.add_argument(
        "--width",
        type=whole_number(at_least=CANVAS, at_most=8 * CANVAS),
        default=CANVAS,
        help=f"the pad's width in px, its height CANVAS = {CANVAS} ({CANVAS}: the square pad)",
    )
    p.add_argument("--seed", type=whole_number(0), default=0, help="seed of the numbers and digits drawn")
    p.add_argument("--quick", action="store_true", help=f"a smoke run: {QUICK}")
    p.add_argument(
        "--pixels-only", action="store_true", help="read the pad's pixels alone, without the pen's strokes"
    )
    p.add_argument(
        "--json",
        type=output_file(".json", make_parent=True),
        default=BENCH_RESULTS / "number.json",
        help="where to write the results",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    defaults = QUICK if args.quick else DEFAULTS
    sizes = {key: defaults[key] if getattr(args, key) is None else getattr(args, key) for key in DEFAULTS}
    model = load_model(args.model)
    test = load_mnist(DATA_DIR / "mnist_test.csv")
    print(
        f"numbers of {LENGTHS[0]}-{LENGTHS[-1]} MNIST test digits drawn with the page's pen on a "
        f"{CANVAS}x{args.width} pad, {sizes['n']} per spacing; model {args.model.name}\n",
        flush=True,
    )
    rows, live = [], {}
    with threadpool_limits(1, user_api="blas"):  # the page's WebAssembly has one thread
        for stream, spacing in enumerate(SPACINGS):
            lengths = [LENGTHS[i % len(LENGTHS)] for i in range(sizes["n"])]
            written = write_numbers(test.images, test.labels, lengths, spacing, args.seed, args.width, stream)
            readings = read_all(model, written, args.pixels_only)
            rows.append(spacing_row(spacing, written, readings))
            print(f"  {spacing}: {pct(rows[-1]['exact'])} read exactly", flush=True)
            if spacing == "apart":
                five = [w for w in written if len(w.label) == 5]
                live = {
                    "settled_p95": rows[-1]["five_ms_p95"],
                    "live_p95": p([timed(model, w, LIVE, args.pixels_only) for w in five], 95),
                }
        single = None
        if sizes["digits"]:
            single = single_digits(
                model, test.images, test.labels, sizes["digits"], args.seed, args.width, args.pixels_only
            )
        rejection = None
        if sizes["negatives"]:
            rejection = negatives(model, test.images, sizes["negatives"], NEGATIVES_SEED)
        thick = (
            thick_pen(model, test.images, test.labels, sizes["thick"], args.seed) if sizes["thick"] else None
        )
    print()
    print_report(rows, single, rejection, live, thick)
    common.write_json(
        args.json,
        {
            "model": str(args.model),
            "seed": args.seed,
            "width": args.width,
            "height": CANVAS,
            "quick": args.quick,
            "pixels_only": args.pixels_only,
            "sizes": sizes,
            "rows": rows,
            "single_digits": single,
            "not_a_digit": rejection,
            "thick_pen": thick,
            "five_digits_apart_ms": live,
            "page_goal_ms": PAGE_MS,
            "pyodide_ratio": list(PYODIDE_RATIO),
            "goals": goals(rows, single, rejection, live.get("settled_p95")),
        },
    )
    print(f"written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
