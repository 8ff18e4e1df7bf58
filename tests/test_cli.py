"""Every command-line value of training.train and training.evaluate is checked before work starts:
a bad one ends the run with status 2 and a one-line message naming it, never a traceback."""

from __future__ import annotations

import argparse
import contextlib
import io
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from synthetic_data import synthetic, write_csv

from digitnet.modelfile import save_model
from tools.cli import number, output_dir, output_file, whole_number
from tools.paths import ROOT
from training.config import TrainConfig
from training.evaluate import main as evaluate_main
from training.negatives import KINDS
from training.train import main as train_main
from training.train import train

TRAIN_ROWS = 40
DIGITS_ONLY = ["--negatives", "0", "--drawn", "0", "--inked", "0", "--elastic", "0"]
PROPERTY = settings(max_examples=20, deadline=None, database=None)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Tiny inputs, and the kinds of path a flag may wrongly be given, by name."""
    d = tmp_path_factory.mktemp("cli")
    model = d / "model.npz"
    save_model(
        model,
        train(TrainConfig(layers=[784, 4, 10], epochs=1, augment=False), synthetic(60, 3), progress=False)[0],
    )
    (d / "folder").mkdir()
    (d / "empty.csv").write_text("")
    (d / "header.csv").write_text("label," + ",".join(f"p{i}" for i in range(784)) + "\n")
    (d / "junk").write_bytes(b"\x00\x01not data")
    (d / "a_file").write_text("a file, not a folder")
    return {
        "dir": d,
        "train": write_csv(d / "train.csv", synthetic(TRAIN_ROWS, 1)),
        "test": write_csv(d / "test.csv", synthetic(20, 2)),
        "model": model,
    }


def run(main, argv: list[str]) -> tuple[int, str]:
    """``main(argv)`` in this process: its exit status and what it wrote on stderr (an exception
    other than SystemExit escapes, as it would end the real command in a traceback)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as e:
            code = e.code
    return code, err.getvalue()


def train_base(files) -> list[str]:
    """Flags of a quick run on the tiny data; a flag under test given after them wins."""
    return [
        "--train",
        str(files["train"]),
        "--test",
        str(files["test"]),
        "--layers",
        "784",
        "4",
        "10",
        "--epochs",
        "1",
        "--out",
        str(files["dir"] / "m.npz"),
        "--quiet",
        *DIGITS_ONLY,
    ]


def evaluate_base(files) -> list[str]:
    return [
        "--model",
        str(files["model"]),
        "--test",
        str(files["test"]),
        "--out-dir",
        str(files["dir"] / "ev"),
    ]


def assert_refused(code: int, err: str, *named: str) -> None:
    """Status 2, no traceback, and the message names one of ``named`` (the flag or the value)."""
    assert code == 2, err
    assert "Traceback" not in err
    assert any(name in err for name in named), err


# ------------------------------------------------------------------ the real commands


def command(module: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def assert_one_line_refusal(proc: subprocess.CompletedProcess, flag: str) -> None:
    """Status 2, no traceback, and exactly one error line on stderr, naming ``flag``."""
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and flag in errors[0], proc.stderr


def test_evaluate_refuses_negative_negatives(files):
    proc = command("training.evaluate", *evaluate_base(files), "--negatives", "-1")
    assert_one_line_refusal(proc, "--negatives")
    assert "-1" in proc.stderr


def test_evaluate_refuses_a_negative_seed(files):
    proc = command("training.evaluate", *evaluate_base(files), "--negatives", "5", "--seed", "-1")
    assert_one_line_refusal(proc, "--seed")


def test_evaluate_refuses_a_file_as_out_dir(files):
    proc = command("training.evaluate", *evaluate_base(files), "--out-dir", str(files["dir"] / "a_file"))
    assert_one_line_refusal(proc, "--out-dir")
    assert "a_file" in proc.stderr


def test_train_refuses_a_validation_share_that_leaves_nothing_to_train_on(files):
    proc = command("training.train", *train_base(files), "--validation", "0.9999")
    assert_one_line_refusal(proc, "--validation")
    assert "0.9999" in proc.stderr and f"{TRAIN_ROWS}" in proc.stderr
    assert not (files["dir"] / "m.npz").exists()


# ------------------------------------------------------------------ the value types


def refuses(kind, text: str) -> bool:
    try:
        kind(text)
    except argparse.ArgumentTypeError:
        return True
    return False


def test_whole_number_bounds():
    assert whole_number(1)("1") == 1 and refuses(whole_number(1), "0")
    assert whole_number(0, 3)("3") == 3 and refuses(whole_number(0, 3), "4")
    assert all(refuses(whole_number(), text) for text in ("1.5", "1e3", "", "ten", "0x10"))


def test_number_ends_open_and_closed():
    assert number(0, 1)("0") == 0 and refuses(number(0, 1), "1")
    assert number(0, 1, high_open=False)("1") == 1
    assert refuses(number(0, 1, low_open=True), "0")
    assert all(refuses(number(), text) for text in ("nan", "inf", "-inf", "1e999", "x", ""))


def test_output_paths(files):
    d = files["dir"]
    assert output_dir(str(d / "new" / "deeper")) == d / "new" / "deeper"
    assert refuses(output_dir, str(d / "a_file")) and refuses(output_dir, str(d / "a_file" / "below"))
    assert output_file(".json", make_parent=True)(str(d / "new" / "f.json")) == d / "new" / "f.json"
    assert refuses(output_file(), str(d / "missing" / "f.json"))
    assert refuses(output_file(".npz"), str(d / "m.bin")) and refuses(output_file(), str(d / "folder"))


# ------------------------------------------------------------------ every flag, any bad value

ARGV_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)


