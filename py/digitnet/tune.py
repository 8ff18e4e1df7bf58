"""Fine-tuning: teach the network a person's handwriting, in the page or in CPython.

The backward pass and SGD step that trained the model (``digitnet.learn``) take a few dozen small
steps on mini-batches that mix the person's drawings (labelled by them: a digit, or NOT_DIGIT) with
a replay sample of MNIST, so the network learns the new style without forgetting the rest:

    tune = FineTune(model, images, labels, replay_images, replay_labels)
    while not tune.done:
        loss = tune.step(5)           # the worker runs a few steps, reports progress, repeats
    personal = tune.model             # a new Model; the one passed in is left as it was

Three choices make it cheap and gentle (measured by bench/tune_bench.py: docs/results.md):

* Only the layers above the first ``frozen`` learn. The first layer (784 x 512) holds 85% of the
  weights and most of the arithmetic; kept fixed, its output h = a_k(x) for an image never
  changes, so the top of the network learns from h with ``learn.backward`` (the same gradients
  as the full backprop for those layers), and h is computed once per replay image.
* The replay uses ``replay`` images of the sample (a fixed budget of that one-off cost) and deals
  them, and the person's drawings, in shuffled passes: every image is used equally often.
  For 784-512-128-11 and the defaults: 0.69 G multiply-adds in all (512 replay images and 480
  own drawings through the first layer, 60 steps of the top two), against 1.93 G for 60 steps
  of the whole network on every image.
* Replay images learn the starting model's own answers rather than their labels (distillation,
  Hinton et al. 2015): with z0 the starting logits and q = softmax(z / T) at temperature T,

      own drawing i:  loss_i = -log p_i[y_i]                      dloss_i/dz_i = p_i - onehot(y_i)
      replay image i: loss_i = T^2 KL(q0_i || q_i)                dloss_i/dz_i = T (q_i - q0_i)

  and the batch's loss is their mean (delta_L is the rows above / batch size). A replay image the
  model already reads right still pulls back as soon as its probabilities drift, which hard
  labels do not; T > 1 lets the small probabilities (what else a digit looks like) count too.
  ``temperature=0`` gives the replay its labels instead (cross-entropy, like the own drawings).

Each of the person's drawings is shifted by up to ``shift`` pixels at random every time it is used,
so ten drawings do not become ten memorised images.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from digitnet.learn import backward, log_softmax, sgd_step
from digitnet.network import Model, dot, forward, normalize, relu, softmax


@dataclass(frozen=True)
class TuneConfig:
    """Hyperparameters of fine-tuning (small, so it runs in seconds in the page)."""

    steps: int = 60
    batch_size: int = 32
    own_share: float = 0.25  # of each batch, the share taken from the person's drawings
    lr: float = 0.01
    momentum: float = 0.8
    weight_decay: float = 1e-5
    shift: int = 2  # each own drawing moved by up to this many pixels, every time
    frozen: int = 1  # the first layers keep their weights; the ones above learn
    replay: int = 512  # replay images used (at most the sample's size)
    temperature: float = 4.0  # replay learns the starting model's answers at this T; 0: the labels
    seed: int = 0


class FineTune:
    """A fine-tuning run, stepped by the caller (so the page can report progress and cancel)."""

    def __init__(
        self,
        model: Model,
        images: np.ndarray,
        labels: np.ndarray,
        replay_images: np.ndarray,
        replay_labels: np.ndarray,
        cfg: TuneConfig = TuneConfig(),
    ):
        """images: (N, 28, 28) float32 in [0, 1] (or uint8 0-255), the person's drawings as the
        network sees them; labels: (N,) ints (a digit, or NOT_DIGIT if the model has that output).
        replay_*: the same for a sample of MNIST. The model is copied, never changed."""
        if len(images) == 0:
            raise ValueError("nothing to learn from: no drawings")
        outputs = model.sizes[-1]
        labels = np.asarray(labels, np.int64)
        if labels.min() < 0 or labels.max() >= outputs:
            raise ValueError(f"labels must be 0..{outputs - 1} for this model")
        if not 0 <= cfg.frozen < len(model.weights):
            raise ValueError(f"frozen must be 0..{len(model.weights) - 1} for this model")
        self.model = Model(
            [w.copy() for w in model.weights],
            [b.copy() for b in model.biases],
            model.mean,
            model.std,
            dict(model.meta),
        )
        self.images = _unit(images)
        self.labels = labels
        self.cfg = cfg
        self.rng = np.random.default_rng(cfg.seed)
        k = cfg.frozen
        pick = self.rng.permutation(len(replay_images))[: cfg.replay]
        self.replay_images = _unit(np.asarray(replay_images)[pick])
        self.replay_labels = np.asarray(replay_labels, np.int64)[pick]
        # The top of the network (layers k..L-1) learns; the start's copy gives the replay's targets.
        self.weights, self.biases = self.model.weights[k:], self.model.biases[k:]
        self.start = ([w.copy() for w in self.weights], [b.copy() for b in self.biases])
        # Each replay image's h and starting logits, computed the first time it is used.
        self.replay_h = np.zeros((len(pick), self.weights[0].shape[0]), np.float32)
        self.replay_z0 = np.zeros((len(pick), outputs), np.float32)
        self.known = np.zeros(len(pick), bool)
        self.own_deck, self.replay_deck = _Deck(len(self.images), self.rng), _Deck(len(pick), self.rng)
        self.params = self.weights + self.biases
        self.velocity = [np.zeros_like(p) for p in self.params]
        self.decays = [True] * len(self.weights) + [False] * len(self.biases)
        self.steps_done = 0
        self.losses: list[float] = []

    @property
    def done(self) -> bool:
        return self.steps_done >= self.cfg.steps

    def step(self, n: int = 1) -> float:
        """Run up to n SGD steps; -> their mean loss (nats; see the module's docstring)."""
        losses = []
        for _ in range(min(n, self.cfg.steps - self.steps_done)):
            loss, grad_w, grad_b = self.gradients(*self._batch())
            sgd_step(
                self.params,
                grad_w + grad_b,
                self.velocity,
                self.cfg.lr,
                self.cfg.momentum,
                self.cfg.weight_decay,
                self.decays,
            )
            losses.append(loss)
            self.steps_done += 1
        self.losses += losses
        return float(np.mean(losses)) if losses else float("nan")

    def gradients(self, h: np.ndarray, labels: np.ndarray, z0: np.ndarray) -> tuple[float, list, list]:
        """Loss and gradients of the learning layers for one batch. h: (B, n_k), the inputs of the
        top of the network; labels: (B,); z0: (R, K), the starting logits of the last R rows,
        which learn them (distillation) instead of their labels."""
        activations = forward(self.weights, self.biases, h)
        z = activations[-1]
        hard, T = len(z) - len(z0), self.cfg.temperature
        rows, y = np.arange(hard), labels[:hard]
        delta = softmax(z)
        delta[rows, y] -= 1
        losses = -log_softmax(z[:hard])[rows, y]
        if len(z0):
            q, q0 = softmax(z[hard:] / T), softmax(z0 / T)
            delta[hard:] = T * (q - q0)
            kl = (q0 * (log_softmax(z0 / T) - log_softmax(z[hard:] / T))).sum(axis=1)
            losses = np.concatenate([losses, T * T * kl])
        delta /= len(z)
        grad_w, grad_b = backward(self.weights, activations, delta)
        return float(losses.mean()), grad_w, grad_b

    def features(self, images: np.ndarray) -> np.ndarray:
        """h: the output of the frozen layers for images (N, 28, 28) in [0, 1]."""
        a = normalize(self.model, images)
        for w, b in zip(self.model.weights[: self.cfg.frozen], self.model.biases[: self.cfg.frozen]):
            a = relu(dot(a, w) + b)
        return a

    def _batch(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """h, labels and z0 for ``gradients``: own drawings (shifted) first, then replay images."""
        cfg, rng = self.cfg, self.rng
        own = max(1, round(cfg.batch_size * cfg.own_share))
        i = self.own_deck.deal(own)
        mine = _shift(self.images[i], rng.integers(-cfg.shift, cfg.shift + 1, (own, 2)))
        j = self.replay_deck.deal(cfg.batch_size - own) if len(self.replay_images) else np.zeros(0, np.int64)
        new = np.unique(j[~self.known[j]])
        if len(new):
            self.replay_h[new] = self.features(self.replay_images[new])
            self.replay_z0[new] = forward(*self.start, self.replay_h[new])[-1]
            self.known[new] = True
        h = np.concatenate([self.features(mine), self.replay_h[j]])
        z0 = self.replay_z0[j] if cfg.temperature else self.replay_z0[:0]
        return h, np.concatenate([self.labels[i], self.replay_labels[j]]), z0


class _Deck:
    """Indices 0..n-1 dealt in shuffled passes: each is used once before any is used again."""

    def __init__(self, n: int, rng: np.random.Generator):
        self.n, self.rng, self.left = n, rng, np.zeros(0, np.int64)

    def deal(self, k: int) -> np.ndarray:
        while len(self.left) < k:
            self.left = np.concatenate([self.left, self.rng.permutation(self.n)])
        out, self.left = self.left[:k], self.left[k:]
        return out


def _unit(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    return (
        images.astype(np.float32) / np.float32(255) if images.dtype == np.uint8 else images.astype(np.float32)
    )


def _shift(images: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Each image (N, h, w) moved by its (rows, cols) offset, filling with 0."""
    out = np.zeros_like(images)
    h, w = images.shape[1:]
    for k, (dy, dx) in enumerate(offsets):
        out[k, max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = images[
            k, max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
        ]
    return out
