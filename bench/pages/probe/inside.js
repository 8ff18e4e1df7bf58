// page.evaluate by bench.page_inside after a stretch of readings, given where the counts stood
// before (its MARK_JS): everything since, split by kind of reading. The round trips
// (digitApp.predictTimes) and the worker's result messages (__bench.workerMs, workerLive) come one
// per reading in order; drawTimes: digitApp.insideDrawTimes (main-thread ms of the Inside view, one
// per reading it drew); longTasks: the main thread's tasks over 50 ms that started between the marks.
([t0, w0, d0, start]) => {
  const app = window.digitApp,
    b = window.__bench,
    end = performance.now();
  const rt = app.predictTimes.slice(t0),
    py = b.workerMs.slice(w0),
    live = b.workerLive.slice(w0);
  const aligned = rt.length === py.length;
  const kind = (want) => ({
    roundTrip: aligned ? rt.filter((_, i) => live[i] === want) : [],
    python: py.filter((_, i) => live[i] === want),
  });
  return {
    live: kind(true),
    settled: kind(false),
    readings: rt.length,
    drawTimes: app.insideDrawTimes.slice(d0),
    longTasks: b.takeLongTasks().filter((t) => t.start >= start && t.start <= end),
    start,
    end,
    view: document.documentElement.dataset.inside,
  };
};
