// Teach it your handwriting: say which digit a drawing is (or that it is not one), keep it on the
// device, fine-tune the network on your drawings in the Python worker, see why it answered.
//
// <html data-model="shipped|personal" data-tuning="running|done|error" data-storage="device|memory">;
// data-testid teach-0..9, teach-none, my-count (data-count), fine-tune, reset-model, why. Nothing
// leaves the browser: drawings and the personal model live in IndexedDB (store.js); export/import
// use files.
//
// Nothing taught is lost: when the device cannot keep something (no IndexedDB, as in some private
// windows: data-storage="memory"; or the quota is full), it is kept in this tab instead and the card
// says so, and why; a drawing kept in the tab is marked "not saved" and saved as soon as the device
// takes it. A personal model that cannot be saved stays in use for the tab (the one saved before
// stays saved). A failed fine-tuning leaves the model in use as it was (data-tuning="error").

import { MemoryStore, Store } from "./store.js";
import { formatBytes } from "./model.js";

const html = document.documentElement;
const PERSONAL_NAME = "your personal model";
const IN_TAB = "kept in this tab for now (marked \u201cnot saved\u201d; Learn and Export use it)";
const tabOnly = (what, n) => `${what} in this tab only: ${n === 1 ? "it" : "they"} will be gone when the tab closes.`;
const drawingsWord = (n) => `${n} drawing${n === 1 ? "" : "s"}`;
const GALLERY_PAGE = 48; // drawings the gallery shows at first, and adds per "Show more"
const KEEP_BATCH = 250; // imported drawings kept per IndexedDB transaction

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
  const more = $(".gallery-more");
  more.addEventListener("click", () => {
    galleryShown += GALLERY_PAGE;
    refreshGallery();
  });

  let opened = false; // the device's storage tried (after the model is ready)
  let device = null; // Store (IndexedDB), or null when the browser gives none
  const memory = new MemoryStore(); // drawings the device could not keep: this tab only
  let personalBytes = null; // the personal model in use (its file's bytes), for export
  let personalSaved = false; // the device holds a personal model (loaded on the next visit)
  let lastImage = null; // the 28x28 image (Float32Array) the network saw for the shown result
  let busy = 0; // operations under way that change the drawings or the model: teach, import, delete, learn, reset
  let limits = null; // digitnet's limits (the worker's info): import_rows, import_bytes
  let galleryShown = GALLERY_PAGE;
  let shape = null; // digitnet.sizes (the worker's info): pixels, side, not_digit
  predictor.addEventListener("info", (e) => { ({ limits, sizes: shape } = e.detail); });
  const labelWords = (label) => (label === shape.not_digit ? "not a digit" : String(label));

  /** The card's message; warning: something is or may be lost, or failed (shown as such). */
  const say = (text, warning = false) => {
    message.textContent = text;
    message.classList.toggle("warning", warning);
  };
  const canTeach = () => lastImage !== null && !busy && opened;
  function refreshButtons() {
    for (const b of [...teachButtons, none]) b.disabled = !canTeach();
    fineTune.disabled = Boolean(busy) || !opened || Number(count.dataset.count) === 0 || predictor.state !== "ready";
    reset.disabled = Boolean(busy) || (html.dataset.model !== "personal" && !personalSaved);
    exportModel.disabled = Boolean(busy) || html.dataset.model !== "personal";
    importCsv.disabled = Boolean(busy);
  }

  /** Run work (async) as one operation that changes the drawings or the model: the buttons that start
   * another are disabled at once, in the same task as the click, and again when it ends. */
  async function exclusive(work) {
    busy += 1;
    refreshButtons();
    try {
      return await work();
    } finally {
      busy -= 1;
      refreshButtons();
    }
  }

  /** Drawings -> {images: Uint8Array(N * pixels), labels: Uint8Array(N)}, as the worker takes them. */
  function packed(drawings) {
    const images = new Uint8Array(drawings.length * shape.pixels);
    drawings.forEach((d, i) => images.set(d.image, i * shape.pixels));
    return { images, labels: Uint8Array.from(drawings, (d) => d.label) };
  }

  /** Every drawing, oldest first: the device's, then (marked unsaved) those kept in this tab. */
  async function allDrawings() {
    const kept = device ? await device.drawings() : [];
    const inTab = (await memory.drawings()).map((d) => ({ ...d, unsaved: true }));
    return [...kept, ...inTab].sort((a, b) => a.created - b.created);
  }

  /** Keep a drawing on the device, or in this tab when the device cannot. -> {onDevice, error}: error
   * is why the device did not take it (a StoreError; null when there is no device, or it did). */
  async function keep(drawing) {
    const d = { created: Date.now(), ...drawing };
    if (device) {
      try {
        await device.addDrawing(d);
        return { onDevice: true, error: null };
      } catch (err) {
        await memory.addDrawing(d);
        return { onDevice: false, error: err };
      }
    }
    await memory.addDrawing(d);
    return { onDevice: false, error: null };
  }

  /** Move the drawings kept in this tab to the device, oldest first, while it takes them. -> how many. */
  async function savePending() {
    let saved = 0;
    if (!device) return saved;
    for (const { id, ...d } of await memory.drawings()) {
      try {
        await device.addDrawing(d);
      } catch {
        break;
      }
      await memory.deleteDrawing(id);
      saved += 1;
    }
    return saved;
  }

  /** Why `what` ("this drawing", "2 of them") could not be saved on the device (error: a StoreError),
   * and that it is kept in this tab until the device takes it, in plain words. */
  function notSaved(error, what, plural = false) {
    const why = error.kind === "full" ? `Storage is full, so ${what} could not be saved on this device.`
      : `${what[0].toUpperCase()}${what.slice(1)} could not be saved on this device (${error.why}).`;
    return `${why} ${plural ? "They are" : "It is"} ${IN_TAB} and saved once there is room: ` +
      "delete drawings you no longer need, or export them before you close the tab.";
  }

  const savedNow = (n) => (n ? ` ${n === 1 ? "The drawing" : `The ${drawingsWord(n)}`} kept in this tab ${n === 1 ? "is" : "are"} saved now.` : "");

  /** The newest n drawings, oldest of them first (only those are read from the device). */
  async function newestDrawings(n) {
    const kept = device ? await device.newest(n) : [];
    const inTab = (await memory.newest(n)).map((d) => ({ ...d, unsaved: true }));
    return [...kept, ...inTab].sort((a, b) => b.created - a.created).slice(0, n).reverse();
  }

  async function refreshGallery() {
    let drawings;
    let total;
    try {
      total = (device ? await device.count() : 0) + memory.size;
      drawings = await newestDrawings(galleryShown);
    } catch (err) {
      say(err.message, true);
      refreshButtons();
      return;
    }
    count.dataset.count = String(total);
    count.textContent = String(total);
    more.hidden = total <= drawings.length;
    more.textContent = `Show ${Math.min(GALLERY_PAGE, total - drawings.length)} more (${drawings.length} of ${total} shown)`;
    gallery.replaceChildren(...drawings.map((d) => {
      const canvas = el("canvas", { width: String(shape.side), height: String(shape.side), "aria-hidden": "true" });
      const ctx = canvas.getContext("2d");
      const img = ctx.createImageData(shape.side, shape.side);
      d.image.forEach((v, i) => { img.data.set([v, v, v, 255], 4 * i); });
      ctx.putImageData(img, 0, 0);
      const label = labelWords(d.label);
      const del = el("button", { type: "button", class: "gallery-delete",
        "aria-label": `Delete this drawing of ${label}${d.unsaved ? " (not saved)" : ""}` }, "×");
      del.addEventListener("click", () => exclusive(async () => {
        try {
          if (d.unsaved) {
            await memory.deleteDrawing(d.id);
          } else {
            await device.deleteDrawing(d.id);
            const saved = await savePending(); // there may be room now
            if (saved) say(`Deleted.${savedNow(saved)}`);
          }
        } catch (err) {
          say(err.message, true);
        }
        await refreshGallery();
      }));
      const item = el("li", { class: d.unsaved ? "gallery-item unsaved" : "gallery-item" }, canvas, el("span", { text: label }));
      if (d.unsaved) item.append(el("span", { class: "gallery-note", text: "not saved" }));
      item.append(del);
      return item;
    }));
    refreshButtons();
  }

  function teach(label) {
    if (!canTeach()) return;
    const image = Uint8Array.from(lastImage, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
    const as = label === shape.not_digit ? "not a digit" : `a ${label}`;
    exclusive(async () => { // one drawing at a time: a second press waits for the pad to clear
      const saved = await savePending();
      const { onDevice, error } = await keep({ label, image, strokes: pad.strokes.map((s) => s.map((p) => p.slice())) });
      if (onDevice) say(`Kept as ${as}.${savedNow(saved)}`);
      else say(error ? notSaved(error, `this drawing (${as})`) : tabOnly(`Kept as ${as}`, 1), true);
      pad.clear();
      await refreshGallery();
    });
  }
  teachButtons.forEach((b, d) => b.addEventListener("click", () => teach(d)));
  none.addEventListener("click", () => teach(shape.not_digit));

  /** Keep the personal model in use on the device; if it cannot, say so (it stays in use). */
  async function savePersonal(bytes) {
    if (!device) {
      say(`${tabOnly("Your personal model is in use", 1)} Export my model (.npz) to keep it.`, true);
      return;
    }
    try {
      await device.savePersonalModel(bytes);
      personalSaved = true;
    } catch (err) {
      const next = personalSaved ? "goes back to the personal model saved before" : "uses the shipped model";
      say(`${err.kind === "full" ? "Storage is full: your" : "Your"} new personal model is in use, but it could ` +
        `not be saved on this device${err.kind === "full" ? "" : ` (${err.why})`}, so it will not survive a ` +
        `reload: the next visit ${next}. Export my model (.npz) to keep it.`, true);
    }
  }

  fineTune.addEventListener("click", () => {
    if (busy || fineTune.disabled) return;
    exclusive(learn);
  });
  async function learn() {
    let drawings;
    try {
      drawings = await allDrawings();
    } catch (err) {
      say(err.message, true);
      return;
    }
    if (!drawings.length) return;
    html.dataset.tuning = "running";
    bar.hidden = cancel.hidden = false;
    bar.value = 0;
    tuneText.textContent = "Learning…";
    tuneText.classList.remove("warning");
    refreshButtons();
    const { images, labels } = packed(drawings);
    const progress = (e) => {
      bar.value = e.detail.steps ? e.detail.step / e.detail.steps : 0;
      tuneText.textContent = `Learning: step ${e.detail.step} of ${e.detail.steps}` +
        (e.detail.loss == null ? "" : `, loss ${e.detail.loss.toFixed(3)}`);
    };
    predictor.addEventListener("tune-progress", progress);
    try {
      const result = await predictor.tune(images, labels);
      if (result) {
        // The worker uses the new model from now on, saved or not.
        personalBytes = result.bytes;
        html.dataset.model = "personal";
        tuneText.textContent = `Learned from ${drawingsWord(drawings.length)} in ${(result.ms / 1000).toFixed(1)} s.`;
        predictor.lastTune = result;
        predictor.request();
        await savePersonal(result.bytes);
        html.dataset.tuning = "done";
      } else {
        html.dataset.tuning = "done";
        tuneText.textContent = "Cancelled; the model in use is unchanged.";
      }
    } catch (err) {
      html.dataset.tuning = "error";
      tuneText.textContent = err.message; // the worker's: "Fine-tuning failed; the model in use is unchanged: ..."
      tuneText.classList.add("warning");
    } finally {
      predictor.removeEventListener("tune-progress", progress);
      bar.hidden = cancel.hidden = true;
    }
  }
  cancel.addEventListener("click", () => predictor.cancelTune());

  reset.addEventListener("click", () => {
    if (busy || reset.disabled) return;
    exclusive(async () => {
      try {
        if (html.dataset.model === "personal") {
          await predictor.loadModel(shippedModelUrl);
          html.dataset.model = "shipped";
          personalBytes = null;
          predictor.request();
        }
        if (device) await device.forgetPersonalModel();
        personalSaved = false;
        say("Back to the shipped model.");
      } catch (err) {
        say(err.message, true);
      }
    });
  });

  exportCsv.addEventListener("click", async () => {
    try {
      const { images, labels } = packed(await allDrawings());
      download("my-digits.csv", await predictor.exportCsv(images, labels), "text/csv");
    } catch (err) {
      say(err.message, true);
    }
  });
  exportModel.addEventListener("click", () => {
    if (personalBytes) download("my-model.npz", personalBytes, "application/octet-stream");
  });
  /** Keep imported drawings, KEEP_BATCH per transaction (a task each, so the page stays responsive);
   * a batch the device refuses is kept in this tab. -> {inTab, error} as keep() says them. */
  async function keepAll(drawings) {
    let inTab = 0;
    let error = null;
    for (let i = 0; i < drawings.length; i += KEEP_BATCH) {
      const batch = drawings.slice(i, i + KEEP_BATCH);
      if (device && !error) {
        try {
          await device.addDrawings(batch);
          continue;
        } catch (err) {
          error = err;
        }
      }
      await memory.addDrawings(batch);
      inTab += batch.length;
    }
    return { inTab, error };
  }

  importCsv.addEventListener("change", () => {
    const file = importCsv.files[0];
    importCsv.value = "";
    if (!file || busy) return;
    if (limits && file.size > limits.import_bytes) { // refused before it is read
      say(`${file.name} is ${formatBytes(file.size)}, more than the ${formatBytes(limits.import_bytes)} ` +
        `(${limits.import_rows} drawings) that can be imported at once: split it into smaller files.`, true);
      return;
    }
    exclusive(async () => {
      say(`Reading ${file.name}…`);
      try {
        const bytes = new Uint8Array(await file.arrayBuffer());
        const { labels, images } = await predictor.importCsv(bytes, file.name,
          ({ row, rows }) => say(`Reading ${file.name}: ${row} of ${drawingsWord(rows)}…`));
        const now = Date.now();
        const { pixels } = shape;
        const drawings = Array.from(labels, (label, i) =>
          ({ label, image: images.slice(i * pixels, (i + 1) * pixels), strokes: [], created: now + i / labels.length }));
        const saved = await savePending();
        const { inTab, error } = await keepAll(drawings);
        const done = `Imported ${drawingsWord(drawings.length)} from ${file.name}`;
        if (!inTab) say(`${done}.${savedNow(saved)}`);
        else if (!error) say(tabOnly(done, drawings.length), true);
        else say(`${done}. ${notSaved(error, inTab === drawings.length ? "they" : `${inTab} of them`, true)}`, true);
      } catch (err) {
        say(err.message, true);
      }
      await refreshGallery();
    });
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
      say(err.message, true);
      return;
    }
    if (ticket !== whyFor || !values || !why.checked) return;
    const preview = document.querySelector('[data-testid="preview"]');
    const ctx = preview.getContext("2d");
    const img = ctx.getImageData(0, 0, shape.side, shape.side);
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

  /** The saved personal model cannot be read: remove it, so the message is said once. If even that
   * fails, "Back to the shipped model" stays enabled to try again. */
  async function forgetBroken(err) {
    const why = `Your saved personal model could not be read (${err.message})`;
    try {
      await device.forgetPersonalModel();
      personalSaved = false;
      say(`${why}, so it was removed; the shipped model is reading. Your drawings are kept: ` +
        "Learn my handwriting makes a new one.", true);
    } catch (removeErr) {
      say(`${why}; the shipped model is reading. It could not be removed (${removeErr.message}): ` +
        "Back to the shipped model tries again.", true);
    }
  }

  predictor.addEventListener("ready", async () => {
    try {
      device = await Store.open();
      html.dataset.storage = "device";
    } catch (err) {
      device = null; // teaching goes on, kept in this tab
      html.dataset.storage = "memory";
      say(`Your drawings and personal model will not be kept after this tab closes: ${err.why}. ` +
        "Until then, teaching, learning and export work as usual.", true);
    }
    opened = true;
    let personal = null;
    try {
      personal = device && await device.personalModel();
    } catch (err) {
      say(`${err.message}; using the shipped model.`, true);
    }
    if (personal) {
      personalSaved = true;
      try {
        await predictor.loadModelBytes(personal, PERSONAL_NAME);
        personalBytes = personal;
        html.dataset.model = "personal";
        predictor.request();
      } catch (err) {
        await forgetBroken(err);
      }
    }
    await refreshGallery();
  }, { once: true });
}
