"""Training speed: our NumPy trainer side by side with PyTorch (CPU) on MNIST.

    .venv/bin/pip install -r requirements-bench.txt     # PyTorch, for this benchmark only
    .venv/bin/python -m bench.train_bench               # full run (a few minutes on 2 idle cores)
    .venv/bin/python -m bench.train_bench --quick       # smoke test: 2 epochs, 10000 images
    .venv/bin/python -m bench.train_bench --epochs 15 --json bench/results/train_bench.json

Four runs, each in its own fresh Python process (so peak memory is per run and
no run warms caches for another), on the same data and the same seed:

ours            ``training.train.train`` (NumPy, float32), 784-256-10, no augmentation.
PyTorch (same)  the same MLP in PyTorch with *everything* shared: the initial
                weights (ours, copied into the ``nn.Linear`` layers), the input
                normalisation ((pixel/255 - mean) / std of the training set), the
                shuffling order of every epoch (the same NumPy generator, drawn in
                the same order as ``train()`` draws it), the batch size, learning
                rate, schedule and momentum. ``torch.optim.SGD`` keeps
                ``v = m v + g; p -= lr v`` where we keep ``v = m v - lr g; p += v``:
                identical while lr is constant, slightly different when it changes
                (torch rescales the whole accumulated velocity by the new lr, ours
                keeps old steps at the old lr). float32, 2 threads.
baseline        the Rust reference's settings in our trainer: 784-128-10, batch 50,
                11 epochs, plain SGD (momentum 0), constant lr 0.01 on *summed*
                gradients -- which is lr 0.01 * 50 = 0.5 on our batch-*averaged*
                gradients (sum_i g_i = 50 * mean_i g_i).
PyTorch (its defaults)  the issue's reference setting: torch's own init, inputs
                pixel/255 in [0, 1], lr 0.1, momentum 0.9, batch 64, constant lr.

Time is training time only: every epoch is timed from drawing its shuffle to its
last update, the test-set evaluation after it is not counted. "to 2.0%" is the
cumulative training time at the end of the first epoch whose test error is at most
2.0%. Peak memory is the process's maximum resident set size (``ru_maxrss``),
which includes the interpreter, NumPy (and PyTorch, for its runs) and the data.

Where it lives: this file holds the command line (one fresh process per run, the printout and the
JSON); ``bench.train_runs`` the runs' settings, the PyTorch trainer and the measuring inside a run;
``bench.train_summary`` the rows and the table.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import common
from bench.train_runs import (
    BASELINE_BATCH,
    BASELINE_EPOCHS,
    BASELINE_SUMMED_LR,
    QUICK_EPOCHS,
    QUICK_TRAIN_IMAGES,
    SAME_EPOCHS,
    SAME_LR,
    SAME_SCHEDULE,
    SAME_WEIGHT_DECAY,
    TORCH_THREADS,
    RunSpec,
    run_specs,
    run_worker,
)
from bench.train_summary import THRESHOLDS, format_table, summarise
from tools.paths import BENCH_RESULTS, ROOT

DEFAULT_JSON = BENCH_RESULTS / "train_bench.json"
INSTALL_HINT = ".venv/bin/pip install -r requirements-bench.txt"


def spawn(spec_args: list[str], key: str) -> dict:
    """Run one benchmark row in a fresh interpreter; its per-epoch lines stream to our stdout."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        cmd = [
            sys.executable,
            "-m",
            "bench.train_bench",
            *spec_args,
            "--worker",
            key,
            "--worker-out",
            str(out),
        ]
        proc = subprocess.run(cmd, cwd=ROOT)
        if proc.returncode != 0 or not out.exists():
            return {"error": f"worker exited with status {proc.returncode}"}
        return json.loads(out.read_text())


# ------------------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench.train_bench",
        description="Benchmark our NumPy trainer against PyTorch CPU on MNIST (needs "
        f"requirements-bench.txt: {INSTALL_HINT}).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--epochs",
        type=int,
        default=None,
        help=f"epochs for ours / PyTorch runs (default {SAME_EPOCHS}, {QUICK_EPOCHS} with --quick); "
        f"the baseline always uses the Rust reference's {BASELINE_EPOCHS} (fewer with --quick)",
    )
    p.add_argument(
        "--lr", type=float, default=SAME_LR, help="learning rate of the ours / PyTorch (same) runs"
    )
    p.add_argument(
        "--schedule",
        choices=["constant", "cosine", "step"],
        default=SAME_SCHEDULE,
        help="learning-rate schedule of the ours / PyTorch (same) runs",
    )
    p.add_argument(
        "--weight-decay",
        type=float,
        default=SAME_WEIGHT_DECAY,
        help="L2 weight decay (weights, not biases) of the ours / PyTorch (same) runs",
    )
    p.add_argument("--seed", type=int, default=0, help="seed shared by all runs")
    p.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke test: {QUICK_TRAIN_IMAGES} training images, {QUICK_EPOCHS} epochs",
    )
    p.add_argument(
        "--runs",
        default="ours,torch,baseline,torch_defaults",
        help="comma-separated subset of the runs, in table order",
    )
    p.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write the results as JSON")
    p.add_argument("--worker", help=argparse.SUPPRESS)  # internal: run one row in this process
    p.add_argument("--worker-out", type=Path, help=argparse.SUPPRESS)
    return p


