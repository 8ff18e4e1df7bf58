// What the page keeps on the device (IndexedDB): the drawings a person taught, and their personal
// model. Nothing leaves the browser. Every call rejects with a StoreError whose message says what
// failed in plain words (IndexedDB unavailable in a private window, the quota full...); the app
// then goes on with what it has.

const DB_NAME = "digit-app";
const DB_VERSION = 1;

export class StoreError extends Error {}

function promised(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = tx.onerror = () => reject(tx.error || new Error("the transaction was aborted"));
  });
}

function plain(err, what) {
  const name = err && err.name;
  if (name === "QuotaExceededError") return new StoreError(`${what}: the browser's storage for this site is full`);
  if (name === "InvalidStateError" || name === "SecurityError") {
    return new StoreError(`${what}: this browser does not let the page keep data (a private window?)`);
  }
  return new StoreError(`${what}: ${(err && err.message) || err}`);
}

export class Store {
  /** Open the database (creating it the first time). */
  static async open() {
    if (typeof indexedDB === "undefined") throw new StoreError("this browser has no IndexedDB");
    try {
      const request = indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = () => {
        const db = request.result;
        db.createObjectStore("drawings", { keyPath: "id", autoIncrement: true });
        db.createObjectStore("models");
      };
      return new Store(await promised(request));
    } catch (err) {
      throw plain(err, "Your drawings cannot be kept");
    }
  }

  constructor(db) {
    this.db = db;
  }

  async #run(stores, mode, what, work) {
    try {
      const tx = this.db.transaction(stores, mode);
      const result = await work(tx);
      await done(tx);
      return result;
    } catch (err) {
      throw plain(err, what);
    }
  }

  /** Keep a drawing: {label (0-9, or 10 for not a digit), image: Uint8Array(784), strokes}. -> its id. */
  addDrawing(drawing) {
    return this.#run(["drawings"], "readwrite", "The drawing could not be kept",
      (tx) => promised(tx.objectStore("drawings").add({ ...drawing, created: Date.now() })));
  }

  /** All drawings, oldest first: [{id, label, image, strokes, created}]. */
  drawings() {
    return this.#run(["drawings"], "readonly", "Your drawings could not be read",
      (tx) => promised(tx.objectStore("drawings").getAll()));
  }

  deleteDrawing(id) {
    return this.#run(["drawings"], "readwrite", "The drawing could not be deleted",
      (tx) => promised(tx.objectStore("drawings").delete(id)));
  }

  /** The personal model file's bytes (Uint8Array), or null. */
  personalModel() {
    return this.#run(["models"], "readonly", "Your model could not be read",
      (tx) => promised(tx.objectStore("models").get("personal")).then((v) => v || null));
  }

  /** Keep the personal model: written in one transaction, so never half a model. */
  savePersonalModel(bytes) {
    return this.#run(["models"], "readwrite", "Your model could not be kept",
      (tx) => promised(tx.objectStore("models").put(bytes, "personal")));
  }

  forgetPersonalModel() {
    return this.#run(["models"], "readwrite", "Your model could not be removed",
      (tx) => promised(tx.objectStore("models").delete("personal")));
  }
}
