"""bench.page_bench's inside phase: the page's readings with the "Inside the network" view
(``static/js/inside.js``, toggled by ``[data-testid=inside]``) closed and open, on the same warm
page, so the two can be set side by side.

On the warm page of each unthrottled run of ours, after its predictions, in a window of
``INSIDE_VIEWPORT`` (1440x900: the view in its own column beside the pad and the answer, in sight
while drawing), once with the view closed and once open (which goes first alternates from run to
run, so order effects cancel):

live     the first ``--inside-drawings`` drawings drawn with the mouse, a move at a time
         (``page_visit.draw_with_mouse``, as for the live readings): the readings made while the pen
         is down (one view each), the same drawings in both states.
settled  the ``--predictions`` drawings set with ``digitApp.setStrokes`` and awaited one by one
         (pen up: nine views), the same drawings in both states.

Recorded for each stretch, between a mark at its start and one at its end: the round trips
(``digitApp.predictTimes``), the worker's Python ms (the ``ms`` of its result messages: with the
view open it includes ``Session.inside`` and the copy of its numbers out of Python), messaging =
round trip - Python, ``digitApp.insideDrawTimes`` (main-thread ms the view spent drawing each
reading it drew: none while closed; its script only, not the style, layout and paint that follow),
the main thread's long tasks (over 50 ms) that started between the marks, and the main thread's
whole busy time over the stretch (CDP ``Performance.getMetrics`` in thread time: tasks, and the
script, layout and style work within them), which the summary divides by the readings made. The
view is opened and closed by clicking its toggle from a script (nothing scrolls), and the reading
that opening asks for is waited for before the first mark.

``summarise_inside`` pools the runs per state and kind (``bench.page_report`` judges the goals on it).
"""

from __future__ import annotations

from collections.abc import Sequence

from bench.browser import VIEWPORT, probe
from bench.common import fmt
from bench.page_visit import PREDICT_JS, draw_with_mouse, reading_times, stats
from digitnet.sizes import CANVAS

VIEW_STATES = ("closed", "open")
KINDS = ("live", "settled")
QUICK_INSIDE_DRAWINGS = 2  # --quick: a short inside phase
# Wide enough for the view's third column (static/css/inside.css, 1200 px and up): its layers in
# sight beside the pad, as someone watching them while drawing has them (at VIEWPORT, 1100 px, the
# view is a row under the pad, out of sight, and the browser need not paint it).
INSIDE_VIEWPORT = {"width": 1440, "height": 900}

INSIDE_JS = probe("inside.js")
# The main thread's busy time (CDP Performance.getMetrics, in thread time: what it ran, not how long
# it waited for a core) -> our names: every task, and the script, layout and style work within them.
MAIN_THREAD = {
    "TaskDuration": "task",
    "ScriptDuration": "script",
    "LayoutDuration": "layout",
    "RecalcStyleDuration": "style",
}
# Where the counts stand before a stretch of readings (INSIDE_JS then takes what came since).
MARK_JS = (
    "() => [digitApp.predictTimes.length, __bench.workerMs.length, digitApp.insideDrawTimes.length, "
    "performance.now()]"
)
# Open (true) or close the view as a click on its toggle would, and wait for the page to settle.
SET_VIEW_JS = """async (open) => {
  const html = document.documentElement;
  if ((html.dataset.inside === "open") !== open) document.querySelector('[data-testid="inside"]').click();
  await digitApp.whenIdle();
  return html.dataset.inside;
}"""


def main_thread(cdp) -> dict:
    """The renderer main thread's busy time so far (CDP ``Performance.getMetrics``, thread time), ms."""
    got = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return {name: 1000 * got[key] for key, name in MAIN_THREAD.items()}


def stretch(got: dict, kind: str, before: dict, after: dict) -> dict:
    """What INSIDE_JS returned after one stretch -> its readings of one kind: raw times and their stats
    (``page_visit.reading_times``), the view's drawing times, the stretch's long tasks and the main
    thread's time over the stretch (``main_thread`` before and after)."""
    out = reading_times({**got[kind], "longTasks": got["longTasks"]})
    out.update(
        {
            "readings": got["readings"],  # every reading of the stretch (both kinds, empty pads too)
            "draw_ms": got["drawTimes"],
            "draw": stats(got["drawTimes"]),
            "main_thread_ms": {k: after[k] - before[k] for k in MAIN_THREAD.values()},
            "start_ms": got["start"],
            "end_ms": got["end"],
        }
    )
    return out


