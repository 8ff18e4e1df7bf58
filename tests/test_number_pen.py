"""bench.number_pen and the pen it gives bench.number_drawing: five digits drawn with the page's
first pen across the square pad, read, and read again with the thinner pen the reading offers."""

from __future__ import annotations

import numpy as np

from bench.number_drawing import write_numbers
from bench.number_pen import thick_pen
from digitnet.modelfile import load_model
from digitnet.sizes import CANVAS, PEN_DEFAULT
from tools.paths import SHIPPED_MODEL
from training.strokes import DIGITS, render

MODEL = load_model(SHIPPED_MODEL)
# The page's sample digits as 28x28 images: what the bench draws from MNIST's, traced into strokes.
IMAGES = np.stack([render(DIGITS[d], size=28, width=2.5) for d in range(10)])
LABELS = np.arange(10, dtype=np.uint8)


def test_numbers_drawn_with_a_given_pen_have_it_and_the_same_layout():
    pen = PEN_DEFAULT * CANVAS
    given = write_numbers(IMAGES, LABELS, [5] * 3, "apart", 0, CANVAS, 9, pen_px=pen)
    free = write_numbers(IMAGES, LABELS, [5] * 3, "apart", 0, CANVAS, 9)
    assert [w.pen for w in given] == [pen] * 3 and all(w.pen < pen for w in free)
    assert [w.label for w in given] == [w.label for w in free]  # the same digits, the same draws


def test_the_thick_pen_row_reads_the_numbers_again_with_the_pen_offered():
    row = thick_pen(MODEL, IMAGES, LABELS, 6, 0)
    assert row["n"] == 6 and row["pen"] == PEN_DEFAULT
    assert row["offered"] >= 0.5 and row["exact_with_offer"] > row["exact"]
