"""tools/serve.py from the outside: ``python -m tools.serve --port 0`` in a subprocess over a small fake
web root, and real HTTP over sockets -- what it serves and refuses, its headers, caching, conditional
requests, pre-compressed copies, and how it drops slow, idle and non-reading clients.

Raw sockets are used where http.client would tidy the request (paths, methods, half-sent headers).
Servers with timeouts of half a second are started for the timeout tests.
"""

from __future__ import annotations

import contextlib
import gzip
import http.client
import os
import re
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tools.harness import stop_process
from tools.paths import ROOT
from tools.serve import CSP

FILES = {
    "index.html": b"<!doctype html><title>t</title>",
    "sw.js": b"self.addEventListener('fetch', () => {});",
    "static/js/main.js": b"export {};",
    "static/css/app.css": b"body{}",
    "static/pyodide/runtime.mjs": b"export const version = '0.27.7';",
    "static/pyodide/pyodide.asm.wasm": b"\0asm\1\0\0\0",
    "static/pyodide/0.27.7/pyodide.mjs": b"export const loadPyodide = 2;",
    "static/pyodide/0.27.7/pyodide.asm.wasm": b"\0asm\1\0\0\0v",
    "static/pyodide/0.27.7/pyodide-lock.json": b"{}",
    "static/pkg/digitnet-1.1.0-py3-none-any.whl": b"PK\5\6" + b"\0" * 18,
    "static/pkg/digitnet.mjs": b"export const WHEEL_URL = 'x';",
    "static/model/model.npz": b"PK\5\6" + b"\0" * 18,
    "static/model/large.npz": bytes(range(256)) * 4000,  # 1 MB: several sendfile steps
    "static/js/big.js": b"export const big = '" + b"digit " * 2000 + b"';",
    "static/css/stale.css": b"body{margin:0}",
    "static/.hidden": b"secret",
    "static/.cache/x.js": b"secret",
    "py/digitnet/network.py": b"secret",
    "training/train.py": b"secret",
    ".git/config": b"secret",
    ".env": b"secret",
    "package.json": b"secret",
    "README.md": b"secret",
}
BIG_BR = b"BR:" + bytes(range(256)) * 3  # the server never decodes a copy: any bytes will do
BIG_GZ = gzip.compress(FILES["static/js/big.js"], mtime=0)
WASM_BR = b"BR-wasm"
SECURITY = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "content-security-policy": CSP,
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}
LINE = re.compile(r"Serving on http://127\.0\.0\.1:(\d+)/\n")


def set_mtime(path: Path, seconds_ago: float) -> None:
    t = time.time() - seconds_ago
    os.utime(path, (t, t), follow_symlinks=False)


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """The fake web root, secrets around it, symlinks in and out of it, fresh and stale copies."""
    r = tmp_path_factory.mktemp("webroot")
    for name, data in FILES.items():
        (r / name).parent.mkdir(parents=True, exist_ok=True)
        (r / name).write_bytes(data)
    outside = r.parent / "outside"
    outside.mkdir(exist_ok=True)
    for name in ("x.js", "secret.txt", "main.js.br"):
        (outside / name).write_bytes(b"secret")
    os.symlink(outside / "secret.txt", r / "static" / "escape.txt")
    os.symlink(outside, r / "static" / "escdir", target_is_directory=True)
    os.symlink(r / "static" / "js" / "main.js", r / "static" / "alias.js")
    os.symlink(r / "static" / "js", r / "static" / "jsdir", target_is_directory=True)
    os.symlink("loop.js", r / "static" / "loop.js")
    os.symlink(outside / "main.js.br", r / "static" / "js" / "main.js.br")  # a copy outside the root
    for name, copies in {
        "static/js/big.js": {".br": BIG_BR, ".gz": BIG_GZ},
        "static/pyodide/0.27.7/pyodide.asm.wasm": {".br": WASM_BR},
        "static/css/stale.css": {".gz": gzip.compress(b"body{margin:99px}")},
    }.items():
        set_mtime(r / name, 100)
        for suffix, blob in copies.items():
            (r / (name + suffix)).write_bytes(blob)
    set_mtime(r / "static/css/stale.css.gz", 200)  # older than its file
    return r


