"""Things people draw on the pad that are not digits: examples of the class "not a digit".

Every example is made the way the page makes its input: strokes drawn with an anti-aliased
round pen of constant width (``PEN_MIN``-``PEN_MAX`` of the pad, 2.1-14 px at CANVAS = 140) on a
CANVAS x CANVAS uint8 pad, then ``digitnet.preprocess.to_mnist`` -> 28x28 (a pad it reads as
nothing, an empty one or a lone dot, is drawn again), stored as uint8. All from sources on this
machine: the DejaVu fonts (Debian's fonts-dejavu-core), MNIST digits given by the caller, and
NumPy's random generator. The same arguments give the same bytes.

Kinds (``KINDS``)
-----------------
letters
    Latin letters, and Greek and Cyrillic ones unlike both (``FOREIGN_LETTERS``), of 14 DejaVu faces (sans, serif, mono, condensed; book, bold, oblique and
    italic), rendered with Pillow at 96 px, scaled to a 64 px grid, thinned to a one-pixel
    skeleton (``training.drawn.thin``), traced into strokes (serif spurs dropped, smoothed) and
    redrawn with a round pen of random width under a random rotation, shear, stretch and a slow
    hand wobble: a letter as someone writes it with a pen, not a font's outline.
symbols
    ``SYMBOLS`` (# @ & % $ * + = ? < > ~ ^ and a few Latin-1 signs), the same way. Held out
    until the model of 2026-12 (see below).
shapes
    Outlines drawn as strokes: triangle, square (or a wide rectangle, or a diamond), stars,
    crosses (x and +), heart, arrows, spirals (2-3.5 turns), a house, an envelope, a window.
scribbles
    Random smooth tangles (at least 4 times as long as they are wide), rows of loops,
    zig-zags (5-9 legs) and waves (2.5-4 periods), with thinner pens than other kinds (at most
    0.12 of the drawing's size: a thick pen turns them into a bar).
two_digits
    Two (or three) MNIST digits side by side, drawn as pen strokes (their skeletons, as in
    ``training.drawn``) or placed as ink (upscaled); each digit holds at least 15% of the ink,
    so the page's speck filter cannot drop one and leave a single digit.
digit_and_letter
    A digit beside a letter of ``letters`` (and perhaps a second digit), as ``two_digits``.
stray_mark
    One MNIST digit and a separate mark (a line, a tick, a small loop, wave, zig-zag, cross
    or scribble, at least 6 pen widths long) beside it, at least 14 px and 30% of the digit's
    height away, holding 8-50% of the ink: more than the 5% under which the page drops a speck.
    Never straight above or below (a 1 with a mark above is an i, below a !).
blobs
    Heavy ink: irregular regions filled with dense back-and-forth strokes, regions hatched with
    spaced or crossed lines (polygons sometimes outlined), and tight scribbles with a thick pen.
signs
    ``SIGNS``, 111 other signs DejaVu draws (arrows, set operators, boxed and circled operators,
    outlined shapes, stars, emblems, Hebrew letters), the same way as letters: the variety of
    things that are not digits, so that "not a digit" is more than the few shapes of the other kinds.
pictograms
    ``PICTOGRAMS``, 43 little pictures DejaVu draws (faces, chess pieces, tools, scissors, hands,
    flowers...), the same way; the kind held out to measure how rejection generalises to glyphs.

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
about 1.5:1 before the jitter (a long solid bar would be a thick 1). Any glyph ``to_mnist`` reads as nothing is
dropped when the glyphs are built. Last, a check on every example as the network would see it
(``lookalike``): one closer than LOOKALIKE (cosine similarity 0.8) to a lone straight line or
an ellipse drawn the same way is drawn again; this flags about 80% of MNIST's 1s and 40% of its
0s and no other digit, and 0-7% of the examples of each kind (letters 7%: half of the e's and
c's, a third of the C's come out round; symbols 4%, shapes and blobs 2%, the rest 0).

Held out (``HELD_OUT``, ``training.train --hold-out``)
---------------------------------------------------------
``stray_mark`` is never trained on by the defaults, only used to measure whether rejection
generalises to a digit-based kind (a digit plus something else, when training only saw digits
beside digits or letters). For glyphs the question is answered by a second run that also holds
out the ``pictograms`` (``--hold-out stray_mark pictograms``): pictures of things, where training
saw letters, symbols, signs and shapes. The shipped model is trained on the pictograms too: a
person draws a smiley more often than a chess piece, and should hear "not a digit" for it.
Held-out measurement should use MNIST test digits (``digits`` = the test set).

The symbols were the held-out glyph kind until the model of 2026-12. Six of them never got
rejected (72% of the kind in all): ? ¿ < > $ € are digit shapes (a hooked 7 over a dot, a hook
under one, a 7's angle, an S or a C crossed by bars) and nothing in training said that a dot, a
bar or an open angle unmakes a digit. The issue names symbols among the things to train on, and
a person drawing a $ expects to hear "not a digit", so symbols now train. The pictograms, split
from the signs before any model was trained without them, took their place as the unseen glyph
kind.

Fast: glyph skeletons are built once per process; strokes of all drawings are rendered in one
vectorised pass (``training.strokes.render_many``); 20000 negatives take about 22 s here
(one core of this 2-core machine; a third of it is to_mnist itself).
``cached`` keeps generated arrays in ``.cache/generated/`` so training does not make them twice.

    python -m training.negatives --preview     # artifacts/negatives.png and artifacts/drawn.png
    python -m training.negatives --time        # 20000 negatives and 60000 as_drawn, timed
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import string
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from digitnet.atomic import write_atomically
from digitnet.preprocess import bounding_box, frame, stroke_width, to_mnist
from digitnet.sizes import CANVAS, SIDE
from training import drawn, strokes
from training.drawn import digit_strokes, ink_box, ink_layer, smooth, thin, trace
from training.strokes import PEN_MAX, jitter, pen_range, place, render_many
from tools.paths import ROOT

KINDS = ("letters", "symbols", "shapes", "scribbles", "two_digits", "digit_and_letter", "stray_mark",
         "blobs", "signs", "pictograms")
HELD_OUT = ("stray_mark",)
TRAIN_KINDS = tuple(k for k in KINDS if k not in HELD_OUT)
NEEDS_DIGITS = ("two_digits", "digit_and_letter", "stray_mark")

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")     # Debian's fonts-dejavu-core
FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf",
         "DejaVuSans-BoldOblique.ttf", "DejaVuSansCondensed.ttf", "DejaVuSansCondensed-Oblique.ttf",
         "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf",
         "DejaVuSerif-BoldItalic.ttf", "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf",
         "DejaVuSansMono-Oblique.ttf", "DejaVuSansMono-BoldOblique.ttf")

#: Letters a person would read as a digit -> the digit.
EXCLUDED_LETTERS = {"O": "0", "o": "0", "Q": "0", "D": "0", "l": "1", "I": "1", "i": "1",
                    "j": "1", "J": "1", "Z": "2", "z": "2", "S": "5", "s": "5", "G": "6", "b": "6",
                    "T": "7", "B": "8", "g": "9", "q": "9", "a": "9", "y": "4 or 9"}
#: Symbols left out -> why.
EXCLUDED_SYMBOLS = {**dict.fromkeys("|/\\()[]{}!", "a 1"), **dict.fromkeys("-_", "a lone line"),
                    **dict.fromkeys(".,'`\":;", "nothing to read, or a 1"),
                    "¬": "a 7", "√": "a 7", "§": "an 8", "ß": "an 8", "∞": "an 8", "£": "a 2 or 4",
                    "¡": "an i", "¶": "thins to a line"}
#: Greek and Cyrillic letters unlike Latin ones and unlike a digit: not α γ (an a, a y), δ θ ο Θ
#: ζ ξ ε (a 6, 0, 2 or 3), ι Ι (a 1), τ Γ Τ Г Т т (a 7), Β Б б В в (a 6 or 8), З з Э э (a 3), Ч ч У у
#: (a 4), Ь ь (a 6); nor Π П п and μ, too close to the symbols π and µ (held out when chosen).
FOREIGN_LETTERS = "ΔΛΞΣΦΨΩηκλφχψω" "ДЖИЛФЦШЩЫЮЯжилфцшщыюя"
LETTERS = "".join(c for c in string.ascii_letters if c not in EXCLUDED_LETTERS) + FOREIGN_LETTERS
SYMBOLS = "#@&%$*+=?<>~^€¥©®±×πµ¿"
#: Signs of other kinds, as DejaVu draws them: arrows, set operators, boxed and circled operators,
#: outlined shapes, stars, emblems and Hebrew letters (with PICTOGRAMS, one list until they were
#: split to be held out). Left out, as for the letters: what a person would read as a digit (round,
#: a 0: ▢ ◊ ♢ ❍ ⊘ ⎔ ⌬ ⌂ ☪ ט ם; a stroke with bars, a foot or a hook, a 1: ☦ ☨ ⚕ ✎ ✐ ⚘ ∮ ∯ ∬ ג ל ף ץ;
#: a 7: steep arrows ➘ ➚, hooked ones ↩ ↪, ב כ פ צ ח; two stacked loops, an 8: ☃; ⊃ and ⊇, a 3 and a
#: 2). Signs too close to a symbol (the symbols were held out when the list was made): asterisks
#: (✱-✽ ❄-❋), crosses like + and × (✙ ✚ ✛ ✜ ✠ ☩ ☓ ✕-✘), angles like < > ^ (≤ ≥ ∧ ∨ ⋀ ⋁ ∠), = ~ and
#: their kin (≠ ≡ ≈ ∼), ∓ ♯ ‰ ‽ ⅋ ℗, and every currency sign. And solid shapes (■ ▲ ◆ ♠ ♥ ❤ ➡ ☻ ♚ ✈
#: ..., ink wider than ``SOLID``): thinned, a solid shape is a bare frame of lines no hand draws for
#: it.
SIGNS = ("←→↔⇐⇒⇔↶↷⇄⇆⇋⇌↭↹⇉⇇⇍⇎⇏↚↛↮∀∩∪⊂⊆⊕⊖⊗⊛⊜⊞⊟⊠⊡⊲⊳⋂⋃⋈⊿□▤▥▦▧▨▩△▽◇◈◫◬◭◮◰◱◲◳◸◹◺◿⌘⌧☐☑☒"
         "☧☫☬☭☮☯☸♡⚢⚣⚤⚥✉✡✦✧✩✫✬✭✮✯✰❏❐❑❒➔➙➛➝➞➠➢➣אהמקשת")
#: Little pictures of things, from the same fonts and chosen by the same rules as SIGNS
#: (skull, hazards, faces, sun, chess pieces, card suits, hot springs, notes, flag, tools, anchor,
#: swords, scales, atom, fleur-de-lis, warning, scissors, telephone, tape, hands, pencils, flowers,
#: a leaf). The outlined heart and the envelope stay in SIGNS: the shapes kind draws both.
PICTOGRAMS = "☠☢☣☹☺☼♔♕♖♗♘♙♤♧♨♫♬⚐⚒⚓⚔⚖⚗⚙⚛⚜⚠✁✂✃✄✆✇✌✍✏✑✒❀❁❂❃❧"
SHAPES = ("triangle", "square", "star", "cross", "heart", "arrow", "spiral", "house",
          "envelope", "window")
SCRIBBLES = ("tangle", "loops", "zigzag", "wave")
MARKS = ("line", "tick", "loop", "wave", "zigzag", "cross", "scribble")

GLYPH_GRID = 64          # glyphs are thinned on this many pixels (longer side)
GLYPH_SPUR = 0.12        # skeleton branches shorter than this x GLYPH_GRID are serifs: dropped
SOLID = 11.0            # px of GLYPH_GRID: a sign with more ink than this per pixel of skeleton is solid
LOOKALIKE = 0.8         # cosine similarity to a lone line or an ellipse: a 1 or a 0 (see lookalike)
CACHE_DIR = ROOT / ".cache" / "generated"

Strokes = list[np.ndarray]


# ------------------------------------------------------------------------------------ glyphs

def _glyph_masks(text: str) -> list[tuple[str, str, np.ndarray]]:
    """(font, char, mask) for every char of ``text`` in every DejaVu face present that has it
    (not its "missing glyph" box): the glyph rendered at 96 px, cropped, scaled so its longer
    side is GLYPH_GRID px, thresholded."""
    from fontTools.ttLib import TTFont
    from PIL import Image, ImageDraw, ImageFont

    out = []
    for name in FONTS:
        path = FONT_DIR / name
        if not path.is_file():
            continue
        font = ImageFont.truetype(str(path), 96)
        has = TTFont(path, lazy=True).getBestCmap()
        for char in text:
            if ord(char) not in has:
                continue
            img = Image.new("L", (192, 192))
            ImageDraw.Draw(img).text((96, 96), char, fill=255, font=font, anchor="mm")
            ink = np.asarray(img)
            box = bounding_box(ink, 127)
            if box is None:
                continue
            top, bottom, left, right = box
            h, w = bottom - top, right - left
            f = GLYPH_GRID / max(h, w)
            crop = Image.fromarray(ink[top:bottom, left:right]).resize(
                (max(1, round(w * f)), max(1, round(h * f))), Image.Resampling.BOX)
            out.append((name, char, frame(np.asarray(crop) > 127, 2)))
    return out


def _stacked(masks: list[tuple[str, str, np.ndarray]]) -> np.ndarray:
    """The masks of ``_glyph_masks`` in one (N, side, side) bool batch, each at the top left."""
    side = max(max(m.shape) for _, _, m in masks) if masks else 0
    batch = np.zeros((len(masks), side, side), bool)
    for k, (_, _, m) in enumerate(masks):
        batch[k, :m.shape[0], :m.shape[1]] = m
    return batch


def ink_widths(text: str) -> dict[str, float]:
    """Each char of ``text``: its ink per pixel of its skeleton in px of GLYPH_GRID, the median over
    the DejaVu faces that have it. A stroke's width for a drawn glyph; more than ``SOLID`` for a
    solid shape, whose skeleton is a frame of lines no hand draws for it."""
    masks = _glyph_masks(text)
    batch = _stacked(masks)
    width = batch.sum(axis=(1, 2)) / np.maximum(thin(batch).sum(axis=(1, 2)), 1)
    by_char: dict[str, list] = {}
    for (_, char, _), w in zip(masks, width):
        by_char.setdefault(char, []).append(float(w))
    return {char: float(np.median(w)) for char, w in by_char.items()}


@functools.lru_cache(maxsize=None)
def glyphs(text: str) -> tuple[tuple[str, str, tuple[np.ndarray, ...]], ...]:
    """(font, char, strokes) of every char of ``text`` in every DejaVu face present, the
    strokes in units of the glyph's longer side; glyphs that thin to nothing or that
    ``to_mnist`` reads as nothing are left out. Built once per process."""
    masks = _glyph_masks(text)
    out = []
    for (font, char, _), skel in zip(masks, thin(_stacked(masks))):
        paths = tuple(smooth(p, 4) / GLYPH_GRID for p in trace(skel, GLYPH_SPUR * GLYPH_GRID))
        if not paths:
            continue
        d, w = place(list(paths), 0.7, 0.5, (0.5, 0.5))
        if to_mnist(render_many([d], [w], CANVAS)[0]) is None:
            continue
        out.append((font, char, paths))
    return tuple(out)


def _glyph_drawings(rng: np.random.Generator, n: int, text: str) -> list[Strokes]:
    """n glyphs of ``text``: a char uniformly, then one of its faces uniformly."""
    table = glyphs(text)
    if not table:
        raise RuntimeError(f"no DejaVu font in {FONT_DIR} (Debian package fonts-dejavu-core)")
    by_char: dict[str, list] = {}
    for _, char, paths in table:
        by_char.setdefault(char, []).append(paths)
    chars = sorted(by_char)
    out = []
    for c in rng.integers(len(chars), size=n):
        faces = by_char[chars[c]]
        out.append(list(faces[rng.integers(len(faces))]))
    return out


# ------------------------------------------------------------------------- stroke geometry

def _spline(points: np.ndarray, per: int = 8, closed: bool = False) -> np.ndarray:
    """A Catmull-Rom curve through points (k, 2) -> (about per * k, 2)."""
    p = np.asarray(points, np.float64)
    if closed:
        p = np.concatenate([p[-1:], p, p[:2]])
    else:
        p = np.concatenate([2 * p[:1] - p[1:2], p, 2 * p[-1:] - p[-2:-1]])
    t = np.linspace(0, 1, per, endpoint=False)[:, None, None]
    p0, p1, p2, p3 = p[:-3], p[1:-2], p[2:-1], p[3:]
    curve = 0.5 * (2 * p1 + (p2 - p0) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t ** 2
                   + (3 * p1 - p0 - 3 * p2 + p3) * t ** 3)          # (per, k-1, 2)
    curve = curve.transpose(1, 0, 2).reshape(-1, 2)
    return np.concatenate([curve, p[-2:-1]]).astype(np.float32)


def _length(paths: Sequence[np.ndarray]) -> float:
    return float(sum(np.hypot(*np.diff(p, axis=0).T).sum() for p in paths if len(p) > 1))


def _rotate(paths: Sequence[np.ndarray], degrees: float) -> Strokes:
    a = np.deg2rad(degrees)
    m = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]], np.float32)
    return [np.asarray(p, np.float32) @ m.T for p in paths]


def _closed(points) -> np.ndarray:
    p = np.asarray(points, np.float32)
    return np.concatenate([p, p[:1]])


def _shape(rng: np.random.Generator, name: str) -> Strokes:
    """One outline drawing of SHAPES[name], in arbitrary units (y down)."""
    u = rng.uniform
    if name == "triangle":
        a = u(0, 2 * np.pi) + 2 * np.pi * np.arange(3) / 3 + u(-0.12, 0.12, 3)
        r = u(0.9, 1.1, 3)
        return [_closed(np.stack([r * np.cos(a), r * np.sin(a)], 1))]
    if name == "square":
        w = u(1.0, 1.5)                                       # never taller than wide
        sq = _closed([(0, 0), (w, 0), (w, 1), (0, 1)]) + u(-0.05, 0.05, (5, 2)).astype(np.float32)
        sq[-1] = sq[0]
        return _rotate([sq], u(-10, 10) + 45 * (u() < 0.25))
    if name == "star":
        kind = rng.integers(3)
        if kind == 0:                                         # pentagram in one stroke
            a = u(0, 2 * np.pi) + 4 * np.pi * np.arange(5) / 5
            return [_closed(np.stack([np.cos(a), np.sin(a)], 1))]
        points = 5 + int(kind == 2)                           # outline, 5 or 6 points
        a = u(0, 2 * np.pi) + np.pi * np.arange(2 * points) / points
        r = np.where(np.arange(2 * points) % 2 == 0, 1.0, u(0.35, 0.55))
        return [_closed(np.stack([r * np.cos(a), r * np.sin(a)], 1))]
    if name == "cross":
        c = u(0.35, 0.65, 2)
        if u() < 0.5:                                         # x
            return [np.array([(0, 0), (1, 1)], np.float32), np.array([(1, 0), (0, 1)], np.float32)]
        return [np.array([(0, c[1]), (1, c[1])], np.float32), np.array([(c[0], 0), (c[0], 1)], np.float32)]
    if name == "heart":
        t = np.linspace(0, 2 * np.pi, 90)
        x = 16 * np.sin(t) ** 3
        y = -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))
        return [np.stack([x, y], 1).astype(np.float32)]
    if name == "arrow":
        h, phi = u(0.2, 0.4), np.deg2rad(u(25, 45))
        head = np.array([(1 - h * np.cos(phi), -h * np.sin(phi)), (1, 0),
                         (1 - h * np.cos(phi), h * np.sin(phi))], np.float32)
        paths = [np.array([(0, 0), (1, 0)], np.float32), head]
        if u() < 0.25:                                        # double-headed
            paths.append(head * np.array([-1, 1], np.float32) + np.array([1, 0], np.float32))
        return _rotate(paths, u(-20, 20) + 180 * (u() < 0.5))
    if name == "spiral":
        turns = u(2, 3.5)
        theta = np.linspace(0, 2 * np.pi * turns, int(40 * turns))
        r = u(0.03, 0.12) + theta / theta[-1]
        sign = 1 if u() < 0.5 else -1
        p = np.stack([r * np.cos(sign * theta), r * np.sin(sign * theta)], 1).astype(np.float32)
        return _rotate([p if u() < 0.5 else p[::-1]], u(0, 360))
    if name == "house":
        roof = u(0.3, 0.6)
        body = np.array([(0, 0), (0, 1), (1, 1), (1, 0)], np.float32)
        paths = [body, np.array([(0, 0), (0.5, -roof), (1, 0), (0, 0)], np.float32)]
        if u() < 0.5:
            dx = u(0.2, 0.6)
            paths.append(np.array([(dx, 1), (dx, 0.55), (dx + 0.2, 0.55), (dx + 0.2, 1)], np.float32))
        return paths
    if name == "envelope":
        w = u(1.3, 1.8)
        return [_closed([(0, 0), (w, 0), (w, 1), (0, 1)]),
                np.array([(0, 0), (w / 2, u(0.4, 0.65)), (w, 0)], np.float32)]
    if name == "window":
        c = u(0.4, 0.6, 2)
        w = u(1.0, 1.3)
        return [_closed([(0, 0), (w, 0), (w, 1), (0, 1)]),
                np.array([(0, c[1]), (w, c[1])], np.float32),
                np.array([(c[0] * w, 0), (c[0] * w, 1)], np.float32)]
    raise ValueError(name)


def _tangle(rng: np.random.Generator, at_least: float = 4.0, points: tuple[int, int] = (7, 13)) -> np.ndarray:
    """A random smooth scribble at least ``at_least`` times as long as its bounding box's
    diagonal (a short smooth curve can be a 2, 3, 6 or 9; a long tangle is none)."""
    aspect = rng.uniform(0.5, 1.0)
    pts = rng.uniform(0, 1, (int(rng.integers(*points)), 2)) * np.array([1, aspect])
    while True:
        curve = _spline(pts)
        diag = float(np.hypot(*(curve.max(0) - curve.min(0))))
        if _length([curve]) >= at_least * diag:
            return curve
        pts = np.concatenate([pts, rng.uniform(0, 1, (1, 2)) * np.array([1, aspect])])


def _scribble(rng: np.random.Generator, name: str) -> Strokes:
    u = rng.uniform
    if name == "tangle":
        return [_tangle(rng)]
    if name == "loops":
        loops, b = u(3, 5.5), u(1.5, 3.0)
        t = np.linspace(0, 2 * np.pi * loops, int(30 * loops))
        p = np.stack([t - b * np.sin(t), -u(2.0, 4.0) * np.cos(t)], 1)
        return [p.astype(np.float32)]
    if name == "zigzag":
        legs = int(rng.integers(5, 10))
        x = np.linspace(0, 1, legs + 1) + u(-0.25, 0.25, legs + 1) / legs
        y = np.where(np.arange(legs + 1) % 2 == 0, 0.0, 1.0) * u(0.3, 0.8) + u(-0.04, 0.04, legs + 1)
        p = np.stack([x, y], 1).astype(np.float32)
        return [_spline(p, 6) if u() < 0.4 else p]
    if name == "wave":
        periods = u(2.5, 4)
        x = np.linspace(0, 1, int(40 * periods))
        y = u(0.15, 0.35) * np.sin(2 * np.pi * periods * x + u(0, 2 * np.pi))
        return [np.stack([x, y], 1).astype(np.float32)]
    raise ValueError(name)


def _mark(rng: np.random.Generator, name: str) -> Strokes:
    """A small stray mark, scaled to a path length of 1."""
    u = rng.uniform
    if name == "line":
        paths = [np.array([(0, 0), (1, 0)], np.float32)]
    elif name == "tick":
        paths = [np.array([(0, 0.5), (0.35, 1), (1, 0)], np.float32)]
    elif name == "loop":
        t = np.linspace(0, 2 * np.pi, 40)
        paths = [np.stack([np.cos(t), u(0.5, 1) * np.sin(t)], 1).astype(np.float32)]
    elif name == "wave":
        paths = _scribble(rng, "wave")
    elif name == "zigzag":
        legs = int(rng.integers(3, 6))
        paths = [np.stack([np.linspace(0, 1, legs + 1), (np.arange(legs + 1) % 2) * u(0.2, 0.5)], 1)
                 .astype(np.float32)]
    elif name == "cross":
        paths = [np.array([(0, 0), (1, 1)], np.float32), np.array([(1, 0), (0, 1)], np.float32)]
    elif name == "scribble":
        paths = [_spline(rng.uniform(0, 1, (int(rng.integers(4, 8)), 2)))]
    else:
        raise ValueError(name)
    paths = _rotate(paths, u(0, 360))
    return [p / _length(paths) for p in paths]


def _region(rng: np.random.Generator) -> np.ndarray:
    """The outline (k, 2) of a region to fill or hatch: an irregular blob (at most about 2:1)
    or a triangle or quadrilateral."""
    if rng.uniform() < 0.6:
        theta = np.linspace(0, 2 * np.pi, 72, endpoint=False)
        r = np.ones_like(theta)
        for k in (2, 3, 4, 5):
            r += rng.uniform(0, 0.6 / k) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
        p = np.stack([r * np.cos(theta), rng.uniform(0.65, 1) * r * np.sin(theta)], 1)
    else:
        k = int(rng.integers(3, 5))
        a = rng.uniform(0, 2 * np.pi) + 2 * np.pi * np.arange(k) / k + rng.uniform(-0.2, 0.2, k)
        p = np.stack([np.cos(a), np.sin(a)], 1)
    return _rotate([p], rng.uniform(0, 360))[0]


def _inside(outline: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Even-odd point-in-polygon test of pts (..., 2) against a closed outline (k, 2)."""
    x, y = pts[..., 0, None], pts[..., 1, None]
    x0, y0 = outline[:, 0], outline[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    crosses = ((y0 > y) != (y1 > y)) & (x < x0 + (y - y0) * (x1 - x0) / np.where(y1 == y0, 1e-9, y1 - y0))
    return crosses.sum(-1) % 2 == 1


def _hatch(rng: np.random.Generator, outline: np.ndarray, spacing: float, zigzag: bool) -> Strokes:
    """Parallel lines ``spacing`` apart across a region (outline (k, 2)), at a random angle: one
    back-and-forth stroke (``zigzag``) or a stroke per line."""
    ang = rng.uniform(0, np.pi)
    d, nrm = np.array([np.cos(ang), np.sin(ang)]), np.array([-np.sin(ang), np.cos(ang)])
    reach = float(np.abs(outline).max()) * 1.5
    offsets = np.arange(-reach, reach, spacing)
    along = np.linspace(-reach, reach, 160)
    pts = offsets[:, None, None] * nrm + along[None, :, None] * d        # (lines, 160, 2)
    inside = _inside(outline, pts)
    ends = []
    for k in range(len(offsets)):
        hit = np.flatnonzero(inside[k])
        if len(hit) >= 2:
            ends.append((pts[k, hit[0]], pts[k, hit[-1]]))
    if not ends:
        return []
    if zigzag:
        seq = []
        for k, (a, b) in enumerate(ends):
            seq.extend([a, b] if k % 2 == 0 else [b, a])
        return [np.array(seq, np.float32)]
    return [np.array(e, np.float32) for e in ends]


# -------------------------------------------------------------------------------- drawing

def _pen(rng: np.random.Generator, drawings: list[Strokes], size=(0.3, 0.95), thickest=0.2,
         rotate=12.0, shear=0.25, stretch=0.3, pen=(0.0, 1.0)) -> np.ndarray:
    """Draw each drawing (arbitrary units) on a pad: random jitter, size, pen and place; the
    thickest pen goes by the square root of the drawing's area (see strokes.place)."""
    placed, widths = [], []
    for d in drawings:
        moved = jitter(d, (rng.uniform(-rotate, rotate), rng.uniform(-shear, shear),
                           rng.uniform(-stretch, stretch)), rng.uniform(0, 1, 6))
        p, w = place(moved, rng.uniform(*size), rng.uniform(*pen), rng.uniform(0, 1, 2), thickest,
                     by_area=True)
        placed.append(p)
        widths.append(w)
    return render_many(placed, widths, CANVAS)


def _glyph_kind(text: str, rng, n, digits):
    """A glyph kind (letters, symbols, signs, pictograms): n glyphs of ``text`` drawn with the pen."""
    return _pen(rng, _glyph_drawings(rng, n, text))


def _shapes(rng, n, digits):
    names = rng.integers(len(SHAPES), size=n)
    return _pen(rng, [_shape(rng, SHAPES[k]) for k in names], rotate=10)


def _scribbles(rng, n, digits):
    names = rng.integers(len(SCRIBBLES), size=n)
    return _pen(rng, [_scribble(rng, SCRIBBLES[k]) for k in names], thickest=0.12)


def _blobs(rng, n, digits):
    """Filled regions, hatched regions and tight thick scribbles."""
    placed, widths = [], []
    for _ in range(n):
        size = rng.uniform(0.25, 0.85)
        low, high = pen_range(size * CANVAS, 0.35)
        width = float(low * (high / low) ** rng.uniform(0.3, 1.0))
        style = rng.integers(3)
        if style == 2:
            paths = [_tangle(rng, 6.0, (15, 30))]
        else:
            outline = _region(rng)
            extent = float(max(outline.max(0) - outline.min(0)))
            pen_units = width / (size * CANVAS) * extent
            if style == 0:                                       # filled
                paths = _hatch(rng, outline, rng.uniform(0.45, 0.85) * pen_units, True)
            else:                                                # hatched, maybe crossed
                spacing = rng.uniform(1.6, 3.5) * pen_units
                paths = _hatch(rng, outline, spacing, rng.uniform() < 0.5)
                if rng.uniform() < 0.5:
                    paths += _hatch(rng, outline, spacing, rng.uniform() < 0.5)
                if len(outline) < 10 and rng.uniform() < 0.5:   # a shaded polygon
                    paths.append(_closed(outline))
            if not paths:
                paths = [_closed(outline)]
        moved = jitter(paths, (rng.uniform(-10, 10), rng.uniform(-0.2, 0.2), rng.uniform(-0.2, 0.2)),
                       rng.uniform(0, 1, 6))
        p, w = place(moved, size, 0.0, rng.uniform(0, 1, 2), width=width)
        placed.append(p)
        widths.append(w)
    return render_many(placed, widths, CANVAS)


# ------------------------------------------------------------------------ digit-based kinds

def _digit_in_box(paths: Strokes, rng, left: float, top: float, height: float) -> Strokes:
    """Digit strokes (any units) jittered a little, scaled to ``height`` px tall with its top
    left at (left, top) px -> pad fractions."""
    moved = jitter(paths, (rng.uniform(-8, 8), rng.uniform(-0.15, 0.15), rng.uniform(-0.1, 0.1)),
                   rng.uniform(0, 1, 6))
    every = np.concatenate(moved)
    lo, hi = every.min(0), every.max(0)
    scale = height / max(float(hi[1] - lo[1]), 1e-6)
    return [((p - lo) * scale + np.array([left, top], np.float32)) / CANVAS for p in moved]


def _compose(items: list[list[tuple]], check: Callable[[list[float]], bool]) -> list[np.ndarray]:
    """Pads from layers: an item is a list of layers ("pen", strokes in pad fractions, width) or
    ("ink", (CANVAS, CANVAS) float 0-255); each layer is drawn alone, ``check`` gets the
    layers' ink sums and says whether to keep the item; a pad is the maximum of its layers."""
    pen = [(i, j) for i, layers in enumerate(items) for j, layer in enumerate(layers) if layer[0] == "pen"]
    rendered = render_many([items[i][j][1] for i, j in pen], [items[i][j][2] for i, j in pen], CANVAS)
    drawn_layers = {key: pad for key, pad in zip(pen, rendered)}
    pads = []
    for i, layers in enumerate(items):
        arrays = [drawn_layers[(i, j)].astype(np.float32) if layer[0] == "pen" else layer[1]
                  for j, layer in enumerate(layers)]
        if not check([float(a.sum()) for a in arrays]):
            continue
        pads.append(np.round(np.max(arrays, axis=0)).astype(np.uint8))
    return pads


def _digit_images(digits) -> np.ndarray:
    images = getattr(digits, "images", digits)
    images = np.asarray(images, np.uint8)
    if images.ndim != 3 or images.shape[1:] != (SIDE, SIDE) or not len(images):
        raise ValueError(f"digits must be MNIST images (N, {SIDE}, {SIDE}), got shape {images.shape}")
    return images


def _two_digits(rng, n, digits):
    """Two or three digits side by side, each with at least 15% of the ink."""
    return _side_by_side(rng, n, digits, letter=False)


def _digit_and_letter(rng, n, digits):
    """A digit beside a letter (and perhaps another digit), each with at least 15% of the ink."""
    return _side_by_side(rng, n, digits, letter=True)


def _side_by_side(rng, n, digits, letter: bool):
    """Two or three drawings in a row, of about the same height, one pen: MNIST digits (as pen
    strokes, or 40% of the rows as their own ink) and, with ``letter``, one letter (``LETTERS``,
    as pen strokes) in a random place of the row."""
    images = _digit_images(digits)
    counts = np.where(rng.uniform(size=n) < 0.75, 2, 3)
    picks = [rng.integers(len(images), size=k) for k in counts]
    flat = np.concatenate(picks)
    paths = digit_strokes(images[flat])
    glyph_rows = _glyph_drawings(rng, n, LETTERS) if letter else []
    items, at = [], 0
    for row, pick in enumerate(picks):
        k = len(pick)
        own = paths[at:at + k]
        at += k
        aspects = np.array([ink_box(images[p])[1] for p in pick])
        slot = int(rng.integers(k)) if letter else -1              # where the letter goes
        if letter:
            own[slot] = glyph_rows[row]
            every = np.concatenate(own[slot])
            w, h = every.max(0) - every.min(0)
            aspects[slot] = float(np.clip(w / max(float(h), 1e-6), 0.3, 2.0))
        heights = rng.uniform(0.75, 1.0, k)
        widths = heights * aspects
        gaps = rng.uniform(0.05, 0.35, k - 1)
        lefts = np.concatenate([[0], np.cumsum(widths[:-1] + gaps)])
        tops = rng.uniform(-0.12, 0.12, k) + (1 - heights) / 2
        group_w = lefts[-1] + widths[-1]
        group_h = float((tops + heights).max() - tops.min())
        span = rng.uniform(0.5, 0.98) * CANVAS                    # the group's longer side, px
        unit = span / max(group_w, group_h)                       # px per digit height
        low, high = pen_range(unit, 0.2)
        width = float(low * (high / low) ** rng.uniform())
        unit = min(unit, (CANVAS - width - 2) / max(group_w, group_h))
        margin = width / 2 + 1
        x0 = margin + rng.uniform() * max(0.0, CANVAS - 2 * margin - group_w * unit)
        y0 = margin + rng.uniform() * max(0.0, CANVAS - 2 * margin - group_h * unit) - tops.min() * unit
        as_ink = rng.uniform() < 0.4 or any(not p for p in own)
        layers = []
        for j, p in enumerate(pick):
            left, top, height = x0 + lefts[j] * unit, y0 + tops[j] * unit, heights[j] * unit
            if as_ink and j != slot:
                layers.append(("ink", ink_layer(images[p], left, top, height)))
            else:
                layers.append(("pen", _digit_in_box(own[j], rng, left, top, height), width))
        items.append(layers)
    return _compose(items, lambda ink: min(ink) >= 0.15 * sum(ink))


def _stray_mark(rng, n, digits):
    """A digit and a separate mark far from it, with 8-50% of the ink."""
    images = _digit_images(digits)
    picks = rng.integers(len(images), size=n)
    paths = digit_strokes(images[picks])
    items = []
    for p, own in zip(picks, paths):
        height = rng.uniform(0.3, 0.6) * CANVAS
        aspect = ink_box(images[p])[1]
        left = rng.uniform(2, max(2.0, CANVAS - 2 - height * aspect))
        top = rng.uniform(2, CANVAS - 2 - height)
        low, high = pen_range(height, 0.2)
        width = float(low * (high / low) ** rng.uniform())
        if rng.uniform() < 0.4 or not own:
            layer = ink_layer(images[p], left, top, height)
            digit = ("ink", layer)
            width = float(np.clip(stroke_width(layer / 255), low, PEN_MAX * CANVAS))
            digit_ink = float(layer.sum()) / 255
        else:
            placed = _digit_in_box(own, rng, left, top, height)
            digit = ("pen", placed, width)
            digit_ink = _length(placed) * CANVAS * width
        box = bounding_box(digit[1]) if digit[0] == "ink" else None
        every = np.concatenate(digit[1]) * CANVAS if digit[0] == "pen" else None
        if box is not None:
            d_lo, d_hi = np.array([box[2], box[0]], float), np.array([box[3], box[1]], float)
        elif every is not None:
            d_lo, d_hi = every.min(0) - width / 2, every.max(0) + width / 2
        else:
            continue
        share = rng.uniform(0.12, 0.4)
        name = MARKS[rng.integers(len(MARKS))]
        mark = _mark(rng, name)
        # a mark, not a dot: several pen widths long (a loop twice as many)
        length = max(share / (1 - share) * digit_ink / width, (10 if name == "loop" else 6) * width)
        mark = [m * length for m in mark]
        m_every = np.concatenate(mark)
        m_lo, m_hi = m_every.min(0) - width / 2 - 1, m_every.max(0) + width / 2 + 1
        gap = max(14.0, 0.3 * height)
        room = CANVAS - (m_hi - m_lo)
        if (room < 0).any():
            continue
        for _ in range(30):
            at = rng.uniform(0, 1, 2) * room                  # where m_lo goes
            lo, hi = at, at + (m_hi - m_lo)
            if lo[0] > d_hi[0] + gap or hi[0] < d_lo[0] - gap:   # beside it (above: an i or !)
                shift = at - m_lo
                items.append([digit, ("pen", [(m + shift) / CANVAS for m in mark], width)])
                break
    return _compose(items, lambda ink: 0.08 * sum(ink) <= ink[1] <= 0.5 * sum(ink))


GENERATORS: dict[str, Callable] = {
    "letters": functools.partial(_glyph_kind, LETTERS), "symbols": functools.partial(_glyph_kind, SYMBOLS),
    "shapes": _shapes, "scribbles": _scribbles, "two_digits": _two_digits,
    "digit_and_letter": _digit_and_letter, "stray_mark": _stray_mark, "blobs": _blobs,
    "signs": functools.partial(_glyph_kind, SIGNS), "pictograms": functools.partial(_glyph_kind, PICTOGRAMS),
}


# ------------------------------------------------------------------------------------ API

def _check_kinds(kinds: Sequence[str], digits) -> tuple[str, ...]:
    kinds = tuple(kinds)
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise ValueError(f"unknown kinds {unknown}: choose from {KINDS}" if unknown else "no kinds given")
    if len(set(kinds)) != len(kinds):
        raise ValueError(f"kinds repeated: {kinds}")
    need = [k for k in kinds if k in NEEDS_DIGITS]
    if need and digits is None:
        raise ValueError(f"kinds {need} are made from MNIST digits: pass digits= (training "
                         "images for training, test images for evaluation)")
    return kinds


@functools.lru_cache(maxsize=1)
def lookalike_templates() -> tuple[np.ndarray, np.ndarray]:
    """What a 1 or a 0 at its simplest looks like once ``to_mnist`` has read it: lone straight
    lines (within 45 degrees of upright) and ellipses (width/height 0.3-1, tilted up to 30
    degrees), each drawn with pens of 3, 8 and 13 px. -> (unit-length rows (k, 784) float32,
    names (k,): "line" or "ellipse")."""
    drawings, widths, names = [], [], []
    for degrees in range(-45, 46, 5):
        a = np.deg2rad(degrees)
        dx, dy = 0.35 * np.sin(a), 0.35 * np.cos(a)
        for w in (3, 8, 13):
            drawings.append([[(0.5 - dx, 0.5 - dy), (0.5 + dx, 0.5 + dy)]])
            widths.append(w)
            names.append("line")
    t = np.linspace(0, 2 * np.pi, 60)
    for aspect in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0):
        for degrees in (-30, -15, 0, 15, 30):
            a = np.deg2rad(degrees)
            x, y = 0.35 * aspect * np.cos(t), 0.35 * np.sin(t)
            ring = np.stack([0.5 + x * np.cos(a) - y * np.sin(a), 0.5 + x * np.sin(a) + y * np.cos(a)], 1)
            for w in (3, 8, 13):
                drawings.append([ring])
                widths.append(w)
                names.append("ellipse")
    rows = np.stack([to_mnist(pad) for pad in render_many(drawings, widths, CANVAS)]).reshape(len(names), -1)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True), np.array(names)