def _specs_from_args(args: argparse.Namespace) -> list[RunSpec]:
    epochs = args.epochs or (QUICK_EPOCHS if args.quick else SAME_EPOCHS)
    baseline_epochs = min(epochs, BASELINE_EPOCHS) if args.quick else BASELINE_EPOCHS
    return run_specs(
        epochs,
        lr=args.lr,
        schedule=args.schedule,
        weight_decay=args.weight_decay,
        baseline_epochs=baseline_epochs,
        seed=args.seed,
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    specs = {s.key: s for s in _specs_from_args(args)}
    if args.worker:
        result = run_worker(specs[args.worker], args.quick)
        args.worker_out.write_text(json.dumps(result))
        return 0

    keys = [k.strip() for k in args.runs.split(",") if k.strip()]
    unknown = [k for k in keys if k not in specs]
    if unknown:
        print(f"error: unknown run(s) {unknown}; choose from {list(specs)}", file=sys.stderr)
        return 2
    if any(specs[k].impl == "torch" for k in keys) and importlib.util.find_spec("torch") is None:
        print(
            "error: PyTorch is not installed. It is needed only for this benchmark; install it with\n"
            f"    {INSTALL_HINT}",
            file=sys.stderr,
        )
        return 2

    machine = common.machine_info()
    print(
        f"machine: {machine['cpu']}, {machine['cores']} cores ({machine['usable_cores']} usable), "
        f"load average {machine['load_average_1min_at_start']}; Python {machine['python']}, "
        f"NumPy {machine['numpy']} ({machine['numpy_blas']}), PyTorch {machine['torch']} "
        f"({TORCH_THREADS} threads)"
    )
    print(
        f"data: {f'{QUICK_TRAIN_IMAGES:d}-image subset of ' if args.quick else ''}MNIST training set, "
        f"full test set evaluated after every epoch (not timed)"
    )
    print()
    for k in keys:
        print(f"{specs[k].label}: {specs[k].settings()}" + (f"  [{specs[k].note}]" if specs[k].note else ""))
    print()

    worker_args = [
        "--lr",
        repr(args.lr),
        "--schedule",
        args.schedule,
        "--weight-decay",
        repr(args.weight_decay),
        "--seed",
        str(args.seed),
    ]
    if args.epochs:
        worker_args += ["--epochs", str(args.epochs)]
    if args.quick:
        worker_args.append("--quick")
    results = []
    for k in keys:
        print(f"run {k}: {specs[k].label}", flush=True)
        result = spawn(worker_args, k)
        results.append({"key": k, "label": specs[k].label, **result})
    machine["load_average_1min_at_end"] = round(os.getloadavg()[0], 2)

    rows = summarise(results)
    table = format_table(rows)
    print()
    for k in keys:
        print(f"  {specs[k].label}: {specs[k].settings()}")
    print()
    print(table)
    print()
    print(
        "Times are training only (evaluation excluded); 'to X%' = cumulative training time at the end of "
        "the first epoch with test error <= X%; ratios are against 'PyTorch CPU (same settings)'."
    )
    print(
        f"Baseline: lr {BASELINE_SUMMED_LR:g} on summed gradients (Rust reference) = "
        f"{BASELINE_SUMMED_LR * BASELINE_BATCH:g} on our batch-averaged gradients (batch {BASELINE_BATCH})."
    )
    if specs["ours"].cfg.schedule != "constant":
        print(
            "Note: torch.optim.SGD (v = m v + g; p -= lr v) equals ours (v = m v - lr g; p += v) "
            "at constant lr; "
            "under a schedule torch applies the new lr to the whole velocity, so the runs differ slightly."
        )
    print(
        f"Load average (1 min): {machine['load_average_1min_at_start']} at start, "
        f"{machine['load_average_1min_at_end']} at end, on {machine['usable_cores']} usable cores."
    )

    common.write_json(
        args.json,
        {
            "machine": machine,
            "quick": args.quick,
            "thresholds": list(THRESHOLDS),
            "rows": rows,
            "runs": results,
            "table": table,
            "notes": {
                "time": "training time only; evaluation after every epoch excluded",
                "baseline_lr": f"{BASELINE_SUMMED_LR:g} on summed gradients = {BASELINE_SUMMED_LR:g} x "
                f"{BASELINE_BATCH} = {BASELINE_SUMMED_LR * BASELINE_BATCH:g} on batch-averaged gradients",
                "momentum": "torch SGD v = m v + g, p -= lr v; ours v = m v - lr g, p += v: "
                "equal at constant lr, "
                "slightly different when the lr changes between epochs",
                "memory": "ru_maxrss of each run's own process (interpreter, libraries, data included)",
            },
        },
    )
    print(f"results written to {args.json}")
    return 1 if any(r.get("error") for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
