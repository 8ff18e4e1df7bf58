"""Load on the static server: a crowd fetching the page, a crowd fetching the runtime, and slow clients.

    .venv/bin/python -m bench.serve_bench            # 500 page clients, 100 runtime clients, 300 slow clients
    .venv/bin/python -m bench.serve_bench --quick    # 50 / 10 / 30 and a 1 s header timeout: a smoke test

``python -m tools.serve --port 0`` runs in a subprocess (as for the page benchmark) over the
repository, or, when the repository has no Pyodide runtime, over a temporary web root with a page,
a few small files and an 8 MB ``pyodide.asm.wasm``. Clients are asyncio connections in this process,
to 127.0.0.1 only. Every loop is bounded: each client makes a fixed number of requests, each request
has a timeout, each phase a deadline.

page     N clients at once, each loading the page ``--loads`` times: one connection per load
         (keep-alive), ``/`` then a few small static files, one after the other.
runtime  M clients at once, each fetching the runtime's ``pyodide.asm.wasm`` once: the one
         ``static/pyodide/runtime.mjs`` points at (10 MB; with ``br``, its 2-3 MB ``.br`` copy).
slow     S connections each send half a request header and stall; meanwhile K page clients load the
         page once. The stalled ones must not hold the others up, must be dropped by the server
         after its header timeout (with 408), and the server's thread count must stay bounded.

A request fails unless it gets a 200 whose body is as long as its Content-Length (and, when
not compressed, as the file); a failed request (or connection) ends its page load, so "ok" can
fall short of "planned" by more than the failures. Latency is from sending the request to the last byte of the body;
a page load is from connecting to the last byte of its last file. The server's threads are read
from /proc every 50 ms. Exits 1 if any request failed, a stalled client was not dropped in time,
or the server ever had more threads than its event loop and workers.

Accept-Encoding is a browser's (``gzip, deflate, br``), so where set-up wrote ``.br`` copies they
are what is sent; ``--accept-encoding identity`` measures the files themselves.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from bench.common import format_table, machine_info, write_json
from tools import serve
from tools.harness import stop_process
from tools.paths import ROOT

DEFAULT_JSON = ROOT / "bench" / "results" / "serve_bench.json"
HOST = "127.0.0.1"
PAGE_FILES = ("static/js/main.js", "static/css/app.css", "static/js/pad.js", "static/js/ui.js")
RUNTIME = "pyodide.asm.wasm"
BIG_BYTES = 8 << 20
REQUEST_TIMEOUT = 60.0   # seconds for one request (the runtime ones included)
PHASE_TIMEOUT = 300.0    # seconds for a whole phase


# ----------------------------------------------------------------------------- the web root

def find_runtime(root: Path) -> Optional[Path]:
    """The page's pyodide.asm.wasm: in the version folder static/pyodide/runtime.mjs points at, else
    static/pyodide/pyodide.asm.wasm (the runtime before it moved), else in any folder of static/pyodide/."""
    pyodide = root / "static" / "pyodide"
    try:
        m = re.search(r'from "\./([^/"]+)/', (pyodide / "runtime.mjs").read_text())
    except OSError:
        m = None
    candidates = [pyodide / m.group(1) / RUNTIME] if m else []
    candidates += [pyodide / RUNTIME, *sorted(pyodide.glob(f"*/{RUNTIME}"))]
    return next((c for c in candidates if c.is_file()), None)


def temp_web_root(parent: Path) -> Path:
    """A page, its small files (the repository's when there) and an 8 MB runtime-sized file."""
    root = parent / "web"
    (root / "static" / "pyodide" / "bench").mkdir(parents=True)
    src = ROOT / "index.html"
    (root / "index.html").write_bytes(src.read_bytes() if src.is_file() else b"<!doctype html>" + b" " * 5000)
    for name in PAGE_FILES:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        src = ROOT / name
        (root / name).write_bytes(src.read_bytes() if src.is_file() else b"/* x */" * 800)
    (root / "static" / "pyodide" / "bench" / RUNTIME).write_bytes(os.urandom(BIG_BYTES))
    return root


def url_path(root: Path, file: Path) -> str:
    return "/" + file.relative_to(root).as_posix()


# ----------------------------------------------------------------------------- the server

class ServerProcess:
    """``python -m tools.serve --port 0`` in a subprocess (like tools.harness.Server, with flags)."""

    def __init__(self, root: Path, *flags: str):
        self.proc = subprocess.Popen([sys.executable, "-m", "tools.serve", "--port", "0", "--root", str(root), *flags],
                                     cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.match(r"Serving on http://127\.0\.0\.1:(\d+)/$", line.strip())
        if not m:
            self.stop()
            raise RuntimeError(f"tools.serve did not start: {line!r} {self.proc.stderr.read()!r}")
        self.port = int(m.group(1))

    def threads(self) -> Optional[int]:
        try:
            status = Path(f"/proc/{self.proc.pid}/status").read_text()
        except OSError:
            return None
        m = re.search(r"^Threads:\s+(\d+)", status, re.M)
        return int(m.group(1)) if m else None

    def stop(self) -> str:
        stop_process(self.proc)
        return self.proc.stderr.read()


class ThreadWatch:
    """The server's thread count every 50 ms while a phase runs: the peak."""

    def __init__(self, server: ServerProcess):
        self.server, self.peak, self._task = server, 0, None

    async def _run(self) -> None:
        while True:
            self.peak = max(self.peak, self.server.threads() or 0)
            await asyncio.sleep(0.05)

    def __enter__(self) -> "ThreadWatch":
        self.peak = self.server.threads() or 0
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc) -> None:
        self._task.cancel()


# ----------------------------------------------------------------------------- the clients

@dataclass
class Tally:
    """What one phase's requests gave."""

    latencies: list[float] = field(default_factory=list)   # seconds, successful requests
    loads: list[float] = field(default_factory=list)       # seconds, complete page loads
    errors: dict[str, int] = field(default_factory=dict)   # kind -> failed requests (timeouts included)
    planned: int = 0                                       # requests the clients meant to make
    encodings: dict[str, int] = field(default_factory=dict)
    bytes: int = 0

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    @property
    def failed(self) -> int:
        return sum(self.errors.values())

    @property
    def timeouts(self) -> int:
        return self.errors.get("timeout", 0)


async def fetch(reader, writer, path: str, accept: str, expected: dict[str, int]) -> tuple[int, Optional[str]]:
    """GET path on an open keep-alive connection -> (body bytes, Content-Encoding); raises on anything wrong."""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nAccept-Encoding: {accept}\r\n"
                 f"User-Agent: serve-bench\r\n\r\n".encode())
    await writer.drain()
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    status = int(head[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (h.split(":", 1) for h in head[1:] if ":" in h)}
    length = int(headers["content-length"])
    got = 0
    while got < length:
        chunk = await reader.read(min(length - got, 1 << 20))
        if not chunk:
            raise ConnectionError("closed mid-body")
        got += len(chunk)
    if status != 200:
        raise ValueError(f"status {status}")
    encoding = headers.get("content-encoding")
    if encoding is None and got != expected[path]:
        raise ValueError("wrong length")
    return got, encoding


def error_kind(e: BaseException) -> str:
    if isinstance(e, (asyncio.TimeoutError, TimeoutError)):
        return "timeout"
    if isinstance(e, ConnectionRefusedError):
        return "refused"
    if isinstance(e, (ConnectionResetError, BrokenPipeError)):
        return "reset"
    if isinstance(e, (ConnectionError, asyncio.IncompleteReadError)):
        return "closed"
    if isinstance(e, ValueError):
        return str(e).split()[0] if str(e) else "bad answer"
    return type(e).__name__


async def client(port: int, paths: list[str], loads: int, accept: str, expected: dict[str, int],
                 tally: Tally, start: asyncio.Event) -> None:
    """``loads`` times: connect, GET each path in turn on that connection, close."""
    await start.wait()
    for _ in range(loads):
        tally.planned += len(paths)
        t_load = time.perf_counter()
        writer = None
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port, limit=1 << 20),
                                                    REQUEST_TIMEOUT)
            for path in paths:
                t = time.perf_counter()
                n, encoding = await asyncio.wait_for(fetch(reader, writer, path, accept, expected), REQUEST_TIMEOUT)
                tally.latencies.append(time.perf_counter() - t)
                tally.bytes += n
                tally.encodings[encoding or "identity"] = tally.encodings.get(encoding or "identity", 0) + 1
            tally.loads.append(time.perf_counter() - t_load)
        except Exception as e:  # noqa: BLE001 -- every failure is counted, by kind
            tally.error(error_kind(e))
        finally:
            if writer is not None:
                writer.close()
                try:
                    await writer.wait_closed()
                except Exception:  # noqa: BLE001
                    pass


