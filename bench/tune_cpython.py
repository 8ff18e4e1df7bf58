"""The teaching benchmark's CPython side: the page's fine-tune run in CPython on the very drawings the
page exported (the worker's calls, in the worker's slices, in a child process with as many BLAS
threads as asked: one, like the page's WebAssembly), and the MNIST figures of the shipped, the
page-tuned and the CPython-tuned models (forgetting, and how each reads the new triangles).

It holds what is measured outside the browser, apart from ``bench.tune_page`` (the page) and
``bench.tune_summary`` (goals and tables), so the child process imports no browser code. The child
is started as ``python -m bench.tune_bench --cpython-child FOLDER``, the command's internal flag.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench.tune_page import TRIANGLE_LABEL
from digitnet.browser import Session
from digitnet.modelfile import load_model
from digitnet.network import predict_proba
from tools.paths import ROOT, STATIC
from training.data import parse_csv
from training.evaluation import evaluate

WORKER_JS = STATIC / "js" / "worker.js"
REPLAY = STATIC / "model" / "replay.npz"
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def worker_slice(source: str) -> int:
    """The worker's TUNE_SLICE (SGD steps per Python call), read from static/js/worker.js's text."""
    m = re.search(r"^const TUNE_SLICE = (\d+);", source, re.M)
    if not m:
        raise ValueError("static/js/worker.js has no 'const TUNE_SLICE = <n>;'")
    return int(m.group(1))


# ----------------------------------------------------------------------------- in CPython


def cpython_tune(
    shipped: bytes, images: np.ndarray, labels: np.ndarray, replay: bytes, slice_steps: int
) -> dict:
    """The page's fine-tune in CPython: the worker's calls, in its slices; ms of Python only."""
    s = Session()
    if not json.loads(s.load_model(shipped, "model.npz"))["ok"]:
        raise ValueError("the shipped model does not load")
    t = time.perf_counter()
    s.start_tuning(images.tobytes(), labels.tobytes(), replay)
    calls = 1
    while not json.loads(s.tune_step(slice_steps))["done"]:
        calls += 1
    model = s.finish_tuning()
    return {"python_ms": 1000 * (time.perf_counter() - t), "calls": calls + 2, "model_bytes": model}


def cpython_child(folder: Path, repeats: int) -> None:
    """In the child process (``--cpython-child``): fine-tune folder/shipped.npz on folder/my-digits.csv
    ``repeats`` times; write folder/cpython.json (the times) and folder/cpython.npz (the model)."""
    data = parse_csv((folder / "my-digits.csv").read_bytes(), "my-digits.csv")
    shipped, replay = (folder / "shipped.npz").read_bytes(), REPLAY.read_bytes()
    slice_steps = worker_slice(WORKER_JS.read_text())
    runs = [cpython_tune(shipped, data.images, data.labels, replay, slice_steps) for _ in range(repeats)]
    shas = {hashlib.sha256(r["model_bytes"]).hexdigest() for r in runs}
    (folder / "cpython.npz").write_bytes(runs[0]["model_bytes"])
    (folder / "cpython.json").write_text(
        json.dumps(
            {
                "drawings": int(len(data.labels)),
                "python_ms": statistics.median(r["python_ms"] for r in runs),
                "python_ms_runs": [r["python_ms"] for r in runs],
                "calls": runs[0]["calls"],
                "slice_steps": slice_steps,
                "same_bytes_each_time": len(shas) == 1,
                "model_sha256": hashlib.sha256(runs[0]["model_bytes"]).hexdigest(),
                "blas_threads": {v: os.environ.get(v) for v in THREAD_VARS},
            }
        )
    )


def cpython_runs(shipped: bytes, csv: bytes, folder: Path, repeats: int, threads: int) -> dict:
    """The same fine-tune in CPython, in its own process with ``threads`` BLAS threads (1: like the page's
    single-threaded WebAssembly; OpenBLAS's threads spin badly on a busy 2-core machine): its figures,
    and its model's bytes under "model_bytes"."""
    (folder / "shipped.npz").write_bytes(shipped)
    (folder / "my-digits.csv").write_bytes(csv)
    env = {**os.environ, **{v: str(threads) for v in THREAD_VARS}}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.tune_bench",
            "--cpython-child",
            str(folder),
            "--cpython-repeats",
            str(repeats),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if proc.returncode:
        raise RuntimeError(f"the CPython fine-tune failed: {proc.stderr.strip()[-2000:]}")
    return {
        **json.loads((folder / "cpython.json").read_text()),
        "model_bytes": (folder / "cpython.npz").read_bytes(),
    }


def mnist_figures(shipped: bytes, page_model: bytes, cpython_model: bytes, test, triangle_images) -> dict:
    """MNIST test error (fraction) of the three models, personal - shipped in points, and how the
    CPython-tuned model reads the page's new triangles (its 28x28 images, argmax)."""
    models = {
        k: load_model(b, f"{k}.npz")
        for k, b in (("shipped", shipped), ("page", page_model), ("cpython", cpython_model))
    }
    ev = {k: evaluate(m, test) for k, m in models.items()}
    images = np.asarray([im for im in triangle_images if im is not None], np.float32).reshape(-1, 28, 28)
    cpython_reads = int((predict_proba(models["cpython"], images).argmax(1) == TRIANGLE_LABEL).sum())
    page_reads = int((predict_proba(models["page"], images).argmax(1) == TRIANGLE_LABEL).sum())
    return {
        "shipped_error": ev["shipped"].error,
        "personal_error": ev["page"].error,
        "cpython_error": ev["cpython"].error,
        "diff_points": 100 * (ev["page"].error - ev["shipped"].error),
        "cpython_diff_points": 100 * (ev["cpython"].error - ev["shipped"].error),
        "page_cpython_agreement": float((ev["page"].predicted == ev["cpython"].predicted).mean()),
        "page_model_reads_triangles": page_reads,
        "cpython_model_reads_triangles": cpython_reads,
        "personal_meta": models["page"].meta.get("personal"),
        "max_weight_diff_page_cpython": max(
            float(np.abs(a - b).max()) for a, b in zip(models["page"].weights, models["cpython"].weights)
        ),
    }
