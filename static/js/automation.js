// Hooks for tests and automation, kept out of the app's wiring: window.digitApp.
//
//   padPixels()    Uint8Array(height*width): the ink (alpha) the model gets for the current drawing, row-major
//                  (null until the worker has loaded the Python code and said the canvas size)
//   padShape()     [height, width] of padPixels(): canvas high, as wide as the drawing's span (Pad.span):
//                  canvas on a square pad, more on a wide one
//   lastProbs      Float32Array of the last shown result, null when it showed nothing
//   lastImage      Float32Array: the image the network saw for that result, null when nothing
//   lastVerdict    {verdict: "empty"|"digit"|"not-digit"|"number", reason, notDigit, live} of that result (live:
//                  read while the pen was down, one view; the settled reading uses nine)
//   predictTimes   round trip (ms) of every prediction, request sent -> answer received
//   timings        {runtime, numpy, code, model, total} ms in the worker, plus ready (ms since page start),
//                  and transferSize: the bytes the worker's downloads took on the wire (its resource
//                  timing; the page's performance entries do not hold the worker's requests)
//   workerBlocked  [[start, end], ...]: when the worker's event loop was blocked during the boot (ms since
//                  the epoch): it could post no progress then
//   sizes          {side, pixels, classes, canvas} from the worker (digitnet.sizes), once it has them
//   tuneTimings    the last fine-tuning, once <html data-tuning> has left "running" (null before):
//                  {outcome: "tuned"|"cancelled"|"error", total, python, overhead, worker, replay,
//                  save, steps, calls}; ms, all of one time base: total = click on fine-tune ->
//                  data-tuning "done" (or "error"); python = the sum of the worker's Python calls
//                  (start_tuning, every tune_step slice, finish_tuning); overhead = total - python;
//                  worker = the worker's whole time for it (python + fetching and checking the replay
//                  sample (replay), the pauses between slices, copying the model's bytes out);
//                  save = the worker's answer -> "done" (the page keeps the model in IndexedDB);
//                  steps = SGD steps done; calls = [{step, ms}] each Python call, in order (step 0:
//                  start_tuning; the last: finish_tuning). Only outcome and total when not "tuned".
//   lastNumber     for a number (two or more characters, digitnet.number): {value: "20?6", boxes: [{x0, y0,
//                  x1, y1 (in pad heights, as strokes are), digit ("?": not a digit), probs}]} left to right; else null
//                  (lastProbs, lastImage: then the selected character's)
//   inside         with the Inside view open, the shown reading's numbers (static/js/inside.js):
//                  {input, hidden: [a1, a2], logits, probs, contributions: [c1, c2]} Float32Arrays, target
//                  (the output explained), unit {layer, index, z, a} (the unit in detail); null otherwise
//   insideDrawTimes  main-thread ms the Inside view spent drawing each reading
//   selectUnit(layer, index)  show that unit in detail (layer 1, 2, ... or "out")
//   training       the "Train your own" card (static/js/train.js): {state (as <html data-training>),
//                  settings (the run's, as Python normalised them: {hidden, lr, batch, epochs, augment,
//                  seed, limit}), losses (every batch's loss so far, in order), accuracy (the test
//                  accuracy after each finished epoch), lastAccuracy, lastLoss, imagesPerSecond (over the
//                  last few seconds), kept (the network kept on the device: {layers, accuracy (after its
//                  last finished epoch), epoch, batches, settings, saved (ms since the epoch)} or null)}
//   offline        Promise resolved with true once every file the app needs is cached (sw.js)
//   whenIdle()     Promise resolved once the shown result is for the current drawing
//                  (or the app is in error)
//   setStrokes(s), clear(), undo(), redo(), strokes, loadModel(url)   drive the pad and the model
//                  (clear() here is a fresh start: an empty pad with nothing to undo or redo)
// <html data-predictions="N">: N counts shown results.

