// page.evaluate by bench.train_page_bench: open the training (boot its worker, load MNIST) through
// static/js/trainer.js, then start a run with the given settings. Resolves once it has started.
async (settings) => {
  const { Trainer } = await import(new URL("static/js/trainer.js", document.baseURI).href);
  const trainer = new Trainer();
  window.__trainer = trainer;
  const ready = await trainer.open();
  const started = await trainer.start(settings);
  return { ready, started };
};
