"""The training and evaluation CLIs, end to end on a small synthetic data set."""

import csv
import json

import numpy as np
import pytest
from synthetic_data import synthetic, write_csv

from digitnet.modelfile import load_model, save_model
from training import augment as aug
from training.cli_train import build_parser
from training.config import TrainConfig
from training.data import Dataset
from training.evaluate import main as evaluate_main
from training.train import learning_rate, train
from training.train import main as train_main

DIGITS_ONLY = [
    "--negatives",
    "0",
    "--drawn",
    "0",
    "--inked",
    "0",
    "--elastic",
    "0",
]  # synthetic blobs: no drawings, no wobble


@pytest.fixture(scope="module")
def data_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    return write_csv(d / "train.csv", synthetic(600, 1)), write_csv(d / "test.csv", synthetic(200, 2))


def test_train_cli_writes_model_log_and_plot(tmp_path, data_files, capsys):
    train_csv, test_csv = data_files
    out, log, plot = tmp_path / "m.npz", tmp_path / "log.csv", tmp_path / "plot.png"
    code = train_main(
        [
            "--train",
            str(train_csv),
            "--test",
            str(test_csv),
            "--layers",
            "784",
            "32",
            "10",
            *DIGITS_ONLY,
            "--epochs",
            "3",
            "--batch-size",
            "50",
            "--lr",
            "0.05",
            "--out",
            str(out),
            "--log",
            str(log),
            "--plot",
            str(plot),
            "--quiet",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert printed.count("test error") >= 4  # after each epoch, and at the end
    model = load_model(out)
    assert model.sizes == [784, 32, 10]
    assert model.meta["test_error"] < 0.05
    assert model.meta["hyperparameters"]["batch_size"] == 50
    rows = list(csv.reader(open(log)))
    assert rows[0] == ["epoch", "batch", "loss"] and len(rows) == 1 + 3 * 12  # loss of every batch
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_same_seed_same_weights(data_files):
    train_set = synthetic(300, 5)
    cfg = TrainConfig(layers=[784, 16, 10], epochs=2, batch_size=32, seed=7)
    a, _ = train(cfg, train_set, progress=False)
    b, _ = train(cfg, train_set, progress=False)
    c, _ = train(
        TrainConfig(layers=[784, 16, 10], epochs=2, batch_size=32, seed=8), train_set, progress=False
    )
    assert all(np.array_equal(x, y) for x, y in zip(a.weights, b.weights))
    assert not np.array_equal(a.weights[0], c.weights[0])


def test_validation_split_and_early_stopping():
    cfg = TrainConfig(
        layers=[784, 16, 10], epochs=30, batch_size=32, validation=0.2, patience=2, augment=False, lr=0.05
    )
    model, history = train(cfg, synthetic(400, 3), progress=False)
    assert all(h.val_error is not None for h in history)
    assert len(history) < 30  # stopped early: the task is learnt quickly
    assert min(h.val_error for h in history) == 0.0


def test_learning_rate_schedules():
    cfg = TrainConfig(lr=0.1, epochs=10, schedule="cosine")
    rates = [learning_rate(cfg, e) for e in range(10)]
    assert rates[0] == pytest.approx(0.1) and all(x > y for x, y in zip(rates, rates[1:]))
    cfg.schedule = "step"
    assert [learning_rate(cfg, e) for e in (0, 5, 8)] == pytest.approx([0.1, 0.01, 0.001])


def test_bad_data_is_refused_with_file_and_line(tmp_path, data_files, capsys):
    bad = tmp_path / "bad.csv"
    lines = open(data_files[0]).read().splitlines()
    lines[5] = lines[5].replace(",", ",x", 1)
    bad.write_text("\n".join(lines) + "\n")
    code = train_main(
        ["--train", str(bad), "--test", str(data_files[1]), "--out", str(tmp_path / "m.npz"), *DIGITS_ONLY]
    )
    err = capsys.readouterr().err
    assert code == 2 and "bad.csv" in err and "line 6" in err and "Traceback" not in err
    assert not (tmp_path / "m.npz").exists()


def test_bad_layers_are_refused(capsys):
    assert train_main(["--layers", "100", "10"]) == 2
    assert "784" in capsys.readouterr().err


@pytest.mark.parametrize(
    "flags",
    [
        ["--lr", "nan"],
        ["--lr", "inf"],
        ["--lr", "0"],
        ["--lr", "-1"],
        ["--lr", "1e6"],
        ["--momentum", "nan"],
        ["--momentum", "1"],
        ["--weight-decay", "nan"],
        ["--validation", "1"],
        ["--validation", "nan"],
        ["--layers", "784", "0", "10"],
        ["--layers", "784", "-5", "10"],
        ["--seed", "-1"],
        ["--epochs", "0"],
        ["--batch-size", "0"],
        ["--patience", "-2"],
        ["--schedule", "linear"],
        ["--hold-out", "faces"],
    ],
)
def test_bad_flags_are_refused_before_any_work(flags, capsys):
    with pytest.raises(SystemExit) as e:
        train_main(flags + ["--train", "/nonexistent.csv"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert flags[0] in err and "Traceback" not in err


@pytest.mark.parametrize(
    "flag, make",
    [
        ("--out", lambda d: d / "model.bin"),
        ("--out", lambda d: d),
        ("--out", lambda d: d / "missing" / "m.npz"),
        ("--log", lambda d: d / "missing" / "log.csv"),
        ("--plot", lambda d: d / "missing" / "plot.png"),
    ],
)
def test_bad_outputs_are_refused_before_training(flag, make, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("training.train.train", lambda *a, **k: pytest.fail("must not train"))
    path = make(tmp_path)
    args = [flag, str(path)] + ([] if flag == "--out" else ["--out", str(tmp_path / "m.npz")])
    assert train_main(args) == 2
    err = capsys.readouterr().err
    assert flag in err and str(path) in err


def test_a_diverged_run_is_refused_and_the_previous_model_stays(tmp_path, data_files, capsys):
    train_csv, test_csv = data_files
    out = tmp_path / "m.npz"
    save_model(out, train(TrainConfig(layers=[784, 8, 10], epochs=1), synthetic(100, 1), progress=False)[0])
    before = out.read_bytes()
    code = train_main(
        [
            "--train",
            str(train_csv),
            "--test",
            str(test_csv),
            "--layers",
            "784",
            "32",
            "10",
            *DIGITS_ONLY,
            "--epochs",
            "2",
            "--lr",
            "90",
            "--momentum",
            "0.99",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and "diverged" in err and str(out) in err
    assert out.read_bytes() == before


def test_every_hyperparameter_has_its_flag():
    """TrainConfig is declared once: the CLI has a flag for each field, with the field's default."""
    import dataclasses

    from training.config import config_from_args

    parser = build_parser()
    assert config_from_args(parser.parse_args([])) == TrainConfig()
    text = parser.format_help()
    for f in dataclasses.fields(TrainConfig):
        assert ("--" + f.name.replace("_", "-")) in text or f"--no-{f.name}" in text, f.name
    cfg = config_from_args(parser.parse_args(["--no-augment", "--layers", "784", "64", "10", "--lr", "0.1"]))
    assert cfg.augment is False and cfg.layers == [784, 64, 10] and cfg.lr == 0.1


def test_help_explains_every_flag():
    text = build_parser().format_help()
    for flag in (
        "--layers",
        "--lr",
        "--momentum",
        "--batch-size",
        "--epochs",
        "--seed",
        "--log",
        "--plot",
        "--no-augment",
        "--validation",
        "--patience",
        "--weight-decay",
        "--schedule",
    ):
        assert flag in text


def test_evaluate_cli(tmp_path, data_files, capsys):
    train_csv, test_csv = data_files
    out = tmp_path / "m.npz"
    assert (
        train_main(
            [
                "--train",
                str(train_csv),
                "--test",
                str(test_csv),
                "--layers",
                "784",
                "32",
                "10",
                *DIGITS_ONLY,
                "--epochs",
                "3",
                "--lr",
                "0.05",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    result = tmp_path / "r.json"
    assert (
        evaluate_main(
            [
                "--model",
                str(out),
                "--test",
                str(test_csv),
                "--json",
                str(result),
                "--out-dir",
                str(tmp_path / "plots"),
            ]
        )
        == 0
    )
    figures = json.loads(result.read_text())
    assert figures["test_error"] == pytest.approx(load_model(out).meta["test_error"])
    assert figures["n"] == 200 and len(figures["per_digit_accuracy"]) == 10
    assert np.array(figures["confusion"]).sum() == 200
    assert "per-digit accuracy" in capsys.readouterr().out
    for png in ("confusion.png", "worst.png"):
        assert (tmp_path / "plots" / png).read_bytes()[:4] == b"\x89PNG"


def test_evaluate_refuses_a_corrupt_model(tmp_path, data_files, capsys):
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"PK\x03\x04 not really")
    assert evaluate_main(["--model", str(bad), "--test", str(data_files[1])]) == 2
    err = capsys.readouterr().err
    assert "broken.npz" in err and "not a model file" in err


def test_augmentation_keeps_digits_recognisable():
    rng = np.random.default_rng(0)
    img = np.zeros((1, 28, 28), np.float32)
    img[0, 6:22, 12:16] = 1.0
    identity = np.array([[[1, 0, 0], [0, 1, 0]]], np.float32)
    assert np.allclose(aug.warp(img, identity), img)
    shift = np.array([[[1, 0, -2], [0, 1, 3]]], np.float32)  # sample 2 rows up, 3 cols right
    assert np.allclose(aug.warp(img, shift)[0, 8:24, 9:13], 1)
    out = aug.augment(np.repeat(img, 200, axis=0), rng)
    assert out.shape == (200, 28, 28) and out.min() >= 0 and out.max() <= 1
    mass = out.sum(axis=(1, 2))
    assert (mass > 0.5 * img.sum()).all() and (mass < 2 * img.sum()).all()
    assert aug.thicken(img).sum() > img.sum() > aug.thin(img).sum() > 0.4 * img.sum()


def test_augmentation_in_chunks_equals_all_at_once(monkeypatch):
    """augment() warps in chunks to stay in the cache: the result is the one a single warp gives
    (bit for bit without elastic fields; with them, up to the rounding of their matrix product,
    which BLAS blocks by its size)."""
    images = synthetic(250, 4).images.astype(np.float32) / 255
    plain, wobbly = aug.AugmentConfig(), aug.AugmentConfig(elastic=0.75)
    whole = [aug.augment(images, np.random.default_rng(7), cfg) for cfg in (plain, wobbly)]
    monkeypatch.setattr(aug, "WARP_CHUNK", 64)  # 250 < WARP_CHUNK: one warp, vs four of 64
    chunked = [aug.augment(images, np.random.default_rng(7), cfg) for cfg in (plain, wobbly)]
    assert np.array_equal(whole[0], chunked[0])
    assert np.allclose(whole[1], chunked[1], atol=1e-5) and not np.array_equal(whole[0], whole[1])


def test_elastic_fields_are_smooth_and_of_the_asked_size():
    """U @ noise @ U.T through kron(U, U): at the knots the field is the noise, between them
    it is linear, and its root mean square is the one asked for."""
    cfg = aug.AugmentConfig(elastic=0.75)
    k = aug.knots(cfg)
    noise = np.random.default_rng(0).uniform(-1, 1, (3, 2, k, k)).astype(np.float32)
    fields = aug.elastic_fields(noise, 0.75).reshape(3, 2, 28, 28)
    assert np.allclose(np.sqrt((fields**2).mean(axis=(2, 3))), 0.75, atol=1e-4)
    pos = np.linspace(0, k - 1, 28)  # a pixel's place among the knots
    up = np.maximum(0, 1 - np.abs(pos[:, None] - np.arange(k)))  # hat functions: (28, k)
    assert np.allclose(aug.interpolation(k).sum(axis=1), 1)
    plain = np.einsum("ri,nxij,cj->nxrc", up, noise, up)  # U @ noise @ U.T, one field at a time
    scale = 0.75 / np.sqrt((plain**2).mean(axis=(2, 3), keepdims=True))
    assert np.allclose(fields, plain * scale, atol=1e-5)


def test_extra_csv_files_are_added_to_the_training_set(tmp_path, data_files, capsys):
    train_csv, test_csv = data_files
    extra = write_csv(tmp_path / "mine.csv", synthetic(50, 9))
    out = tmp_path / "m.npz"
    assert (
        train_main(
            [
                "--train",
                str(train_csv),
                "--test",
                str(test_csv),
                "--extra",
                str(extra),
                "--layers",
                "784",
                "16",
                "10",
                *DIGITS_ONLY,
                "--epochs",
                "1",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    assert "on 650 images" in capsys.readouterr().out  # 600 + 50
    bad = tmp_path / "bad.csv"
    bad.write_text("label,x\n1,2\n")
    assert (
        train_main(
            [
                "--train",
                str(train_csv),
                "--test",
                str(test_csv),
                "--extra",
                str(bad),
                *DIGITS_ONLY,
                "--layers",
                "784",
                "16",
                "10",
                "--out",
                str(out),
            ]
        )
        == 2
    )
    assert "bad.csv" in capsys.readouterr().err


def bar_negatives(n, kinds, seed, digits):
    """A quick stand-in for training.negatives.make_negatives_cached: n bars along the bottom (no
    digit's place), all of kind 0."""
    images = np.zeros((n, 28, 28), np.uint8)
    images[:, 20:26, 2:26] = 255
    return images, np.zeros(n, np.uint8)


def test_extra_not_a_digit_rows_train_the_not_a_digit_class_only(tmp_path, data_files, capsys, monkeypatch):
    """The page exports 'not a digit' as label 10: --extra feeds it to a model with that class (the
    default), and refuses it, naming the file and line, for a digits-only one (--negatives 0)."""
    train_csv, test_csv = data_files
    mine = synthetic(40, 9)
    labels = mine.labels.copy()
    labels[[1, 5]] = 10
    extra = write_csv(tmp_path / "my-digits.csv", Dataset(mine.images, labels))

    monkeypatch.setattr("training.negatives.make_negatives_cached", bar_negatives)
    with_not_digit = [*DIGITS_ONLY]
    with_not_digit[with_not_digit.index("--negatives") + 1] = "30"
    out = tmp_path / "m.npz"
    common = [
        "--train",
        str(train_csv),
        "--test",
        str(test_csv),
        "--extra",
        str(extra),
        "--epochs",
        "1",
        "--out",
        str(out),
        "--quiet",
    ]
    assert train_main([*common, *with_not_digit, "--layers", "784", "16", "11"]) == 0
    assert "(640 MNIST digits" in capsys.readouterr().out  # 600 + 40, not-a-digit ones too
    assert load_model(out).sizes == [784, 16, 11]

    out.unlink()
    assert train_main([*common, *DIGITS_ONLY, "--layers", "784", "16", "10"]) == 2
    err = capsys.readouterr().err
    assert "my-digits.csv: line 3, column 1: label value 10 outside 0-9" in err, err
    assert "--negatives 0" in err and "Traceback" not in err and not out.exists()


def test_held_out_kinds_stay_out_of_training_and_the_file_says_which(
    tmp_path, data_files, capsys, monkeypatch
):
    """--hold-out: the kinds named are not made for training; the model file records them, and
    evaluate marks them as kinds the model never saw. Holding out every kind is refused."""
    from training.evaluate import UNRECORDED_HELD_OUT, unseen_kinds
    from training.negatives import HELD_OUT, KINDS

    train_csv, test_csv = data_files
    asked = []

    def few_negatives(n, kinds, seed, digits):
        asked.append(kinds)
        return bar_negatives(n, kinds, seed, digits)

    monkeypatch.setattr("training.negatives.make_negatives_cached", few_negatives)
    flags = [*DIGITS_ONLY]
    flags[flags.index("--negatives") + 1] = "30"
    out = tmp_path / "m.npz"
    common = [
        "--train",
        str(train_csv),
        "--test",
        str(test_csv),
        "--epochs",
        "1",
        "--out",
        str(out),
        "--quiet",
        *flags,
        "--layers",
        "784",
        "16",
        "11",
    ]
    assert train_main(common) == 0
    assert asked[-1] == tuple(k for k in KINDS if k not in HELD_OUT) and "stray_mark" in HELD_OUT
    assert unseen_kinds(load_model(out)) == HELD_OUT
    assert train_main([*common, "--hold-out", "stray_mark", "pictograms"]) == 0
    assert "pictograms" not in asked[-1] and "signs" in asked[-1]
    assert unseen_kinds(load_model(out)) == ("stray_mark", "pictograms")
    model = load_model(out)
    del model.meta["hyperparameters"]["hold_out"]  # a file from before the flag
    assert unseen_kinds(model) == UNRECORDED_HELD_OUT

    out.unlink()
    capsys.readouterr()
    assert train_main([*common, "--hold-out", *KINDS]) == 2
    err = capsys.readouterr().err
    assert "--hold-out keeps every kind" in err and not out.exists()
