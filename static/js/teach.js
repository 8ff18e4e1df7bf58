// Teach it your handwriting: say which digit a drawing is (or that it is not one), keep it on the
// device, fine-tune the network on your drawings in the Python worker, see why it answered.
//
// <html data-model="shipped|personal" data-tuning="running|done|error">; data-testid teach-0..9,
// teach-none, my-count (data-count), fine-tune, reset-model, why. Nothing leaves the browser:
// drawings and the personal model live in IndexedDB (store.js); export/import use files.

import { Store } from "./store.js";
import { NOT_DIGIT_LABEL, csvFromDrawings, drawingsFromCsv } from "./teach-data.js";

const html = document.documentElement;
const PERSONAL_NAME = "your personal model";

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
}

function download(name, bytes, type) {
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  const a = el("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Wire the teaching card (index.html) to the pad and the Python worker. */
export function installTeaching({ pad, predictor, sizes, shippedModelUrl }) {
  html.dataset.model = "shipped";
  const $ = (selector) => document.querySelector(selector);
  const teachButtons = [...Array(10).keys()].map((d) => $(`[data-testid="teach-${d}"]`));
  const none = $('[data-testid="teach-none"]');
  const count = $('[data-testid="my-count"]');
  const gallery = $(".gallery");
  const fineTune = $('[data-testid="fine-tune"]');
  const cancel = $(".tune-cancel");
  const bar = $(".tune-bar");
  const tuneText = $(".tune-text");
  const reset = $('[data-testid="reset-model"]');
  const why = $('[data-testid="why"]');
  const exportCsv = $(".export-csv");
  const exportModel = $(".export-model");
  const importCsv = $("#import-csv");
  const message = $(".teach-message");

  let store = null;
  let lastImage = null; // the 28x28 image (Float32Array) the network saw for the shown result
  let busy = false;

  const say = (text) => { message.textContent = text; };
  const canTeach = () => lastImage !== null && !busy && store !== null;
  function refreshButtons() {
    for (const b of [...teachButtons, none]) b.disabled = !canTeach();
    fineTune.disabled = busy || store === null || Number(count.dataset.count) === 0 || predictor.state !== "ready";
    reset.disabled = busy || html.dataset.model !== "personal";
    exportModel.disabled = busy || html.dataset.model !== "personal";
  }

  async function refreshGallery() {
    const drawings = store ? await store.drawings() : [];
    count.dataset.count = String(drawings.length);
    count.textContent = String(drawings.length);
    gallery.replaceChildren(...drawings.map((d) => {
      const canvas = el("canvas", { width: "28", height: "28", "aria-hidden": "true" });
      const ctx = canvas.getContext("2d");
      const img = ctx.createImageData(28, 28);
      d.image.forEach((v, i) => { img.data.set([v, v, v, 255], 4 * i); });
      ctx.putImageData(img, 0, 0);
      const label = d.label === NOT_DIGIT_LABEL ? "not a digit" : String(d.label);
      const del = el("button", { type: "button", class: "gallery-delete", "aria-label": `Delete this drawing of ${label}` }, "×");
      del.addEventListener("click", async () => {
        try { await store.deleteDrawing(d.id); } catch (err) { say(err.message); }
        await refreshGallery();
      });
      return el("li", { class: "gallery-item" }, canvas, el("span", { text: label }), del);
    }));
    refreshButtons();
  }

  async function teach(label) {
    if (!canTeach()) return;
    const image = Uint8Array.from(lastImage, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
    try {
      await store.addDrawing({ label, image, strokes: pad.strokes.map((s) => s.map((p) => p.slice())) });
      say(label === NOT_DIGIT_LABEL ? "Kept as not a digit." : `Kept as a ${label}.`);
      pad.clear();
    } catch (err) {
      say(err.message);
    }
    await refreshGallery();
  }
  teachButtons.forEach((b, d) => b.addEventListener("click", () => teach(d)));
  none.addEventListener("click", () => teach(NOT_DIGIT_LABEL));

  fineTune.addEventListener("click", async () => {
    const drawings = await store.drawings();
    if (!drawings.length) return;
    busy = true;
    html.dataset.tuning = "running";
    bar.hidden = cancel.hidden = false;
    bar.value = 0;
    tuneText.textContent = "Learning…";
    refreshButtons();
    const images = new Uint8Array(drawings.length * 784);
    drawings.forEach((d, i) => images.set(d.image, i * 784));
    const labels = Uint8Array.from(drawings, (d) => d.label);
    const progress = (e) => {
      bar.value = e.detail.steps ? e.detail.step / e.detail.steps : 0;
      tuneText.textContent = `Learning: step ${e.detail.step} of ${e.detail.steps}` +
        (e.detail.loss == null ? "" : `, loss ${e.detail.loss.toFixed(3)}`);
    };
    predictor.addEventListener("tune-progress", progress);
    try {
      const result = await predictor.tune(images, labels);
      if (result) {
        await store.savePersonalModel(result.bytes);
        html.dataset.model = "personal";
        html.dataset.tuning = "done";
        tuneText.textContent = `Learned from ${drawings.length} drawings in ${(result.ms / 1000).toFixed(1)} s.`;
        predictor.lastTune = result;
        predictor.request();
      } else {
        html.dataset.tuning = "done";
        tuneText.textContent = "Cancelled; the model in use is unchanged.";
      }
    } catch (err) {
      html.dataset.tuning = "error";
      tuneText.textContent = err.message;
    } finally {
      predictor.removeEventListener("tune-progress", progress);
      busy = false;
      bar.hidden = cancel.hidden = true;
      refreshButtons();
    }
  });
  cancel.addEventListener("click", () => predictor.cancelTune());

  reset.addEventListener("click", async () => {
    try {
      await predictor.loadModel(shippedModelUrl);
      html.dataset.model = "shipped";
      await store.forgetPersonalModel();
      say("Back to the shipped model.");
      predictor.request();
    } catch (err) {
      say(err.message);
    }
    refreshButtons();
  });

  exportCsv.addEventListener("click", async () => {
    const drawings = store ? await store.drawings() : [];
    download("my-digits.csv", csvFromDrawings(drawings), "text/csv");
  });
  exportModel.addEventListener("click", async () => {
    const bytes = await store.personalModel();
    if (bytes) download("my-model.npz", bytes, "application/octet-stream");
  });
  importCsv.addEventListener("change", async () => {
    const file = importCsv.files[0];
    importCsv.value = "";
    if (!file) return;
    try {
      const drawings = drawingsFromCsv(await file.text(), file.name);
      for (const d of drawings) await store.addDrawing(d);
      say(`Imported ${drawings.length} drawings from ${file.name}.`);
    } catch (err) {
      say(err.message);
    }
    await refreshGallery();
  });

  // Why: the gradient of the answer times the image, drawn over the preview.
  let whyFor = 0;
  async function showWhy() {
    if (!why.checked || lastImage === null || predictor.state !== "ready") return;
    const ticket = ++whyFor;
    const size = sizes().canvas;
    let values;
    try {
      values = await predictor.why(pad.pixels(size), size, size, pad.brush * size);
    } catch (err) {
      say(err.message);
      return;
    }
    if (ticket !== whyFor || !values || !why.checked) return;
    const preview = document.querySelector('[data-testid="preview"]');
    const ctx = preview.getContext("2d");
    const img = ctx.getImageData(0, 0, 28, 28);
    const top = values.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-12);
    values.forEach((v, i) => {
      const a = Math.min(1, Math.abs(v) / top);
      const [r, g, b] = v > 0 ? [255, 60, 60] : [70, 120, 255];
      const j = 4 * i;
      img.data[j] = Math.round(img.data[j] * (1 - a) + r * a);
      img.data[j + 1] = Math.round(img.data[j + 1] * (1 - a) + g * a);
      img.data[j + 2] = Math.round(img.data[j + 2] * (1 - a) + b * a);
    });
    ctx.putImageData(img, 0, 0);
    preview.dataset.why = "shown";
  }
  why.addEventListener("change", () => {
    const preview = document.querySelector('[data-testid="preview"]');
    if (!why.checked) {
      delete preview.dataset.why;
      predictor.request(); // redraws the plain preview
    }
    showWhy();
  });

  predictor.addEventListener("result", (e) => {
    lastImage = e.detail.probs ? e.detail.image : null;
    refreshButtons();
    if (why.checked && lastImage) showWhy();
  });

  predictor.addEventListener("ready", async () => {
    try {
      store = await Store.open();
      const personal = await store.personalModel();
      if (personal) {
        try {
          await predictor.loadModelBytes(personal, PERSONAL_NAME);
          html.dataset.model = "personal";
          predictor.request();
        } catch (err) {
          say(`Your personal model could not be loaded (${err.message}); using the shipped one.`);
        }
      }
    } catch (err) {
      store = null;
      say(`${err.message}. Teaching is off; reading digits works as before.`);
    }
    await refreshGallery();
  }, { once: true });

}
