// page.evaluate by bench.page_number: each number set with the pen it was drawn with and awaited
// (the settled reading); what it read as; then the pad cleared and the pen put back.
async (numbers) => {
  const app = window.digitApp,
    b = window.__bench;
  const brush = document.querySelector('[data-testid="brush"]');
  const pen = brush.value;
  const setPen = (value) => {
    brush.value = String(value);
    brush.dispatchEvent(new Event("input", { bubbles: true }));
  };
  const t0 = app.predictTimes.length,
    w0 = b.workerMs.length,
    start = performance.now();
  const values = [];
  for (const { strokes, pen: frac } of numbers) {
    setPen(frac);
    app.setStrokes(strokes);
    await app.whenIdle();
    values.push(
      app.lastNumber ? app.lastNumber.value : document.querySelector('[data-testid="prediction"]').textContent.trim(),
    );
  }
  const out = {
    roundTrip: app.predictTimes.slice(t0),
    python: b.workerMs.slice(w0),
    longTasks: b.takeLongTasks().filter((t) => t.start >= start),
    values,
  };
  setPen(pen);
  app.clear();
  await app.whenIdle();
  return out;
};