def _parses(kind, text: str) -> bool:
    try:
        kind(text)
    except ValueError:
        return False
    return True


def not_whole(at_least: int):
    """Text that is not a whole number >= at_least."""
    return st.one_of(
        st.integers(max_value=at_least - 1).map(str),
        st.sampled_from(["", "1.5", "2.0", "1e3", "ten", "0x10", "nan"]),
        ARGV_TEXT.filter(lambda t: not _parses(int, t)),
    )


def not_within(low: float, high: float, low_open: bool = False, high_open: bool = True):
    """Text that is not a finite number in the range (its ends open or closed as given)."""
    below = st.floats(max_value=low).filter(lambda v: v <= low if low_open else v < low)
    above = st.floats(min_value=high).filter(lambda v: v >= high if high_open else v > high)
    return st.one_of(
        below.map(repr),
        above.map(repr),
        st.sampled_from(["nan", "inf", "-inf", "1e999", ""]),
        ARGV_TEXT.filter(lambda t: not _parses(float, t)),
    )


def not_one_of(choices):
    return ARGV_TEXT.filter(lambda t: t not in choices)


def valued(flag: str, values) -> st.SearchStrategy[list[str]]:
    """``--flag=value``: the value is taken as it is, even if it starts with '-'."""
    return values.map(lambda v: [f"{flag}={v}"])


def path_named(flag: str, *names: str):
    """``--flag <path>`` for paths of the kinds in the module's folder (see ``files``); '' as is."""
    return st.sampled_from(names).map(lambda name: (flag, name))


LEAVES_NONE = st.one_of(
    st.floats(min_value=1 - 0.49 / TRAIN_ROWS, max_value=1, exclude_max=True),
    st.floats(min_value=0, max_value=0.49 / TRAIN_ROWS, exclude_min=True),
)
BAD_LAYERS = st.one_of(  # sizes that are not 784, ..., 10 (the base run's --negatives 0), or not sizes
    st.lists(st.integers(min_value=1, max_value=1000), max_size=4)
    .filter(lambda sizes: not (len(sizes) >= 2 and sizes[0] == 784 and sizes[-1] == 10))
    .map(lambda sizes: list(map(str, sizes))),
    st.tuples(not_whole(1).filter(lambda t: not t.startswith("-") or _parses(int, t)), st.integers(0, 2)).map(
        lambda bad: ["784", "8", "10"][: bad[1]] + [bad[0]] + ["10"]
    ),
)

EVERY_KIND_HELD_OUT = ["--negatives", "5", "--layers", "784", "4", "11", "--hold-out", *KINDS]