class Served:
    """``python -m tools.serve --port 0`` with ``flags``; ``addr`` from the line it prints."""

    def __init__(self, root: Path, *flags: str):
        command = [sys.executable, "-m", "tools.serve", "--port", "0", "--root", str(root), *flags]
        self.proc = subprocess.Popen(
            command, cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        line = self.proc.stdout.readline()
        m = LINE.fullmatch(line)
        if not m:
            self.stop()
            raise AssertionError(f"no 'Serving on' line: {line!r} {self.proc.stderr.read()!r}")
        self.addr = ("127.0.0.1", int(m.group(1)))

    def threads(self) -> int:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(r"^Threads:\s+(\d+)", status, re.M).group(1))

    def stop(self) -> str:
        """Stop it and return what it wrote to stderr."""
        stop_process(self.proc)
        return self.proc.stderr.read()


@contextlib.contextmanager
def running(root: Path, *flags: str):
    served = Served(root, *flags)
    try:
        yield served
    finally:
        served.stop()


@pytest.fixture(scope="module")
def server(root):
    served = Served(root)
    yield served.addr
    assert served.stop() == ""  # quiet: no request log, no tracebacks, whatever the tests sent


def request(addr, path: str, method: str = "GET", headers: dict | None = None):
    """One request, the path sent exactly as given -> (status, lower-cased headers, body)."""
    conn = http.client.HTTPConnection(*addr, timeout=10)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def read_until_closed(s: socket.socket, wait: float) -> tuple[bytes, bool]:
    """What arrives within ``wait`` seconds, and whether the server closed the connection."""
    out, deadline = b"", time.monotonic() + wait
    while time.monotonic() < deadline:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = s.recv(1 << 16)
        except TimeoutError:
            break
        except ConnectionResetError:
            return out, True
        if not chunk:
            return out, True
        out += chunk
    return out, False


def exchange(addr, data: bytes, wait: float = 3.0) -> tuple[bytes, bool]:
    """Send raw bytes, read until the server closes (or ``wait`` passes)."""
    with socket.create_connection(addr, timeout=wait) as s:
        s.sendall(data)
        return read_until_closed(s, wait)


def parse_response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def assert_secure(headers: dict[str, str]) -> None:
    assert {k: headers.get(k) for k in SECURITY} == SECURITY


# ---------------------------------------------------------------- what is served, and how


@pytest.mark.parametrize(
    "path, mime",
    [
        ("/", "text/html"),
        ("/index.html", "text/html"),
        ("/sw.js", "text/javascript"),
        ("/static/js/main.js", "text/javascript"),
        ("/static/css/app.css", "text/css"),
        ("/static/pyodide/runtime.mjs", "text/javascript"),
        ("/static/pyodide/pyodide.asm.wasm", "application/wasm"),
        ("/static/pyodide/0.27.7/pyodide-lock.json", "application/json"),
        ("/static/pkg/digitnet-1.1.0-py3-none-any.whl", "application/zip"),
        ("/static/model/model.npz", "application/octet-stream"),
    ],
)
def test_serves_the_page_files_with_their_types(server, path, mime):
    status, headers, body = request(server, path)
    assert status == 200 and body == FILES["index.html" if path == "/" else path[1:]]
    assert headers["content-type"].split(";")[0] == mime and headers["content-length"] == str(len(body))
    assert_secure(headers)


def test_query_string_is_ignored(server):
    assert request(server, "/index.html?model=static/model/model.npz")[2] == FILES["index.html"]


def test_percent_encoded_paths_are_decoded(server):
    assert request(server, "/static/js/main%2Ejs")[2] == FILES["static/js/main.js"]
    assert request(server, "/%69ndex.html")[2] == FILES["index.html"]


def test_head_has_the_headers_but_no_body(server):
    _, get, _ = request(server, "/static/js/main.js")
    status, head, body = request(server, "/static/js/main.js", "HEAD")
    assert status == 200 and body == b""
    assert {k: head[k] for k in ("content-length", "content-type", "etag", "cache-control")} == {
        k: get[k] for k in ("content-length", "content-type", "etag", "cache-control")
    }
    assert_secure(head)


