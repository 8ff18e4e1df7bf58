// The bare page's module worker (bench.page_bench): stock Pyodide, NumPy and total.py, nothing else.
// Served from static/bare/ of the bench's web root, beside static/pyodide/stock/.
import { loadPyodide } from "../pyodide/stock/pyodide.mjs";

// Fetched while the runtime loads (as ours fetches its package), run once NumPy is in.
const code = fetch(new URL("./total.py", import.meta.url)).then((r) => {
  if (!r.ok) throw new Error(`total.py: HTTP ${r.status}`);
  return r.text();
});
code.catch(() => {}); // (reported below, once awaited)

let total = null;
self.onmessage = (e) => {
  const t = performance.now();
  const sum = total(e.data.pixels);
  self.postMessage({ type: "result", sum, ms: performance.now() - t });
};
try {
  const t0 = performance.now();
  const pyodide = await loadPyodide({ indexURL: new URL("../pyodide/stock/", import.meta.url).href });
  const t1 = performance.now();
  await pyodide.loadPackage("numpy", { messageCallback: () => {} });
  pyodide.runPython(await code);
  total = pyodide.globals.get("total");
  const t2 = performance.now();
  const timings = { runtime: Math.round(t1 - t0), numpy: Math.round(t2 - t1), total: Math.round(t2 - t0) };
  self.postMessage({ type: "ready", timings });
} catch (err) {
  self.postMessage({ type: "error", message: String(err) });
}
