"""Load on the development server (tools/serve.py): page loads, runtime downloads, stalled clients.

    .venv/bin/python -m bench.serve_bench            # 500 page clients, 100 runtime clients, 300 stalled
    .venv/bin/python -m bench.serve_bench --quick    # 50 / 10 / 30 and a 1 s header timeout: a smoke test

``python -m tools.serve --port 0`` runs in a subprocess over the repository (or, without a runtime there
or with ``--temp-root``, over a temporary root with the page's files and an 8 MB runtime file); the
clients are asyncio connections in this process. page: N clients at once, each loading the page
``--loads`` times on a keep-alive connection. runtime: M clients at once fetching ``pyodide.asm.wasm``
(its ``.br`` copy with a browser's Accept-Encoding). slow: S connections send half a header and stall
while K clients load the page; each stalled one must get 408 and be dropped after the header timeout.
A request fails unless it gets a 200 with its whole body. The server's threads and file descriptors
are read from /proc every 50 ms. Exits 1 if a request failed, a stalled client was not dropped in
time, or the server had more threads than its event loop and disk workers.
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
from typing import Any

from bench.common import format_table, write_json
from tools import serve
from tools.cli import number, whole_number
from tools.harness import stop_process
from tools.paths import BENCH_RESULTS, ROOT

DEFAULT_JSON = BENCH_RESULTS / "serve_bench.json"
HOST = "127.0.0.1"
PAGE_FILES = ("static/js/main.js", "static/css/app.css", "static/js/pad.js", "static/js/ui.js")
RUNTIME = "pyodide.asm.wasm"
BIG_BYTES = 8 << 20
REQUEST_TIMEOUT = 60.0  # seconds for one request (a runtime download included)
PHASE_TIMEOUT = 300.0  # seconds for a whole phase
PHASES = ("page", "runtime", "slow")


def find_runtime(root: Path) -> Path | None:
    """The pyodide.asm.wasm of the folder static/pyodide/runtime.mjs points at, else any in static/pyodide."""
    pyodide = root / "static" / "pyodide"
    pointer = (pyodide / "runtime.mjs").read_text() if (pyodide / "runtime.mjs").is_file() else ""
    m = re.search(r'from "\./([^/"]+)/', pointer)
    candidates = ([pyodide / m.group(1) / RUNTIME] if m else []) + sorted(pyodide.glob(f"*/{RUNTIME}"))
    return next((c for c in candidates if c.is_file()), None)


def temp_web_root(parent: Path) -> Path:
    """index.html and the page's files (the repository's) and an 8 MB random runtime file."""
    root = parent / "web"
    for name in ("index.html", *PAGE_FILES):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes((ROOT / name).read_bytes() if (ROOT / name).is_file() else b"/* x */" * 800)
    (root / "static" / "pyodide" / "bench").mkdir(parents=True)
    (root / "static" / "pyodide" / "bench" / RUNTIME).write_bytes(os.urandom(BIG_BYTES))
    return root


class ServerProcess:
    """``python -m tools.serve --port 0`` in a subprocess, and what /proc says of it."""

    def __init__(self, root: Path, *flags: str):
        command = [sys.executable, "-m", "tools.serve", "--port", "0", "--root", str(root), *flags]
        self.proc = subprocess.Popen(
            command, cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        m = re.fullmatch(r"Serving on http://127\.0\.0\.1:(\d+)/\n", self.proc.stdout.readline())
        if not m:
            raise RuntimeError(f"tools.serve did not start: {self.stop()!r}")
        self.port = int(m.group(1))

    def threads(self) -> int:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(r"^Threads:\s+(\d+)", status, re.M)[1])

    def fds(self) -> int:
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def stop(self) -> str:
        """Stop it; what it wrote to stderr."""
        stop_process(self.proc)
        return self.proc.stderr.read()


class Watch:
    """The server's peak thread and descriptor counts, sampled every 50 ms while a phase runs."""

    def __init__(self, server: ServerProcess):
        self.server, self.threads, self.fds = server, server.threads(), server.fds()

    async def _sample(self) -> None:
        while True:
            self.threads = max(self.threads, self.server.threads())
            self.fds = max(self.fds, self.server.fds())
            await asyncio.sleep(0.05)

    async def __aenter__(self) -> Watch:
        self.task = asyncio.create_task(self._sample())
        return self

    async def __aexit__(self, *exc) -> None:
        self.task.cancel()


