// Module Web Worker: Python (Pyodide) + NumPy running the network of py/digitnet/.
//
// Messages in (from model.js):
//   {type: "init", baseUrl, modelUrl}      load runtime, NumPy and digitnet, then the model
//   {type: "load-model", id, url}          (re)load a model file (same origin only; at most
//                                          MODEL_MAX_BYTES, refused from its Content-Length)
//   {type: "predict", id, pixels, strokes, width, height, pen, live, inside}
//                                          pixels: Uint8Array(width*height), ink 0-255; pen: its diameter (px);
//                                          strokes: {xy: Float32Array, ends: Int32Array} (Pad.strokeArrays),
//                                          or absent (the reading then has the pixels alone);
//                                          live: the pen is down, one quick reading (else all nine views);
//                                          inside: {layer, index, character} with the Inside view open (that
//                                          unit in detail, -1: the top of the path; of that character), else null
//   {type: "modify", id, change}           break the network or restore it (digitnet.browser.Session.modify)
//
// Once ready (after the warm-up), the worker installs the packages the boot left out (python-boot.js
// loadLater: NumPy's extension modules that import numpy does not load); fine-tuning and the noise of
// "modify" wait for them (np.random).
// Messages out:
//   {type: "status", stage, message}       stage: "runtime" | "numpy" | "code" | "model"
//   {type: "progress", file, loaded, total, pending}
//                                          bytes of the boot's downloads so far, as they cross the
//                                          network (compressed: downloads.js), (at most every
//                                          PROGRESS_MS while data flows); file: the latest one to
//                                          move; pending: the files still downloading
//   {type: "info", versions, sizes, limits, samples}  once digitnet is imported (before the model loads);
//                                          sizes: {side, pixels, classes, not_digit, canvas} from
//                                          digitnet.sizes; limits: what the import and a model file may be;
//                                          samples: [{digit, strokes}] (digitnet.samples), the sample digits
//   {type: "ready", versions, model, timings, files, blocked}
//                                          timings: ms of each stage, and transferSize: the bytes its
//                                          downloads took on the wire (resource timing);
//                                          files: URLs this worker downloaded; blocked: when its event
//                                          loop was blocked during the boot (watchBlocked)
//   {type: "model", id, url, model, ms}    answer to "load-model" and "load-model-bytes"; model (also in
//                                          "ready"): {name, layers, test_error, inside, state}: inside =
//                                          digitnet.inside_wire.describe (the Inside view's layout, grids),
//                                          state = Session.modification() (a new model: nothing broken)
//   {type: "modified", id, state}          answer to "modify": Session.modification()
//   {type: "result", id, probs: Float32Array, image: Float32Array, notDigit, verdict, reason, characters, fitPen,
//    live, inside, ms}                     verdict "digit" | "not-digit" | "number"; reason (digitnet.predict.REASONS);
//                                          characters: [{box: [left, top, right, bottom] (pad px), probs, image,
//                                          notDigit, verdict, reason}] left to right (digitnet.number; one for
//                                          a single digit); for a number the rest is its first character;
//                                          fitPen: a thinner pen (pad heights) that suits characters this
//                                          size when the pen is too thick for them, else 0 (fitting_pen);
//                                          inside: {name: Float32Array} (digitnet.inside_wire) if asked, else null
//   {type: "result", id, empty: true, live, ms}  empty pad or a lone dot (Python returned None)
//   {type: "error", stage, message, id?}   plain words, with the reason
//
// Teaching (digitnet.tune through digitnet.browser.Session):
//   in:  {type: "load-model-bytes", id, bytes, name}   a personal model kept by the page
//        {type: "why", id, pixels, strokes, width, height, pen, character} -> {type: "why", id, why: Float32Array(784) | null}
//                                                  (character: which of a number's, 0 for a single digit)
//        {type: "tune", id, images: Uint8Array(N*784), labels: Uint8Array(N), steps}
//                                                  (refused while another is under way)
//        {type: "tune-cancel"}                     (handled at once, between slices of steps)
//   out: {type: "tune-progress", id, step, steps, loss, pythonMs},
//        {type: "tuned", id, bytes, ms, pythonMs, replayMs, finishMs, report, state},
//        {type: "tune-cancelled", id}; a failure is {type: "error", stage: "tune", request: "tune"}
//        progress pythonMs: the Python call that got there (start_tuning for step 0, else one tune_step
//        slice); tuned: ms = this worker's whole time for the request, pythonMs = all its Python calls
//        (start_tuning + every tune_step + finish_tuning), replayMs = fetching and checking replay.npz,
//        finishMs = finish_tuning (the model file's bytes made in Python); report = Session.tuning_report
//        (how many of the drawings the model read right before and after)
//
// Importing drawings (digitnet.csvfile through digitnet.browser.Session):
//   in:  {type: "import-csv", id, bytes: Uint8Array, name}
//   out: {type: "import-progress", id, row, rows}, then {type: "imported", id, labels: Uint8Array(N),
//        images: Uint8Array(N*784)}; a refused file is {type: "error", stage: "import", request:
//        "import-csv", id, message} naming the file, line and column
//   in:  {type: "export-csv", id, images, labels} -> {type: "csv", id, text}  the same format, written
//
// Every answer to a request that carries an id carries the same id.
//
// Everything comes from this server: the runtime and NumPy from static/pyodide/<tag>/, the
// package digitnet as a wheel built from py/digitnet/ (static/pkg/, by tools/package.py),
// the model from static/model/. The Python this worker runs is digitnet.browser; the
// JavaScript here only loads things and moves bytes.

