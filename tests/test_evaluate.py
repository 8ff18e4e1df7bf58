"""training.evaluate counts as the page decides: digitnet.predict.verdict, image by image."""

import numpy as np

from digitnet.network import Model
from digitnet.predict import parts_apart, verdict
from digitnet.preprocess import to_mnist
from digitnet.sizes import CLASSES, NOT_DIGIT
from training.data import Dataset
from training.evaluation import Evaluation, evaluate
from training.strokes import DIGITS, render, transform


def test_evaluation_predicts_the_pages_verdict():
    probs = np.full((4, CLASSES + 1), 0.01, np.float32)
    probs[[0, 1, 2, 3], [3, 3, NOT_DIGIT, 7]] = 0.9
    labels = np.array([3, 3, NOT_DIGIT, 7])
    apart = np.array([False, True, False, False])
    ev = Evaluation(probs, labels, apart)
    assert ev.predicted.tolist() == [3, NOT_DIGIT, NOT_DIGIT, 7]
    for k in range(4):  # the same, one by one
        said, _ = verdict(probs[k], bool(apart[k]))
        assert (said == "not-digit") == (ev.predicted[k] == NOT_DIGIT)
    assert ev.error == 0.25 and ev.digit_reject_rate == 1 / 3
    assert Evaluation(probs[:, :CLASSES], labels.clip(0, 9), apart).predicted[1] == 3  # 10 classes


def test_evaluate_finds_the_parts_apart_itself():
    twelve = to_mnist(
        render(transform(DIGITS[1], 0.5, -0.2) + transform(DIGITS[2], 0.5, 0.2), size=140, width=8)
    )
    seven = to_mnist(render(DIGITS[7], size=140, width=8))
    images = np.round(np.stack([twelve, seven]) * 255).astype(np.uint8)
    assert parts_apart(images).tolist() == [True, False]
    rng = np.random.default_rng(0)
    model = Model(
        [rng.normal(0, 0.01, (784, CLASSES + 1)).astype(np.float32)],
        [np.zeros(CLASSES + 1, np.float32)],
        0.0,
        1.0,
        {},
    )
    ev = evaluate(model, Dataset(images, np.array([NOT_DIGIT, 7], np.uint8)))
    assert ev.apart.tolist() == [True, False] and ev.predicted[0] == NOT_DIGIT


def test_negatives_are_summed_up_over_all_unseen_and_seen_kinds():
    from training.evaluate import summarize_negatives

    per_kind = {
        "a": {"n": 100, "rejected": 0.9, "held_out": False},
        "b": {"n": 300, "rejected": 0.5, "held_out": True},
        "c": {"n": 100, "rejected": 1.0, "held_out": False},
    }
    assert summarize_negatives(per_kind) == {"all": 0.68, "held_out": 0.5, "seen": 0.95}  # 340 of 500


def test_glyphs_are_counted_one_by_one():
    """evaluate_glyphs: every symbol (or pictogram), drawn as its kind draws it, and its share rejected."""
    from training.evaluate import evaluate_glyphs
    from training.negatives import PICTOGRAMS, SYMBOLS

    always = Model(
        [np.zeros((784, CLASSES + 1), np.float32)],
        [np.r_[np.zeros(CLASSES), 9.0].astype(np.float32)],
        0.0,
        1.0,
        {},
    )  # "not a digit"
    never = Model(
        [np.zeros((784, CLASSES + 1), np.float32)],
        [np.r_[9.0, np.zeros(CLASSES)].astype(np.float32)],
        0.0,
        1.0,
        {},
    )  # "0"
    shares = evaluate_glyphs(always, SYMBOLS, 3, seed=1)
    assert list(shares) == list(SYMBOLS) and set(shares.values()) == {1.0}
    assert max(evaluate_glyphs(never, SYMBOLS, 3, seed=1).values()) < 1.0  # only parts side by side
    assert list(evaluate_glyphs(always, PICTOGRAMS[:2], 1, seed=1)) == list(PICTOGRAMS[:2])
