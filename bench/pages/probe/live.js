// page.evaluate by bench.page_bench after drawing with the mouse, given where the counts stood
// before (its MARK_JS): the round trips and Python times of the live results since.
([t0, w0, start]) => {
  const app = window.digitApp,
    b = window.__bench;
  const rt = app.predictTimes.slice(t0),
    py = b.workerMs.slice(w0),
    live = b.workerLive.slice(w0);
  const aligned = rt.length === py.length; // one round trip per result message, in order
  return {
    roundTrip: aligned ? rt.filter((_, i) => live[i]) : [],
    python: py.filter((_, i) => live[i]),
    longTasks: b.takeLongTasks().filter((t) => t.start >= start),
  };
};
