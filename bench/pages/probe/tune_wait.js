// page.evaluate by bench.tune_bench: the end state of tuning, or "timeout" after ms.
async (ms) =>
  Promise.race([window.__tune.finished, new Promise((resolve) => setTimeout(() => resolve("timeout"), ms))]);
