"""From the drawing pad's pixels to a 28x28 image the way MNIST was made.

MNIST digits were size-normalised to fit a 20x20 box (keeping the aspect
ratio, anti-aliased), then placed in a 28x28 field so that their centre of mass
sits at the centre. People draw anywhere on the pad, at any size, with a brush
that is thick for a small digit and thin for a large one; this module undoes
all of that before the network sees the drawing:

1. ``ink_components`` / ``drop_specks``: stray specks far from the digit
   (less than ``SPECK_FRACTION`` of the ink) are removed.
2. ``bounding_box``: crop to the ink.
3. ``to_working_size``, ``stroke_width`` + ``normalize_stroke``: thin or thicken the strokes so
   that, once scaled, they are about as wide as MNIST's.
4. ``resize_area``: scale the longer side to 20 px by area averaging.
5. ``center_of_mass`` + ``place``: put the centre of mass at the centre of 28x28.

NumPy only (runs in the browser through Pyodide). Pad pixels are ink
intensity: (H, W) uint8 0-255 (the canvas alpha channel) or float in [0, 1].
"""

from __future__ import annotations

import numpy as np

SIZE = 28           # MNIST image side
BOX = 20            # side of the box the digit is scaled into
INK = 0.5           # a pixel is "ink" above this intensity (0-1), for shapes
SPECK_FRACTION = 0.05  # components with less of the total ink are specks
MIN_ASPECT = 2.5    # bounding box shorter than this many stroke widths: a dot, not a digit
TARGET_WIDTH = 2.5  # stroke width (px, in the 28x28 image) we normalise to, MNIST-like
WORK = 80           # stroke normalisation works on at most this size (px)
CELL = 4            # grid cell (pad px) for finding connected components


def to_unit(pad: np.ndarray) -> np.ndarray:
    """Pad pixels (H, W) uint8 0-255 or float 0-1 -> float32 (H, W) in [0, 1]."""
    pad = np.asarray(pad)
    if pad.ndim != 2:
        raise ValueError(f"pad must be a 2-D array of ink intensity, got shape {pad.shape}")
    if pad.dtype == np.uint8:
        return pad.astype(np.float32) / np.float32(255)
    return np.clip(pad.astype(np.float32), 0, 1)