def test_keep_alive_large_files_and_pipelining(server):
    conn = http.client.HTTPConnection(*server, timeout=10)
    sockets = set()
    try:
        for path, method in [
            ("/static/model/large.npz", "GET"),
            ("/static/js/main.js", "GET"),
            ("/static/model/large.npz", "HEAD"),
            ("/static/model/large.npz", "GET"),
        ]:
            conn.request(method, path)
            resp = conn.getresponse()
            assert resp.status == 200 and resp.read() == (FILES[path[1:]] if method == "GET" else b"")
            assert resp.getheader("Content-Length") == str(len(FILES[path[1:]])) and not resp.will_close
            sockets.add(conn.sock)
        assert len(sockets) == 1  # one connection for all four
    finally:
        conn.close()
    two = (
        b"GET /static/js/main.js HTTP/1.1\r\nHost: t\r\n\r\n"
        b"GET /static/pkg/digitnet.mjs HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    raw, closed = exchange(server, two)
    status, headers, rest = parse_response(raw)
    n = int(headers["content-length"])
    assert closed and status == 200 and rest[:n] == FILES["static/js/main.js"]
    assert parse_response(rest[n:])[2] == FILES["static/pkg/digitnet.mjs"]


# ---------------------------------------------------------------- what is refused


@pytest.mark.parametrize(
    "path",
    [
        "/../README.md",
        "/static/../../outside/secret.txt",
        "/static/../training/train.py",
        "/%2e%2e/README.md",
        "/%2E%2E/README.md",
        "/static/%2e%2e/%2e%2e/outside/secret.txt",
        "/static/..%2f..%2fREADME.md",
        "/static%2f..%2fREADME.md",
        "/static/%2e%2e%2ftraining%2ftrain.py",
        "/static/js/..%5c..%5ctraining%5ctrain.py",
        "/static/./js/main.js",
        "/static/js/main.js%00.png",
        "//README.md",
        "/static//js/main.js",
        "/static/%ff.js",
    ],
)
def test_no_way_out_of_the_root(server, path):
    status, headers, body = request(server, path)
    assert status == 404 and body == b"404 Not Found\n" and headers["cache-control"] == "no-store"
    assert_secure(headers)


@pytest.mark.parametrize(
    "path",
    [
        "/.git/config",
        "/.env",
        "/static/.hidden",
        "/static/.cache/x.js",
        "/%2egit/config",
        "/static/%2ehidden",
        "/training/train.py",
        "/py/digitnet/network.py",
        "/package.json",
        "/README.md",
        "/static/",
        "/static",
        "/static/js/",
        "/static/nope.js",
        "/index.htm",
        "/index.html/",
        "/static/js/main.js/x",
        "/static/loop.js",
        "/static/" + "a" * 300,
        "/static/" + "/".join(["abcdefgh"] * 600),
    ],
)
def test_only_the_page_files_exist(server, path):
    assert request(server, path)[0] == 404


@pytest.mark.parametrize("path", ["/static/escape.txt", "/static/escdir/x.js"])
def test_symlinks_out_of_the_root_are_404(server, path):
    status, _, body = request(server, path)
    assert status == 404 and b"secret" not in body


def test_symlinks_within_the_root_are_served(server):
    assert (
        request(server, "/static/alias.js")[2]
        == request(server, "/static/jsdir/main.js")[2]
        == FILES["static/js/main.js"]
    )


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"])
def test_only_get_and_head(server, method):
    status, headers, body = request(server, "/index.html", method, {"Content-Length": "0"})
    assert status == 405 and headers["allow"] == "GET, HEAD" and body == b"405 Method Not Allowed\n"
    assert headers["cache-control"] == "no-store"
    assert_secure(headers)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"garbage\r\n\r\n", id="one-word"),
        pytest.param(b"GET / HTTP/x.y\r\nHost: t\r\n\r\n", id="bad-version"),
        pytest.param(b"GET / HTTP/1.1\r\n" + b"X-Many: b\r\n" * 150 + b"\r\n", id="150-headers"),
        pytest.param(b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n", id="header-20k"),
        pytest.param(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x00\r\n\r\n", id="tls-hello"),
    ],
)
def test_broken_requests_get_an_error_with_the_security_headers_and_a_close(server, raw):
    data, closed = exchange(server, raw)
    status, headers, body = parse_response(data)
    assert closed and 400 <= status < 500 and headers.get("connection", "close") == "close"
    assert headers["cache-control"] == "no-store" and body.startswith(str(status).encode())
    assert_secure(headers)
    assert request(server, "/")[0] == 200


