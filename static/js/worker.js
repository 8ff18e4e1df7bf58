// Module Web Worker: Python (Pyodide) + NumPy running the network from py/.
//
// Messages in (from model.js):
//   {type: "init", baseUrl, modelUrl}      load runtime, NumPy, py/*.py, then the model
//   {type: "load-model", url}              (re)load a model file (same origin only)
//   {type: "predict", id, pixels, width, height}
//                                          pixels: Uint8Array(width*height), ink 0-255
// Messages out:
//   {type: "status", stage, message}       stage: "runtime" | "numpy" | "code" | "model"
//   {type: "ready", versions, model, timings, files}   files: URLs this worker downloaded
//   {type: "model", url, model, ms}        answer to "load-model"
//   {type: "result", id, probs: Float32Array(10), image: Float32Array(784), ms}
//   {type: "result", id, empty: true, ms}  empty pad or a lone dot (Python returned None)
//   {type: "error", stage, message, id?}   plain words, with the reason
//
// Everything comes from this server: the runtime and wheels from static/pyodide/,
// the Python files from py/ (the very files CPython imports), the model from static/model/.

import { loadPyodide } from "../pyodide/pyodide.mjs";

const INDEX_URL = new URL("../pyodide/", import.meta.url).href;
const PY_FILES = ["network.py", "preprocess.py", "modelfile.py", "predict.py"];
const APP_DIR = "/home/pyodide/app";

// Glue only: bytes in, one float32 array out (probs then image). The maths is in py/ (predict_drawing, load_model).
const GLUE = `
import json, math, sys
sys.path.insert(0, ${JSON.stringify(APP_DIR)})
import numpy as np
import modelfile
from predict import predict_drawing

_model = None

def _load_model(data, name):
    global _model
    try:
        model = modelfile.load_model(data.to_bytes())
    except modelfile.ModelFileError as e:
        reason = str(e)
        if reason.startswith("model file: "):
            reason = reason[len("model file: "):]
        return json.dumps({"ok": False, "error": f"{name}: {reason}"})
    _model = model
    err = model.meta.get("test_error") if isinstance(model.meta, dict) else None
    if not (isinstance(err, (int, float)) and math.isfinite(err)):
        err = None
    return json.dumps({"ok": True, "layers": model.sizes, "test_error": err})

def _predict(data, height, width):
    pad = np.frombuffer(data.to_bytes(), dtype=np.uint8).reshape(height, width)
    p = predict_drawing(_model, pad)
    if p is None:
        return None
    return np.concatenate((p.probs, p.image.ravel())).astype(np.float32)  # (10 + 784,)

json.dumps({"numpy": np.__version__, "python": sys.version.split()[0]})
`;

let pyodide = null;
let loadModelPy = null;
let predictPy = null;
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

  // The small downloads start now and arrive while the runtime boots; if one
  // of them fails, say so at once rather than after the runtime has loaded.
  const sources = Promise.all(
    PY_FILES.map(async (f) => [f, await (await fetchOk(new URL(`py/${f}`, baseUrl), `py/${f}`)).text()]),
  ).catch((err) => {
    throw new StageError("code", `The network code (py/) could not be loaded: ${reason(err)}`);
  });
  const modelTarget = sameOrigin(modelUrl);
  const modelName = displayName(modelTarget);
  const modelBytes = fetchOk(modelTarget, modelName)
    .then((r) => r.arrayBuffer())
    .catch((err) => {
      throw new StageError("model", `The model could not be loaded: ${reason(err)}`);
    });

  const [versions, bytes] = await Promise.all([
    (async () => {
      await bootPython(timings, mark);
      return await loadCode(await sources, timings, mark);
    })(),
    modelBytes,
    sources,
  ]);

  post({ type: "status", stage: "model", message: "Loading the model…" });
  const t = performance.now();
  const model = installModel(bytes, modelName);
  mark("model", t);
  timings.total = Math.round(performance.now() - t0);
  const files = performance.getEntriesByType("resource").map((e) => e.name);
  post({ type: "ready", versions, model, timings, files });
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
    await pyodide.loadPackage("numpy", {
      messageCallback: () => {},
      errorCallback: (msg) => packageErrors.push(msg),
    });
  } catch (err) {
    packageErrors.push(reason(err));
  }
  // loadPackage can fail without throwing (only errorCallback hears about it): check.
  if (!("numpy" in pyodide.loadedPackages)) {
    const why = packageErrors.length
      ? packageErrors.map((m) => String(m).trim().replace(/[:;.]$/, "")).join(": ")
      : "it is not among the loaded packages";
    throw new StageError("numpy", `NumPy could not be loaded: ${why}`);
  }
  mark("numpy", t);
}

/** Write py/*.py into the Pyodide file system and import them (with the glue). */
async function loadCode(files, timings, mark) {
  post({ type: "status", stage: "code", message: "Loading the network code…" });
  const t = performance.now();
  let versions;
  try {
    pyodide.FS.mkdirTree(APP_DIR);
    for (const [name, text] of files) pyodide.FS.writeFile(`${APP_DIR}/${name}`, text);
    versions = JSON.parse(pyodide.runPython(GLUE));
    loadModelPy = pyodide.globals.get("_load_model");
    predictPy = pyodide.globals.get("_predict");
  } catch (err) {
    throw new StageError("code", `The network code (py/) could not be loaded: ${reason(err)}`);
  }
  versions.pyodide = pyodide.version;
  mark("code", t);
  return versions;
}

function installModel(buffer, name) {
  let result;
  try {
    result = JSON.parse(loadModelPy(new Uint8Array(buffer), name));
  } catch (err) {
    throw new StageError("model", `The model could not be loaded: ${name}: ${reason(err)}`);
  }
  if (!result.ok) throw new StageError("model", `The model could not be loaded: ${result.error}`);
  hasModel = true;
  return { name, layers: result.layers, test_error: result.test_error };
}

async function loadModel({ url }) {
  const t = performance.now();
  if (!loadModelPy) throw new StageError("model", "Python is not ready yet");
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
    out = predictPy(pixels, height, width);
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
      probs = buffer.data.slice(0, 10);
      image = buffer.data.slice(10);
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
