"""Examples of "not a digit" (training.negatives): made as the page makes its input, reproducible,
no look-alikes of digits, held-out kinds apart, and the cache."""

import numpy as np
import pytest

from digitnet.preprocess import to_mnist
from digitnet.sizes import CANVAS
from tools.paths import DATA_DIR
from training import cache, drawn
from training import negatives as neg
from training.drawn import as_drawn
from training.fetch import load_mnist
from training.negatives import (
    EXCLUDED_LETTERS,
    EXCLUDED_SYMBOLS,
    HELD_OUT,
    KINDS,
    LETTERS,
    SHAPES,
    SYMBOLS,
    TRAIN_KINDS,
    generate,
    lookalike,
    make_negatives,
)


@pytest.fixture(scope="module")
def mnist_test():
    return load_mnist(DATA_DIR / "mnist_test.csv")


@pytest.fixture(scope="module")
def digits(mnist_test):
    return mnist_test.images[:300]


def test_held_out_kinds_are_apart_from_training_kinds():
    assert set(HELD_OUT) | set(TRAIN_KINDS) == set(KINDS) and HELD_OUT and TRAIN_KINDS
    assert not set(HELD_OUT) & set(TRAIN_KINDS)
    assert make_negatives(3, TRAIN_KINDS[:1], 0)[1].tolist() == [KINDS.index(TRAIN_KINDS[0])] * 3
    assert set(neg.GENERATORS) == set(KINDS)


def test_foreign_letters_are_new_shapes_and_keep_clear_of_the_symbols():
    assert neg.FOREIGN_LETTERS and set(neg.FOREIGN_LETTERS) <= set(neg.LETTERS)
    assert not set(neg.LETTERS) & set(neg.SYMBOLS)
    assert not set(neg.FOREIGN_LETTERS) & set("ΠПпμπµΟοΘθδΙιΤτΓГТтЗзЭэЧчУуЬьБбВв")


def test_signs_and_pictograms_are_new_drawable_shapes_clear_of_digits_and_symbols():
    """SIGNS and PICTOGRAMS (held out by the run that measures generalisation): apart from each
    other, the letters and the symbols, none solid (thinned to a frame of lines) nor one of the
    look-alikes the comment names (ב: a 7; ⊇: a 2; ✱: *)."""
    signs, pictograms = neg.SIGNS, neg.PICTOGRAMS
    assert "signs" in TRAIN_KINDS and "pictograms" in KINDS
    assert len(signs) == len(set(signs)) >= 100 and len(pictograms) == len(set(pictograms)) >= 40
    assert not set(signs) & set(pictograms)
    assert not set(signs + pictograms) & set(LETTERS + SYMBOLS + "".join(EXCLUDED_SYMBOLS))
    assert not set(pictograms) & set("♡✉")  # the shapes kind draws a heart and an envelope
    assert not set(signs + pictograms) & set(
        "▢◊♢❍⊘⎔⌬⌂☪טם☦☨⚕✎✐⚘∮גלףץ➘➚↩↪בכפצח☃⊃⊇✱✲✳✺❄✙✚✛✠☩☓✕✖✗✘≤≥∧∨≠≡≈∼∓♯‰■▲◆♠♥❤➡☻♚✈₹€$¢"
    )
    widths = neg.ink_widths(signs + pictograms)
    assert set(widths) == set(signs + pictograms)  # every one in DejaVu Sans at least
    solid = {c: round(w, 1) for c, w in widths.items() if w > neg.SOLID}
    assert not solid
    assert neg.ink_widths("■♥")["■"] > neg.SOLID  # what the check would catch


def test_a_face_without_a_glyph_draws_nothing_for_it():
    """A char a DejaVu face lacks is skipped there, not drawn as the face's "missing glyph" box."""
    faces = {font for font, _, _ in neg.glyph_masks("⚓")}
    assert "DejaVuSans.ttf" in faces and "DejaVuSerif.ttf" not in faces


def test_look_alikes_of_digits_are_left_out():
    for excluded in "OoQDlIijJZzSsGbTBgqay":
        assert excluded in EXCLUDED_LETTERS and excluded not in LETTERS
    for excluded in "|/\\()[]{}!-_.,'`\":;":
        assert excluded in EXCLUDED_SYMBOLS and excluded not in SYMBOLS
    assert not set(LETTERS) & set(SYMBOLS)
    drawn_chars = {char for text in (LETTERS, SYMBOLS) for _, char, _ in neg.glyphs(text)}
    assert drawn_chars <= set(LETTERS + SYMBOLS) and len(drawn_chars) >= 45
    assert not {"circle", "ellipse", "oval", "line", "pentagon", "hexagon", "check"} & set(SHAPES)
    doc = neg.__doc__
    assert all(c in doc for c in EXCLUDED_LETTERS) and all(c in doc for c in EXCLUDED_SYMBOLS)


