// page.evaluate by bench.tune_bench once tuning ended: the page's and the init scripts' figures.
() => ({
  tune: digitApp.tuneTimings,
  clickedAt: window.__tune.clickedAt,
  doneAt: window.__tune.doneAt,
  state: window.__tune.state,
  longTaskSupported: window.__bench.longTaskSupported,
  longTasks: window.__bench.takeLongTasks().slice(),
  text: document.querySelector(".tune-text").textContent.trim(),
  model: document.documentElement.dataset.model,
});
