"""bench.report: docs/results.md from the benchmarks' JSON files, rendered from small fake ones."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bench import report

MACHINE = {
    "cores": 2,
    "usable_cores": 2,
    "cpu": "Test CPU",
    "python": "3.11.2",
    "numpy": "2.0.2",
    "load_average_1min_at_start": 0.5,
}

EVAL = {
    "test_error": 0.0054,
    "n": 10000,
    "errors": 54,
    "digit_reject_rate": 0.0014,
    "per_digit_accuracy": {str(d): 0.99 for d in range(10)},
    "negatives": {
        "letters": {"n": 500, "rejected": 0.956, "held_out": False},
        "stray_mark": {"n": 500, "rejected": 0.974, "held_out": True},
    },
    "negatives_summary": {"all": 0.965, "held_out": 0.974, "seen": 0.956},
    "pictograms": {"☺": 0.42, "⚙": 0.0, "♘": 1.0},
}

ROBUSTNESS = {
    "run_at": "2026-12-07T03:10:00+00:00",
    "machine": MACHINE,
    "n": 20,
    "model": "static/model/model.npz",
    "rows": [
        {
            "variant": "centred, full size",
            "ours_accuracy": 0.95,
            "ours_rejected": 0.05,
            "naive_accuracy": 0.9,
            "ours_ms_per_pad": 1.25,
        },
        {
            "variant": "tiny (1/5), anywhere",
            "ours_accuracy": 0.9,
            "ours_rejected": 0.0,
            "naive_accuracy": 0.15,
            "ours_ms_per_pad": 1.5,
        },
    ],
    "mean_ours": 0.925,
    "mean_rejected": 0.025,
    "mean_naive": 0.525,
}

SERVE = {
    "run_at": "2026-12-07T03:20:00+00:00",
    "machine": MACHINE,
    "header_timeout_s": 10,
    "problems": [],
    "page": {
        "clients": 500,
        "requests_ok": 4000,
        "requests_planned": 4000,
        "failed": 0,
        "p50_ms": 20.0,
        "p95_ms": 128.4,
        "server_threads_peak": 65,
    },
    "runtime": {
        "clients": 100,
        "requests_ok": 100,
        "requests_planned": 100,
        "failed": 0,
        "p50_ms": 90.0,
        "p95_ms": 181.0,
        "server_threads_peak": 65,
    },
    "slow": {
        "clients": 100,
        "requests_ok": 400,
        "requests_planned": 400,
        "failed": 0,
        "p50_ms": 10.0,
        "p95_ms": 40.0,
        "server_threads_peak": 65,
        "stalled": 300,
        "stalled_dropped": 300,
        "dropped_after_max_s": 10.4,
    },
}

NUMBER = {
    "run_at": "2026-12-07T12:10:00+00:00",
    "machine": MACHINE,
    "height": 140,
    "width": 140,
    "quick": False,
    "sizes": {"n": 300, "digits": 2000, "negatives": 200},
    "rows": [
        {
            "spacing": "apart",
            "gap": [0.25, 0.5],
            "exact": 0.937,
            "digits_alone": 0.943,
            "exact_by_length": {"2": 0.973, "5": 0.867},
            "ms_p50": 8.1,
            "ms_p95": 23.5,
            "reads_mean": 7.3,
        }
    ],
    "goals": [
        {
            "goal": "apart: numbers read exactly",
            "value": 0.937,
            "op": ">=",
            "limit": 0.97,
            "unit": "share",
            "met": False,
        }
    ],
    "single_digits": {
        "n": 2000,
        "error_read_number": 0.016,
        "error_predict_drawing": 0.0155,
        "differ": 2,
        "offered_thinner_pen": 1,
    },
    "thick_pen": {"n": 200, "pen": 0.07, "exact": 0.1, "offered": 0.975, "exact_with_offer": 0.91},
    "not_a_digit": {
        "kinds": {"letters": {"n": 200, "accepted_predict_drawing": 0.045, "accepted_read_number": 0.085}},
        "accepted_predict_drawing": 0.024,
        "accepted_read_number": 0.063,
    },
    "five_digits_apart_ms": {"settled_p95": 25.3, "live_p95": 7.7},
    "pyodide_ratio": [3, 4],
}

#: What bench.reading_bench writes (two of its stages).
READING = {
    "run_at": "2026-12-07T19:44:00+00:00",
    "config": {"drawings": 5, "rounds": 2},
    "stages": ["pieces", "Session.predict, pen up"],
    "cpython": {
        "stages": {"pieces": {"p50": 0.1, "p95": 0.12}, "Session.predict, pen up": {"p50": 1.0, "p95": 1.2}}
    },
    "pyodide": {
        "stages": {"pieces": {"p50": 0.25, "p95": 0.3}, "Session.predict, pen up": {"p50": 3.0, "p95": 3.5}}
    },
}

TRAIN_PAGE = {
    "run_at": "2026-12-07T13:00:48+00:00",
    "machine": MACHINE,
    "rows": {
        "images_per_s_python": 7404.5,
        "cpython_images_per_s": 79189.4,
        "round_trip_p50_ms": 12.4,
        "round_trip_p95_ms": 22.15,
    },
    "goals": [
        {
            "goal": "test accuracy >= 95% within 20 s of Start",
            "value": 9129.1,
            "limit": 20000.0,
            "unit": "ms",
            "op": "<=",
            "met": True,
        },
        {
            "goal": "the worker's WebAssembly heap",
            "value": 146276352,
            "limit": 4e8,
            "unit": "bytes",
            "op": "<=",
            "met": True,
        },
    ],
    "page": {
        "settings": {"hidden": [128]},
        "epochs": [{"epoch": 1, "accuracy": 0.9651, "sinceStartMs": 9129.1}],
    },
    "cpython": {"epochs": [{"epoch": 1, "accuracy": 0.9651, "python_ms": 990.0}]},
}


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    results = tmp_path / "results"
    results.mkdir()
    (results / "robustness.json").write_text(json.dumps(ROBUSTNESS))
    (results / "serve_bench.json").write_text(json.dumps(SERVE))
    (results / "number.json").write_text(json.dumps(NUMBER))
    (results / "number_wide.json").write_text(json.dumps(NUMBER | {"width": 200}))
    (results / "train_page.json").write_text(json.dumps(TRAIN_PAGE))
    (results / "reading.json").write_text(json.dumps(READING))
    (results / "page.json").write_text("{ cut short")
    eval_json = tmp_path / "eval.json"
    eval_json.write_text(json.dumps(EVAL))
    return {"results": results, "eval": eval_json, "out": tmp_path / "docs" / "results.md"}


def section(text: str, title: str) -> str:
    """The part of the page under '## title', up to the next section."""
    return text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_renders_figures_from_the_json_files(files):
    not_run = report.write_report(files["out"], files["results"], files["eval"])
    text = files["out"].read_text()

    model = section(text, "The shipped model")
    assert "0.54% (54 of 10000)" in model and "0.14%" in model
    assert "stray_mark (never seen in training) | 500 | 97.4%" in model
    assert "machine not recorded" in model  # training.evaluate records no machine
    assert 'Pictograms one by one (3), called "not a digit": `⚙` 0%, `☺` 42%, the other 1 at 100%.' in model

    robust = section(text, "Robustness to how people draw")
    assert "Run 2026-12-07 03:10 UTC on 2 cores (Test CPU)" in robust
    assert "20 MNIST test digits drawn each way" in robust and "A quick run" in robust
    assert "| tiny (1/5), anywhere | 90.00% | 0.00% | 15.00% | 1.50 |" in robust
    assert "**92.50%**" in robust and "52.50%" in robust
    assert "![Robustness to how people draw](results-robustness.png)" in robust

    serve = section(text, "The server under load")
    assert "| page loads | 500 | 4000 / 4000 | 0 | 20 ms | 128 ms | 65 |" in serve
    assert "300 of 300 stalled clients dropped" in serve

    numbers = section(text, "Whole numbers")
    assert "| apart | 0.25–0.5 | 93.7% | 94.3% | 97.3% | 86.7% | 8.1 ms | 23.5 ms | 7.3 |" in numbers
    assert "| apart: numbers read exactly | 93.7% | >= 97.0% | **not met** |" in numbers
    assert "| letters | 200 | 4.5% | 8.5% |" in numbers and "2 verdicts differ" in numbers
    assert "1 offered a thinner pen" in numbers
    assert "10.0% read exactly; 97.5% offered a thinner pen; 91.0% read exactly with the offer" in numbers
    wide = section(text, "Whole numbers on a wide pad")
    assert "bench.number_bench --width 200 --json" in wide and "x200 pad" in wide

    trained = section(text, "Training in the page")
    assert "| 1 | 96.51% | 9.1 s | 96.51% | 1.0 s |" in trained
    assert "| test accuracy >= 95% within 20 s of Start | 9.1 s | <= 20.0 s | met |" in trained
    assert "| the worker's WebAssembly heap | 146 MB | <= 400 MB | met |" in trained
    assert "7,404 in the page" in trained and "p95 22.1 ms" in trained

    reading = section(text, "A reading, stage by stage")
    assert "5 drawings of the page bench" in reading and "each stage timed 2 times" in reading
    assert "| pieces | 0.100 ms | 0.250 ms | 0.300 ms | 2.5x |" in reading
    assert "| Session.predict, pen up | 1.000 ms | 3.000 ms | 3.500 ms | 3.0x |" in reading

    assert (files["out"].parent / "results-robustness.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (files["out"].parent / "results-training.png").exists()  # no training run, no plot
    assert not_run == ["Training: ours against PyTorch", "Teaching in the page"]


def test_missing_files_are_not_run_and_broken_ones_named(files):
    report.write_report(files["out"], files["results"], files["eval"])
    text = files["out"].read_text()
    for title in ("Training: ours against PyTorch", "Teaching in the page"):
        assert section(text, title).count("**Not run**") == 1
    assert "**Not run**" not in section(text, "The shipped model")
    assert "**Could not be read** (JSONDecodeError" in section(text, "The page: boot and prediction")
    listed = section(text, "Not run").strip()
    assert listed == "No results yet for: Training: ours against PyTorch, Teaching in the page."


def test_nothing_run_still_makes_a_page(tmp_path):
    out = tmp_path / "results.md"
    assert (
        report.main(
            ["--results", str(tmp_path / "none"), "--eval", str(tmp_path / "none.json"), "--out", str(out)]
        )
        == 0
    )
    assert out.read_text().count("**Not run**") == 10
    assert list(tmp_path.iterdir()) == [out]


def test_written_whole_or_not_at_all(files, monkeypatch):
    files["out"].parent.mkdir()
    files["out"].write_text("the page as it was\n")

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report, "save_plot", lambda plot, folder: None)  # only the page is written
    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        report.write_report(files["out"], files["results"], files["eval"])
    assert files["out"].read_text() == "the page as it was\n"
    assert [p.name for p in files["out"].parent.iterdir()] == ["results.md"]  # no half-written file left


def test_the_bench_writer_records_when_and_where(tmp_path):
    from bench.common import write_json

    write_json(tmp_path / "r.json", {"rows": []})
    d = json.loads((tmp_path / "r.json").read_text())
    assert d["run_at"].endswith("+00:00") and d["machine"]["cores"] >= 1
    assert report.when_and_where(d, tmp_path / "r.json").startswith("Run ")
