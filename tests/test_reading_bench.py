"""bench.reading_bench: every stage of a reading timed in CPython and in Node's Pyodide, from the
same file (bench.reading_stages), and the stages are the reading's own."""

import json

import numpy as np

from bench import reading_bench, reading_stages
from digitnet import browser
from digitnet.sizes import CANVAS, PEN_DEFAULT


def test_the_stages_read_the_drawing_the_session_reads():
    pads = reading_bench.pads(3)
    assert pads.shape == (3, CANVAS, CANVAS) and pads.dtype == np.uint8 and pads.max() == 255
    data = reading_bench.MODEL.read_bytes()
    got = reading_stages.measure(pads, data, PEN_DEFAULT * CANVAS, rounds=1)
    assert list(got["stages"]) == list(reading_stages.STAGES)
    assert all(0 < s["p50"] <= s["p95"] for s in got["stages"].values())
    # a whole reading costs more than its network alone
    stages = got["stages"]
    assert stages["Session.predict, pen up"]["p50"] > stages["first layer, nine views"]["p50"]
    # the drawings read as the digits they are (the bench times real readings)
    session = browser.Session()
    session.load_model(data, "model.npz")
    said = [session.predict(p.tobytes(), CANVAS, CANVAS, PEN_DEFAULT * CANVAS)[:10].argmax() for p in pads]
    assert said == [0, 1, 2]


def test_main_runs_both_and_writes_json(tmp_path, capsys):
    out = tmp_path / "reading.json"
    assert reading_bench.main(["--drawings", "2", "--rounds", "1", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    for side in ("cpython", "pyodide"):
        assert set(data[side]["stages"]) == set(reading_stages.STAGES), side
        assert data[side]["drawings"] == 2
    printed = capsys.readouterr().out
    assert all(name in printed for name in reading_stages.STAGES)