# ---------------------------------------------------------------- caching and conditional requests


@pytest.mark.parametrize(
    "path", ["/static/pyodide/0.27.7/pyodide.asm.wasm", "/static/pyodide/0.27.7/pyodide.mjs"]
)
def test_the_versioned_runtime_is_immutable(server, path):
    assert request(server, path)[1]["cache-control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/sw.js",
        "/static/js/main.js",
        "/static/model/model.npz",
        "/static/pyodide/runtime.mjs",
        "/static/pyodide/pyodide.asm.wasm",
    ],
)
def test_everything_else_revalidates(server, path):
    _, headers, _ = request(server, path)
    assert headers["cache-control"] == "no-cache" and "service-worker-allowed" not in headers
    assert headers["etag"].startswith('"') and headers["last-modified"].endswith(" GMT")


@pytest.mark.parametrize("path", ["/static/js/main.js", "/static/pyodide/runtime.mjs", "/sw.js"])
def test_etag_revalidation(server, path):
    _, headers, _ = request(server, path)
    for tag, expected in [
        (headers["etag"], 304),
        ("W/" + headers["etag"], 304),
        ("*", 304),
        (f'"other", {headers["etag"]}', 304),
        ('"other"', 200),
    ]:
        status, h, body = request(server, path, headers={"If-None-Match": tag})
        assert status == expected and (body == b"") == (expected == 304)
        assert h["etag"] == headers["etag"] and h["cache-control"] == headers["cache-control"]
        assert_secure(h)


def test_last_modified_revalidation(server):
    _, headers, _ = request(server, "/static/pkg/digitnet.mjs")
    for since, expected in [
        (headers["last-modified"], 304),
        ("Mon, 01 Jan 2001 00:00:00 GMT", 200),
        ("garbage", 200),
    ]:
        status, _, _ = request(server, "/static/pkg/digitnet.mjs", headers={"If-Modified-Since": since})
        assert status == expected, since
    # If-None-Match wins: a stale tag with a fresh date is a full answer.
    both = {"If-Modified-Since": headers["last-modified"], "If-None-Match": '"old"'}
    assert request(server, "/static/pkg/digitnet.mjs", headers=both)[0] == 200


def test_a_changed_file_gets_a_new_etag(server, root):
    path = root / "static/css/edited.css"
    path.write_bytes(b"body{}")
    _, before, _ = request(server, "/static/css/edited.css")
    path.write_bytes(b"body{color:red}")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 5_000_000_000))
    status, after, body = request(server, "/static/css/edited.css", headers={"If-None-Match": before["etag"]})
    assert status == 200 and body == b"body{color:red}" and after["etag"] != before["etag"]


# ---------------------------------------------------------------- pre-compressed copies


