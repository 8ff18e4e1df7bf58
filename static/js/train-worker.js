// Module Web Worker: training a network from scratch, in its own Pyodide (a second core: training
// never makes the pad's worker wait). The Python is digitnet.train_session.TrainSession (the
// algorithm: digitnet.scratch); the JavaScript here only loads things, moves bytes and slices time.
//
// Messages in (from trainer.js):
//   {type: "init", baseUrl}          load the runtime, NumPy and digitnet (python-boot.js: the same files
//                                    as the pad's worker, so they come from the HTTP cache)
//   {type: "data"}                   fetch static/data/mnist.npz (MNIST_URL of static/data/mnist.mjs) with
//                                    progress, check its size and sha256, then TrainSession.load_data
//   {type: "start", settings}        settings: {hidden, lr, batch, epochs, augment, seed, limit} (any may
//                                    be left out: the defaults of digitnet.scratch.Settings)
//   {type: "pause"}, {type: "resume"}, {type: "cancel"}   handled at once, between two slices; cancel
//                                    drops the run (TrainSession.cancel): ask for its model before
//   {type: "model", id}              the .npz bytes of the last good network (TrainSession.model_bytes)
//   {type: "pictures", id, n}        the first layer's incoming weights of up to n units
//   {type: "mistakes", id, n}        up to n test digits it reads wrong
// Messages out:
//   {type: "status", stage, message}         stage: "runtime" | "code" | "data"
//   {type: "boot-progress", file, loaded, total, pending}   the boot's downloads (downloads.js)
//   {type: "data-progress", loaded, total}   bytes of mnist.npz so far (at most every PROGRESS_MS)
//   {type: "data-ready", train, test, defaults, ms, bootMs, python_ms}   defaults: digitnet.scratch.Settings()
//                                            as a dict; ms: fetching and checking the data;
//                                            bootMs: init's time; python_ms: load_data's
//   {type: "started", settings, batches_per_epoch, batches, python_ms}
//   {type: "progress", epoch, epochs, batch, batches_per_epoch, seen, losses, accuracy, done, diverged,
//    python_ms, elapsedMs, slices, heapBytes}
//                                            at most every PROGRESS_MS, and at once when an epoch ends;
//                                            losses: every batch's loss since the last progress message;
//                                            python_ms: the step calls' ms since then (slices of them);
//                                            elapsedMs: training time since start, pauses left out;
//                                            heapBytes: this worker's WebAssembly memory
//   {type: "paused", ...the latest progress} {type: "done", ...the last progress} (diverged: null or why)
//   {type: "cancelled"}
//   {type: "model", id, bytes: Uint8Array, python_ms}
//   {type: "pictures", id, data: Float32Array(n*784), n, python_ms}
//   {type: "mistakes", id, list: [{label, read}], images: Uint8Array(n*784), python_ms}
//   {type: "error", stage, message, request, id?}   plain words, with the reason
//
// Training runs in slices of about SLICE_MS of TrainSession.step with a zero-delay yield between them,
// so every message is handled within one slice.

import { downloads, reason, setOrigin, StageError } from "./downloads.js";
import { booting, copyArray, loadPython } from "./python-boot.js";

const SLICE_MS = 50; // wall time of one TrainSession.step call
const PROGRESS_MS = 100; // progress messages at most this often

// downloads.js posts the boot's download progress as {type: "progress"}: here that name is training's,
// so those are sent on as "boot-progress", during the boot only (the data has its own progress).
const send = self.postMessage.bind(self);
self.postMessage = (msg, transfer) => {
  if (msg?.type === "progress") {
    if (!downloads.booting) return;
    send({ ...msg, type: "boot-progress" }, transfer || []);
    return;
  }
  send(msg, transfer || []);
};
const post = (msg, transfer) => send(msg, transfer || []);

let pyodide = null;
let session = null; // digitnet.train_session.TrainSession
let data = null; // {train, test} once the data is loaded
let bootMs = null;

/** Why it failed, in plain words: the traceback's last line without the exception's class name. */
const plain = (err) => reason(err).replace(/^[A-Za-z_.]*(Error|Exception): /, "");

/** Call Python and time it: [value, ms]. */
function python(call) {
  const t = performance.now();
  const out = call();
  return [out, performance.now() - t];
}

// ---- boot ----

async function init({ baseUrl }) {
  if (session) return;
  const t0 = performance.now();
  setOrigin(baseUrl);
  await booting(async () => {
    post({ type: "status", stage: "runtime", message: "Getting Python ready for training…" });
    pyodide = await loadPython({ later: true }); // training shuffles with np.random from its first step
    post({ type: "status", stage: "code", message: "Loading the training code…" });
    try {
      const module = pyodide.pyimport("digitnet.train_session");
      session = module.TrainSession();
      module.destroy();
    } catch (err) {
      throw new StageError("code", `The training code (digitnet.train_session) could not be loaded: ${plain(err)}`);
    }
  });
  bootMs = performance.now() - t0;
}

