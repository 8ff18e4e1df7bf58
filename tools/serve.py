"""Serve the page: a small static file server (standard library only).

    python -m tools.serve [--host 127.0.0.1] [--port 8000] [--root .] [--verbose]

Only what the page needs is served: ``/`` (index.html), ``/index.html``,
``/static/...`` and ``/py/<module>.py``. Everything else, any path with a
``..`` or a dot-file/dot-directory segment (after percent-decoding), and
directories, is 404. GET and HEAD only.

Caching: ``/static/pyodide/*`` is the versioned runtime and is cached for a
year (immutable); everything else is ``no-cache`` with ETag and
Last-Modified, so a reload revalidates and gets 304 Not Modified.

``--port 0`` picks a free port; the line ``Serving on http://HOST:PORT/`` says
which (tests read it).
"""

from __future__ import annotations

import argparse
import email.utils
import os
import shutil
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent

MIME_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".wasm": "application/wasm",
    ".zip": "application/zip",
    ".whl": "application/zip",
    ".npz": "application/octet-stream",
    ".py": "text/x-python; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".webmanifest": "application/manifest+json",
}
DEFAULT_TYPE = "application/octet-stream"

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

# Nothing leaves the browser: the page may only talk to this server. Pyodide
# compiles WebAssembly ('wasm-unsafe-eval'); the 28x28 preview is a canvas.
CSP = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; "
    "connect-src 'self'; img-src 'self' data:; style-src 'self'; font-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def resolve(root: Path, url_path: str) -> Path | None:
    """URL path -> the file to serve under ``root``, or None (404).

    Percent-decoded first, so ``%2e%2e`` is ``..``. Refused: any ``..``, ``.``
    or dot-prefixed segment, backslashes, NUL, and anything outside the
    whitelist (index.html, static/**, py/*.py).
    """
    path = unquote(url_path, errors="strict") if "%" in url_path else url_path
    if "\\" in path or "\x00" in path or not path.startswith("/"):
        return None
    if path == "/":
        path = "/index.html"
    parts = path[1:].split("/")
    if any(p == "" or p.startswith(".") for p in parts):
        return None  # '..', '.', dotfiles, dot-dirs, '//' and trailing '/' (no listings)
    top = parts[0]
    if top == "index.html" and len(parts) == 1:
        pass
    elif top == "static" and len(parts) >= 2:
        pass
    elif top == "py" and len(parts) == 2 and parts[1].endswith(".py"):
        pass
    else:
        return None
    file = root.joinpath(*parts)
    return file if file.is_file() else None


def content_type(path: Path) -> str:
    return MIME_TYPES.get(path.suffix.lower(), DEFAULT_TYPE)


def cache_control(root: Path, file: Path) -> str:
    """The versioned runtime (static/pyodide/) is immutable; everything else revalidates."""
    return IMMUTABLE if file.relative_to(root).parts[:2] == ("static", "pyodide") else REVALIDATE


def etag_for(st: os.stat_result) -> str:
    return f'"{st.st_mtime_ns:x}-{st.st_size:x}"'


def not_modified(headers, etag: str, mtime: float) -> bool:
    """RFC 9110: If-None-Match wins over If-Modified-Since."""
    inm = headers.get("If-None-Match")
    if inm is not None:
        tags = [t.strip() for t in inm.split(",")]
        return "*" in tags or any(t.removeprefix("W/") == etag for t in tags)
    ims = headers.get("If-Modified-Since")
    if ims is not None:
        try:
            since = email.utils.parsedate_to_datetime(ims).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return False
        return int(mtime) <= since
    return False


class Handler(BaseHTTPRequestHandler):
    server_version = "digit-serve"
    protocol_version = "HTTP/1.1"
    root: Path = ROOT
    verbose = False

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:
        self._serve(body=True)

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def _serve(self, body: bool) -> None:
        try:
            url_path = urlsplit(self.path).path
            file = resolve(self.root, url_path)
        except (UnicodeDecodeError, ValueError):
            file = None
        if file is None:
            return self._not_found(body)
        try:
            f = open(file, "rb")
        except OSError:
            return self._not_found(body)
        with f:
            st = os.fstat(f.fileno())
            etag = etag_for(st)
            modified = email.utils.formatdate(st.st_mtime, usegmt=True)
            cache = cache_control(self.root, file)
            if not_modified(self.headers, etag, st.st_mtime):
                self.send_response(HTTPStatus.NOT_MODIFIED)
                self._common_headers(file, cache, etag, modified)
                self.end_headers()
                return
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", content_type(file))
            self.send_header("Content-Length", str(st.st_size))
            self._common_headers(file, cache, etag, modified)
            self.end_headers()
            if body:
                try:
                    shutil.copyfileobj(f, self.wfile, 1 << 16)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

    def _common_headers(self, file: Path, cache: str, etag: str, modified: str) -> None:
        self.send_header("Cache-Control", cache)
        if file == self.root / "static" / "sw.js":
            self.send_header("Service-Worker-Allowed", "/")  # its scope: the whole app
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", modified)
        self._security_headers()

    def _security_headers(self) -> None:
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("Cross-Origin-Opener-Policy", "same-origin")
        self.send_header("Cross-Origin-Resource-Policy", "same-origin")

    def _not_found(self, body: bool) -> None:
        data = b"404 Not Found\n"
        self.send_response(HTTPStatus.NOT_FOUND)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self._security_headers()
        self.end_headers()
        if body:
            self.wfile.write(data)

    def log_message(self, format: str, *args) -> None:
        if self.verbose:
            super().log_message(format, *args)


def make_server(root: Path | str = ROOT, host: str = "127.0.0.1", port: int = 8000,
                verbose: bool = False) -> ThreadingHTTPServer:
    """A bound (not yet serving) server for ``root``; ``port=0`` picks a free port."""
    handler = type("BoundHandler", (Handler,), {"root": Path(root).absolute(), "verbose": verbose})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def server_url(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.serve",
                                     description="Serve the draw-a-digit page.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    parser.add_argument("--root", default=str(ROOT), help="web root (default: the repository)")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    root = Path(args.root)
    if not (root / "index.html").is_file():
        print(f"serve: error: {root}/index.html not found (is --root the repository?)", file=sys.stderr)
        return 2
    if not (root / "static" / "pyodide" / "pyodide.mjs").is_file():
        print("serve: warning: static/pyodide/ is missing; run 'python -m tools.assets' "
              "(or scripts/setup.sh) first", file=sys.stderr, flush=True)
    try:
        server = make_server(root, args.host, args.port, args.verbose)
    except OSError as e:
        print(f"serve: error: cannot listen on {args.host}:{args.port}: {e.strerror or e}", file=sys.stderr)
        return 2
    print(f"Serving on {server_url(server)}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
