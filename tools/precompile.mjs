// Build-time helper for tools/precompile.py: the pinned Pyodide's own CPython, under Node.
//
//   node tools/precompile.mjs compile INDEX_DIR WORK_DIR
//       Boots Pyodide from INDEX_DIR (the stock runtime), mounts WORK_DIR at /work and, for
//       every [source, pyc, dfile] in WORK_DIR/jobs.json (paths relative to WORK_DIR),
//       writes a sourceless-ready .pyc (unchecked-hash header: no mtime, no path but dfile).
//       Prints one JSON line: {python, magic, compiled}.
//   node tools/precompile.mjs compress WORK_DIR
//       For every [input, output, kind] in WORK_DIR/jobs.json (kind "br" or "gz"), writes the
//       compressed copy: brotli at quality 11 with a 16 MiB window, or gzip level 9 (mtime 0).
//       Same bytes in, same bytes out (for a given Node). Prints one JSON line: {compressed}.
//
// Any failure: one line on stderr ("precompile: error: ..."), exit status 1.
// Python writes the inputs and does all the zipping; this script only compiles and compresses.

import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import zlib from "node:zlib";

const COMPILE_PY = `
import importlib.util, json, py_compile, sys, warnings
warnings.simplefilter("ignore")  # SyntaxWarnings of third-party code: importing the source would not show them either
with open("/work/jobs.json", encoding="utf-8") as f:
    jobs = json.load(f)
failure = None
for src, pyc, dfile in jobs:
    try:
        py_compile.compile("/work/" + src, cfile="/work/" + pyc, dfile=dfile, doraise=True, optimize=0,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    except py_compile.PyCompileError as e:
        failure = f"{dfile}: {e.exc_type_name}: {str(e.exc_value).splitlines()[0] if str(e.exc_value) else ''}"
        break
json.dumps({"python": sys.version.split()[0], "magic": importlib.util.MAGIC_NUMBER.hex(),
            "compiled": len(jobs), "failure": failure})
`;

// Synchronous writes: process.exit() must not cut a piped stdout/stderr short.
function fail(message) {
  fs.writeSync(2, `precompile: error: ${String(message).split("\n")[0]}\n`);
  process.exit(1);
}

function done(result) {
  fs.writeSync(1, `${JSON.stringify(result)}\n`);
  process.exit(0);
}

function readJobs(workDir) {
  try {
    return JSON.parse(fs.readFileSync(path.join(workDir, "jobs.json"), "utf-8"));
  } catch (err) {
    fail(`${path.join(workDir, "jobs.json")}: ${err.message}`);
  }
}

async function compile(indexDir, workDir) {
  indexDir = path.resolve(indexDir);
  workDir = path.resolve(workDir);
  readJobs(workDir); // fail early and clearly if it is not there
  let pyodide;
  const noise = [];
  try {
    const { loadPyodide } = await import(pathToFileURL(path.join(indexDir, "pyodide.mjs")).href);
    pyodide = await loadPyodide({
      indexURL: indexDir + path.sep,
      env: { PYTHONHASHSEED: "0", PYTHONDONTWRITEBYTECODE: "1" },
      stdout: (line) => noise.push(line),
      stderr: (line) => noise.push(line),
    });
  } catch (err) {
    fail(`Pyodide from ${indexDir} did not start: ${err.message}`);
  }
  pyodide.FS.mkdirTree("/work");
  pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root: workDir }, "/work");
  let result;
  try {
    result = JSON.parse(pyodide.runPython(COMPILE_PY));
  } catch (err) {
    const lines = String(err.message).trim().split("\n");
    fail(lines[lines.length - 1]);
  }
  if (result.failure) fail(`cannot compile ${result.failure}`);
  delete result.failure;
  done(result);
}

const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

async function compressOne(input, output, kind) {
  const data = fs.readFileSync(input);
  let out;
  if (kind === "br") {
    out = await brotli(data, {
      params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: zlib.constants.BROTLI_MAX_QUALITY,
        [zlib.constants.BROTLI_PARAM_LGWIN]: 24,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length,
      },
    });
  } else if (kind === "gz") {
    out = await gzip(data, { level: 9, memLevel: 9 });
  } else {
    throw new Error(`unknown kind ${JSON.stringify(kind)}`);
  }
  const tmp = `${output}.part`;
  fs.writeFileSync(tmp, out);
  fs.renameSync(tmp, output);
}

async function compress(workDir) {
  workDir = path.resolve(workDir);
  const jobs = readJobs(workDir);
  // zlib's async calls run on libuv's thread pool: the big files compress side by side.
  const resolve = (p) => path.resolve(workDir, p);
  try {
    await Promise.all(jobs.map(([input, output, kind]) => compressOne(resolve(input), resolve(output), kind)));
  } catch (err) {
    fail(err.message);
  }
  done({ compressed: jobs.length });
}

const [command, ...args] = process.argv.slice(2);
if (command === "compile" && args.length === 2) await compile(...args);
else if (command === "compress" && args.length === 1) await compress(...args);
else fail("usage: node tools/precompile.mjs compile INDEX_DIR WORK_DIR | compress WORK_DIR");