// python-boot.js (the boot this worker shares with train-worker.js) loads the runtime of runtime.mjs
// (generated by tools/assets.py: static/pyodide/<version tag>/, the runtime with its Python
// precompiled, served immutable because its URL changes with its content), NumPy and the wheel;
// downloads.js counts and checks every file it fetches.
import { REPLAY_SHA256 } from "../pkg/digitnet.mjs";
import { StageError, displayName, fetchBytes, reason, sameOrigin, setOrigin } from "./downloads.js";
import { LATER_URLS, booting, copyArray, loadLater, loadPython } from "./python-boot.js";

let pyodide = null;
let session = null; // digitnet.browser.Session
let layout = null; // where probs, not_digit, verdict, reason and image sit in a prediction's float32 array
let words = null; // {verdicts, reasons}: what the verdict and reason indices mean
let hasModel = false;

const WARM_UP_ROUNDS = 12; // predictions run once ready, between real ones, so V8 has tiered up

const post = (msg, transfer) => self.postMessage(msg, transfer || []);

// ---- boot ----

/** While the boot runs, the spans in which this worker's event loop was blocked for more than
 * BLOCKED_MS (a synchronous call, such as Python starting): it can post nothing then, so the page's
 * progress may pause. [[start, end], ...] in ms since the epoch (performance.timeOrigin based), so the
 * page can compare them with its own clock. */
const BLOCKED_MS = 200;
function watchBlocked() {
  const spans = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    if (now - last > BLOCKED_MS) spans.push([performance.timeOrigin + last, performance.timeOrigin + now]);
    last = now;
  }, 50);
  return { spans, stop: () => clearInterval(timer) };
}

async function init(msg) {
  blocked = watchBlocked();
  try {
    await booting(() => boot(msg));
  } finally {
    blocked.stop();
  }
}
let blocked = null;

async function boot({ baseUrl, modelUrl }) {
  const t0 = performance.now();
  const timings = {};
  const mark = (name, since) => (timings[name] = Math.round(performance.now() - since));
  setOrigin(baseUrl);

  // The model downloads while the runtime boots; if it fails, say so at once.
  const modelTarget = sameOrigin(modelUrl);
  const modelName = displayName(modelTarget);
  const modelBytes = fetchBytes(modelTarget.href);

  const [info, bytes] = await Promise.all([
    (async () => {
      await bootPython(timings, mark);
      return importCode(timings, mark);
    })(),
    modelBytes,
  ]);

  post({ type: "status", stage: "model", message: "Loading the model…" });
  const t = performance.now();
  const model = installModel(bytes, modelName);
  mark("model", t);
  timings.total = Math.round(performance.now() - t0);
  const resources = performance.getEntriesByType("resource");
  const files = resources.map((e) => e.name);
  timings.transferSize = resources.reduce((sum, e) => sum + e.transferSize, 0); // bytes on the wire
  blocked.stop();
  // The packages the boot left out are in the list too: the offline cache fetches them if need be.
  files.push(...LATER_URLS);
  post({ type: "ready", versions: info.versions, model, timings, files, blocked: blocked.spans });
  warmUp(WARM_UP_ROUNDS);
}

