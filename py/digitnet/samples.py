"""Digits as pen strokes: the page's "Draw a sample digit" button and the offline tests' drawings.

A stroke is a list of (x, y) points in pad heights (x right, y down, both in [0, 1]: a square
pad's), as the page's pad keeps them; the page puts a sample in the middle of a wider pad.
``DIGITS`` holds one drawing of each digit (``training.strokes`` renders, moves and varies them
for training and tests); ``for_page`` is what the worker sends the page in its info message
(``digitnet.browser.describe``), so the page's samples are these very strokes.
"""

from __future__ import annotations

import numpy as np

Stroke = list[tuple[float, float]]


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, stop: float, n: int = 40) -> Stroke:
    t = np.linspace(np.deg2rad(start), np.deg2rad(stop), n)
    return [(cx + rx * np.cos(a), cy + ry * np.sin(a)) for a in t]


DIGITS: dict[int, list[Stroke]] = {
    0: [_arc(0.5, 0.5, 0.22, 0.32, -90, 270)],
    1: [[(0.5, 0.18), (0.5, 0.82)]],
    2: [_arc(0.5, 0.35, 0.2, 0.17, 200, 380, 30) + [(0.3, 0.8), (0.72, 0.8)]],
    3: [_arc(0.48, 0.34, 0.2, 0.16, 210, 450, 30) + _arc(0.48, 0.66, 0.22, 0.16, 270, 510, 30)[1:]],
    4: [[(0.6, 0.18), (0.3, 0.6), (0.75, 0.6)], [(0.6, 0.35), (0.6, 0.85)]],
    5: [[(0.7, 0.2), (0.35, 0.2), (0.33, 0.46)] + _arc(0.5, 0.62, 0.2, 0.18, 220, 490, 30)[1:]],
    6: [[(0.62, 0.18), (0.38, 0.5)] + _arc(0.5, 0.66, 0.17, 0.17, 200, 560, 40)],
    7: [[(0.28, 0.2), (0.72, 0.2), (0.42, 0.85)]],
    8: [_arc(0.5, 0.33, 0.15, 0.14, 90, 450, 40), _arc(0.5, 0.66, 0.19, 0.18, -90, 270, 40)],
    9: [_arc(0.5, 0.35, 0.17, 0.16, 0, 360, 40) + [(0.67, 0.35), (0.62, 0.85)]],
}

#: The order the page's button draws them in (each press the next, then round again).
ORDER = (2, 7, 3, 5, 8, 4, 0, 6, 9, 1)
DECIMALS = 4  # points sent to the page: 1e-4 of the pad, well under a pixel of any screen


def for_page() -> list[dict]:
    """The samples as the page gets them: ``[{"digit": d, "strokes": [[[x, y], ...], ...]}]`` in
    ``ORDER``, points as plain floats rounded to ``DECIMALS`` places (JSON-ready)."""
    return [
        {
            "digit": d,
            "strokes": [
                [[round(float(x), DECIMALS), round(float(y), DECIMALS)] for x, y in s] for s in DIGITS[d]
            ],
        }
        for d in ORDER
    ]