const html = document.documentElement;

export class Automation {
  /**
   * @param {object} app  {pad, predictor, isSettled: () => boolean, loadModel: (url) => Promise}
   */
  constructor({ pad, predictor, isSettled, loadModel }) {
    this.isSettled = isSettled;
    this.waiters = [];
    const hooks = {
      lastProbs: null,
      lastImage: null,
      predictTimes: [],
      timings: null,
      sizes: null,
      offline: null,
      tuneTimings: null,
      padPixels: () => (hooks.sizes ? pad.pixels(hooks.sizes.canvas) : null),
      padShape: () => (hooks.sizes ? pad.shape(hooks.sizes.canvas) : null),
      whenIdle: () => this.whenIdle(),
      setStrokes: (strokes) => pad.setStrokes(strokes),
      clear: () => pad.reset(),
      undo: () => pad.undo(),
      redo: () => pad.redo(),
      loadModel,
      get strokes() {
        return pad.strokes.map((s) => s.map((p) => p.slice()));
      },
    };
    this.hooks = hooks;
    window.digitApp = hooks;
    predictor.addEventListener("info", (e) => {
      hooks.sizes = e.detail.sizes;
    });
    predictor.addEventListener("ready", (e) => {
      hooks.timings = { ...e.detail.timings, ready: Math.round(e.detail.ms) };
      hooks.workerBlocked = e.detail.blocked;
    });
    predictor.addEventListener("result", (e) => hooks.predictTimes.push(e.detail.roundTrip));
    this.#timeTuning(predictor);
  }

  /** digitApp.tuneTimings: from the click on fine-tune (capture phase: before teach.js sees it) to
   * <html data-tuning> "done" or "error", with the worker's figures from its messages. */
  #timeTuning(predictor) {
    let run = null;
    document.addEventListener(
      "click",
      (e) => {
        if (e.target instanceof Element && e.target.closest('[data-testid="fine-tune"]')) {
          run = { clickedAt: performance.now(), calls: [], tuned: null, tunedAt: null };
        }
      },
      true,
    );
    predictor.addEventListener("tune-progress", (e) => {
      run?.calls.push({ step: e.detail.step, ms: e.detail.pythonMs });
    });
    predictor.addEventListener("tuned", (e) => {
      if (run) [run.tuned, run.tunedAt] = [e.detail, performance.now()];
    });
    new MutationObserver(() => {
      const state = html.dataset.tuning;
      if (!run || (state !== "done" && state !== "error")) return;
      const now = performance.now();
      const total = now - run.clickedAt;
      const t = run.tuned;
      const steps = run.calls.at(-1)?.step ?? 0;
      this.hooks.tuneTimings = !t
        ? { outcome: state === "error" ? "error" : "cancelled", total }
        : {
            outcome: "tuned",
            total,
            python: t.pythonMs,
            overhead: total - t.pythonMs,
            worker: t.ms,
            replay: t.replayMs,
            save: now - run.tunedAt,
            steps,
            calls: [...run.calls, { step: steps, ms: t.finishMs }],
          };
      run = null;
    }).observe(html, { attributes: true, attributeFilter: ["data-tuning"] });
  }

  /** The app showed a result ({probs, image, verdict, reason, notDigit, live}; probs null: nothing to read). */
  shown({ probs, image, verdict, reason, notDigit, live }) {
    this.hooks.lastProbs = probs;
    this.hooks.lastImage = image;
    this.hooks.lastVerdict = { verdict, reason, notDigit, live };
    html.dataset.predictions = String(Number(html.dataset.predictions || 0) + 1);
  }

  /** Resolve the waiters if the app has settled; call after anything that may settle it. */
  settle() {
    if (!this.waiters.length || !this.isSettled()) return;
    const ready = this.waiters;
    this.waiters = [];
    for (const resolve of ready) resolve();
  }

  whenIdle() {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.settle();
    });
  }
}
