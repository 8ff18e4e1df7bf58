"""Glyphs of the DejaVu fonts, redrawn as a hand would write them: the glyph kinds' material.

Each char is rendered with Pillow at 96 px in each of the DejaVu faces that has it (sans,
serif, mono, condensed; book, bold, oblique and italic), scaled to a GLYPH_GRID px grid, thinned
to a one-pixel skeleton (``training.drawn.thin``) and traced into strokes (serif spurs dropped,
smoothed): a letter as someone writes it with a pen, not a font's outline. ``make_glyphs`` then
draws them with a round pen under a random rotation, shear, stretch and wobble (``pen.draw``).

The char lists leave out what a person would read as a digit (see ``training.negatives``).
Solid signs are left out too: thinned, a solid shape is a bare frame of lines no hand draws
for it (``ink_widths``, ``SOLID``).
"""

from __future__ import annotations

import functools
import string
from pathlib import Path

import numpy as np

from digitnet.preprocess import bounding_box, frame, to_mnist
from digitnet.sizes import CANVAS
from training.drawn import smooth, thin, trace
from training.negatives.pen import Strokes, draw
from training.strokes import place, render_many

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")  # Debian's fonts-dejavu-core
FONTS = (
    "DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSans-Oblique.ttf",
    "DejaVuSans-BoldOblique.ttf",
    "DejaVuSansCondensed.ttf",
    "DejaVuSansCondensed-Oblique.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSerif-Bold.ttf",
    "DejaVuSerif-Italic.ttf",
    "DejaVuSerif-BoldItalic.ttf",
    "DejaVuSansMono.ttf",
    "DejaVuSansMono-Bold.ttf",
    "DejaVuSansMono-Oblique.ttf",
    "DejaVuSansMono-BoldOblique.ttf",
)

#: Letters a person would read as a digit -> the digit.
EXCLUDED_LETTERS = {
    "O": "0",
    "o": "0",
    "Q": "0",
    "D": "0",
    "l": "1",
    "I": "1",
    "i": "1",
    "j": "1",
    "J": "1",
    "Z": "2",
    "z": "2",
    "S": "5",
    "s": "5",
    "G": "6",
    "b": "6",
    "T": "7",
    "B": "8",
    "g": "9",
    "q": "9",
    "a": "9",
    "y": "4 or 9",
}
#: Symbols left out -> why.
EXCLUDED_SYMBOLS = {
    **dict.fromkeys("|/\\()[]{}!", "a 1"),
    **dict.fromkeys("-_", "a lone line"),
    **dict.fromkeys(".,'`\":;", "nothing to read, or a 1"),
    "¬": "a 7",
    "√": "a 7",
    "§": "an 8",
    "ß": "an 8",
    "∞": "an 8",
    "£": "a 2 or 4",
    "¡": "an i",
    "¶": "thins to a line",
}
#: Greek and Cyrillic letters unlike Latin ones and unlike a digit: not α γ (an a, a y), δ θ ο Θ
#: ζ ξ ε (a 6, 0, 2 or 3), ι Ι (a 1), τ Γ Τ Г Т т (a 7), Β Б б В в (a 6 or 8), З з Э э (a 3), Ч ч У у
#: (a 4), Ь ь (a 6); nor Π П п and μ, too close to the symbols π and µ.
FOREIGN_LETTERS = "ΔΛΞΣΦΨΩηκλφχψωДЖИЛФЦШЩЫЮЯжилфцшщыюя"
LETTERS = "".join(c for c in string.ascii_letters if c not in EXCLUDED_LETTERS) + FOREIGN_LETTERS
SYMBOLS = "#@&%$*+=?<>~^€¥©®±×πµ¿"
#: Signs of other kinds, as DejaVu draws them: arrows, set operators, boxed and circled operators,
#: outlined shapes, stars, emblems and Hebrew letters. Left out, as for the letters: what a person
#: would read as a digit (round, a 0: ▢ ◊ ♢ ❍ ⊘ ⎔ ⌬ ⌂ ☪ ט ם; a stroke with bars, a foot or a hook, a 1:
#: ☦ ☨ ⚕ ✎ ✐ ⚘ ∮ ∯ ∬ ג ל ף ץ; a 7: steep arrows ➘ ➚, hooked ones ↩ ↪, ב כ פ צ ח; two stacked loops, an
#: 8: ☃; ⊃ and ⊇, a 3 and a 2). Left out too, so that signs and symbols stay apart: asterisks
#: (✱-✽ ❄-❋), crosses like + and × (✙ ✚ ✛ ✜ ✠ ☩ ☓ ✕-✘), angles like < > ^ (≤ ≥ ∧ ∨ ⋀ ⋁ ∠), = ~ and
#: their kin (≠ ≡ ≈ ∼), ∓ ♯ ‰ ‽ ⅋ ℗, and every currency sign. And solid shapes (■ ▲ ◆ ♠ ♥ ❤ ➡ ☻ ♚ ✈
#: ..., ink wider than ``SOLID``): thinned, a solid shape is a bare frame of lines no hand draws for
#: it.
SIGNS = (
    "←→↔⇐⇒⇔↶↷⇄⇆⇋⇌↭↹⇉⇇⇍⇎⇏↚↛↮∀∩∪⊂⊆⊕⊖⊗⊛⊜⊞⊟⊠⊡⊲⊳⋂⋃⋈⊿□▤▥▦▧▨▩△▽◇◈◫◬◭◮◰◱◲◳◸◹◺◿⌘⌧☐☑☒"
    "☧☫☬☭☮☯☸♡⚢⚣⚤⚥✉✡✦✧✩✫✬✭✮✯✰❏❐❑❒➔➙➛➝➞➠➢➣אהמקשת"
)
#: Little pictures of things, from the same fonts and chosen by the same rules as SIGNS
#: (skull, hazards, faces, sun, chess pieces, card suits, hot springs, notes, flag, tools, anchor,
#: swords, scales, atom, fleur-de-lis, warning, scissors, telephone, tape, hands, pencils, flowers,
#: a leaf). The outlined heart and the envelope stay in SIGNS: the shapes kind draws both.
PICTOGRAMS = "☠☢☣☹☺☼♔♕♖♗♘♙♤♧♨♫♬⚐⚒⚓⚔⚖⚗⚙⚛⚜⚠✁✂✃✄✆✇✌✍✏✑✒❀❁❂❃❧"

