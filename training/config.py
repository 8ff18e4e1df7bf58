"""The hyperparameters of training, declared once, each with its command-line flag.

``TrainConfig``'s defaults train the model the page ships. Each field's metadata holds its flag's
help, type and choices, so ``python -m training.train`` builds one flag per field
(``add_config_flags``) and reads them back (``config_from_args``): a new hyperparameter is one
new field, and the help can never disagree with the default.
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass, field
from typing import Any

from digitnet.sizes import CLASSES, PIXELS
from tools.cli import number, whole_number
from training.negatives import HELD_OUT, KINDS

# Declared once: the CLI's flags are built from these fields (help, type, choices in metadata).


def _flag(help: str, **argparse_kwargs: Any) -> dict:
    return {"help": help, **argparse_kwargs}


@dataclass
class TrainConfig:
    """Hyperparameters. The defaults train the model the page ships."""

    layers: list[int] = field(
        default_factory=lambda: [PIXELS, 512, 128, CLASSES + 1],
        metadata=_flag(
            f"layer sizes from input to output: {PIXELS}, any hidden sizes (ReLU), then {CLASSES + 1} "
            f"(digits and 'not a digit', with --negatives) or {CLASSES} (digits only, --negatives 0)",
            type=whole_number(1),
            nargs="+",
        ),
    )
    epochs: int = field(default=90, metadata=_flag("passes over the training set", type=whole_number(1)))
    batch_size: int = field(default=64, metadata=_flag("examples per gradient step", type=whole_number(1)))
    lr: float = field(
        default=0.02,
        metadata=_flag(
            "learning rate (gradients are averaged over the batch)", type=number(0, 100, low_open=True)
        ),
    )
    momentum: float = field(default=0.9, metadata=_flag("SGD momentum (0 for plain SGD)", type=number(0, 1)))
    weight_decay: float = field(
        default=1e-5, metadata=_flag("L2 penalty on weights (not biases)", type=number(0, 1))
    )
    schedule: str = field(
        default="cosine",
        metadata=_flag(
            "learning-rate schedule: constant; cosine decay to 0; step (/10 at 50%% and 75%%)",
            choices=["constant", "cosine", "step"],
        ),
    )
    augment: bool = field(
        default=True,
        metadata=_flag(
            "train on MNIST as it is, without random shifts, rotations, scaling and stroke changes"
        ),
    )
    elastic: float = field(
        default=0.75,
        metadata=_flag(
            "elastic distortion (Simard 2003) with augmentation: RMS displacement in pixels (0: off)",
            type=number(0, 5),
        ),
    )
    negatives: int = field(
        default=20000,
        metadata=_flag(
            "drawings that are not digits (letters, shapes, scribbles, two digits...: training/negatives.py) "
            "added to training as an 11th class (0: a digits-only model)",
            type=whole_number(0),
        ),
    )
    hold_out: list[str] = field(
        default_factory=lambda: list(HELD_OUT),
        metadata=_flag(
            "kinds of not-a-digit drawing kept out of training, to measure how rejection generalises to "
            "kinds it never saw (training/negatives.py; the model file records them for evaluate)",
            nargs="*",
            choices=KINDS,
            metavar="KIND",
        ),
    )
    drawn: float = field(
        default=0.5,
        metadata=_flag(
            "fraction of the training digits added again as drawn with a round pen (training/drawn.py)",
            type=number(0, 1, high_open=False),
        ),
    )
    inked: float = field(
        default=1.0,
        metadata=_flag(
            "fraction of the training digits added again as their own ink upscaled on the pad, at any "
            "size and place, thicker or thinner, read back by the page's preprocessing (training/drawn.py)",
            type=number(0, 1, high_open=False),
        ),
    )
    store: str = field(
        default="float16",
        metadata=_flag(
            "how the model file stores the weights (float16 halves the file; CPython and the page "
            "compute with the same rounded weights)",
            choices=["float16", "float32"],
        ),
    )
    validation: float = field(
        default=0.0,
        metadata=_flag(
            "fraction of the training set held out for validation (keeps the best epoch)", type=number(0, 1)
        ),
    )
    patience: int = field(
        default=0,
        metadata=_flag(
            "stop after this many epochs without validation improvement (0: never; needs --validation)",
            type=whole_number(0),
        ),
    )
    seed: int = field(default=0, metadata=_flag("random seed: same seed, same weights", type=whole_number(0)))


_DEFAULT_CONFIG = TrainConfig()


def add_config_flags(parser: argparse.ArgumentParser, defaults: TrainConfig = _DEFAULT_CONFIG) -> None:
    """One flag per TrainConfig field: --batch-size for batch_size; a True bool becomes --no-<name>."""
    for f in dataclasses.fields(TrainConfig):
        meta, default = dict(f.metadata), getattr(defaults, f.name)
        flag = "--" + f.name.replace("_", "-")
        if isinstance(default, bool):
            parser.add_argument(
                f"--no-{f.name}" if default else flag,
                dest=f.name,
                action="store_false" if default else "store_true",
                help=meta["help"],
            )
        else:
            parser.add_argument(flag, default=default, **meta)


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    return TrainConfig(**{f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)})
