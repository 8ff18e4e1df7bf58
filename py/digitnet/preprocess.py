"""From the drawing pad's pixels to a 28x28 image the way MNIST was made.

MNIST digits were size-normalised to fit a 20x20 box (keeping the aspect
ratio, anti-aliased), then placed in a 28x28 field so that their centre of mass
sits at the centre. People draw anywhere on the pad, at any size, with a brush
that is thick for a small digit and thin for a large one; this module undoes
all of that before the network sees the drawing:

1. ``bounding_box``: crop to the ink.
2. ``ink_components`` / ``drop_specks``: stray specks far from the digit
   (less than ``SPECK_FRACTION`` of the ink) are removed; crop again.
3. ``to_working_size``: area-scale the crop to at most ``WORK`` px, so the
   rest costs the same for any pad size (this runs on every pen move).
4. ``stroke_width`` + ``normalize_stroke``: thin or thicken the strokes so
   that, once scaled, they are about as wide as MNIST's.
5. ``resize_area``: scale the longer side to 20 px by area averaging.
6. ``center_of_mass`` + ``place``: put the centre of mass at the centre of 28x28.

NumPy only (runs in the browser through Pyodide). Pad pixels are ink
intensity: (H, W) uint8 0-255 (the canvas alpha channel) or float in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from digitnet.sizes import BOX, SIDE

#: Bumped whenever a change here changes the images a model sees; model files
#: record the version they were trained for and the loader refuses another.
VERSION = 1
DESCRIPTION = (
    "crop to the ink; drop specks under 5% of the ink; normalise the stroke width "
    "to 2.5 px of the 28x28 image; scale the longer side to 20 px by area averaging; "
    "centre of mass at the centre of 28x28; ink in [0, 1]"
)

INK = 0.5  # a pixel is "ink" above this intensity (0-1), for shapes
SPECK_FRACTION = 0.05  # components with less of the total ink are specks
MIN_ASPECT = 2.5  # bounding box shorter than this many stroke widths: too small to read
DOT_ASPECT = 2.0  # ...and shorter than this many: a dot (a tap measures 1.6-2.4), read as nothing
DOT_PENS = 1.5  # with the pen's diameter known: ink no longer than this many pens is a dot
PART_FRACTION = 0.15  # side_by_side: a part holds at least this share of the ink
TARGET_WIDTH = 2.5  # stroke width (px, in the 28x28 image) we normalise to, MNIST-like
WORK = 80  # stroke normalisation works on at most this size (px)
GRID = 32  # specks are found on a grid of at most GRID x GRID cells


def to_unit(pad: np.ndarray) -> np.ndarray:
    """Pad pixels (H, W) uint8 0-255 or float 0-1 -> float32 (H, W) in [0, 1]."""
    pad = np.asarray(pad)
    if pad.ndim != 2:
        raise ValueError(f"pad must be a 2-D array of ink intensity, got shape {pad.shape}")
    if pad.dtype == np.uint8:
        return pad.astype(np.float32) / np.float32(255)
    return np.clip(pad.astype(np.float32), 0, 1)


def frame(img: np.ndarray, before: int, after: int | None = None, value: float = 0.0) -> np.ndarray:
    """img (..., h, w) with ``before`` pixels of value above and left of it and ``after``
    (default: as many) below and right -> (..., h + before + after, w + before + after),
    same dtype (a lean np.pad over the last two axes)."""
    after = before if after is None else after
    *batch, h, w = img.shape
    out = np.full((*batch, h + before + after, w + before + after), value, img.dtype)
    out[..., before : before + h, before : before + w] = img
    return out


def bounding_box(ink: np.ndarray, threshold: float = 0.0) -> tuple[int, int, int, int] | None:
    """Smallest (top, bottom, left, right) slice bounds holding all pixels > threshold; None if none."""
    mask = ink > threshold
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def ink_components(mask: np.ndarray) -> np.ndarray:
    """Label the 8-connected components of a boolean mask (h, w) -> int32 labels, 0 = background.

    Union-find over the horizontal runs of ink: a run joins every run of the
    row above that it touches (diagonals included).
    """
    h, w = mask.shape
    edges = np.diff(mask.astype(np.int8), axis=1, prepend=0, append=0)
    run_row, run_start = np.nonzero(edges == 1)  # runs in row-major order
    run_stop = np.nonzero(edges == -1)[1]  # exclusive ends, same order
    rows, starts, stops = run_row.tolist(), run_start.tolist(), run_stop.tolist()
    parent = list(range(len(rows)))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    above = 0  # first run of the row above the current run's row
    for i, y in enumerate(rows):
        while above < i and rows[above] < y - 1:
            above += 1
        j = above
        while j < i and rows[j] == y - 1:
            if starts[j] <= stops[i] and stops[j] >= starts[i]:  # touching, diagonals included
                a, b = find(i), find(j)
                parent[max(a, b)] = min(a, b)
            j += 1
    labels = np.zeros((h, w), np.int32)
    for i, (y, start, stop) in enumerate(zip(rows, starts, stops)):
        labels[y, start:stop] = find(i) + 1
    return labels


def grid_components(ink: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Ink components of (h, w) on a coarse grid of at most GRID x GRID square cells (strokes that
    nearly touch count as one; the work is the same for any pad size).

    -> (labels (gh, gw) int32, 0 = background; ink per label (n_labels + 1,), [0] = 0; cell side in px).
    """
    h, w = ink.shape
    cell = -(-max(h, w) // GRID)
    gh, gw = -(-h // cell), -(-w // cell)
    padded = np.zeros((gh * cell, gw * cell), np.float32)
    padded[:h, :w] = ink
    mass = padded.reshape(gh, cell, gw, cell).sum(axis=(1, 3))
    labels = ink_components(mass > 0)
    per_label = np.bincount(labels.ravel(), weights=mass.ravel())
    per_label[0] = 0
    return labels, per_label, cell


def drop_specks(ink: np.ndarray) -> np.ndarray:
    """Remove ink components holding less than SPECK_FRACTION of all ink; (h, w) -> (h, w) float32."""
    h, w = ink.shape
    labels, per_label, cell = grid_components(ink)
    if np.count_nonzero(per_label) <= 1:
        return ink
    keep_label = per_label >= SPECK_FRACTION * per_label.sum()
    keep = np.repeat(np.repeat(keep_label[labels], cell, axis=0), cell, axis=1)[:h, :w]
    return np.where(keep, ink, np.float32(0))


def side_by_side(pad: np.ndarray) -> bool:
    """True if the drawing (any size: the pad, or the 28x28 image the network sees) is two or
    more parts next to each other: at least two components with PART_FRACTION of the ink each,
    the two largest with no column in common (a 5's bar or a 4 in two strokes overlap left to
    right; "12", or a digit with a mark beside it, do not)."""
    ink = to_unit(pad)
    box = bounding_box(ink)
    if box is None:
        return False
    top, bottom, left, right = box
    labels, per_label, _ = grid_components(ink[top:bottom, left:right])
    big = np.flatnonzero(per_label >= PART_FRACTION * per_label.sum())
    if len(big) < 2:
        return False
    a, b = big[np.argsort(-per_label[big])[:2]]
    cols_a = np.flatnonzero((labels == a).any(axis=0))
    cols_b = np.flatnonzero((labels == b).any(axis=0))
    return cols_a[-1] < cols_b[0] or cols_b[-1] < cols_a[0]


def stroke_width(ink: np.ndarray) -> float:
    """Mean stroke width in pixels of an ink image (h, w), estimated as 2 * area / perimeter.

    A stroke of width w and length L has area w*L and perimeter about 2L.
    The perimeter counts ink/background edges along rows and columns.
    """
    mask = ink > INK
    area = float(mask.sum())
    if area == 0:
        return 0.0
    m = frame(mask, 1)
    perimeter = float((m[1:, :] != m[:-1, :]).sum() + (m[:, 1:] != m[:, :-1]).sum())
    # Edges counted along the axes overestimate a slanted or curved outline by about 4/pi.
    return 2.0 * area / (perimeter * np.pi / 4)


def grey_filter(ink: np.ndarray, size: int, op) -> np.ndarray:
    """Grey-level dilation (op=np.maximum) or erosion (op=np.minimum) of (..., h, w) by a
    size x size square; same shape.

    The square covers offsets -(size // 2) .. size - 1 - size // 2 on each axis
    (centred for odd sizes; for size 2, the pixel and the one above / to the left).
    Separable: the max (or min) over ``size`` rows, then over ``size`` columns.
    Outside the image counts as background for dilation and as ink for erosion.
    """
    *_, h, w = ink.shape
    before = size // 2
    framed = frame(ink, before, size - 1 - before, 0.0 if op is np.maximum else 1.0)
    rows = framed[..., :h, :]
    for k in range(1, size):
        rows = op(rows, framed[..., k : k + h, :])
    out = rows[..., :w]
    for k in range(1, size):
        out = op(out, rows[..., k : k + w])
    return out


def normalize_stroke(ink: np.ndarray, width: float) -> np.ndarray:
    """Thin or thicken strokes so that, once the digit is scaled into the 20 px box, they are
    about TARGET_WIDTH wide.

    ink: (h, w) float32 crop to the ink's bounding box; width: its stroke width (px).
    Returns the crop framed by background, eroded or dilated by a radius r.
    Eroding by r takes 2r off both the stroke width w and the longer side L, so
    solve (w - 2r) * BOX / (L - 2r) = TARGET_WIDTH for r (negative r: dilate).
    """
    length = max(ink.shape)
    radius = int(round((width - TARGET_WIDTH * length / BOX) / (2 * (1 - TARGET_WIDTH / BOX))))
    if radius >= 1:
        radius = min(radius, int(width // 4))  # keep half of each stroke: small digits merge strokes
    framed = frame(ink, abs(radius) + 1)  # room to grow, and background to erode from
    if radius >= 1:
        return grey_filter(framed, 2 * radius + 1, np.minimum)
    if radius <= -1:
        return grey_filter(framed, 1 - 2 * radius, np.maximum)
    return framed


def _resize_rows(img: np.ndarray, n_out: int) -> np.ndarray:
    """Area-average the n_in rows of img (n_in, w) into n_out rows -> (n_out, w) float32.

    Output row i covers input rows [i*r, (i+1)*r), r = n_in / n_out, fractions
    included. With S(x) the running sum of the rows up to x (linear within a
    row, since a pixel is constant), that average is (S((i+1)*r) - S(i*r)) / r.
    """
    n_in = img.shape[0]
    r = n_in / n_out
    running = np.zeros((n_in + 1, img.shape[1]), np.float64)
    np.cumsum(img, axis=0, out=running[1:])
    x = np.arange(n_out + 1) * r
    k = np.minimum(x.astype(np.int64), n_in - 1)  # the input row each edge falls in
    s = running[k] + (x - k)[:, None] * (running[k + 1] - running[k])
    return (np.diff(s, axis=0) / r).astype(np.float32)


def resize_area(img: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Resize (h, w) -> shape float32 by area averaging (anti-aliased; keeps the mean intensity)."""
    return _resize_rows(_resize_rows(img, shape[0]).T, shape[1]).T


def center_of_mass(img: np.ndarray) -> tuple[float, float]:
    """Intensity-weighted mean (row, col) of an image (h, w), pixel centres at integer coordinates."""
    total = img.sum()
    rows = np.arange(img.shape[0], dtype=np.float32)
    cols = np.arange(img.shape[1], dtype=np.float32)
    return float(img.sum(axis=1) @ rows / total), float(img.sum(axis=0) @ cols / total)


def place(digit: np.ndarray, size: int = SIDE) -> np.ndarray:
    """Put a (h, w) digit (h, w <= size) in a size x size field, centre of mass at the centre."""
    cy, cx = center_of_mass(digit)
    h, w = digit.shape
    centre = (size - 1) / 2
    top = min(max(round(centre - cy), 0), size - h)
    left = min(max(round(centre - cx), 0), size - w)
    out = np.zeros((size, size), np.float32)
    out[top : top + h, left : left + w] = digit
    return out


def to_working_size(crop: np.ndarray) -> np.ndarray:
    """Area-scale a crop (h, w) whose longer side exceeds WORK down to WORK px.

    Stroke normalisation then costs the same whatever the pad's resolution, and
    WORK = 4 x BOX keeps quarter-pixel precision for the final 20 px box.
    """
    h, w = crop.shape
    if max(h, w) <= WORK:
        return crop
    f = WORK / max(h, w)
    return resize_area(crop, (max(1, round(h * f)), max(1, round(w * f))))


@dataclass(frozen=True)
class Reading:
    """What preprocessing made of a pad: the 28x28 image, or None and why not.

    why: "empty" (no ink, only specks, or a lone dot: a prompt, never a guess) or "small" (ink too
    short for its stroke width to read: draw it larger); None when there is an image.
    """

    image: np.ndarray | None
    why: str | None = None


def read(pad: np.ndarray, pen: float = 0.0) -> Reading:
    """Pad pixels (H, W) -> Reading: the MNIST-like image (SIDE, SIDE) float32 in [0, 1], or why not.

    pen: the pen's diameter in pad pixels when known (the page knows it); a tap is then ink no
    longer than DOT_PENS pens. Unknown (0): ink shorter than DOT_ASPECT stroke widths is a tap.
    """
    ink = to_unit(pad)
    box = bounding_box(ink)  # all ink, faint edges included
    if box is None:
        return Reading(None, "empty")
    top, bottom, left, right = box
    ink = drop_specks(ink[top:bottom, left:right])
    box = bounding_box(ink, INK)
    if box is None:  # only faint ink, or only specks
        return Reading(None, "empty")
    top, bottom, left, right = box
    extent = max(bottom - top, right - left)
    crop = to_working_size(ink[top:bottom, left:right])
    width = stroke_width(crop)  # it frames the crop itself
    if max(crop.shape) < MIN_ASPECT * width:
        dot = extent <= DOT_PENS * pen if pen > 0 else max(crop.shape) < DOT_ASPECT * width
        return Reading(None, "empty" if dot else "small")
    crop = normalize_stroke(crop, width)
    box = bounding_box(crop)
    if box is None:
        return Reading(None, "empty")
    top, bottom, left, right = box
    crop = crop[top:bottom, left:right]
    h, w = crop.shape
    scale = BOX / max(h, w)
    shape = (max(1, round(h * scale)), max(1, round(w * scale)))
    digit = np.clip(resize_area(crop, shape), 0, 1)
    return Reading(place(digit))


def to_mnist(pad: np.ndarray) -> np.ndarray | None:
    """Pad pixels (H, W) -> MNIST-like image (SIDE, SIDE) float32 in [0, 1], or None if nothing to read.

    None when the pad is empty, holds only a dot, or ink too small for its stroke width (ink
    whose extent is under MIN_ASPECT stroke widths): ``read`` says which.
    """
    return read(pad).image
