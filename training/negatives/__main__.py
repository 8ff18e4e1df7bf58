"""``python -m training.negatives``: look at the examples of "not a digit" and at digits as drawn
on the page (PNG grids), or time how long they take to make."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from training import drawn
from training.negatives import HELD_OUT, KINDS, LETTERS, SYMBOLS, generate, glyphs, make_negatives


def _grid(plt, rows: list[tuple[str, list]], path: Path) -> None:
    """A PNG of images in rows, each row labelled on its left."""
    cols = max(len(images) for _, images in rows)
    fig, axes = plt.subplots(len(rows), cols, figsize=(cols * 0.9 + 1.2, len(rows) * 0.9), squeeze=False)
    for r, (label, images) in enumerate(rows):
        for c, ax in enumerate(axes[r]):
            ax.set_xticks([])
            ax.set_yticks([])
            if c < len(images) and images[c] is not None:
                ax.imshow(images[c], cmap="gray_r", vmin=0, vmax=255)
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    fig.subplots_adjust(
        left=1.1 / (cols * 0.9 + 1.2), right=0.995, top=0.995, bottom=0.005, wspace=0.05, hspace=0.05
    )
    fig.savefig(path, dpi=80)
    plt.close(fig)


def preview(out_dir: Path, seed: int = 0, per_kind: int = 16) -> tuple[Path, Path]:
    """PNG grids: every kind (its pads, then what to_mnist makes of them) -> negatives.png;
    MNIST test digits, as drawn on the pad, and read back -> drawn.png."""
    from tools.paths import DATA_DIR
    from training.fetch import load_mnist
    from training.plots import pyplot

    plt = pyplot()
    test = load_mnist(DATA_DIR / "mnist_test.csv")
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for kind in KINDS:
        pads: list = []
        images = generate(kind, per_kind, np.random.default_rng([seed, KINDS.index(kind)]), test, pads)
        held = "\n(held out)" if kind in HELD_OUT else ""
        rows += [(f"{kind}{held}\npad", pads), ("28x28", list(images))]
    negatives_png = out_dir / "negatives.png"
    _grid(plt, rows, negatives_png)

    digits = test.images[: per_kind * 3]
    pads = []
    again = drawn._as_drawn(digits, seed, pads)
    rows = []
    for k in range(0, len(digits), per_kind):
        rows += [
            ("MNIST", list(digits[k : k + per_kind])),
            ("drawn\non the pad", pads[k : k + per_kind]),
            ("as_drawn", list(again[k : k + per_kind])),
        ]
    drawn_png = out_dir / "drawn.png"
    _grid(plt, rows, drawn_png)
    return negatives_png, drawn_png


def main(argv: list[str] | None = None) -> int:
    from tools.paths import ARTIFACTS, DATA_DIR
    from training.fetch import load_mnist

    p = argparse.ArgumentParser(
        prog="python -m training.negatives",
        description="Examples of 'not a digit' and digits as drawn on the page.",
    )
    p.add_argument("--preview", action="store_true", help="write negatives.png and drawn.png")
    p.add_argument("--time", action="store_true", help="time --n negatives and --drawn as_drawn digits")
    p.add_argument("--n", type=int, default=20000, help="negatives to time (default 20000)")
    p.add_argument("--drawn", type=int, default=60000, help="as_drawn digits to time (default 60000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out-dir", type=Path, default=ARTIFACTS, help="where the PNGs go")
    args = p.parse_args(argv)
    if not (args.preview or args.time):
        p.error("nothing to do: give --preview and/or --time")
    if args.preview:
        for path in preview(args.out_dir, args.seed):
            print(f"wrote {path}")
    if args.time:
        train = load_mnist(DATA_DIR / "mnist_train.csv")
        start = time.perf_counter()
        glyphs(LETTERS), glyphs(SYMBOLS)
        print(f"glyph skeletons: {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        make_negatives(args.n, KINDS, args.seed, train)
        print(f"{args.n} negatives ({len(KINDS)} kinds): {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        drawn.as_drawn(train.images[: args.drawn], args.seed)
        print(f"{args.drawn} as_drawn digits: {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
