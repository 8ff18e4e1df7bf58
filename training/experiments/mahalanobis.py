"""Experiment (not kept): does a distance from the digits in the network's own features catch the
glyphs the "not a digit" output lets through?

For a model trained without the pictograms (``python -m training.train --hold-out stray_mark
pictograms``), fit one Gaussian per digit, with a shared covariance, to each layer's activations
over MNIST training digits and the same digits redrawn with the page's pen (Lee et al. 2018,
"A simple unified framework for detecting out-of-distribution samples"). A drawing is then also
called "not a digit" when its squared Mahalanobis distance to the nearest digit's mean is over
the q-th percentile of the training digits' own distances. Prints, for each layer and q, the share
rejected of MNIST's test digits, of the robustness bench's redrawn digits, and of the pictograms
(60 drawings each, one plain reading each).

Result (README, "More pictures did not close the gap"): about 2 points more pictograms at most, and only
while rejecting several times more real digits: the gear, the pawn and the alembic lie among
the 0s, 8s and 2s in every layer.

    python -m training.experiments.mahalanobis --model held-out-pictograms.npz
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import bench.robustness_bench as robustness
from digitnet.modelfile import load_model
from digitnet.network import Model, forward, normalize, softmax
from digitnet.predict import NOT_DIGIT_AT
from digitnet.preprocess import to_mnist
from digitnet.sizes import CLASSES, NOT_DIGIT, SIDE
from tools.paths import DATA_DIR
from training import negatives
from training.drawn import as_drawn_cached
from training.fetch import load_mnist

QUANTILES = (99.0, 99.5, 99.8, 99.9)
FIT_MNIST, FIT_DRAWN, BENCH_DIGITS, PER_GLYPH = 30000, 20000, 1000, 60


def activations(model: Model, images: np.ndarray) -> list[np.ndarray]:
    """Images (N, 28, 28) uint8 or float in [0, 1] -> each layer's output, (N, n_l) float32."""
    images = np.asarray(images)
    x = images.astype(np.float32) / 255 if images.dtype == np.uint8 else images.astype(np.float32)
    return forward(model.weights, model.biases, normalize(model, x))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a model trained with the pictograms held out")
    parser.add_argument("--mnist", type=Path, default=DATA_DIR, help="folder of mnist_train.csv and mnist_test.csv")
    args = parser.parse_args()
    model, mnist = load_model(args.model), args.mnist
    train, test = load_mnist(mnist / "mnist_train.csv"), load_mnist(mnist / "mnist_test.csv")

    fit = np.concatenate([train.images[:FIT_MNIST], as_drawn_cached(train.images[:FIT_DRAWN], 1)])
    fit_labels = np.concatenate([train.labels[:FIT_MNIST], train.labels[:FIT_DRAWN]]).astype(int)
    rng = np.random.default_rng(0)
    digits = test.images[:BENCH_DIGITS]
    pads = [make(d) for make in robustness.variants(rng).values() for d in digits]
    pads += [p for drawn in robustness.pen_variants(digits).values() for p in drawn]
    bench = np.stack([x if x is not None else np.zeros((SIDE, SIDE), np.float32) for x in map(to_mnist, pads)])
    sets = {"MNIST test": test.images, "robustness bench": bench}
    sets |= {c: negatives.glyph_examples(c, PER_GLYPH, np.random.default_rng([7, ord(c)])) for c in negatives.PICTOGRAMS}
    acts = {name: activations(model, images) for name, images in sets.items()}
    fit_acts = activations(model, fit)
    said_not = {name: softmax(a[-1])[:, NOT_DIGIT] > NOT_DIGIT_AT for name, a in acts.items()}

    def report(label: str, rejected: dict[str, np.ndarray]) -> None:
        glyphs = np.mean([rejected[c].mean() for c in negatives.PICTOGRAMS])
        print(f"{label:24s} MNIST {100 * rejected['MNIST test'].mean():.2f}%  "
              f"bench {100 * rejected['robustness bench'].mean():.2f}%  pictograms {100 * glyphs:.1f}%")

    report("the network alone", said_not)
    for layer in range(1, len(fit_acts)):
        feature = (lambda a: a[layer][:, :CLASSES]) if layer == len(fit_acts) - 1 else (lambda a: a[layer])
        f = feature(fit_acts)
        means = np.stack([f[fit_labels == k].mean(0) for k in range(CLASSES)])          # (10, n)
        precision = np.linalg.inv(np.cov((f - means[fit_labels]).T) + 1e-3 * np.eye(f.shape[1]))

        def distance(a: list[np.ndarray]) -> np.ndarray:
            d = feature(a)[:, None, :] - means[None]                                     # (N, 10, n)
            return np.einsum("nkd,de,nke->nk", d, precision, d).min(axis=1)

        own = distance([a[::3] for a in fit_acts])
        far = {name: distance(a) for name, a in acts.items()}
        for q in QUANTILES:
            limit = np.percentile(own, q)
            report(f"layer {layer}, q {q}", {name: said_not[name] | (far[name] > limit) for name in acts})


if __name__ == "__main__":
    main()
