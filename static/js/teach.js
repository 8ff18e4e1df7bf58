// The teaching card: say which digit a drawing is (or that it is not one), see your drawings, learn
// your handwriting, go back, export and import, see why it answered. What is kept where, and the
// worker calls, are personal.js's; this file shows them and wires the buttons.
//
// <html data-model="shipped|personal|trained" data-tuning="running|done|error" data-storage="device|memory">;
// data-testid teach-0..9, teach-none, my-count (data-count), fine-tune, reset-model, why. A failed
// fine-tuning leaves the model in use as it was (data-tuning="error"). The model switch under the bars
// (use-shipped, use-personal, use-trained) says which network reads, and changes it.
//
// One change at a time: teaching, deleting, importing, learning and resetting each disable the
// buttons that start another in the same task as the click (exclusive), until they end.

import { Personal, drawingsWord } from "./personal.js";

const html = document.documentElement;
const GALLERY_PAGE = 48; // drawings the gallery shows at first, and adds per "Show more"

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

/** How many drawings help, and why: said beside Learn. */
function adviceFor(n) {
  if (n === 0) return "Correct a few readings first: each drawing you teach is one it learns from.";
  if (n < 10) {
    return `${drawingsWord(n)} so far. Learning works from one, but 10 or more (a few of each digit it misreads) help most: it learns your way of writing, not one drawing.`;
  }
  return `${drawingsWord(n)}: enough to learn from. More of the digits it still misreads help most.`;
}