async def crowd(port: int, clients: int, paths: list[str], loads: int, accept: str,
                expected: dict[str, int]) -> tuple[Tally, float]:
    """``clients`` clients started at the same instant -> (tally, wall seconds)."""
    tally, start = Tally(), asyncio.Event()
    tasks = [asyncio.create_task(client(port, paths, loads, accept, expected, tally, start)) for _ in range(clients)]
    await asyncio.sleep(0)
    t = time.perf_counter()
    start.set()
    done, pending = await asyncio.wait(tasks, timeout=PHASE_TIMEOUT)
    for task in pending:  # past the phase's deadline: counted, then stopped
        task.cancel()
        tally.error("timeout")
    await asyncio.gather(*pending, return_exceptions=True)
    return tally, time.perf_counter() - t


async def stalled_client(port: int, opened: list, waited: float) -> dict[str, Any]:
    """Connect, send half a request header, stall; -> when (and how) the server let go."""
    t = time.perf_counter()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), REQUEST_TIMEOUT)
    except Exception as e:  # noqa: BLE001
        return {"connected": False, "error": error_kind(e)}
    writer.write(f"GET / HTTP/1.1\r\nHost: {HOST}\r\nUser-Agent: slow-".encode())
    opened.append(writer)
    try:
        data = await asyncio.wait_for(reader.read(), waited)  # to EOF: the server closed
        return {"connected": True, "dropped": True, "after": time.perf_counter() - t,
                "status_408": data.startswith(b"HTTP/1.1 408 ")}
    except (asyncio.TimeoutError, TimeoutError):
        return {"connected": True, "dropped": False}
    except OSError:
        return {"connected": True, "dropped": True, "after": time.perf_counter() - t, "status_408": False}
    finally:
        writer.close()


