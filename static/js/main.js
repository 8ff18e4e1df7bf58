// Wires the pad, the Python worker and the view together.
// Hooks for tests and automation live in automation.js (window.digitApp).
// <html data-state="loading|ready|error" data-offline="ready|unavailable">.

import { Pad } from "./pad.js";
import { centred } from "./ink.js";
import { Predictor } from "./model.js";
import { View } from "./ui.js";
import { Automation } from "./automation.js";
import { installTeaching } from "./teach.js";
import { installInside } from "./inside.js";
import { installTraining } from "./train.js";
import { NumberBoxes } from "./number.js";
import { PEN } from "../pkg/pen.mjs";

const DEFAULT_MODEL = "static/model/model.npz";
const html = document.documentElement;
html.dataset.app = "started"; // every module loaded (static/js/boot-check.js waits for this)
const view = new View();
const pad = new Pad(document.querySelector('[data-testid="pad"]'));

// ---- the model worker ----

let sizes = null; // digitnet.sizes, from the worker's info message
let samples = []; // digitnet.samples.for_page(): [{digit, strokes}], from the same message
let nextSample = 0;
const sampleButton = document.querySelector('[data-testid="sample"]'); // enabled once they come
const predictor = new Predictor(() => ({
  ...pad.reading(sizes.canvas), // pixels, and strokes: whose ink is whose, where digits touch
  version: pad.version,
  live: pad.drawing, // while the pen is down: one quick reading per frame; the full one when it lifts
}));
const automation = new Automation({
  pad,
  predictor,
  isSettled,
  loadModel: (url) => predictor.loadModel(checkedModelPath(url)),
});

let shownVersion = -1; // pad.version the shown result was computed for
let shownLive = false; // ...and it was the quick reading made while the pen was down
let resetVersion = 0; // pad.version right after the last clear/undo: older answers are stale

predictor.addEventListener("status", (e) => view.setLoading(e.detail.message));
predictor.addEventListener("progress", (e) => view.setProgress(e.detail.loaded, e.detail.total));
predictor.addEventListener("info", (e) => {
  sizes = e.detail.sizes;
  view.setSizes(sizes);
  samples = e.detail.samples || [];
  sampleButton.disabled = samples.length === 0;
});
predictor.addEventListener("ready", (e) => {
  const { versions, model, files, ms } = e.detail;
  view.setState("ready");
  view.setStatus("Ready");
  document.querySelector('[data-testid="status"]').title =
    `Loaded in ${(ms / 1000).toFixed(1)} s: Pyodide ${versions.pyodide}, Python ${versions.python}, ` +
    `NumPy ${versions.numpy}; model ${model.name} (${model.layers.join("-")})`;
  // Whatever was drawn while loading: predict it now (the predictor sends it).
  predictor.request();
  automation.hooks.offline = keepForOffline(files);
});
predictor.addEventListener("error", (e) => {
  view.showError(e.detail.message);
  automation.settle();
});
// A number (digitnet.number): boxes over the pad, one a character; a selected box is read again.
const numbers = new NumberBoxes(
  document.querySelector(".pad-frame"),
  () => ({ size: sizes.canvas, ...pad.view }),
  () => predictor.request(),
);
predictor.addEventListener("result", (e) => {
  const { probs, version } = e.detail;
  if (version >= resetVersion) {
    shownVersion = version;
    shownLive = e.detail.live;
    if (probs) {
      // For a number, what the page shows is the selected character: the listeners after this one
      // (teaching, "why", the Inside view) get its probs and image in the result too.
      Object.assign(e.detail, numbers.pick(e.detail));
      view.showPrediction(e.detail);
    } else {
      numbers.clear();
      view.showNothing();
    }
    if (!e.detail.live) view.offerPen(probs ? e.detail.fitPen : 0); // settled readings only: no flicker
    automation.shown(e.detail);
    automation.hooks.lastNumber = probs && e.detail.value ? numbers.describe(e.detail) : null;
    if (!pad.drawing && version === pad.version && !shownLive) {
      const wait = byPen ? Math.max(0, penUpAt + ANNOUNCE_MS - performance.now()) : 0;
      view.announceResult(probs ? e.detail : null, wait);
    }
  }
  automation.settle();
});

// ---- drawing -> predictions ----

let frame = 0;
function predictNextFrame() {
  // At most one request per frame while drawing; the predictor keeps one in flight.
  if (!frame)
    frame = requestAnimationFrame(() => {
      frame = 0;
      predictor.request();
    });
}
function showEditState() {
  view.setEditState({ canUndo: pad.canUndo, canRedo: pad.canRedo, canClear: !pad.isEmpty });
}
let penUpAt = -Infinity; // when the last stroke ended (announcements wait ANNOUNCE_MS after it)
let byPen = false; // the drawing last changed by the pen (not by undo, redo, clear)
const ANNOUNCE_MS = 400;
pad.addEventListener("ink", () => {
  view.cancelAnnouncement();
  showEditState();
  if (predictor.state === "loading") view.showWaiting(true);
  predictNextFrame();
});
pad.addEventListener("stroke", () => {
  // the final request for this stroke
  penUpAt = performance.now();
  byPen = true;
  keepDrawing();
  predictor.request();
});
pad.addEventListener("change", () => {
  resetVersion = pad.version;
  byPen = false;
  showEditState();
  keepDrawing();
  if (pad.isEmpty || predictor.state !== "ready") {
    numbers.clear();
    view.showNothing();
  }
  if (predictor.state === "loading") view.showWaiting(!pad.isEmpty);
  predictor.request();
});
pad.addEventListener("history", showEditState);
pad.addEventListener("view", () => predictor.request()); // the boxes over a number follow the pad's new shape
view.onAnnounced = () => automation.settle();