def lookalike(images: np.ndarray) -> np.ndarray:
    """Which images ((N, 28, 28), any scale) are closer than LOOKALIKE (cosine similarity) to a
    lone line or an ellipse of ``lookalike_templates``: a 1 or a 0 to a reader. (N,) bool.
    Of MNIST's test digits this flags about 80% of the 1s and 40% of the 0s, and no other digit."""
    x = np.asarray(images, np.float32).reshape(len(images), -1)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)
    return (x @ lookalike_templates()[0].T).max(axis=1) > LOOKALIKE


def generate(kind: str, n: int, rng: np.random.Generator, digits=None,
             pads: list | None = None) -> np.ndarray:
    """n examples of one kind -> (n, 28, 28) uint8, each a pad that ``to_mnist`` reads and that
    is no ``lookalike`` of a 1 or a 0; the pads themselves are appended to ``pads`` when given."""
    return _readable(lambda m: GENERATORS[kind](rng, m, digits), n, kind, pads)


def glyph_examples(char: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """n drawings of the one glyph ``char`` made as the glyph kinds (letters, symbols, signs,
    pictograms) make theirs -> (n, 28, 28) uint8: for figures glyph by glyph."""
    return _readable(lambda m: _glyph_kind(char, rng, m, None), n, repr(char))


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


def make_negatives(n: int, kinds: Sequence[str] = TRAIN_KINDS, seed: int = 0,
                   digits=None) -> tuple[np.ndarray, np.ndarray]:
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
        images[at:at + count] = generate(kind, count, rng, digits)
        labels[at:at + count] = KINDS.index(kind)
        at += count
    order = np.random.default_rng([seed, len(KINDS)]).permutation(n)
    return images[order], labels[order]


# ---------------------------------------------------------------------------------- cache

def digest(array: np.ndarray) -> str:
    """SHA-256 of an array's shape, dtype and bytes (for ``cached``'s params)."""
    a = np.ascontiguousarray(array)
    h = hashlib.sha256(f"{a.shape}{a.dtype.str}".encode())
    h.update(a.tobytes())
    return h.hexdigest()


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """SHA-256 of everything the generated arrays depend on besides their parameters: the
    generating code (training.strokes, training.drawn, this module, digitnet's preprocessing
    and sizes), the font files and NumPy's version."""
    from digitnet import preprocess, sizes
    h = hashlib.sha256(np.__version__.encode())
    for module in (strokes, drawn, sys.modules[__name__], preprocess, sizes):
        h.update(Path(module.__file__).read_bytes())
    for name in FONTS:
        path = FONT_DIR / name
        h.update(name.encode() + (path.read_bytes() if path.is_file() else b"missing"))
    return h.hexdigest()


def cache_path(name: str, params: dict) -> Path:
    """``CACHE_DIR/<sha256 of name, params and code_fingerprint()>.npz``."""
    text = json.dumps({"name": name, "params": params, "code": code_fingerprint()}, sort_keys=True)
    return CACHE_DIR / f"{hashlib.sha256(text.encode()).hexdigest()}.npz"


def cached(name: str, params: dict, make: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """``make()`` (a dict of arrays), or what an earlier call with the same name, params (JSON)
    and generating code stored in ``cache_path``. A missing, unreadable or damaged file is a
    miss: made again and written atomically (a cache that cannot be written is skipped)."""
    path = cache_path(name, params)
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        if str(arrays.pop("__key__", "")) == path.stem:
            return arrays
    except Exception:       # missing, truncated, not a zip, bad CRC, pickled...: rebuild
        pass
    arrays = make()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, lambda f: np.savez(f, __key__=np.array(path.stem), **arrays))
    except OSError:
        pass
    return arrays


def make_negatives_cached(n: int, kinds: Sequence[str] = TRAIN_KINDS, seed: int = 0,
                     digits=None) -> tuple[np.ndarray, np.ndarray]:
    """``make_negatives`` through ``cached``."""
    kinds = _check_kinds(kinds, digits)
    params = {"n": n, "kinds": list(kinds), "seed": seed,
              "digits": None if digits is None else digest(_digit_images(digits))}

    def make():
        images, labels = make_negatives(n, kinds, seed, digits)
        return {"images": images, "kinds": labels}
    arrays = cached("negatives", params, make)
    return arrays["images"], arrays["kinds"]


def as_drawn_cached(images: np.ndarray, seed: int) -> np.ndarray:
    """``training.drawn.as_drawn`` through ``cached``."""
    params = {"images": digest(np.asarray(images, np.uint8)), "seed": seed}
    return cached("as_drawn", params, lambda: {"images": drawn.as_drawn(images, seed)})["images"]


def as_inked_cached(images: np.ndarray, seed: int) -> np.ndarray:
    """``training.drawn.as_inked`` through ``cached``."""
    params = {"images": digest(np.asarray(images, np.uint8)), "seed": seed}
    return cached("as_inked", params, lambda: {"images": drawn.as_inked(images, seed)})["images"]


# ------------------------------------------------------------------------------------ CLI

def _grid(plt, rows: list[tuple[str, list]], path: Path) -> None:
    """A PNG of images in rows, each row labelled on its left."""
    cols = max(len(images) for _, images in rows)
    fig, axes = plt.subplots(len(rows), cols, figsize=(cols * 0.9 + 1.2, len(rows) * 0.9),
                             squeeze=False)
    for r, (label, images) in enumerate(rows):
        for c, ax in enumerate(axes[r]):
            ax.set_xticks([])
            ax.set_yticks([])
            if c < len(images) and images[c] is not None:
                ax.imshow(images[c], cmap="gray_r", vmin=0, vmax=255)
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    fig.subplots_adjust(left=1.1 / (cols * 0.9 + 1.2), right=0.995, top=0.995, bottom=0.005,
                        wspace=0.05, hspace=0.05)
    fig.savefig(path, dpi=80)
    plt.close(fig)


def preview(out_dir: Path, seed: int = 0, per_kind: int = 16) -> tuple[Path, Path]:
    """PNG grids: every kind (its pads, then what to_mnist makes of them) -> negatives.png;
    MNIST test digits, as drawn on the pad, and read back -> drawn.png."""
    from training.fetch import load_mnist
    from training.plots import pyplot
    from tools.paths import DATA_DIR

    plt = pyplot()
    test = load_mnist(DATA_DIR / "mnist_test.csv")
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for kind in KINDS:
        pads: list = []
        images = generate(kind, per_kind, np.random.default_rng([seed, KINDS.index(kind)]), test, pads)
        held = "\n(held out)" if kind in HELD_OUT else ""
        rows += [(f"{kind}{held}\npad", pads), ("28x28", list(images))]
    negatives_png = out_dir / "negatives.png"
    _grid(plt, rows, negatives_png)

    digits = test.images[:per_kind * 3]
    pads = []
    again = drawn._as_drawn(digits, seed, pads)
    rows = []
    for k in range(0, len(digits), per_kind):
        rows += [("MNIST", list(digits[k:k + per_kind])), ("drawn\non the pad", pads[k:k + per_kind]),
                 ("as_drawn", list(again[k:k + per_kind]))]
    drawn_png = out_dir / "drawn.png"
    _grid(plt, rows, drawn_png)
    return negatives_png, drawn_png


def main(argv: list[str] | None = None) -> int:
    from training.fetch import load_mnist
    from tools.paths import ARTIFACTS, DATA_DIR

    p = argparse.ArgumentParser(prog="python -m training.negatives",
                                description="Examples of 'not a digit' and digits as drawn on the page.")
    p.add_argument("--preview", action="store_true", help="write negatives.png and drawn.png")
    p.add_argument("--time", action="store_true", help="time --n negatives and --drawn as_drawn digits")
    p.add_argument("--n", type=int, default=20000, help="negatives to time (default 20000)")
    p.add_argument("--drawn", type=int, default=60000, help="as_drawn digits to time (default 60000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out-dir", type=Path, default=ARTIFACTS, help="where the PNGs go")
    args = p.parse_args(argv)
    if not (args.preview or args.time):
        p.error("nothing to do: give --preview and/or --time")
    if args.preview:
        for path in preview(args.out_dir, args.seed):
            print(f"wrote {path}")
    if args.time:
        train = load_mnist(DATA_DIR / "mnist_train.csv")
        start = time.perf_counter()
        glyphs(LETTERS), glyphs(SYMBOLS)
        print(f"glyph skeletons: {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        make_negatives(args.n, KINDS, args.seed, train)
        print(f"{args.n} negatives ({len(KINDS)} kinds): {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        drawn.as_drawn(train.images[:args.drawn], args.seed)
        print(f"{args.drawn} as_drawn digits: {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
