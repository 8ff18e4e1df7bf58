// Talks to the training worker (train-worker.js: a second Pyodide, so training never makes the pad's
// worker wait). The card (train.js) and the bench drive training through it.
//
//   const trainer = new Trainer();
//   await trainer.open();                 boots the worker and loads the data (idempotent: the same
//                                         promise while it loads or once loaded; after a failure a new
//                                         worker tries again). Resolves the "data-ready" message.
//   await trainer.start(settings);        resolves the "started" message; rejects (Error with .stage)
//                                         when the settings are refused or a run is under way
//   trainer.pause(); trainer.resume(); trainer.cancel();   answered by "paused" / progress / "cancelled"
//   await trainer.modelBytes();           Uint8Array: the .npz of the last good network
//   await trainer.pictures(n);            {data: Float32Array(n*784) in [-1, 1], n}: first-layer weights
//   await trainer.mistakes(n);            {list: [{label, read}], images: Uint8Array(n*784)}
//   trainer.close();                      ends the worker (and its Python)
//
// Events (CustomEvent, detail: the worker's message, as listed in train-worker.js): "status",
// "boot-progress", "data-progress", "data-ready", "started", "progress", "paused", "done",
// "cancelled", "error". "error" is for the run and the loading (stage: "runtime", "code", "data",
// "settings", "start", "train", ...); a request with an id that fails (modelBytes, pictures, mistakes)
// rejects its promise instead. trainer.state follows: "closed" | "loading" | "ready" | "running" |
// "paused" | "done" | "cancelled" | "error".

/** An Error from the worker's {stage, message}. */
function failure(detail) {
  const err = new Error(detail.message);
  err.stage = detail.stage;
  return err;
}

export class Trainer extends EventTarget {
  constructor() {
    super();
    this.worker = null;
    this.state = "closed";
    this.nextId = 1;
  }

  #opening = null; // the promise open() returns until it fails
  #open = null; // {resolve, reject} while loading
  #starting = null; // {resolve, reject} while a start awaits "started"
  #pending = new Map(); // id -> {type, resolve, reject}

  open() {
    if (this.#opening) return this.#opening;
    this.#opening = new Promise((resolve, reject) => {
      this.#open = { resolve, reject };
    });
    this.#opening.catch(() => {}); // a caller that does not wait still sees the "error" event
    this.state = "loading";
    const worker = new Worker(new URL("./train-worker.js", import.meta.url), { type: "module", name: "training" });
    this.worker = worker;
    worker.addEventListener("message", (e) => worker === this.worker && this.#onMessage(e.data || {}));
    worker.addEventListener("error", (e) => {
      if (worker !== this.worker) return;
      e.preventDefault?.();
      const why = e.message || "its script could not be loaded (static/js/train-worker.js)";
      this.#onMessage({ type: "error", stage: "runtime", message: `The training worker stopped: ${why}` });
    });
    worker.addEventListener("messageerror", () => {
      if (worker !== this.worker) return;
      this.#onMessage({
        type: "error",
        stage: "internal",
        message: "A message from the training worker could not be read.",
      });
    });
    worker.postMessage({ type: "init", baseUrl: new URL(".", document.baseURI).href });
    worker.postMessage({ type: "data" });
    return this.#opening;
  }

  /** Start a run: settings as digitnet.scratch.Settings (fields left out take its defaults). */
  start(settings = {}) {
    if (!this.worker) return Promise.reject(new Error("The trainer is not open"));
    this.#starting?.reject(new Error("Another start was asked for"));
    const promise = new Promise((resolve, reject) => {
      this.#starting = { resolve, reject };
    });
    this.worker.postMessage({ type: "start", settings });
    return promise;
  }

  pause() {
    this.worker?.postMessage({ type: "pause" });
  }

  resume() {
    if (this.state === "paused") this.state = "running";
    this.worker?.postMessage({ type: "resume" });
  }

  cancel() {
    this.worker?.postMessage({ type: "cancel" });
  }

  /** The .npz bytes of the last good network (a Uint8Array the caller owns). */
  modelBytes() {
    return this.#ask("model", {}).then((d) => d.bytes);
  }

  /** The first layer's incoming weights of up to n units: {data: Float32Array(n*784), n}. */
  pictures(n = 64) {
    return this.#ask("pictures", { n }).then(({ data, n: count }) => ({ data, n: count }));
  }

  /** Up to n test digits the network reads wrong: {list: [{label, read}], images: Uint8Array(n*784)}. */
  mistakes(n = 8) {
    return this.#ask("mistakes", { n }).then(({ list, images }) => ({ list, images }));
  }

  /** End the worker; pending requests are rejected. open() starts a new one. */
  close() {
    this.worker?.terminate();
    this.worker = null;
    this.state = "closed";
    this.#dropAll(new Error("The trainer was closed"));
  }

  #ask(type, payload) {
    if (!this.worker) return Promise.reject(new Error("The trainer is not open"));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { type, resolve, reject });
      this.worker.postMessage({ type, id, ...payload });
    });
  }

  #dropAll(err) {
    this.#open?.reject(err);
    this.#starting?.reject(err);
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
    this.#open = this.#starting = this.#opening = null;
  }

  #onMessage(msg) {
    const waiter = msg.id !== undefined ? this.#pending.get(msg.id) : null;
    if (waiter) {
      this.#pending.delete(msg.id);
      if (msg.type === "error") waiter.reject(failure(msg));
      else waiter.resolve(msg);
      return;
    }
    if (msg.type === "data-ready") {
      this.state = "ready";
      this.#open?.resolve(msg);
      this.#open = null;
    } else if (msg.type === "started") {
      this.state = "running";
      this.#starting?.resolve(msg);
      this.#starting = null;
    } else if (msg.type === "paused" || msg.type === "done" || msg.type === "cancelled") {
      this.state = msg.type;
    } else if (msg.type === "error") {
      this.#onError(msg);
    }
    this.dispatchEvent(new CustomEvent(msg.type, { detail: msg }));
  }

  #onError(msg) {
    if (this.#open) {
      // loading failed: this worker is done for; open() tries again with a new one
      this.state = "error";
      this.worker?.terminate();
      this.worker = null;
      this.#dropAll(failure(msg));
    } else if (msg.request === "start" && this.#starting) {
      this.#starting.reject(failure(msg)); // the settings were refused: the trainer stays ready
      this.#starting = null;
    } else if (msg.request === "start" || !msg.request) {
      this.state = "error"; // the run stopped (a failure in a step), or the worker itself did
    }
  }
}
