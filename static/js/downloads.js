// The worker's downloads: every fetch of the worker (Pyodide's too) counted and checked, so the page
// shows real progress (in bytes as they cross the network) and a missing file is named (Pyodide itself would report "exit(1)" or a JSON
// error, or hang: pyodide#6296); the model's bytes with their size limit; the errors that say which
// stage failed. Importing it wraps the worker's fetch.

import * as runtime from "../pyodide/runtime.mjs";
import * as pkg from "../pkg/digitnet.mjs";
import { MODEL_MAX_BYTES, WHEEL_SIZE, WHEEL_URL } from "../pkg/digitnet.mjs";

const PROGRESS_MS = 250; // progress messages at most this often (the page's watchdog hears them)
const post = (msg, transfer) => self.postMessage(msg, transfer || []);
let origin = self.location.origin;

/** The site the page came from: model files must come from it. */
export function setOrigin(url) {
  origin = new URL(url).origin;
}

export class StageError extends Error {
  constructor(stage, message) {
    super(message);
    this.stage = stage;
  }
}

/** The useful last line of a Python traceback (or the JS error message). */
export function reason(err) {
  const text = String(err?.message || err || "unknown error").trim();
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.length ? lines[lines.length - 1] : text;
}

export function displayName(url) {
  const u = new URL(url, `${origin}/`);
  return decodeURIComponent(u.pathname.replace(/^\//, "")) || u.href;
}

// ---- every fetch of this worker (Pyodide's too) is counted and checked ----
//
// Pyodide fetches the wasm, the standard library, the lock file and the wheels with fetch().

// The page counts bytes as they cross the network: with Content-Encoding that is the compressed copy
// (Content-Length), 3-5 times smaller than the body a fetch reads. Each file counts its decoded bytes
// so far scaled by (wire size / decoded size): smooth, and exactly its wire size once complete. Before
// its answer, a file's wire size is the build's size of its copy in the encoding the server is
// expected to use (the last one it used; at first br in a secure context, https or localhost, else
// gzip: what browsers accept there).
//
// An entry: {name, url, loaded (decoded bytes so far), total (decoded size, 0: unknown),
//            wire (bytes on the wire, 0: not known yet), encoding, done, ok, imported}.

export const downloads = {
  files: new Map(),
  failed: [],
  lastPost: 0,
  booting: false,
  encoding: self.isSecureContext ? "br" : "gzip",
};
const realFetch = self.fetch.bind(self);

const fileName = (url) => url.slice(url.lastIndexOf("/") + 1);

/** The build's size of a file's copy in `encoding` (runtime.mjs WIRE, digitnet.mjs WHEEL_WIRE), or 0. */
function copySize(url, encoding) {
  if (url === WHEEL_URL) return pkg.WHEEL_WIRE?.[encoding] || 0;
  return runtime.WIRE?.[encoding]?.[fileName(url)] || 0;
}

/** The build's size of one of the runtime's files (runtime.mjs SIZES: decoded bytes), or 0. */
export function runtimeSize(url) {
  return runtime.SIZES?.[fileName(url)] || 0;
}

/** Bytes of a file on the wire: known once it has come, else the expected copy's (or its own) size. */
function wireSize(f) {
  if (f.wire) return f.wire;
  const encoding = f.encoding || downloads.encoding;
  return (encoding !== "identity" && copySize(f.url, encoding)) || Math.max(f.total, f.loaded);
}

/** Bytes of a file on the wire so far: its decoded bytes scaled to its wire size. */
function wireLoaded(f) {
  const wire = wireSize(f);
  if (f.done && f.ok) return wire;
  if (!f.total) return Math.min(f.loaded, wire);
  return Math.min(wire, Math.round((f.loaded * wire) / f.total));
}

/** A file fetched by import() (pyodide.asm.js), which no fetch wrapper sees: complete once the
 * browser's resource timing has it (its encodedBodySize: the bytes on the wire), or once Pyodide
 * has run it. */
function checkImported(f) {
  const entry = performance.getEntriesByName(f.url, "resource")[0];
  if (!entry && typeof globalThis._createPyodideModule !== "function") return;
  if (entry?.encodedBodySize) f.wire = entry.encodedBodySize;
  f.loaded = f.total;
  f.done = f.ok = true;
}

function reportProgress(file, force) {
  const now = performance.now();
  if (!force && now - downloads.lastPost < PROGRESS_MS) return;
  downloads.lastPost = now;
  let loaded = 0;
  let total = 0;
  const pending = [];
  for (const f of downloads.files.values()) {
    if (f.imported && !f.done) checkImported(f);
    loaded += wireLoaded(f);
    total += wireSize(f);
    if (!f.done) pending.push(f.name);
  }
  post({ type: "progress", file, loaded, total, pending });
}

self.fetch = async (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input), self.location.href).href;
  const name = displayName(url);
  const entry = downloads.files.get(url) || expect(url, 0);
  reportProgress(name, true);
  const failed = (why) => {
    entry.done = true;
    entry.ok = false;
    downloads.failed.push(why);
    // During the boot every download is needed: say so now (Pyodide may never settle: pyodide#6296).
    if (downloads.booting) bootFailed(`could not download ${why}`);
    return new Error(`could not download ${why}`);
  };
  let response;
  try {
    response = await realFetch(input, init);
  } catch (err) {
    // With an integrity check (Pyodide passes the lock file's sha256) a bad answer is only "Failed to fetch".
    const checked = init?.integrity ? " (missing, or not the file whose sha256 pyodide-lock.json gives)" : "";
    throw failed(`${name}: ${reason(err)}${checked}`);
  }
  if (!response.ok) throw failed(`${name}: HTTP ${response.status} ${response.statusText}`.trim());
  // The body's size: from runtime.mjs's SIZES for the runtime's files (with Content-Encoding,
  // Content-Length counts the smaller bytes on the wire), else Content-Length if not encoded.
  const known = url === WHEEL_URL ? WHEEL_SIZE : runtimeSize(url);
  const encoding = (response.headers.get("Content-Encoding") || "identity").trim().toLowerCase();
  const length = Number(response.headers.get("Content-Length")) || 0;
  const plain = encoding === "identity" && length;
  entry.total = known || plain || 0;
  // Its bytes on the wire: Content-Length (of the encoded body if encoded), else the copy's size.
  entry.encoding = encoding;
  if (known) downloads.encoding = encoding; // the build's files: the others will come the same way
  entry.wire = length || (encoding !== "identity" && copySize(url, encoding)) || 0;
  if (!response.body) {
    entry.done = entry.ok = true;
    return response;
  }
  // Count a copy of the body and hand Pyodide the original, untouched: a Response made in
  // JavaScript would lose what the HTTP cache knows of it (Chromium then does not reuse the
  // compiled WebAssembly on the next visit).
  const reader = response.clone().body.getReader();
  (async () => {
    for (;;) {
      let chunk;
      try {
        chunk = await reader.read();
      } catch (err) {
        failed(`${name}: it broke off after ${entry.loaded} bytes (${reason(err)})`);
        return;
      }
      if (chunk.done) {
        if (entry.total && entry.loaded < entry.total) {
          failed(`${name}: only ${entry.loaded} of ${entry.total} bytes arrived`);
          return;
        }
        entry.total = entry.loaded;
        entry.wire ||= entry.loaded;
        entry.done = entry.ok = true;
        reportProgress(name, true);
        return;
      }
      entry.loaded += chunk.value.byteLength;
      reportProgress(name, false);
    }
  })();
  return response;
};

