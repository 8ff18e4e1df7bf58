"""How the figures of the page's two newest features read on the results page: whole numbers
(``bench.number_bench``) and training in the page (``bench.train_page_bench``), built from
``bench.report_sections``' cells like the other renderers."""

from __future__ import annotations

import json

from bench.report_sections import Plot, goals_table, num, pct, table


def number_section(d: dict) -> tuple[list[str], list[Plot]]:
    def show(v: float | None, unit: str) -> str:
        if v is None:
            return "—"
        return {
            "share": pct(v, 1),
            "count": f"{v:g}",
            "points": f"{v:+.2f} points",
            "ms": f"{v:.1f} ms",
        }.get(unit, f"{v:g}")

    rows = d.get("rows") or []
    lengths = sorted({k for r in rows for k in (r.get("exact_by_length") or {})}, key=int)
    body = [
        [
            r.get("spacing"),
            "–".join(f"{g:g}" for g in r.get("gap") or [])
            + (" past touching" if r.get("spacing") == "touching" else ""),
            pct(r.get("exact"), 1),
            pct(r.get("digits_alone"), 1),
            *(pct((r.get("exact_by_length") or {}).get(k), 1) for k in lengths),
            num(r.get("ms_p50"), ".1f", " ms"),
            num(r.get("ms_p95"), ".1f", " ms"),
            num(r.get("reads_mean"), ".1f"),
        ]
        for r in rows
    ]
    sizes = d.get("sizes") or {}
    lines = [
        f"{sizes.get('n', '—')} numbers of 2 to 5 MNIST test digits for each spacing, drawn with the page's "
        f"pen on a {d.get('height', '—')}x{d.get('width', '—')} pad (gaps between the digits' ink, in "
        "digit heights), read by `digitnet.number.read_number` with nine views and "
        + (
            "the pixels alone (`--pixels-only`)"
            if d.get("pixels_only")
            else "the strokes, as the page sends them"
        )
        + ". *Digits alone*: each "
        "digit drawn by itself where it is reads right, what perfect cuts would give; *reads*: images "
        "the network read per number." + (" A quick run." if d.get("quick") else ""),
        "",
        table(
            [
                "spacing",
                "gap",
                "read exactly",
                "digits alone",
                *(f"{k} digits" for k in lengths),
                "p50",
                "p95",
                "reads",
            ],
            body,
        ),
        "",
        goals_table(d.get("goals") or [], show),
    ]
    single = d.get("single_digits") or {}
    if single:
        lines += [
            "",
            f"Single digits drawn the same way ({single.get('n', '—')}): error "
            f"{pct(single.get('error_read_number'))} read as a number, "
            f"{pct(single.get('error_predict_drawing'))} by `predict_drawing`; "
            f"{single.get('differ', '—')} verdicts differ; "
            f"{single.get('offered_thinner_pen', '—')} offered a thinner pen.",
        ]
    thick = d.get("thick_pen") or {}
    if thick:
        exact, offered, taken = (pct(thick.get(k), 1) for k in ("exact", "offered", "exact_with_offer"))
        lines += [
            "",
            f"Five-digit numbers apart drawn with the page's first pen ({thick.get('n', '—')}, "
            f"{thick.get('pen', '—')} of the pad's height, as on a phone held upright, where they are a "
            f"fifth of the pad wide): {exact} read exactly; {offered} offered a thinner pen; {taken} read "
            "exactly with the offer taken (one tap redraws them with it).",
        ]
    rejection = d.get("not_a_digit") or {}
    kinds = rejection.get("kinds") or {}
    if kinds:
        body = [
            [
                kind + (" (a number now: left out of the sum)" if kind == "two_digits" else ""),
                r.get("n", "—"),
                pct(r.get("accepted_predict_drawing"), 1),
                pct(r.get("accepted_read_number"), 1),
            ]
            for kind, r in kinds.items()
        ]
        body.append(
            [
                "**all but two_digits**",
                "",
                pct(rejection.get("accepted_predict_drawing"), 1),
                pct(rejection.get("accepted_read_number"), 1),
            ]
        )
        lines += [
            "",
            "Drawings that are not digits (`training.negatives`, the seed `training.evaluate` uses), the "
            "share accepted as digits: `predict_drawing`'s verdict \"digit\", `read_number`'s characters "
            "all digits:",
            "",
            table(["kind", "n", "predict_drawing", "read_number"], body),
        ]
    five = d.get("five_digits_apart_ms") or {}
    if five.get("settled_p95") is not None:
        ratio = d.get("pyodide_ratio") or ["?", "?"]
        lines += [
            "",
            f"A five-digit number apart: p95 {num(five.get('settled_p95'), '.1f', ' ms')} of CPython settled "
            f"(nine views), {num(five.get('live_p95'), '.1f', ' ms')} live (one view, no cut search); "
            f"Pyodide runs this code about {ratio[0]}-{ratio[-1]}x slower than CPython.",
        ]
    return lines, []