/** Wire the teaching card (index.html) to the pad, the view (ui.js) and the Python worker. */
export function installTeaching({ pad, predictor, view, sizes, shippedModelUrl }) {
  html.dataset.model = "shipped";
  const mine = new Personal(predictor, shippedModelUrl);
  const $ = (selector) => document.querySelector(selector);
  const teachButtons = [...document.querySelectorAll('[data-testid^="teach-"]')].filter((b) =>
    /^teach-\d+$/.test(b.dataset.testid),
  );
  const none = $('[data-testid="teach-none"]');
  const count = $('[data-testid="my-count"]');
  const gallery = $(".gallery");
  const more = $(".gallery-more");
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
  const deleteAll = $('[data-testid="delete-all"]');
  const undoDelete = $('[data-testid="undo-delete"]');
  const undoReset = $('[data-testid="undo-reset"]');
  const advice = $('[data-testid="learn-advice"]');
  const switcher = $('[data-testid="model-switch"]');
  const badge = $('[data-testid="model-badge"]');

  let opened = false; // the device's storage tried (after the model is ready)
  let lastImage = null; // the image (Float32Array) the network saw for the shown result
  let shownCharacter = null; // {index, count}: the shown result is a number's character
  let busy = 0; // changes under way (exclusive)
  let galleryShown = GALLERY_PAGE;

  /** The card's message: {text, warning} (warning: something is or may be lost, or failed). */
  const say = (said) => {
    if (!said) return;
    message.textContent = said.text;
    message.classList.toggle("warning", said.warning);
  };
  const sayError = (err) => say({ text: err.message, warning: true });
  const canTeach = () => lastImage !== null && !busy && opened;
  function refreshButtons() {
    for (const b of [...teachButtons, none]) b.disabled = !canTeach();
    const trained = html.dataset.model === "trained"; // learning your handwriting starts from the original or yours
    fineTune.disabled =
      Boolean(busy) || !opened || trained || Number(count.dataset.count) === 0 || predictor.state !== "ready";
    reset.disabled = Boolean(busy) || (html.dataset.model !== "personal" && !mine.personalSaved);
    exportModel.disabled = Boolean(busy) || !mine.personalBytes;
    for (const radio of switcher.elements) radio.disabled = Boolean(busy) || !opened;
    const drawings = Number(count.dataset.count);
    exportCsv.disabled = drawings === 0;
    deleteAll.disabled = Boolean(busy) || drawings === 0;
    advice.textContent = trained
      ? "The network trained here is reading: switch to the original or your personal one to learn your handwriting."
      : adviceFor(drawings);
    importCsv.disabled = Boolean(busy);
  }

  /** Run work (async) as one change: the buttons that start another are disabled at once, in the same
   * task as the click, and again when it ends. */
  async function exclusive(work) {
    busy += 1;
    refreshButtons();
    try {
      return await work();
    } catch (err) {
      sayError(err);
    } finally {
      busy -= 1;
      refreshButtons();
    }
  }

  // ---- the gallery: the newest drawings only, more on request ----

  function galleryItem(d) {
    const { side } = sizes();
    const canvas = el("canvas", { width: String(side), height: String(side), "aria-hidden": "true" });
    const ctx = canvas.getContext("2d");
    const img = ctx.createImageData(side, side);
    d.image.forEach((v, i) => {
      img.data.set([v, v, v, 255], 4 * i);
    });
    ctx.putImageData(img, 0, 0);
    const label = mine.labelWords(d.label);
    const del = el(
      "button",
      {
        type: "button",
        class: "gallery-delete",
        "aria-label": `Delete this drawing of ${label}${d.unsaved ? " (not saved)" : ""}`,
      },
      el("span", { text: "×" }),
    );
    del.addEventListener("click", () =>
      exclusive(async () => {
        try {
          say(await mine.remove(d));
        } finally {
          await refreshGallery();
        }
      }),
    );
    const item = el(
      "li",
      { class: d.unsaved ? "gallery-item unsaved" : "gallery-item" },
      canvas,
      el("span", { text: label }),
    );
    if (d.unsaved) item.append(el("span", { class: "gallery-note", text: "not saved" }));
    item.append(del);
    return item;
  }

  async function refreshGallery() {
    let drawings;
    let total;
    try {
      total = await mine.count();
      drawings = await mine.newest(galleryShown);
    } catch (err) {
      sayError(err);
      refreshButtons();
      return;
    }
    count.dataset.count = String(total);
    count.textContent = String(total);
    more.hidden = total <= drawings.length;
    more.textContent = `Show ${Math.min(GALLERY_PAGE, total - drawings.length)} more (${drawings.length} of ${total} shown)`;
    gallery.replaceChildren(...drawings.map(galleryItem));
    refreshButtons();
  }
  more.addEventListener("click", () => {
    galleryShown += GALLERY_PAGE;
    refreshGallery();
  });

  // ---- teaching ----

  function teach(label) {
    if (!canTeach()) return;
    const image = lastImage;
    const strokes = pad.strokes.map((s) => s.map((p) => p.slice()));
    const character = shownCharacter;
    exclusive(async () => {
      // one drawing at a time: a second press waits for the pad to clear
      say(await mine.teach(label, image, strokes));
      if (!character) pad.clear(); // a number's character: the rest of the number stays to teach
      await refreshGallery();
    });
  }
  for (const b of teachButtons) b.addEventListener("click", () => teach(Number(b.dataset.testid.slice(6))));
  none.addEventListener("click", () => teach(sizes().not_digit));

  // ---- learning, and going back ----

  function showProgress({ step, steps, loss }) {
    bar.value = steps ? step / steps : 0;
    tuneText.textContent = `Learning: step ${step} of ${steps}${loss == null ? "" : `, loss ${loss.toFixed(3)}`}`;
  }

  async function learn() {
    html.dataset.tuning = "running";
    bar.hidden = cancel.hidden = false;
    bar.value = 0;
    tuneText.textContent = "Learning…";
    tuneText.classList.remove("warning");
    try {
      const { result, said } = await mine.learn(showProgress);
      if (result) {
        setModel("personal");
        undoReset.hidden = true;
        const { drawings, before, after } = result.report;
        Object.assign(tuneText.dataset, { drawings, before, after });
        tuneText.textContent =
          `Now reads ${after} of your ${drawingsWord(drawings)} right (before ${before}). ` +
          `Learned in ${(result.ms / 1000).toFixed(1)} s.`;
        predictor.request();
        say(said);
      } else {
        tuneText.textContent = "Cancelled; the model in use is unchanged.";
      }
      html.dataset.tuning = "done";
    } catch (err) {
      html.dataset.tuning = "error";
      tuneText.textContent = err.message; // the worker's: "Fine-tuning failed; the model in use is unchanged: ..."
      tuneText.classList.add("warning");
    } finally {
      bar.hidden = cancel.hidden = true;
    }
  }
  fineTune.addEventListener("click", () => {
    if (!busy && !fineTune.disabled) exclusive(learn);
  });
  cancel.addEventListener("click", () => mine.cancelLearning());

  reset.addEventListener("click", () => {
    if (busy || reset.disabled) return;
    exclusive(async () => {
      if (html.dataset.model === "personal") {
        await mine.useShipped();
        clearLearned(); // the line about the last learning goes with its model
        setModel("shipped");
        predictor.request();
      }
      say(await mine.forgetPersonal());
      clearLearned();
      undoReset.hidden = !mine.canRestore;
      if (!undoReset.hidden) undoReset.focus();
    });
  });
  undoReset.addEventListener("click", () => {
    if (busy) return;
    exclusive(async () => {
      say(await mine.restorePersonal());
      setModel("personal");
      undoReset.hidden = true;
      predictor.request();
      reset.focus();
    });
  });

  /** The line about the last learning goes once the model it spoke of is gone. */
  function clearLearned() {
    tuneText.textContent = "";
    tuneText.classList.remove("warning");
    for (const key of ["drawings", "before", "after"]) delete tuneText.dataset[key];
  }

  deleteAll.addEventListener("click", () => {
    if (busy || deleteAll.disabled) return;
    exclusive(async () => {
      try {
        say(await mine.deleteAll());
        undoDelete.hidden = false;
        undoDelete.focus();
      } finally {
        await refreshGallery();
      }
    });
  });
  undoDelete.addEventListener("click", () => {
    if (busy) return;
    exclusive(async () => {
      try {
        say(await mine.undoDeleteAll());
        undoDelete.hidden = true;
        deleteAll.focus();
      } finally {
        await refreshGallery();
      }
    });
  });

  // ---- files ----

  exportCsv.addEventListener("click", async () => {
    try {
      download("my-digits.csv", await mine.csv(), "text/csv");
    } catch (err) {
      sayError(err);
    }
  });
  exportModel.addEventListener("click", () => {
    if (mine.personalBytes) download("my-model.npz", mine.personalBytes, "application/octet-stream");
  });
  importCsv.addEventListener("change", () => {
    const file = importCsv.files[0];
    importCsv.value = "";
    if (!file || busy) return;
    const refused = mine.refuseImport(file); // before it is read
    if (refused) {
      say(refused);
      return;
    }
    exclusive(async () => {
      say({ text: `Reading ${file.name}…`, warning: false });
      try {
        say(await mine.importFile(file, (text) => say({ text, warning: false })));
      } finally {
        await refreshGallery();
      }
    });
  });

  // ---- why: the gradient of the answer times the image, over the preview ----

  let whyFor = 0;
  async function showWhy() {
    if (!why.checked || lastImage === null || predictor.state !== "ready") return;
    const ticket = ++whyFor;
    const size = sizes().canvas;
    let values;
    try {
      const { pixels, strokes, width, height, pen } = pad.reading(size);
      values = await predictor.why(pixels, strokes, width, height, pen, shownCharacter?.index ?? 0);
    } catch (err) {
      sayError(err);
      return;
    }
    if (ticket === whyFor && values && why.checked) view.paintWhy(values);
  }
  why.addEventListener("change", () => {
    view.setWhy(why.checked);
    if (!why.checked) predictor.request(); // redraws the plain preview
    showWhy();
  });

  predictor.addEventListener("result", (e) => {
    lastImage = e.detail.probs ? e.detail.image : null;
    shownCharacter = e.detail.character || null; // a number's selected character, else null
    refreshButtons();
    if (why.checked && lastImage) showWhy();
  });

  /** Once Python is ready, before the page says so: the saved drawings and the personal model, so
   * the first reading is made by the model the person chose (main.js: Predictor.beforeReady). */
  async function open() {
    const { storage, model, said } = await mine.open();
    html.dataset.storage = storage;
    opened = true;
    for (const s of said) say(s);
    setModel(model);
    await refreshGallery();
  }

  // ---- which network reads: the switch under the bars, <html data-model> and the badge ----

  const BADGE = { personal: "your handwriting", trained: "trained here" };
  /** Show that `which` reads (the worker already uses it) and which others there are. */
  function setModel(which) {
    html.dataset.model = which;
    badge.textContent = BADGE[which] || "";
    const there = mine.available;
    for (const radio of switcher.elements) {
      radio.checked = radio.value === which;
      radio.closest("label").hidden = !there[radio.value];
    }
    switcher.hidden = !there.personal && !there.trained;
    refreshButtons();
  }

  /** Read with that network from now on (and next visit); rejects when it cannot be loaded (the one in
   * use stays). */
  async function use(which) {
    await mine.use(which);
    setModel(which);
    predictor.request(); // the drawing on the pad, read by it
  }
  switcher.addEventListener("change", (e) => {
    const which = e.target.value;
    exclusive(async () => {
      try {
        await use(which);
      } finally {
        setModel(html.dataset.model); // a failed switch: the radio goes back to the one in use
      }
    });
  });

  /** The network trained here ({bytes, about}, train.js): kept and offered by the switch; reload: read
   * with it at once if it is the one in use. -> what to say when the device could not keep it, or null. */
  async function keepTrained(bytes, about, reload = false) {
    const said = await mine.keepTrained(bytes, about);
    if (reload && html.dataset.model === "trained") await useNow("trained");
    else setModel(html.dataset.model);
    return said;
  }
  /** use(), as one change (exclusive); rejects when it could not be loaded. */
  async function useNow(which) {
    let error = null;
    await exclusive(() => use(which).catch((err) => (error = err)));
    if (error) throw error;
  }
  return { open, use: useNow, keepTrained, trained: () => mine.trained };
}
