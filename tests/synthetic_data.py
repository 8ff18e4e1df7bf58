"""Small synthetic training data that the tests make themselves (no MNIST needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from digitnet.csvfile import csv_text
from training.data import Dataset


def synthetic(n: int, seed: int, noise: int = 40) -> Dataset:
    """Ten classes of blobs: digit d is a bright 6x4 patch at a position depending on d.

    Plus noise 0..noise.
    """
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    images = (rng.random((n, 28, 28)) * noise).astype(np.uint8)
    for i, d in enumerate(labels):
        r, c = 3 + (d // 5) * 12, 2 + (d % 5) * 5
        images[i, r : r + 6, c : c + 4] = 255
    return Dataset(images, labels)


def write_csv(path: Path, data: Dataset) -> Path:
    """``data`` as a drawings CSV at ``path`` (``digitnet.csvfile``'s format)."""
    path.write_text(csv_text(data.images.reshape(len(data), -1), data.labels))
    return path