@dataclass
class Tally:
    """What one phase's requests gave: seconds per request and per page load, failures by kind."""

    latencies: list[float] = field(default_factory=list)
    loads: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    planned: int = 0
    bytes: int = 0


async def fetch(reader, writer, path: str, accept: str, sizes: dict[str, int]) -> int:
    """GET ``path`` on an open connection -> body bytes (read and dropped); raises on anything wrong."""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nAccept-Encoding: {accept}\r\n\r\n".encode())
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (h.split(":", 1) for h in head[1:] if ":" in h)}
    length, got = int(headers["content-length"]), 0
    while got < length:  # a hundred runtime downloads need not sit in memory
        chunk = await reader.read(min(length - got, 1 << 20))
        if not chunk:
            raise ConnectionError("closed mid-body")
        got += len(chunk)
    if head[0].split()[1] != "200" or ("content-encoding" not in headers and length != sizes[path]):
        raise ValueError(f"{head[0]!r}, {length} bytes")
    return length


async def client(port: int, paths: list[str], loads: int, accept: str, sizes: dict, tally: Tally) -> None:
    """``loads`` times: connect, GET each path in turn on that connection, close."""
    for _ in range(loads):
        tally.planned += len(paths)
        t_load, writer = time.perf_counter(), None
        try:
            opening = asyncio.open_connection(HOST, port, limit=1 << 20)
            reader, writer = await asyncio.wait_for(opening, REQUEST_TIMEOUT)
            for path in paths:
                t = time.perf_counter()
                n = await asyncio.wait_for(fetch(reader, writer, path, accept, sizes), REQUEST_TIMEOUT)
                tally.bytes += n  # after the await: += across it would lose other clients' bytes
                tally.latencies.append(time.perf_counter() - t)
            tally.loads.append(time.perf_counter() - t_load)
        except Exception as e:  # noqa: BLE001 -- every failure is counted, by kind
            kind = "timeout" if isinstance(e, TimeoutError) else type(e).__name__
            tally.errors[kind] = tally.errors.get(kind, 0) + 1
        finally:
            if writer is not None:
                writer.close()


async def crowd(
    port: int, clients: int, paths: list[str], loads: int, args, sizes: dict
) -> tuple[Tally, float]:
    """``clients`` clients started together -> (tally, wall seconds); past PHASE_TIMEOUT: timeouts."""
    tally, t = Tally(), time.perf_counter()
    tasks = [client(port, paths, loads, args.accept_encoding, sizes, tally) for _ in range(clients)]
    _, pending = await asyncio.wait([asyncio.create_task(c) for c in tasks], timeout=PHASE_TIMEOUT)
    for task in pending:
        task.cancel()
    tally.errors.update({"timeout": tally.errors.get("timeout", 0) + len(pending)} if pending else {})
    return tally, time.perf_counter() - t


async def stalled_client(port: int, wait: float) -> dict[str, Any]:
    """Connect, send half a request header, stall -> whether, when and how the server let go."""
    t, outcome = time.perf_counter(), {"dropped": False, "status_408": False}
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), REQUEST_TIMEOUT)
    except OSError:
        return {**outcome, "after": 0.0}  # never connected: counted as not dropped
    writer.write(f"GET / HTTP/1.1\r\nHost: {HOST}\r\nUser-Agent: slow-".encode())
    try:
        data = await asyncio.wait_for(reader.read(), wait)  # to EOF: the server closed
        outcome = {"dropped": True, "status_408": data.startswith(b"HTTP/1.1 408 ")}
    except TimeoutError:
        pass
    except OSError:  # reset
        outcome["dropped"] = True
    finally:
        writer.close()
    return {**outcome, "after": time.perf_counter() - t}


def percentile(values: list[float], q: float) -> float | None:
    """The ``q``-th percentile by nearest rank; None for no values."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))] if s else None


def summary(tally: Tally, wall: float, clients: int, watch: Watch) -> dict[str, Any]:
    """One phase's figures, times in ms."""
    ms = {f"p{q}_ms": percentile(tally.latencies, q) for q in (50, 95)}
    ms |= {"max_ms": max(tally.latencies, default=None), "load_p50_ms": percentile(tally.loads, 50)}
    ok, failed = len(tally.latencies), sum(tally.errors.values())
    counts = {"clients": clients, "requests_planned": tally.planned, "requests_ok": ok, "failed": failed}
    counts |= {"timeouts": tally.errors.get("timeout", 0), "errors": tally.errors}
    rates = {
        "mb_per_s": round(tally.bytes / 1e6 / wall, 1),
        "mb_each": round(tally.bytes / 1e6 / max(ok, 1), 2),
    }
    server = {"server_threads_peak": watch.threads, "server_fds_peak": watch.fds}
    return {**counts, **{k: v and round(v * 1000, 2) for k, v in ms.items()}, **rates, **server}