GLYPH_GRID = 64  # glyphs are thinned on this many pixels (longer side)
GLYPH_SPUR = 0.12  # skeleton branches shorter than this x GLYPH_GRID are serifs: dropped
SOLID = 11.0  # px of GLYPH_GRID: a sign with more ink than this per pixel of skeleton is solid


def font_files() -> tuple[Path, ...]:
    """The font files the glyphs come from (present or not), for the cache's key."""
    return tuple(FONT_DIR / name for name in FONTS)


def glyph_masks(text: str) -> list[tuple[str, str, np.ndarray]]:
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
                (max(1, round(w * f)), max(1, round(h * f))), Image.Resampling.BOX
            )
            out.append((name, char, frame(np.asarray(crop) > 127, 2)))
    return out


def _stacked(masks: list[tuple[str, str, np.ndarray]]) -> np.ndarray:
    """The masks of ``glyph_masks`` in one (N, side, side) bool batch, each at the top left."""
    side = max(max(m.shape) for _, _, m in masks) if masks else 0
    batch = np.zeros((len(masks), side, side), bool)
    for k, (_, _, m) in enumerate(masks):
        batch[k, : m.shape[0], : m.shape[1]] = m
    return batch


def ink_widths(text: str) -> dict[str, float]:
    """Each char of ``text``: its ink per pixel of its skeleton in px of GLYPH_GRID, the median over
    the DejaVu faces that have it. A stroke's width for a drawn glyph; more than ``SOLID`` for a
    solid shape, whose skeleton is a frame of lines no hand draws for it."""
    masks = glyph_masks(text)
    batch = _stacked(masks)
    width = batch.sum(axis=(1, 2)) / np.maximum(thin(batch).sum(axis=(1, 2)), 1)
    by_char: dict[str, list] = {}
    for (_, char, _), w in zip(masks, width):
        by_char.setdefault(char, []).append(float(w))
    return {char: float(np.median(w)) for char, w in by_char.items()}


@functools.cache
def glyphs(text: str) -> tuple[tuple[str, str, tuple[np.ndarray, ...]], ...]:
    """(font, char, strokes) of every char of ``text`` in every DejaVu face present, the
    strokes in units of the glyph's longer side; glyphs that thin to nothing or that
    ``to_mnist`` reads as nothing are left out. Built once per process."""
    masks = glyph_masks(text)
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


def glyph_drawings(rng: np.random.Generator, n: int, text: str) -> list[Strokes]:
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


def make_glyphs(text: str, rng, n, digits):
    """A glyph kind (letters, symbols, signs, pictograms): n glyphs of ``text`` drawn with the pen."""
    return draw(rng, glyph_drawings(rng, n, text))
