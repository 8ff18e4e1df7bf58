"""bench.tune_bench and its parts (tune_cpython, tune_summary, tune_page): their helpers with made-up
figures (goals, table, the CPython side, what is drawn and counted in the page), then the bench for
real in its short mode (one run: teach 20 drawings in Chromium, fine-tune, export, evaluate),
checking that the JSON it writes is complete and follows from what was measured.

No timing goal is asserted (the numbers depend on the machine): only that every figure was taken,
that the parts add up, and that the page's fine-tune and CPython's are the same computation.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import numpy as np
import pytest
from synthetic_data import synthetic

from bench import tune_cpython as tc
from bench import tune_page as tp
from bench import tune_summary as ts
from digitnet.modelfile import load_model
from digitnet.tune import TuneConfig
from tools.paths import ROOT, SHIPPED_MODEL

GOAL_IDS = ["total", "long_task", "forgetting", "personal"]


# ----------------------------------------------------------------------------- helpers, made-up figures


def fake_run(i, total=3000.0, python=2800.0, cpython=200.0, long_task=0.0, diff=0.1, after=9, before=1):
    calls = (
        [{"step": 0, "ms": 50.0}]
        + [{"step": 5 * k, "ms": 225.0} for k in range(1, 13)]
        + [{"step": 60, "ms": 50.0}]
    )
    shipped = 0.0083
    return {
        "run": i,
        "load_average_1min": 2.0,
        "page": {
            "tune": {
                "outcome": "tuned",
                "total": total,
                "python": python,
                "overhead": total - python,
                "worker": python + 100.0,
                "replay": 30.0,
                "save": 40.0,
                "steps": 60,
                "calls": calls,
            },
            "long_task_max_ms": long_task,
            "long_tasks": [] if not long_task else [{"duration_ms": long_task}],
            "triangles_before": before,
            "triangles_after": after,
            "digits_before": 9,
            "digits_after": 10,
        },
        "cpython": {"python_ms": cpython},
        "mnist": {
            "shipped_error": shipped,
            "personal_error": shipped + diff / 100,
            "cpython_error": shipped,
            "diff_points": diff,
            "cpython_diff_points": 0.05,
            "cpython_model_reads_triangles": after,
        },
    }


def test_triangles_and_what_is_taught():
    a, b = tp.triangles(10, 2), tp.triangles(10, 2)
    assert a == b and a != tp.triangles(10, 1)  # reproducible, seeded
    for strokes in a:
        assert len(strokes) == 1 and len(strokes[0]) == 4 and strokes[0][0] == strokes[0][-1]  # closed
        assert all(0 <= v <= 1 for p in strokes[0] for v in p)
    taught = tp.taught_set()
    assert [label for _, label in taught] == [4] * tp.N_TAUGHT + [i % 10 for i in range(tp.N_TAUGHT)]
    assert len({json.dumps(s) for s, _ in taught}) == len(taught)  # twenty different drawings


def test_worker_slice_is_read_from_the_worker():
    assert tc.worker_slice("x\nconst TUNE_SLICE = 7; // steps\n") == 7
    assert tc.worker_slice(tc.WORKER_JS.read_text()) >= 1
    with pytest.raises(ValueError, match="TUNE_SLICE"):
        tc.worker_slice("const TUNE_SLICES = 7;")


def test_long_tasks_overlapping_the_fine_tune_count():
    tasks = [
        {"start": 10.0, "duration": 60.0},
        {"start": 95.0, "duration": 70.0},
        {"start": 150.0, "duration": 55.0},
        {"start": 400.0, "duration": 80.0},
        {"start": 501.0, "duration": 90.0},
    ]
    got = tp.long_tasks_between(tasks, 100.0, 500.0)
    assert [t["start_ms"] for t in got] == [95.0, 150.0, 400.0]  # running at the click counts too
    assert got[0] == {"start_ms": 95.0, "duration_ms": 70.0}
    assert tp.long_tasks_between([], 0, 1) == []


def test_what_the_page_showed_is_counted():
    shown = [{"shown": s} for s in ["4", "0", "4", "✗", "", "4"]]
    assert tp.hits(shown, 4) == 3 and tp.hits(shown, 0) == 1
    assert tp.digit_hits([{"shown": s} for s in ["0", "1", "7", "3", "✗"]]) == 3


def test_goal_limits_both_ways():
    g = ts.goal("x", "x", 4.0, 5.0, "ms", [3.0, 4.0, 6.0])
    assert g["met"] and g["op"] == "<=" and (g["best_run"], g["worst_run"]) == (3.0, 6.0)
    assert not ts.goal("x", "x", 5.1, 5.0, "ms", [5.1])["met"]
    assert ts.goal("x", "x", 5.0, 5.0, "ms", [5.0])["met"]  # at the limit counts
    g = ts.goal("p", "p", 7, 8, "", [7, 9], at_least_=True)
    assert not g["met"] and g["op"] == ">=" and (g["best_run"], g["worst_run"]) == (9, 7)
    assert ts.goal("p", "p", 8, 8, "", [8], at_least_=True)["met"]
    none = ts.goal("x", "x", None, 5.0, "ms", [None])
    assert not none["met"] and none["best_run"] is None


def test_summary_medians_worst_runs_and_ratios():
    runs = [
        fake_run(1, total=3000, python=2800, cpython=200, long_task=0.0, diff=0.1, after=10, before=0),
        fake_run(2, total=6000, python=5500, cpython=300, long_task=75.0, diff=0.35, after=7, before=2),
        fake_run(3, total=4000, python=3600, cpython=250, long_task=0.0, diff=0.2, after=9, before=1),
    ]
    s = ts.summarise(runs)
    row, goals = s["rows"], {g["id"]: g for g in s["goals"]}
    assert [g["id"] for g in s["goals"]] == GOAL_IDS
    assert row["total_ms"] == 4000 and row["python_ms"] == 3600 and row["cpython_python_ms"] == 250
    assert row["overhead_ms"] == 400 and row["worker_other_ms"] == 100 and row["save_ms"] == 40
    assert row["page_other_ms"] == pytest.approx(4000 - 3700 - 40)  # total - worker - save, median
    assert row["python_calls"] == 14 and row["start_ms"] == 50 and row["step_slices_ms"] == 12 * 225
    assert s["ratios"]["total_vs_cpython"] == pytest.approx(4000 / 250)
    assert s["ratios"]["python_vs_cpython"] == pytest.approx(3600 / 250)
    # the time: the median; the rest: the worst run
    assert goals["total"]["value"] == 4000 and goals["total"]["met"] and goals["total"]["worst_run"] == 6000
    assert goals["long_task"]["value"] == 75.0 and not goals["long_task"]["met"]
    assert goals["forgetting"]["value"] == 0.35 and not goals["forgetting"]["met"]
    assert goals["personal"]["value"] == 7 and not goals["personal"]["met"]
    assert "before 2" in goals["personal"]["compared"] and "16.0x" in goals["total"]["compared"]
    ok = ts.summarise([fake_run(1)])
    assert all(g["met"] for g in ok["goals"])


def test_report_names_every_goal_and_says_which_are_not_met():
    runs = [fake_run(1), fake_run(2, total=7000, python=6500, diff=0.5)]
    s = ts.summarise(runs)
    report = ts.format_report(s, runs)
    lines = report.splitlines()
    for g in s["goals"]:
        line = next(l for l in lines if l.startswith(g["goal"] + " "))
        assert ("NOT met" in line) == (not g["met"]), line
    assert f"{sum(g['met'] for g in s['goals'])} of 4 goals met." in report
    assert sum(l.startswith(("1 ", "2 ")) for l in lines) == 2  # a row a run
    assert "+0.50" in report and "1 -> 9" in report and "page / CPython: total" in report
    assert "Python compute, all calls" in report and "total, click -> done" in report


def test_cpython_side_is_the_workers_calls_in_one_thread(tmp_path):
    data = synthetic(12, 0)
    csv = (
        "label,"
        + ",".join(f"p{i}" for i in range(784))
        + "\n"
        + "".join(f"{y}," + ",".join(map(str, im.ravel())) + "\n" for im, y in zip(data.images, data.labels))
    )
    got = tc.cpython_runs(SHIPPED_MODEL.read_bytes(), csv.encode(), tmp_path, repeats=2, threads=1)
    steps = TuneConfig().steps
    assert got["drawings"] == 12 and got["calls"] == steps // got["slice_steps"] + 2
    assert got["slice_steps"] == tc.worker_slice(tc.WORKER_JS.read_text())
    assert got["same_bytes_each_time"] and len(got["python_ms_runs"]) == 2
    assert got["python_ms"] == pytest.approx(float(np.median(got["python_ms_runs"])))
    assert set(got["blas_threads"].values()) == {"1"}
    model = load_model(got["model_bytes"], "cpython.npz")
    assert model.meta["personal"] == {"drawings": 12, "steps": steps}
    assert hashlib.sha256(got["model_bytes"]).hexdigest() == got["model_sha256"]


# ----------------------------------------------------------------------------- the bench for real


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    out = tmp_path_factory.mktemp("tune_bench") / "tune.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench.tune_bench", "--quick", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout, json.loads(out.read_text()), out


@pytest.mark.e2e
def test_prints_the_table_and_every_goal(bench):
    printed, data, _ = bench
    assert data["table"] in printed
    assert [g["id"] for g in data["goals"]] == GOAL_IDS
    lines = printed.splitlines()
    for g in data["goals"]:
        line = next(l for l in lines if l.startswith(g["goal"] + " "))
        assert ("NOT met" in line) == (not g["met"]), line
    assert data["config"]["runs"] == len(data["runs"]) == 1 and data["config"]["cpython_repeats"] == 1
    assert data["problems"] == []


@pytest.mark.e2e
def test_the_page_taught_tuned_and_timed_every_part(bench):
    _, data, _ = bench
    page = data["runs"][0]["page"]
    t = page["tune"]
    assert page["taught"] == 20 and page["data_model"] == "personal" and page["errors"] == []
    assert "of your 20 drawings right" in page["tune_text"]
    assert t["outcome"] == "tuned" and t["steps"] == TuneConfig().steps
    assert len(t["calls"]) == t["steps"] // data["config"]["tune_slice"] + 2
    assert [c["step"] for c in t["calls"][:-1]] == list(
        range(0, t["steps"] + 1, data["config"]["tune_slice"])
    )
    assert sum(c["ms"] for c in t["calls"]) == pytest.approx(t["python"], abs=0.1)  # python: the calls' sum
    assert 0 < t["python"] < t["worker"] < t["total"] and 0 < t["replay"] < t["worker"] - t["python"]
    assert t["overhead"] == pytest.approx(t["total"] - t["python"]) and t["save"] > 0
    # the page's hook and the bench's own init script saw the same click and the same "done"
    assert page["click_to_done_ms"] == pytest.approx(t["total"], abs=50)
    assert page["long_tasks_measured"] and page["long_task_max_ms"] == max(
        [x["duration_ms"] for x in page["long_tasks"]], default=0.0
    )
    for when in ("before", "after"):
        assert page[f"triangles_{when}"] == page[when]["triangles"].count("4")
        assert page[f"digits_{when}"] == sum(s == str(i % 10) for i, s in enumerate(page[when]["digits"]))
        assert len(page[when]["triangles"]) == len(page[when]["digits"]) == 10


@pytest.mark.e2e
def test_the_exported_model_is_the_fine_tune_and_cpython_computes_the_same(bench):
    _, data, out = bench
    run = data["runs"][0]
    exported = out.parent / f"{out.stem}-my-model.npz"
    assert data["exported"]["my-model.npz"] == str(exported)
    assert hashlib.sha256(exported.read_bytes()).hexdigest() == run["page"]["model_sha256"]
    assert load_model(exported).meta["personal"] == {"drawings": 20, "steps": TuneConfig().steps}
    csv = (out.parent / f"{out.stem}-my-digits.csv").read_text().splitlines()
    assert len(csv) == 21 and [int(l.split(",")[0]) for l in csv[1:]] == [4] * 10 + list(range(10))
    m, cpy = run["mnist"], run["cpython"]
    assert m["personal_meta"] == {"drawings": 20, "steps": TuneConfig().steps} and cpy["drawings"] == 20
    assert m["diff_points"] == pytest.approx(100 * (m["personal_error"] - m["shipped_error"]))
    assert 0 < m["shipped_error"] < 0.05 and 0 < m["personal_error"] < 0.05
    # the same computation: the same images, labels, order and seed give the same network
    assert m["page_cpython_agreement"] >= 0.99 and m["max_weight_diff_page_cpython"] < 1e-3
    assert len(run["shipped_sha256"]) == 64 and cpy["same_bytes_each_time"]


@pytest.mark.e2e
def test_goals_follow_from_the_measurements(bench):
    _, data, _ = bench
    run, rows, ratios = data["runs"][0], data["rows"], data["ratios"]
    goals = {g["id"]: g for g in data["goals"]}
    assert goals["total"]["value"] == run["page"]["tune"]["total"] == rows["total_ms"]
    assert goals["long_task"]["value"] == run["page"]["long_task_max_ms"]
    assert goals["forgetting"]["value"] == run["mnist"]["diff_points"]
    assert goals["personal"]["value"] == run["page"]["triangles_after"]
    assert ratios["total_vs_cpython"] == pytest.approx(rows["total_ms"] / run["cpython"]["python_ms"])
    limits = {"total": 5000, "long_task": 50, "forgetting": 0.3, "personal": 8}
    for k, g in goals.items():
        assert g["limit"] == limits[k], k
        assert g["met"] == (g["value"] >= g["limit"] if k == "personal" else g["value"] <= g["limit"]), g