async def measured(
    server: ServerProcess, clients: int, paths: list[str], loads: int, args, sizes: dict
) -> dict:
    """One crowd with the server watched: its summary."""
    async with Watch(server) as watch:
        tally, wall = await crowd(server.port, clients, paths, loads, args, sizes)
    return summary(tally, wall, clients, watch)


async def slow_phase(server: ServerProcess, args, page: list[str], sizes: dict) -> dict[str, Any]:
    """Stall ``--slow-clients`` connections, load the page beside them, then see each stalled one dropped."""
    async with Watch(server) as watch:
        stalling = [stalled_client(server.port, args.header_timeout + 10) for _ in range(args.slow_clients)]
        stalled = [asyncio.create_task(s) for s in stalling]
        await asyncio.sleep(0.3)
        threads, fds, t = server.threads(), server.fds(), time.perf_counter()
        tally, wall = await crowd(server.port, args.normal_clients, page, 1, args, sizes)
        normal_done, outcomes = time.perf_counter() - t, await asyncio.gather(*stalled)
        await asyncio.sleep(0.3)
    dropped = [o for o in outcomes if o["dropped"]]
    return {
        **summary(tally, wall, args.normal_clients, watch),
        "stalled": args.slow_clients,
        "stalled_dropped": len(dropped),
        "stalled_408": sum(o["status_408"] for o in dropped),
        "dropped_after_max_s": round(max((o["after"] for o in dropped), default=0), 2),
        "normal_done_after_s": round(normal_done, 2),
        "server_threads_with_stalled": threads,
        "server_fds_with_stalled": fds,
        "server_fds_after": server.fds(),
    }


async def run(args) -> dict[str, Any]:
    """Start the server, warm it up, run the three phases; the results (and the server's stderr)."""
    with tempfile.TemporaryDirectory(prefix="serve-bench-") as tmp:
        root = ROOT if not args.temp_root and find_runtime(ROOT) else temp_web_root(Path(tmp))
        runtime = "/" + find_runtime(root).relative_to(root).as_posix()
        page = ["/", *(f"/{name}" for name in PAGE_FILES if (root / name).is_file())]
        sizes = {p: (root / (p[1:] or "index.html")).stat().st_size for p in [*page, runtime]}
        result = {"root": "repository" if root == ROOT else "temporary", "page_paths": page}
        result |= {"runtime_path": runtime, "runtime_bytes": sizes[runtime], "workers": serve.WORKERS}
        server = ServerProcess(root, "--header-timeout", str(args.header_timeout))
        try:
            await crowd(server.port, 4, page, 1, args, sizes)  # warm up
            await asyncio.sleep(0.5)  # the warm-up's connections closed on both sides
            result.update(server_threads_idle=server.threads(), server_fds_idle=server.fds())
            result["page"] = await measured(server, args.page_clients, page, args.loads, args, sizes)
            result["runtime"] = await measured(server, args.runtime_clients, [runtime], 1, args, sizes)
            result["slow"] = await slow_phase(server, args, page, sizes)
        finally:
            result["server_stderr"] = server.stop()
        return {**result, "header_timeout_s": args.header_timeout}


def verdict(result: dict[str, Any]) -> list[str]:
    """What went wrong, in words (empty: all good)."""
    bad, bound = [], result["workers"] + 1  # the event loop and the disk workers
    for p, r in ((p, result[p]) for p in PHASES):
        if r["failed"] or r["requests_ok"] != r["requests_planned"]:
            done = f"{r['requests_ok']} of {r['requests_planned']} done"
            bad.append(f"{p}: {r['failed']} requests failed {r['errors']}, {done}")
        if r["server_threads_peak"] > bound:
            bad.append(f"{p}: the server had {r['server_threads_peak']} threads (bound {bound})")
    slow = result["slow"]
    if slow["stalled_dropped"] != slow["stalled"]:
        bad.append(f"slow: {slow['stalled'] - slow['stalled_dropped']} stalled clients were never dropped")
    elif slow["dropped_after_max_s"] > result["header_timeout_s"] + 5:
        bad.append(f"slow: a stalled client was dropped only after {slow['dropped_after_max_s']} s")
    if result["server_stderr"].strip():
        bad.append("the server wrote to stderr: " + result["server_stderr"].strip().splitlines()[-1])
    return bad


