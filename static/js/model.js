// Talks to the Python worker: loading, then predictions with at most one in flight.
//
// predictor.request() says "the drawing changed". If nothing is in flight the
// current drawing is sent at once; otherwise it is sent when the answer comes
// back, read at that moment, so the newest drawing always wins and requests
// never pile up. Before the model is ready requests wait and the latest
// drawing goes out as soon as it is.
//
// Events (CustomEvent, detail as shown):
//   "status" {stage, message}            loading progress
//   "info"   {versions, sizes}           the Python code is loaded: sizes from digitnet.sizes
//   "ready"  {versions, model, timings, files, ms}
//   "result" {probs|null, image|null, version, roundTrip, pythonMs}
//   "error"  {stage, message}            anything that went wrong, in plain words

export class Predictor extends EventTarget {
  /**
   * @param {() => {pixels: Uint8Array, width: number, height: number, version: number}} source
   *        reads the current drawing when a request is actually sent
   */
  constructor(source) {
    super();
    this.source = source;
    this.state = "loading";
    this.wanted = false;
    this.inFlight = null;
    this.nextId = 1;
    this.started = performance.now();
    this.worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module", name: "python" });
    this.worker.addEventListener("message", (e) => this.#onMessage(e.data));
    this.worker.addEventListener("error", (e) => this.#onWorkerError(e));
    this.worker.addEventListener("messageerror", () =>
      this.#fail("internal", "A message from the Python worker could not be read."));
  }

  /** Start loading: runtime, NumPy, py/*.py, then the model at modelUrl (same origin). */
  start(modelUrl) {
    this.worker.postMessage({
      type: "init",
      baseUrl: new URL(".", document.baseURI).href,
      modelUrl: new URL(modelUrl, document.baseURI).href,
    });
  }

  /** Replace the model with the file at url (same origin). Resolves when it is in use. */
  loadModel(url) {
    return new Promise((resolve, reject) => {
      const done = (e) => {
        if (e.type === "model-loaded") resolve(e.detail);
        else reject(new Error(e.detail.message));
        this.removeEventListener("model-loaded", done);
        this.removeEventListener("error", done);
      };
      this.addEventListener("model-loaded", done);
      this.addEventListener("error", done);
      this.worker.postMessage({ type: "load-model", url: new URL(url, document.baseURI).href });
    });
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
    const { pixels, width, height, version } = this.source();
    const id = this.nextId++;
    this.inFlight = { id, version, sent: performance.now() };
    this.worker.postMessage({ type: "predict", id, pixels, width, height }, [pixels.buffer]);
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  #fail(stage, message) {
    this.state = "error";
    this.inFlight = null;
    this.#emit("error", { stage, message });
  }

  #onMessage(msg) {
    switch (msg.type) {
      case "status":
        if (this.state !== "loading") break;
        this.#emit("status", { stage: msg.stage, message: msg.message });
        break;
      case "info":
        this.#emit("info", { versions: msg.versions, sizes: msg.sizes });
        break;
      case "ready":
        this.state = "ready";
        this.#emit("ready", { ...msg, ms: performance.now() - this.started });
        this.#pump();
        break;
      case "model":
        this.#emit("model-loaded", msg);
        break;
      case "result": {
        const sent = this.inFlight;
        this.inFlight = null;
        this.#emit("result", {
          probs: msg.empty ? null : msg.probs,
          image: msg.empty ? null : msg.image,
          version: sent ? sent.version : -1,
          roundTrip: sent ? performance.now() - sent.sent : NaN,
          pythonMs: msg.ms,
        });
        this.#pump();
        break;
      }
      case "error":
        this.#fail(msg.stage, msg.message);
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
      for (const file of ["../pyodide/runtime.mjs", "../pkg/digitnet.mjs"]) {
        const r = await fetch(new URL(file, import.meta.url), { method: "HEAD" });
        if (!r.ok) {
          message = `static/${file.slice(3)} is missing from the server (run scripts/setup.sh, ` +
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
