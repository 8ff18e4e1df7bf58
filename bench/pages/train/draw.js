// page.evaluate by bench.train_page_bench: draw the drawings one after another (digitApp.setStrokes,
// then whenIdle: a settled reading by the pad's worker), gapMs apart, until they run out or the
// training run ends (stopAtDone). The round trips are the page's own digitApp.predictTimes.
async ({ drawings, gapMs, stopAtDone }) => {
  const app = window.digitApp;
  const t = window.__train;
  const first = app.predictTimes.length;
  for (const strokes of drawings) {
    if (stopAtDone && (t.done || t.errors.length)) break;
    app.setStrokes(strokes);
    await app.whenIdle();
    if (gapMs) await new Promise((resolve) => setTimeout(resolve, gapMs));
  }
  return app.predictTimes.slice(first);
};