def measure_view(page, cdp, open_view: bool, shapes: Sequence, live_shapes: Sequence) -> dict:
    """One state of the view: the live stretch (live_shapes drawn with the mouse), then the settled
    one (shapes set and awaited one by one)."""
    state = page.evaluate(SET_VIEW_JS, open_view)
    if state != VIEW_STATES[open_view]:
        raise RuntimeError(f"the Inside view is {state!r}, wanted {VIEW_STATES[open_view]!r}")
    out = {}
    before, mark = main_thread(cdp), page.evaluate(MARK_JS)
    draw_with_mouse(page, live_shapes)
    got = page.evaluate(INSIDE_JS, mark)
    out["live"] = stretch(got, "live", before, main_thread(cdp))
    before, mark = main_thread(cdp), page.evaluate(MARK_JS)
    page.evaluate(PREDICT_JS, {"drawings": list(shapes), "n": len(shapes), "side": CANVAS})
    got = page.evaluate(INSIDE_JS, mark)
    out["settled"] = stretch(got, "settled", before, main_thread(cdp))
    return out


def inside_phase(page, shapes: Sequence, live_shapes: Sequence, open_first: bool) -> dict:
    """The inside phase on a warm page, in an INSIDE_VIEWPORT window: the view closed and open (open
    first if open_first); then the page as it was (the view closed, the bench's window)."""
    order = VIEW_STATES[::-1] if open_first else VIEW_STATES
    out: dict = {
        "order": list(order),
        "live_drawings": len(live_shapes),
        "settled_drawings": len(shapes),
        "viewport": INSIDE_VIEWPORT,
    }
    page.set_viewport_size(INSIDE_VIEWPORT)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable", {"timeDomain": "threadTicks"})
    try:
        for state in order:
            out[state] = measure_view(page, cdp, state == "open", shapes, live_shapes)
    finally:
        cdp.send("Performance.disable")
        page.evaluate(SET_VIEW_JS, False)
        page.set_viewport_size(VIEWPORT)
    return out


def progress(phase: dict) -> str:
    """One run's inside phase in a few words, for the bench's progress lines."""
    p95 = {state: phase[state]["live"]["round_trip"]["p95_ms"] for state in VIEW_STATES}
    return (
        f"Inside view, round trip p95 while drawing: open {fmt(p95['open'], '.2f', ' ms')}, "
        f"closed {fmt(p95['closed'], '.2f', ' ms')} ({phase['order'][0]} first)"
    )


def summarise_inside(phases: Sequence[dict]) -> dict | None:
    """The runs' inside phases pooled per state and kind: round trip, Python, messaging and the
    view's drawing (stats), the long tasks (count, longest); None when no run had the phase."""
    if not phases:
        return None
    first = phases[0]
    out: dict = {
        "runs": len(phases),
        **{k: first[k] for k in ("viewport", "live_drawings", "settled_drawings")},
    }
    for state in VIEW_STATES:
        out[state] = {}
        for kind in KINDS:
            parts = [p[state][kind] for p in phases]
            pooled = {
                k: [x for p in parts for x in p[f"{k}_ms"]] for k in ("round_trip", "python", "messaging")
            }
            tasks = [t["duration_ms"] for p in parts for t in p["long_tasks"]]
            readings = sum(p["readings"] for p in parts)
            out[state][kind] = {
                **{k: stats(v) for k, v in pooled.items()},
                "draw": stats([x for p in parts for x in p["draw_ms"]]),
                "long_tasks": len(tasks),
                "long_task_max_ms": max(tasks, default=0.0),
                # the main thread's time over the stretches, per reading made in them
                "main_thread_per_reading_ms": {
                    k: sum(p["main_thread_ms"][k] for p in parts) / readings if readings else None
                    for k in MAIN_THREAD.values()
                },
            }
        # the view's drawing per reading over both stretches (each reading it drew, either kind)
        out[state]["draw"] = stats([x for kind in KINDS for p in phases for x in p[state][kind]["draw_ms"]])
    return out
