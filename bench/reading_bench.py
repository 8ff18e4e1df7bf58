"""A reading, stage by stage, in Node's Pyodide (the page's runtime: NumPy without BLAS) beside
CPython: where the worker's milliseconds go.

    .venv/bin/python -m bench.reading_bench                 # 100 drawings, 3 rounds
    .venv/bin/python -m bench.reading_bench --drawings 20 --rounds 1 --json /tmp/reading.json

The drawings are the page bench's (``bench.browser.drawings``: the ten digit shapes scaled and
moved), drawn with the page's default pen on the model canvas. ``bench.reading_stages`` times each
stage (preprocessing's steps, the network, the verdict, a whole ``Session.predict`` pen down and
pen up) in both; the table gives medians and p95 and Pyodide's ratio to CPython. Pyodide runs
under ``tools/nodeboot.mjs`` from the current ``static/pyodide/<tag>/`` with digitnet from py/.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from bench import reading_stages
from bench.browser import drawings
from bench.common import fmt, format_table, ratio, write_json
from digitnet.sizes import CANVAS, PEN_DEFAULT
from tools import paths, precompile, site
from training.strokes import render

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "static" / "model" / "model.npz"
NODEBOOT = ROOT / "tools" / "nodeboot.mjs"


def pads(n: int) -> np.ndarray:
    """n drawings (N, CANVAS, CANVAS) uint8, drawn with the page's default pen."""
    return np.stack(
        [render([np.array(s) for s in d], size=CANVAS, width=PEN_DEFAULT * CANVAS) for d in drawings(n)]
    )


def in_pyodide(data: Path, rounds: int) -> dict:
    """``reading_stages.measure`` in Node's Pyodide, on ``data``'s pads.npy and model.npz."""
    call = f"in_pyodide({str(ROOT)!r}, {str(data)!r}, {PEN_DEFAULT * CANVAS!r}, {rounds!r})"
    code = Path(reading_stages.__file__).read_text(encoding="utf-8") + f"\n{call}\n"
    folder = ROOT / "static" / "pyodide" / site.runtime_tag(ROOT)
    proc = subprocess.run(
        [precompile.node(), str(NODEBOOT), str(folder), code], capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise SystemExit(f"reading_bench: error: Pyodide: {proc.stderr.strip()}")
    return json.loads(json.loads(proc.stdout.strip().splitlines()[-1])["check"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.reading_bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--drawings", type=int, default=100, metavar="N", help="drawings (default 100)")
    ap.add_argument("--rounds", type=int, default=3, metavar="N", help="times each is timed (default 3)")
    ap.add_argument("--json", type=Path, default=paths.BENCH_RESULTS / "reading.json", metavar="PATH")
    args = ap.parse_args(argv)
    drawn = pads(args.drawings)
    with tempfile.TemporaryDirectory() as tmp:
        np.save(Path(tmp) / "pads.npy", drawn)
        (Path(tmp) / "model.npz").write_bytes(MODEL.read_bytes())
        pyodide = in_pyodide(Path(tmp), args.rounds)
    cpython = reading_stages.measure(drawn, MODEL.read_bytes(), PEN_DEFAULT * CANVAS, args.rounds)
    rows = []
    for name in reading_stages.STAGES:
        c, p = cpython["stages"][name], pyodide["stages"][name]
        rows.append(
            [
                name,
                fmt(c["p50"], ".3f"),
                fmt(p["p50"], ".3f"),
                fmt(p["p95"], ".3f"),
                fmt(ratio(p["p50"], c["p50"]), ".1f", "x"),
            ]
        )
    print(f"{args.drawings} drawings x {args.rounds} rounds, ms (Pyodide: Node's, the page's runtime)")
    print(format_table(["stage", "CPython p50", "Pyodide p50", "Pyodide p95", "Pyodide/CPython"], rows))
    write_json(
        args.json,
        {
            "config": vars(args) | {"json": str(args.json)},
            "cpython": cpython,
            "pyodide": pyodide,
            "stages": list(reading_stages.STAGES),
        },
    )
    print(f"written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