// ---- the drawing, kept across a reload of this tab ----

const DRAWING_KEY = "digit-app.drawing";
function keepDrawing() {
  try {
    sessionStorage.setItem(DRAWING_KEY, JSON.stringify(pad.lines)); // [{points, width}]
  } catch {
    /* not kept */
  }
}
try {
  const saved = JSON.parse(sessionStorage.getItem(DRAWING_KEY) || "[]");
  const isPoints = (s) =>
    Array.isArray(s) && s.every((p) => Array.isArray(p) && p.length === 2 && p.every(Number.isFinite));
  // {points, width} strokes, or plain lists of points (kept before strokes kept their pens)
  const valid = Array.isArray(saved) && saved.every((s) => isPoints(s) || isPoints(s?.points));
  if (valid && saved.length) pad.setStrokes(saved);
} catch {
  /* storage unavailable or not ours: an empty pad */
}

document.querySelector('[data-testid="clear"]').addEventListener("click", () => pad.clear());

// ---- a sample digit (digitnet.samples), drawn as if by hand: each press the next one ----

sampleButton.addEventListener("click", () => {
  if (!samples.length) return;
  const { strokes } = samples[nextSample % samples.length];
  nextSample++;
  pad.replace(centred(strokes, pad.aspect));
});

// ---- pen size: a fraction of the pad's height, kept across visits ----

const brush = document.querySelector('[data-testid="brush"]');
const BRUSH_KEY = "digit-app.brush";
Object.assign(brush, { min: String(PEN.min), max: String(PEN.max), step: String(PEN.step) });
brush.value = String(PEN.default);
try {
  const saved = Number(localStorage.getItem(BRUSH_KEY));
  if (saved >= Number(brush.min) && saved <= Number(brush.max)) brush.value = String(saved);
} catch {
  /* storage unavailable (a private window): the default pen */
}
pad.setBrush(Number(brush.value));
view.showPen(Number(brush.value), PEN.max);
brush.addEventListener("input", () => {
  pad.setBrush(Number(brush.value));
  view.showPen(Number(brush.value), PEN.max);
  try {
    localStorage.setItem(BRUSH_KEY, brush.value);
  } catch {
    /* not kept, still used */
  }
});
// A pen too thick for characters this small (digitnet.number fitting_pen): one step redraws the
// drawing with the thinner pen the reading offers, and draws on with it (Undo brings the pens back).
const thinnerPen = document.querySelector('[data-testid="thinner-pen"]');
thinnerPen.addEventListener("click", () => {
  brush.value = thinnerPen.dataset.pen; // the slider keeps it within its range and step
  brush.dispatchEvent(new Event("input"));
  pad.restroke(Number(brush.value));
  view.offerPen(0);
  brush.focus();
});
document.querySelector('[data-testid="retry"]').addEventListener("click", () => {
  view.clearError();
  view.showWaiting(!pad.isEmpty);
  if (predictor.modelUrl) predictor.restart();
  else location.reload(); // it failed before it started (a bad ?model=): start afresh
});
document.querySelector('[data-testid="undo"]').addEventListener("click", () => pad.undo());
document.querySelector('[data-testid="redo"]').addEventListener("click", () => pad.redo());
document.addEventListener("keydown", (e) => {
  if (e.defaultPrevented || e.isComposing) return;
  const key = e.key;
  if ((key === "Escape" || key === "Delete") && !e.ctrlKey && !e.metaKey && !e.altKey) {
    if (pad.clear()) e.preventDefault();
  } else if ((e.ctrlKey || e.metaKey) && !e.altKey && key.toLowerCase() === "z") {
    e.preventDefault();
    if (e.shiftKey) pad.redo();
    else pad.undo();
  } else if (e.ctrlKey && !e.shiftKey && !e.altKey && !e.metaKey && key.toLowerCase() === "y") {
    e.preventDefault();
    pad.redo();
  }
});

// ---- offline ----

/** Register sw.js (beside the page: its scope covers it) and have it cache what the page and
 * the worker loaded. */
async function keepForOffline(workerFiles) {
  const done = (ok, why) => {
    html.dataset.offline = ok ? "ready" : "unavailable";
    if (!ok) console.warn(`The app will not work offline: ${why}`);
    return ok;
  };
  if (!("serviceWorker" in navigator)) return done(false, "this browser has no service workers");
  try {
    await navigator.serviceWorker.register("sw.js", { updateViaCache: "none" });
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

// ---- settled: the shown result is for the current drawing ----

function isSettled() {
  if (predictor.state === "error") return true;
  if (predictor.state !== "ready") return false;
  return (
    !frame &&
    !pad.drawing &&
    predictor.idle &&
    shownVersion >= pad.version &&
    !shownLive &&
    shownVersion >= resetVersion &&
    !view.announcing
  );
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

// ---- teaching (static/js/teach.js): the card under the pad and the prediction ----

const teaching = installTeaching({ pad, predictor, view, sizes: () => sizes, shippedModelUrl: DEFAULT_MODEL });
predictor.beforeReady = () => teaching.open(); // "ready" means the model the person chose is in use

// ---- inside the network (static/js/inside.js): every layer, live; one unit whole; break it ----

installInside({ predictor, hooks: automation.hooks, sizes: () => sizes, character: () => numbers.selected });

// ---- train your own (static/js/train.js): a network trained here, watched, then drawn on ----

installTraining({ predictor, teaching, hooks: automation.hooks });

let modelPath = DEFAULT_MODEL;
const requested = new URLSearchParams(location.search).get("model");
try {
  if (requested) modelPath = checkedModelPath(requested);
  view.setLoading("Loading…");
  predictor.start(modelPath);
} catch (err) {
  predictor.state = "error";
  view.showError(`The model could not be loaded: ${err.message}`);
}
