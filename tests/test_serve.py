"""tools/serve.py: what it serves, what it refuses, MIME types, caching, pre-compressed copies,
and how it holds a crowd (backlog, timeouts, a bounded thread pool, answers to broken requests).

The server runs in a thread on a free port over a small fake web root, plus
one real subprocess run to check the command line (port 0, the printed URL).
Timeout tests use servers of their own with timeouts of a fraction of a second.
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
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tools import serve
from tools.paths import ROOT


FILES = {
    "index.html": b"<!doctype html><title>t</title>",
    "static/js/main.js": b"export {};",
    "sw.js": b"self.addEventListener('fetch', () => {});",
    "static/css/app.css": b"body{}",
    "static/pyodide/pyodide.mjs": b"export const loadPyodide = 1;",
    "static/pyodide/pyodide.asm.js": b"var x;",
    "static/pyodide/pyodide.asm.wasm": b"\0asm\1\0\0\0",
    "static/pyodide/pyodide-lock.json": b"{}",
    "static/pyodide/python_stdlib.zip": b"PK\5\6" + b"\0" * 18,
    "static/pyodide/numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl": b"PK\5\6" + b"\0" * 18,
    "static/pyodide/runtime.mjs": b"export const version = '0.27.7';",
    "static/pyodide/0.27.7/pyodide.mjs": b"export const loadPyodide = 2;",
    "static/pyodide/0.27.7/pyodide.asm.wasm": b"\0asm\1\0\0\0v",
    "static/js/big.js": b"export const big = '" + b"digit " * 2000 + b"';",
    "static/css/stale.css": b"body{margin:0}",
    "static/model/large.npz": bytes(range(256)) * 1200,  # past serve.SMALL_FILE: sent with sendfile
    "static/model/model.npz": b"PK\5\6" + b"\0" * 18,
    "static/.hidden": b"secret",
    "static/.cache/x.js": b"secret",
    "py/digitnet/network.py": b"secret",          # the page loads the wheel, never these files
    "py/network.py": b"secret",
    "static/pkg/digitnet-1.1.0-py3-none-any.whl": b"PK\5\6" + b"\0" * 18,
    "static/pkg/digitnet.mjs": b"export const WHEEL_URL = 'x';",
    "training/train.py": b"secret",
    "tests/test_x.py": b"secret",
    "data/mnist.npz": b"secret",
    ".git/config": b"secret",
    ".venv/pyvenv.cfg": b"secret",
    ".env": b"secret",
    "package.json": b"{}",
    "README.md": b"secret",
}


# Pre-compressed copies next to their file (the .br bytes need not be real Brotli: the server
# never decodes them).
BIG_BR = b"BR:" + bytes(range(256)) * 3
BIG_GZ = gzip.compress(FILES["static/js/big.js"], mtime=0)
WASM_BR = b"BR-wasm"
STALE_GZ = gzip.compress(b"body{margin:99px}", mtime=0)


def set_mtime(path: Path, seconds_ago: float) -> None:
    t = time.time() - seconds_ago
    os.utime(path, (t, t), follow_symlinks=False)


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    r = tmp_path_factory.mktemp("webroot")
    for name, data in FILES.items():
        (r / name).parent.mkdir(parents=True, exist_ok=True)
        (r / name).write_bytes(data)
    outside = r.parent / "outside.txt"
    outside.write_bytes(b"secret")
    (r.parent / "outside").mkdir(exist_ok=True)
    (r.parent / "outside" / "x.js").write_bytes(b"secret")
    (r.parent / "outside" / "x.py").write_bytes(b"secret")
    # Symlinks: out of the web root (refused) and within it (fine).
    os.symlink(outside, r / "static" / "escape.txt")
    os.symlink(r.parent / "outside", r / "static" / "escdir", target_is_directory=True)
    os.symlink(r.parent / "outside" / "x.py", r / "static" / "pkg" / "linked.py")
    os.symlink(r / "static" / "js" / "main.js", r / "static" / "alias.js")
    os.symlink(r / "static" / "js", r / "static" / "jsdir", target_is_directory=True)
    os.symlink("loop.js", r / "static" / "loop.js")
    # Pre-compressed copies (newer than their file), and a stale one (older).
    for name, data in {"static/js/big.js": (BIG_BR, BIG_GZ),
                       "static/pyodide/0.27.7/pyodide.asm.wasm": (WASM_BR, None),
                       "static/css/stale.css": (None, STALE_GZ)}.items():
        set_mtime(r / name, 100)
        for suffix, blob in zip((".br", ".gz"), data):
            if blob is not None:
                (r / (name + suffix)).write_bytes(blob)
    set_mtime(r / "static/css/stale.css.gz", 200)
    # A copy whose real path is outside the root must not be served either.
    (r.parent / "outside" / "main.js.br").write_bytes(b"secret")
    os.symlink(r.parent / "outside" / "main.js.br", r / "static" / "js" / "main.js.br")
    return r


@contextlib.contextmanager
def running(root: Path, **options):
    """A server of its own (workers, timeouts...) serving in a thread."""
    srv = serve.make_server(root, "127.0.0.1", 0, **options)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(10)


@pytest.fixture(scope="module")
def server(root):
    srv = serve.make_server(root, "127.0.0.1", 0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def request(server, path: str, method: str = "GET", headers: dict | None = None):
    """Raw request (the path is sent exactly as given, no client-side normalisation)."""
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        conn.endheaders()
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, dict((k.lower(), v) for k, v in resp.getheaders()), body
    finally:
        conn.close()


@pytest.mark.parametrize("path, mime", [
    ("/", "text/html"),
    ("/index.html", "text/html"),
    ("/static/js/main.js", "text/javascript"),
    ("/static/pyodide/pyodide.mjs", "text/javascript"),
    ("/static/pyodide/pyodide.asm.js", "text/javascript"),
    ("/static/css/app.css", "text/css"),
    ("/static/pyodide/pyodide.asm.wasm", "application/wasm"),
    ("/static/pyodide/pyodide-lock.json", "application/json"),
    ("/static/pyodide/python_stdlib.zip", "application/zip"),
    ("/static/pyodide/numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl", "application/zip"),
    ("/static/model/model.npz", "application/octet-stream"),
    ("/static/pkg/digitnet-1.1.0-py3-none-any.whl", "application/zip"),
    ("/static/pkg/digitnet.mjs", "text/javascript"),
])
def test_serves_with_the_right_mime_type(server, path, mime):
    status, headers, body = request(server, path)
    assert status == 200
    assert headers["content-type"].split(";")[0] == mime
    name = "index.html" if path == "/" else path[1:]
    assert body == FILES[name]
    assert headers["content-length"] == str(len(body))
    assert headers["x-content-type-options"] == "nosniff"


def test_small_and_large_files_arrive_whole(server):
    assert len(FILES["static/model/large.npz"]) > serve.SMALL_FILE >= len(FILES["static/js/main.js"])
    conn = http.client.HTTPConnection(*server.server_address[:2], timeout=10)
    try:
        for path in ("/static/model/large.npz", "/static/js/main.js", "/static/model/large.npz"):
            conn.request("GET", path)
            resp = conn.getresponse()
            assert resp.status == 200 and resp.read() == FILES[path[1:]]
            conn.request("HEAD", path)
            resp = conn.getresponse()
            assert resp.read() == b"" and resp.getheader("Content-Length") == str(len(FILES[path[1:]]))
    finally:
        conn.close()


def test_query_string_is_ignored(server):
    status, _, body = request(server, "/index.html?model=static/model/model.npz")
    assert status == 200 and body == FILES["index.html"]


def test_head_has_headers_but_no_body(server):
    status, headers, body = request(server, "/static/js/main.js", "HEAD")
    assert status == 200 and body == b""
    assert headers["content-length"] == str(len(FILES["static/js/main.js"]))


@pytest.mark.parametrize("path", [
    "/../outside.txt",
    "/static/../../outside.txt",
    "/static/../training/train.py",
    "/%2e%2e/outside.txt",
    "/%2E%2E/outside.txt",
    "/static/%2e%2e/%2e%2e/outside.txt",
    "/static/..%2f..%2foutside.txt",
    "/static%2f..%2f..%2foutside.txt",
    "/static/%2e%2e%2ftraining%2ftrain.py",
    "/static/js/..%5c..%5ctraining%5ctrain.py",
    "/static/./js/main.js",
    "/static/js/main.js%00.png",
    "//etc/passwd",
    "/static//js/main.js",
])
def test_no_traversal(server, path):
    status, _, body = request(server, path)
    assert status == 404
    assert b"secret" not in body


@pytest.mark.parametrize("path", [
    "/.git/config", "/.venv/pyvenv.cfg", "/.env", "/static/.hidden", "/static/.cache/x.js",
    "/%2egit/config", "/static/%2ehidden",
])
def test_no_dotfiles(server, path):
    assert request(server, path)[0] == 404


@pytest.mark.parametrize("path", [
    "/training/train.py", "/tests/test_x.py", "/data/mnist.npz", "/package.json", "/README.md",
    "/py/network.py", "/py/digitnet/network.py", "/py/", "/static/", "/static", "/static/js/",
    "/static/nope.js", "/index.htm", "/index.html/",
])
def test_only_whitelisted_paths(server, path):
    assert request(server, path)[0] == 404


def test_methods_other_than_get_and_head_are_refused(server):
    assert request(server, "/index.html", "POST")[0] in (405, 501)


@pytest.mark.parametrize("path", ["/static/pyodide/0.27.7/pyodide.asm.wasm", "/static/pyodide/0.27.7/pyodide.mjs"])
def test_runtime_in_a_version_folder_is_cached_for_a_year(server, path):
    status, headers, _ = request(server, path)
    assert status == 200 and headers["cache-control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize("path", ["/", "/static/js/main.js", "/static/pkg/digitnet.mjs", "/static/model/model.npz",
                                  # not in a version folder: the pointer to the current one, and a flat
                                  # runtime (until it moves) revalidate
                                  "/static/pyodide/runtime.mjs", "/static/pyodide/pyodide.asm.wasm",
                                  "/static/pyodide/pyodide-lock.json"])
def test_everything_else_revalidates(server, path):
    _, headers, _ = request(server, path)
    assert headers["cache-control"] == "no-cache"
    assert headers["etag"].startswith('"') and headers["last-modified"].endswith("GMT")


@pytest.mark.parametrize("path", ["/static/js/main.js", "/static/pyodide/runtime.mjs"])
def test_etag_revalidation_gives_304(server, path):
    _, headers, _ = request(server, path)
    status, h304, body = request(server, path, headers={"If-None-Match": headers["etag"]})
    assert status == 304 and body == b""
    assert h304["etag"] == headers["etag"] and h304["cache-control"] == "no-cache"
    assert request(server, path, headers={"If-None-Match": '"other"'})[0] == 200
    assert request(server, path, headers={"If-None-Match": "W/" + headers["etag"]})[0] == 304


def test_last_modified_revalidation_gives_304(server):
    _, headers, _ = request(server, "/static/pkg/digitnet.mjs")
    assert request(server, "/static/pkg/digitnet.mjs", headers={"If-Modified-Since": headers["last-modified"]})[0] == 304
    old = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert request(server, "/static/pkg/digitnet.mjs", headers={"If-Modified-Since": old})[0] == 200
    assert request(server, "/static/pkg/digitnet.mjs", headers={"If-Modified-Since": "garbage"})[0] == 200


def test_changed_file_gets_a_new_etag(server, root):
    _, before, _ = request(server, "/static/css/app.css")
    path = root / "static/css/app.css"
    path.write_bytes(b"body{color:red}")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    status, after, body = request(server, "/static/css/app.css", headers={"If-None-Match": before["etag"]})
    assert status == 200 and body == b"body{color:red}" and after["etag"] != before["etag"]


def test_the_service_worker_is_served_beside_the_page_with_no_special_header(server):
    """At /sw.js its default scope is the whole app, on any static host: no Service-Worker-Allowed."""
    status, headers, body = request(server, "/sw.js")
    assert status == 200 and headers["content-type"].startswith("text/javascript")
    assert "service-worker-allowed" not in headers and headers["cache-control"] == "no-cache"
    status, h304, _ = request(server, "/sw.js", headers={"If-None-Match": headers["etag"]})
    assert status == 304


def test_csp_keeps_the_page_on_this_server(server):
    _, headers, _ = request(server, "/")
    csp = headers["content-security-policy"]
    assert "default-src 'self'" in csp and "connect-src 'self'" in csp


def test_command_line_port_0_prints_the_real_url(root):
    proc = subprocess.Popen(
        [sys.executable, "-m", "tools.serve", "--port", "0", "--root", str(root)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = proc.stdout.readline()
        m = re.fullmatch(r"Serving on http://127\.0\.0\.1:(\d+)/\n", line)
        assert m, line
        port = int(m.group(1))
        assert port != 0
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/static/pyodide/pyodide.asm.wasm")
        resp = conn.getresponse()
        assert resp.status == 200 and resp.getheader("Content-Type") == "application/wasm"
        resp.read()
        conn.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    # Quiet by default: no request log lines.
    assert proc.stderr.read() == ""


def test_command_line_refuses_a_root_without_index(tmp_path):
    result = subprocess.run([sys.executable, "-m", "tools.serve", "--port", "0", "--root", str(tmp_path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "index.html" in result.stderr


# ---------------------------------------------------------------- raw HTTP, for what http.client will not send

SECURITY = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "content-security-policy": serve.CSP,
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}


def exchange(address, data: bytes, wait: float = 3.0) -> tuple[bytes, bool]:
    """Send ``data`` (never half-closing) and read until the server closes: (bytes, whether it closed)."""
    with socket.create_connection(address[:2], timeout=wait) as s:
        try:
            s.sendall(data)
        except OSError:  # the server may answer and close before it has read everything
            pass
        return read_until_closed(s, wait)


def read_until_closed(s: socket.socket, wait: float) -> tuple[bytes, bool]:
    out = b""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = s.recv(65536)
        except TimeoutError:
            break
        except ConnectionResetError:
            return out, True
        if not chunk:
            return out, True
        out += chunk
    return out, False


def parse_response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    return status, headers, body


# ---------------------------------------------------------------- 1. a real listen backlog

def test_a_burst_of_connections_waits_in_the_backlog(root):
    """Before it accepts any, the server's listen queue must take a burst (the old backlog was 5)."""
    srv = serve.make_server(root, "127.0.0.1", 0)
    assert srv.request_queue_size >= 1024
    socks = []
    try:
        for _ in range(200):  # nobody accepts yet: only the kernel's queue holds them
            socks.append(socket.create_connection(srv.server_address[:2], timeout=0.5))
        for s in socks:
            s.sendall(b"GET /index.html HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        thread = threading.Thread(target=srv.serve_forever, daemon=True)
        thread.start()
        for s in socks:
            raw, closed = read_until_closed(s, 5.0)
            assert closed and parse_response(raw)[0] == 200
    finally:
        for s in socks:
            s.close()
        srv.shutdown()
        srv.server_close()


def test_more_clients_than_workers_all_get_answers(root):
    """Past the pool, connections wait for a worker; none is refused or dropped."""
    with running(root, workers=2) as srv:
        with ThreadPoolExecutor(64) as pool:
            results = list(pool.map(lambda i: request(srv, "/static/js/main.js" if i % 2 else "/"), range(200)))
    assert [r[0] for r in results] == [200] * 200


def test_keep_alive_and_pipelining(server):
    conn = http.client.HTTPConnection(*server.server_address[:2], timeout=10)
    try:
        for path in ("/", "/static/js/main.js", "/static/pkg/digitnet.mjs"):
            conn.request("GET", path)
            resp = conn.getresponse()
            assert resp.status == 200 and resp.read()
        first_socket = conn.sock
        conn.request("GET", "/static/css/app.css")
        conn.getresponse().read()
        assert conn.sock is first_socket  # one connection for all four
    finally:
        conn.close()
    # Two requests in one packet: two answers, in order.
    two = (b"GET /static/js/main.js HTTP/1.1\r\nHost: t\r\n\r\n"
           b"GET /static/pkg/digitnet.mjs HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    raw, closed = exchange(server.server_address, two)
    assert closed
    status, headers, rest = parse_response(raw)
    n = int(headers["content-length"])
    assert status == 200 and rest[:n] == FILES["static/js/main.js"]
    status, _, body = parse_response(rest[n:])
    assert status == 200 and body == FILES["static/pkg/digitnet.mjs"]


# ---------------------------------------------------------------- 2. timeouts and bounded threads

def test_a_client_that_never_finishes_its_headers_is_dropped(root):
    with running(root, header_timeout=0.5) as srv:
        t = time.monotonic()
        raw, closed = exchange(srv.server_address, b"GET / HTTP/1.1\r\nHost: t\r\nX-Slow: ", wait=5)
        assert closed and time.monotonic() - t < 2.5
        status, headers, _ = parse_response(raw)
        assert status == 408 and headers["connection"] == "close"
        assert all(headers[k] == v for k, v in SECURITY.items())
        # Connected and silent: closed as well (nothing to answer).
        raw, closed = exchange(srv.server_address, b"", wait=5)
        assert closed and raw == b""
        # Byte by byte does not buy more time: the clock runs from the first byte.
        with socket.create_connection(srv.server_address[:2], timeout=5) as s:
            t = time.monotonic()
            for b in b"GET / HTTP/1.1\r\nHost: t\r\n":
                try:
                    s.send(bytes([b]))
                except OSError:
                    break
                time.sleep(0.05)
            raw, closed = read_until_closed(s, 5)
            assert closed and time.monotonic() - t < 2.5


def test_an_idle_keep_alive_connection_is_closed(root):
    with running(root, idle_timeout=0.5) as srv:
        conn = http.client.HTTPConnection(*srv.server_address[:2], timeout=10)
        try:
            conn.request("GET", "/")
            resp = conn.getresponse()
            assert resp.status == 200 and resp.read() == FILES["index.html"]
            assert not resp.will_close
            t = time.monotonic()
            raw, closed = read_until_closed(conn.sock, 5)
            assert closed and raw == b"" and 0.3 < time.monotonic() - t < 2.5
        finally:
            conn.close()
        deadline = time.monotonic() + 3
        while srv.open_connections and time.monotonic() < deadline:
            time.sleep(0.05)
        assert srv.open_connections == 0


def test_slow_clients_neither_add_threads_nor_block_others(root):
    """300 clients that stall half-way through their headers: no thread each, others are answered
    at once, and every stalled one is dropped after the header timeout."""
    with running(root, workers=4, header_timeout=1.5) as srv:
        assert request(srv, "/")[0] == 200  # the pool is up
        threads = threading.active_count()
        slow = []
        try:
            for _ in range(300):
                s = socket.create_connection(srv.server_address[:2], timeout=5)
                s.sendall(b"GET /index.html HTTP/1.1\r\nHost: t\r\nUser-Ag")
                slow.append(s)
            time.sleep(0.1)
            t = time.monotonic()
            for path in ("/", "/static/js/main.js", "/static/pkg/digitnet.mjs") * 5:
                assert request(srv, path)[0] == 200
            assert time.monotonic() - t < 1.0
            assert threading.active_count() == threads
            assert srv.open_connections >= 300
            for s in slow:
                raw, closed = read_until_closed(s, 5)
                assert closed and raw.startswith(b"HTTP/1.1 408 ")
        finally:
            for s in slow:
                s.close()
        assert threading.active_count() == threads
        deadline = time.monotonic() + 3
        while srv.open_connections and time.monotonic() < deadline:
            time.sleep(0.05)
        assert srv.open_connections == 0


def test_a_client_that_stops_reading_frees_its_worker(root, tmp_path):
    big = tmp_path / "web"
    (big / "static").mkdir(parents=True)
    (big / "index.html").write_bytes(b"<!doctype html>")
    (big / "static" / "big.bin").write_bytes(os.urandom(16 << 20))
    with running(big, workers=1, write_timeout=0.5) as srv:
        with socket.create_connection(srv.server_address[:2], timeout=5) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.sendall(b"GET /static/big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
            time.sleep(0.2)  # the only worker is now stuck sending to a client that does not read
            t = time.monotonic()
            assert request(srv, "/")[0] == 200  # it gives up after write_timeout
            assert time.monotonic() - t < 3


def test_timeouts_and_pool_size_are_settings(root):
    srv = serve.make_server(root, "127.0.0.1", 0)
    try:
        assert srv.workers == 64 and srv.header_timeout == 10 and srv.idle_timeout > 0 and srv.write_timeout > 0
    finally:
        srv.server_close()


# ---------------------------------------------------------------- 3. impossible paths are 404, long URLs 414

@pytest.mark.parametrize("path", [
    pytest.param("/static/" + "a" * 300, id="segment-300"),
    pytest.param("/static/js/" + "a" * 300 + ".js", id="file-300"),
    pytest.param("/static/" + "a" * 300 + "/main.js", id="dir-300"),
    pytest.param("/static/pkg/" + "b" * 300 + ".whl", id="pkg-300"),
    pytest.param("/static/" + "%41" * 300, id="percent-300"),
    # longer than PATH_MAX in all, still under 8 KiB
    pytest.param("/static/" + "/".join(["abcdefgh"] * 600), id="path-5400"),
    pytest.param("/static/loop.js", id="symlink-loop"),
    pytest.param("/static/js/main.js/x", id="file-as-dir"),
])
def test_impossible_paths_are_404_not_a_traceback(server, path):
    status, headers, body = request(server, path)
    assert status == 404 and body == b"404 Not Found\n"
    assert all(headers[k] == v for k, v in SECURITY.items())
    assert request(server, "/")[0] == 200  # and the server is fine


def test_an_overlong_url_is_414(server):
    status, headers, _ = request(server, "/static/" + "a/" * 5000)
    assert status == 414
    assert all(headers[k] == v for k, v in SECURITY.items())


# ---------------------------------------------------------------- 4. symlinks stay in the web root

@pytest.mark.parametrize("path", ["/static/escape.txt", "/static/escdir/x.js", "/static/pkg/linked.py",
                                  "/static/escdir/x.py"])
def test_symlinks_out_of_the_web_root_are_404(server, path):
    status, _, body = request(server, path)
    assert status == 404 and b"secret" not in body


def test_symlinks_within_the_web_root_are_served(server):
    assert request(server, "/static/alias.js")[2] == FILES["static/js/main.js"]
    assert request(server, "/static/jsdir/main.js")[2] == FILES["static/js/main.js"]


def test_symlinks_into_an_allowed_directory_are_served(root):
    with running(root, symlinks_into=[root.parent / "outside"]) as srv:
        assert request(srv, "/static/escdir/x.js")[0] == 200
        assert request(srv, "/static/escape.txt")[0] == 404  # that one points elsewhere


# ---------------------------------------------------------------- 5. and 6. every answer has the security headers

@pytest.mark.parametrize("raw, status", [
    pytest.param(b"GET /\r\n", 400, id="http-0.9"),  # answered at once, not left hanging
    pytest.param(b"GET /index.html\r\n\r\n", 400, id="http-0.9-blank-line"),
    pytest.param(b"garbage\r\n", 400, id="one-word"),
    pytest.param(b"GET / HTTP/1.1 extra\r\nHost: t\r\n\r\n", 400, id="four-words"),
    pytest.param(b"GET / HTTP/x.y\r\nHost: t\r\n\r\n", 400, id="bad-version"),
    pytest.param(b"GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505, id="http-2"),
    pytest.param(b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: t\r\n\r\n", 414, id="request-line-70k"),
    pytest.param(b"GET /" + b"a" * 70000, 414, id="request-line-70k-unfinished"),
    pytest.param(b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n", 431, id="header-70k"),
    pytest.param(b"GET / HTTP/1.1\r\n" + b"X-Many: b\r\n" * 150 + b"\r\n", 431, id="150-headers"),
    pytest.param(b"POST /index.html HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello", 501, id="POST"),
    pytest.param(b"BREW /index.html HTTP/1.1\r\nHost: t\r\n\r\n", 501, id="BREW"),
    pytest.param(b"DELETE /index.html HTTP/1.1\r\nHost: t\r\n\r\n", 501, id="DELETE"),
])
def test_broken_requests_get_an_answer_with_the_security_headers_and_a_close(server, raw, status):
    t = time.monotonic()
    data, closed = exchange(server.server_address, raw)
    assert closed and time.monotonic() - t < 2.0
    got, headers, body = parse_response(data)
    assert got == status
    assert all(headers.get(k) == v for k, v in SECURITY.items()), headers
    assert headers["connection"] == "close" and headers["cache-control"] == "no-store"
    assert int(headers["content-length"]) == len(body) and body.startswith(str(status).encode())


def test_a_bad_request_does_not_stop_the_server(server):
    data, closed = exchange(server.server_address, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x00\r\n\r\n")
    assert closed and parse_response(data)[0] == 400  # a TLS hello
    exchange(server.server_address, b"\r\n\r\n\r\n", wait=0.2)  # empty lines: still waiting for a request
    assert request(server, "/")[0] == 200


# ---------------------------------------------------------------- 8. pre-compressed copies

def get_encoded(server, path, accept, method="GET", extra=None):
    headers = {} if accept is None else {"Accept-Encoding": accept}
    return request(server, path, method, headers={**headers, **(extra or {})})


@pytest.mark.parametrize("accept, encoding", [
    ("br, gzip, deflate", "br"),
    ("gzip, deflate, br, zstd", "br"),
    ("gzip", "gzip"),
    ("x-gzip", "gzip"),
    ("br;q=0, gzip", "gzip"),
    ("gzip;q=0.5, br;q=0.8", "br"),
    ("gzip;q=1.0, br;q=0.2", "gzip"),
    ("*", "br"),
    ("*;q=0.5, br;q=0", "gzip"),
    ("br;q=0, gzip;q=0", None),
    ("identity", None),
    ("deflate", None),
    ("", None),
    (None, None),
])
def test_precompressed_copy_when_accepted(server, accept, encoding):
    status, headers, body = get_encoded(server, "/static/js/big.js", accept)
    assert status == 200
    assert headers["content-type"] == "text/javascript; charset=utf-8"
    assert headers["vary"] == "Accept-Encoding"
    assert headers.get("content-encoding") == encoding
    expected = {"br": BIG_BR, "gzip": BIG_GZ, None: FILES["static/js/big.js"]}[encoding]
    assert body == expected and headers["content-length"] == str(len(expected))
    if encoding == "gzip":
        assert gzip.decompress(body) == FILES["static/js/big.js"]
    assert headers["cache-control"] == "no-cache"
    assert all(headers[k] == v for k, v in SECURITY.items())


def test_each_encoding_has_its_own_etag(server):
    tags = {}
    for accept in ("br", "gzip", "identity"):
        _, headers, _ = get_encoded(server, "/static/js/big.js", accept)
        tags[accept] = headers["etag"]
    assert len(set(tags.values())) == 3
    for accept, tag in tags.items():
        status, headers, body = get_encoded(server, "/static/js/big.js", accept, extra={"If-None-Match": tag})
        assert status == 304 and body == b"" and headers["etag"] == tag and headers["vary"] == "Accept-Encoding"
    # A cached gzip copy is not a match for a client that now gets br.
    assert get_encoded(server, "/static/js/big.js", "br", extra={"If-None-Match": tags["gzip"]})[0] == 200


def test_head_of_a_precompressed_copy(server):
    status, headers, body = get_encoded(server, "/static/js/big.js", "br", "HEAD")
    assert status == 200 and body == b""
    assert headers["content-encoding"] == "br" and headers["content-length"] == str(len(BIG_BR))


def test_precompressed_runtime_in_a_version_folder_stays_immutable(server):
    status, headers, body = get_encoded(server, "/static/pyodide/0.27.7/pyodide.asm.wasm", "gzip, br")
    assert status == 200 and body == WASM_BR and headers["content-encoding"] == "br"
    assert headers["content-type"] == "application/wasm" and headers["cache-control"] == serve.IMMUTABLE
    status, headers, body = get_encoded(server, "/static/pyodide/0.27.7/pyodide.asm.wasm", "gzip")
    assert body == FILES["static/pyodide/0.27.7/pyodide.asm.wasm"] and "content-encoding" not in headers


def test_a_file_without_copies_has_no_vary(server):
    _, headers, body = get_encoded(server, "/static/css/app.css", "br, gzip")
    assert "vary" not in headers and "content-encoding" not in headers


def test_a_stale_copy_is_not_served(server):
    """A .gz older than its file was made from an older version: the file itself goes out."""
    _, headers, body = get_encoded(server, "/static/css/stale.css", "gzip")
    assert body == FILES["static/css/stale.css"] and "content-encoding" not in headers


def test_a_copy_outside_the_web_root_is_not_served(server):
    _, headers, body = get_encoded(server, "/static/js/main.js", "br")
    assert body == FILES["static/js/main.js"] and "content-encoding" not in headers


@pytest.mark.parametrize("path", ["/static/js/big.js.br", "/static/js/big.js.gz", "/static/js/big.js%2Ebr",
                                  "/static/pyodide/0.27.7/pyodide.asm.wasm.br", "/static/css/stale.css.gz"])
def test_the_copies_themselves_are_not_part_of_the_site(server, path):
    assert get_encoded(server, path, "br, gzip")[0] == 404
    assert get_encoded(server, path, None)[0] == 404


@pytest.mark.parametrize("header, expected", [
    ("br, gzip", ["br", "gzip"]),
    ("gzip, br", ["br", "gzip"]),
    ("gzip;q=0.9, br;q=0.1", ["gzip", "br"]),
    ("BR;Q=0.5", ["br"]),
    ("br;q=0", []),
    ("br;q=0.000", []),
    ("br;q=nan, gzip;q=bogus", []),
    ("*;q=0", []),
    ("*", ["br", "gzip"]),
    ("gzip;q=0, *", ["br"]),
    (None, []),
])
def test_accepted_encodings(header, expected):
    assert serve.accepted_encodings(header) == expected


def test_command_line_timeouts_and_workers(root):
    proc = subprocess.Popen(
        [sys.executable, "-m", "tools.serve", "--port", "0", "--root", str(root),
         "--workers", "3", "--header-timeout", "0.5", "--idle-timeout", "0.5"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        port = int(re.fullmatch(r"Serving on http://127\.0\.0\.1:(\d+)/\n", proc.stdout.readline()).group(1))
        t = time.monotonic()
        raw, closed = exchange(("127.0.0.1", port), b"GET / HTTP/1.1\r\nHost: t\r\n", wait=5)
        assert closed and raw.startswith(b"HTTP/1.1 408 ") and time.monotonic() - t < 2.5
        threads = int(re.search(r"^Threads:\s+(\d+)", Path(f"/proc/{proc.pid}/status").read_text(), re.M).group(1))
        assert threads == 1 + 3  # the event loop and the workers
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.stderr.read() == ""


@pytest.mark.parametrize("flag", ["--workers=0", "--header-timeout=-1", "--idle-timeout=x"])
def test_command_line_refuses_bad_settings(root, flag):
    result = subprocess.run([sys.executable, "-m", "tools.serve", "--port", "0", "--root", str(root), flag],
                            cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and flag.split("=")[0] in result.stderr
