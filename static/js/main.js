// Wires the pad, the Python worker and the view together.
//
// window.digitApp (for tests and automation):
//   padPixels()    Uint8Array(140*140): the ink (alpha) the model gets for the current drawing
//   lastProbs      Float32Array(10) of the last rendered result, null when it showed nothing
//   lastImage      Float32Array(784): the 28x28 image of that result, null when nothing
//   predictTimes   round trip (ms) of every prediction, request sent -> answer received
//   timings        {runtime, numpy, code, model, total} ms in the worker, plus ready (ms since page start)
//   offline        Promise resolved with true once every file the app needs is cached (static/sw.js)
//   whenIdle()     Promise resolved once the shown result is for the current drawing
//                  (or the app is in error)
//   setStrokes(s), clear(), undo()   drive the pad without a pointer
// <html data-state="loading|ready|error" data-predictions="N" data-offline="ready|unavailable">,
// N counts rendered results.

import { Pad, MODEL_SIZE } from "./pad.js";
import { Predictor } from "./model.js";
import { View } from "./ui.js";

const DEFAULT_MODEL = "static/model/model.npz";
const html = document.documentElement;
const view = new View();
const pad = new Pad(document.querySelector('[data-testid="pad"]'));

const app = {
  lastProbs: null,
  lastImage: null,
  predictTimes: [],
  timings: null,
  padPixels: () => pad.pixels(),
  whenIdle,
  setStrokes: (strokes) => pad.setStrokes(strokes),
  clear: () => pad.clear(),
  undo: () => pad.undo(),
  get strokes() { return pad.strokes.map((s) => s.map((p) => p.slice())); },
};
window.digitApp = app;

// ---- the model worker ----

const predictor = new Predictor(() => ({
  pixels: pad.pixels(),
  width: MODEL_SIZE,
  height: MODEL_SIZE,
  version: pad.version,
}));
app.loadModel = (url) => predictor.loadModel(checkedModelPath(url));

let shownVersion = -1; // pad.version the shown result was computed for
let resetVersion = 0; // pad.version right after the last clear/undo: older answers are stale

predictor.addEventListener("status", (e) => view.setStatus(e.detail.message));
predictor.addEventListener("ready", (e) => {
  const { versions, model, timings, files, ms } = e.detail;
  app.timings = { ...timings, ready: Math.round(ms) };
  view.setState("ready");
  view.setStatus("Ready");
  document.querySelector('[data-testid="status"]').title =
    `Loaded in ${(ms / 1000).toFixed(1)} s: Pyodide ${versions.pyodide}, Python ${versions.python}, ` +
    `NumPy ${versions.numpy}; model ${model.name} (${model.layers.join("-")})`;
  // Whatever was drawn while loading: predict it now (the predictor sends it).
  predictor.request();
  app.offline = keepForOffline(files);
});
predictor.addEventListener("error", (e) => {
  view.showError(e.detail.message);
  settle();
});
predictor.addEventListener("result", (e) => {
  const { probs, image, version, roundTrip } = e.detail;
  app.predictTimes.push(roundTrip);
  if (version >= resetVersion) {
    shownVersion = version;
    app.lastProbs = probs;
    app.lastImage = image;
    if (probs) view.showPrediction(probs, image);
    else view.showNothing();
    html.dataset.predictions = String(Number(html.dataset.predictions || 0) + 1);
    if (!pad.drawing && version === pad.version) view.announceResult(probs);
  }
  settle();
});

// ---- drawing -> predictions ----

let frame = 0;
function predictNextFrame() {
  // At most one request per frame while drawing; the predictor keeps one in flight.
  if (!frame) frame = requestAnimationFrame(() => { frame = 0; predictor.request(); });
}
pad.addEventListener("ink", () => { view.setCanEdit(true); predictNextFrame(); });
pad.addEventListener("stroke", () => predictor.request()); // the final one for this stroke
pad.addEventListener("change", () => {
  resetVersion = pad.version;
  view.setCanEdit(!pad.isEmpty);
  if (pad.isEmpty || predictor.state !== "ready") view.showNothing();
  predictor.request();
});

document.querySelector('[data-testid="clear"]').addEventListener("click", () => pad.clear());
document.querySelector('[data-testid="undo"]').addEventListener("click", () => pad.undo());
document.addEventListener("keydown", (e) => {
  if (e.defaultPrevented || e.isComposing) return;
  const key = e.key;
  if ((key === "Escape" || key === "Delete") && !e.ctrlKey && !e.metaKey && !e.altKey) {
    if (pad.clear()) e.preventDefault();
  } else if ((e.ctrlKey || e.metaKey) && !e.shiftKey && !e.altKey && key.toLowerCase() === "z") {
    e.preventDefault();
    pad.undo();
  }
});

// ---- offline ----

/** Register static/sw.js and have it cache what the page and the worker loaded. */
async function keepForOffline(workerFiles) {
  const done = (ok, why) => {
    html.dataset.offline = ok ? "ready" : "unavailable";
    if (!ok) console.warn(`The app will not work offline: ${why}`);
    return ok;
  };
  if (!("serviceWorker" in navigator)) return done(false, "this browser has no service workers");
  try {
    await navigator.serviceWorker.register("static/sw.js", { scope: "./", updateViaCache: "none" });
    const { active } = await navigator.serviceWorker.ready;
    const page = performance.getEntriesByType("resource").map((e) => e.name);
    const answer = new Promise((resolve) => {
      navigator.serviceWorker.addEventListener("message", (e) => resolve(e.data), { once: true });
    });
    active.postMessage({ type: "cache", urls: [location.href, ...page, ...workerFiles] });
    const reply = await answer;
    return done(reply.type === "cached", reply.message);
  } catch (err) {
    return done(false, err.message);
  }
}

// ---- idle tracking (tests, automation) ----

let waiters = [];
function isIdle() {
  if (predictor.state === "error") return true;
  if (predictor.state !== "ready") return false;
  return !frame && !pad.drawing && predictor.idle && shownVersion >= pad.version &&
    shownVersion >= resetVersion;
}
function settle() {
  if (!waiters.length || !isIdle()) return;
  const ready = waiters;
  waiters = [];
  for (const resolve of ready) resolve();
}
function whenIdle() {
  return new Promise((resolve) => {
    waiters.push(resolve);
    settle();
  });
}

// ---- start ----

/** ?model=relative/path.npz: only relative paths on this site. */
function checkedModelPath(value) {
  if (/^[a-z][a-z0-9+.-]*:|^[\\/]/i.test(value) || value.includes("\\")) {
    throw new Error(`the model must be a relative path on this site, not ${JSON.stringify(value)}`);
  }
  const url = new URL(value, document.baseURI);
  if (url.origin !== location.origin) {
    throw new Error(`the model must be on this site, not ${url.origin}`);
  }
  return value;
}

let modelPath = DEFAULT_MODEL;
const requested = new URLSearchParams(location.search).get("model");
try {
  if (requested) modelPath = checkedModelPath(requested);
  view.setStatus("Loading…");
  predictor.start(modelPath);
} catch (err) {
  predictor.state = "error";
  view.showError(`The model could not be loaded: ${err.message}`);
}