def tables(result: dict[str, Any]) -> str:
    """The phases side by side, then what became of the stalled clients."""
    r, s = result, result["slow"]
    runtime = f"runtime ({r['runtime_bytes'] / 1e6:.1f} MB, {r['runtime']['mb_each']} MB sent)"
    names = [f"page ({len(r['page_paths'])} files a load)", runtime, f"page, beside {s['stalled']} stalled"]
    head = ["phase", "clients", "ok / planned", "failed", "p50 ms", "p95 ms", "max ms", "load p50 ms", "MB/s"]
    head += ["server threads (peak)", "fds (peak)"]
    keys = ["p50_ms", "p95_ms", "max_ms", "load_p50_ms", "mb_per_s", "server_threads_peak", "server_fds_peak"]
    rows = []
    for name, p in zip(names, (r[x] for x in PHASES)):
        rows.append([name, p["clients"], f"{p['requests_ok']} / {p['requests_planned']}", p["failed"]])
        rows[-1] += [p[k] for k in keys]
    threads = f"{r['server_threads_idle']} / {s['server_threads_with_stalled']} (bound: 1 + {r['workers']})"
    stalled = [
        ["stalled / dropped / answered 408", f"{s['stalled']} / {s['stalled_dropped']} / {s['stalled_408']}"],
        ["dropped after at most", f"{s['dropped_after_max_s']} s (header timeout {r['header_timeout_s']} s)"],
        ["server threads: idle / with the stalled", threads],
        ["server fds: idle / with the stalled", f"{r['server_fds_idle']} / {s['server_fds_with_stalled']}"],
        ["server fds after they were dropped", s["server_fds_after"]],
        [f"{s['clients']} page clients meanwhile: all done after", f"{s['normal_done_after_s']} s"],
    ]
    return format_table(head, rows) + "\n\n" + format_table(["stalled connections", ""], stalled)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.serve_bench", description=__doc__.splitlines()[0])
    counts = {
        "--page-clients": (500, "concurrent page clients"),
        "--loads": (2, "page loads per page client"),
        "--runtime-clients": (100, "concurrent runtime clients"),
        "--slow-clients": (300, "stalled connections"),
        "--normal-clients": (100, "page clients beside the stalled ones"),
    }
    for flag, (default, what) in counts.items():
        p.add_argument(flag, type=whole_number(at_least=1), default=default, help=f"{what} ({default})")
    timeout = number(0, low_open=True)
    p.add_argument("--header-timeout", type=timeout, default=serve.HEADER_TIMEOUT, help="the server's")
    p.add_argument("--accept-encoding", default="gzip, deflate, br", help="what clients accept (a browser's)")
    p.add_argument("--temp-root", action="store_true", help="a temporary root with an 8 MB runtime file")
    p.add_argument("--quick", action="store_true", help="50 / 10 / 30 / 20 clients, 1 load, 1 s timeout")
    p.add_argument("--json", type=Path, default=DEFAULT_JSON, metavar="PATH", help="results file")
    return p


def raise_open_file_limit() -> None:
    """Every client and every connection is a file descriptor, on both sides: as many as allowed."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = 1 << 16 if hard == resource.RLIM_INFINITY else min(hard, 1 << 16)
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))  # the server inherits it
    except (ImportError, OSError, ValueError):
        pass


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    raise_open_file_limit()
    if args.quick:
        args.page_clients, args.runtime_clients, args.slow_clients, args.normal_clients = 50, 10, 30, 20
        args.loads, args.header_timeout = 1, 1.0
    t = time.perf_counter()
    result = asyncio.run(run(args))
    result["seconds"] = round(time.perf_counter() - t, 1)
    problems = verdict(result)
    print(tables(result))
    print(f"\nroot: {result['root']}; {result['runtime_path']}; Accept-Encoding: {args.accept_encoding}")
    settings = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    write_json(args.json, {"args": settings, **result, "problems": problems})
    print(f"JSON: {args.json} ({result['seconds']} s)")
    for line in problems:
        print(f"FAIL: {line}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
