// Your drawings, your personal model and the network you trained here ("Train your own"): where they
// are kept, which of the networks reads the pad (the choice survives a reload: CHOICE_KEY), and the
// worker calls that read, learn from and write them. No DOM here: teach.js shows what this does; every call that changes something
// answers with what to tell the person, {text, warning} (warning: something is or may be lost, or
// failed).
//
// Nothing taught is lost: when the device cannot keep something (no IndexedDB, as in some private
// windows; or the quota is full), it is kept in this tab instead, and the words say so and why; a
// drawing kept in the tab is "unsaved" and saved as soon as the device takes it. A personal model that
// cannot be saved stays in use for the tab (the one saved before stays saved).

import { formatBytes } from "./model.js";
import { MemoryStore, Store } from "./store.js";

const PERSONAL_NAME = "your personal model";
const TRAINED_NAME = "trained here";
const CHOICE_KEY = "digit-app.model"; // localStorage: "shipped" | "personal" | "trained", the person's choice

/** The network the person chose last, or null (never chose: the personal one if any, as before). */
function chosen() {
  try {
    return localStorage.getItem(CHOICE_KEY);
  } catch {
    return null;
  }
}
function remember(which) {
  try {
    localStorage.setItem(CHOICE_KEY, which);
  } catch {
    /* not remembered: the next visit picks as if never chosen */
  }
}
const KEEP_BATCH = 250; // imported drawings kept per IndexedDB transaction (a task each)
const IN_TAB = "kept in this tab for now (marked \u201cnot saved\u201d; Learn and Export use it)";

export const drawingsWord = (n) => `${n} drawing${n === 1 ? "" : "s"}`;
const tabOnly = (what, n) => `${what} in this tab only: ${n === 1 ? "it" : "they"} will be gone when the tab closes.`;
const savedNow = (n) =>
  n
    ? ` ${n === 1 ? "The drawing" : `The ${drawingsWord(n)}`} kept in this tab ${n === 1 ? "is" : "are"} saved now.`
    : "";
const ok = (text) => ({ text, warning: false });
const warn = (text) => ({ text, warning: true });

/** Why `what` ("this drawing", "2 of them") could not be saved on the device (error: a StoreError),
 * and that it is kept in this tab until the device takes it, in plain words. */
function notSaved(error, what, plural = false) {
  const why =
    error.kind === "full"
      ? `Storage is full, so ${what} could not be saved on this device.`
      : `${what[0].toUpperCase()}${what.slice(1)} could not be saved on this device (${error.why}).`;
  return (
    `${why} ${plural ? "They are" : "It is"} ${IN_TAB} and saved once there is room: ` +
    "delete drawings you no longer need, or export them before you close the tab."
  );
}

export class Personal {
  /** predictor: model.js's Predictor; shippedModelUrl: the model to go back to. */
  constructor(predictor, shippedModelUrl) {
    this.predictor = predictor;
    this.shippedModelUrl = shippedModelUrl;
    this.device = null; // Store (IndexedDB), or null when the browser gives none
    this.memory = new MemoryStore(); // drawings the device could not keep: this tab only
    this.personalBytes = null; // the personal model (its file's bytes), to use and export
    this.trained = null; // the network trained here: {bytes, about} (store.js), to use and export
    this.personalSaved = false; // the device holds a personal model (loaded on the next visit)
    this.undoBytes = null; // the personal model a reset put aside, for its undo
    this.deleted = null; // the drawings "Delete all" removed, for its undo
    this.shape = null; // digitnet.sizes and limits, from the worker's info
    this.limits = null;
    predictor.addEventListener("info", (e) => {
      this.shape = e.detail.sizes;
      this.limits = e.detail.limits;
    });
  }

  /** "not a digit" for that label, else the digit. */
  labelWords(label) {
    return label === this.shape.not_digit ? "not a digit" : String(label);
  }

