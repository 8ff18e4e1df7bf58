"""bench.serve_bench in its quickest mode: it runs, every phase is measured, and failures are caught.

No speed is asserted (that depends on the machine): only that nothing failed, every stalled client got
408 and was dropped after the (1 s) header timeout, the server's threads stayed within its event loop
and disk workers, and the stalled connections' descriptors were given back.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest

from bench import serve_bench
from tools.paths import ROOT


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("serve_bench") / "serve.json"
    command = [sys.executable, "-m", "bench.serve_bench", "--quick", "--temp-root", "--json", str(out)]
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    return proc, json.loads(out.read_text())


def test_quick_run_passes_and_prints_both_tables(quick):
    proc, data = quick
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "page (5 files a load)" in proc.stdout and "stalled / dropped / answered 408" in proc.stdout
    assert data["problems"] == [] and data["server_stderr"] == ""
    assert data["runtime_bytes"] == serve_bench.BIG_BYTES
    assert data["runtime"]["mb_each"] == round(serve_bench.BIG_BYTES / 1e6, 2)  # no copy: every byte counted


def test_every_request_is_accounted_for(quick):
    _, data = quick
    for phase, clients in (("page", 50), ("runtime", 10), ("slow", 20)):
        r = data[phase]
        files = 1 if phase == "runtime" else len(data["page_paths"])
        assert r["clients"] == clients and r["requests_planned"] == clients * files == r["requests_ok"]
        assert r["failed"] == r["timeouts"] == 0
        assert 0 < r["p50_ms"] <= r["p95_ms"] <= r["max_ms"]


def test_stalled_clients_are_dropped_and_threads_stay_bounded(quick):
    _, data = quick
    s = data["slow"]
    assert s["stalled"] == s["stalled_dropped"] == s["stalled_408"] == 30
    assert 1.0 <= s["dropped_after_max_s"] < 5.0
    bound = data["workers"] + 1
    assert data["server_threads_idle"] <= s["server_threads_with_stalled"] <= bound
    assert all(data[p]["server_threads_peak"] <= bound for p in ("page", "runtime", "slow"))
    assert s["server_fds_with_stalled"] >= data["server_fds_idle"] + 30  # a socket each, no more
    assert s["server_fds_after"] <= data["server_fds_idle"] + 2  # and given back


def test_verdict_names_what_went_wrong(quick):
    _, data = quick
    assert serve_bench.verdict(data) == []
    bad = copy.deepcopy(data)
    bad["page"].update(
        failed=3, timeouts=3, errors={"timeout": 3}, requests_ok=bad["page"]["requests_ok"] - 3
    )
    bad["slow"]["stalled_dropped"] -= 1
    bad["runtime"]["server_threads_peak"] = 300
    bad["server_stderr"] = "Traceback ...\nOSError: boom\n"
    problems = serve_bench.verdict(bad)
    assert any(p.startswith("page: 3 requests failed") for p in problems)
    assert any("never dropped" in p for p in problems)
    assert any(p.startswith("runtime: the server had 300 threads") for p in problems)
    assert any(p.endswith("OSError: boom") for p in problems)
    late = copy.deepcopy(data)
    late["slow"]["dropped_after_max_s"] = data["header_timeout_s"] + 6
    assert any("dropped only after" in p for p in serve_bench.verdict(late))


@pytest.mark.parametrize(
    "values, q, expected",
    [([], 50, None), ([3.0], 95, 3.0), ([1, 2, 3, 4, 5], 50, 3), (list(range(101)), 95, 95)],
)
def test_percentile(values, q, expected):
    assert serve_bench.percentile(values, q) == expected
