"""digitnet.samples, the page's sample digits: each is read as its digit by the shipped model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from digitnet import browser, samples
from digitnet.modelfile import load_model
from digitnet.predict import predict_drawing
from digitnet.sizes import CANVAS, PEN_DEFAULT
from tools.paths import SHIPPED_MODEL
from training.strokes import DIGITS, render

PAGE_SAMPLES = json.loads(browser.describe())["samples"]  # what the worker sends the page


def test_the_page_gets_every_digit_once_in_order():
    assert [s["digit"] for s in PAGE_SAMPLES] == list(samples.ORDER)
    assert sorted(samples.ORDER) == list(range(10))
    assert DIGITS is samples.DIGITS  # one copy: training.strokes uses digitnet's
    for sample in PAGE_SAMPLES:
        points = np.concatenate([np.asarray(s, float) for s in sample["strokes"]])
        assert points.shape[1] == 2 and points.min() >= 0 and points.max() <= 1


@pytest.mark.parametrize("sample", PAGE_SAMPLES, ids=lambda s: str(s["digit"]))
def test_each_sample_is_read_as_its_digit(sample):
    model = load_model(SHIPPED_MODEL.read_bytes(), SHIPPED_MODEL.name)
    pen = PEN_DEFAULT * CANVAS  # as the page draws it: the default pen on its model canvas
    pad = render(sample["strokes"], size=CANVAS, width=pen)
    p = predict_drawing(model, pad, pen)
    assert p is not None and p.verdict == "digit"
    assert int(np.argmax(p.probs)) == sample["digit"]
