"""The MNIST replay sample the page mixes into fine-tuning, so a network taught someone's
handwriting does not forget everyone else's: ``static/model/replay.npz``.

    python -m training.replay            # PER_DIGIT training digits of each class, seed 0

Arrays "images" (N, 28, 28) uint8 and "labels" (N,) uint8, in a zip written with fixed
timestamps, so the same MNIST gives the same bytes (the page checks the file's sha256).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

from digitnet.atomic import write_atomically
from digitnet.sizes import CLASSES
from tools.paths import DATA_DIR, STATIC
from training.fetch import load_mnist

PER_DIGIT = 300
OUT = STATIC / "model" / "replay.npz"


def sample(
    images: np.ndarray, labels: np.ndarray, per_digit: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """per_digit random images of each class, shuffled together -> (images, labels)."""
    rng = np.random.default_rng(seed)
    picked = np.concatenate(
        [rng.choice(np.flatnonzero(labels == d), per_digit, replace=False) for d in range(CLASSES)]
    )
    picked = rng.permutation(picked)
    return images[picked], labels[picked].astype(np.uint8)


def npz_bytes(**arrays: np.ndarray) -> bytes:
    """An .npz (deflated) whose bytes depend only on the arrays: fixed timestamps, sorted names."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in sorted(arrays):
            one = io.BytesIO()
            np.lib.format.write_array(one, np.ascontiguousarray(arrays[name]), allow_pickle=False)
            entry = zipfile.ZipInfo(f"{name}.npy", (1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(entry, one.getvalue(), compresslevel=9)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.replay", description=__doc__.split("\n\n")[0])
    p.add_argument("--per-digit", type=int, default=PER_DIGIT, help="training digits of each class")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args(argv)
    train = load_mnist(DATA_DIR / "mnist_train.csv")
    images, labels = sample(train.images, train.labels, args.per_digit, args.seed)
    data = npz_bytes(images=images, labels=labels)
    write_atomically(args.out, lambda f: f.write(data))
    print(
        f"{args.out}: {len(labels)} digits, {len(data) / 1e6:.2f} MB, "
        f"sha256 {hashlib.sha256(data).hexdigest()}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
