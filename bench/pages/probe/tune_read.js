// page.evaluate by bench.tune_bench: draw each drawing, wait for its result, note what the page
// shows; leave an empty pad.
async (drawings) => {
  const out = [];
  for (const strokes of drawings) {
    digitApp.setStrokes(strokes);
    await digitApp.whenIdle();
    out.push({
      shown: document.querySelector('[data-testid="prediction"]').textContent.trim(),
      verdict: digitApp.lastVerdict ? digitApp.lastVerdict.verdict : null,
      image: digitApp.lastImage ? Array.from(digitApp.lastImage) : null,
    });
  }
  digitApp.clear();
  await digitApp.whenIdle();
  return out;
};
