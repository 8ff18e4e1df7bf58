// Talks to the Python worker: loading, then predictions with at most one in flight.
//
// predictor.request() says "the drawing changed". If nothing is in flight the
// current drawing is sent at once; otherwise it is sent when the answer comes
// back, read at that moment, so the newest drawing always wins and requests
// never pile up. Before the model is ready requests wait and the latest
// drawing goes out as soon as it is.
//
// Loading never hangs: a watchdog fails it when the worker has sent nothing (no bytes, no
// stage done) for STALL_MS, naming the file that was downloading; restart() tries again.
//
// Events (CustomEvent, detail as shown):
//   "status" {stage, message}            loading stage
//   "progress" {file, loaded, total}     bytes of the boot's downloads so far (total 0: unknown)
//   "info"   {versions, sizes, limits, samples}  the Python code is loaded: sizes from digitnet.sizes,
//                                        samples from digitnet.samples ([{digit, strokes}])
//   "ready"  {versions, model, timings, files, ms}  once Python is ready and beforeReady() has run (the
//                                        model the person chose is in use): readings start then
//   "result" {probs|null, image|null, verdict, reason, notDigit, characters, fitPen, live, inside, version, roundTrip,
//             pythonMs}                  characters: what digitnet.number read, left to right (worker.js)
//                                        live: read while the pen was down (one view; else all nine);
//                                        inside: the Inside view's numbers ({name: Float32Array}) or null
//   "model"  {name, layers, test_error, inside, state}  a model is in use (at ready, and each one loaded)
//   "modified" {modified, knocked, zero_biases, noise, noise_max}  how the model in use is broken
//                                        (digitnet.browser.Session.modification), whenever that may change
//   "error"  {stage, message}            loading failed, in plain words
//   "tune-progress" {step, steps, loss, pythonMs}, "tuned" {bytes, ms, pythonMs, replayMs, finishMs}
//                                        along a tune() (automation.js times them)
// Requests (loadModel, loadModelBytes, why, tune, importCsv) carry an id; each returns a promise
// settled by the worker's answer with that id, so two requests never take each other's answer. A
// request that fails (a model refused, a fine-tuning that failed) rejects; the app goes on.

/** Loading fails if nothing at all arrives from the worker for this long (automation may set
 * window.digitAppConfig = {stallMs} before the page's scripts run, to test it quickly). */
export const STALL_MS = globalThis.digitAppConfig?.stallMs ?? 20_000;

export class Predictor extends EventTarget {
  /**
   * @param {() => {pixels: Uint8Array, width: number, height: number, pen: number, version: number,
   *                 live: boolean}} source
   *        reads the current drawing when a request is actually sent (live: the pen is down)
   */
  constructor(source) {
    super();
    this.source = source;
    this.nextId = 1;
    this.worker = null;
    this.watchdog = 0;
    this.lastHeard = null; // what the worker said last: {stage, message} or {file, loaded}
    this.inside = null; // ({live}) => {layer, index, character} | null: the Inside view's ask, with each reading
    this.beforeReady = null; // async () => ...: run once Python is ready, before "ready" (a personal model)
  }

  #pending = new Map(); // id -> {okTypes, progress, resolve, reject}: requests awaiting their answer

