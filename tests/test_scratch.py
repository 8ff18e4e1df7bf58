"""Training from scratch (digitnet.scratch) and the training worker's API (digitnet.train_session),
in CPython: the same code the page's training worker runs in Pyodide."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from digitnet.learn import init_params
from digitnet.modelfile import load_model
from digitnet.network import forward, predict_proba
from digitnet.scratch import EVAL_ROWS, HIDDEN_CHOICES, MOMENTUM, Run, Settings, shifted
from digitnet.train_session import TrainSession, read_data
from tools.paths import DATA_DIR
from training.evaluate import main as evaluate_main
from training.fetch import load_mnist


@pytest.fixture(scope="module")
def mnist():
    """The first 4000 MNIST training images and the first 1000 test images, as the page has them."""
    train, test = load_mnist(DATA_DIR / "mnist_train.csv"), load_mnist(DATA_DIR / "mnist_test.csv")
    return (
        train.images[:4000].reshape(-1, 784),
        train.labels[:4000],
        test.images[:1000].reshape(-1, 784),
        test.labels[:1000],
    )


def npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


@pytest.fixture(scope="module")
def data_bytes(mnist):
    x, y, tx, ty = mnist
    return npz(train_images=x, train_labels=y, test_images=tx, test_labels=ty)


def finish(run: Run) -> Run:
    while not run.done:
        run.step(1000)
    return run


# ------------------------------------------------------------------ settings


def test_settings_defaults_and_json():
    s = Settings.from_json("{}")
    assert s == Settings() and s.hidden == (128,) and s.augment is False and s.seed == 0 and s.limit is None
    s = Settings.from_json(
        '{"hidden": [128, 64], "lr": 1, "batch": 32, "epochs": 2, "augment": true, "limit": 9}'
    )
    assert s.hidden == (128, 64) and s.lr == 1.0 and isinstance(s.lr, float) and s.limit == 9
    assert Settings.from_json(json.dumps(s.as_dict())) == s
    assert all(Settings(hidden=(h,)).hidden == (h,) for h in HIDDEN_CHOICES)


@pytest.mark.parametrize(
    "field, value",
    [
        ("hidden", []),
        ("hidden", [128, 64, 32]),
        ("hidden", [100]),
        ("hidden", 128),
        ("hidden", [True]),
        ("lr", 0),
        ("lr", -0.1),
        ("lr", 11),
        ("lr", "0.1"),
        ("lr", None),
        ("lr", True),
        ("batch", 0),
        ("batch", 1025),
        ("batch", 32.0),
        ("epochs", 0),
        ("epochs", 51),
        ("epochs", True),
        ("augment", 1),
        ("augment", "yes"),
        ("seed", -1),
        ("seed", 2**32),
        ("seed", 1.5),
        ("limit", 0),
        ("limit", "all"),
    ],
)
def test_settings_refuse_bad_values_naming_the_field(field, value):
    with pytest.raises(ValueError, match=rf"^{field}\b|^lr \(the learning rate\)") as e:
        Settings.from_json(json.dumps({field: value}))
    assert field in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize(
    "text, words",
    [("{", "not valid JSON"), ("[1]", "JSON object"), ("null", "JSON object"), ('{"speed": 2}', "'speed'")],
)
def test_settings_refuse_bad_json(text, words):
    with pytest.raises(ValueError) as e:
        Settings.from_json(text)
    assert words.strip("'") in str(e.value)


# ------------------------------------------------------------------ the algorithm


def test_one_epoch_of_512_images_is_the_same_for_a_seed(mnist):
    def weights(seed):
        run = finish(Run(Settings(epochs=1, limit=512, seed=seed), *mnist))
        assert run.seen == 512 and run.epoch == 1 and len(run.losses) == run.batches_per_epoch
        return [np.array(p) for p in run.params]

    a, b, c = weights(0), weights(0), weights(1)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert not np.array_equal(a[0], c[0])


def test_float32_throughout(mnist):
    run = Run(Settings(hidden=(64, 32), limit=256), *mnist)
    run.step(2)
    assert {p.dtype for p in run.params + run.velocity + run.good} == {np.dtype(np.float32)}
    assert run.inputs(run.order[:8]).dtype == np.float32


def test_loss_falls_and_accuracy_rises(mnist):
    run = finish(Run(Settings(hidden=(64,), epochs=3, batch=32), *mnist))
    first, last = np.mean(run.losses[:20]), np.mean(run.losses[-20:])
    assert last < first / 3, (first, last)
    assert run.accuracy[0] > 0.8 and run.accuracy[-1] > run.accuracy[0], run.accuracy
    assert run.diverged is None and run.seen == 3 * 4000


def test_inputs_are_normalised_by_the_training_pixels(mnist):
    run = Run(Settings(limit=1000), *mnist)
    pixels = mnist[0][:1000] / 255
    assert run.mean == pytest.approx(pixels.mean(), rel=1e-9) and run.std == pytest.approx(
        pixels.std(), rel=1e-9
    )
    batch = np.arange(10)
    expected = (mnist[0][:10] / 255 - run.mean) / run.std
    np.testing.assert_allclose(run.inputs(batch), expected, atol=1e-5)


def test_step_stops_at_the_end_of_an_epoch_and_reads_the_whole_test_set(mnist):
    run = Run(Settings(epochs=2, batch=100, limit=250), *mnist)
    assert run.batches_per_epoch == 3
    assert run.step(10) == 3 and run.epoch == 1 and run.batch == 0 and len(run.accuracy) == 1
    reads = forward(run.weights, run.biases, run.inputs_of(mnist[2]))[-1].argmax(axis=1)
    assert run.accuracy[0] == float((reads == mnist[3]).mean())
    assert run.step(2) == 2 and run.batch == 2 and run.seen == 450
    assert run.step(10) == 1 and run.done and run.step(10) == 0


def test_divergence_stops_and_keeps_the_last_network_bitwise(mnist):
    run = Run(Settings(lr=10, hidden=(32,), limit=1000), *mnist)
    initial = [p.copy() for p in run.params]
    finish(run)
    assert run.done and run.epoch == 0 and run.diverged
    assert "learning rate 10 is too high" in run.diverged and "initial network is kept" in run.diverged
    assert all(np.array_equal(p, q) for p, q in zip(run.params, initial))
    # Diverging later: the network after the last finished epoch is kept, bit for bit.
    run = Run(Settings(lr=0.05, hidden=(32,), epochs=5, limit=1000), *mnist)
    run.step(10**6)
    after_one = [p.copy() for p in run.params]
    run.settings = Settings(lr=10, hidden=(32,), epochs=5, limit=1000)
    finish(run)
    assert run.epoch == 1 and "after epoch 1 is kept" in run.diverged
    assert all(np.array_equal(p, q) for p, q in zip(run.params, after_one))
    model = run.model()
    assert all(np.array_equal(w, p) for w, p in zip(model.weights + model.biases, after_one))
    assert model.meta["test_error"] == pytest.approx(1 - run.accuracy[0])


def test_model_round_trips_through_the_model_file(mnist, tmp_path, capsys):
    session = TrainSession()
    session.load_data(
        npz(train_images=mnist[0], train_labels=mnist[1], test_images=mnist[2], test_labels=mnist[3])
    )
    session.start('{"hidden": [32, 16], "epochs": 1, "limit": 2000}')
    while not json.loads(session.step(1000))["done"]:
        pass
    run = session.run
    data = session.model_bytes()
    model = load_model(data)
    assert model.sizes == [784, 32, 16, 10] and model.meta["name"] == "trained here"
    assert model.meta["settings"]["hidden"] == [32, 16] and model.meta["test_error"] == pytest.approx(
        1 - run.accuracy[0]
    )
    assert model.mean == run.mean and model.std == run.std
    images = mnist[2][:50].reshape(-1, 28, 28) / np.float32(255)
    ours = predict_proba(run.model(), images)
    np.testing.assert_array_equal(predict_proba(model, images), ours)
    np.testing.assert_allclose(
        ours.argmax(axis=1), forward(run.weights, run.biases, run.inputs_of(mnist[2][:50]))[-1].argmax(axis=1)
    )
    # ... and training.evaluate reads it
    path = tmp_path / "trained.npz"
    path.write_bytes(data)
    test_csv = tmp_path / "test.csv"
    from digitnet.csvfile import csv_text

    test_csv.write_text(csv_text(mnist[2][:200], mnist[3][:200]))
    assert (
        evaluate_main(["--model", str(path), "--test", str(test_csv), "--out-dir", str(tmp_path / "out")])
        == 0
    )
    assert "layers [784, 32, 16, 10]" in capsys.readouterr().out


def test_pictures_and_mistakes(mnist):
    run = Run(Settings(hidden=(32,), epochs=1, limit=1000), *mnist)
    run.step(5)
    pictures = run.pictures(64)
    assert pictures.shape == (32, 784) and pictures.dtype == np.float32
    np.testing.assert_allclose(np.abs(pictures).max(axis=1), 1, rtol=1e-6)
    w = run.weights[0]
    np.testing.assert_allclose(pictures[3], w[:, 3] / np.abs(w[:, 3]).max(), rtol=1e-6)
    assert run.pictures(8).shape == (8, 784)
    mistakes = run.mistakes(8)
    reads = forward(run.weights, run.biases, run.inputs_of(mnist[2]))[-1].argmax(axis=1)
    wrong = np.flatnonzero(reads != mnist[3])
    assert len(mistakes) == 8 and [i for i, _, _ in mistakes] == list(wrong[:8])
    assert all(label == mnist[3][i] and read == reads[i] and read != label for i, label, read in mistakes)


def test_shifted_moves_each_image_by_at_most_two_pixels():
    rng = np.random.default_rng(0)
    images = np.zeros((50, 28, 28), np.uint8)
    images[:, 10:18, 12:16] = 200
    out = shifted(images.reshape(50, 784), rng).reshape(50, 28, 28)
    assert out.dtype == np.uint8 and (out.sum(axis=(1, 2)) == images.sum(axis=(1, 2))).all()
    moves = set()
    for before, after in zip(images, out):
        (r0, c0), (r1, c1) = np.argwhere(before)[0], np.argwhere(after)[0]
        assert abs(r1 - r0) <= 2 and abs(c1 - c0) <= 2
        moves.add((r1 - r0, c1 - c0))
    assert len(moves) > 10


def test_augmented_runs_are_the_same_for_a_seed(mnist):
    a = finish(Run(Settings(epochs=1, limit=256, augment=True), *mnist))
    b = finish(Run(Settings(epochs=1, limit=256, augment=True), *mnist))
    c = finish(Run(Settings(epochs=1, limit=256), *mnist))
    assert np.array_equal(a.weights[0], b.weights[0]) and not np.array_equal(a.weights[0], c.weights[0])


def test_the_same_weights_as_pytorch(mnist):
    """An independent twin: PyTorch's SGD with momentum 0.9 (v = 0.9 v + g, p -= lr v: the same
    as ours for a constant lr) from the same initial weights, on the same normalised batches."""
    torch = pytest.importorskip("torch")
    settings = Settings(hidden=(32, 16), lr=0.1, batch=16, epochs=1, limit=128, seed=7)
    run = Run(settings, *mnist)
    steps = 6
    run.step(steps)
    # The same random numbers, drawn independently: the initial network, then the epoch's shuffle.
    rng = np.random.default_rng(settings.seed)
    weights, biases = init_params([784, 32, 16, 10], rng)
    order = rng.permutation(128)
    pixels = mnist[0][:128].astype(np.float64) / 255
    x_all = ((pixels - pixels.mean()) / pixels.std()).astype(np.float32)
    layers = [torch.nn.Linear(w.shape[0], w.shape[1]) for w in weights]
    with torch.no_grad():
        for layer, w, b in zip(layers, weights, biases):
            layer.weight.copy_(torch.from_numpy(w.T.copy()))
            layer.bias.copy_(torch.from_numpy(b))
    net = torch.nn.Sequential(layers[0], torch.nn.ReLU(), layers[1], torch.nn.ReLU(), layers[2])
    opt = torch.optim.SGD(net.parameters(), lr=settings.lr, momentum=MOMENTUM)
    losses = []
    for i in range(steps):
        batch = order[i * 16 : (i + 1) * 16]
        loss = torch.nn.functional.cross_entropy(
            net(torch.from_numpy(x_all[batch])), torch.from_numpy(mnist[1][batch].astype(np.int64))
        )
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    np.testing.assert_allclose(run.losses, losses, atol=1e-5)
    for layer, w, b in zip(layers, run.weights, run.biases):
        np.testing.assert_allclose(w, layer.weight.detach().numpy().T, atol=1e-5)
        np.testing.assert_allclose(b, layer.bias.detach().numpy(), atol=1e-5)


# ------------------------------------------------------------------ the worker's API


def test_session_steps_report_progress_once(data_bytes):
    session = TrainSession()
    loaded = json.loads(session.load_data(data_bytes))
    assert loaded == {"train": 4000, "test": 1000, "defaults": Settings().as_dict()}
    assert Settings.from_json(json.dumps(loaded["defaults"])) == Settings()
    started = json.loads(session.start('{"hidden": [16], "epochs": 2, "batch": 500}'))
    assert started["settings"]["hidden"] == [16] and started["settings"]["lr"] == Settings().lr
    assert started["batches_per_epoch"] == 8 and started["batches"] == 16
    losses, accuracy, reports = [], [], 0
    while True:
        out = json.loads(session.step(0))  # at least one batch a call
        reports += 1
        losses += out["losses"]
        accuracy = out["accuracy"]
        assert out["python_ms"] >= 0 and out["epochs"] == 2 and out["diverged"] is None
        if out["done"]:
            break
    # a call learns from one batch, or reads one chunk of an epoch's test reading (1000 images: 2 chunks,
    # the first read with the epoch's last batch), never the whole test set at once
    chunks = -(-1000 // EVAL_ROWS)
    assert (
        reports == 16 + 2 * (chunks - 1) and len(losses) == 16 and len(accuracy) == 2 and out["seen"] == 8000
    )
    assert json.loads(session.step(10))["losses"] == []
    assert session.pictures(64).shape == (16 * 784,)
    mistakes = json.loads(session.mistakes(5))
    images = session.mistake_images(5)
    assert len(mistakes) == 5 and images.shape == (5 * 784,) and images.dtype == np.uint8
    assert all(
        (images.reshape(5, 784)[k] == session.run.test_images[m["index"]]).all()
        for k, m in enumerate(mistakes)
    )
    assert all(m["label"] != m["read"] for m in mistakes)


def test_session_reports_divergence_in_plain_words(data_bytes):
    session = TrainSession()
    session.load_data(data_bytes)
    session.start('{"lr": 10, "limit": 1000}')
    out = json.loads(session.step(10_000))
    assert out["done"] and "learning rate 10" in out["diverged"]
    assert all(x is None or isinstance(x, float) for x in out["losses"])
    assert load_model(session.model_bytes()).sizes == [784, 128, 10]


def test_session_needs_data_and_a_run():
    session = TrainSession()
    with pytest.raises(RuntimeError, match="load_data"):
        session.start("{}")
    with pytest.raises(RuntimeError, match="start"):
        session.step(10)


def _with(good: dict, **changes) -> bytes:
    return npz(
        **{
            **{k: v for k, v in good.items() if k not in changes},
            **{k: v for k, v in changes.items() if v is not None},
        }
    )


@pytest.fixture(scope="module")
def small():
    rng = np.random.default_rng(0)
    return {
        "train_images": rng.integers(0, 256, (20, 784), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, 20, dtype=np.uint8),
        "test_images": rng.integers(0, 256, (5, 784), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, 5, dtype=np.uint8),
    }


@pytest.mark.parametrize(
    "changes, words",
    [
        ({"train_images": None}, "train_images: missing"),
        ({"test_labels": None}, "test_labels: missing"),
        ({"train_images": np.zeros((20, 783), np.uint8)}, "train_images: shape (20, 783)"),
        ({"train_images": np.zeros((20, 28, 28), np.uint8)}, "train_images: shape (20, 28, 28)"),
        ({"test_labels": np.zeros((5, 1), np.uint8)}, "test_labels: shape (5, 1)"),
        ({"train_images": np.zeros((0, 784), np.uint8)}, "train_images: shape (0, 784)"),
        ({"train_images": np.zeros((20, 784), np.float32)}, "train_images: dtype float32, uint8 expected"),
        ({"test_labels": np.zeros(5, np.int64)}, "test_labels: dtype int64, uint8 expected"),
        ({"train_labels": np.zeros(19, np.uint8)}, "train_labels: 19 labels for 20 images"),
        ({"test_labels": np.full(5, 10, np.uint8)}, "test_labels: holds 10, digits 0-9 expected"),
        ({"train_labels": np.array(["a"] * 20)}, "train_labels: dtype <U1, uint8 expected"),
    ],
)
def test_load_data_refuses_wrong_arrays(small, changes, words):
    session = TrainSession()
    with pytest.raises(ValueError) as e:
        session.load_data(_with(small, **changes))
    assert str(e.value).startswith("mnist.npz: ") and words in str(e.value), str(e.value)
    assert session.data is None


def test_load_data_refuses_damaged_bytes(small):
    good = npz(**small)
    assert read_data(good)["train_images"].shape == (20, 784)
    for data, words in [
        (good[: len(good) // 2], "not an .npz archive"),
        (b"not a zip at all", "not an .npz archive"),
        (
            npz(
                train_images=np.array([object()], dtype=object),
                **{k: v for k, v in small.items() if k != "train_images"},
            ),
            "train_images",
        ),
    ]:
        with pytest.raises(ValueError) as e:
            read_data(data)
        assert words in str(e.value), str(e.value)
    # An entry whose header declares more data than it holds (a truncated array).
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(buf, "w") as out:
        for info in src.infolist():
            raw = src.read(info)
            out.writestr(info.filename, raw[:-100] if info.filename == "test_images.npy" else raw)
    with pytest.raises(ValueError, match="test_images declares shape"):
        read_data(buf.getvalue())