// ---- the data: static/data/mnist.npz, checked before use ----

const hex = (buffer) => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");

/** mnist.npz's bytes, read with progress; refused unless its size and sha256 are those mnist.mjs gives. */
async function fetchMnist(baseUrl) {
  let pinned;
  try {
    pinned = await import("../data/mnist.mjs");
  } catch (err) {
    throw new StageError(
      "data",
      `static/data/mnist.mjs could not be loaded (run bash scripts/setup.sh to build the training data): ${plain(err)}`,
    );
  }
  const { MNIST_BYTES: size, MNIST_SHA256: sha256, MNIST_URL } = pinned;
  const url = new URL(MNIST_URL, baseUrl).href;
  const name = "static/data/mnist.npz";
  const refuse = (why) => new StageError("data", `The MNIST digits could not be loaded: ${name}: ${why}`);
  post({ type: "status", stage: "data", message: "Fetching the MNIST digits…" });
  post({ type: "data-progress", loaded: 0, total: size });
  let response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new StageError("data", `The MNIST digits could not be loaded: ${plain(err)}`); // it names the file
  }
  if (!response.ok) throw refuse(`HTTP ${response.status} ${response.statusText}`.trim());
  const bytes = new Uint8Array(size);
  let loaded = 0;
  let last = performance.now();
  const reader = response.body.getReader();
  try {
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      if (loaded + chunk.value.byteLength > size) {
        reader.cancel();
        throw refuse(`it is larger than the ${size} bytes static/data/mnist.mjs gives (run the set-up again)`);
      }
      bytes.set(chunk.value, loaded);
      loaded += chunk.value.byteLength;
      if (performance.now() - last >= PROGRESS_MS) {
        last = performance.now();
        post({ type: "data-progress", loaded, total: size });
      }
    }
  } catch (err) {
    if (err instanceof StageError) throw err;
    throw refuse(`it broke off after ${loaded} bytes (${plain(err)})`);
  }
  post({ type: "data-progress", loaded, total: size });
  if (loaded !== size) throw refuse(`only ${loaded} of the ${size} bytes static/data/mnist.mjs gives arrived`);
  const digest = hex(await crypto.subtle.digest("SHA-256", bytes));
  if (digest !== sha256) {
    throw refuse(`its sha256 is ${digest.slice(0, 12)}…, not the ${sha256.slice(0, 12)}… static/data/mnist.mjs gives`);
  }
  return bytes;
}

async function loadData({ baseUrl }) {
  if (!session) throw new StageError("data", "Python is not ready yet");
  if (!data) {
    const t = performance.now();
    const bytes = await fetchMnist(baseUrl || self.location.href);
    let answer;
    let ms;
    try {
      [answer, ms] = python(() => session.load_data(bytes));
    } catch (err) {
      throw new StageError("data", `The MNIST digits could not be read: static/data/mnist.npz: ${plain(err)}`);
    }
    data = { ...JSON.parse(answer), ms: performance.now() - t, python_ms: ms };
  }
  post({ type: "data-ready", ...data, bootMs });
}

// ---- training, in slices ----

let state = "idle"; // "idle" | "running" | "paused" | "done" | "cancelled" | "error"
let run = 0; // which start the loop belongs to: a new start (or cancel) ends an older loop
let active = null; // the run whose loop is alive (it may be waiting for its next slice)
let elapsed = 0; // ms of training before the current stretch (pauses left out)
let since = 0; // performance.now() when the current stretch of running began
let latest = null; // the latest progress message (without its losses)
let pending = { losses: [], python_ms: 0, slices: 0 }; // since the last progress message

const elapsedMs = () => elapsed + (state === "running" ? performance.now() - since : 0);

// A zero-delay yield: what setTimeout(0) does, without the 4 ms nested timers are clamped to.
const channel = new MessageChannel();
const waiting = [];
channel.port1.onmessage = () => waiting.shift()?.();
const yieldNow = () =>
  new Promise((resolve) => {
    waiting.push(resolve);
    channel.port2.postMessage(null);
  });

function start({ settings }) {
  if (!data) throw new StageError("start", "The MNIST digits are not loaded yet");
  if (state === "running" || state === "paused") {
    throw new StageError("start", "A training run is already under way: cancel it first.");
  }
  let answer;
  let ms;
  try {
    [answer, ms] = python(() => session.start(JSON.stringify(settings || {})));
  } catch (err) {
    throw new StageError("settings", `Training could not start: ${plain(err)}`);
  }
  post({ type: "started", ...JSON.parse(answer), python_ms: ms });
  run += 1;
  state = "running";
  elapsed = 0;
  since = performance.now();
  latest = null;
  pending = { losses: [], python_ms: 0, slices: 0 };
  loop(run);
}