TRAIN_FLAGS = {
    "--epochs": valued("--epochs", not_whole(1)),
    "--batch-size": valued("--batch-size", not_whole(1)),
    "--lr": valued("--lr", not_within(0, 100, low_open=True)),
    "--momentum": valued("--momentum", not_within(0, 1)),
    "--weight-decay": valued("--weight-decay", not_within(0, 1)),
    "--schedule": valued("--schedule", not_one_of(["constant", "cosine", "step"])),
    "--no-augment": valued("--no-augment", ARGV_TEXT.filter(bool)),
    "--elastic": valued("--elastic", not_within(0, 5)),
    "--negatives": valued("--negatives", not_whole(0)),
    "--hold-out": st.one_of(
        not_one_of(KINDS).map(lambda kind: ["--hold-out", "letters", kind]), st.just(EVERY_KIND_HELD_OUT)
    ),
    "--drawn": valued("--drawn", not_within(0, 1, high_open=False)),
    "--inked": valued("--inked", not_within(0, 1, high_open=False)),
    "--store": valued("--store", not_one_of(["float16", "float32"])),
    "--validation": valued("--validation", st.one_of(not_within(0, 1), LEAVES_NONE.map(repr))),
    "--patience": valued("--patience", not_whole(0)),
    "--seed": valued("--seed", not_whole(0)),
    "--layers": BAD_LAYERS.map(lambda sizes: ["--layers", *sizes]),
    "--quiet": valued("--quiet", ARGV_TEXT.filter(bool)),
    "--train": path_named("--train", "missing.csv", "folder", "empty.csv", "header.csv", "junk", ""),
    "--test": path_named("--test", "missing.csv", "folder", "empty.csv", "header.csv", "junk", ""),
    "--extra": path_named("--extra", "missing.csv", "folder", "empty.csv", "header.csv", "junk", ""),
    "--out": path_named("--out", "m.bin", "folder", "missing/m.npz", "a_file/m.npz", ""),
    "--log": path_named("--log", "folder", "missing/log.csv", "a_file/log.csv", ""),
    "--plot": path_named("--plot", "folder", "missing/plot.png", "a_file/plot.png", ""),
}

EVALUATE_FLAGS = {
    "--negatives": valued("--negatives", not_whole(0)),
    "--seed": valued("--seed", not_whole(0)),
    "--model": path_named("--model", "missing.npz", "folder", "empty.csv", "junk", ""),
    "--test": path_named("--test", "missing.csv", "folder", "empty.csv", "header.csv", "junk", ""),
    "--out-dir": path_named("--out-dir", "a_file", "a_file/below", ""),
    "--json": path_named("--json", "folder", "a_file/f.json", ""),
}


def as_argv(files, bad) -> list[str]:
    """A strategy's draw as arguments: a (flag, path name) pair becomes the flag and that path."""
    if isinstance(bad, tuple):
        flag, name = bad
        return [flag, str(files["dir"] / name) if name else ""]
    return bad


def test_every_flag_is_covered():
    from training.cli_train import build_parser as train_parser
    from training.evaluate import build_parser as evaluate_parser

    def flags(parser):
        return {s for a in parser._actions for s in a.option_strings if s.startswith("--") and s != "--help"}

    assert flags(train_parser()) == set(TRAIN_FLAGS)
    assert flags(evaluate_parser()) == set(EVALUATE_FLAGS)


@pytest.mark.parametrize("flag", sorted(TRAIN_FLAGS))
@PROPERTY
@given(data=st.data())
def test_train_refuses_any_bad_value(flag, files, data):
    bad = as_argv(files, data.draw(TRAIN_FLAGS[flag], label=flag))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("training.train.train", lambda *a, **k: pytest.fail(f"trained with {bad}"))
        code, err = run(train_main, train_base(files) + bad)
    assert_refused(code, err, flag, *bad[1:])


@pytest.mark.parametrize("flag", sorted(EVALUATE_FLAGS))
@PROPERTY
@given(data=st.data())
def test_evaluate_refuses_any_bad_value(flag, files, data):
    bad = as_argv(files, data.draw(EVALUATE_FLAGS[flag], label=flag))
    code, err = run(evaluate_main, evaluate_base(files) + bad)
    assert_refused(code, err, flag, *bad[1:])


def test_evaluate_with_fewer_negatives_than_glyph_rounds(files, tmp_path, monkeypatch):
    """--negatives 1 (less than one of each symbol and pictogram) still draws each glyph once
    (drawing them is slow, so a stand-in records how many it was asked for)."""
    asked = []

    def glyphs(model, chars, per_char, seed):
        asked.append(per_char)
        return {char: 0.0 for char in chars}

    per_kind = {kind: {"n": 1, "rejected": 0.0, "held_out": False} for kind in KINDS}
    monkeypatch.setattr("training.evaluate.evaluate_glyphs", glyphs)
    monkeypatch.setattr("training.evaluate.evaluate_negatives", lambda *args: per_kind)
    model = tmp_path / "rejects.npz"
    save_model(
        model,
        train(TrainConfig(layers=[784, 4, 11], epochs=1, augment=False), synthetic(60, 3), progress=False)[0],
    )
    code, err = run(
        evaluate_main,
        [
            "--model",
            str(model),
            "--test",
            str(files["test"]),
            "--out-dir",
            str(tmp_path / "ev"),
            "--negatives",
            "1",
        ],
    )
    assert code == 0, err
    assert asked == [1, 1]
