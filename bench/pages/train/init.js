// Installed before the page's own code (add_init_script) by bench.train_page_bench, after the benches'
// bench/pages/probe/init.js: window.__train records what the training worker (static/js/train-worker.js)
// says, timed in the page from the moment its "start" message was posted (Start): every epoch's test
// accuracy, the progress messages (seen, elapsedMs, the step calls' python_ms, heapBytes), the end.
(() => {
  const t = {
    initAt: null,
    dataReadyAt: null,
    dataReady: null,
    startAt: null,
    started: null,
    epochs: [],
    progress: [],
    done: null,
    doneAt: null,
    errors: [],
    statuses: [],
  };
  window.__train = t;
  const now = () => performance.now();
  const since = () => (t.startAt === null ? null : now() - t.startAt);
  const record = (msg) => {
    if (!msg || typeof msg !== "object") return;
    if (msg.type === "status") t.statuses.push({ at: now(), stage: msg.stage, message: msg.message });
    else if (msg.type === "data-ready") [t.dataReadyAt, t.dataReady] = [now(), { ...msg }];
    else if (msg.type === "started") t.started = { ...msg, at: since() };
    else if (msg.type === "error") t.errors.push({ at: now(), stage: msg.stage, message: msg.message });
    if (msg.type !== "progress" && msg.type !== "done") return;
    const accuracy = msg.accuracy || [];
    for (let i = t.epochs.length; i < accuracy.length; i++) {
      t.epochs.push({ epoch: i + 1, accuracy: accuracy[i], sinceStartMs: since(), elapsedMs: msg.elapsedMs });
    }
    if (msg.type === "progress") {
      t.progress.push({
        at: since(),
        epoch: msg.epoch,
        seen: msg.seen,
        elapsedMs: msg.elapsedMs,
        pythonMs: msg.python_ms,
        slices: msg.slices,
        losses: (msg.losses || []).length,
        lastLoss: (msg.losses || []).at(-1) ?? null,
        heapBytes: msg.heapBytes,
      });
    } else {
      t.doneAt = now();
      t.done = { ...msg, losses: undefined, sinceStartMs: since() };
    }
  };
  const NativeWorker = window.Worker;
  window.Worker = class extends NativeWorker {
    constructor(url, options) {
      super(url, options);
      if (!String(url).includes("train-worker.js")) return;
      const post = this.postMessage.bind(this);
      this.postMessage = (msg, transfer) => {
        if (msg?.type === "init") t.initAt = now();
        if (msg?.type === "start") {
          t.startAt = now();
          t.epochs = [];
          t.progress = [];
          t.done = t.doneAt = null;
        }
        return transfer === undefined ? post(msg) : post(msg, transfer);
      };
      this.addEventListener("message", (e) => record(e.data));
    }
  };
})();
