"""Argparse value types shared by the command lines: each refuses a bad value while the arguments
are parsed, so a run never starts work it cannot finish. A refusal names the value and the reason;
argparse adds the flag and exits with status 2.

    p.add_argument("--epochs", type=whole_number(at_least=1))
    p.add_argument("--lr", type=number(0, 100, low_open=True))
    p.add_argument("--out-dir", type=output_dir)

The checks behind the path types (``file_problem``, ``dir_problem``) are plain functions too, for
paths that can only be judged after parsing.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable
from pathlib import Path


def whole_number(at_least: int = 0, at_most: int | None = None) -> Callable[[str], int]:
    """A type accepting a whole number (no fraction, no exponent) from ``at_least`` to ``at_most``
    (both included; no upper end when None)."""

    def check(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < at_least or (at_most is not None and value > at_most):
            span = f"from {at_least} to {at_most}" if at_most is not None else f">= {at_least}"
            raise argparse.ArgumentTypeError(f"must be a whole number {span}, got {text}")
        return value

    check.__name__ = "whole number"
    return check


def number(
    low: float = -math.inf, high: float = math.inf, *, low_open: bool = False, high_open: bool = True
) -> Callable[[str], float]:
    """A type accepting a finite number (never nan or inf) between ``low`` and ``high``: each end
    included unless open; by default [low, high), so ``number(0)`` is any finite number >= 0."""

    def check(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        too_low = value <= low if low_open else value < low
        too_high = value >= high if high_open else value > high
        if not math.isfinite(value) or too_low or too_high:
            ends = ("(" if low_open else "[") + f"{low:g}, {high:g}" + (")" if high_open else "]")
            raise argparse.ArgumentTypeError(f"must be a finite number in {ends}, got {text}")
        return value

    check.__name__ = "number"
    return check


def _nearest_existing(path: Path) -> Path:
    """``path`` itself or the closest of its parents that exists (the working directory at worst)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path.cwd()


def _dir_reason(path: Path) -> str | None:
    """Why ``path`` cannot be an output folder, as words after its name (None if it can)."""
    if path.is_dir():
        return None if os.access(path, os.W_OK) else "is not writable"
    if path.exists():
        return "is a file"
    base = _nearest_existing(path.absolute())
    if not base.is_dir():
        return f"cannot be made, {base} is a file"
    if not os.access(base, os.W_OK):
        return f"cannot be made, {base} is not writable"
    return None


def dir_problem(path: Path) -> str | None:
    """Why ``path`` cannot be used as an output folder (None if it can): it is a file, or it is
    missing and cannot be made because a parent is a file or is not writable."""
    reason = _dir_reason(path)
    if reason == "is a file":
        reason += ", a folder is needed"
    return None if reason is None else f"{path}: {reason}"


def file_problem(path: Path, suffix: str | None = None, make_parent: bool = False) -> str | None:
    """Why ``path`` cannot be written as an output file (None if it can): it is a folder, it does not
    end in ``suffix``, or its folder is missing (``make_parent``: missing and cannot be made)."""
    if suffix is not None and path.suffix != suffix:
        return f"{path}: the file name must end in {suffix}"
    if path.is_dir():
        return f"{path}: is a folder, a file name is needed"
    if make_parent:
        reason = _dir_reason(path.parent)
        return None if reason is None else f"{path}: its folder {path.parent} {reason}"
    if not path.parent.is_dir():
        return f"{path}: the folder {path.parent} does not exist"
    return None


def _nonempty_path(text: str) -> Path:
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path")
    return Path(text)


def output_dir(text: str) -> Path:
    """A type accepting a folder to write into: one that exists, or one that can be made (no parent
    of it is a file, the nearest existing one is writable). Refuses an existing file."""
    path = _nonempty_path(text)
    problem = dir_problem(path)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return path


def output_file(suffix: str | None = None, make_parent: bool = False) -> Callable[[str], Path]:
    """A type accepting a file to write: not a folder, ending in ``suffix`` if given, in a folder
    that exists (``make_parent``: or that can be made, for a caller that makes it)."""

    def check(text: str) -> Path:
        path = _nonempty_path(text)
        problem = file_problem(path, suffix, make_parent)
        if problem:
            raise argparse.ArgumentTypeError(problem)
        return path

    check.__name__ = "file name"
    return check