/** Pyodide with NumPy and digitnet: the packages download while the runtime boots. */
async function bootPython(_timings, mark) {
  post({ type: "status", stage: "runtime", message: "Getting the network ready…" });
  const t = performance.now();
  pyodide = await loadPython();
  mark("runtime", t);
}

/** Import digitnet.browser (installed by bootPython) and make the session. */
function importCode(_timings, mark) {
  post({ type: "status", stage: "code", message: "Loading the network code…" });
  const t = performance.now();
  let info;
  try {
    const browser = pyodide.pyimport("digitnet.browser");
    info = JSON.parse(browser.describe());
    session = browser.Session();
    browser.destroy();
  } catch (err) {
    throw new StageError("code", `The network code (digitnet) could not be loaded: ${reason(err)}`);
  }
  layout = { ...info.layout, character: info.character, resultLength: info.result_length };
  layout.characterLength = info.character_length;
  words = { verdicts: info.verdicts, reasons: info.reasons };
  info.versions.pyodide = pyodide.version;
  mark("code", t);
  post({ type: "info", versions: info.versions, sizes: info.sizes, limits: info.limits, samples: info.samples });
  return info;
}

function installModel(buffer, name) {
  let result;
  try {
    result = JSON.parse(session.load_model(new Uint8Array(buffer), name));
  } catch (err) {
    throw new StageError("model", `The model could not be loaded: ${name}: ${reason(err)}`);
  }
  if (!result.ok) throw new StageError("model", `The model could not be loaded: ${result.error}`);
  hasModel = true;
  insideLayout = result.inside.layout;
  const state = JSON.parse(session.modification()); // a new model is used as it is: nothing broken
  return { name, layers: result.layers, test_error: result.test_error, inside: result.inside, state };
}

async function loadModel({ id, url }) {
  const t = performance.now();
  if (!session) throw new StageError("model", "Python is not ready yet");
  const target = sameOrigin(url);
  const bytes = await fetchBytes(target.href);
  const model = installModel(bytes, displayName(target));
  post({ type: "model", id, url: target.href, model, ms: Math.round(performance.now() - t) });
}

/** Load a model from bytes the page kept (a personal model from IndexedDB). */
function loadModelBytes({ id, bytes, name }) {
  if (!session) throw new StageError("model", "Python is not ready yet");
  const t = performance.now();
  const model = installModel(bytes, name);
  post({ type: "model", id, url: name, model, ms: Math.round(performance.now() - t) });
}

/** Which pixels pushed the answer (gradient x input), for the preview's overlay. */
function why({ id, pixels, strokes, width, height, pen, character }) {
  if (!hasModel) throw new StageError("why", "no model is loaded");
  const { xy = null, ends = null } = strokes ?? {};
  const values = copyF32(session.why(pixels, height, width, pen || 0, character || 0, xy, ends));
  post({ type: "why", id, why: values }, values ? [values.buffer] : []);
}

/** A float32 NumPy array Python returned -> a Float32Array copy (the Python object is let go), or
 * null for None. */
const copyF32 = (out) => copyArray(out, "f32");

// ---- the Inside view (digitnet.inside through Session.inside / Session.modify) ----

let insideLayout = null; // name -> [start, stop) in Session.inside's array (inside_wire.layout), per model

/** The Inside view's numbers for the reading just made, unit = {layer, index} in detail: {name:
 * Float32Array} sliced as Python laid them out, or null when it read nothing. */
function insideValues(unit) {
  const data = copyF32(session.inside(unit.layer, unit.index, unit.character || 0));
  if (!data) return null;
  const values = {};
  for (const [name, [start, stop]] of Object.entries(insideLayout)) values[name] = data.subarray(start, stop);
  return values;
}

/** Break the network or restore it (Session.modify): answers {type: "modified", id, state}. */
async function modify({ id, change }) {
  if (!hasModel) throw new StageError("modify", "no model is loaded");
  if (change?.noise) await loadLater(pyodide, "modify"); // the noise's pattern: np.random
  let state;
  try {
    state = JSON.parse(session.modify(JSON.stringify(change)));
  } catch (err) {
    throw new StageError("modify", `The network could not be changed: ${reason(err)}`);
  }
  post({ type: "modified", id, state });
}

