"""training.page_data: the page's MNIST file, built from pinned CSVs (small synthetic ones here)."""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pytest
from synthetic_data import synthetic, write_csv

from digitnet.train_session import read_data
from tools.paths import STATIC
from training import page_data
from training.fetch import TEST, TRAIN


@pytest.fixture
def inputs(tmp_path):
    data = tmp_path / "mnist"
    data.mkdir()
    train, test = synthetic(300, 1), synthetic(50, 2)
    write_csv(data / TRAIN, train)
    write_csv(data / TEST, test)
    pins = {name: hashlib.sha256((data / name).read_bytes()).hexdigest() for name in (TRAIN, TEST)}
    return data, pins, train, test


def test_builds_the_arrays_and_the_module(inputs, tmp_path):
    data, pins, train, test = inputs
    out = tmp_path / "site-data"
    wrote, report = page_data.build(data, out, pins)
    assert wrote and "300 train, 50 test" in report
    npz = (out / "mnist.npz").read_bytes()
    arrays = read_data(npz)
    assert arrays["train_images"].shape == (300, 784) and arrays["train_images"].dtype == np.uint8
    assert np.array_equal(arrays["train_images"], train.images.reshape(300, 784))
    assert np.array_equal(arrays["test_labels"], test.labels)
    digest = hashlib.sha256(npz).hexdigest()
    mjs = (out / "mnist.mjs").read_text()
    assert f'export const MNIST_URL = "static/data/mnist.npz?v={digest[:12]}";' in mjs
    assert f"export const MNIST_BYTES = {len(npz)};" in mjs
    assert f'export const MNIST_SHA256 = "{digest}";' in mjs
    assert sorted(p.name for p in out.iterdir()) == [".stamp", "mnist.mjs", "mnist.npz"]  # no .part left


def test_is_idempotent_and_reproducible(inputs, tmp_path):
    data, pins, _, _ = inputs
    out = tmp_path / "out"
    assert page_data.build(data, out, pins)[0]
    files = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()}
    wrote, report = page_data.build(data, out, pins)
    assert not wrote and "up to date" in report
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()} == files
    # A damaged output is made again, with the same bytes (fixed zip dates: the URL stays).
    (out / "mnist.npz").write_bytes(b"damaged")
    assert page_data.build(data, out, pins)[0]
    assert (out / "mnist.npz").read_bytes() == files["mnist.npz"][0]
    (out / "mnist.mjs").unlink()
    assert page_data.build(data, out, pins)[0] and (out / "mnist.mjs").read_bytes() == files["mnist.mjs"][0]


def test_refuses_a_tampered_input(inputs, tmp_path, capsys):
    data, pins, _, _ = inputs
    out = tmp_path / "out"
    assert page_data.build(data, out, pins)[0]
    before = (out / "mnist.npz").read_bytes()
    with open(data / TRAIN, "a") as f:
        f.write("7" + ",0" * 784 + "\n")
    with pytest.raises(page_data.PageDataError, match=rf"{TRAIN} has sha256 [0-9a-f]{{64}}, not the pinned"):
        page_data.build(data, out, pins)
    assert (out / "mnist.npz").read_bytes() == before  # left as it was


def test_command_line_errors_are_one_line(tmp_path, capsys):
    assert page_data.main(["--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "file not found" in err and err.count("\n") == 1
    # The real CSVs hold other bytes than these pins would: the pinned hashes are checked.
    write_csv(tmp_path / TRAIN, synthetic(10, 0))
    write_csv(tmp_path / TEST, synthetic(10, 0))
    assert page_data.main(["--data", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "not the pinned" in err and not (tmp_path / "out").exists()


def test_the_built_file_matches_its_module():
    """static/data/ as set-up built it (skipped before set-up): the module names the file's size and hash."""
    npz, mjs = STATIC / "data" / "mnist.npz", STATIC / "data" / "mnist.mjs"
    if not npz.is_file():
        pytest.skip("static/data/mnist.npz is not built (bash scripts/setup.sh)")
    data = npz.read_bytes()
    text = mjs.read_text()
    assert re.search(rf"MNIST_BYTES = {len(data)};", text)
    assert hashlib.sha256(data).hexdigest() in text
    arrays = read_data(data)
    assert [len(arrays[k]) for k in ("train_images", "train_labels", "test_images", "test_labels")] == [
        60000,
        60000,
        10000,
        10000,
    ]
