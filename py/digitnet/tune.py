"""Fine-tuning: teach the network a person's handwriting, in the page or in CPython.

The same backprop and SGD step that trained the model (``digitnet.learn``) take a few hundred
small steps on mini-batches that mix the person's drawings (labelled by them: a digit, or
NOT_DIGIT) with a replay sample of MNIST, so the network learns the new style without forgetting
the rest. Each of the person's drawings is shifted by up to ``shift`` pixels at random every time
it is used, so ten drawings do not become ten memorised images.

    tune = FineTune(model, images, labels, replay_images, replay_labels)
    while not tune.done:
        loss = tune.step(10)          # the worker runs a few steps, reports progress, repeats
    personal = tune.model             # a new Model; the one passed in is left as it was
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from digitnet.learn import backprop, sgd_step
from digitnet.network import Model, normalize


@dataclass(frozen=True)
class TuneConfig:
    """Hyperparameters of fine-tuning (small, so it runs in seconds in the page)."""

    steps: int = 60
    batch_size: int = 32
    own_share: float = 0.25    # of each batch, the share taken from the person's drawings
    lr: float = 0.005
    momentum: float = 0.9
    weight_decay: float = 1e-5
    shift: int = 2             # each own drawing moved by up to this many pixels, every time
    seed: int = 0


class FineTune:
    """A fine-tuning run, stepped by the caller (so the page can report progress and cancel)."""

    def __init__(self, model: Model, images: np.ndarray, labels: np.ndarray,
                 replay_images: np.ndarray, replay_labels: np.ndarray, cfg: TuneConfig = TuneConfig()):
        """images: (N, 28, 28) float32 in [0, 1] (or uint8 0-255), the person's drawings as the
        network sees them; labels: (N,) ints (a digit, or NOT_DIGIT if the model has that output).
        replay_*: the same for a sample of MNIST. The model is copied, never changed."""
        if len(images) == 0:
            raise ValueError("nothing to learn from: no drawings")
        outputs = model.sizes[-1]
        labels = np.asarray(labels, np.int64)
        if labels.min() < 0 or labels.max() >= outputs:
            raise ValueError(f"labels must be 0..{outputs - 1} for this model")
        self.model = Model([w.copy() for w in model.weights], [b.copy() for b in model.biases],
                           model.mean, model.std, dict(model.meta))
        self.images = _unit(images)
        self.labels = labels
        self.replay_images = _unit(replay_images)
        self.replay_labels = np.asarray(replay_labels, np.int64)
        self.cfg = cfg
        self.rng = np.random.default_rng(cfg.seed)
        self.params = self.model.weights + self.model.biases
        self.velocity = [np.zeros_like(p) for p in self.params]
        self.decays = [True] * len(self.model.weights) + [False] * len(self.model.biases)
        self.steps_done = 0
        self.losses: list[float] = []

    @property
    def done(self) -> bool:
        return self.steps_done >= self.cfg.steps

    def step(self, n: int = 1) -> float:
        """Run up to n SGD steps; -> their mean loss (cross-entropy, nats)."""
        losses = []
        for _ in range(min(n, self.cfg.steps - self.steps_done)):
            x, y = self._batch()
            loss, grad_w, grad_b, _ = backprop(self.model.weights, self.model.biases, normalize(self.model, x), y)
            sgd_step(self.params, grad_w + grad_b, self.velocity, self.cfg.lr, self.cfg.momentum,
                     self.cfg.weight_decay, self.decays)
            losses.append(loss)
            self.steps_done += 1
        self.losses += losses
        return float(np.mean(losses)) if losses else float("nan")

    def _batch(self) -> tuple[np.ndarray, np.ndarray]:
        cfg, rng = self.cfg, self.rng
        own = max(1, round(cfg.batch_size * cfg.own_share))
        i = rng.integers(0, len(self.images), own)
        j = rng.integers(0, len(self.replay_images), cfg.batch_size - own) if len(self.replay_images) else []
        mine = _shift(self.images[i], rng.integers(-cfg.shift, cfg.shift + 1, (own, 2)))
        x = np.concatenate([mine, self.replay_images[j]]) if len(j) else mine
        y = np.concatenate([self.labels[i], self.replay_labels[j]]) if len(j) else self.labels[i]
        return x, y


def _unit(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    return images.astype(np.float32) / np.float32(255) if images.dtype == np.uint8 else images.astype(np.float32)


def _shift(images: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Each image (N, h, w) moved by its (rows, cols) offset, filling with 0."""
    out = np.zeros_like(images)
    h, w = images.shape[1:]
    for k, (dy, dx) in enumerate(offsets):
        out[k, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
            images[k, max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out