  /** Open the device's storage, and use the network chosen last (never chosen: the personal model if
   * there is one). -> {storage: "device"|"memory", model: "shipped"|"personal"|"trained" (the one that
   * reads), said: [{text, warning}]}. */
  async open() {
    const said = [];
    try {
      this.device = await Store.open();
    } catch (err) {
      this.device = null; // teaching goes on, kept in this tab
      said.push(
        warn(
          `Your drawings and personal model will not be kept after this tab closes: ${err.why}. ` +
            "Until then, teaching, learning and export work as usual.",
        ),
      );
    }
    let bytes = null;
    try {
      bytes = this.device && (await this.device.personalModel());
    } catch (err) {
      said.push(warn(`${err.message}; using the original model.`));
    }
    try {
      this.trained = this.device && (await this.device.trainedModel());
    } catch (err) {
      said.push(warn(`${err.message}; it is not offered.`));
    }
    const choice = chosen();
    let model = "shipped";
    if (this.trained && choice === "trained") {
      try {
        await this.predictor.loadModelBytes(this.trained.bytes, TRAINED_NAME);
        model = "trained";
      } catch (err) {
        this.trained = null;
        said.push(warn(`The network you trained could not be read (${err.message}); train it again.`));
      }
    }
    if (bytes) {
      this.personalSaved = true;
      this.personalBytes = bytes;
      if (model === "shipped" && choice !== "shipped") {
        try {
          await this.predictor.loadModelBytes(bytes, PERSONAL_NAME);
          model = "personal";
        } catch (err) {
          this.personalBytes = null;
          said.push(await this.#forgetBroken(err));
        }
      }
    }
    return { storage: this.device ? "device" : "memory", model, said };
  }

  /** Which networks there are to choose from, besides the shipped one. */
  get available() {
    return { shipped: true, personal: Boolean(this.personalBytes), trained: Boolean(this.trained) };
  }

  /** Read the pad with that network ("shipped", "personal", "trained") from now on, and next visit. */
  async use(which) {
    if (which === "personal") await this.predictor.loadModelBytes(this.personalBytes, PERSONAL_NAME);
    else if (which === "trained") await this.predictor.loadModelBytes(this.trained.bytes, TRAINED_NAME);
    else await this.predictor.loadModel(this.shippedModelUrl);
    remember(which);
  }

  /** Keep the network trained here ({bytes, about}), in this tab and on the device; -> what to say when
   * the device cannot keep it (it is still offered until the tab closes), else null. */
  async keepTrained(bytes, about) {
    this.trained = { bytes, about };
    if (!this.device) return warn(`${tabOnly("The network you trained is kept", 1)} Export it (.npz) to keep it.`);
    try {
      await this.device.saveTrainedModel(bytes, about);
      return null;
    } catch (err) {
      return warn(
        `The network you trained could not be kept on this device (${err.why}): export it (.npz) to keep it.`,
      );
    }
  }

  /** The saved personal model cannot be read: remove it, so it is said once. If even that fails,
   * "Back to the original model" (reset) tries again. */
  async #forgetBroken(err) {
    const why = `Your saved personal model could not be read (${err.message})`;
    try {
      await this.device.forgetPersonalModel();
      this.personalSaved = false;
      return warn(
        `${why}, so it was removed; the original model is reading. Your drawings are kept: ` +
          "Learn my handwriting makes a new one.",
      );
    } catch (removeErr) {
      return warn(
        `${why}; the original model is reading. It could not be removed (${removeErr.message}): ` +
          "Back to the original model tries again.",
      );
    }
  }

  // ---- the drawings ----

  /** How many drawings there are, on the device and in this tab. */
  async count() {
    return (this.device ? await this.device.count() : 0) + this.memory.size;
  }

  /** The newest n drawings, oldest of them first (only those are read from the device). */
  async newest(n) {
    const kept = this.device ? await this.device.newest(n) : [];
    const inTab = (await this.memory.newest(n)).map((d) => ({ ...d, unsaved: true }));
    return [...kept, ...inTab]
      .sort((a, b) => b.created - a.created)
      .slice(0, n)
      .reverse();
  }

  /** Every drawing, oldest first: the device's, then (marked unsaved) those kept in this tab. */
  async all() {
    const kept = this.device ? await this.device.drawings() : [];
    const inTab = (await this.memory.drawings()).map((d) => ({ ...d, unsaved: true }));
    return [...kept, ...inTab].sort((a, b) => a.created - b.created);
  }