def bounding_box(ink: np.ndarray, threshold: float = 0.0) -> tuple[int, int, int, int] | None:
    """Smallest (top, bottom, left, right) slice bounds holding all pixels > threshold; None if none."""
    rows = np.flatnonzero((ink > threshold).any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero((ink > threshold).any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def ink_components(mask: np.ndarray) -> np.ndarray:
    """Label the 8-connected components of a boolean mask (h, w) -> int32 labels, 0 = background.

    Union-find over horizontal runs of each row: a run joins every run of the
    row above that it touches (diagonals included).
    """
    h, w = mask.shape
    labels = np.zeros((h, w), np.int32)
    parent: list[int] = [0]

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    previous: list[tuple[int, int, int]] = []  # (start, stop, label) runs of the row above
    for y in range(h):
        edges = np.flatnonzero(np.diff(np.concatenate(([0], mask[y].view(np.int8), [0]))))
        runs = []
        for start, stop in zip(edges[0::2].tolist(), edges[1::2].tolist()):
            label = 0
            for ps, pe, pl in previous:
                if ps <= stop and pe >= start:  # touching, diagonals included
                    if label == 0:
                        label = find(pl)
                    else:
                        a, b = find(label), find(pl)
                        if a != b:
                            parent[max(a, b)] = min(a, b)
                            label = min(a, b)
            if label == 0:
                label = len(parent)
                parent.append(label)
            labels[y, start:stop] = label
            runs.append((start, stop, label))
        previous = runs
    roots = np.array([find(i) for i in range(len(parent))], np.int32)
    return roots[labels]


def drop_specks(ink: np.ndarray) -> np.ndarray:
    """Remove ink components holding less than SPECK_FRACTION of all ink; (H, W) -> (H, W).

    Components are found on a coarse grid of CELL x CELL pixels, so strokes that
    nearly touch count as one, and the work stays small for a large pad.
    """
    h, w = ink.shape
    gh, gw = -(-h // CELL), -(-w // CELL)
    padded = np.zeros((gh * CELL, gw * CELL), np.float32)
    padded[:h, :w] = ink
    mass = padded.reshape(gh, CELL, gw, CELL).sum(axis=(1, 3))
    labels = ink_components(mass > 0)
    per_label = np.bincount(labels.ravel(), weights=mass.ravel())
    per_label[0] = 0
    if np.count_nonzero(per_label) <= 1:
        return ink
    keep_label = per_label >= SPECK_FRACTION * per_label.sum()
    keep = np.repeat(np.repeat(keep_label[labels], CELL, axis=0), CELL, axis=1)[:h, :w]
    return np.where(keep, ink, np.float32(0))


def stroke_width(ink: np.ndarray) -> float:
    """Mean stroke width in pixels of an ink image (h, w), estimated as 2 * area / perimeter.

    A stroke of width w and length L has area w*L and perimeter about 2L.
    The perimeter counts ink/background edges along rows and columns.
    """
    mask = ink > INK
    area = float(mask.sum())
    if area == 0:
        return 0.0
    m = np.pad(mask, 1)
    perimeter = float((m[1:, :] != m[:-1, :]).sum() + (m[:, 1:] != m[:, :-1]).sum())
    # Edges counted along the axes overestimate a slanted or curved outline by about 4/pi.
    return 2.0 * area / (perimeter * np.pi / 4)


def _filter(ink: np.ndarray, radius: int, op) -> np.ndarray:
    """Grey-level dilation (op=np.maximum) or erosion (np.minimum) by a (2r+1)-square."""
    out = ink
    for axis in (0, 1):
        fill = 0.0 if op is np.maximum else 1.0
        padded = np.pad(out, [(radius, radius) if a == axis else (0, 0) for a in (0, 1)],
                        constant_values=fill)
        n = out.shape[axis]
        acc = out
        for k in range(2 * radius + 1):
            acc = op(acc, np.take(padded, np.arange(k, k + n), axis=axis))
        out = acc
    return out


def normalize_stroke(ink: np.ndarray, length: int) -> np.ndarray:
    """Thin or thicken strokes so that, once the digit is scaled into the 20 px box, they are
    about TARGET_WIDTH wide.

    ink: (h, w) float32 crop with a margin of background around the ink;
    length: the longer side of the ink's bounding box, in pixels.
    Eroding by radius r takes 2r off both the stroke width w and the length L, so
    solve (w - 2r) * BOX / (L - 2r) = TARGET_WIDTH for r (negative r: dilate).
    """
    width = stroke_width(ink)
    if width == 0:
        return ink
    radius = int(round((width - TARGET_WIDTH * length / BOX) / (2 * (1 - TARGET_WIDTH / BOX))))
    if radius >= 1:
        radius = min(radius, int(width // 4))  # keep half of each stroke: small digits merge strokes
        return _filter(ink, radius, np.minimum) if radius >= 1 else ink
    if radius <= -1:
        return _filter(ink, -radius, np.maximum)
    return ink


def area_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) float32 matrix averaging n_in pixels into n_out by overlap (anti-aliased resize).

    Output pixel i covers input interval [i*r, (i+1)*r) with r = n_in / n_out;
    each input pixel j contributes its overlap with that interval, divided by r.
    """
    r = n_in / n_out
    lo = np.arange(n_out)[:, None] * r
    j = np.arange(n_in)[None, :]
    overlap = np.clip(np.minimum(lo + r, j + 1) - np.maximum(lo, j), 0, None)
    return (overlap / r).astype(np.float32)


def resize_area(img: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Resize (h, w) -> shape by area averaging; keeps the mean intensity."""
    return area_matrix(img.shape[0], shape[0]) @ img @ area_matrix(img.shape[1], shape[1]).T


def center_of_mass(img: np.ndarray) -> tuple[float, float]:
    """Intensity-weighted mean (row, col) of an image (h, w), pixel centres at integer coordinates."""
    total = img.sum()
    rows = np.arange(img.shape[0], dtype=np.float32)
    cols = np.arange(img.shape[1], dtype=np.float32)
    return float(img.sum(axis=1) @ rows / total), float(img.sum(axis=0) @ cols / total)


def place(digit: np.ndarray, size: int = SIZE) -> np.ndarray:
    """Put a (h, w) digit (h, w <= size) in a size x size field, centre of mass at the centre."""
    cy, cx = center_of_mass(digit)
    h, w = digit.shape
    centre = (size - 1) / 2
    top = int(np.clip(round(centre - cy), 0, size - h))
    left = int(np.clip(round(centre - cx), 0, size - w))
    out = np.zeros((size, size), np.float32)
    out[top:top + h, left:left + w] = digit
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


def to_mnist(pad: np.ndarray) -> np.ndarray | None:
    """Pad pixels (H, W) -> MNIST-like image (28, 28) float32 in [0, 1], or None if nothing to read.

    None when the pad is empty or holds only a dot (ink whose extent is under
    MIN_ASPECT stroke widths): the page shows a prompt instead of a guess.
    """
    ink = to_unit(pad)
    if bounding_box(ink, INK) is None:
        return None
    ink = drop_specks(ink)
    box = bounding_box(ink, INK)
    if box is None:
        return None
    top, bottom, left, right = box
    crop = ink[top:bottom, left:right]
    if max(crop.shape) < MIN_ASPECT * stroke_width(np.pad(crop, 1)):
        return None
    crop = to_working_size(crop)
    width = stroke_width(np.pad(crop, 1))
    margin = int(np.ceil(width)) + 1
    crop = normalize_stroke(np.pad(crop, margin), max(crop.shape))
    box = bounding_box(crop, 0.0)
    if box is None:
        return None
    top, bottom, left, right = box
    crop = crop[top:bottom, left:right]
    h, w = crop.shape
    scale = BOX / max(h, w)
    shape = (max(1, round(h * scale)), max(1, round(w * scale)))
    digit = np.clip(resize_area(crop, shape), 0, 1)
    return place(digit)