# ----------------------------------------------------------------------------- figures

def percentile(values: list[float], q: float) -> Optional[float]:
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))]


def summary(tally: Tally, wall: float, clients: int, threads_peak: int) -> dict[str, Any]:
    ms = lambda x: None if x is None else round(x * 1000, 2)  # noqa: E731
    return {
        "clients": clients, "requests_planned": tally.planned, "requests_ok": len(tally.latencies),
        "failed": tally.failed, "not_sent": tally.planned - len(tally.latencies) - tally.failed,
        "timeouts": tally.timeouts, "errors": tally.errors, "encodings": tally.encodings,
        "p50_ms": ms(percentile(tally.latencies, 50)), "p95_ms": ms(percentile(tally.latencies, 95)),
        "max_ms": ms(max(tally.latencies, default=None)),
        "load_p50_ms": ms(percentile(tally.loads, 50)), "load_p95_ms": ms(percentile(tally.loads, 95)),
        "wall_s": round(wall, 2), "mb": round(tally.bytes / 1e6, 1),
        "mb_per_s": round(tally.bytes / 1e6 / wall, 1) if wall else None,
        "server_threads_peak": threads_peak,
    }


def cell(x: Any, suffix: str = "") -> str:
    return "-" if x is None else f"{x}{suffix}"


# ----------------------------------------------------------------------------- the run