def test_lookalike_flags_ones_and_zeros_but_no_other_digit(mnist_test):
    images, labels = mnist_test.images[:2000], mnist_test.labels[:2000]
    flagged = lookalike(images)
    assert flagged[labels == 1].mean() > 0.6
    assert flagged[labels == 0].mean() > 0.2
    assert flagged[labels >= 2].mean() < 0.01


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_is_a_pad_the_page_reads_and_no_lookalike(kind, digits):
    pads: list = []
    images = generate(kind, 12, np.random.default_rng(7), digits, pads)
    assert images.shape == (12, 28, 28) and images.dtype == np.uint8 and len(pads) == 12
    for image, pad in zip(images, pads):
        assert pad.shape == (CANVAS, CANVAS) and pad.dtype == np.uint8
        read = to_mnist(pad)
        assert read is not None  # not empty, not a lone dot
        assert np.array_equal(image, np.round(read * 255).astype(np.uint8))
        assert image.max() >= 200 and (image > 127).sum() >= 20  # real ink, not a smudge
    assert not lookalike(images).any()
    assert len({im.tobytes() for im in images}) == 12


def test_make_negatives_is_reproducible_with_an_even_share_per_kind(digits):
    n = 3 * len(KINDS) + 2  # two kinds get one more
    images, kinds = make_negatives(n, KINDS, seed=3, digits=digits)
    assert images.shape == (n, 28, 28) and images.dtype == np.uint8
    assert kinds.shape == (n,) and np.issubdtype(kinds.dtype, np.integer)
    counts = np.bincount(kinds, minlength=len(KINDS))
    assert sorted(counts.tolist()) == [3] * (len(KINDS) - 2) + [4, 4]
    again = make_negatives(n, KINDS, seed=3, digits=digits)
    assert np.array_equal(images, again[0]) and np.array_equal(kinds, again[1])
    other = make_negatives(n, KINDS, seed=4, digits=digits)
    assert not np.array_equal(images, other[0])
    assert make_negatives(0, TRAIN_KINDS, 0, digits)[0].shape == (0, 28, 28)


def test_make_negatives_refuses_bad_requests(digits):
    with pytest.raises(ValueError, match="digits="):
        make_negatives(5, ["two_digits"], 0)
    with pytest.raises(ValueError, match="unknown kinds"):
        make_negatives(5, ["letters", "digits"], 0)
    with pytest.raises(ValueError, match="repeated"):
        make_negatives(5, ["letters", "letters"], 0)
    with pytest.raises(ValueError, match="MNIST images"):
        make_negatives(5, ["stray_mark"], 0, digits=np.zeros((4, 20, 20), np.uint8))


# -------------------------------------------------------------------------------- cache


def test_cached_makes_once_then_loads_and_rebuilds_a_damaged_file(tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "CACHE_DIR", tmp_path / "generated")
    calls = []

    def make():
        calls.append(1)
        return {"images": np.arange(12, dtype=np.uint8).reshape(3, 2, 2), "kinds": np.array([1, 2, 3])}

    first = cache.cached("test", {"n": 3}, make)
    path = cache.cache_path("test", {"n": 3})
    assert path.parent == tmp_path / "generated" and path.is_file() and len(path.stem) == 64
    second = cache.cached("test", {"n": 3}, make)
    assert len(calls) == 1 and set(second) == {"images", "kinds"}
    assert all(np.array_equal(first[k], second[k]) for k in first)
    cache.cached("test", {"n": 4}, make)  # other params: another file
    assert len(calls) == 2 and cache.cache_path("test", {"n": 4}) != path
    for damage in (b"", b"not a zip at all", path.read_bytes()[:100]):
        path.write_bytes(damage)
        again = cache.cached("test", {"n": 3}, make)
        assert np.array_equal(again["images"], first["images"])
        assert cache.cached("test", {"n": 3}, make) and path.stat().st_size > 100
    assert len(calls) == 5
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".part")] == []


def test_cached_negatives_and_drawn_give_what_they_wrap(tmp_path, monkeypatch, digits):
    monkeypatch.setattr(cache, "CACHE_DIR", tmp_path)
    images, kinds = neg.make_negatives_cached(14, KINDS, 1, digits)
    again = neg.make_negatives_cached(14, KINDS, 1, digits)
    made = make_negatives(14, KINDS, 1, digits)
    assert np.array_equal(images, made[0]) and np.array_equal(kinds, made[1])
    assert np.array_equal(again[0], images)
    redrawn = drawn.as_drawn_cached(digits[:10], 2)
    assert np.array_equal(redrawn, as_drawn(digits[:10], 2))
    assert np.array_equal(drawn.as_drawn_cached(digits[:10], 2), redrawn)  # the same file
    inked = drawn.as_inked_cached(digits[:10], 2)
    assert np.array_equal(inked, drawn.as_inked(digits[:10], 2))
    assert np.array_equal(drawn.as_inked_cached(digits[:10], 2), inked)
    assert len(list(tmp_path.glob("*.npz"))) == 3
