"""Reading a whole number: the drawing cut into characters, each read as a single digit is read.

1. **Pieces from the ink** (``digitnet.pieces``): the columns the strokes cross, a wide run split
   into its strokes' groups, specks left out.
2. **Pieces into characters** (``Reader.join_close``): a piece less high than SHORT of the
   tallest (a 5's bar drawn apart) nearer than NEAR x height to a digit goes with the nearer one;
   two such near pieces are joined when they read more surely as one digit than as two (a digit
   whose strokes do not meet).
3. **Touching digits are told apart by their strokes** (``strokes.strokes_apart``), when the page
   sent them: a character is kept whole when it is narrower than SEARCH x its height, or read as
   a digit at least SURE and narrower than WIDE. Otherwise its strokes, in the order drawn, are
   split into runs (a digit is finished before the next is begun), each run's ink read with one
   view (``scoring.glance``), the best runs found as the most probable path. Kept when each run
   reads as a digit at least STROKES_SURE and together more surely than the whole (as strictly
   as a cut through a stroke when the whole reads as a digit: a lone digit's fragments read as
   digits too).
4. **Else they are cut by the network** (``digitnet.cuts``): its candidate cuts (gaps no stroke
   crosses, valleys of the column profile, a grid) are read with one view, the most probable way
   to cut it is found over them and each cut moved a few columns where its parts read better;
   the parts are then read as the caller reads. The cut is kept when every part reads as a digit
   at least PART_SURE and together more surely than the whole. Stricter (PART_SURE_ND, and no
   part read as a 1) when the cut crosses a stroke and the whole reads "not a digit" or is the
   pad's only piece: the network reads a letter's or a lone digit's pieces as confident digits
   too (halves of a 0, a sliver as a 1), and "one digit behaves exactly as today" comes first.
5. **Each character is read as a single digit is**: ``predict.predict_drawing`` on its ink, the
   same preprocessing, views and verdict; a character less high than SHORT of the tallest reads
   "not a digit" (reason "too-small": a mark beside the digits, not one of them), and so does a
   digit sharing less than ON_LINE of its height with the rows the others share (``on_the_line``:
   a stray stroke above or below the line).
6. **One character reads exactly as before**: ``predict_drawing`` on the whole pad, marks and all.
   So does one digit with only marks beside it (``is_mark``: less high than SHORT of the tallest,
   or specks each less high than MARK of it, like a dash above a comma): a stray mark is not a
   second character.

Read with one view (``views=LIVE``: the pen is down) no cuts are searched: the characters are the
pieces as they lie, and the search runs once the pen lifts. The page's worker keeps what it read
and searched (``Kept``): a number written digit by digit reads each character once.

What it gets right and where it stops (``python -m bench.number_bench``, docs/results.md): digits
apart or close read about as well as each digit drawn alone; touching digits, with their strokes,
about four numbers in five. From the pixels alone (no strokes sent) touching digits read much
less: this network reads a touching pair as "not a digit" (it was taught that two digits side by
side are not one) and reads pieces of letters and scribbles as confident digits as readily as the
halves of a pair, so every cut that would let more touching numbers through lets non-digits
through as digits too: PART_SURE_ND is that trade.

NumPy only (the page's worker runs it).
"""

from __future__ import annotations

import dataclasses
import functools
import statistics
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from digitnet.cuts import MAX_PART, NARROW, THIN_COST, Cuts, clean
from digitnet.network import Model
from digitnet.pieces import FAINT, MARK, Piece, joined, pieces
from digitnet.predict import LIVE, VIEWS, Prediction, empty_response, predict_drawing
from digitnet.preprocess import bounding_box
from digitnet.scoring import CUT_COST, LOW, PENALTY
from digitnet.sizes import PEN_FIT, PEN_MIN, PEN_THICKEST
from digitnet.strokes import Strokes, strokes_apart

