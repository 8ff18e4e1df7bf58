"""bench.number_bench's goals and its report on the terminal: the table per spacing, single
digits, not-a-digit, the thick pen and the time of a five-digit number."""

from __future__ import annotations

from bench import common

GOALS = {"apart": 0.97, "close": 0.93, "touching": 0.75}  # share read exactly (issue #23)
LENGTHS = (2, 3, 4, 5)  # digits per number, a quarter each
NEGATIVES_SEED = 12345  # training.evaluate's: a seed training never uses
REJECT_GOAL = 0.001  # not-a-digit acceptance within 0.1 point of predict_drawing's
PAGE_MS = 15.0  # the page's goal for a five-digit number, Python in the worker (Pyodide)
PYODIDE_RATIO = (3, 4)  # Pyodide / CPython for this code, roughly


def pct(x: float | None) -> str:
    return common.fmt(x, ".1f", "%", 0.01)


def goals(rows: list[dict], single: dict | None, rejection: dict | None, five: float | None) -> list[dict]:
    """Every goal of issue #23 this bench measures, as bench.report_sections.goals_table reads
    them: the figure, the limit, whether it is met."""
    out = [
        {
            "goal": f"{r['spacing']}: numbers read exactly",
            "value": r["exact"],
            "op": ">=",
            "limit": r["goal"],
            "unit": "share",
            "met": r["met"],
        }
        for r in rows
    ]
    if single:
        out.append(
            {
                "goal": "single digits: verdicts unlike predict_drawing's",
                "value": single["differ"],
                "op": "<=",
                "limit": 0,
                "unit": "count",
                "met": single["met"],
            }
        )
    if rejection:
        out.append(
            {
                "goal": "not a digit: more accepted as digits than by predict_drawing",
                "value": 100 * (rejection["accepted_read_number"] - rejection["accepted_predict_drawing"]),
                "op": "<=",
                "limit": 100 * REJECT_GOAL,
                "unit": "points",
                "met": rejection["met"],
            }
        )
    if five is not None:
        ratio = sum(PYODIDE_RATIO) / 2
        estimate = five * ratio
        out.append(
            {
                "goal": f"five-digit number apart, settled: CPython p95 x {ratio:g} (Pyodide)",
                "value": estimate,
                "op": "<=",
                "limit": PAGE_MS,
                "unit": "ms",
                "met": estimate <= PAGE_MS,
            }
        )
    return out


def print_report(
    rows: list[dict], single: dict | None, rejection: dict | None, live: dict, thick: dict | None = None
) -> None:
    head = [
        "spacing",
        "gap (H)",
        "read exactly",
        "goal",
        "",
        "digits alone",
        *(f"{k} digits" for k in LENGTHS),
        "ms p50",
        "ms p95",
        "5 digits: ms p95",
        "reads",
    ]
    body = [
        [
            r["spacing"],
            (
                f"-({r['gap'][0]:g}-{r['gap'][1]:g})"
                if r["spacing"] == "touching"
                else f"{r['gap'][0]:g}-{r['gap'][1]:g}"
            ),
            pct(r["exact"]),
            f">= {100 * r['goal']:.0f}%",
            "met" if r["met"] else "NOT MET",
            pct(r["digits_alone"]),
            *(pct(r["exact_by_length"].get(str(k))) for k in LENGTHS),
            common.fmt(r["ms_p50"], ".1f"),
            common.fmt(r["ms_p95"], ".1f"),
            common.fmt(r["five_ms_p95"], ".1f"),
            common.fmt(r["reads_mean"], ".1f"),
        ]
        for r in rows
    ]
    print(common.format_table(head, body))
    print(
        "(digits alone: each digit drawn by itself where it is, read by predict_drawing: all right; what "
        "perfect cuts would give. reads: images the network read per number)"
    )
    if single:
        print(
            f"\nsingle digits ({single['n']} drawn the same way): error "
            f"{pct(single['error_read_number'])} by read_number, "
            f"{pct(single['error_predict_drawing'])} by predict_drawing; {single['differ']} verdicts "
            f"differ ({'met' if single['met'] else 'NOT MET'}); {single['offered_thinner_pen']} offered a "
            "thinner pen"
        )
    if thick:
        print(
            f"\nfive-digit numbers with the page's first pen ({thick['n']}, pen {thick['pen']} of the pad's "
            f"height, as on a phone held upright): {pct(thick['exact'])} read exactly; "
            f"{pct(thick['offered'])} offered a thinner pen; {pct(thick['exact_with_offer'])} read exactly "
            "with the offer taken"
        )
    if rejection:
        print(
            f"\nnot a digit ({rejection['per_kind']} drawings of each kind, pen unknown): "
            "accepted as digits by"
        )
        table = [
            [
                kind + (" (a number now: left out)" if kind == "two_digits" else ""),
                pct(r["accepted_predict_drawing"]),
                pct(r["accepted_read_number"]),
            ]
            for kind, r in rejection["kinds"].items()
        ]
        table.append(
            [
                "all but two_digits",
                pct(rejection["accepted_predict_drawing"]),
                pct(rejection["accepted_read_number"]),
            ]
        )
        print(common.format_table(["kind", "predict_drawing", "read_number"], table))
        print(f"within {100 * REJECT_GOAL:.1f} point: {'met' if rejection['met'] else 'NOT MET'}")
    five = live.get("settled_p95")
    if five is not None:
        low, high = (five * r for r in PYODIDE_RATIO)
        print(
            f"\nfive-digit number, apart: p95 {five:.1f} ms of CPython settled (nine views), "
            f"{common.fmt(live.get('live_p95'), '.1f', ' ms')} live (one view, the pen down); Pyodide "
            f"runs this ~{PYODIDE_RATIO[0]}-{PYODIDE_RATIO[1]}x slower: {low:.0f}-{high:.0f} ms settled "
            f"against the page's goal of {PAGE_MS:g} ms"
        )