/** Post what happened since the last progress message. */
function flush() {
  if (!latest) return null;
  const msg = { type: "progress", ...latest, ...pending, elapsedMs: elapsedMs() };
  msg.heapBytes = pyodide._module.HEAP8.length;
  pending = { losses: [], python_ms: 0, slices: 0 };
  post(msg);
  return msg;
}

async function loop(mine) {
  active = mine;
  try {
    await slices(mine);
  } finally {
    if (active === mine) active = null;
  }
}

async function slices(mine) {
  let lastPost = performance.now();
  let epochsDone = latest ? latest.accuracy.length : 0;
  while (state === "running" && run === mine) {
    let p;
    let ms;
    try {
      const [answer, t] = python(() => session.step(SLICE_MS));
      p = JSON.parse(answer);
      ms = t;
    } catch (err) {
      state = "error";
      flush();
      post({ type: "error", stage: "train", request: "start", message: `Training stopped: ${plain(err)}` });
      return;
    }
    const { losses, python_ms: _inPython, ...rest } = p;
    latest = rest;
    pending.losses.push(...losses);
    pending.python_ms += ms;
    pending.slices += 1;
    const finished = p.done || Boolean(p.diverged);
    const epochEnded = p.accuracy.length > epochsDone;
    epochsDone = p.accuracy.length;
    if (finished) {
      elapsed = elapsedMs();
      state = "done";
      const last = flush();
      post({ ...last, type: "done" });
      return;
    }
    if (epochEnded || performance.now() - lastPost >= PROGRESS_MS) {
      flush();
      lastPost = performance.now();
    }
    await yieldNow(); // messages that arrived meanwhile (pause, cancel, pictures…) are handled now
  }
}

function pause() {
  if (state !== "running") return;
  elapsed = elapsedMs();
  state = "paused";
  const last = flush();
  post({ ...(last || {}), type: "paused" });
}

function resume() {
  if (state !== "paused") return;
  state = "running";
  since = performance.now();
  if (active !== run) loop(run); // else the loop is still there (paused and resumed within one slice)
}

function cancel() {
  if (state !== "running" && state !== "paused") return;
  run += 1; // the loop under way stops before its next slice
  elapsed = elapsedMs();
  state = "cancelled";
  pending = { losses: [], python_ms: 0, slices: 0 };
  latest = null;
  session.cancel(); // the run is dropped (what was kept, the page keeps)
  post({ type: "cancelled" });
}

// ---- what the page asks of the network being trained ----

function need(stage) {
  if (!session || !latest)
    throw new StageError(stage, "There is no training run: none has started, or it was cancelled");
}

function model({ id }) {
  need("model");
  let out;
  let ms;
  try {
    [out, ms] = python(() => session.model_bytes());
  } catch (err) {
    throw new StageError("model", `The trained network could not be saved: ${plain(err)}`);
  }
  let bytes;
  try {
    bytes = out.toJs().slice();
  } finally {
    out.destroy();
  }
  post({ type: "model", id, bytes, python_ms: ms }, [bytes.buffer]);
}

function pictures({ id, n }) {
  need("pictures");
  const [out, ms] = python(() => session.pictures(n));
  const values = copyArray(out, "f32");
  post({ type: "pictures", id, data: values, n: values.length / 784, python_ms: ms }, [values.buffer]);
}

function mistakes({ id, n }) {
  need("mistakes");
  const [answer, ms1] = python(() => session.mistakes(n));
  const [out, ms2] = python(() => session.mistake_images(n));
  const images = copyArray(out, "u8");
  post({ type: "mistakes", id, list: JSON.parse(answer), images, python_ms: ms1 + ms2 }, [images.buffer]);
}

// ---- messages ----

const handlers = { init, data: loadData, start, pause, resume, cancel, model, pictures, mistakes };

// One message at a time, in order (init and the data finish before anything else runs); the training
// loop is not in this queue: its slices leave room for every message.
let queue = Promise.resolve();
let initMsg = {};
self.onmessage = (event) => {
  const msg = event.data || {};
  if (msg.type === "init") initMsg = msg;
  queue = queue.then(async () => {
    try {
      const handler = Object.hasOwn(handlers, msg.type) ? handlers[msg.type] : null;
      if (!handler) throw new StageError("message", `unknown message type ${JSON.stringify(msg.type)}`);
      await handler({ baseUrl: initMsg.baseUrl, ...msg });
    } catch (err) {
      const stage = err instanceof StageError ? err.stage : msg.type || "internal";
      const message = err instanceof StageError ? err.message : `Unexpected error: ${plain(err)}`;
      if (!(err instanceof StageError)) console.error(err);
      post({ type: "error", stage, message, request: msg.type, id: msg.id });
    }
  });
};