MAX_CHARACTERS = 8  # a number has at most this many characters (cuts stop there)
NOT_A_DIGIT = "?"  # how a character that is not a digit shows in the number
NEAR = 0.15  # pieces closer than this share of the height may be one digit in two pieces
SURE = 0.9  # a character read this surely as one digit...
WIDE = 1.3  # ...and less wide than this many times its height is not tried at cuts
SEARCH = 0.6  # nor is one narrower than this
SIBLINGS = 1.5  # ...nor, beside other characters, one read as a digit less wide than this x theirs
STROKES_SURE = 0.5  # each run of strokes read as a character reads as a digit at least this surely
PART_SURE = 0.8  # each part of a character cut reads as a digit at least this surely
PART_SURE_ND = 0.98  # ...and all of them this surely on average (their probabilities' geometric
# mean), fewer than half as 1s, when the whole reads "not a digit" or is the pad's only piece and a
# cut crosses a stroke (letters and scribbles cut up read as digits too, slivers as 1s)
ONE_WIDE = 0.4  # ...and a part read as a 1 is narrower than this share of the height (less the pen)
ON_LINE = 0.7  # a digit sharing less than this share of its height with the number's line: a mark
SHORT = 0.6  # a character less high than this share of the tallest: not a digit (a mark)
THINNER = 0.8  # a thinner pen is offered when it is at most this share of the pen (fitting_pen)


@dataclass(frozen=True)
class Character:
    """One character of the drawing: its ink's box on the pad (``left``/``right`` columns,
    ``top``/``bottom`` rows, end exclusive) and how the network read it."""

    left: int
    right: int
    top: int
    bottom: int
    prediction: Prediction

    @property
    def text(self) -> str:
        digit = self.prediction.digit
        return NOT_A_DIGIT if digit is None else str(digit)


@dataclass(frozen=True)
class NumberReading:
    """The characters left to right, and what they read: ``value`` ("2026", "20?6")."""

    characters: list[Character]

    @property
    def value(self) -> str:
        return "".join(c.text for c in self.characters)

    def fitting_pen(self, pen: float, pad_height: int) -> float:
        """A thinner pen (px) for characters this size, or 0 when the pen suits them. Offered when
        a character does not read surely as a digit (at least SURE) and ``pen`` is thicker than
        PEN_THICKEST of the characters' median height (their strokes' centre lines: the ink less
        the pen), which no training drawing is: PEN_FIT of that height, at least the page's
        thinnest pen (PEN_MIN of ``pad_height``), and only if that is at most THINNER x ``pen``.
        Five digits on a phone held upright, with the pen a lone digit suits, close their holes."""
        p = [c.prediction for c in self.characters]
        if pen <= 0 or all(q.verdict == "digit" and q.probs.max() >= SURE for q in p):
            return 0.0
        height = statistics.median(max(c.bottom - c.top - pen, 1.0) for c in self.characters)
        if pen <= PEN_THICKEST * height:
            return 0.0
        fit = max(PEN_FIT * height, PEN_MIN * pad_height)
        return float(fit) if fit <= THINNER * pen else 0.0

    def moved(self, dx: int, dy: int) -> NumberReading:
        """The same reading with every box moved by (dx, dy) pixels."""
        move = dataclasses.replace
        return NumberReading(
            [
                move(c, left=c.left + dx, right=c.right + dx, top=c.top + dy, bottom=c.bottom + dy)
                for c in self.characters
            ]
        )


def sureness(p: Prediction | None) -> float:
    """How surely a reading is one digit, as a log-score: the log of its most probable digit's
    probability (PENALTY for nothing read, or ink too small to read)."""
    if p is None or p.reason == "too-small":
        return PENALTY
    return max(float(np.log(max(float(p.probs.max()), 1e-12))), PENALTY)


