"""The training benchmark's helpers, and that its PyTorch trainer takes exactly our steps."""

import importlib.util
import json

import numpy as np
import pytest
from synthetic_data import synthetic

from bench import common
from bench import train_bench as tb
from bench import train_runs as runs
from bench import train_summary as summary
from digitnet.learn import init_params
from training.config import TrainConfig
from training.train import train


@pytest.fixture
def torch_installed():
    """The parity tests need PyTorch: scripts/setup.sh --test installs it (requirements-bench.txt)."""
    if importlib.util.find_spec("torch") is None:
        pytest.fail(
            "PyTorch is not installed: run bash scripts/setup.sh --test (installs requirements-bench.txt)"
        )


def history(errors, seconds):
    out, elapsed = [], 0.0
    for i, (e, s) in enumerate(zip(errors, seconds)):
        elapsed += s
        out.append({"epoch": i + 1, "test_error": e, "seconds": s, "elapsed": elapsed, "cpu_seconds": s * 2})
    return out


def test_time_to_reach_first_epoch_at_or_below_threshold():
    h = history([0.05, 0.021, 0.019, 0.016, 0.015], [2.0, 1.0, 1.0, 3.0, 1.0])
    assert summary.time_to_reach(h, 0.020) == (4.0, 3)
    assert summary.time_to_reach(h, 0.016) == (7.0, 4)  # equal to the threshold counts
    assert summary.time_to_reach(h, 0.010) is None
    assert summary.time_to_reach([], 0.02) is None
    # a later dip above the threshold again does not matter: the first hit counts
    h2 = history([0.019, 0.03, 0.018], [1.0, 1.0, 1.0])
    assert summary.time_to_reach(h2, 0.02) == (1.0, 1)


def test_median_and_ratio():
    assert summary.median_epoch_seconds(history([0.1] * 4, [5.0, 1.0, 2.0, 3.0])) == 2.5
    assert summary.median_epoch_seconds([]) is None
    assert common.ratio(3.0, 2.0) == 1.5
    assert (
        common.ratio(None, 2.0) is None and common.ratio(3.0, None) is None and common.ratio(3.0, 0.0) is None
    )
    assert common.fmt(None, ".2f") == "—" and common.fmt(1500.0, ".1f", " MB", scale=1e3) == "1.5 MB"


def results():
    return [
        {
            "key": "ours",
            "label": "ours (NumPy)",
            "peak_rss_mb": 200.0,
            "history": history([0.03, 0.019, 0.015], [2.0, 2.0, 2.0]),
        },
        {
            "key": "torch",
            "label": "PyTorch CPU (same settings)",
            "peak_rss_mb": 450.0,
            "history": history([0.03, 0.018, 0.016], [1.0, 1.0, 1.0]),
        },
        {
            "key": "baseline",
            "label": "baseline",
            "peak_rss_mb": 190.0,
            "history": history([0.04, 0.03], [1.0, 1.0]),
        },
        {
            "key": "torch_defaults",
            "label": "PyTorch CPU (its defaults)",
            "error": "worker exited with status 1",
        },
    ]


def test_summarise_rows_and_ratios():
    rows = {r["key"]: r for r in summary.summarise(results())}
    ours, torch_row, base = rows["ours"], rows["torch"], rows["baseline"]
    assert ours["sec_per_epoch"] == 2.0 and ours["cpu_sec_per_epoch"] == 4.0
    assert ours["seconds_to_0.020"] == 4.0 and ours["epochs_to_0.020"] == 2
    assert ours["seconds_to_0.016"] == 6.0 and ours["epochs_to_0.016"] == 3
    assert torch_row["seconds_to_0.016"] == 3.0
    assert ours["sec_per_epoch_vs_torch"] == 2.0 and ours["to_1.6_vs_torch"] == 2.0
    assert torch_row["sec_per_epoch_vs_torch"] == 1.0 and torch_row["to_1.6_vs_torch"] == 1.0
    assert base["seconds_to_0.016"] is None and base["to_1.6_vs_torch"] is None  # never reached
    assert base["final_test_error"] == 0.03 and base["best_test_error"] == 0.03
    assert rows["torch_defaults"]["error"] and rows["torch_defaults"]["sec_per_epoch"] is None


def test_summarise_without_reference_has_no_ratios():
    rows = summary.summarise([r for r in results() if r["key"] == "ours"])
    assert rows[0]["sec_per_epoch_vs_torch"] is None and rows[0]["to_1.6_vs_torch"] is None


def test_format_table():
    table = summary.format_table(summary.summarise(results()))
    lines = table.splitlines()
    assert lines[0].startswith("run") and "to 1.6%" in lines[0] and "peak MB" in lines[0]
    assert len(lines) == 2 + 4
    ours = next(l for l in lines if l.startswith("ours (NumPy)"))
    assert "4.0 s (ep 2)" in ours and "6.0 s (ep 3)" in ours and "1.50%" in ours and "2.00x" in ours
    base = next(l for l in lines if l.startswith("baseline"))
    assert base.count("—") == 3  # to 2.0%, to 1.6%, ratio to 1.6%
    assert "FAILED: worker exited with status 1" in table
    assert len({len(l) for l in lines[:2]}) == 1  # header and rule line up


