// Module Web Worker: Python (Pyodide) + NumPy running the network of py/digitnet/.
//
// Messages in (from model.js):
//   {type: "init", baseUrl, modelUrl}      load runtime, NumPy and digitnet, then the model
//   {type: "load-model", url}              (re)load a model file (same origin only)
//   {type: "predict", id, pixels, width, height}
//                                          pixels: Uint8Array(width*height), ink 0-255
// Messages out:
//   {type: "status", stage, message}       stage: "runtime" | "numpy" | "code" | "model"
//   {type: "info", versions, sizes}        once digitnet is imported (before the model loads);
//                                          sizes: {side, pixels, classes, canvas} from digitnet.sizes
//   {type: "ready", versions, model, timings, files}   files: URLs this worker downloaded
//   {type: "model", url, model, ms}        answer to "load-model"
//   {type: "result", id, probs: Float32Array, image: Float32Array, ms}
//   {type: "result", id, empty: true, ms}  empty pad or a lone dot (Python returned None)
//   {type: "error", stage, message, id?}   plain words, with the reason
//
// Everything comes from this server: the runtime and NumPy from static/pyodide/, the
// package digitnet as a wheel built from py/digitnet/ (static/pkg/, by tools/package.py),
// the model from static/model/. The Python this worker runs is digitnet.browser; the
// JavaScript here only loads things and moves bytes.

import { loadPyodide } from "../pyodide/pyodide.mjs";
import { WHEEL_URL } from "../pkg/digitnet.mjs";

const INDEX_URL = new URL("../pyodide/", import.meta.url).href;

let pyodide = null;
let session = null; // digitnet.browser.Session
let layout = null; // where probs and image sit in a prediction's float32 array
let hasModel = false;
let origin = self.location.origin;

const post = (msg, transfer) => self.postMessage(msg, transfer || []);

class StageError extends Error {
  constructor(stage, message) {
    super(message);
    this.stage = stage;
  }
}

/** The useful last line of a Python traceback (or the JS error message). */
function reason(err) {
  const text = String((err && err.message) || err || "unknown error").trim();
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  return lines.length ? lines[lines.length - 1] : text;
}

async function fetchOk(url, what) {
  let response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new Error(`could not download ${what}: ${reason(err)}`);
  }
  if (!response.ok) {
    throw new Error(`could not download ${what}: HTTP ${response.status} ${response.statusText}`.trim());
  }
  return response;
}

function sameOrigin(url) {
  const u = new URL(url, origin + "/");
  if (u.origin !== origin) {
    throw new StageError("model", `The model could not be loaded: it must come from this site, not ${u.origin}`);
  }
  return u;
}

function displayName(url) {
  const u = new URL(url);
  return decodeURIComponent(u.pathname.replace(/^\//, "")) || u.href;
}

async function init({ baseUrl, modelUrl }) {
  const t0 = performance.now();
  const timings = {};
  const mark = (name, since) => (timings[name] = Math.round(performance.now() - since));
  origin = new URL(baseUrl).origin;

  // The model downloads while the runtime boots; if it fails, say so at once.
  const modelTarget = sameOrigin(modelUrl);
  const modelName = displayName(modelTarget);
  const modelBytes = fetchOk(modelTarget, modelName)
    .then((r) => r.arrayBuffer())
    .catch((err) => {
      throw new StageError("model", `The model could not be loaded: ${reason(err)}`);
    });

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
  const files = performance.getEntriesByType("resource").map((e) => e.name);
  post({ type: "ready", versions: info.versions, model, timings, files });
}

/** Pyodide, then NumPy from static/pyodide/ (checked: loadPackage can fail quietly). */
async function bootPython(timings, mark) {
  post({ type: "status", stage: "runtime", message: "Loading the Python runtime…" });
  let t = performance.now();
  try {
    pyodide = await loadPyodide({
      indexURL: INDEX_URL,
      stdout: (line) => console.log(`[python] ${line}`),
      stderr: (line) => console.warn(`[python] ${line}`),
    });
  } catch (err) {
    throw new StageError("runtime", `The Python runtime (Pyodide) could not start: ${reason(err)}`);
  }
  mark("runtime", t);

  post({ type: "status", stage: "numpy", message: "Loading NumPy…" });
  t = performance.now();
  const packageErrors = [];
  try {
    // One call, so NumPy and our wheel download in parallel.
    await pyodide.loadPackage(["numpy", WHEEL_URL], {
      messageCallback: () => {},
      errorCallback: (msg) => packageErrors.push(msg),
    });
  } catch (err) {
    packageErrors.push(reason(err));
  }
  // loadPackage can fail without throwing (only errorCallback hears about it): check.
  const why = () => packageErrors.length
    ? packageErrors.map((m) => String(m).trim().replace(/[:;.]$/, "")).join(": ")
    : "it is not among the loaded packages";
  if (!("numpy" in pyodide.loadedPackages)) {
    throw new StageError("numpy", `NumPy could not be loaded: ${why()}`);
  }
  if (!("digitnet" in pyodide.loadedPackages)) {
    throw new StageError("code", `The network code (static/pkg/) could not be loaded: ${why()}`);
  }
  mark("numpy", t);
}

/** Import digitnet.browser (installed by bootPython) and make the session. */
function importCode(timings, mark) {
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
  layout = info.layout;
  info.versions.pyodide = pyodide.version;
  mark("code", t);
  post({ type: "info", versions: info.versions, sizes: info.sizes });
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
  return { name, layers: result.layers, test_error: result.test_error };
}

async function loadModel({ url }) {
  const t = performance.now();
  if (!session) throw new StageError("model", "Python is not ready yet");
  const target = sameOrigin(url);
  let bytes;
  try {
    bytes = await (await fetchOk(target, displayName(target))).arrayBuffer();
  } catch (err) {
    throw new StageError("model", `The model could not be loaded: ${reason(err)}`);
  }
  const model = installModel(bytes, displayName(target));
  post({ type: "model", url: target.href, model, ms: Math.round(performance.now() - t) });
}

function predict({ id, pixels, width, height }) {
  if (!hasModel) throw new StageError("predict", "no model is loaded");
  const t = performance.now();
  let out;
  try {
    out = session.predict(pixels, height, width);
  } catch (err) {
    throw new StageError("predict", `The prediction failed: ${reason(err)}`);
  }
  if (out === undefined || out === null) {
    post({ type: "result", id, empty: true, ms: performance.now() - t });
    return;
  }
  let probs, image;
  try {
    const buffer = out.getBuffer("f32"); // a view of NumPy's memory: copy it out, then let go
    try {
      probs = buffer.data.slice(...layout.probs);
      image = buffer.data.slice(...layout.image);
    } finally {
      buffer.release();
    }
  } finally {
    out.destroy();
  }
  post({ type: "result", id, probs, image, ms: performance.now() - t }, [probs.buffer, image.buffer]);
}

// One message at a time, in order: init finishes before any prediction runs.
let queue = Promise.resolve();
self.onmessage = (event) => {
  const msg = event.data || {};
  queue = queue.then(async () => {
    try {
      if (msg.type === "init") await init(msg);
      else if (msg.type === "load-model") await loadModel(msg);
      else if (msg.type === "predict") predict(msg);
      else throw new StageError("message", `unknown message type ${JSON.stringify(msg.type)}`);
    } catch (err) {
      const stage = err instanceof StageError ? err.stage : "internal";
      const message = err instanceof StageError ? err.message : `Unexpected error: ${reason(err)}`;
      if (!(err instanceof StageError)) console.error(err);
      post({ type: "error", stage, message, id: msg.id });
    }
  });
};
