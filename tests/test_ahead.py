"""training.ahead: the next epoch's images made in a child process, in order, and the same
training as in one process; a child that fails or dies is an error, never a hang."""

import multiprocessing
import os

import numpy as np
import pytest

from tests.synthetic_data import synthetic
from training import ahead
from training.config import TrainConfig
from training.train import train


def test_epochs_come_in_order_and_each_is_make_of_its_index():
    seen = [x.copy() for x in ahead.epochs(lambda e: np.full((3, 4), e, np.float32), 5, (3, 4))]
    assert [x.tolist() for x in seen] == [np.full((3, 4), e).tolist() for e in range(5)]


def test_leaving_early_stops_the_child():
    before = set(multiprocessing.active_children())
    stream = ahead.epochs(lambda e: np.zeros(8, np.float32), 1000, (8,))
    next(stream)
    children = set(multiprocessing.active_children()) - before  # the one making the epochs
    assert len(children) == 1
    stream.close()
    assert not any(c.is_alive() for c in children)


def _fails(e):
    if e == 2:
        raise ValueError("no such image")
    return np.zeros(2, np.float32)


def _dies(e):
    if e == 1:
        os._exit(3)
    return np.zeros(2, np.float32)


def test_a_failing_or_dying_child_is_an_error_that_says_so():
    with pytest.raises(ahead.AheadError, match=r"(?s)epoch 3.*ValueError: no such image"):
        list(ahead.epochs(_fails, 4, (2,)))
    with pytest.raises(ahead.AheadError, match=r"images died \(exit code 3\)"):
        list(ahead.epochs(_dies, 4, (2,)))


def test_training_with_a_child_equals_training_in_one_process(monkeypatch):
    """The same weights bit for bit whether the augmented epochs come from the child or not."""
    cfg = TrainConfig(layers=[784, 16, 10], epochs=3, batch_size=32, seed=2, elastic=0.75)
    data = synthetic(200, 5)
    with_child, _ = train(cfg, data, progress=False)
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    alone, _ = train(cfg, data, progress=False)
    assert all(
        np.array_equal(a, b)
        for a, b in zip(with_child.weights + with_child.biases, alone.weights + alone.biases)
    )