async def run(args) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="serve-bench-") as tmp:
        big = None if args.temp_root else find_runtime(ROOT)
        root = ROOT if big is not None and (ROOT / "index.html").is_file() else temp_web_root(Path(tmp))
        big = find_runtime(root)
        page = ["/", *(f"/{name}" for name in PAGE_FILES if (root / name).is_file())]
        files = {"/": root / "index.html", **{p: root / p[1:] for p in page[1:]}, url_path(root, big): big}
        expected = {p: f.stat().st_size for p, f in files.items()}
        flags = [] if args.header_timeout is None else ["--header-timeout", str(args.header_timeout)]
        header_timeout = args.header_timeout or serve.HEADER_TIMEOUT
        server = ServerProcess(root, *flags)
        result: dict[str, Any] = {
            "root": "repository" if root == ROOT else
                    "temporary" + (" (--temp-root)" if args.temp_root else " (no runtime in the repository)"),
            "page_paths": page, "runtime_path": url_path(root, big), "runtime_bytes": expected[url_path(root, big)],
            "accept_encoding": args.accept_encoding, "workers": serve.WORKERS, "header_timeout_s": header_timeout,
        }
        try:
            # Warm up (the page cache, the worker threads), then the idle thread count.
            await crowd(server.port, 4, page, 1, args.accept_encoding, expected)
            result["server_threads_idle"] = server.threads()

            with ThreadWatch(server) as watch:
                tally, wall = await crowd(server.port, args.page_clients, page, args.loads, args.accept_encoding,
                                          expected)
            result["page"] = summary(tally, wall, args.page_clients, watch.peak)

            with ThreadWatch(server) as watch:
                tally, wall = await crowd(server.port, args.runtime_clients, [url_path(root, big)], 1,
                                          args.accept_encoding, expected)
            result["runtime"] = summary(tally, wall, args.runtime_clients, watch.peak)

            with ThreadWatch(server) as watch:
                opened: list = []
                waited = header_timeout + 10
                stalled = [asyncio.create_task(stalled_client(server.port, opened, waited))
                           for _ in range(args.slow_clients)]
                t = time.perf_counter()
                while len(opened) < args.slow_clients and time.perf_counter() - t < 30 and \
                        not all(s.done() for s in stalled):
                    await asyncio.sleep(0.02)
                await asyncio.sleep(0.2)
                threads_with_stalled = server.threads()
                tally, wall = await crowd(server.port, args.normal_clients, page, 1, args.accept_encoding, expected)
                normal_done_s = time.perf_counter() - t
                outcomes = await asyncio.gather(*stalled)
            dropped = [o for o in outcomes if o.get("dropped")]
            slow = summary(tally, wall, args.normal_clients, watch.peak)
            slow.update({
                "stalled": args.slow_clients,
                "stalled_connected": sum(1 for o in outcomes if o.get("connected")),
                "stalled_dropped": len(dropped),
                "stalled_408": sum(1 for o in dropped if o.get("status_408")),
                "dropped_after_p50_s": round(percentile([o["after"] for o in dropped], 50) or 0, 2) if dropped else None,
                "dropped_after_max_s": round(max(o["after"] for o in dropped), 2) if dropped else None,
                "normal_done_after_s": round(normal_done_s, 2),
                "server_threads_with_stalled": threads_with_stalled,
            })
            result["slow"] = slow
        finally:
            stderr = server.stop()
        result["server_stderr"] = stderr
        return result


def verdict(result: dict[str, Any], args) -> list[str]:
    """What went wrong, in words (empty: all good)."""
    bad = []
    for phase in ("page", "runtime", "slow"):
        r = result[phase]
        if r["failed"] or r["requests_ok"] != r["requests_planned"]:
            bad.append(f"{phase}: {r['failed']} requests failed {r['errors']}, "
                       f"{r['requests_ok']} of {r['requests_planned']} done")
    slow = result["slow"]
    if slow["stalled_connected"] != slow["stalled"]:
        bad.append(f"slow: only {slow['stalled_connected']} of {slow['stalled']} stalled clients could connect")
    if slow["stalled_dropped"] != slow["stalled_connected"]:
        bad.append(f"slow: {slow['stalled_connected'] - slow['stalled_dropped']} stalled clients were never dropped")
    elif slow["dropped_after_max_s"] is not None and slow["dropped_after_max_s"] > result["header_timeout_s"] + 5:
        bad.append(f"slow: a stalled client was dropped only after {slow['dropped_after_max_s']} s")
    bound = result["workers"] + 1  # the event loop and the workers
    for phase in ("page", "runtime", "slow"):
        if result[phase]["server_threads_peak"] > bound:
            bad.append(f"{phase}: the server had {result[phase]['server_threads_peak']} threads (bound {bound})")
    if result["server_stderr"].strip():
        bad.append("the server wrote to stderr: " + result["server_stderr"].strip().splitlines()[-1])
    return bad