// ---- fine-tuning: the person's drawings + the MNIST replay sample, in slices of steps ----

const REPLAY_URL = new URL("../model/replay.npz", import.meta.url).href;
const TUNE_SLICE = 5; // SGD steps between progress messages (and chances to cancel)
let tuneCancelled = false;
let tuneUnderWay = false; // from a "tune" message's arrival to its answer: one at a time

async function replayBytes() {
  const bytes = await (await fetch(REPLAY_URL)).arrayBuffer();
  const digest = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)), (b) =>
    b.toString(16).padStart(2, "0"),
  ).join("");
  if (digest !== REPLAY_SHA256) {
    throw new Error(`static/model/replay.npz is not the pinned file (sha256 ${digest.slice(0, 12)}…)`);
  }
  return new Uint8Array(bytes);
}

async function tune({ id, images, labels, steps }) {
  if (!hasModel) throw new StageError("tune", "no model is loaded");
  await loadLater(pyodide, "tune"); // the drawings' order: np.random (installed once ready, as a rule)
  const t0 = performance.now();
  let pythonMs = 0;
  const python = (call) => {
    // time every Python call: the page tells compute from overhead
    const t = performance.now();
    const out = call();
    const ms = performance.now() - t;
    pythonMs += ms;
    return [out, ms];
  };
  tuneCancelled = false;
  try {
    const replay = await replayBytes();
    const replayMs = performance.now() - t0;
    const [started, startMs] = python(() =>
      steps ? session.start_tuning(images, labels, replay, steps) : session.start_tuning(images, labels, replay),
    );
    const start = JSON.parse(started);
    post({ type: "tune-progress", id, step: 0, steps: start.steps, loss: null, pythonMs: startMs });
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 0)); // let a cancel arrive, keep the worker responsive
      if (tuneCancelled) {
        session.cancel_tuning();
        post({ type: "tune-cancelled", id });
        return;
      }
      const [stepped, stepMs] = python(() => session.tune_step(TUNE_SLICE));
      const p = JSON.parse(stepped);
      post({ type: "tune-progress", id, step: p.step, steps: p.steps, loss: p.loss, pythonMs: stepMs });
      if (p.done) break;
    }
    const [out, finishMs] = python(() => session.finish_tuning());
    let model;
    try {
      model = out.toJs().slice(); // the personal model file's bytes, to keep on the device
    } finally {
      out.destroy();
    }
    const ms = performance.now() - t0;
    const report = JSON.parse(session.tuning_report()); // {drawings, before, after}: read right
    const state = JSON.parse(session.modification()); // the tuned model is used as it is
    post({ type: "tuned", id, bytes: model, ms, pythonMs, replayMs, finishMs, report, state }, [model.buffer]);
  } catch (err) {
    try {
      session.cancel_tuning();
    } catch {
      /* nothing was under way */
    }
    throw new StageError("tune", `Fine-tuning failed; the model in use is unchanged: ${reason(err)}`);
  }
}

// ---- importing drawings: the CSV read by digitnet.csvfile (as the CLIs read it), in slices ----

const IMPORT_SLICE = 500; // rows between progress messages (and chances to answer a reading)

async function importCsv({ id, bytes, name }) {
  if (!session) throw new StageError("import", "Python is not ready yet");
  const answer = (json) => {
    const r = JSON.parse(json);
    if (!r.ok) throw new StageError("import", r.error);
    return r;
  };
  const { rows } = answer(session.start_import(bytes, name));
  post({ type: "import-progress", id, row: 0, rows });
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    const p = answer(session.import_step(IMPORT_SLICE));
    post({ type: "import-progress", id, row: p.row, rows });
    if (p.done) break;
  }
  const out = session.finish_import(); // uint8: the labels, then the images (digitnet.browser)
  let data;
  try {
    data = out.toJs().slice();
  } finally {
    out.destroy();
  }
  post({ type: "imported", id, labels: data.subarray(0, rows), images: data.subarray(rows) }, [data.buffer]);
}

