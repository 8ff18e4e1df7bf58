// The boot both Python workers share (worker.js, the pad's; train-worker.js, training's): the Pyodide
// runtime of static/pyodide/ (runtime.mjs), NumPy and the digitnet wheel of static/pkg/. The same
// files, so the second worker's boot is served from the HTTP cache (or the service worker): no new
// boot bytes. Importing downloads.js (through this module) counts and checks every fetch of the
// worker, so a download that fails during the boot is reported at once, naming the file.

import * as runtime from "../pyodide/runtime.mjs";
import { WHEEL_SIZE, WHEEL_URL } from "../pkg/digitnet.mjs";
import { StageError, downloadReason, downloads, expect, reason, runtimeSize } from "./downloads.js";

/** The packages the boot leaves out (tools.numpy_split: NumPy's extension modules that `import numpy`
 * does not load, np.random among them). */
const LATER = runtime.LATER || [];
/** Their files' URLs: for the offline cache. */
export const LATER_URLS = LATER.map((name) => new URL(runtime.LOCK.packages[name].file_name, runtime.INDEX_URL).href);

/** Run boot() with downloads.js watching: the boot's files counted from the start (known sizes: what
 * Pyodide downloads, pyodide.asm.js by import(), the rest by fetch, and our wheel), and a failed
 * download reported at once (downloads.js bootFailed). Resolves boot()'s value, or undefined when a
 * failed download already said why (the page was told; Pyodide itself may never settle:
 * pyodide#6296); any other failure is thrown. */
export async function booting(boot) {
  downloads.booting = true;
  for (const url of runtime.PRELOAD || []) {
    if (runtimeSize(url)) expect(url, runtimeSize(url), url.endsWith("/pyodide.asm.js"));
  }
  expect(WHEEL_URL, WHEEL_SIZE);
  try {
    return await boot();
  } catch (err) {
    if (!downloads.booting) return undefined; // already reported, by the download that failed
    throw err;
  } finally {
    downloads.booting = false;
  }
}

/** Pyodide with NumPy and digitnet installed (the packages download while the runtime boots), or a
 * StageError saying which of the three could not be loaded, and why. later: install the packages
 * the boot leaves out too (LATER), for a worker that needs them at once. */
export async function loadPython({ later = false } = {}) {
  if (later) for (const url of LATER_URLS) expect(url, runtimeSize(url));
  let pyodide;
  try {
    pyodide = await runtime.loadPyodide({
      indexURL: runtime.INDEX_URL,
      packages: ["numpy", ...(later ? LATER : []), WHEEL_URL],
      stdout: (line) => console.log(`[python] ${line}`),
      stderr: (line) => console.warn(`[python] ${line}`),
    });
  } catch (err) {
    throw new StageError("runtime", `The Python runtime (Pyodide) could not start: ${downloadReason(err)}`);
  }
  // Loading a package can fail without throwing (Pyodide only logs it): check.
  if (!("numpy" in pyodide.loadedPackages)) {
    throw new StageError(
      "numpy",
      `NumPy could not be loaded: ${downloadReason("it is not among the loaded packages")}`,
    );
  }
  if (!("digitnet" in pyodide.loadedPackages)) {
    throw new StageError(
      "code",
      `The network code (static/pkg/) could not be loaded: ${downloadReason("it is not among the loaded packages")}`,
    );
  }
  return pyodide;
}

let installing = null;

/** Install the packages the boot left out (LATER), once: what needs np.random awaits this
 * first. A StageError of `stage` naming the file when they could not be loaded (a later call tries
 * again). */
export async function loadLater(pyodide, stage) {
  installing ??= (async () => {
    const failed = downloads.failed.length;
    await pyodide.loadPackage(LATER, { messageCallback: () => {}, errorCallback: () => {} });
    const missing = LATER.filter((name) => !(name in pyodide.loadedPackages));
    if (missing.length) {
      throw new Error(downloads.failed.slice(failed).join("; ") || `${missing.join(", ")} did not install`);
    }
  })();
  try {
    await installing;
  } catch (err) {
    installing = null;
    throw new StageError(stage, `NumPy's random numbers could not be loaded: ${reason(err)}`);
  }
}

/** A NumPy array Python returned -> a typed-array copy of its data (format: "f32", "u8", ...); the
 * Python object is let go. null for None. */
export function copyArray(out, format) {
  if (out === undefined || out === null) return null;
  try {
    const buffer = out.getBuffer(format);
    try {
      return buffer.data.slice();
    } finally {
      buffer.release();
    }
  } finally {
    out.destroy();
  }
}
