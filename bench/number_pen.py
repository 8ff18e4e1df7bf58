"""bench.number_bench's thick-pen row: five-digit numbers across the square pad drawn with the
page's first pen (PEN_DEFAULT of the pad's height: a lone digit's), as on a phone held upright,
where five digits must be a fifth of the pad wide. Read as they are; how many the page offers a
thinner pen (``NumberReading.fitting_pen``); and read again redrawn with the pen offered, as one
tap on the offer redraws them."""

from __future__ import annotations

import numpy as np

from bench.number_drawing import write_numbers
from digitnet import number
from digitnet.network import Model
from digitnet.predict import VIEWS
from digitnet.sizes import CANVAS, PEN_DEFAULT
from training.strokes import render_many

DIGITS = 5
STREAM = 9  # the seed's random stream for these numbers (number_bench uses 0-3)


def thick_pen(model: Model, images: np.ndarray, labels: np.ndarray, n: int, seed: int) -> dict:
    """``n`` five-digit numbers apart with the first pen -> {n, pen, exact, offered, exact_with_offer}
    (shares of n; with the offer: the numbers offered a pen read with it, the others as they are)."""
    pen = PEN_DEFAULT * CANVAS
    written = write_numbers(images, labels, [DIGITS] * n, "apart", seed, CANVAS, STREAM, pen_px=pen)
    exact = offered = with_offer = 0
    for w in written:
        reading = number.read_number(model, w.pad, pen, VIEWS, w.pen_strokes())
        right = reading is not None and reading.value == w.label
        exact += right
        fit = 0.0 if reading is None else reading.fitting_pen(pen, CANVAS)
        if fit:
            offered += 1
            pad = render_many([w.strokes], [fit], CANVAS)[0]
            again = number.read_number(model, pad, fit, VIEWS, w.pen_strokes(fit))
            right = again is not None and again.value == w.label
        with_offer += right
    count = len(written)
    return {
        "n": count,
        "pen": PEN_DEFAULT,
        "exact": exact / count,
        "offered": offered / count,
        "exact_with_offer": with_offer / count,
    }
