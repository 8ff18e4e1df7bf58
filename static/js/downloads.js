// The worker's downloads: every fetch of the worker (Pyodide's too) counted and checked, so the page
// shows real progress and a missing file is named (Pyodide itself would report "exit(1)" or a JSON
// error, or hang: pyodide#6296); the model's bytes with their size limit; the errors that say which
// stage failed. Importing it wraps the worker's fetch.

import * as runtime from "../pyodide/runtime.mjs";
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

export const downloads = { files: new Map(), failed: [], lastPost: 0, booting: false };
const realFetch = self.fetch.bind(self);

function reportProgress(file, force) {
  const now = performance.now();
  if (!force && now - downloads.lastPost < PROGRESS_MS) return;
  downloads.lastPost = now;
  let loaded = 0;
  let total = 0;
  const pending = [];
  for (const f of downloads.files.values()) {
    loaded += f.loaded;
    total += Math.max(f.total, f.loaded);
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
  if (!response.body) {
    entry.done = true;
    return response;
  }
  // The body's size: from runtime.mjs's SIZES for the runtime's files (with Content-Encoding,
  // Content-Length counts the smaller bytes on the wire), else Content-Length if not encoded.
  const known = url === WHEEL_URL ? WHEEL_SIZE : runtime.SIZES?.[url.slice(url.lastIndexOf("/") + 1)];
  const plain = !response.headers.get("Content-Encoding") && Number(response.headers.get("Content-Length"));
  entry.total = known || plain || 0;
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
        entry.done = true;
        reportProgress(name, true);
        return;
      }
      entry.loaded += chunk.value.byteLength;
      reportProgress(name, false);
    }
  })();
  return response;
};

/** Count a file the boot will download before it starts, so the total is right from the start. */
export function expect(url, total) {
  const entry = { name: displayName(url), loaded: 0, total, done: false };
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