def train_page_section(d: dict) -> tuple[list[str], list[Plot]]:
    def show(v: float | None, unit: str) -> str:
        if v is None:
            return "—"
        return {"ms": f"{v / 1000:.1f} s" if v >= 1000 else f"{v:.1f} ms", "bytes": f"{v / 1e6:.0f} MB"}.get(
            unit, f"{v:g}"
        )

    rows, page = d.get("rows") or {}, d.get("page") or {}
    cpython = {e.get("epoch"): e for e in (d.get("cpython") or {}).get("epochs") or []}
    body = [
        [
            e.get("epoch"),
            pct(e.get("accuracy")),
            num((e.get("sinceStartMs") or 0) / 1000, ".1f", " s"),
            pct(cpython.get(e.get("epoch"), {}).get("accuracy")),
            num((cpython.get(e.get("epoch"), {}).get("python_ms") or 0) / 1000, ".1f", " s"),
        ]
        for e in page.get("epochs") or []
    ]
    lines = [
        f"Settings `{json.dumps(page.get('settings'))}` trained from scratch in headless Chromium "
        f"(the card's Start, the training worker's own Pyodide), the same `digitnet` code in CPython on "
        "one BLAS thread beside it.",
        "",
        table(
            ["epoch", "test accuracy (page)", "since Start", "test accuracy (CPython)", "CPython time"], body
        ),
        "",
        f"Images per second: {num(rows.get('images_per_s_python'), ',.0f')} in the page (its Python), "
        f"{num(rows.get('cpython_images_per_s'), ',.0f')} in CPython; the pad while training: round trip "
        f"p50 {num(rows.get('round_trip_p50_ms'), '.1f', ' ms')}, "
        f"p95 {num(rows.get('round_trip_p95_ms'), '.1f', ' ms')}.",
        "",
        goals_table(d.get("goals") or [], show),
    ]
    return lines, []


def reading_section(d: dict) -> tuple[list[str], list[Plot]]:
    """``bench.reading_bench``: each stage of a reading in CPython and in Node's Pyodide."""
    cpython, pyodide = d.get("cpython", {}).get("stages", {}), d.get("pyodide", {}).get("stages", {})
    body = []
    for name in d.get("stages") or list(pyodide):
        c, p = cpython.get(name, {}), pyodide.get(name, {})
        times = c.get("p50") and p.get("p50") and p["p50"] / c["p50"]
        body.append(
            [
                name,
                num(c.get("p50"), ".3f", " ms"),
                num(p.get("p50"), ".3f", " ms"),
                num(p.get("p95"), ".3f", " ms"),
                num(times, ".1f", "x"),
            ]
        )
    config = d.get("config", {})
    lines = [
        f"{config.get('drawings', '?')} drawings of the page bench, drawn with the page's default pen, "
        f"each stage timed {config.get('rounds', '?')} times; Pyodide is Node's, with the page's runtime "
        "(NumPy without BLAS). The last two rows are a whole `Session.predict`, as the page's worker "
        "calls it.",
        "",
        table(["stage", "CPython p50", "Pyodide p50", "Pyodide p95", "Pyodide / CPython"], body),
    ]
    return lines, []
