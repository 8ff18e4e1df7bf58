"""Training a network from scratch, as the page's "Train your own" view runs it (and CPython, alike).

Notation (as ``digitnet.learn``): N training images X (N, 784) uint8 with labels y, hidden sizes
``settings.hidden``, layers 784 -> hidden... -> 10. The algorithm, which ``Run.step`` carries out a
few batches at a time so the page can draw between calls:

    rng = default_rng(seed)
    W_l, b_l = init_params(sizes, rng)          He initialisation, biases 0
    mean, std = X's pixels (in [0, 1]): mean and standard deviation
    v = 0 for every W_l and b_l
    for epoch in 1..epochs:
        order = rng.permutation(N)              a fresh shuffle
        for each batch B of ``batch`` consecutive entries of order:
            x = (X[B] / 255 - mean) / std       (shifted by up to 2 px at random, with ``augment``)
            loss, dW, db = backprop(W, b, x, y[B])
            v <- 0.9 v - lr * g;  p <- p + v     for every parameter p and its gradient g
        accuracy on the whole test set

A loss that is not finite, or over ``DIVERGED`` (the network's answers have blown up), stops the
run: the network that last finished an epoch (or the initial one) is kept, and ``diverged`` says so
in plain words. float32 throughout; each batch's pixels are made float32 once, in a buffer kept
for the run.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from digitnet.learn import backprop, init_params, sgd_step
from digitnet.network import Model, forward
from digitnet.sizes import CLASSES, PIXELS, SIDE

HIDDEN_CHOICES = (16, 32, 64, 128, 256)
MOMENTUM = 0.9
DIVERGED = 1e3  # a batch's mean loss above this (in nats) is divergence, not learning
LR_MAX, BATCH_MAX, EPOCHS_MAX = 10.0, 1024, 50
SHIFT = 2  # augmentation: each image moved by up to this many pixels, each way
AUGMENT_STREAM = 0xA6  # the augmentation's random numbers: default_rng([seed, AUGMENT_STREAM])
EVAL_ROWS = 500  # test images read at once (about 30 ms in the page)


@dataclass(frozen=True)
class Settings:
    """What to train and how. ``hidden``: one or two hidden layer sizes from HIDDEN_CHOICES; ``lr``:
    the learning rate; ``batch``: images per step; ``epochs``: passes over the training images;
    ``augment``: shift each image by up to 2 px at random; ``seed``: the initial weights, the
    shuffles and the shifts; ``limit``: use only the first ``limit`` training images."""

    hidden: tuple[int, ...] = (128,)
    lr: float = 0.02  # the defaults, chosen by measurement: docs/model.md "Training here"
    batch: int = 64
    epochs: int = 5
    augment: bool = False
    seed: int = 0
    limit: int | None = None

    def __post_init__(self) -> None:
        if not (
            isinstance(self.hidden, (tuple, list))
            and 1 <= len(self.hidden) <= 2
            and all(type(h) is int and h in HIDDEN_CHOICES for h in self.hidden)
        ):
            raise ValueError(
                f"hidden must be one or two layer sizes from {', '.join(map(str, HIDDEN_CHOICES))}, "
                f"not {_show(self.hidden)}"
            )
        object.__setattr__(self, "hidden", tuple(self.hidden))
        if not (type(self.lr) in (int, float) and 0 < self.lr <= LR_MAX):
            raise ValueError(
                f"lr (the learning rate) must be a number above 0 and at most {LR_MAX:g}, "
                f"not {_show(self.lr)}"
            )
        object.__setattr__(self, "lr", float(self.lr))
        _whole("batch", self.batch, 1, BATCH_MAX)
        _whole("epochs", self.epochs, 1, EPOCHS_MAX)
        if type(self.augment) is not bool:
            raise ValueError(f"augment must be true or false, not {_show(self.augment)}")
        _whole("seed", self.seed, 0, 2**32 - 1)
        if self.limit is not None:
            _whole("limit", self.limit, 1, 10**9)

    @classmethod
    def from_json(cls, text: str) -> Settings:
        """Settings from a JSON object; a missing field takes its default. Raises ValueError with a
        plain message naming the field (or saying the text is not a JSON object)."""
        try:
            fields = json.loads(text)
        except (TypeError, ValueError) as e:
            raise ValueError(f"the settings are not valid JSON ({e})") from None
        if not isinstance(fields, dict):
            raise ValueError(f"the settings must be a JSON object, not {_show(fields)}")
        known = list(cls.__dataclass_fields__)
        if unknown := [k for k in fields if k not in known]:
            raise ValueError(f"unknown setting {_show(unknown[0])} (the settings are {', '.join(known)})")
        return cls(**fields)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "hidden": list(self.hidden)}


def _whole(name: str, value: Any, low: int, high: int) -> None:
    if not (type(value) is int and low <= value <= high):
        raise ValueError(f"{name} must be a whole number from {low} to {high}, not {_show(value)}")


def _show(value: Any, limit: int = 40) -> str:
    text = (
        json.dumps(value)
        if isinstance(value, (str, list, tuple, dict, bool)) or value is None
        else repr(value)
    )
    return text if len(text) <= limit else text[: limit - 3] + "..."


def shifted(images: np.ndarray, rng: np.random.Generator, shift: int = SHIFT) -> np.ndarray:
    """Each of the images (n, 784) uint8 moved by a random whole number of pixels from -shift to
    shift, across and down (what moves out is lost, what comes in is blank) -> (n, 784) uint8."""
    n = len(images)
    padded = np.zeros((n, SIDE + 2 * shift, SIDE + 2 * shift), np.uint8)
    padded[:, shift:-shift, shift:-shift] = images.reshape(n, SIDE, SIDE)
    dy, dx = rng.integers(0, 2 * shift + 1, size=(2, n, 1, 1))
    side = np.arange(SIDE)
    rows, cols = dy + side[None, :, None], dx + side[None, None, :]
    return padded[np.arange(n)[:, None, None], rows, cols].reshape(n, PIXELS)


class Run:
    """One training run, a few batches at a time: ``step``. Images are (N, 784) (or (N, 28, 28))
    uint8, labels (N,) 0-9."""

    def __init__(
        self,
        settings: Settings,
        train_images: np.ndarray,
        train_labels: np.ndarray,
        test_images: np.ndarray,
        test_labels: np.ndarray,
    ) -> None:
        s = self.settings = settings
        self.images = train_images.reshape(len(train_images), PIXELS)[: s.limit]
        self.labels = train_labels[: s.limit].astype(np.intp)
        self.test_images = test_images.reshape(len(test_images), PIXELS)
        self.test_labels = test_labels.astype(np.intp)
        self.n = len(self.labels)
        if self.n == 0 or len(self.images) != self.n or len(self.test_images) != len(self.test_labels):
            raise ValueError("the training and test images need as many labels as images, and some images")
        self.sizes = [PIXELS, *s.hidden, CLASSES]
        self.rng = np.random.default_rng(s.seed)
        self.weights, self.biases = init_params(self.sizes, self.rng)
        self.mean, self.std = pixel_mean_std(self.images)
        # x = (X / 255 - mean) / std = X * scale - offset, in one pass over a batch's pixels
        self.scale = np.float32(1 / (255 * self.std))
        self.offset = np.float32(self.mean / self.std)
        self.params = self.weights + self.biases
        self.velocity = [np.zeros(p.shape, np.float32) for p in self.params]
        self.shifts = np.random.default_rng([s.seed, AUGMENT_STREAM])
        self.x = np.empty((min(s.batch, self.n), PIXELS), np.float32)  # a batch's inputs
        self.batches_per_epoch = math.ceil(self.n / s.batch)
        self.epoch = 0  # epochs finished
        self.batch = 0  # batches done in the epoch under way
        self.order = np.arange(self.n)
        self.seen = 0  # training images learned from, in all
        self.losses: list[float] = []  # every batch's loss
        self.accuracy: list[float] = []  # test accuracy after each finished epoch
        self.diverged: str | None = None
        self.good = [p.copy() for p in self.params]  # the network that last finished an epoch
        self.testing: int | None = None  # at an epoch's end: the next test image to read
        self.tested = np.empty(len(self.test_labels), np.intp)  # what the network read of them so far
        self._reads: tuple[int, np.ndarray] | None = None  # (seen, the test set read at that point)

    @property
    def done(self) -> bool:
        return self.epoch == self.settings.epochs or self.diverged is not None

    def step(self, max_batches: int, until: float | None = None) -> int:
        """Learn from up to ``max_batches`` batches; stops early at an epoch's end (after reading the
        whole test set) and when the run is done or diverges. -> the batches run. ``until``: a
        ``time.perf_counter()`` past which the epoch's test reading stops after the chunk under way
        (EVAL_ROWS images) and goes on at the next call, so no call holds the worker for the whole
        test set (None: read it all at once)."""
        ran, tested = 0, False
        while not self.done:
            if self.testing is not None:  # the epoch's end: its test reading, a chunk at a time
                if tested and until is not None and time.perf_counter() >= until:
                    break
                self.test_some()
                tested = True
                if self.testing is None:
                    break  # the epoch is finished
                continue
            if ran >= max_batches:
                break
            if self.batch == 0:
                self.order = self.rng.permutation(self.n)
            b = self.settings.batch
            batch = self.order[self.batch * b : (self.batch + 1) * b]
            self.learn(batch)
            ran += 1
            if self.diverged:
                break
            self.batch += 1
            self.seen += len(batch)
            if self.batch == self.batches_per_epoch:
                self.testing = 0
        return ran

    def test_some(self) -> None:
        """Read the next EVAL_ROWS test images at an epoch's end; the last chunk finishes the epoch."""
        i = self.testing
        self.tested[i : i + EVAL_ROWS] = self.read_rows(i)
        self.testing = i + EVAL_ROWS
        if self.testing >= len(self.test_labels):
            self.testing = None
            self._reads = (self.seen, self.tested.copy())
            self.finish_epoch()

    def learn(self, batch: np.ndarray) -> float:
        """One step of gradient descent on the images ``batch`` (indices) -> the batch's loss."""
        x = self.inputs(batch)
        loss, grad_w, grad_b, _ = backprop(self.weights, self.biases, x, self.labels[batch])
        self.losses.append(loss)
        if not math.isfinite(loss) or loss > DIVERGED:
            self.diverge(loss)
        else:
            sgd_step(self.params, grad_w + grad_b, self.velocity, self.settings.lr, MOMENTUM)
        return loss

    def inputs(self, batch: np.ndarray) -> np.ndarray:
        """The network's inputs for the images ``batch`` (indices): (n, 784) float32 in ``self.x``."""
        pixels = self.images[batch]
        if self.settings.augment:
            pixels = shifted(pixels, self.shifts)
        x = self.x[: len(batch)]
        np.multiply(pixels, self.scale, out=x)
        x -= self.offset
        return x

    def inputs_of(self, pixels: np.ndarray) -> np.ndarray:
        """The network's inputs for any images (n, 784) uint8: (n, 784) float32."""
        x = np.multiply(pixels, self.scale, dtype=np.float32)
        x -= self.offset
        return x

    def finish_epoch(self) -> None:
        self.epoch += 1
        self.batch = 0
        self.accuracy.append(float((self.reads() == self.test_labels).mean()))
        for good, p in zip(self.good, self.params):
            good[...] = p

    def diverge(self, loss: float) -> None:
        """Stop: the loss ``loss`` says the network has blown up; back to the last good network."""
        lr = self.settings.lr
        kept = f"the network after epoch {self.epoch}" if self.epoch else "the initial network"
        self.diverged = (
            f"The loss became {'too large' if math.isfinite(loss) else 'infinite or not a number'} "
            f"({loss:.3g}) at epoch {self.epoch + 1}: the learning rate {lr:g} is too high for "
            f"this network. Training stopped; {kept} is kept. Try a smaller learning rate, "
            f"such as {lr / 10:g}."
        )
        for good, p in zip(self.good, self.params):
            p[...] = good
        self._reads = None

    def reads(self) -> np.ndarray:
        """What the network as it is reads each test image: (M,) digits (made once per state)."""
        if self._reads is None or self._reads[0] != self.seen:
            out = np.empty(len(self.test_labels), np.intp)
            for i in range(0, len(out), EVAL_ROWS):
                out[i : i + EVAL_ROWS] = self.read_rows(i)
            self._reads = (self.seen, out)
        return self._reads[1]

    def read_rows(self, i: int) -> np.ndarray:
        """What the network as it is reads test images i to i + EVAL_ROWS: their digits."""
        x = self.inputs_of(self.test_images[i : i + EVAL_ROWS])
        return forward(self.weights, self.biases, x)[-1].argmax(axis=1)

    def progress(self) -> dict[str, Any]:
        return {
            "epoch": self.epoch,
            "epochs": self.settings.epochs,
            "batch": self.batch,
            "batches_per_epoch": self.batches_per_epoch,
            "seen": self.seen,
            "accuracy": list(self.accuracy),
            "done": self.done,
            "diverged": self.diverged,
        }

    def pictures(self, n: int = 64) -> np.ndarray:
        """The first layer's incoming weights of its first ``n`` units (at most all): (k, 784)
        float32, each unit's scaled to [-1, 1] by its largest magnitude (a 28x28 picture each)."""
        w = self.weights[0][:, : max(0, n)].T  # (k, 784)
        top = np.abs(w).max(axis=1, keepdims=True)
        return (w / np.where(top > 0, top, np.float32(1))).astype(np.float32)

    def mistakes(self, n: int = 8) -> list[tuple[int, int, int]]:
        """Up to ``n`` test digits the network as it is reads wrong, in the test set's order:
        [(index, label, read)]."""
        reads = self.reads()
        wrong = np.flatnonzero(reads != self.test_labels)[: max(0, n)]
        return [(int(i), int(self.test_labels[i]), int(reads[i])) for i in wrong]

    def model(self) -> Model:
        """The network as it is (after divergence: the one kept), with its test error, as a
        ``Model`` (copies: training on does not change it)."""
        error = float((self.reads() != self.test_labels).mean()) if len(self.test_labels) else None
        meta = {
            "name": "trained here",
            "settings": self.settings.as_dict(),
            "trained": {"epochs": self.epoch, "images": self.seen, "diverged": self.diverged is not None},
            "test_error": error,
        }
        return Model(
            [np.ascontiguousarray(w, np.float32).copy() for w in self.weights],
            [b.astype(np.float32, copy=True) for b in self.biases],
            self.mean,
            self.std,
            meta,
        )


def pixel_mean_std(images: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation of the images' pixels scaled to [0, 1], from a histogram of the
    uint8 values (exact, and no float copy of the images)."""
    counts = np.zeros(256, np.int64)
    for i in range(0, len(images), 4096):
        counts += np.bincount(images[i : i + 4096].ravel(), minlength=256)
    values = np.arange(256) / 255
    total = counts.sum()
    mean = float(counts @ values / total)
    std = float(np.sqrt(counts @ (values - mean) ** 2 / total))
    return mean, std if std > 0 else 1.0
