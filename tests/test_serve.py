"""tools/serve.py: what it serves, what it refuses, MIME types and caching.

The server runs in a thread on a free port over a small fake web root, plus
one real subprocess run to check the command line (port 0, the printed URL).
"""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tools import serve

ROOT = Path(__file__).resolve().parent.parent

FILES = {
    "index.html": b"<!doctype html><title>t</title>",
    "static/js/main.js": b"export {};",
    "static/sw.js": b"self.addEventListener('fetch', () => {});",
    "static/css/app.css": b"body{}",
    "static/pyodide/pyodide.mjs": b"export const loadPyodide = 1;",
    "static/pyodide/pyodide.asm.js": b"var x;",
    "static/pyodide/pyodide.asm.wasm": b"\0asm\1\0\0\0",
    "static/pyodide/pyodide-lock.json": b"{}",
    "static/pyodide/python_stdlib.zip": b"PK\5\6" + b"\0" * 18,
    "static/pyodide/numpy-2.0.2-cp312-cp312-pyodide_2024_0_wasm32.whl": b"PK\5\6" + b"\0" * 18,
    "static/model/model.npz": b"PK\5\6" + b"\0" * 18,
    "static/.hidden": b"secret",
    "static/.cache/x.js": b"secret",
    "py/network.py": b"import numpy",
    "py/__pycache__/network.cpython-311.pyc": b"secret",
    "training/train.py": b"secret",
    "tests/test_x.py": b"secret",
    "data/mnist.npz": b"secret",
    ".git/config": b"secret",
    ".venv/pyvenv.cfg": b"secret",
    ".env": b"secret",
    "package.json": b"{}",
    "README.md": b"secret",
}


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    r = tmp_path_factory.mktemp("webroot")
    for name, data in FILES.items():
        (r / name).parent.mkdir(parents=True, exist_ok=True)
        (r / name).write_bytes(data)
    outside = r.parent / "outside.txt"
    outside.write_bytes(b"secret")
    return r


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
    ("/py/network.py", "text/x-python"),
])
def test_serves_with_the_right_mime_type(server, path, mime):
    status, headers, body = request(server, path)
    assert status == 200
    assert headers["content-type"].split(";")[0] == mime
    name = "index.html" if path == "/" else path[1:]
    assert body == FILES[name]
    assert headers["content-length"] == str(len(body))
    assert headers["x-content-type-options"] == "nosniff"


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
    "/py/__pycache__/network.cpython-311.pyc", "/py/", "/static/", "/static", "/static/js/",
    "/static/nope.js", "/index.htm", "/index.html/",
])
def test_only_whitelisted_paths(server, path):
    assert request(server, path)[0] == 404


def test_methods_other_than_get_and_head_are_refused(server):
    assert request(server, "/index.html", "POST")[0] in (405, 501)


def test_runtime_is_cached_for_a_year(server):
    _, headers, _ = request(server, "/static/pyodide/pyodide.asm.wasm")
    assert headers["cache-control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize("path", ["/", "/static/js/main.js", "/py/network.py", "/static/model/model.npz"])
def test_everything_else_revalidates(server, path):
    _, headers, _ = request(server, path)
    assert headers["cache-control"] == "no-cache"
    assert headers["etag"].startswith('"') and headers["last-modified"].endswith("GMT")


def test_etag_revalidation_gives_304(server):
    _, headers, _ = request(server, "/static/js/main.js")
    status, h304, body = request(server, "/static/js/main.js", headers={"If-None-Match": headers["etag"]})
    assert status == 304 and body == b""
    assert h304["etag"] == headers["etag"] and h304["cache-control"] == "no-cache"
    assert request(server, "/static/js/main.js", headers={"If-None-Match": '"other"'})[0] == 200
    assert request(server, "/static/js/main.js", headers={"If-None-Match": "W/" + headers["etag"]})[0] == 304


def test_last_modified_revalidation_gives_304(server):
    _, headers, _ = request(server, "/py/network.py")
    assert request(server, "/py/network.py", headers={"If-Modified-Since": headers["last-modified"]})[0] == 304
    old = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert request(server, "/py/network.py", headers={"If-Modified-Since": old})[0] == 200
    assert request(server, "/py/network.py", headers={"If-Modified-Since": "garbage"})[0] == 200


def test_changed_file_gets_a_new_etag(server, root):
    _, before, _ = request(server, "/static/css/app.css")
    path = root / "static/css/app.css"
    path.write_bytes(b"body{color:red}")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    status, after, body = request(server, "/static/css/app.css", headers={"If-None-Match": before["etag"]})
    assert status == 200 and body == b"body{color:red}" and after["etag"] != before["etag"]


def test_service_worker_may_control_the_whole_app(server):
    _, headers, _ = request(server, "/static/sw.js")
    assert headers["service-worker-allowed"] == "/"
    status, h304, _ = request(server, "/static/sw.js", headers={"If-None-Match": headers["etag"]})
    assert status == 304 and h304["service-worker-allowed"] == "/"
    assert "service-worker-allowed" not in request(server, "/static/js/main.js")[1]


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
