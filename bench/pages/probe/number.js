// page.evaluate by bench.page_number: each number set with the pen it was drawn with and awaited
// (the settled reading); what it read as; then each written digit by digit (the last reading's
// Python ms); then the pad cleared and the pen put back.
async ({ numbers, written }) => {
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
  const roundTrip = app.predictTimes.slice(t0);
  const python = b.workerMs.slice(w0);
  // Written digit by digit: each number's first k digits set and read, k = 1, 2, ...; the last one's ms.
  const writtenPython = [];
  for (const { strokes, pen: frac, per_digit: perDigit } of written) {
    setPen(frac);
    app.clear();
    await app.whenIdle();
    let upTo = 0;
    for (const count of perDigit) {
      upTo += count;
      app.setStrokes(strokes.slice(0, upTo));
      await app.whenIdle();
    }
    writtenPython.push(b.workerMs[b.workerMs.length - 1]);
  }
  const out = {
    roundTrip,
    python,
    longTasks: b.takeLongTasks().filter((t) => t.start >= start),
    values,
    writtenPython,
  };
  setPen(pen);
  app.clear();
  await app.whenIdle();
  return out;
};
