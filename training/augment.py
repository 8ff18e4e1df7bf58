"""Data augmentation: make MNIST look like digits people draw.

MNIST digits are neatly centred and of one stroke weight; drawn ones are not
quite. Each training epoch sees every image under a fresh random
transformation: a small affine warp (rotation, scaling, shear, shift) and, for
some images, thicker or thinner strokes. Vectorised over the batch; float32.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from digitnet.preprocess import grey_filter
from digitnet.sizes import SIDE

WARP_CHUNK = 512  # images warped at a time: warp's temporaries (~12 floats per pixel) stay in the
# CPU's cache; 4096 at a time took twice as long, the whole training set GBs


@dataclass(frozen=True)
class AugmentConfig:
    """Ranges of the random transformations (uniformly drawn per image)."""

    rotate_deg: float = 12.0  # rotation in [-r, r] degrees
    scale: tuple[float, float] = (0.85, 1.12)  # isotropic zoom
    aspect: float = 0.12  # independent x/y zoom ratio in [1-a, 1+a]
    shear: float = 0.2  # horizontal shear factor in [-s, s]
    shift: float = 2.5  # translation in [-t, t] pixels, each axis
    stroke_p: float = 0.4  # probability to thicken or thin an image
    elastic: float = 0.0  # elastic distortion (Simard 2003): RMS displacement in pixels (0: off)
    elastic_sigma: float = 9.0  # smoothness of the displacement field: pixels between its knots


def affine_matrices(n: int, cfg: AugmentConfig, rng: np.random.Generator) -> np.ndarray:
    """n random 2x3 matrices mapping output (row, col) offsets from the centre to source positions."""
    angle = np.deg2rad(rng.uniform(-cfg.rotate_deg, cfg.rotate_deg, n))
    zoom = rng.uniform(*cfg.scale, n)
    aspect = rng.uniform(1 - cfg.aspect, 1 + cfg.aspect, n)
    shear = rng.uniform(-cfg.shear, cfg.shear, n)
    cos, sin = np.cos(angle), np.sin(angle)
    # forward map A = R @ Shear @ diag(zoom_y, zoom_x); we sample with its inverse.
    zy, zx = zoom * aspect, zoom / aspect
    a = np.empty((n, 2, 2))
    a[:, 0, 0], a[:, 0, 1] = cos * zy, (cos * shear - sin) * zx
    a[:, 1, 0], a[:, 1, 1] = sin * zy, (sin * shear + cos) * zx
    inv = np.linalg.inv(a)
    shift = rng.uniform(-cfg.shift, cfg.shift, (n, 2))
    return np.concatenate([inv, (-inv @ shift[:, :, None])], axis=2)


def knots(cfg: AugmentConfig) -> int:
    """Knots per side of the coarse grid the elastic noise lives on: one every cfg.elastic_sigma pixels."""
    return max(2, round(SIDE / cfg.elastic_sigma) + 1)


def interpolation(knots: int) -> np.ndarray:
    """(SIDE * SIDE, knots * knots) float32: linear interpolation from a knots x knots grid to the
    pixels, row-major. It is kron(U, U) for the (SIDE, knots) 1-D interpolation U, so that
    ``noise.ravel() @ kron(U, U).T`` is ``U @ noise @ U.T`` flattened."""
    pos = np.linspace(0, knots - 1, SIDE)  # each pixel's place among the knots
    lo = np.minimum(pos.astype(int), knots - 2)
    up = np.zeros((SIDE, knots), np.float32)
    up[np.arange(SIDE), lo] = 1 - (pos - lo)
    up[np.arange(SIDE), lo + 1] = pos - lo
    return np.kron(up, up)


def elastic_fields(noise: np.ndarray, rms: float) -> np.ndarray:
    """Smooth displacement fields (n, 2, SIDE * SIDE) float32 (rows, then columns) from knot noise
    (n, 2, k, k) float32, scaled so each field's root mean square is ``rms`` pixels (Simard,
    Steinkraus & Platt 2003).

    Smooth as Simard's Gaussian-filtered noise, but cheaper: uniform noise on a coarse grid,
    interpolated linearly to SIDE x SIDE, all fields in one matrix product.
    """
    n, _, k, _ = noise.shape
    smooth = noise.reshape(2 * n, k * k) @ interpolation(k).T  # (2n, SIDE * SIDE)
    scale = np.float32(rms) / (np.sqrt((smooth**2).mean(axis=1, keepdims=True)) + np.float32(1e-6))
    return (smooth * scale).reshape(n, 2, SIDE * SIDE)


def warp(images: np.ndarray, matrices: np.ndarray, fields: np.ndarray | None = None) -> np.ndarray:
    """Bilinear resampling of images (N, 28, 28) float32 by matrices (N, 2, 3) -> (N, 28, 28).

    Output pixel p (relative to the centre c) takes the source value at
    ``M[:, :2] @ (p - c) + M[:, 2] + c`` (plus ``fields[:, :, p]`` if given: an elastic
    displacement per pixel); outside the image counts as 0.
    """
    n = len(images)
    c = (SIDE - 1) / 2
    r, q = np.mgrid[0:SIDE, 0:SIDE].reshape(2, -1).astype(np.float32) - np.float32(c)
    m = matrices.astype(np.float32)
    src_r = m[:, 0, 0, None] * r + m[:, 0, 1, None] * q + m[:, 0, 2, None] + c  # (N, 784)
    src_c = m[:, 1, 0, None] * r + m[:, 1, 1, None] * q + m[:, 1, 2, None] + c
    if fields is not None:
        src_r, src_c = src_r + fields[:, 0], src_c + fields[:, 1]
    # pad by one pixel of zeros so neighbours of border samples exist
    padded = np.zeros((n, SIDE + 2, SIDE + 2), np.float32)
    padded[:, 1:-1, 1:-1] = images
    src_r = np.clip(src_r + 1, 0, SIDE + 0.999)
    src_c = np.clip(src_c + 1, 0, SIDE + 0.999)
    r0, c0 = np.floor(src_r).astype(np.int32), np.floor(src_c).astype(np.int32)
    fr, fc = src_r - r0, src_c - c0
    flat = padded.ravel()
    base = r0 * (SIDE + 2) + c0 + (np.arange(n, dtype=np.int32) * (SIDE + 2) ** 2)[:, None]

    def at(offset: int) -> np.ndarray:
        return flat[base + offset]

    top = at(0) * (1 - fc) + at(1) * fc
    bottom = at(SIDE + 2) * (1 - fc) + at(SIDE + 3) * fc
    return (top * (1 - fr) + bottom * fr).reshape(n, SIDE, SIDE)


def thicken(images: np.ndarray) -> np.ndarray:
    """Grey dilation by a 2x2 square: strokes about one pixel wider. (N, 28, 28) -> same."""
    return grey_filter(images, 2, np.maximum)


def thin(images: np.ndarray) -> np.ndarray:
    """Half-strength grey erosion by a 2x2 square: strokes thinner but never erased."""
    return 0.5 * images + 0.5 * grey_filter(images, 2, np.minimum)


def augment(images: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig = AugmentConfig()) -> np.ndarray:
    """Random variant of each image (N, 28, 28) float32 in [0, 1] -> (N, 28, 28) float32 in [0, 1]."""
    n = len(images)
    matrices = affine_matrices(n, cfg, rng)
    k = knots(cfg)
    noise = rng.uniform(-1, 1, (n, 2, k, k)).astype(np.float32) if cfg.elastic else None
    out = np.empty(images.shape, np.float32)
    for i in range(0, n, WARP_CHUNK):
        chunk = slice(i, i + WARP_CHUNK)
        fields = elastic_fields(noise[chunk], cfg.elastic) if noise is not None else None
        out[chunk] = warp(images[chunk], matrices[chunk], fields)
    choice = rng.random(len(images))
    fat = choice < cfg.stroke_p / 2
    slim = (choice >= cfg.stroke_p / 2) & (choice < cfg.stroke_p)
    if fat.any():
        out[fat] = thicken(out[fat])
    if slim.any():
        out[slim] = thin(out[slim])
    return np.clip(out, 0, 1, out=out)
