"""Things people draw on the pad that are not digits: examples of the class "not a digit".

Every example is made the way the page makes its input: strokes drawn with an anti-aliased
round pen of constant width (``PEN_MIN``-``PEN_MAX`` of the pad) on a CANVAS x CANVAS uint8
pad, then ``digitnet.preprocess.to_mnist`` -> 28x28 (a pad it reads as nothing, an empty one or
a lone dot, is drawn again), stored as uint8. All from sources on this machine: the DejaVu
fonts (Debian's fonts-dejavu-core), MNIST digits given by the caller, and NumPy's random
generator. The same arguments give the same bytes.

Kinds (``KINDS``), by module
----------------------------
letters (``fonts``)
    Latin letters, and Greek and Cyrillic ones unlike both (``FOREIGN_LETTERS``), in the DejaVu
    faces (``FONTS``), thinned to a skeleton and redrawn with a round pen under a random rotation, shear,
    stretch and a slow hand wobble: a letter as someone writes it with a pen, not a font's outline.
symbols (``fonts``)
    ``SYMBOLS`` (# @ & % $ * + = ? < > ~ ^ and a few Latin-1 signs), the same way. Some are digit
    shapes with something more (? ¿ < > $ €: a hooked 7 over a dot, a 7's angle, an S crossed by
    bars); only examples teach that a dot, a bar or an open angle unmakes a digit.
shapes (``shapes``)
    Outlines drawn as strokes: triangle, square (or a wide rectangle, or a diamond), stars,
    crosses (x and +), heart, arrows, spirals (2-3.5 turns), a house, an envelope, a window.
scribbles (``shapes``)
    Random smooth tangles (at least 4 times as long as they are wide), rows of loops,
    zig-zags (5-9 legs) and waves (2.5-4 periods), with thinner pens than other kinds (at most
    0.12 of the drawing's size: a thick pen turns them into a bar).
two_digits (``composites``)
    Two (or three) MNIST digits side by side, drawn as pen strokes (their skeletons, as in
    ``training.drawn``) or placed as ink (upscaled); each digit holds at least 15% of the ink,
    so the page's speck filter cannot drop one and leave a single digit.
digit_and_letter (``composites``)
    A digit beside a letter of ``letters`` (and perhaps a second digit), as ``two_digits``.
stray_mark (``composites``)
    One MNIST digit and a separate mark (a line, a tick, a small loop, wave, zig-zag, cross
    or scribble, at least 6 pen widths long) beside it, at least 14 px and 30% of the digit's
    height away, holding 8-50% of the ink: more than the 5% under which the page drops a speck.
    Never straight above or below (a 1 with a mark above is an i, below a !).
blobs (``blobs``)
    Heavy ink: irregular regions filled with dense back-and-forth strokes, regions hatched with
    spaced or crossed lines (polygons sometimes outlined), and tight scribbles with a thick pen.
signs (``fonts``)
    ``SIGNS``, other signs DejaVu draws (arrows, set operators, boxed and circled operators,
    outlined shapes, stars, emblems, Hebrew letters), the same way as letters: the variety of
    things that are not digits, so that "not a digit" is more than the few shapes of the other kinds.
pictograms (``fonts``)
    ``PICTOGRAMS``, little pictures DejaVu draws (faces, chess pieces, tools, scissors, hands,
    flowers...), the same way; the glyph kind a run can hold out to measure how rejection
    generalises to glyphs.

Left out because a person would accept them as a digit (or the page reads them as nothing)
-------------------------------------------------------------------------------------------
Letters (``EXCLUDED_LETTERS``): O o Q D (a 0), l I i j J (a 1: a stroke, with a dot or a hook),
Z z (a 2), S s (a 5), G b (a 6), T (a 7), B (an 8), g q a (a 9), y (an open 4 or a 9 with an open
loop). Symbols (``EXCLUDED_SYMBOLS``): | / \\ ( ) [ ] { } ! (a 1: one straight or slightly curved
stroke, perhaps with serifs or a dot), - _ (a lone straight line), . , ' ` " : ; (dots and ticks:
nothing to read, or a 1), ¬ and √ (the angle of a 7), § ß ∞ (an 8), £ (a 2 or 4), ¡ (an i), ¶
(its solid bowl thins to a line). Shapes: no circles or ellipses (a 0), no single straight line
(a 1), no open angle or check mark (a 7); polygons are triangles and quadrilaterals only (a
pentagon, or anything rounder, drawn with a thick pen is a lumpy 0), rectangles are never
taller than wide, arrows point within 20 degrees of horizontal (a steep
arrow is a 7 with a tick), zig-zags have 5 or more legs (two or three make a 7, a Z or an N),
loops run side by side, never stacked (two stacked loops are an 8), spirals turn at least
twice (one turn curling in is a 6), tangles are long. Filled blobs are irregular and at most
about 1.5:1 before the jitter (a long solid bar would be a thick 1). Any glyph ``to_mnist``
reads as nothing is dropped when the glyphs are built. Last, a check on every example as the
network would see it (``lookalikes``): one closer than LOOKALIKE (cosine similarity) to a lone
straight line or an ellipse drawn the same way is drawn again; this flags most of MNIST's 1s,
many of its 0s and almost no other digit, and few examples of any kind (round letters such as
e, c and C most).

Held out (``HELD_OUT``, ``training.train --hold-out``)
---------------------------------------------------------
``stray_mark`` is never trained on by the defaults, only used to measure whether rejection
generalises to a digit-based kind (a digit plus something else, when training only saw digits
beside digits or letters). For glyphs the question is answered by a second run that also holds
out the ``pictograms`` (``--hold-out stray_mark pictograms``): pictures of things, where training
saw letters, symbols, signs and shapes. The default training includes the pictograms: a person
draws a smiley more often than a chess piece, and should hear "not a digit" for it. Held-out
measurement should use MNIST test digits (``digits`` = the test set).

Glyph skeletons are built once per process and the strokes of all drawings are rendered in one
vectorised pass (``training.strokes.render_many``). ``make_negatives_cached`` keeps what it makes
in ``training.cache``, so training does not make it twice.

    python -m training.negatives --preview     # artifacts/negatives.png and artifacts/drawn.png
    python -m training.negatives --time        # 20000 negatives and 60000 as_drawn, timed
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from digitnet import preprocess, sizes
from digitnet.preprocess import to_mnist
from digitnet.sizes import SIDE
from training import cache, drawn, strokes
from training.negatives import blobs, composites, fonts, lookalikes, pen, shapes
from training.negatives.blobs import make_blobs
from training.negatives.composites import (
    digit_images,
    make_digit_and_letter,
    make_stray_marks,
    make_two_digits,
)
from training.negatives.fonts import (
    EXCLUDED_LETTERS,
    EXCLUDED_SYMBOLS,
    FONT_DIR,
    FONTS,
    FOREIGN_LETTERS,
    GLYPH_GRID,
    LETTERS,
    PICTOGRAMS,
    SIGNS,
    SOLID,
    SYMBOLS,
    glyph_masks,
    glyphs,
    ink_widths,
    make_glyphs,
)
from training.negatives.lookalikes import LOOKALIKE, lookalike, lookalike_templates
from training.negatives.shapes import MARKS, SCRIBBLES, SHAPES, make_scribbles, make_shapes

__all__ = [
    "KINDS",
    "HELD_OUT",
    "TRAIN_KINDS",
    "NEEDS_DIGITS",
    "GENERATORS",
    "generate",
    "glyph_examples",
    "make_negatives",
    "make_negatives_cached",
    "EXCLUDED_LETTERS",
    "EXCLUDED_SYMBOLS",
    "FONT_DIR",
    "FONTS",
    "FOREIGN_LETTERS",
    "GLYPH_GRID",
    "LETTERS",
    "PICTOGRAMS",
    "SIGNS",
    "SOLID",
    "SYMBOLS",
    "glyph_masks",
    "glyphs",
    "ink_widths",
    "LOOKALIKE",
    "lookalike",
    "lookalike_templates",
    "MARKS",
    "SCRIBBLES",
    "SHAPES",
]

KINDS = (
    "letters",
    "symbols",
    "shapes",
    "scribbles",
    "two_digits",
    "digit_and_letter",
    "stray_mark",
    "blobs",
    "signs",
    "pictograms",
)
HELD_OUT = ("stray_mark",)
TRAIN_KINDS = tuple(k for k in KINDS if k not in HELD_OUT)
NEEDS_DIGITS = ("two_digits", "digit_and_letter", "stray_mark")

#: kind -> make(rng, m, digits): about m pads of that kind.
GENERATORS: dict[str, Callable] = {
    "letters": functools.partial(make_glyphs, LETTERS),
    "symbols": functools.partial(make_glyphs, SYMBOLS),
    "shapes": make_shapes,
    "scribbles": make_scribbles,
    "two_digits": make_two_digits,
    "digit_and_letter": make_digit_and_letter,
    "stray_mark": make_stray_marks,
    "blobs": make_blobs,
    "signs": functools.partial(make_glyphs, SIGNS),
    "pictograms": functools.partial(make_glyphs, PICTOGRAMS),
}


def _check_kinds(kinds: Sequence[str], digits) -> tuple[str, ...]:
    """``kinds`` as a tuple, or ValueError: unknown, none, repeated, or made from digits not given."""
    kinds = tuple(kinds)
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise ValueError(f"unknown kinds {unknown}: choose from {KINDS}" if unknown else "no kinds given")
    if len(set(kinds)) != len(kinds):
        raise ValueError(f"kinds repeated: {kinds}")
    need = [k for k in kinds if k in NEEDS_DIGITS]
    if need and digits is None:
        raise ValueError(
            f"kinds {need} are made from MNIST digits: pass digits= (training "
            "images for training, test images for evaluation)"
        )
    return kinds


def generate(
    kind: str, n: int, rng: np.random.Generator, digits=None, pads: list | None = None
) -> np.ndarray:
    """n examples of one kind -> (n, 28, 28) uint8, each a pad that ``to_mnist`` reads and that
    is no ``lookalike`` of a 1 or a 0; the pads themselves are appended to ``pads`` when given."""
    return _readable(lambda m: GENERATORS[kind](rng, m, digits), n, kind, pads)


def glyph_examples(char: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """n drawings of the one glyph ``char`` made as the glyph kinds (letters, symbols, signs,
    pictograms) make theirs -> (n, 28, 28) uint8: for figures glyph by glyph."""
    return _readable(lambda m: make_glyphs(char, rng, m, None), n, repr(char))


def _readable(make: Callable[[int], list], n: int, name: str, pads: list | None = None) -> np.ndarray:
    """n images of pads from ``make(m)`` (about m pads) that ``to_mnist`` reads and that are no
    ``lookalike``; the pads kept are appended to ``pads`` when given."""
    out = np.empty((n, SIDE, SIDE), np.uint8)
    have, barren = 0, 0
    while have < n:
        batch = make(max(16, int((n - have) * 1.1)))
        before = have
        for pad in batch:
            image = to_mnist(pad)
            if image is None or lookalike(image[None])[0]:
                continue
            out[have] = np.round(image * 255).astype(np.uint8)
            if pads is not None:
                pads.append(pad)
            have += 1
            if have == n:
                break
        barren = barren + 1 if have == before else 0
        if barren >= 5:
            raise RuntimeError(f"{name}: nothing readable came out of 5 batches")
    return out


def make_negatives(
    n: int, kinds: Sequence[str] = TRAIN_KINDS, seed: int = 0, digits=None
) -> tuple[np.ndarray, np.ndarray]:
    """n examples of "not a digit" -> (images (n, 28, 28) uint8, kind (n,) int64 index into
    KINDS), an even share per kind (the first kinds get one more when n does not divide),
    shuffled. ``digits``: a Dataset (or (N, 28, 28) uint8 array) of MNIST digits for the kinds
    made from digits. Same arguments, same bytes."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    kinds = _check_kinds(kinds, digits)
    images = np.empty((n, SIDE, SIDE), np.uint8)
    labels = np.empty(n, np.int64)
    at = 0
    for j, kind in enumerate(kinds):
        count = n // len(kinds) + (j < n % len(kinds))
        rng = np.random.default_rng([seed, KINDS.index(kind)])
        images[at : at + count] = generate(kind, count, rng, digits)
        labels[at : at + count] = KINDS.index(kind)
        at += count
    order = np.random.default_rng([seed, len(KINDS)]).permutation(n)
    return images[order], labels[order]


def sources() -> tuple[Path, ...]:
    """What the examples depend on besides their arguments, for the cache's key: the modules
    that make them (this package, ``training.drawn``, ``training.strokes``, the page's
    preprocessing) and the font files."""
    modules = (strokes, drawn, pen, fonts, shapes, blobs, composites, lookalikes, preprocess, sizes)
    return (Path(__file__), *cache.module_files(*modules), *fonts.font_files())


def make_negatives_cached(
    n: int, kinds: Sequence[str] = TRAIN_KINDS, seed: int = 0, digits=None
) -> tuple[np.ndarray, np.ndarray]:
    """``make_negatives`` through ``training.cache.cached``."""
    kinds = _check_kinds(kinds, digits)
    params = {
        "n": n,
        "kinds": list(kinds),
        "seed": seed,
        "digits": None if digits is None else cache.digest(digit_images(digits)),
    }

    def make():
        images, labels = make_negatives(n, kinds, seed, digits)
        return {"images": images, "kinds": labels}

    arrays = cache.cached("negatives", params, make, sources())
    return arrays["images"], arrays["kinds"]
