"""Evaluate a model file on a test set: error, per-digit accuracy, confusion matrix, worst mistakes.

python -m training.evaluate --model static/model/model.npz --json result.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from digitnet.modelfile import ModelFileError, load_model
from digitnet.network import Model
from digitnet.sizes import CLASSES, NOT_DIGIT
from tools.cli import output_dir, output_file, whole_number
from tools.paths import ARTIFACTS, DATA_DIR, SHIPPED_MODEL
from training.data import DataError, Dataset
from training.evaluation import evaluate
from training.fetch import load_mnist
from training.plots import plot_confusion, plot_worst

DEFAULT_TEST = DATA_DIR / "mnist_test.csv"


#: The kinds a model file that records no ``hold_out`` was kept from.
UNRECORDED_HELD_OUT = ("symbols", "stray_mark")


def unseen_kinds(model: Model) -> tuple[str, ...]:
    """The kinds of not-a-digit drawing ``model`` was never trained on, as its file records them
    (``training.train --hold-out``)."""
    return tuple(model.meta.get("hyperparameters", {}).get("hold_out", UNRECORDED_HELD_OUT))


def evaluate_negatives(model: Model, digits: Dataset, per_kind: int, seed: int) -> dict[str, dict]:
    """Reject rate per kind of generated non-digit (training/negatives.py), made from ``digits``
    (the test set's) with a seed training never uses: {kind: {"n", "rejected", "held_out"}},
    held_out: a kind the model was never trained on (``unseen_kinds``)."""
    from training.negatives import KINDS, make_negatives_cached

    images, kinds = make_negatives_cached(per_kind * len(KINDS), KINDS, seed=seed, digits=digits)
    ev = evaluate(model, Dataset(images, np.full(len(images), NOT_DIGIT, np.uint8)))
    unseen = unseen_kinds(model)
    return {
        kind: {
            "n": int((kinds == k).sum()),
            "rejected": round(float(ev.rejected[kinds == k].mean()), 6),
            "held_out": kind in unseen,
        }
        for k, kind in enumerate(KINDS)
    }


def evaluate_glyphs(model: Model, chars: str, per_char: int, seed: int) -> dict[str, float]:
    """Share rejected of each glyph of ``chars`` (training.negatives.SYMBOLS or PICTOGRAMS, drawn
    as the glyph kinds draw them, ``per_char`` of each) -> {char: share}."""
    from training.negatives import glyph_examples

    out = {}
    for char in chars:
        images = glyph_examples(char, per_char, np.random.default_rng([seed, ord(char)]))
        ev = evaluate(model, Dataset(images, np.full(len(images), NOT_DIGIT, np.uint8)))
        out[char] = round(float(ev.rejected.mean()), 6)
    return out


def summarize_negatives(per_kind: dict[str, dict]) -> dict[str, float]:
    """Share rejected of all the non-digits of ``evaluate_negatives``, of the kinds training never
    saw, and of those it saw."""

    def share(rows):
        n = sum(r["n"] for r in rows)
        return round(sum(r["rejected"] * r["n"] for r in rows) / n, 6) if n else float("nan")

    rows = list(per_kind.values())
    return {
        "all": share(rows),
        "held_out": share([r for r in rows if r["held_out"]]),
        "seen": share([r for r in rows if not r["held_out"]]),
    }


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m training.evaluate",
        description="Evaluate a model file on MNIST test data.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--model", type=Path, default=SHIPPED_MODEL, help="model file (.npz) to evaluate")
    p.add_argument(
        "--test",
        type=Path,
        default=DEFAULT_TEST,
        help="test set: CSV (label,784 pixels) or IDX images file; the default is fetched if missing",
    )
    p.add_argument(
        "--json",
        type=output_file(make_parent=True),
        help="also write the figures as JSON here (test_error as a fraction)",
    )
    p.add_argument(
        "--negatives",
        type=whole_number(0),
        default=500,
        help="for a model with a 'not a digit' output: this many generated non-digits of each "
        "kind (made from the test digits) are checked too (0: none)",
    )
    p.add_argument(
        "--seed", type=whole_number(0), default=12345, help="seed of those non-digits (training uses others)"
    )
    p.add_argument(
        "--out-dir",
        type=output_dir,
        default=ARTIFACTS / "evaluate",
        help="folder for confusion.png and worst.png",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        model = load_model(args.model)
    except ModelFileError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        data = load_mnist(args.test)
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    ev = evaluate(model, data)
    print(f"model {args.model}: layers {model.sizes}")
    print(f"test error {100 * ev.error:.2f}%  ({int((ev.predicted != ev.labels).sum())} of {len(ev.labels)})")
    print(
        "per-digit accuracy: " + "  ".join(f"{d}:{100 * a:.1f}%" for d, a in enumerate(ev.per_digit_accuracy))
    )
    figures = ev.to_json()
    if model.sizes[-1] > CLASSES:
        print(
            f"digits called 'not a digit': {100 * ev.digit_reject_rate:.2f}%  "
            f"({int(ev.rejected[ev.labels < CLASSES].sum())} of {int((ev.labels < CLASSES).sum())})"
        )
        if args.negatives:
            figures["negatives"] = evaluate_negatives(model, data, args.negatives, args.seed)
            print(
                f"drawings that are not digits, called 'not a digit' ({args.negatives} of each kind, "
                f"made from the test digits; * = a kind training never saw):"
            )
            for kind, r in figures["negatives"].items():
                print(f"  {kind + (' *' if r['held_out'] else ''):20s} {100 * r['rejected']:6.2f}%")
            figures["negatives_summary"] = summary = summarize_negatives(figures["negatives"])
            print(
                f"  {'all kinds':20s} {100 * summary['all']:6.2f}%   "
                f"(unseen kinds {100 * summary['held_out']:.2f}%, "
                f"seen {100 * summary['seen']:.2f}%)"
            )
            from training.negatives import PICTOGRAMS, SYMBOLS

            per_glyph = max(1, args.negatives // 5)  # each glyph drawn at least once
            for name, chars in (("symbols", SYMBOLS), ("pictograms", PICTOGRAMS)):
                figures[name] = shares = evaluate_glyphs(model, chars, per_glyph, args.seed)
                print(
                    f"{name}"
                    f"{' (a kind training never saw)' if figures['negatives'][name]['held_out'] else ''} "
                    "one by one "
                    f"({per_glyph} of each), called 'not a digit':"
                )
                print(
                    "  "
                    + "  ".join(
                        f"{c} {100 * r:.0f}%" for c, r in sorted(shares.items(), key=lambda cr: cr[1])
                    )
                )
    args.out_dir.mkdir(parents=True, exist_ok=True)
    plot_confusion(ev, args.out_dir / "confusion.png")
    plot_worst(ev, data.images, args.out_dir / "worst.png")
    print(f"plots written to {args.out_dir}/confusion.png and worst.png")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2))
        print(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