/** Run a few predictions on drawings Python makes itself, one per task, so real messages that
 * arrive meanwhile wait for one call at most: the first real predictions then run warm. */
function warmUp(rounds) {
  if (rounds <= 0) return;
  setTimeout(() => {
    queue = queue.then(() => {
      try {
        session.warm_up(1);
      } catch (err) {
        console.warn("warm-up failed", err);
        return;
      }
      if (rounds > 1) warmUp(rounds - 1);
      else loadLater(pyodide, "later").catch((err) => console.warn(err.message)); // np.random, before it is needed
    });
  }, 0);
}

function predict({ id, pixels, strokes, width, height, pen, live, inside }) {
  if (!hasModel) throw new StageError("predict", "no model is loaded");
  const t = performance.now();
  let out;
  try {
    const { xy = null, ends = null } = strokes ?? {};
    out = session.predict(pixels, height, width, pen || 0, Boolean(live), xy, ends);
  } catch (err) {
    throw new StageError("predict", `The prediction failed: ${reason(err)}`);
  }
  const data = copyF32(out);
  if (!data) {
    post({ type: "result", id, empty: true, live: Boolean(live), ms: performance.now() - t });
    return;
  }
  const read = (block, at) => ({
    probs: block.slice(...at.probs),
    image: block.slice(...at.image),
    notDigit: block[at.not_digit[0]],
    verdict: words.verdicts[block[at.verdict[0]]],
    reason: words.reasons[block[at.reason[0]]],
  });
  // Each character the reading found (digitnet.number), left to right, with its box on the pad.
  const characters = [];
  for (let i = 0; i < data[layout.count[0]]; i++) {
    const start = layout.resultLength + i * layout.characterLength;
    const block = data.subarray(start, start + layout.characterLength);
    characters.push({ ...read(block, layout.character), box: Array.from(block.slice(...layout.character.box)) });
  }
  // With the Inside view open: every number behind this reading, in the same answer.
  const opened = inside ? insideValues(inside) : null;
  const transfer = characters.flatMap((c) => [c.probs.buffer, c.image.buffer]);
  if (opened) transfer.push(Object.values(opened)[0].buffer);
  post(
    {
      type: "result",
      id,
      ...read(data, layout),
      characters,
      fitPen: data[layout.pen[0]], // a thinner pen for characters this size (pad heights), or 0
      live: Boolean(live),
      inside: opened,
      ms: performance.now() - t,
    },
    transfer,
  );
}

// One message at a time, in order: init finishes before any prediction runs.
let queue = Promise.resolve();
self.onmessage = (event) => {
  const msg = event.data || {};
  if (msg.type === "tune-cancel") {
    // not queued: the fine-tuning under way checks it between slices
    tuneCancelled = true;
    return;
  }
  if (msg.type === "tune") {
    // one at a time: a second request while one is queued or runs is refused
    if (tuneUnderWay) {
      post({
        type: "error",
        stage: "tune",
        request: "tune",
        id: msg.id,
        message: "A fine-tuning is already under way: wait for it to finish, or cancel it.",
      });
      return;
    }
    tuneUnderWay = true;
  }
  queue = queue.then(async () => {
    try {
      if (msg.type === "init") await init(msg);
      else if (msg.type === "load-model") await loadModel(msg);
      else if (msg.type === "load-model-bytes") loadModelBytes(msg);
      else if (msg.type === "predict") predict(msg);
      else if (msg.type === "why") why(msg);
      else if (msg.type === "modify") await modify(msg);
      else if (msg.type === "tune") await tune(msg);
      else if (msg.type === "import-csv") await importCsv(msg);
      else if (msg.type === "export-csv")
        post({ type: "csv", id: msg.id, text: session.export_csv(msg.images, msg.labels) });
      else throw new StageError("message", `unknown message type ${JSON.stringify(msg.type)}`);
    } catch (err) {
      const stage = err instanceof StageError ? err.stage : "internal";
      const message = err instanceof StageError ? err.message : `Unexpected error: ${reason(err)}`;
      if (!(err instanceof StageError)) console.error(err);
      post({ type: "error", stage, message, id: msg.id, request: msg.type });
    } finally {
      if (msg.type === "tune") tuneUnderWay = false;
    }
  });
};
