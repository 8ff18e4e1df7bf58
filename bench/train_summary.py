"""The training benchmark's figures from its runs' histories: one row per run (time per epoch, time
to reach each test-error threshold, final error, peak memory, ratios to PyTorch) and the plain-text
table ``python -m bench.train_bench`` prints and writes into its JSON.

Pure functions of the runs' results, apart from the measuring in ``bench.train_runs``, so they can
be checked on made-up histories.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from bench import common

THRESHOLDS = (0.020, 0.016)  # test error targets for the "time to reach" columns


def time_to_reach(history: Sequence[dict], threshold: float) -> tuple[float, int] | None:
    """(cumulative training seconds, epoch) at the end of the first epoch with test error <= threshold."""
    for h in history:
        if h.get("test_error") is not None and h["test_error"] <= threshold + 1e-12:
            return h["elapsed"], h["epoch"]
    return None


def median_epoch_seconds(history: Sequence[dict]) -> float | None:
    return statistics.median(h["seconds"] for h in history) if history else None


def summarise(results: Sequence[dict], reference: str = "torch") -> list[dict]:
    """One table row per run result ({key, label, history, peak_rss_mb, ...}).

    Ratios against ``reference``.
    """
    rows = []
    for r in results:
        hist = r.get("history") or []
        row = {
            "key": r["key"],
            "label": r["label"],
            "error": r.get("error"),
            "epochs": len(hist),
            "sec_per_epoch": median_epoch_seconds(hist),
            "cpu_sec_per_epoch": (
                statistics.median(h["cpu_seconds"] for h in hist)
                if hist and all(h.get("cpu_seconds") is not None for h in hist)
                else None
            ),
            "total_seconds": hist[-1]["elapsed"] if hist else None,
            "final_test_error": hist[-1]["test_error"] if hist else None,
            "best_test_error": min(h["test_error"] for h in hist) if hist else None,
            "peak_rss_mb": r.get("peak_rss_mb"),
            "rss_before_training_mb": r.get("rss_before_training_mb"),
        }
        for t in THRESHOLDS:
            hit = time_to_reach(hist, t)
            row[f"seconds_to_{t:.3f}"] = hit[0] if hit else None
            row[f"epochs_to_{t:.3f}"] = hit[1] if hit else None
        rows.append(row)
    ref = next((row for row in rows if row["key"] == reference), None)
    low = f"seconds_to_{min(THRESHOLDS):.3f}"
    for row in rows:
        row["sec_per_epoch_vs_torch"] = common.ratio(row["sec_per_epoch"], ref and ref["sec_per_epoch"])
        row["to_1.6_vs_torch"] = common.ratio(row[low], ref and ref[low])
    return rows


def _fmt_reach(row: dict, t: float) -> str:
    s, e = row[f"seconds_to_{t:.3f}"], row[f"epochs_to_{t:.3f}"]
    return "—" if s is None else f"{s:.1f} s (ep {e})"


def format_table(rows: Sequence[dict]) -> str:
    """Plain-text table, one line per run."""
    head = [
        "run",
        "s/epoch",
        "CPU s/epoch",
        *(f"to {100 * t:.1f}%" for t in THRESHOLDS),
        "final err",
        "peak MB",
        "s/epoch ÷ torch",
        "to 1.6% ÷ torch",
    ]
    body = []
    for r in rows:
        if r.get("error"):
            body.append([r["label"], f"FAILED: {r['error']}"] + [""] * (len(head) - 2))
            continue
        body.append(
            [
                r["label"],
                common.fmt(r["sec_per_epoch"], ".2f"),
                common.fmt(r["cpu_sec_per_epoch"], ".2f"),
                *(_fmt_reach(r, t) for t in THRESHOLDS),
                common.fmt(
                    None if r["final_test_error"] is None else 100 * r["final_test_error"], ".2f", "%"
                ),
                common.fmt(r["peak_rss_mb"], ".0f"),
                common.fmt(r["sec_per_epoch_vs_torch"], ".2f", "x"),
                common.fmt(r["to_1.6_vs_torch"], ".2f", "x"),
            ]
        )
    return common.format_table(head, body)