class Recent(OrderedDict):
    """A dict of at most ``size`` entries that forgets the one least recently set or read."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def __getitem__(self, key):
        value = super().__getitem__(key)
        self.move_to_end(key)
        return value

    def __setitem__(self, key, value) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        if len(self) > self.size:
            self.popitem(last=False)


class Kept:
    """Readings of characters, and how each was split, kept from one call of ``read_number`` to
    the next (the page's worker holds one): a character's reading depends only on its ink, the pen
    and the views, and its split on those, its place, its strokes and the number's height, so while
    a number is written the characters already there are not read or searched again (nor taken
    apart: ``pieces.pieces`` keeps each run of columns' pieces here too). At most SIZE entries,
    the least recently used forgotten first (each pen move leaves readings of the character being
    drawn that are not needed again), all of one model (another model empties it). It keeps that
    model's answer to an empty image too (``predict.empty_response``, which every reading with
    views starts from)."""

    SIZE = 256

    def __init__(self) -> None:
        self.model: Model | None = None
        self.empty: np.ndarray | None = None
        self.forget()

    def forget(self) -> None:
        """Empty it: the next readings are made afresh (a benchmark's new drawing)."""
        self.readings = Recent(self.SIZE)

    def of(self, model: Model) -> Recent:
        """The readings made with ``model`` (emptied when it is another)."""
        if self.model is not model:
            self.model, self.empty = model, empty_response(model)
            self.forget()
        return self.readings


class Reader:
    """Reads pieces of one pad as the caller reads (``views``), each piece once; ``kept``: the
    readings of earlier calls, if any (those made with ``model``, ``Kept.of``, and its empty
    response, ``Kept.empty``)."""

    def __init__(
        self, model: Model, pen: float, views, strokes: Strokes | None = None, kept: Kept | None = None
    ) -> None:
        self.model, self.pen, self.views, self.strokes = model, pen, views, strokes
        self.search = tuple(views) != tuple(LIVE)  # cuts are searched once the pen lifts
        self.seen: dict[tuple[int, int, int], Prediction | None] = {}
        self.kept = {} if kept is None else kept.of(model)
        self.empty = None if kept is None else kept.empty
        self.alone = False  # the pad's ink is one piece: a single digit unless that is surely wrong
        self.cuts = Cuts(model)

    def __call__(self, piece: Piece) -> Prediction | None:
        raw = piece.image.tobytes()
        key = (piece.left, piece.right, hash(raw))
        if key not in self.seen:
            ink = (self.pen, tuple(self.views), piece.image.shape, raw)
            if ink not in self.kept:
                self.kept[ink] = predict_drawing(self.model, piece.image, self.pen, self.views, self.empty)
            self.seen[key] = self.kept[ink]
        return self.seen[key]

    def whole(self, pad: np.ndarray) -> Prediction | None:
        """The whole pad read as a single digit always was: ``predict_drawing``, marks and all."""
        key = ("pad", self.pen, tuple(self.views), pad.shape, pad.tobytes())
        if key not in self.kept:
            self.kept[key] = predict_drawing(self.model, pad, self.pen, self.views, self.empty)
        return self.kept[key]

    def split(self, piece: Piece, height: int, room: int, others: float | None = None) -> list[Piece]:
        """A character -> the parts it reads best as: itself, or apart into digits (at most
        MAX_CHARACTERS, and whole when that is more than ``room``): by its strokes
        (``strokes.strokes_apart``), else at the cuts the network finds (``cuts.Cuts.best``),
        kept as ``accepted`` says. ``others``: the median width of the number's other
        characters (None: it has none). Not tried when it is narrower than
        SEARCH x its height, nor when it reads as a digit, is less wide than WIDE x its height
        and either reads so at least SURE or is less wide than SIBLINGS x the others (a digit the
        network doubts among digits as wide is still one digit)."""
        box = piece.box()
        if box is None or room < 2 or not self.search:
            return [piece]
        h, w = box[1] - box[0], box[3] - box[2]
        whole = self(piece)
        if w < SEARCH * h:
            return [piece]
        if whole is not None and whole.verdict == "digit" and w < WIDE * h:
            if whole.probs.max() >= SURE or (others is not None and w < SIBLINGS * others):
                return [piece]
        near = (
            ()
            if self.strokes is None
            else tuple(self.strokes.lines[k].tobytes() for k in self.strokes.over(piece))
        )
        key = ("split", self.pen, tuple(self.views), piece.left, piece.image.shape, piece.image.tobytes())
        key += (height, self.alone, near)
        if key not in self.kept:  # the search is the costly part: a number written on keeps it
            self.kept[key] = self.searched(piece, whole, height, MAX_CHARACTERS)
        parts = self.kept[key]
        return parts if len(parts) <= room else [piece]  # no room left for them: the rest reads "?"

    def searched(self, piece: Piece, whole: Prediction | None, height: int, room: int) -> list[Piece]:
        """``split``'s search: the character apart by its strokes, else cut, else whole."""
        if self.strokes is not None:
            parts = strokes_apart(self.model, self.strokes, piece, height, room)
            if len(parts) > 1 and self.accepted(parts, whole, height, clean=True, by_strokes=True):
                return parts
        cuts = self.cuts.best(piece, height, room)
        if not cuts:
            return [piece]
        w = piece.image.shape[1]
        cuts, off_strokes = clean(piece, cuts, height)
        parts = [Piece(piece.left + a, piece.image[:, a:b]) for a, b in zip([0, *cuts], [*cuts, w])]
        return parts if self.accepted(parts, whole, height, off_strokes) else [piece]

    def accepted(
        self, parts: list[Piece], whole: Prediction | None, height: int, clean: bool, by_strokes: bool = False
    ) -> bool:
        """Whether a character is read as ``parts`` rather than ``whole``: each part reads as a
        digit at least PART_SURE (a 1 narrower than ONE_WIDE x height), no part is less high than
        LOW x height, and together they read more surely than the whole, each cut costing CUT_COST
        and a sliver THIN_COST. ``clean``: no cut crosses a stroke; when one does and the whole
        reads "not a digit" or is the pad's only piece, PART_SURE_ND and fewer than half 1s.
        ``by_strokes``: the parts are runs of strokes (no stroke cut): each reads as a digit at
        least STROKES_SURE, a 1 of any width, and PART_SURE_ND when the whole reads as a digit
        (a lone digit's strokes read as digits too)."""
        # a letter's parts read as digits too; so do a lone digit's the network doubts
        doubted = not clean and (self.alone or whole is None or whole.verdict != "digit")
        doubted |= by_strokes and whole is not None and whole.verdict == "digit"  # a digit in fragments
        total, ones, sure = -CUT_COST * (len(parts) - 1), 0, 0.0
        least = STROKES_SURE if by_strokes else PART_SURE
        for part in parts:
            p, (top, bottom, left, right) = self(part), part.box()
            if p is None or p.verdict != "digit" or p.probs.max() < least or bottom - top < LOW * height:
                return False
            if p.digit == 1:
                if not by_strokes and right - left - self.pen > ONE_WIDE * height:
                    return False
                ones += 1
            sure += sureness(p)
            total += sureness(p) - (THIN_COST if right - left < NARROW * height else 0.0)
        if doubted and (sure < len(parts) * np.log(PART_SURE_ND) or 2 * ones >= len(parts)):
            return False
        return total > sureness(whole)

    def join_close(self, found: list[Piece], height: int) -> list[Piece]:
        """Pieces left to right -> characters: a piece less high than SHORT x ``height`` (a 5's
        bar drawn apart, a hook) nearer than NEAR x height to a taller neighbour goes with the
        nearer one (read with it if that reads at least as surely as a digit, else only in its
        box); two taller neighbours that near are joined when they read surer as one digit (a
        digit drawn in two pieces)."""
        gaps = [b.box()[2] - a.box()[3] for a, b in zip(found, found[1:])]
        short = [p.box()[1] - p.box()[0] < SHORT * height for p in found]
        out: list[Piece] = []
        for i, p in enumerate(found):
            if i and gaps[i - 1] < NEAR * height:
                q = out[-1]
                if short[i] and not short[i - 1] and (i + 1 == len(found) or gaps[i - 1] <= gaps[i]):
                    out[-1] = self.with_mark(q, p)
                    continue
                if short[i - 1] and not short[i] and (i < 2 or gaps[i - 1] < gaps[i - 2]):
                    out[-1] = self.with_mark(p, q)
                    continue
                if short[i] == short[i - 1]:
                    both = joined(q, p)
                    bb = both.box()
                    if bb[3] - bb[2] <= MAX_PART * (bb[1] - bb[0]):
                        one = self(both)
                        apart = sureness(self(q)) + sureness(self(p))
                        if one is not None and one.verdict == "digit" and sureness(one) > apart:
                            out[-1] = both
                            continue
            out.append(p)
        return out

    def with_mark(self, body: Piece, mark: Piece) -> Piece:
        """A digit and a short mark beside it -> one character: read with the mark when that
        reads as a digit at least as surely, else without it (the mark then only widens its box)."""
        both = joined(body, mark)
        one, alone = self(both), self(body)
        if one is not None and one.verdict == "digit" and sureness(one) >= sureness(alone):
            return both
        (t0, b0, l0, r0), (t1, b1, l1, r1) = body.box(), mark.box()
        return Piece(body.left, body.image, (min(t0, t1), max(b0, b1), min(l0, l1), max(r0, r1)))


def read_number(
    model: Model,
    pad: np.ndarray,
    pen: float = 0.0,
    views=VIEWS,
    strokes: Strokes | None = None,
    kept: Kept | None = None,
) -> NumberReading | None:
    """Pad pixels (H, W) ink 0-255 uint8 -> the characters it reads as, or None when it reads
    nothing (an empty pad, a lone dot). A drawing of one character reads exactly as
    ``predict_drawing`` reads it. Only the columns with ink are read (the same answers, the
    boxes on the pad, however wide the empty pad either side). ``strokes``: the drawing's pen
    strokes, when known (touching digits are then first tried apart stroke by stroke);
    ``kept``: readings of characters from earlier calls (the same answers, sooner)."""
    pad = np.asarray(pad)
    if pad.dtype != np.uint8:
        pad = np.round(np.clip(pad.astype(np.float32), 0, 1) * 255).astype(np.uint8)
    inked = np.flatnonzero(pad.any(axis=0))
    if not inked.size:
        return None
    left, right = int(inked[0]), int(inked[-1]) + 1
    if (left, right) != (0, pad.shape[1]):  # the columns with ink: the pad either side is only work
        ink = pad[:, left:right]  # (all its rows: a taller digit added changes no other's image)
        moved = None if strokes is None else strokes.moved(-left, 0, ink.shape)
        reading = read_number(model, ink, pen, views, moved, kept)
        return None if reading is None else reading.moved(left, 0)
    reader = Reader(model, pen, views, strokes, kept)
    found = pieces(pad, None if kept is None else reader.kept)
    if not found:
        return None
    height = max(p.box()[1] - p.box()[0] for p in found)
    reader.alone = len(found) == 1
    if reader.alone:  # its reading is the whole pad's
        reader.seen[(found[0].left, found[0].right, hash(found[0].image.tobytes()))] = reader.whole(pad)
    else:
        found = reader.join_close(found, height)
    if len(found) > MAX_CHARACTERS:  # the rest read as one last character (it reads "?")
        rest = found[MAX_CHARACTERS - 1 :]
        found = found[: MAX_CHARACTERS - 1] + [functools.reduce(joined, rest)]
    widths = [p.box()[3] - p.box()[2] for p in found]
    parts: list[Piece] = []
    for i, piece in enumerate(found):
        others = float(statistics.median(widths[:i] + widths[i + 1 :])) if len(found) > 1 else None
        parts += reader.split(piece, height, MAX_CHARACTERS - len(parts) - (len(found) - i - 1), others)
    if len(parts) == 1 or (len(parts) == len(found) and one_body(found, height)):  # marks and all
        p = reader.whole(pad)
        if p is None:
            return None
        top, bottom, left, right = bounding_box(pad, FAINT)
        return NumberReading([Character(left, right, top, bottom, p)])
    characters = []
    for part in parts:
        p = reader(part)
        if p is None:
            continue  # a dot
        top, bottom, left, right = part.marks or part.box()
        if bottom - top < SHORT * height and p.verdict == "digit":  # a mark beside the digits
            p = Prediction("not-digit", "too-small", p.image, p.probs, p.not_digit)
        characters.append(Character(left, right, top, bottom, p))
    return NumberReading(on_the_line(characters)) if characters else None


def one_body(found: list[Piece], height: int) -> bool:
    """Whether all of the pieces but one are marks (``is_mark``), looking no further than needed."""
    bodies = 0
    for piece in found:
        bodies += not is_mark(piece, height)
        if bodies > 1:
            return False
    return bodies == 1


def is_mark(piece: Piece, height: int) -> bool:
    """Ink less high than SHORT x ``height`` (a dash, a comma), or less than MARK x ``height`` in
    each of its connected stretches (a dash above a comma: tall together, specks each): beside a
    digit, a mark and not a second character (a digit drawn in pieces mostly has a stretch taller)."""
    top, bottom, _, _ = piece.box()
    return bottom - top < SHORT * height or not piece.reaches(MARK * height)


def on_the_line(characters: list[Character]) -> list[Character]:
    """A number's characters sit on one line: a digit whose ink shares less than ON_LINE of its
    height with the rows the number's characters share (their median top to median bottom) is a
    mark above or below the line (a stray stroke, a letter's dot), "not a digit"."""
    if len(characters) < 2:
        return characters
    top = float(np.median([c.top for c in characters]))
    bottom = float(np.median([c.bottom for c in characters]))
    out = []
    for c in characters:
        shared = min(bottom, c.bottom) - max(top, c.top)
        p = c.prediction
        if p.verdict == "digit" and shared < ON_LINE * (c.bottom - c.top):
            p = Prediction("not-digit", "not-a-digit", p.image, p.probs, p.not_digit)
            c = Character(c.left, c.right, c.top, c.bottom, p)
        out.append(c)
    return out
