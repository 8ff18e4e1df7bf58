"""bench.page_bench for real, in its quickest mode: the JSON it writes is complete and self-consistent.

No timing goal is asserted (the numbers depend on the machine): only that every measurement was
taken, is a plausible positive number, that the ratios and goals follow from the rows, and that
nothing left 127.0.0.1. One run of the bench (both pages, cold and warm) takes about a minute.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tools.paths import ROOT

pytestmark = pytest.mark.e2e

PREDICTIONS = 20
PAGES, VISITS = ("ours", "bare"), ("cold", "warm")
VISIT_KEYS = {"ready_ms", "pad_handlers_ms", "pad_usable_ms", "offline_ms", "long_tasks", "long_task_count",
              "long_task_max_ms", "transfer_bytes", "encoded_bytes", "requests", "timing_entries", "cache",
              "revalidated", "network", "service_worker", "sw_requests", "sw_fetches_boot", "sw_fetches_after_ready",
              "unmatched_requests", "non_local_requests", "failed_requests", "errors", "request_detail"}


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    out = tmp_path_factory.mktemp("page_bench") / "page.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench.page_bench", "--runs", "1", "--predictions", str(PREDICTIONS),
         "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout, json.loads(out.read_text())


def test_prints_both_tables_and_every_goal(bench):
    printed, data = bench
    for label in ("ours, cold", "bare, cold", "ours, warm", "bare, warm", "ready, ours/bare",
                  "ours (predict_drawing)", "bare (np.frombuffer().sum())", "goals:"):
        assert label in printed
    assert data["table"] in printed
    assert len(data["goals"]) == 5
    for g in data["goals"]:
        assert ("met    " if g["met"] else "NOT met") + "  " + g["goal"] in printed


def test_every_visit_was_measured_and_stayed_local(bench):
    _, data = bench
    assert len(data["runs"]) == 1 and data["config"]["runs"] == 1
    run = data["runs"][0]
    for page in PAGES:
        for v in VISITS:
            visit = run[page][v]
            where = f"{page}, {v}"
            assert VISIT_KEYS <= visit.keys(), where
            assert 0 < visit["ready_ms"] < 120_000, where
            assert visit["non_local_requests"] == [] and visit["failed_requests"] == [], where
            assert visit["errors"] == [] and visit["unmatched_requests"] == [], where
            # every request of the page and its worker was seen both by Playwright and by Resource Timing,
            # and both agree on which ones the service worker (if any) answered
            assert visit["requests"] == visit["timing_entries"] == len(visit["request_detail"]) > 0, where
            served = sum(d["source"] == "service worker" for d in visit["request_detail"])
            assert served == visit["service_worker"], where
            assert visit["encoded_bytes"] > 10e6, where          # the runtime's 10 MB of wasm is counted
            assert visit["long_task_count"] == len(visit["long_tasks"]), where
            assert all(t["duration_ms"] >= 50 for t in visit["long_tasks"]), where
        cold, warm = run[page]["cold"], run[page]["warm"]
        assert cold["network"] == cold["requests"] and cold["service_worker"] == 0     # empty profile:
        assert cold["transfer_bytes"] > 10e6                                           # all downloaded
        paths = [sorted(d["path"] for d in visit["request_detail"]) for visit in (cold, warm)]
        assert paths[0] == paths[1]                                                    # the same files
        assert warm["transfer_bytes"] < cold["transfer_bytes"]
    for v in VISITS:
        ours = run["ours"][v]
        assert 0 < ours["pad_handlers_ms"] <= ours["pad_usable_ms"]
        assert ours["worker_timings"]["total"] > 0
        assert run["bare"][v]["pad_usable_ms"] is None


def test_rows_are_the_run_and_ratios_follow_from_them(bench):
    _, data = bench
    rows, run = data["rows"], data["runs"][0]
    assert set(rows) == {f"{p}_{v}" for p in PAGES for v in VISITS}
    for p in PAGES:
        for v in VISITS:
            assert rows[f"{p}_{v}"]["ready_ms"] == run[p][v]["ready_ms"]          # the median of one run
            assert rows[f"{p}_{v}"]["non_local"] == 0
    for v in VISITS:
        assert data["ratios"][f"ready_{v}"] == pytest.approx(rows[f"ours_{v}"]["ready_ms"] / rows[f"bare_{v}"]["ready_ms"])


def test_prediction_round_trips(bench):
    _, data = bench
    for page in PAGES:
        raw = data["runs"][0][page]["predictions"]
        assert len(raw["round_trip_ms"]) == len(raw["python_ms"]) == PREDICTIONS, page
        s = data["predictions"][page]
        rt, py = s["round_trip"], s["python"]
        assert rt["n"] == py["n"] == PREDICTIONS
        assert 0 < rt["p50_ms"] <= rt["p95_ms"] <= rt["max_ms"], page
        assert 0 <= py["p50_ms"] <= rt["p50_ms"], page                        # Python is part of the round trip
        for total, python in zip(raw["round_trip_ms"], raw["python_ms"]):
            assert python <= total + 0.2, page                                # (0.1 ms timer resolution)


def test_goals_follow_from_the_measurements(bench):
    _, data = bench
    rows, values = data["rows"], [g["value"] for g in data["goals"]]
    assert values == [
        data["ratios"]["ready_cold"],
        data["ratios"]["ready_warm"],
        data["predictions"]["ours"]["round_trip"]["p95_ms"],
        max(rows["ours_cold"]["long_task_max_ms"], rows["ours_warm"]["long_task_max_ms"]),
        max(rows["ours_cold"]["pad_usable_ms"], rows["ours_warm"]["pad_usable_ms"]),
    ]
    for g in data["goals"]:
        assert g["met"] == (g["value"] <= g["limit"]), g