def tables(result: dict[str, Any]) -> str:
    head = ["phase", "clients", "requests ok / planned", "failed", "of which timeouts", "p50", "p95", "max", "page load p50 / p95",
            "MB/s", "server threads (peak)"]
    rows = []
    names = {"page": f"page ({len(result['page_paths'])} files a load)",
             "runtime": f"runtime ({result['runtime_bytes'] / 1e6:.1f} MB"
                        + (f", {'/'.join(result['runtime']['encodings'])} "
                           f"{result['runtime']['mb'] / result['runtime']['requests_ok']:.1f} MB sent)"
                           if result["runtime"]["requests_ok"] else ")"),
             "slow": f"page, beside {result['slow']['stalled']} stalled"}
    for phase in ("page", "runtime", "slow"):
        r = result[phase]
        load = "-" if phase == "runtime" else f"{cell(r['load_p50_ms'], ' ms')} / {cell(r['load_p95_ms'], ' ms')}"
        rows.append([names[phase], r["clients"], f"{r['requests_ok']} / {r['requests_planned']}", r["failed"],
                     r["timeouts"],
                     cell(r["p50_ms"], " ms"), cell(r["p95_ms"], " ms"), cell(r["max_ms"], " ms"), load,
                     cell(r["mb_per_s"]), r["server_threads_peak"]])
    s = result["slow"]
    slow_rows = [
        ["stalled connections (half a header, then nothing)", s["stalled"]],
        ["  connected", s["stalled_connected"]],
        ["  dropped by the server", s["stalled_dropped"]],
        ["  of which answered 408", s["stalled_408"]],
        ["  dropped after, p50 / max", f"{cell(s['dropped_after_p50_s'], ' s')} / {cell(s['dropped_after_max_s'], ' s')}"
                                       f" (header timeout {result['header_timeout_s']:g} s)"],
        ["server threads: idle / with the stalled / peak",
         f"{result['server_threads_idle']} / {s['server_threads_with_stalled']} / {s['server_threads_peak']}"
         f" (event loop + {result['workers']} workers = {result['workers'] + 1})"],
        [f"{s['clients']} page clients meanwhile: all done after", f"{s['normal_done_after_s']} s"],
    ]
    return format_table(head, rows) + "\n\n" + format_table(["slow clients", ""], slow_rows)


def _at_least(minimum: int):
    def parse(text: str) -> int:
        n = int(text)
        if n < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, not {n}")
        return n
    return parse


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.serve_bench",
                                description="Load on tools.serve: page and runtime crowds, slow clients.")
    p.add_argument("--page-clients", type=_at_least(1), default=500, help="concurrent page clients (500)")
    p.add_argument("--loads", type=_at_least(1), default=2, help="page loads per page client (2)")
    p.add_argument("--runtime-clients", type=_at_least(1), default=100, help="concurrent runtime clients (100)")
    p.add_argument("--slow-clients", type=_at_least(1), default=300, help="stalled connections (300)")
    p.add_argument("--normal-clients", type=_at_least(1), default=100,
                   help="page clients while the stalled ones wait (100)")
    p.add_argument("--header-timeout", type=float, default=None, metavar="SECONDS",
                   help=f"the server's header timeout (default: its own, {serve.HEADER_TIMEOUT:g} s)")
    p.add_argument("--accept-encoding", default="gzip, deflate, br", help="what clients accept (a browser's)")
    p.add_argument("--temp-root", action="store_true",
                   help="serve a temporary web root with an 8 MB runtime file even if the repository has one")
    p.add_argument("--quick", action="store_true",
                   help="smoke test: 50 page, 10 runtime, 30 stalled, 20 normal clients, header timeout 1 s")
    p.add_argument("--json", type=Path, default=DEFAULT_JSON, metavar="PATH",
                   help=f"results file (default {DEFAULT_JSON.relative_to(ROOT)})")
    return p


def _raise_open_file_limit() -> None:
    try:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = 1 << 16 if hard == resource.RLIM_INFINITY else min(hard, 1 << 16)
        if 0 <= soft < want:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    except (ImportError, OSError, ValueError):
        pass


def main(argv: Optional[list[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    if args.quick:
        args.page_clients, args.runtime_clients, args.slow_clients, args.normal_clients = 50, 10, 30, 20
        args.loads = 1
        args.header_timeout = args.header_timeout or 1.0
    _raise_open_file_limit()
    info = machine_info()
    t = time.perf_counter()
    result = asyncio.run(run(args))
    result["seconds"] = round(time.perf_counter() - t, 1)
    problems = verdict(result, args)
    print(tables(result))
    enc = ", ".join(f"{k} {v}" for k, v in {**result["page"]["encodings"], **{
        f"runtime {k}": v for k, v in result["runtime"]["encodings"].items()}}.items())
    print(f"\nroot: {result['root']}; runtime {result['runtime_path']}; Accept-Encoding: {result['accept_encoding']}"
          f" (answers: {enc}); {info['usable_cores']} cores; {result['seconds']} s")
    write_json(args.json, {"machine": info, "args": {k: (str(v) if isinstance(v, Path) else v)
                                                     for k, v in vars(args).items()},
                           **result, "problems": problems})
    print(f"JSON: {args.json}")
    for line in problems:
        print(f"FAIL: {line}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