@pytest.mark.parametrize(
    "accept, encoding",
    [
        ("br, gzip, deflate", "br"),
        ("gzip, deflate, br, zstd", "br"),
        ("gzip", "gzip"),
        ("x-gzip", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("gzip;q=0.5, br;q=0.8", "br"),
        ("gzip;q=1.0, br;q=0.2", "gzip"),
        ("*", "br"),
        ("*;q=0.5, br;q=0", "gzip"),
        ("BR;Q=0.5", "br"),
        ("br;q=nan, gzip;q=bogus", None),
        ("br;q=0, gzip;q=0", None),
        ("identity", None),
        ("deflate", None),
        ("", None),
        (None, None),
    ],
)
def test_compression_negotiation(server, accept, encoding):
    status, headers, body = request(
        server, "/static/js/big.js", headers={} if accept is None else {"Accept-Encoding": accept}
    )
    expected = {"br": BIG_BR, "gzip": BIG_GZ, None: FILES["static/js/big.js"]}[encoding]
    assert status == 200 and body == expected and headers["content-length"] == str(len(expected))
    assert headers.get("content-encoding") == encoding and headers["vary"] == "Accept-Encoding"
    assert headers["content-type"] == "text/javascript; charset=utf-8"
    assert headers["cache-control"] == "no-cache"
    assert_secure(headers)


def test_each_encoding_has_its_own_etag(server):
    tags = {
        a: request(server, "/static/js/big.js", headers={"Accept-Encoding": a})[1]["etag"]
        for a in ("br", "gzip", "identity")
    }
    assert len(set(tags.values())) == 3
    for accept, tag in tags.items():
        status, headers, _ = request(
            server, "/static/js/big.js", headers={"Accept-Encoding": accept, "If-None-Match": tag}
        )
        assert status == 304 and headers["vary"] == "Accept-Encoding"
    assert (
        request(
            server, "/static/js/big.js", headers={"Accept-Encoding": "br", "If-None-Match": tags["gzip"]}
        )[0]
        == 200
    )


def test_head_of_a_copy(server):
    status, headers, body = request(server, "/static/js/big.js", "HEAD", {"Accept-Encoding": "br"})
    assert status == 200 and body == b"" and headers["content-encoding"] == "br"
    assert headers["content-length"] == str(len(BIG_BR))


def test_a_copy_of_the_versioned_runtime_stays_immutable(server):
    path = "/static/pyodide/0.27.7/pyodide.asm.wasm"
    _, headers, body = request(server, path, headers={"Accept-Encoding": "gzip, br"})
    assert body == WASM_BR and headers["content-encoding"] == "br"
    assert headers["content-type"] == "application/wasm"
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    _, headers, body = request(server, path, headers={"Accept-Encoding": "gzip"})  # no .gz: the file itself
    assert body == FILES[path[1:]] and "content-encoding" not in headers


@pytest.mark.parametrize(
    "path, why",
    [
        ("/static/css/app.css", "no copies: no Vary either"),
        ("/static/css/stale.css", "the copy is older than the file"),
        ("/static/js/main.js", "the copy's real path is outside the root"),
    ],
)
def test_the_file_itself_when_no_copy_may_be_sent(server, path, why):
    _, headers, body = request(server, path, headers={"Accept-Encoding": "br, gzip"})
    assert body == FILES[path[1:]] and "content-encoding" not in headers, why
    assert ("vary" in headers) == (path == "/static/css/stale.css"), why


@pytest.mark.parametrize(
    "path",
    ["/static/js/big.js.br", "/static/js/big.js.gz", "/static/js/big.js%2Ebr", "/static/css/stale.css.gz"],
)
def test_the_copies_are_not_part_of_the_site(server, path):
    assert request(server, path, headers={"Accept-Encoding": "br, gzip"})[0] == 404
    assert request(server, path)[0] == 404


# ---------------------------------------------------------------- slow, idle and non-reading clients


def test_a_client_that_never_finishes_its_headers_gets_408_and_is_dropped(root):
    with running(root, "--header-timeout", "0.5", "--idle-timeout", "5") as srv:
        t = time.monotonic()
        raw, closed = exchange(srv.addr, b"GET / HTTP/1.1\r\nHost: t\r\nX-Slow: ", wait=5)
        assert closed and 0.4 < time.monotonic() - t < 2.0
        status, headers, body = parse_response(raw)
        assert status == 408 and headers["connection"] == "close" and body == b"408 Request Timeout\n"
        assert headers["content-length"] == str(len(body))
        assert_secure(headers)
        raw, closed = exchange(srv.addr, b"", wait=5)  # connected and silent: closed, nothing to answer
        assert closed and raw == b""
        with socket.create_connection(srv.addr, timeout=5) as s:  # byte by byte buys no time
            t = time.monotonic()
            for b in b"GET / HTTP/1.1\r\nHost: t\r\n":
                with contextlib.suppress(OSError):
                    s.send(bytes([b]))
                time.sleep(0.05)
            raw, closed = read_until_closed(s, 5)
            assert closed and raw.startswith(b"HTTP/1.1 408 ") and time.monotonic() - t < 2.0
        with socket.create_connection(srv.addr, timeout=5) as s:  # kept alive: the next request's own clock
            s.sendall(b"GET /sw.js HTTP/1.1\r\nHost: t\r\n\r\n")
            time.sleep(0.3)
            first = s.recv(1 << 16)
            assert first.startswith(b"HTTP/1.1 200 ") and first.endswith(FILES["sw.js"])
            s.sendall(b"GET / HTTP/1.1\r\n")
            t = time.monotonic()
            raw, closed = read_until_closed(s, 5)
            assert closed and raw.startswith(b"HTTP/1.1 408 ") and time.monotonic() - t < 2.0


def test_an_idle_keep_alive_connection_is_closed(root):
    with running(root, "--idle-timeout", "0.6") as srv:
        conn = http.client.HTTPConnection(*srv.addr, timeout=10)
        try:
            for _ in range(3):  # within the idle timeout the connection stays
                conn.request("GET", "/")
                resp = conn.getresponse()
                assert resp.status == 200 and resp.read() == FILES["index.html"] and not resp.will_close
                time.sleep(0.3)
            sock = conn.sock
            t = time.monotonic()
            raw, closed = read_until_closed(sock, 5)
            assert closed and raw == b"" and 0.1 < time.monotonic() - t < 2.0
        finally:
            conn.close()


def test_stalled_clients_hold_no_thread_and_block_nobody(root):
    """150 clients stalled half-way through their headers: others are answered at once, the thread
    count stays within the event loop and its workers, and each stalled one gets 408 in time."""
    with running(root, "--workers", "2", "--header-timeout", "1.5") as srv:
        assert request(srv.addr, "/")[0] == 200
        stalled = []
        try:
            for _ in range(150):
                s = socket.create_connection(srv.addr, timeout=5)
                s.sendall(b"GET /index.html HTTP/1.1\r\nHost: t\r\nUser-Ag")
                stalled.append(s)
            t = time.monotonic()
            with ThreadPoolExecutor(30) as pool:
                paths = ("/", "/static/js/main.js", "/static/model/large.npz") * 20
                assert {r[0] for r in pool.map(lambda p: request(srv.addr, p), paths)} == {200}
            assert time.monotonic() - t < 3.0 and srv.threads() <= 1 + 2
            for s in stalled:
                raw, closed = read_until_closed(s, 5)
                assert closed and raw.startswith(b"HTTP/1.1 408 ")
        finally:
            for s in stalled:
                s.close()
        assert srv.threads() <= 1 + 2


def test_a_client_that_stops_reading_is_dropped(root, tmp_path):
    web = tmp_path / "web"
    (web / "static").mkdir(parents=True)
    (web / "index.html").write_bytes(b"<!doctype html>")
    (web / "static" / "big.bin").write_bytes(os.urandom(16 << 20))
    with running(web, "--write-timeout", "0.5") as srv:
        with socket.create_connection(srv.addr, timeout=5) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
            s.sendall(b"GET /static/big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
            time.sleep(1.5)  # read nothing: the server gives up on this answer
            assert request(srv.addr, "/")[0] == 200
            raw, closed = read_until_closed(s, 5)
            assert closed and len(raw) < 16 << 20


# ---------------------------------------------------------------- the command line


def test_command_line_prints_the_real_port_and_is_quiet(root):
    srv = Served(root)
    try:
        assert srv.addr[1] != 0 and request(srv.addr, "/static/pyodide/pyodide.asm.wasm")[0] == 200
        assert request(srv.addr, "/nothing")[0] == 404
    finally:
        assert srv.stop() == ""


def test_command_line_refuses_a_root_without_index(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "tools.serve", "--port", "0", "--root", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2 and "index.html" in result.stderr


@pytest.mark.parametrize(
    "flag", ["--workers=0", "--header-timeout=-1", "--idle-timeout=x", "--write-timeout=0", "--port=70000"]
)
def test_command_line_refuses_bad_settings(root, flag):
    result = subprocess.run(
        [sys.executable, "-m", "tools.serve", "--port", "0", "--root", str(root), flag],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2 and flag.split("=")[0] in result.stderr


def test_command_line_says_when_the_port_is_taken(root):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = subprocess.run(
            [sys.executable, "-m", "tools.serve", "--port", port, "--root", str(root)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in result.stderr