def test_run_specs_share_settings_and_baseline_is_the_rust_reference():
    specs = {s.key: s for s in runs.run_specs(12, lr=0.05, schedule="cosine", weight_decay=1e-4)}
    assert list(specs) == ["ours", "torch", "baseline", "torch_defaults"]
    assert specs["ours"].cfg == specs["torch"].cfg  # same hyperparameters, same seed
    ours = specs["ours"].cfg
    assert (ours.layers, ours.batch_size, ours.momentum, ours.augment) == ([784, 256, 10], 64, 0.9, False)
    base = specs["baseline"].cfg
    assert (base.layers, base.batch_size, base.epochs, base.momentum) == ([784, 128, 10], 50, 11, 0.0)
    assert base.lr == pytest.approx(0.01 * 50) and base.schedule == "constant"
    assert "= 0.5 on batch-averaged" in specs["baseline"].note
    d = specs["torch_defaults"]
    assert d.torch_defaults and d.cfg.lr == 0.1 and d.cfg.schedule == "constant" and d.cfg.momentum == 0.9
    assert d.cfg.batch_size == 64 and d.cfg.weight_decay == 0.0


def test_missing_torch_prints_install_hint_and_exits_2(monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a)
    )
    monkeypatch.setattr(tb, "spawn", lambda *a: pytest.fail("must not run anything"))
    assert tb.main(["--quick"]) == 2
    assert "pip install -r requirements-bench.txt" in capsys.readouterr().err


def test_main_prints_table_and_writes_json(monkeypatch, tmp_path, capsys):
    by_key = {r["key"]: r for r in results()}
    calls = []

    def fake_spawn(args, key):
        calls.append((args, key))
        r = dict(by_key[key])
        r.pop("key"), r.pop("label")
        return r

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object())
    monkeypatch.setattr(tb, "spawn", fake_spawn)
    out = tmp_path / "r" / "bench.json"
    code = tb.main(["--quick", "--json", str(out)])
    assert code == 1  # one run failed
    assert [k for _, k in calls] == ["ours", "torch", "baseline", "torch_defaults"]
    assert "--quick" in calls[0][0]
    printed = capsys.readouterr().out
    assert "ours (NumPy)" in printed and "to 1.6%" in printed and "0.5 on our batch-averaged" in printed
    data = json.loads(out.read_text())
    assert [r["key"] for r in data["rows"]] == ["ours", "torch", "baseline", "torch_defaults"]
    assert data["machine"]["cores"] >= 1 and data["quick"] is True


@pytest.mark.usefixtures("torch_installed")
@pytest.mark.parametrize("weight_decay", [0.0, 1e-3])
def test_torch_steps_equal_ours_at_constant_lr(weight_decay):
    """Same initial weights, same shuffles, same normalisation, constant lr: the same parameters."""
    cfg = TrainConfig(
        layers=[784, 16, 12, 10],
        epochs=3,
        batch_size=32,
        lr=0.05,
        momentum=0.9,
        weight_decay=weight_decay,
        schedule="constant",
        augment=False,
        seed=3,
    )
    data, test = synthetic(300, 1), synthetic(100, 2)  # 300 = 9 full batches + one of 12
    model, ours_hist = train(cfg, data, test, progress=False)
    weights, biases, torch_hist = runs.train_torch(cfg, data, test, threads=1)
    for ours_p, torch_p in zip(model.weights + model.biases, weights + biases):
        assert ours_p.shape == torch_p.shape and torch_p.dtype == np.float32
        np.testing.assert_allclose(torch_p, ours_p, rtol=0, atol=1e-5)
    assert not np.allclose(model.weights[0], init_params(cfg.layers, np.random.default_rng(3))[0][0])
    for o, t in zip(ours_hist, torch_hist):
        assert t["train_loss"] == pytest.approx(o.train_loss, abs=1e-5)
        assert t["test_error"] == o.test_error and t["lr"] == o.lr


@pytest.mark.usefixtures("torch_installed")
def test_torch_defaults_run_and_schedules_differ_after_the_first_change():
    data, test = synthetic(300, 1), synthetic(100, 2)
    cfg = TrainConfig(
        layers=[784, 16, 10],
        epochs=2,
        batch_size=50,
        lr=0.1,
        momentum=0.9,
        weight_decay=0.0,
        schedule="constant",
        augment=False,
        seed=0,
    )
    w, b, hist = runs.train_torch(cfg, data, test, torch_defaults=True, threads=1)
    assert len(hist) == 2 and all(h["seconds"] > 0 and 0 <= h["test_error"] <= 1 for h in hist)
    assert abs(w[0]).max() < 0.5  # torch's uniform(+-1/sqrt(784)) init, trained a little
    # under a schedule torch.optim.SGD rescales the whole velocity when lr changes: equal until then
    cos = TrainConfig(
        layers=[784, 16, 10],
        epochs=3,
        batch_size=50,
        lr=0.05,
        momentum=0.9,
        weight_decay=0.0,
        schedule="cosine",
        augment=False,
        seed=0,
    )
    model, ours_hist = train(cos, data, test, progress=False)
    w, b, torch_hist = runs.train_torch(cos, data, test, threads=1)
    assert torch_hist[0]["train_loss"] == pytest.approx(
        ours_hist[0].train_loss, abs=1e-5
    )  # lr still constant
    diff = max(abs(p - q).max() for p, q in zip(model.weights + model.biases, w + b))
    assert diff > 1e-4  # the lr changed twice since