  /** Start loading: runtime, NumPy, digitnet, then the model at modelUrl (same origin). */
  start(modelUrl) {
    this.modelUrl = modelUrl;
    this.state = "loading";
    this.wanted = this.wanted || false;
    this.inFlight = null;
    this.started = performance.now();
    this.lastHeard = null;
    this.worker?.terminate();
    const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module", name: "python" });
    this.worker = worker;
    worker.addEventListener("message", (e) => worker === this.worker && this.#onMessage(e.data));
    worker.addEventListener("error", (e) => worker === this.worker && this.#onWorkerError(e));
    worker.addEventListener(
      "messageerror",
      () => worker === this.worker && this.#fail("internal", "A message from the Python worker could not be read."),
    );
    this.#arm();
    worker.postMessage({
      type: "init",
      baseUrl: new URL(".", document.baseURI).href,
      modelUrl: new URL(modelUrl, document.baseURI).href,
    });
  }

  /** After an error: a new worker, loading again from the start (the drawing is the pad's). */
  restart() {
    this.start(this.modelUrl);
  }

  #arm() {
    clearTimeout(this.watchdog);
    if (this.state === "loading") this.watchdog = setTimeout(() => this.#stalled(), STALL_MS);
  }

  #stalled() {
    const heard = this.lastHeard;
    const secs = Math.round(STALL_MS / 1000);
    let what = "the Python worker did not start";
    if (heard?.pending?.length) {
      what =
        `the download of ${heard.pending.join(", ")} stalled (no data for ${secs} s; ` +
        `${formatBytes(heard.loaded)} of ${heard.total ? formatBytes(heard.total) : "?"} received in all)`;
    } else if (heard?.message) {
      what = `nothing happened for ${secs} s after "${heard.message.replace(/…$/, "")}"`;
    }
    this.worker?.terminate();
    this.#fail(heard?.stage || "runtime", `Loading stopped: ${what}.`);
  }

  /** Replace the model with the file at url (same origin). Resolves when it is in use. */
  loadModel(url) {
    return this.#ask("load-model", { url: new URL(url, document.baseURI).href }, [], ["model"]);
  }

  /** Use a model file's bytes (a personal model kept on the device). Resolves when it is in use. The
   * worker gets a copy: the caller's bytes stay whole (it may export them). */
  loadModelBytes(bytes, name) {
    const copy = bytes.slice();
    return this.#ask("load-model-bytes", { bytes: copy, name }, [copy.buffer], ["model"]);
  }

  /** Break the network in use or restore it (digitnet.browser.Session.modify's change): resolves
   * the new state (also emitted as "modified"); the next reading uses it. */
  modify(change) {
    return this.#ask("modify", { change }, [], ["modified"]).then((d) => d.state);
  }

  /** Which pixels pushed the answer: Float32Array(784) (gradient x input) or null; strokes: the
   * drawing's (Pad.strokeArrays); character: which of a number's (0 for a single digit). */
  why(pixels, strokes, width, height, pen, character = 0) {
    const transfer = [pixels.buffer, strokes.xy.buffer, strokes.ends.buffer];
    const body = { pixels, strokes, width, height, pen, character };
    return this.#ask("why", body, transfer, ["why"]).then((d) => d.why);
  }

  /** Read a drawings CSV's bytes in the worker (digitnet.csvfile, as the CLIs read it): resolves
   * {labels: Uint8Array(N), images: Uint8Array(N*784)}; rejects with the message naming the file, line
   * and column. onProgress({row, rows}) as it reads. The bytes are the worker's from now on. */
  importCsv(bytes, name, onProgress) {
    return this.#ask("import-csv", { bytes, name }, [bytes.buffer], ["imported"], { "import-progress": onProgress });
  }

  /** Drawings (Uint8Array(N*784) images, Uint8Array(N) labels) -> the CSV's text (digitnet.csvfile). */
  exportCsv(images, labels) {
    return this.#ask("export-csv", { images, labels }, [images.buffer, labels.buffer], ["csv"]).then((d) => d.text);
  }

  /**
   * Fine-tune the model in use on drawings (Uint8Array(n*784) images, Uint8Array(n) labels).
   * Emits "tune-progress" {step, steps, loss, pythonMs}; resolves {bytes, ms, pythonMs, replayMs, finishMs}
   * (the personal model file, and the worker's timings: worker.js) or null if cancelled; rejects with
   * the reason (the model in use is then unchanged).
   */
  tune(images, labels, steps) {
    const progress = (p) => this.#emit("tune-progress", p);
    return this.#ask("tune", { images, labels, steps }, [images.buffer, labels.buffer], ["tuned", "tune-cancelled"], {
      "tune-progress": progress,
    }).then((detail) => {
      if (detail.type === "tuned") this.#emit("tuned", detail);
      return detail.type === "tuned" ? detail : null;
    });
  }

  cancelTune() {
    this.worker.postMessage({ type: "tune-cancel" });
  }

  /** Send a request with a fresh id; resolves with the worker's answer of one of okTypes with that id,
   * rejects with its error (or when loading fails). progress: {type: handler} for messages along the way.
   * transfer: buffers the worker takes over (the caller must not use them afterwards). */
  #ask(type, body, transfer, okTypes, progress = {}) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { okTypes, progress, resolve, reject });
      this.worker.postMessage({ type, id, ...body }, transfer);
    });
  }

  /** A message answering an #ask: settle it (or report its progress). -> whether it was one. */
  #answer(msg) {
    const asked = msg.id !== undefined && this.#pending.get(msg.id);
    if (!asked) return false;
    if (asked.progress[msg.type]) {
      asked.progress[msg.type](msg);
      return true;
    }
    if (msg.type !== "error" && !asked.okTypes.includes(msg.type)) return false;
    this.#pending.delete(msg.id);
    if (msg.type === "model") this.#emit("model", msg.model);
    if (msg.state) this.#emit("modified", msg.state); // "model", "tuned", "modified" carry it
    if (msg.type === "error") asked.reject(new Error(msg.message));
    else asked.resolve(msg);
    return true;
  }

  /** The drawing changed: predict it (now, or as soon as possible). */
  request() {
    this.wanted = true;
    this.#pump();
  }

  /** Nothing in flight and nothing waiting. */
  get idle() {
    return !this.inFlight && (!this.wanted || this.state !== "ready");
  }

  #pump() {
    if (this.state !== "ready" || this.inFlight || !this.wanted) return;
    this.wanted = false;
    const { pixels, strokes, width, height, pen, version, live } = this.source();
    const id = this.nextId++;
    this.inFlight = { id, version, sent: performance.now() };
    const inside = this.inside?.({ live: Boolean(live) }) ?? null;
    const message = { type: "predict", id, pixels, strokes, width, height, pen, live: Boolean(live), inside };
    this.worker.postMessage(message, [pixels.buffer, strokes.xy.buffer, strokes.ends.buffer]);
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  #fail(stage, message) {
    clearTimeout(this.watchdog);
    this.state = "error";
    this.inFlight = null;
    for (const { reject } of this.#pending.values()) reject(new Error(message));
    this.#pending.clear();
    this.#emit("error", { stage, message });
  }

  #onMessage(msg) {
    if (this.state === "loading") this.#arm();
    if (msg.type !== "result" && this.#answer(msg)) return;
    switch (msg.type) {
      case "status":
        if (this.state !== "loading") break;
        this.lastHeard = { ...this.lastHeard, stage: msg.stage, message: msg.message };
        this.#emit("status", { stage: msg.stage, message: msg.message });
        break;
      case "progress":
        if (this.state !== "loading") break;
        this.lastHeard = {
          ...this.lastHeard,
          file: msg.file,
          loaded: msg.loaded,
          total: msg.total,
          pending: msg.pending,
        };
        this.#emit("progress", { file: msg.file, loaded: msg.loaded, total: msg.total });
        break;
      case "info":
        this.#emit("info", { versions: msg.versions, sizes: msg.sizes, limits: msg.limits, samples: msg.samples });
        break;
      case "ready": {
        clearTimeout(this.watchdog);
        this.state = "opening"; // Python is ready; the app opens what it keeps (beforeReady) first
        this.#emit("model", msg.model);
        this.#emit("modified", msg.model.state);
        const worker = this.worker;
        Promise.resolve()
          .then(() => this.beforeReady?.())
          .catch((err) => console.warn("opening the app's kept state failed", err))
          .then(() => {
            if (this.state !== "opening" || worker !== this.worker) return; // failed or restarted meanwhile
            this.state = "ready";
            this.#emit("ready", { ...msg, ms: performance.now() - this.started });
            this.#pump();
          });
        break;
      }
      case "result": {
        const sent = this.inFlight;
        this.inFlight = null;
        this.#emit("result", {
          probs: msg.empty ? null : msg.probs,
          image: msg.empty ? null : msg.image,
          verdict: msg.empty ? "empty" : msg.verdict,
          reason: msg.empty ? "" : msg.reason,
          notDigit: msg.empty ? 0 : msg.notDigit,
          characters: msg.empty ? [] : msg.characters,
          fitPen: msg.empty ? 0 : msg.fitPen,
          live: Boolean(msg.live),
          inside: msg.empty ? null : msg.inside || null,
          version: sent ? sent.version : -1,
          roundTrip: sent ? performance.now() - sent.sent : NaN,
          pythonMs: msg.ms,
        });
        this.#pump();
        break;
      }
      case "error": // loading or a reading failed (an answer to no pending request is only logged)
        if (msg.request === undefined || msg.request === "init" || msg.request === "predict") {
          this.#fail(msg.stage, msg.message);
        } else {
          console.warn(`the Python worker refused a ${msg.request} request`, msg.message);
        }
        break;
      default:
        console.warn("unexpected message from the Python worker", msg);
    }
  }

  async #onWorkerError(event) {
    event.preventDefault?.();
    // A module worker that fails to load says little; find out what is missing.
    let message = event.message || "";
    try {
      for (const file of ["./worker.js", "../pyodide/runtime.mjs", "../pkg/digitnet.mjs"]) {
        const r = await fetch(new URL(file, import.meta.url), { method: "HEAD" });
        if (!r.ok) {
          const path = decodeURIComponent(new URL(file, import.meta.url).pathname.replace(/^\//, ""));
          message =
            `${path} is missing from the server (run scripts/setup.sh, ` +
            `or python -m tools.assets and python -m tools.package): HTTP ${r.status}`;
          break;
        }
      }
    } catch (err) {
      message ||= String(err);
    }
    this.#fail("runtime", `The Python worker could not start: ${message || "unknown error (see the console)"}`);
  }
}

/** 3.1 MB, 850 kB, 120 B. */
export function formatBytes(n) {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${Math.round(n / 1e3)} kB`;
  return `${n} B`;
}
