"""The training set: MNIST's digits plus the examples generated from them.

The page reads digits drawn with a round pen, resized and placed by its own preprocessing, and
has to say when a drawing is not a digit at all: MNIST alone shows none of that. So the training
digits are joined by copies redrawn the page's way and by drawings labelled 'not a digit',
all generated from the training digits with the run's seed (and cached).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from digitnet.sizes import NOT_DIGIT
from training.config import TrainConfig
from training.data import Dataset
from training.negatives import KINDS

PARALLEL_FROM = 10000  # digits: from this many, the generated sets are made on two cores


def training_set(cfg: TrainConfig, digits: Dataset) -> Dataset:
    """MNIST's training digits, plus (cfg.drawn) a share of them redrawn with a round pen the way
    the page draws, plus (cfg.inked, from the other end) a share as their own ink upscaled on
    the pad, plus (cfg.negatives) drawings that are not digits, labelled NOT_DIGIT.
    Generated from the training digits only, with the run's seed; cached (training/negatives.py).
    The three are made side by side in two processes (each alone is the same bytes either way)."""
    from training.drawn import as_drawn_cached, as_inked_cached
    from training.negatives import make_negatives_cached

    jobs: list[tuple[Callable, tuple, np.ndarray]] = []  # (make, its arguments, labels)
    if cfg.drawn > 0:
        n = int(round(cfg.drawn * len(digits)))
        jobs.append((as_drawn_cached, (digits.images[:n], cfg.seed), digits.labels[:n]))
    if cfg.inked > 0:
        n = int(round(cfg.inked * len(digits)))
        jobs.append((as_inked_cached, (digits.images[-n:], cfg.seed), digits.labels[-n:]))
    if cfg.negatives > 0:
        kinds = tuple(k for k in KINDS if k not in cfg.hold_out)
        jobs.append(
            (
                make_negatives_cached,
                (cfg.negatives, kinds, cfg.seed, digits),
                np.full(cfg.negatives, NOT_DIGIT, np.uint8),
            )
        )
    if not jobs:
        return digits
    if len(digits) >= PARALLEL_FROM and len(jobs) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
            made = [f.result() for f in [pool.submit(make, *args) for make, args, _ in jobs]]
    else:
        made = [make(*args) for make, args, _ in jobs]
    images = [m[0] if isinstance(m, tuple) else m for m in made]  # negatives: (images, kinds)
    return Dataset(
        np.concatenate([digits.images, *images]),
        np.concatenate([digits.labels, *[labels for _, _, labels in jobs]]),
    )
