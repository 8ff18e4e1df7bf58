"""MNIST digits as people draw them on the page: skeletons redrawn with a round pen.

MNIST's digits were written with a ballpoint pen on paper, scanned and blurred into 28x28 grey
levels; on the page people draw with a round pen of constant width (anti-aliased,
``PEN_MIN``-``PEN_MAX`` of the CANVAS x CANVAS pad), at any size and anywhere. ``as_drawn`` turns
each MNIST digit into such a drawing and reads it back exactly as the page does:

1. ``skeletons``: upsample 2x (bilinear, 56x56: smoother centre lines than 28x28), threshold at
   half ink, and ``thin`` to one pixel (Guo and Hall's parallel thinning, a 256-entry lookup
   table per sub-iteration, vectorised over the batch).
2. ``trace``: the skeleton's pixels become polylines (strokes) between end points and junctions;
   spurs shorter than a few pixels (thinning artefacts at blunt stroke ends) are dropped and the
   staircase of the pixel grid is smoothed away.
3. ``training.strokes.jitter`` (a small rotation, shear and stretch, a slow hand wobble) and
   ``training.strokes.place`` (a random size and place on the pad, a pen width from the page's
   range that still leaves the digit's holes open), then ``training.strokes.render_many``.
4. ``digitnet.preprocess.to_mnist``, the page's own preprocessing -> 28x28, stored as uint8.

A digit whose skeleton comes out empty, or that the page would read as nothing, keeps its
original image. Reproducible: the same images and seed give the same bytes. ``as_inked`` is the
other trip to the page: the digit's own ink, upscaled. ``as_drawn_cached`` and ``as_inked_cached``
keep what they make in ``training.cache``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from digitnet import preprocess, sizes
from digitnet.preprocess import bounding_box, frame, grey_filter, to_mnist
from digitnet.sizes import CANVAS, SIDE
from training import cache, strokes
from training.strokes import jitter, place, render_many

CHUNK = 2048  # digits skeletonised, traced and drawn at a time (bounds memory)
UPSAMPLE = 2  # skeletons are found on (28 * UPSAMPLE)^2 px
SPUR = 3.5  # side branches shorter than this (skeleton px) are dropped
SMOOTH_PASSES = 3  # [1, 2, 1] / 4 passes over each traced polyline


# --------------------------------------------------------------------------------- thinning

# Neighbour bits as in Guo and Hall (1989): x1 = E, then counter-clockwise (NE, N, NW, W, SW, S, SE).
_NEIGHBOURS = ((0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1), (1, 0), (1, 1))


def _thinning_tables() -> tuple[np.ndarray, np.ndarray]:
    """Guo and Hall's algorithm A1 as two lookup tables (one per sub-iteration): neighbourhood
    code (bit i = neighbour i of _NEIGHBOURS) -> may this ink pixel be removed?"""
    first, second = np.zeros(256, bool), np.zeros(256, bool)
    for code in range(256):
        x = [bool(code >> i & 1) for i in range(8)]
        crossings = sum(1 for i in (0, 2, 4, 6) if not x[i] and (x[i + 1] or x[(i + 2) % 8]))
        n1 = sum(1 for k in (1, 3, 5, 7) if x[k] or x[k - 1])
        n2 = sum(1 for k in (1, 3, 5, 7) if x[k] or x[(k + 1) % 8])
        simple = crossings == 1 and 2 <= min(n1, n2) <= 3
        first[code] = simple and not ((x[1] or x[2] or not x[7]) and x[0])
        second[code] = simple and not ((x[5] or x[6] or not x[3]) and x[4])
    return first, second


_TABLES = _thinning_tables()


def _codes(mask: np.ndarray) -> np.ndarray:
    """Neighbourhood code of every pixel of masks (..., h, w) -> uint8, outside = background."""
    *_, h, w = mask.shape
    framed = frame(mask.astype(np.uint8), 1)
    code = np.zeros(mask.shape, np.uint8)
    for bit, (dy, dx) in enumerate(_NEIGHBOURS):
        code |= framed[..., 1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w] << bit
    return code


def thin(masks: np.ndarray) -> np.ndarray:
    """One-pixel-wide, 8-connected skeletons of boolean masks (..., h, w) -> bool, same shape.

    Guo-Hall parallel thinning (like Zhang-Suen, but a two-pixel-thick diagonal survives):
    alternate sub-iterations peel simple border pixels until nothing changes; connectivity,
    holes and end points are kept.
    """
    skel = np.array(masks, bool)
    flat = skel.reshape(-1, *skel.shape[-2:])
    active = np.arange(len(flat))  # images still changing
    while active.size:
        sub = flat[active]
        changed = np.zeros(len(active), bool)
        for table in _TABLES:
            remove = sub & table[_codes(sub)]
            changed |= remove.any(axis=(1, 2))
            sub &= ~remove
        flat[active] = sub
        active = active[changed]
    return skel


# ---------------------------------------------------------------------------------- tracing


def trace(skel: np.ndarray, spur: float = 0.0) -> list[np.ndarray]:
    """A skeleton (h, w) bool -> its strokes: polylines (k, 2) float of (x, y) pixel centres,
    x = column + 0.5, y = row + 0.5.

    Pixels are joined to their 4-neighbours, and to a diagonal neighbour only when no
    4-neighbour links the two already (so a staircase is one line, not a chain of triangles).
    Each polyline runs between end points and junctions; closed loops are traced once (first
    point = last point); a lone pixel is a one-point stroke. Branches from an end point to a
    junction with fewer than ``spur`` pixels are dropped (unless nothing else is left).
    """
    ys, xs = np.nonzero(skel)
    pixels = list(zip(ys.tolist(), xs.tolist()))
    index = {p: i for i, p in enumerate(pixels)}
    links: list[list[int]] = [[] for _ in pixels]
    for i, (y, x) in enumerate(pixels):
        for dy, dx in ((0, 1), (1, -1), (1, 0), (1, 1)):  # each pair once
            j = index.get((y + dy, x + dx))
            if j is None:
                continue
            if dy and dx and ((y, x + dx) in index or (y + dy, x) in index):
                continue
            links[i].append(j)
            links[j].append(i)
    degree = [len(n) for n in links]
    used: set[tuple[int, int]] = set()

    def walk(a: int, b: int) -> list[int]:
        path, prev, cur = [a, b], a, b
        used.add((min(a, b), max(a, b)))
        while degree[cur] == 2:
            nxt = links[cur][0] if links[cur][0] != prev else links[cur][1]
            edge = (min(cur, nxt), max(cur, nxt))
            if edge in used:
                break
            used.add(edge)
            path.append(nxt)
            prev, cur = cur, nxt
        return path

    paths = [[i] for i in range(len(pixels)) if degree[i] == 0]
    ends = [i for i in range(len(pixels)) if degree[i] not in (0, 2)]
    for start in ends + [i for i in range(len(pixels)) if degree[i] == 2]:  # then closed loops
        for nb in links[start]:
            if (min(start, nb), max(start, nb)) not in used:
                paths.append(walk(start, nb))
    if spur > 0 and len(paths) > 1:

        def is_spur(p: list[int]) -> bool:
            ends = sorted((degree[p[0]], degree[p[-1]]))
            return ends[0] == 1 and ends[1] >= 3 and len(p) < spur

        kept = [p for p in paths if not is_spur(p)]
        paths = kept or paths
    return [np.array([(pixels[i][1] + 0.5, pixels[i][0] + 0.5) for i in p], np.float32) for p in paths]


def smooth(path: np.ndarray, passes: int = SMOOTH_PASSES) -> np.ndarray:
    """[1, 2, 1] / 4 smoothing of a polyline (k, 2), ``passes`` times; open lines keep their end
    points (so strokes meeting at a junction still meet), closed ones (first = last) stay closed."""
    p = np.asarray(path, np.float32)
    if len(p) < 3:
        return p
    closed = bool(np.all(p[0] == p[-1]))
    for _ in range(passes):
        if closed:
            ring = p[:-1]
            ring = 0.25 * np.roll(ring, 1, 0) + 0.5 * ring + 0.25 * np.roll(ring, -1, 0)
            p = np.concatenate([ring, ring[:1]])
        else:
            p = np.concatenate([p[:1], 0.25 * p[:-2] + 0.5 * p[1:-1] + 0.25 * p[2:], p[-1:]])
    return p


# ---------------------------------------------------------------------------- MNIST digits


def upsample2(images: np.ndarray) -> np.ndarray:
    """Bilinear 2x upsampling of (N, h, w) float32 -> (N, 2h, 2w), pixel centres aligned."""

    def rows(a: np.ndarray) -> np.ndarray:
        before = np.concatenate([a[:, :1], a[:, :-1]], axis=1)
        after = np.concatenate([a[:, 1:], a[:, -1:]], axis=1)
        out = np.empty((a.shape[0], 2 * a.shape[1], a.shape[2]), a.dtype)
        out[:, 0::2] = 0.75 * a + 0.25 * before
        out[:, 1::2] = 0.75 * a + 0.25 * after
        return out

    return rows(rows(images).transpose(0, 2, 1)).transpose(0, 2, 1)


def skeletons(images: np.ndarray, upsample: int = UPSAMPLE) -> np.ndarray:
    """MNIST images (N, 28, 28) uint8 -> skeletons (N, 28 * upsample, 28 * upsample) bool."""
    ink = np.asarray(images, np.float32) / 255
    for _ in range(int(np.log2(upsample))):
        ink = upsample2(ink)
    return thin(ink > 0.5)


def digit_strokes(images: np.ndarray, upsample: int = UPSAMPLE) -> list[list[np.ndarray]]:
    """MNIST images (N, 28, 28) uint8 -> for each, its strokes (polylines of (x, y) in the
    image's own pixels of 28 x 28: x = column + 0.5, y = row + 0.5), smoothed; [] when the
    skeleton is empty."""
    out = []
    for skel in skeletons(images, upsample):
        out.append([smooth(p) / upsample for p in trace(skel, SPUR * upsample / 2)])
    return out


def as_drawn(images: np.ndarray, seed: int) -> np.ndarray:
    """MNIST images (N, 28, 28) uint8 -> the same digits drawn on the page with a round pen,
    read back by ``to_mnist`` -> (N, 28, 28) uint8 (see the module docstring)."""
    return _as_drawn(images, seed)


def as_drawn_cached(images: np.ndarray, seed: int) -> np.ndarray:
    """``as_drawn`` through ``training.cache.cached``: the same images, seed and generating code
    load what an earlier call made."""
    params = {"images": cache.digest(np.asarray(images, np.uint8)), "seed": seed}
    return cache.cached("as_drawn", params, lambda: {"images": as_drawn(images, seed)}, sources())["images"]


def _as_drawn(images: np.ndarray, seed: int, pads: list | None = None) -> np.ndarray:
    """``as_drawn``; the pads drawn are appended to ``pads`` (None for a digit kept as it was)."""
    images = np.asarray(images, np.uint8)
    n = len(images)
    rng = np.random.default_rng(seed)
    draws = _random_draws(rng, n)  # all of it up front: same bytes for any CHUNK
    out = images.copy()
    for start in range(0, n, CHUNK):
        stop = min(n, start + CHUNK)
        strokes = digit_strokes(images[start:stop])
        drawings, widths, where = [], [], []
        for k, s in enumerate(strokes):
            if not s:
                continue
            i = start + k
            moved = jitter(s, draws["jitter"][i], draws["wobble"][i])
            d, w = place(moved, draws["size"][i], draws["pen"][i], draws["position"][i])
            drawings.append(d)
            widths.append(w)
            where.append(i)
        chunk_pads: list = [None] * (stop - start)
        for i, pad in zip(where, render_many(drawings, widths, CANVAS)):
            image = to_mnist(pad)
            if image is not None:
                out[i] = np.round(image * 255).astype(np.uint8)
                chunk_pads[i - start] = pad
        if pads is not None:
            pads.extend(chunk_pads)
    return out


# ------------------------------------------------------------------------ digits as ink


def ink_box(image: np.ndarray) -> tuple[np.ndarray, float]:
    """An MNIST digit (28, 28) uint8 cropped to its ink -> (float crop, width / height)."""
    box = bounding_box(image, 30) or (0, SIDE, 0, SIDE)
    crop = image[box[0] : box[1], box[2] : box[3]].astype(np.float32) / 255
    return crop, crop.shape[1] / crop.shape[0]


def bilinear(img: np.ndarray, h: int, w: int) -> np.ndarray:
    """Bilinear resize of (a, b) float -> (h, w), pixel centres aligned."""

    def axis(n_in: int, n_out: int):
        src = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
        i0 = np.floor(src).astype(int)
        i1 = np.minimum(i0 + 1, n_in - 1)
        return i0, i1, (src - i0).astype(np.float32)

    r0, r1, fr = axis(img.shape[0], h)
    c0, c1, fc = axis(img.shape[1], w)
    rows = img[r0] * (1 - fr)[:, None] + img[r1] * fr[:, None]
    return rows[:, c0] * (1 - fc) + rows[:, c1] * fc


def ink_layer(image: np.ndarray, left: float, top: float, height: float) -> np.ndarray:
    """A (CANVAS, CANVAS) float32 0-255 layer with the MNIST digit's ink, upscaled to ``height``
    px tall at (left, top), strokes made solid like a pen's (grey over 0.35 becomes full ink)."""
    crop, aspect = ink_box(image)
    h, w = max(2, round(height)), max(2, round(height * aspect))
    big = bilinear(crop, h, w)
    big = np.where(big > 0.35, 1.0, big / 0.35)
    layer = np.zeros((CANVAS, CANVAS), np.float32)
    t, l = int(round(top)), int(round(left))
    t0, l0 = max(t, 0), max(l, 0)
    t1, l1 = min(t + h, CANVAS), min(l + w, CANVAS)
    if t1 > t0 and l1 > l0:
        layer[t0:t1, l0:l1] = big[t0 - t : t1 - t, l0 - l : l1 - l] * 255
    return layer


def as_inked(images: np.ndarray, seed: int) -> np.ndarray:
    """MNIST images (N, 28, 28) uint8 -> the same digits as ink on the page, read back by
    ``to_mnist`` -> (N, 28, 28) uint8: each digit's own ink upscaled (``ink_layer``) to a random
    height (18-95% of the pad), at a random place, and for most a pen's width away from MNIST's:
    dilated (a thicker pen, up to 4% of the digit's height) or eroded (a thinner one). Unlike
    ``as_drawn`` the shapes are MNIST's, strokes and all; what changes is the trip through the
    page's preprocessing, so the network meets digits that went through it in both forms (and
    the not-a-digit kinds built from digit ink, ``training.negatives``, are not the only ones).
    A digit the page would read as nothing keeps its original image. Same images and seed,
    same bytes."""
    images = np.asarray(images, np.uint8)
    n = len(images)
    rng = np.random.default_rng([seed, 1])
    size = rng.uniform(0.18, 0.95, n)
    position = rng.uniform(0, 1, (n, 2))
    stroke = rng.uniform(0, 1, n)
    amount = rng.uniform(0, 1, n)
    out = images.copy()
    for i in range(n):
        aspect = ink_box(images[i])[1]
        height = size[i] * CANVAS / max(1.0, aspect)
        width = height * aspect
        left = position[i, 0] * (CANVAS - width)
        top = position[i, 1] * (CANVAS - height)
        pad = ink_layer(images[i], left, top, height) / 255
        if stroke[i] < 0.5:  # a thicker pen
            radius = int(round(amount[i] * 0.04 * height))
            if radius:
                pad = grey_filter(pad, 2 * radius + 1, np.maximum)
        elif stroke[i] < 0.7:  # a thinner one
            radius = int(round(amount[i] * 0.012 * height))
            if radius:
                pad = grey_filter(pad, 2 * radius + 1, np.minimum)
        image = to_mnist(np.round(np.clip(pad, 0, 1) * 255).astype(np.uint8))
        if image is not None:
            out[i] = np.round(image * 255).astype(np.uint8)
    return out


def as_inked_cached(images: np.ndarray, seed: int) -> np.ndarray:
    """``as_inked`` through ``training.cache.cached``, as ``as_drawn_cached``."""
    params = {"images": cache.digest(np.asarray(images, np.uint8)), "seed": seed}
    return cache.cached("as_inked", params, lambda: {"images": as_inked(images, seed)}, sources())["images"]


def sources() -> tuple[Path, ...]:
    """The code the digits drawn here depend on, for the cache's key: this module, the pen
    (``training.strokes``) and the page's preprocessing."""
    return (Path(__file__), *cache.module_files(strokes, preprocess, sizes))


def _random_draws(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Every random number ``as_drawn`` uses, per digit."""
    return {
        # rotation (deg), shear, stretch of x against y (log), as in training.strokes.jitter
        "jitter": np.stack(
            [rng.uniform(-8, 8, n), rng.uniform(-0.15, 0.15, n), rng.uniform(-0.12, 0.12, n)], axis=1
        ),
        "wobble": rng.uniform(0, 1, (n, 6)),
        "size": rng.uniform(0.28, 0.95, n),  # longer side, as a fraction of the pad
        "pen": rng.uniform(0, 1, n),  # where in the allowed pen range
        "position": rng.uniform(0, 1, (n, 2)),
    }
