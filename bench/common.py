"""Small helpers shared by the benchmarks: a plain-text table and the JSON results file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence


def format_table(head: Sequence[str], body: Sequence[Sequence[Any]]) -> str:
    """Plain-text table: the first column left-aligned, the others right-aligned, a rule under the header."""
    rows = [[str(c) for c in head], *([str(c) for c in row] for row in body)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return "\n".join([line(rows[0]), "  ".join("-" * w for w in widths), *(line(r) for r in rows[1:])])


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as indented JSON, creating the directory (bench/results/ is git-ignored)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))
