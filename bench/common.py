"""Small helpers shared by the benchmarks: the machine, medians and ratios, a plain-text table and the
JSON results file."""

from __future__ import annotations

import json
import os
import platform
import statistics
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np


def format_table(head: Sequence[str], body: Sequence[Sequence[Any]]) -> str:
    """Plain-text table: the first column left-aligned, the others right-aligned, a rule under the header."""
    rows = [[str(c) for c in head], *([str(c) for c in row] for row in body)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]

    def line(cells: Sequence[str]) -> str:
        cells = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))]
        return "  ".join(cells).rstrip()

    return "\n".join([line(rows[0]), "  ".join("-" * w for w in widths), *(line(r) for r in rows[1:])])


def median(values: Sequence[float | None]) -> float | None:
    """The median of the values that are not None; None when there are none."""
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def ratio(a: float | None, b: float | None) -> float | None:
    """a / b, or None when either is missing (or b is 0): how the benches compare side by side."""
    return a / b if a is not None and b else None


def fmt(x: float | None, spec: str, suffix: str = "", scale: float = 1.0) -> str:
    """A table cell: x / scale formatted by spec, plus suffix; a dash when x is missing."""
    return "—" if x is None else f"{x / scale:{spec}}{suffix}"


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as indented JSON, creating the directory (bench/results/ is git-ignored).

    A dict also gets when it was written (``run_at``, UTC) and, if it has none, the machine
    (``machine_info``): ``python -m bench.report`` shows both beside each benchmark's figures."""
    if isinstance(data, dict):
        data = {"run_at": datetime.now(UTC).isoformat(timespec="seconds"), **data}
        data.setdefault("machine", machine_info())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))


def machine_info() -> dict[str, Any]:
    """Cores, CPU model, library versions -- without importing torch in this process."""
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    try:
        blas = np.__config__.CONFIG["Build Dependencies"]["blas"]
        blas = f"{blas.get('name')} {blas.get('version', '')}".strip()
    except Exception:
        blas = "?"
    try:
        torch_version = metadata.version("torch")
    except metadata.PackageNotFoundError:
        torch_version = None
    return {
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "cpu": cpu,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numpy_blas": blas,
        "torch": torch_version,
        "platform": platform.platform(),
        "load_average_1min_at_start": round(os.getloadavg()[0], 2),
    }
