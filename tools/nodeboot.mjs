// One boot of a Pyodide folder under Node, timed: loadPyodide, then loadPackage("numpy") and `import numpy`.
//
//   node tools/nodeboot.mjs DIR [PYTHON_CODE]
//
// DIR holds pyodide.mjs, the runtime, pyodide-lock.json and the packages (static/pyodide/stock/
// or static/pyodide/<tag>/). PYTHON_CODE, if given, runs afterwards; its value (a str) is
// reported as "check". Prints one JSON line: {runtime_ms, numpy_ms, total_ms, check}.
// Used by tools/bootbench.py and by tests/test_assets.py.

import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [dir, code] = process.argv.slice(2);
if (!dir) {
  fs.writeSync(2, "usage: node tools/nodeboot.mjs DIR [PYTHON_CODE]\n");
  process.exit(2);
}
const indexDir = path.resolve(dir) + path.sep;
try {
  const t0 = performance.now();
  const { loadPyodide } = await import(pathToFileURL(path.join(indexDir, "pyodide.mjs")).href);
  const pyodide = await loadPyodide({ indexURL: indexDir, stdout: () => {}, stderr: () => {} });
  const t1 = performance.now();
  await pyodide.loadPackage("numpy", { messageCallback: () => {} });
  pyodide.runPython("import numpy");
  const t2 = performance.now();
  const check = code ? String(await pyodide.runPythonAsync(code)) : null;
  const ms = (x) => Math.round(x * 10) / 10;
  fs.writeSync(
    1,
    `${JSON.stringify({ runtime_ms: ms(t1 - t0), numpy_ms: ms(t2 - t1), total_ms: ms(t2 - t0), check })}\n`,
  );
  process.exit(0);
} catch (err) {
  const lines = String(err?.message || err)
    .trim()
    .split("\n");
  fs.writeSync(2, `nodeboot: error: ${lines[lines.length - 1]}\n`);
  process.exit(1);
}