  /** Drawings -> {images: Uint8Array(N * pixels), labels: Uint8Array(N)}, as the worker takes them. */
  packed(drawings) {
    const { pixels } = this.shape;
    const images = new Uint8Array(drawings.length * pixels);
    for (const [i, d] of drawings.entries()) images.set(d.image, i * pixels);
    return { images, labels: Uint8Array.from(drawings, (d) => d.label) };
  }

  /** Delete every drawing; they stay in this tab until undoDeleteAll or the tab closes. */
  async deleteAll() {
    const all = await this.all();
    if (this.device) await this.device.clearDrawings();
    for (const d of await this.memory.drawings()) await this.memory.deleteDrawing(d.id);
    this.deleted = all.map(({ id, unsaved, ...d }) => d);
    return ok(`Deleted ${drawingsWord(all.length)}.`);
  }

  /** Bring back the drawings deleteAll removed. */
  async undoDeleteAll() {
    const drawings = this.deleted || [];
    this.deleted = null;
    const { inTab, error } = await this.#keepAll(drawings);
    const done = `${drawingsWord(drawings.length)} back`;
    if (!inTab) return ok(`${done}.`);
    if (!error) return warn(tabOnly(done, drawings.length));
    return warn(`${done}. ${notSaved(error, inTab === drawings.length ? "they" : `${inTab} of them`, true)}`);
  }

  /** Keep a drawing ({label, image: Float32Array of the network's 0-1 image, strokes}). */
  async teach(label, image, strokes) {
    const bytes = Uint8Array.from(image, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
    const as = label === this.shape.not_digit ? "not a digit" : `a ${label}`;
    const saved = await this.#savePending();
    const { onDevice, error } = await this.#keep({ label, image: bytes, strokes });
    if (onDevice) return ok(`Kept as ${as}.${savedNow(saved)}`);
    return warn(error ? notSaved(error, `this drawing (${as})`) : tabOnly(`Kept as ${as}`, 1));
  }

  /** Delete a drawing (one of newest()'s); -> what to say, or null. */
  async remove(drawing) {
    if (drawing.unsaved) {
      await this.memory.deleteDrawing(drawing.id);
      return null;
    }
    await this.device.deleteDrawing(drawing.id);
    const saved = await this.#savePending(); // there may be room now
    return saved ? ok(`Deleted.${savedNow(saved)}`) : null;
  }

  /** Keep a drawing on the device, or in this tab when the device cannot. -> {onDevice, error}: error
   * is why the device did not take it (a StoreError; null when there is no device, or it did). */
  async #keep(drawing) {
    const d = { created: Date.now(), ...drawing };
    if (this.device) {
      try {
        await this.device.addDrawing(d);
        return { onDevice: true, error: null };
      } catch (err) {
        await this.memory.addDrawing(d);
        return { onDevice: false, error: err };
      }
    }
    await this.memory.addDrawing(d);
    return { onDevice: false, error: null };
  }

