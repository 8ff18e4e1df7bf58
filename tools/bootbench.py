"""Stock vs precompiled Pyodide under Node: boot time to ``import numpy`` done, and bytes.

    .venv/bin/python -m tools.bootbench            # 5 boots of each, interleaved
    .venv/bin/python -m tools.bootbench --runs 9 --json bench/results/nodeboot.json

Each boot is a fresh ``node tools/nodeboot.mjs DIR`` process (loadPyodide, loadPackage("numpy"),
``import numpy``), alternating static/pyodide/stock/ and the current static/pyodide/<tag>/
(``python -m tools.assets`` makes both). Node reads the files from disk: this measures the CPU
side of a boot (compiling Python, unpacking, wasm), not the network. The bytes table gives,
for each file the page downloads, the stock size, the size in the tag folder and its .br/.gz,
and the totals of a cold visit (stock .br/.gz come from the same compressor, cached).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from tools import precompile, pyodide_build, pyodide_stock

SCRIPT = Path(__file__).resolve().with_name("nodeboot.mjs")


def boot(folder: Path) -> dict:
    proc = subprocess.run([precompile.node(), str(SCRIPT), str(folder)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"bootbench: error: {folder}: {proc.stderr.strip().splitlines()[-1:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def page_files(folder: Path) -> list[str]:
    """What a page downloads from ``folder``: the runtime, the lock and NumPy's wheel."""
    lock = pyodide_stock.read_lock(folder / "pyodide-lock.json")
    return [
        "pyodide.mjs",
        "pyodide.asm.js",
        "pyodide.asm.wasm",
        "python_stdlib.zip",
        "pyodide-lock.json",
        lock["packages"]["numpy"]["file_name"],
    ]


def stock_compressed(stock: Path, names: list[str], cache: Path) -> dict[str, dict[str, int]]:
    """Sizes of .br/.gz of the stock files (compressed in a temporary folder; cache by content)."""
    with tempfile.TemporaryDirectory(prefix="bootbench-") as tmp:
        for name in names:
            (Path(tmp) / name).write_bytes((stock / name).read_bytes())
        pyodide_build._compress(Path(tmp), names, pyodide_build.COMPRESS_KINDS, cache)
        return {
            n: {k: (Path(tmp) / f"{n}.{k}").stat().st_size for k in pyodide_build.COMPRESS_KINDS}
            for n in names
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bootbench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    dest = pyodide_stock.DEST
    tag = pyodide_build._read_build(dest).get("tag")
    if not tag or not (dest / tag).is_dir():
        raise SystemExit("bootbench: error: no built runtime in static/pyodide/: run python -m tools.assets")
    folders = {"stock": dest / pyodide_stock.STOCK, "precompiled": dest / tag}
    times: dict[str, list[dict]] = {k: [] for k in folders}
    for i in range(args.runs):
        order = list(folders) if i % 2 == 0 else list(folders)[::-1]
        for k in order:
            times[k].append(boot(folders[k]))
            print(f"run {i + 1} {k:11s} {times[k][-1]}", flush=True)

    print(
        "\nNode "
        f"{subprocess.run([precompile.node(), '--version'], capture_output=True, text=True).stdout.strip()}, "
        f"{args.runs} boots each (fresh process each), ms:"
    )
    print(f"{'':12s} {'phase':8s} {'median':>8s} {'min':>8s} {'max':>8s}")
    summary = {}
    for k, runs in times.items():
        summary[k] = {}
        for phase in ("runtime_ms", "numpy_ms", "total_ms"):
            vals = [r[phase] for r in runs]
            summary[k][phase] = {
                "median": statistics.median(vals),
                "min": min(vals),
                "max": max(vals),
                "all": vals,
            }
            print(f"{k:12s} {phase[:-3]:8s} {statistics.median(vals):8.0f} {min(vals):8.0f} {max(vals):8.0f}")
    ratio = summary["stock"]["total_ms"]["median"] / summary["precompiled"]["total_ms"]["median"]
    print(f"total, stock / precompiled (medians): {ratio:.2f}x")

    stock_names = page_files(folders["stock"])
    ours_names = page_files(folders["precompiled"])
    stock_z = stock_compressed(folders["stock"], stock_names, pyodide_stock.CACHE / "compressed")
    rows, totals = [], {"stock": 0, "stock.br": 0, "stock.gz": 0, "ours": 0, "ours.br": 0, "ours.gz": 0}
    print(
        f"\n{'file':58s} {'stock':>10s} {'stock.br':>10s} {'stock.gz':>10s} "
        f"{'ours':>10s} {'ours.br':>10s} {'ours.gz':>10s}"
    )
    for s, o in zip(stock_names, ours_names):
        row = {
            "stock": (folders["stock"] / s).stat().st_size,
            "stock.br": stock_z[s]["br"],
            "stock.gz": stock_z[s]["gz"],
            "ours": (folders["precompiled"] / o).stat().st_size,
            "ours.br": (folders["precompiled"] / f"{o}.br").stat().st_size,
            "ours.gz": (folders["precompiled"] / f"{o}.gz").stat().st_size,
        }
        for k in totals:
            totals[k] += row[k]
        rows.append({"stock_file": s, "file": o, **row})
        print(
            f"{s[:58]:58s} {row['stock']:10,d} {row['stock.br']:10,d} {row['stock.gz']:10,d} "
            f"{row['ours']:10,d} "
            f"{row['ours.br']:10,d} {row['ours.gz']:10,d}"
        )
    print(
        f"{'cold visit total':58s} {totals['stock']:10,d} {totals['stock.br']:10,d} "
        f"{totals['stock.gz']:10,d} "
        f"{totals['ours']:10,d} "
        f"{totals['ours.br']:10,d} {totals['ours.gz']:10,d}"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {"tag": tag, "runs": args.runs, "times": summary, "bytes": rows, "totals": totals}, indent=1
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
