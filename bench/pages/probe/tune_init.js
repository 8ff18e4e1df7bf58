// Installed after init.js by bench.tune_bench: the click on fine-tune and the end of tuning, seen
// by the bench itself; ``finished`` resolves with the end state (no polling in the page).
(() => {
  const b = { clickedAt: null, doneAt: null, state: null };
  window.__tune = b;
  let finish;
  b.finished = new Promise((resolve) => {
    finish = resolve;
  });
  document.addEventListener(
    "click",
    (e) => {
      if (e.target instanceof Element && e.target.closest('[data-testid="fine-tune"]')) {
        b.clickedAt = performance.now();
      }
    },
    true,
  );
  new MutationObserver(() => {
    const state = document.documentElement.dataset.tuning;
    if (b.clickedAt !== null && b.doneAt === null && (state === "done" || state === "error")) {
      [b.doneAt, b.state] = [performance.now(), state];
      finish(state);
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-tuning"] });
})();