  /** Keep many drawings, KEEP_BATCH per transaction; a batch the device refuses is kept in this tab.
   * -> {inTab, error} as #keep says them. */
  async #keepAll(drawings) {
    let inTab = 0;
    let error = null;
    for (let i = 0; i < drawings.length; i += KEEP_BATCH) {
      const batch = drawings.slice(i, i + KEEP_BATCH);
      if (this.device && !error) {
        try {
          await this.device.addDrawings(batch);
          continue;
        } catch (err) {
          error = err;
        }
      }
      await this.memory.addDrawings(batch);
      inTab += batch.length;
    }
    return { inTab, error };
  }

  /** Move the drawings kept in this tab to the device, oldest first, while it takes them. -> how many. */
  async #savePending() {
    let saved = 0;
    if (!this.device) return saved;
    for (const { id, ...d } of await this.memory.drawings()) {
      try {
        await this.device.addDrawing(d);
      } catch {
        break;
      }
      await this.memory.deleteDrawing(id);
      saved += 1;
    }
    return saved;
  }

  // ---- files ----

  /** Why a file cannot be imported before it is read (too large), or null. */
  refuseImport(file) {
    if (!this.limits || file.size <= this.limits.import_bytes) return null;
    return warn(
      `${file.name} is ${formatBytes(file.size)}, more than the ${formatBytes(this.limits.import_bytes)} ` +
        `(${this.limits.import_rows} drawings) that can be imported at once: split it into smaller files.`,
    );
  }

  /** Read a drawings CSV in the worker (digitnet.csvfile) and keep its drawings. onProgress(text) as
   * it reads. -> what to say; a refused file rejects with the reason (file, line, column). */
  async importFile(file, onProgress) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const { labels, images } = await this.predictor.importCsv(bytes, file.name, ({ row, rows }) =>
      onProgress(`Reading ${file.name}: ${row} of ${drawingsWord(rows)}…`),
    );
    const now = Date.now();
    const { pixels } = this.shape;
    const drawings = Array.from(labels, (label, i) => ({
      label,
      image: images.slice(i * pixels, (i + 1) * pixels),
      strokes: [],
      created: now + i / labels.length,
    }));
    const saved = await this.#savePending();
    const { inTab, error } = await this.#keepAll(drawings);
    const done = `Imported ${drawingsWord(drawings.length)} from ${file.name}`;
    if (!inTab) return ok(`${done}.${savedNow(saved)}`);
    if (!error) return warn(tabOnly(done, drawings.length));
    return warn(`${done}. ${notSaved(error, inTab === drawings.length ? "they" : `${inTab} of them`, true)}`);
  }

  /** Every drawing as the CSV's text (written by digitnet.csvfile in the worker). */
  async csv() {
    const { images, labels } = this.packed(await this.all());
    return this.predictor.exportCsv(images, labels);
  }

  // ---- the personal model ----

  /** Fine-tune the model in use on every drawing. onProgress({step, steps, loss}). -> {drawings, result}:
   * result null when cancelled, else the worker's (bytes, ms), and then the personal model reads
   * (saved if the device takes it: `said` tells when it does not); rejects when it failed (the model in
   * use is unchanged). */
  async learn(onProgress) {
    const drawings = await this.all();
    if (!drawings.length) return { drawings: 0, result: null, said: null };
    const { images, labels } = this.packed(drawings);
    const progress = (e) => onProgress(e.detail);
    this.predictor.addEventListener("tune-progress", progress);
    try {
      const result = await this.predictor.tune(images, labels);
      if (!result) return { drawings: drawings.length, result: null, said: null };
      this.personalBytes = result.bytes; // the worker uses the new model from now on, saved or not
      remember("personal");
      return { drawings: drawings.length, result, said: await this.#savePersonal(result.bytes) };
    } finally {
      this.predictor.removeEventListener("tune-progress", progress);
    }
  }

  cancelLearning() {
    this.predictor.cancelTune();
  }

  /** Keep the personal model in use on the device; -> what to say if it cannot (it stays in use). */
  async #savePersonal(bytes) {
    if (!this.device) return warn(`${tabOnly("Your personal model is in use", 1)} Export my model (.npz) to keep it.`);
    try {
      await this.device.savePersonalModel(bytes);
      this.personalSaved = true;
      return null;
    } catch (err) {
      const next = this.personalSaved ? "goes back to the personal model saved before" : "uses the original model";
      const full = err.kind === "full";
      return warn(
        `${full ? "Storage is full: your" : "Your"} new personal model is in use, but it could ` +
          `not be saved on this device${full ? "" : ` (${err.why})`}, so it will not survive a ` +
          `reload: the next visit ${next}. Export my model (.npz) to keep it.`,
      );
    }
  }

  /** The shipped model reads from now on; the personal one stays in this tab (restorePersonal). */
  async useShipped() {
    await this.use("shipped");
    this.undoBytes = this.personalBytes;
    this.personalBytes = null;
  }

  /** A personal model to go back to (until the tab closes). */
  get canRestore() {
    return Boolean(this.undoBytes);
  }

  /** Undo useShipped and forgetPersonal: the personal model reads, and is saved, again. */
  async restorePersonal() {
    const bytes = this.undoBytes;
    this.personalBytes = bytes;
    await this.use("personal");
    this.undoBytes = null;
    return (await this.#savePersonal(bytes)) || ok("Your personal model is back.");
  }

  /** Remove the saved personal model (the shipped one reads). */
  async forgetPersonal() {
    if (this.device) await this.device.forgetPersonalModel();
    this.personalSaved = false;
    if (this.personalBytes) [this.undoBytes, this.personalBytes] = [this.personalBytes, null]; // not in use
    return ok("Back to the original model.");
  }
}
