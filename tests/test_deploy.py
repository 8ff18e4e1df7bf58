"""Deploy anywhere: the folder ``python -m tools.site`` writes, served by a stock web server (Debian's
nginx, configured as docs/deploy.md says), boots in Chromium, reads a digit, and works offline once
the server is gone. Nothing of tools/serve.py runs here but its CSP constant."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest
from conftest import App

from tools import site
from tools.serve import CSP, SECURITY_HEADERS

pytestmark = pytest.mark.e2e

NGINX = "/usr/sbin/nginx"
IMMUTABLE = "public, max-age=31536000, immutable"
ONE = [[(0.5, 0.2), (0.5, 0.8)]]


def nginx_conf(root: Path, port: int, work: Path) -> str:
    """The config of docs/deploy.md, with the process's own files (pid, logs, temp paths) in ``work``."""
    user = "user root;\n" if os.geteuid() == 0 else ""  # as root, workers would otherwise be 'nobody'
    temp = "\n".join(
        f"    {kind}_temp_path {work / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # tools.serve's security headers (CSP, nosniff, no-referrer, COOP, CORP), on errors too ('always').
    headers = "\n".join(f'        add_header {name} "{value}" always;' for name, value in SECURITY_HEADERS)
    return f"""{user}daemon off;
worker_processes 1;
pid {work / "nginx.pid"};
error_log {work / "error.log"} warn;
events {{ worker_connections 256; }}

http {{
    access_log {work / "access.log"};
{temp}

    types {{
        text/html                 html;
        text/css                  css;
        text/javascript           js mjs;
        application/json          json map;
        application/wasm          wasm;
        application/zip           whl zip;
        application/octet-stream  npz;
    }}
    default_type application/octet-stream;
    charset utf-8;
    charset_types text/css text/javascript application/json;
    sendfile on;
    gzip_static on;   # a file's .gz copy beside it, sent with Content-Encoding: gzip
    gzip_vary on;

    # The runtime's version folder never changes (its name is a hash of its content): cache it for
    # a year. Everything else, static/pyodide/runtime.mjs (which names that folder) included, is
    # revalidated on every load (ETag / Last-Modified -> 304).
    map $uri $cache_control {{
        ~^/static/pyodide/[^/]+/  "{IMMUTABLE}";
        default                   "no-cache";
    }}

    server {{
        listen 127.0.0.1:{port};
        root {root};
        index index.html;

{headers}
        add_header Cache-Control $cache_control always;

        location ~ /\\. {{ return 404; }}   # no dot-files (tools.site writes none anyway)
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Nginx:
    """Debian's nginx in the foreground on a free 127.0.0.1 port, serving ``root``."""

    def __init__(self, root: Path, work: Path):
        if not os.access(NGINX, os.X_OK):
            pytest.fail(
                f"{NGINX} is missing: the deploy test needs Debian's nginx "
                "(bash scripts/setup.sh --test installs it)",
                pytrace=False,
            )
        work.mkdir(parents=True, exist_ok=True)
        self.proc = None
        for _ in range(5):  # the port was free a moment ago; another process may take it first
            self.port = free_port()
            conf = work / "nginx.conf"
            conf.write_text(nginx_conf(root, self.port, work))
            self.proc = subprocess.Popen(
                [NGINX, "-p", str(work), "-e", str(work / "error.log"), "-c", str(conf)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            if self._wait_listening():
                self.url = f"http://127.0.0.1:{self.port}/"
                return
            self.stop()
        raise RuntimeError(
            f"nginx did not start: {self.proc.stderr.read()!r}\n"
            f"{(work / 'error.log').read_text(errors='replace') if (work / 'error.log').exists() else ''}"
        )

    def _wait_listening(self, timeout: float = 10.0) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                return False
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return True
            except OSError:
                time.sleep(0.02)
        return False

    def get(self, path: str, **headers) -> http.client.HTTPResponse:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
        r.body = r.read()
        conn.close()
        return r

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: the master stops its workers and exits
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def site_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("deploy") / "site"
    assert site.main(["--out", str(out), "--quiet"]) == 0
    return out


def test_site_is_what_the_page_loads_and_nothing_else(site_dir, tmp_path, capsys):
    tag = site.runtime_tag()
    top = sorted(p.name for p in site_dir.iterdir())
    assert top == ["index.html", "static", "sw.js"]
    assert sorted(p.name for p in (site_dir / "static").iterdir()) == [
        "css",
        "data",
        "js",
        "model",
        "pkg",
        "pyodide",
    ]
    assert sorted(p.name for p in (site_dir / "static" / "pyodide").iterdir()) == [tag, "runtime.mjs"]
    files = [p for p in site_dir.rglob("*") if not p.is_dir()]
    assert all(p.is_file() and not p.is_symlink() for p in files)
    assert not [p for p in files if p.name.startswith(".")]
    runtime = site_dir / "static" / "pyodide" / tag
    for name in (
        "pyodide.asm.wasm",
        "pyodide.asm.wasm.br",
        "pyodide.asm.wasm.gz",
        "pyodide.mjs",
        "python_stdlib.zip",
    ):
        assert (runtime / name).is_file(), name
    assert list((site_dir / "static" / "pkg").glob("digitnet-*.whl"))
    # A non-empty --out is refused, with a message and exit 2; an empty one is fine.
    capsys.readouterr()
    assert site.main(["--out", str(site_dir)]) == 2
    assert "not an empty folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert site.main(["--out", str(tmp_path / "empty"), "--quiet"]) == 0
    assert sorted(p.relative_to(tmp_path / "empty") for p in (tmp_path / "empty").rglob("*")) == sorted(
        p.relative_to(site_dir) for p in site_dir.rglob("*")
    )


def test_nginx_sends_the_headers_of_docs_deploy(site_dir, tmp_path):
    tag = site.runtime_tag()
    server = Nginx(site_dir, tmp_path / "nginx")
    try:
        page = server.get("/")
        assert page.status == 200 and page.getheader("Content-Type") == "text/html; charset=utf-8"
        assert page.getheader("Content-Security-Policy") == CSP
        assert page.getheader("X-Content-Type-Options") == "nosniff"
        assert all(page.getheader(name) == value for name, value in SECURITY_HEADERS)
        assert page.getheader("Cache-Control") == "no-cache"
        assert server.get("/", **{"If-None-Match": page.getheader("ETag")}).status == 304
        assert server.get("/sw.js").getheader("Content-Type").startswith("text/javascript")
        runtime_mjs = server.get("/static/pyodide/runtime.mjs")
        assert runtime_mjs.getheader("Content-Type").startswith("text/javascript")
        assert runtime_mjs.getheader("Cache-Control") == "no-cache"
        wasm = server.get(
            f"/static/pyodide/{tag}/pyodide.asm.wasm", **{"Accept-Encoding": "gzip, deflate, br"}
        )
        assert wasm.status == 200 and wasm.getheader("Content-Type") == "application/wasm"
        assert wasm.getheader("Content-Encoding") == "gzip"  # the .gz copy (no brotli in Debian's nginx)
        assert wasm.body == (site_dir / "static" / "pyodide" / tag / "pyodide.asm.wasm.gz").read_bytes()
        assert wasm.getheader("Cache-Control") == IMMUTABLE
        assert wasm.getheader("Content-Security-Policy") == CSP
        plain = server.get(f"/static/pyodide/{tag}/pyodide.asm.wasm")
        assert plain.getheader("Content-Encoding") is None and len(plain.body) == len(
            (site_dir / "static" / "pyodide" / tag / "pyodide.asm.wasm").read_bytes()
        )
        assert (
            server.get(f"/static/pyodide/{tag}/pyodide.mjs")
            .getheader("Content-Type")
            .startswith("text/javascript")
        )
        whl = next((site_dir / "static" / "pkg").glob("digitnet-*.whl")).name
        assert server.get(f"/static/pkg/{whl}").getheader("Content-Type") == "application/zip"
        assert server.get("/static/model/model.npz").getheader("Content-Type") == "application/octet-stream"
        missing = server.get("/static/nothing.js")
        assert missing.status == 404
        assert missing.getheader("Content-Security-Policy") == CSP  # 'always': errors too
    finally:
        server.stop()
    log = (tmp_path / "nginx" / "error.log").read_text()
    assert "[warn]" not in log and "[emerg]" not in log, log


def test_page_from_nginx_boots_reads_a_digit_and_works_offline(chromium_browser, site_dir, tmp_path):
    server = Nginx(site_dir, tmp_path / "nginx")
    context = chromium_browser.new_context()
    try:
        app = App(context, server.url).open()
        assert app.state == "ready", app.page.get_by_test_id("error").text_content()
        outside = [u for u in app.requests if not u.startswith(server.url) and not u.startswith("data:")]
        assert outside == [] and app.failed == [] and app.bad_status == [], (
            outside,
            app.failed,
            app.bad_status,
        )
        app.draw(ONE)
        assert app.prediction() == "1"
        assert app.page.evaluate("() => digitApp.offline") is True
        print(f"\nnginx: boot {app.boot_seconds:.1f} s")

        server.stop()
        with pytest.raises(OSError):  # nobody serves the site now
            socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
        app.requests.clear()
        app.page.reload()
        assert app.wait_settled() == "ready", app.page.get_by_test_id("error").text_content()
        app.draw(ONE)
        assert app.prediction() == "1"
        assert any(u.endswith("pyodide.asm.wasm") for u in app.requests)  # asked for, answered from the cache
    finally:
        context.close()
        server.stop()
