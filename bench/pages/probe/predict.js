// page.evaluate by bench.page_bench: n predictions one after the other. drawings: a list of
// drawings (ours) or null (bare: a fresh Uint8Array of side*side each time).
async ({ drawings, n, side }) => {
  const app = window.digitApp || window.bareApp,
    b = window.__bench;
  const t0 = app.predictTimes.length,
    w0 = b.workerMs.length,
    start = performance.now();
  for (let i = 0; i < n; i++) {
    if (drawings) {
      app.setStrokes(drawings[i]);
      await app.whenIdle();
    } else await app.predict(i, side);
  }
  return {
    roundTrip: app.predictTimes.slice(t0),
    python: b.workerMs.slice(w0),
    longTasks: b.takeLongTasks().filter((t) => t.start >= start),
  };
};
