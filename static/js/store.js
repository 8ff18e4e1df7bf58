// What the page keeps on the device (IndexedDB): the drawings a person taught, their personal
// model, and the network they trained in the page. Nothing leaves the browser. Every call rejects with a StoreError whose message says what
// failed in plain words, and whose kind says which way: "unavailable" (no IndexedDB, or the browser
// refuses it: a private window), "full" (the quota: nothing of that call was written) or "failed".
// MemoryStore has the same calls and keeps the drawings in this tab only: teach.js uses it for
// what the device cannot keep, so nothing taught is lost while the tab is open.

const DB_NAME = "digit-app";
const DB_VERSION = 1;

export class StoreError extends Error {
  /** what failed ("The drawing could not be kept"), why (plain words), kind (see above). */
  constructor(what, why, kind) {
    super(`${what}: ${why}`);
    this.why = why;
    this.kind = kind;
  }
}

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
  const name = err?.name;
  if (name === "QuotaExceededError") {
    return new StoreError(what, "storage is full (the browser's space for this site is used up)", "full");
  }
  if (name === "InvalidStateError" || name === "SecurityError") {
    return new StoreError(what, "this browser does not let the page keep data (a private window?)", "unavailable");
  }
  return new StoreError(what, (err?.message || String(err)).replace(/\.\s*$/, ""), "failed");
}

export class Store {
  /** Open the database (creating it the first time). Rejects with kind "unavailable". */
  static async open() {
    const what = "Your drawings cannot be kept";
    try {
      const factory = globalThis.indexedDB; // reading it may throw (SecurityError) where storage is off
      if (!factory) {
        throw new StoreError(
          what,
          "this browser gives the page no storage (no IndexedDB: a private window?)",
          "unavailable",
        );
      }
      const request = factory.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = () => {
        const db = request.result;
        db.createObjectStore("drawings", { keyPath: "id", autoIncrement: true });
        db.createObjectStore("models");
      };
      return new Store(await promised(request));
    } catch (err) {
      if (err instanceof StoreError) throw err;
      const e = plain(err, what);
      if (e.kind !== "unavailable") {
        throw new StoreError(what, `the browser's storage would not open (${e.why})`, "unavailable");
      }
      throw e;
    }
  }

  constructor(db) {
    this.db = db;
  }

  async #run(stores, mode, what, work) {
    let tx = null;
    try {
      tx = this.db.transaction(stores, mode);
      const finished = done(tx);
      finished.catch(() => {}); // awaited below; a request failing first must not leave it unhandled
      const result = await work(tx);
      await finished;
      return result;
    } catch (err) {
      // A transaction aborted by the quota fails its requests with AbortError: its own error says why.
      throw plain(tx?.error || err, what);
    }
  }

  /** Keep a drawing: {label (0-9, or 10 for not a digit), image: Uint8Array(784), strokes, created?}
   * -> its id. */
  addDrawing(drawing) {
    return this.#run(["drawings"], "readwrite", "The drawing could not be kept", (tx) =>
      promised(tx.objectStore("drawings").add({ created: Date.now(), ...drawing })),
    );
  }

  /** Keep several drawings in one transaction: all of them, or (on failure) none. -> their ids. */
  addDrawings(drawings) {
    return this.#run(["drawings"], "readwrite", "The drawings could not be kept", (tx) => {
      const store = tx.objectStore("drawings");
      return Promise.all(drawings.map((d) => promised(store.add({ created: Date.now(), ...d }))));
    });
  }

  /** How many drawings are kept. */
  count() {
    return this.#run(["drawings"], "readonly", "Your drawings could not be counted", (tx) =>
      promised(tx.objectStore("drawings").count()),
    );
  }

  /** The n newest drawings, newest first (a cursor: the others are not read). */
  newest(n) {
    return this.#run(
      ["drawings"],
      "readonly",
      "Your drawings could not be read",
      (tx) =>
        new Promise((resolve, reject) => {
          const found = [];
          const request = tx.objectStore("drawings").openCursor(null, "prev");
          request.onerror = () => reject(request.error);
          request.onsuccess = () => {
            const cursor = request.result;
            if (!cursor || found.length >= n) {
              resolve(found);
              return;
            }
            found.push(cursor.value);
            cursor.continue();
          };
        }),
    );
  }

  /** All drawings, oldest first: [{id, label, image, strokes, created}]. */
  drawings() {
    return this.#run(["drawings"], "readonly", "Your drawings could not be read", (tx) =>
      promised(tx.objectStore("drawings").getAll()),
    );
  }

  /** Delete every drawing, in one transaction. */
  clearDrawings() {
    return this.#run(["drawings"], "readwrite", "Your drawings could not be deleted", (tx) =>
      promised(tx.objectStore("drawings").clear()),
    );
  }

  deleteDrawing(id) {
    return this.#run(["drawings"], "readwrite", "The drawing could not be deleted", (tx) =>
      promised(tx.objectStore("drawings").delete(id)),
    );
  }

  /** The personal model file's bytes (Uint8Array), or null. */
  personalModel() {
    return this.#run(["models"], "readonly", "Your model could not be read", (tx) =>
      promised(tx.objectStore("models").get("personal")).then((v) => v || null),
    );
  }

  /** Keep the personal model: written in one transaction, so never half a model (a failed write
   * leaves the one kept before). */
  savePersonalModel(bytes) {
    return this.#run(["models"], "readwrite", "Your model could not be kept", (tx) =>
      promised(tx.objectStore("models").put(bytes, "personal")),
    );
  }

  forgetPersonalModel() {
    return this.#run(["models"], "readwrite", "Your model could not be removed", (tx) =>
      promised(tx.objectStore("models").delete("personal")),
    );
  }

  /** The network trained in the page ("Train your own"): {bytes: Uint8Array (its .npz), about: {layers,
   * accuracy, epoch, epochs, settings, saved}}, or null. */
  trainedModel() {
    return this.#run(["models"], "readonly", "The network you trained could not be read", (tx) =>
      promised(tx.objectStore("models").get("trained")).then((v) => (v?.bytes ? v : null)),
    );
  }

  /** Keep the trained network, in one transaction (a failed write leaves the one kept before). */
  saveTrainedModel(bytes, about) {
    return this.#run(["models"], "readwrite", "The network you trained could not be kept", (tx) =>
      promised(tx.objectStore("models").put({ bytes, about }, "trained")),
    );
  }
}

/** Drawings kept in this tab only (gone when it closes): Store's drawing calls, in memory. Ids are
 * negative, so they never meet the device's. */
export class MemoryStore {
  #drawings = [];
  #nextId = -1;

  async addDrawing(drawing) {
    const id = this.#nextId--;
    this.#drawings.push({ created: Date.now(), ...drawing, id });
    return id;
  }

  async addDrawings(drawings) {
    return Promise.all(drawings.map((d) => this.addDrawing(d)));
  }

  async drawings() {
    return this.#drawings.slice();
  }

  async count() {
    return this.#drawings.length;
  }

  async newest(n) {
    return this.#drawings.slice(-n).reverse();
  }

  async deleteDrawing(id) {
    this.#drawings = this.#drawings.filter((d) => d.id !== id);
  }

  get size() {
    return this.#drawings.length;
  }
}