/** Count a file the boot will download before it starts, so the total is right from the start;
 * imported: it comes by import(), not fetch (pyodide.asm.js). */
export function expect(url, total, imported = false) {
  const entry = { name: displayName(url), url, loaded: 0, total, wire: 0, encoding: null, done: false, ok: false };
  entry.imported = imported;
  downloads.files.set(url, entry);
  return entry;
}

/** Tell the page the boot failed, once; the page then stops waiting (and can try again). */
export function bootFailed(message) {
  if (!downloads.booting) return;
  downloads.booting = false;
  post({ type: "error", stage: "runtime", message: `Loading failed: ${message}`, request: "init" });
}

/** Why the boot failed, in the words of the download that failed if one did. */
export function downloadReason(err) {
  return downloads.failed.length ? `could not download ${downloads.failed.join("; ")}` : reason(err);
}

/** A model file's bytes; one larger than MODEL_MAX_BYTES is refused from its Content-Length before
 * its body is read (and, without one, as soon as more than that has arrived). */
export async function fetchBytes(url) {
  const tooLarge = (n) =>
    new StageError(
      "model",
      `The model could not be loaded: ${displayName(url)} is ` +
        `${n} bytes or more, larger than the ${MODEL_MAX_BYTES} bytes a model file may have`,
    );
  let response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new StageError("model", `The model could not be loaded: ${reason(err)}`);
  }
  const declared = Number(response.headers.get("Content-Length"));
  if (!response.headers.get("Content-Encoding") && declared > MODEL_MAX_BYTES) {
    response.body?.cancel();
    throw tooLarge(declared);
  }
  const reader = response.body.getReader();
  const chunks = [];
  let size = 0;
  try {
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      size += chunk.value.byteLength;
      if (size > MODEL_MAX_BYTES) {
        reader.cancel();
        throw tooLarge(size);
      }
      chunks.push(chunk.value);
    }
  } catch (err) {
    if (err instanceof StageError) throw err;
    throw new StageError("model", `The model could not be loaded: ${reason(err)}`);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return bytes.buffer;
}

export function sameOrigin(url) {
  const u = new URL(url, `${origin}/`);
  if (u.origin !== origin) {
    throw new StageError("model", `The model could not be loaded: it must come from this site, not ${u.origin}`);
  }
  return u;
}
