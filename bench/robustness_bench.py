"""How well are digits read when drawn small, off-centre, thick or thin? Ours vs the naive pipeline.

MNIST test digits are re-drawn on a 280x280 pad the way people draw: at other sizes,
in other places, with thicker or thinner strokes. Each pad goes through

* ours:  ``py/preprocess.to_mnist`` (specks, crop, stroke width, 20 px box, centre of mass);
* naive: the whole pad area-averaged down to 28x28, what many digit demos do;

and the shipped model reads the image as the page's verdict does (``digitnet.predict.read_proba``:
nine one-pixel moves, averaged). Prints a table of accuracy per variant and writes JSON.

    .venv/bin/python -m bench.robustness_bench [--n 2000] [--json bench/results/robustness.json]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench import common
from digitnet.modelfile import load_model
from digitnet.network import Model
from digitnet.predict import parts_apart, read_proba
from digitnet.preprocess import grey_filter, resize_area, to_mnist
from digitnet.sizes import CANVAS, NOT_DIGIT
from tools.paths import BENCH_RESULTS, DATA_DIR, SHIPPED_MODEL
from training.evaluation import Evaluation
from training.fetch import load_mnist

PAD = CANVAS  # the page's model canvas


def upscale(img: np.ndarray, size: int) -> np.ndarray:
    """Bilinear upscaling of a (28, 28) float image to (size, size)."""
    src = (np.arange(size) + 0.5) * img.shape[0] / size - 0.5
    i0 = np.clip(np.floor(src).astype(int), 0, img.shape[0] - 1)
    i1 = np.clip(i0 + 1, 0, img.shape[0] - 1)
    f = np.clip(src - i0, 0, 1).astype(np.float32)
    rows = img[i0] * (1 - f)[:, None] + img[i1] * f[:, None]
    return rows[:, i0] * (1 - f)[None, :] + rows[:, i1] * f[None, :]


def draw(digit: np.ndarray, size: int, top: int, left: int, stroke: int = 0) -> np.ndarray:
    """Pad (PAD, PAD) uint8 with the 28x28 digit drawn size x size at (top, left).

    stroke > 0 dilates by that radius (a thicker pen), < 0 erodes (a thinner one).
    """
    big = upscale(digit.astype(np.float32) / 255, size)
    big = np.where(big > 0.35, 1.0, big / 0.35).astype(np.float32)  # a pen's solid ink
    pad = np.zeros((PAD, PAD), np.float32)
    pad[top : top + size, left : left + size] = big
    if stroke > 0:
        pad = grey_filter(pad, 2 * stroke + 1, np.maximum)
    elif stroke < 0:
        pad = grey_filter(pad, 1 - 2 * stroke, np.minimum)
    return (np.clip(pad, 0, 1) * 255).astype(np.uint8)


def variants(rng: np.random.Generator) -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    """Name -> function drawing one digit on a pad (random placement where it says so)."""

    def anywhere(size: int) -> tuple[int, int]:
        return tuple(rng.integers(0, PAD - size + 1, 2))  # type: ignore[return-value]

    def px(fraction: float) -> int:
        return round(fraction * PAD)

    return {
        "centred, full size": lambda d: draw(d, PAD, 0, 0),
        "half size, centred": lambda d: draw(d, px(1 / 2), px(1 / 4), px(1 / 4)),
        "small (1/3), anywhere": lambda d: draw(d, px(1 / 3), *anywhere(px(1 / 3))),
        "tiny (1/5), anywhere": lambda d: draw(d, px(1 / 5), *anywhere(px(1 / 5))),
        "off-centre (1/2), corner": lambda d: draw(d, px(1 / 2), px(1 / 2), 0),
        "thick pen": lambda d: draw(d, px(6 / 7), px(1 / 14), px(1 / 14), stroke=px(1 / 47)),
        "thin pen": lambda d: draw(d, PAD, 0, 0, stroke=-px(1 / 93)),
        "small and thick": lambda d: draw(d, px(3 / 7), *anywhere(px(3 / 7)), stroke=px(1 / 70)),
    }


def pen_variants(images: np.ndarray) -> dict[str, list[np.ndarray]]:
    """The digits drawn with the page's pen, as a person would: each MNIST digit's skeleton
    (training/drawn.py) redrawn at 4/5 of the pad with the thinnest and the thickest pen the
    page's slider allows (PEN_MIN, PEN_MAX of the pad's width)."""
    from training.drawn import digit_strokes
    from training.strokes import PEN_MAX, PEN_MIN, render_many

    drawings = [
        [0.5 + (np.asarray(stroke) / 28 - 0.5) * 0.8 for stroke in strokes]
        for strokes in digit_strokes(images)
    ]
    return {
        f"drawn, page's {what} pen ({pen})": list(render_many(drawings, pen * PAD, size=PAD))
        for what, pen in (("thinnest", PEN_MIN), ("thickest", PEN_MAX))
    }


def naive(pad: np.ndarray) -> np.ndarray:
    """The whole pad scaled down to 28x28: no cropping, centring or stroke handling."""
    return resize_area(pad.astype(np.float32) / 255, (28, 28))


def accuracy(
    model: Model,
    pads: list[np.ndarray],
    labels: np.ndarray,
    pipeline: Callable[[np.ndarray], np.ndarray | None],
) -> tuple[float, float, float]:
    """(accuracy, share called "not a digit", mean ms per pad of the pipeline): a pad read as empty
    or as not a digit (the page's verdict, ``digitnet.predict.verdict``) counts as wrong."""
    start = time.perf_counter()
    images = [pipeline(p) for p in pads]
    ms = 1000 * (time.perf_counter() - start) / len(pads)
    ok = np.array([im is not None for im in images])
    batch = np.stack([im if im is not None else np.zeros((28, 28), np.float32) for im in images])
    out = read_proba(model, batch)
    predicted = Evaluation(out, labels, parts_apart(batch)).predicted
    return float(((predicted == labels) & ok).mean()), float(((predicted == NOT_DIGIT) & ok).mean()), ms


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.robustness_bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", type=Path, default=SHIPPED_MODEL, help="model file")
    p.add_argument("--n", type=int, default=2000, help="number of MNIST test digits per variant")
    p.add_argument("--seed", type=int, default=0, help="seed for the random placements")
    p.add_argument(
        "--json", type=Path, default=BENCH_RESULTS / "robustness.json", help="where to write the results"
    )
    args = p.parse_args(argv)
    model = load_model(args.model)
    test = load_mnist(DATA_DIR / "mnist_test.csv")
    images, labels = test.images[: args.n], test.labels[: args.n].astype(np.int64)
    rng = np.random.default_rng(args.seed)
    rows = []
    print(f"{args.n} MNIST test digits re-drawn on a {PAD}x{PAD} pad; model {args.model.name}\n")
    print(f"{'variant':36s} {'ours':>8s} {'rejected':>9s} {'naive':>8s} {'ours ms/pad':>12s}")
    drawn = {name: (lambda _, pads=pads: pads) for name, pads in pen_variants(images).items()}
    for name, make in {**variants(rng), **drawn}.items():
        pads = [make(d) for d in images] if name not in drawn else make(None)
        ours, rejected, ms = accuracy(model, pads, labels, to_mnist)
        base, _, _ = accuracy(model, pads, labels, naive)
        rows.append(
            {
                "variant": name,
                "ours_accuracy": ours,
                "ours_rejected": rejected,
                "naive_accuracy": base,
                "ours_ms_per_pad": ms,
            }
        )
        print(
            f"{name:36s} {100 * ours:7.2f}% {100 * rejected:8.2f}% {100 * base:7.2f}% {ms:12.2f}", flush=True
        )
    mean_ours = float(np.mean([r["ours_accuracy"] for r in rows]))
    mean_naive = float(np.mean([r["naive_accuracy"] for r in rows]))
    mean_rejected = float(np.mean([r["ours_rejected"] for r in rows]))
    print(f"{'mean':36s} {100 * mean_ours:7.2f}% {100 * mean_rejected:8.2f}% {100 * mean_naive:7.2f}%")
    print(f"\nerror ratio naive/ours: {(1 - mean_naive) / max(1 - mean_ours, 1e-9):.1f}x")
    common.write_json(
        args.json,
        {
            "n": args.n,
            "model": str(args.model),
            "rows": rows,
            "mean_ours": mean_ours,
            "mean_rejected": mean_rejected,
            "mean_naive": mean_naive,
        },
    )
    print(f"written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
