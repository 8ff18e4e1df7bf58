"""Offline side: data, backpropagation, SGD, the CLI, evaluation, plots.

The forward pass, softmax and model file live in ``py/`` (they also run in the
browser); this package puts ``py/`` on the import path so both sides share them.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_PY = str(ROOT / "py")
if _PY not in sys.path:
    sys.path.insert(0, _PY)
