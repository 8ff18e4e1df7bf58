"""Training in the page is digitnet's training: the same seed and the same first 512 images give the
same network after one epoch in the page's training worker (Pyodide, NumPy without BLAS: einsum's
kernels) and in CPython (BLAS), to 1e-5."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from conftest import App

from digitnet.modelfile import load_model
from digitnet.scratch import Run, Settings
from tools.paths import STATIC

pytestmark = pytest.mark.e2e

SETTINGS = {"hidden": [32], "epochs": 1, "limit": 512, "batch": 64, "lr": 0.02, "seed": 7, "augment": False}

# Train with the page's own client (static/js/trainer.js) and hand back the model file's bytes.
TRAIN_JS = """async (settings) => {
  const { Trainer } = await import("./static/js/trainer.js");
  const trainer = new Trainer();
  try {
    await trainer.open();
    const done = new Promise((resolve, reject) => {
      trainer.addEventListener("done", (e) => resolve(e.detail));
      trainer.addEventListener("error", (e) => reject(new Error(e.detail.message)));
    });
    await trainer.start(settings);
    const end = await done;
    const bytes = await trainer.modelBytes();
    let text = "";
    for (let i = 0; i < bytes.length; i += 0x8000) {
      text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    }
    return { model: btoa(text), accuracy: end.accuracy };
  } finally {
    trainer.close();
  }
}"""


def test_one_epoch_in_the_page_is_one_epoch_in_cpython(chromium_browser, server):
    data = np.load(STATIC / "data" / "mnist.npz")
    run = Run(
        Settings.from_json(json.dumps(SETTINGS)),
        data["train_images"],
        data["train_labels"],
        data["test_images"],
        data["test_labels"],
    )
    while not run.done:
        run.step(100)
    here = run.model()

    context = chromium_browser.new_context(viewport={"width": 1100, "height": 900})
    try:
        app = App(context, server.url).open()
        got = app.page.evaluate(TRAIN_JS, SETTINGS)
        assert app.errors == []
    finally:
        context.close()
    page = load_model(base64.b64decode(got["model"]), "trained in the page")
    assert page.sizes == here.sizes == [784, 32, 10]
    assert (page.mean, page.std) == pytest.approx((here.mean, here.std), rel=1e-6)
    for a, b in zip(page.weights + page.biases, here.weights + here.biases):
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=0)
    assert got["accuracy"][-1] == pytest.approx(run.accuracy[-1], abs=2e-4)  # a test digit or two at most
    # and it learned: after one epoch of 512 digits it reads half the test set right (chance: a tenth)
    assert run.accuracy[-1] > 0.5
