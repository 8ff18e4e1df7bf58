"""Serve the page: a small static file server (standard library only).

    python -m tools.serve [--host 127.0.0.1] [--port 8000] [--root .] [--verbose]
                          [--workers 64] [--header-timeout 10] [--idle-timeout 15]

Only what the page needs is served: ``/`` (index.html), ``/index.html``,
``/sw.js`` (the service worker: beside the page, so its scope covers it without a special
header) and ``/static/...``. Everything else, any path with a
``..`` or a dot-file/dot-directory segment (after percent-decoding), anything
whose real path (symlinks resolved) is outside the real web root, and
directories, is 404; so is an unreadable or impossible path (a segment too
long for the file system, say). A URL over 8 KiB is 414. GET and HEAD only.

Caching: files in a *subfolder* of ``static/pyodide/``
(``static/pyodide/<version>/...``) are versioned and cached for a year
(immutable); everything else, ``static/pyodide/runtime.mjs`` (which points at
the current version folder) included, is ``no-cache`` with ETag and
Last-Modified, so a reload revalidates and gets 304 Not Modified.

Pre-compressed copies: when the request's Accept-Encoding allows ``br``
(preferred) or ``gzip`` and ``<file>.br`` / ``<file>.gz`` sits next to the
file (and is not older than it: a stale copy is ignored), its bytes are sent
with ``Content-Encoding``, the original's Content-Type, ``Vary:
Accept-Encoding`` and an ETag of their own. The ``.br``/``.gz`` files are not
part of the site: asking for one by name is 404.

Every response, errors included, carries the security headers (CSP,
nosniff, no-referrer, same-origin opener and resource policies).

Holding a crowd: one event-loop thread accepts connections (listen backlog
1024) and reads request headers without blocking; a request whose headers are
complete goes to a fixed pool of worker threads (64), which send the answer
(``sendfile``) and hand a keep-alive connection back to the loop. So a slow or
idle client costs a socket, never a thread: a client that has not sent its
whole request headers within 10 s is dropped (408), an idle keep-alive
connection after 15 s, and a client that stops reading for 30 s mid-answer.
Past the pool, requests wait in a queue; past the open-connection cap (from
the file-descriptor limit), connections wait in the listen backlog. An
HTTP/0.9 request (no version) gets 400 and the connection is closed. Every
error answer (400, 408, 414, 431, 501, 505) closes the connection; what the
client still sends is read and dropped for up to 2 s first, so that closing
does not reset the connection before the client has read the answer.

Symlinks under the root may only lead to files inside the real root, unless
``--allow-symlinks-into DIR`` names another directory they may lead into.

``--port 0`` picks a free port; the line ``Serving on http://HOST:PORT/`` says
which (tests read it).
"""

from __future__ import annotations

import argparse
import email.utils
import errno
import io
import os
import queue
import re
import selectors
import socket
import stat
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

from tools.paths import ROOT
from typing import Iterable, Sequence
from urllib.parse import unquote, urlsplit


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
SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Content-Security-Policy", CSP),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
)

# Pre-compressed siblings, in order of preference: (Content-Encoding, file suffix).
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))

# Limits and timeouts (make_server's keywords override them).
BACKLOG = 1024            # listen queue: a burst of connections waits here instead of timing out
WORKERS = 64              # threads that answer requests; the only threads besides the event loop
HEADER_TIMEOUT = 10.0     # seconds a client has to send its whole request headers
IDLE_TIMEOUT = 15.0       # seconds an idle keep-alive connection is kept
WRITE_TIMEOUT = 30.0      # seconds an answer may wait for the client to read more
MAX_HEADER_BYTES = 65536  # request line + headers; more is 431 (414 for a request line alone)
MAX_URL_BYTES = 8192      # longer request targets are 414
SMALL_FILE = 64 * 1024    # sent with the headers in one write; larger files with sendfile
LINGER = 2.0              # seconds to drop what a client still sends after its last answer (then close)


def resolve(root: Path, url_path: str, symlinks_into: Sequence[str | Path] = (),
            allowed: Sequence[str] | None = None) -> Path | None:
    """URL path -> the file to serve under ``root``, or None (404).

    Percent-decoded first, so ``%2e%2e`` is ``..``. Refused: any ``..``, ``.``
    or dot-prefixed segment, backslashes, NUL, ``.br``/``.gz`` names (the
    pre-compressed copies), anything outside the whitelist (index.html,
    static/**), anything that is not a regular file, and anything
    whose real path is neither inside the real ``root`` nor inside one of
    ``symlinks_into`` (``allowed``: both as ``allowed_dirs`` gives them, if
    already known). Never raises for a bad path (an OSError is a 404).
    """
    try:
        path = unquote(url_path, errors="strict") if "%" in url_path else url_path
    except UnicodeDecodeError:
        return None
    if "\\" in path or "\x00" in path or not path.startswith("/"):
        return None
    if path == "/":
        path = "/index.html"
    parts = path[1:].split("/")
    if any(p == "" or p.startswith(".") for p in parts):
        return None  # '..', '.', dotfiles, dot-dirs, '//' and trailing '/' (no listings)
    if parts[-1].endswith(tuple(suffix for _, suffix in ENCODINGS)):
        return None
    top = parts[0]
    if top in ("index.html", "sw.js") and len(parts) == 1:
        pass
    elif top == "static" and len(parts) >= 2:
        pass
    else:
        return None
    file = root.joinpath(*parts)
    if allowed is None:
        try:
            allowed = allowed_dirs(root, symlinks_into)
        except OSError:
            return None
    return file if real_file(file, allowed) is not None else None


def allowed_dirs(root: Path, symlinks_into: Sequence[str | Path] = ()) -> tuple[str, ...]:
    """The real paths files may have: the web root's and those of ``symlinks_into``."""
    return tuple(os.path.realpath(d, strict=True).rstrip(os.sep) + os.sep for d in (root, *symlinks_into))


def real_file(file: Path | str, allowed: Sequence[str]) -> str | None:
    """The real path of ``file`` if it is a regular file inside one of the ``allowed`` real directories."""
    try:
        real = os.path.realpath(file, strict=True)
        if not stat.S_ISREG(os.stat(real).st_mode):
            return None
    except (OSError, ValueError):
        return None
    return real if real.startswith(tuple(allowed)) else None


def content_type(path: Path) -> str:
    return MIME_TYPES.get(path.suffix.lower(), DEFAULT_TYPE)


def cache_control(root: Path, file: Path) -> str:
    """Files in a version folder, static/pyodide/<version>/..., are immutable; everything else revalidates."""
    parts = file.relative_to(root).parts
    return IMMUTABLE if len(parts) >= 4 and parts[:2] == ("static", "pyodide") else REVALIDATE


def etag_for(st: os.stat_result, encoding: str | None = None) -> str:
    return f'"{st.st_mtime_ns:x}-{st.st_size:x}{"-" + encoding if encoding else ""}"'


def accepted_encodings(header: str | None) -> list[str]:
    """The pre-compressed encodings ('br', 'gzip') an Accept-Encoding allows, best first.

    ``q=0`` means not acceptable; ``*`` stands for any coding not named; at
    equal q, br comes before gzip.
    """
    if not header:
        return []
    weights: dict[str, float] = {}
    for item in header.split(","):
        name, _, params = item.partition(";")
        name = name.strip().lower()
        if not name:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = min(max(float(value.strip()), 0.0), 1.0)
                except ValueError:
                    q = 0.0
                if q != q:  # nan
                    q = 0.0
        weights["gzip" if name == "x-gzip" else name] = q
    ranked = []
    for rank, (encoding, _) in enumerate(ENCODINGS):
        q = weights.get(encoding, weights.get("*", 0.0))
        if q > 0:
            ranked.append((-q, rank, encoding))
    return [encoding for _, _, encoding in sorted(ranked)]


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


class _Conn:
    """One client connection, owned by the event loop while it waits for a request, else by a worker."""

    __slots__ = ("sock", "addr", "buf", "scan", "line_checked", "idle", "closing", "deadline", "head", "error")

    def __init__(self, sock: socket.socket, addr, deadline: float):
        self.sock, self.addr, self.deadline = sock, addr, deadline
        self.buf = bytearray()      # bytes received and not yet handed to a worker
        self.scan = 0               # how far buf was searched for the end of the headers
        self.line_checked = False   # the request line was seen and has three words
        self.idle = False           # kept alive after an answer, nothing of the next request yet
        self.closing = False        # answered and shut for writing: what the client still sends is dropped
        self.head = b""             # request line + headers for the worker
        self.error: int | None = None  # answer this status instead (headers too large)


class _SocketWriter(io.BufferedIOBase):
    """wfile: every write goes out whole (sendall), nothing is buffered."""

    def __init__(self, sock: socket.socket):
        self._sock = sock

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        self._sock.sendall(b)
        with memoryview(b) as view:
            return view.nbytes

    def fileno(self) -> int:
        return self._sock.fileno()


_HEAD_END = re.compile(rb"\r?\n\r?\n")


def _plain_response(code: HTTPStatus) -> bytes:
    """A complete 'close' response for the event loop, which has no handler to write one."""
    body = f"{code.value} {code.phrase}\n".encode()
    lines = [f"HTTP/1.1 {code.value} {code.phrase}", "Connection: close",
             "Content-Type: text/plain; charset=utf-8", f"Content-Length: {len(body)}",
             "Cache-Control: no-store", *(f"{k}: {v}" for k, v in SECURITY_HEADERS)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


_REQUEST_TIMEOUT = _plain_response(HTTPStatus.REQUEST_TIMEOUT)


def _default_max_connections(workers: int) -> int:
    """Open connections allowed at once: what the file-descriptor limit leaves (workers open files too)."""
    try:
        import resource
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    except (ImportError, OSError, ValueError):
        soft = 1024
    if soft < 0:  # RLIM_INFINITY
        soft = 1 << 16
    return max(16, min(soft - 2 * workers - 64, 1 << 16))


class StaticServer(HTTPServer):
    """HTTP server with an event loop for waiting connections and a fixed pool of worker threads.

    Same use as ``socketserver``'s servers: bound and listening once made,
    ``serve_forever()`` in some thread, ``shutdown()`` from another, then
    ``server_close()``.
    """

    request_queue_size = BACKLOG
    allow_reuse_address = True
    daemon_threads = True  # kept for callers that look at it: workers are daemon threads

    def __init__(self, server_address, handler_class, *, workers: int = WORKERS,
                 header_timeout: float = HEADER_TIMEOUT, idle_timeout: float = IDLE_TIMEOUT,
                 write_timeout: float = WRITE_TIMEOUT, max_header_bytes: int = MAX_HEADER_BYTES,
                 max_connections: int | None = None):
        if workers < 1:
            raise ValueError("workers must be at least 1")
        if ":" in server_address[0]:
            self.address_family = socket.AF_INET6
        self.workers = workers
        self.header_timeout = header_timeout
        self.idle_timeout = idle_timeout
        self.write_timeout = write_timeout
        self.max_header_bytes = max_header_bytes
        self.max_connections = max_connections or _default_max_connections(workers)
        self._lock = threading.Lock()
        self._running = False
        self._returned: list[_Conn] = []        # kept-alive connections workers gave back
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._open = 0                          # connections accepted and not yet closed
        self._stop = threading.Event()
        self._stopped = threading.Event()
        self._stopped.set()
        self._wake_r = self._wake_w = None
        super().__init__(server_address, handler_class)
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)

    @property
    def open_connections(self) -> int:
        return self._open

    # -- the event loop (the thread that calls serve_forever) --

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        self._stop.clear()
        self._stopped.clear()
        sel = selectors.DefaultSelector()
        waiting: set[_Conn] = set()
        with self._lock:
            self._running = True
        self._threads = [threading.Thread(target=self._work, name=f"serve-worker-{i}", daemon=True)
                         for i in range(self.workers)]
        for t in self._threads:
            t.start()
        self.socket.setblocking(False)
        sel.register(self.socket, selectors.EVENT_READ, "listen")
        sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        listening, resume_at = True, 0.0
        tick = max(0.01, min(poll_interval, self.header_timeout / 4, self.idle_timeout / 4))
        next_sweep = time.monotonic() + tick
        try:
            while not self._stop.is_set():
                for key, _ in sel.select(tick):
                    if key.data == "listen":
                        if not self._accept(sel, waiting):
                            resume_at = time.monotonic() + 0.1  # out of file descriptors: back off
                    elif key.data == "wake":
                        self._drain_wake()
                    else:
                        self._read(sel, waiting, key.data)
                with self._lock:
                    back, self._returned = self._returned, []
                for conn in back:
                    self._rearm(sel, waiting, conn)
                now = time.monotonic()
                accept = self._open < self.max_connections and now >= resume_at
                if accept != listening:  # past the cap, new connections wait in the listen backlog
                    (sel.register(self.socket, selectors.EVENT_READ, "listen") if accept
                     else sel.unregister(self.socket))
                    listening = accept
                if now >= next_sweep:
                    self._expire(sel, waiting, now)
                    next_sweep = now + tick
        finally:
            with self._lock:
                self._running = False
                back, self._returned = self._returned, []
            for conn in [*waiting, *back]:
                self._close(conn)
            sel.close()
            for _ in self._threads:
                self._jobs.put(None)
            deadline = time.monotonic() + 2.0
            for t in self._threads:
                t.join(timeout=max(0.0, deadline - time.monotonic()))
            self._stopped.set()

    def shutdown(self) -> None:
        """Stop serve_forever and wait for it (call from another thread)."""
        self._stop.set()
        self._wake()
        self._stopped.wait()

    def server_close(self) -> None:
        super().server_close()
        for s in (self._wake_r, self._wake_w):
            if s is not None:
                s.close()

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"\0")
        except (AttributeError, OSError):  # not made yet, closed, or already full: the loop wakes anyway
            pass

    def _drain_wake(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except OSError:
            pass

    def _accept(self, sel, waiting: set[_Conn]) -> bool:
        """Accept what is pending (up to the cap); False when out of file descriptors."""
        for _ in range(256):
            if self._open >= self.max_connections:
                return True
            try:
                sock, addr = self.socket.accept()
            except (BlockingIOError, InterruptedError):
                return True
            except OSError as e:
                return e.errno not in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)
            try:
                sock.setblocking(False)
                if sock.family in (socket.AF_INET, socket.AF_INET6):
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                sock.close()
                continue
            with self._lock:
                self._open += 1
            conn = _Conn(sock, addr, time.monotonic() + self.header_timeout)
            sel.register(sock, selectors.EVENT_READ, conn)
            waiting.add(conn)
        return True

    def _read(self, sel, waiting: set[_Conn], conn: _Conn) -> None:
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client closed (or reset) the connection
            self._forget(sel, waiting, conn)
            self._close(conn)
            return
        if conn.closing:  # the rest of a request we already answered (a body, a too-long header)
            return
        if conn.idle:  # the next request starts: its headers have header_timeout to arrive
            conn.idle = False
            conn.deadline = time.monotonic() + self.header_timeout
        conn.buf += data
        self._parse(sel, waiting, conn)

    def _parse(self, sel, waiting: set[_Conn], conn: _Conn) -> None:
        """Hand the connection to a worker once its request headers are complete (or hopeless)."""
        buf = conn.buf
        if not conn.line_checked and buf[:1] in (b"\r", b"\n"):
            n = len(buf) - len(buf.lstrip(b"\r\n"))  # empty lines before a request line are ignored
            del buf[:n]
            conn.scan = 0
        end = _HEAD_END.search(buf, max(0, conn.scan - 3))
        if end:
            conn.head = bytes(buf[:end.end()])
            del buf[:end.end()]
            return self._dispatch(sel, waiting, conn)
        scanned, conn.scan = conn.scan, len(buf)
        if not conn.line_checked:
            nl = buf.find(b"\n", scanned)
            if nl >= 0:
                if len(buf[:nl].split()) != 3:  # HTTP/0.9 or garbage: answer now, do not wait for headers
                    conn.head = bytes(buf[:nl + 1])
                    buf.clear()
                    return self._dispatch(sel, waiting, conn)
                conn.line_checked = True
        if len(buf) > self.max_header_bytes:
            conn.error = HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE if conn.line_checked else HTTPStatus.REQUEST_URI_TOO_LONG
            buf.clear()
            self._dispatch(sel, waiting, conn)

    def _dispatch(self, sel, waiting: set[_Conn], conn: _Conn) -> None:
        self._forget(sel, waiting, conn)
        try:
            conn.sock.settimeout(self.write_timeout)
        except OSError:
            return self._close(conn)
        self._jobs.put(conn)

    def _rearm(self, sel, waiting: set[_Conn], conn: _Conn) -> None:
        """A worker answered: wait for the next request, or (closing) for the client to close."""
        conn.head, conn.error, conn.scan, conn.line_checked = b"", None, 0, False
        if conn.closing:
            # Closing a socket with unread input resets the connection, and the client may then lose
            # the answer it has not read yet; so the answer went out with a FIN, and what the client
            # still sends is read and dropped until it closes too (or LINGER passes).
            conn.buf.clear()
            conn.deadline = time.monotonic() + min(LINGER, self.header_timeout)
        else:
            conn.idle = not conn.buf
            conn.deadline = time.monotonic() + (self.idle_timeout if conn.idle else self.header_timeout)
        try:
            conn.sock.setblocking(False)
            sel.register(conn.sock, selectors.EVENT_READ, conn)
        except (OSError, ValueError):
            return self._close(conn)
        waiting.add(conn)
        if conn.buf and not conn.closing:  # pipelined: the next request may be here already
            self._parse(sel, waiting, conn)

    def _expire(self, sel, waiting: set[_Conn], now: float) -> None:
        for conn in [c for c in waiting if c.deadline <= now]:
            self._forget(sel, waiting, conn)
            if conn.buf and not conn.closing:  # part of a request: say why, best effort
                try:
                    conn.sock.send(_REQUEST_TIMEOUT)
                except OSError:
                    pass
            self._close(conn)

    def _forget(self, sel, waiting: set[_Conn], conn: _Conn) -> None:
        waiting.discard(conn)
        try:
            sel.unregister(conn.sock)
        except (KeyError, ValueError):
            pass

    def _close(self, conn: _Conn) -> None:
        try:
            conn.sock.close()
        except OSError:
            pass
        with self._lock:
            self._open -= 1

    # -- the workers --

    def _work(self) -> None:
        while True:
            conn = self._jobs.get()
            if conn is None:
                return
            keep = False
            try:
                handler = self.RequestHandlerClass(conn, conn.addr, self)
                keep = not handler.close_connection
            except OSError:  # the client went away, or stopped reading (write timeout)
                pass
            except Exception:
                self.handle_error(conn.sock, conn.addr)
            if not keep:
                conn.closing = True
                try:
                    conn.sock.shutdown(socket.SHUT_WR)
                except OSError:  # already gone
                    self._close(conn)
                    continue
            with self._lock:
                back = self._running and not self._stop.is_set()
                if back:
                    self._returned.append(conn)
            if back:
                self._wake()
            else:
                self._close(conn)


class Handler(BaseHTTPRequestHandler):
    """Answers one request whose headers the server's event loop has already read (``request`` is a _Conn)."""

    server_version = "digit-serve"
    protocol_version = "HTTP/1.1"
    default_request_version = "HTTP/1.0"  # so an answer to a bad request line still has a status line
    root: Path = ROOT
    symlinks_into: tuple[str, ...] = ()
    allowed: tuple[str, ...] = ()  # real directories files may be in (make_server sets it)
    verbose = False

    def version_string(self) -> str:
        return self.server_version

    def setup(self) -> None:
        conn: _Conn = self.request
        self.connection = conn.sock
        self.rfile = io.BytesIO(conn.head)
        self.wfile = _SocketWriter(conn.sock)

    def handle(self) -> None:
        self.close_connection = True
        error = self.request.error
        if error:
            self.command, self.requestline, self.request_version = None, "", self.default_request_version
            self.send_error(error)
            return
        self.handle_one_request()

    def finish(self) -> None:
        pass  # the server keeps or closes the connection

    def parse_request(self) -> bool:
        if len(self.raw_requestline.split()) == 2:  # "GET /": HTTP/0.9, which has no headers
            self.command, self.request_version = None, self.default_request_version
            self.requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
            self.send_error(HTTPStatus.BAD_REQUEST, "HTTP/0.9 requests are not supported")
            return False
        if not super().parse_request():
            return False
        if len(self.path) > MAX_URL_BYTES:
            self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
            return False
        if self.headers.get("Transfer-Encoding") or self.headers.get("Content-Length", "0").strip() not in ("", "0"):
            self.close_connection = True  # a body is never read, so it must not be taken for the next request
        return True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Like BaseHTTPRequestHandler's, but plain text, with the security headers, and always 'close'."""
        code = HTTPStatus(code)
        self.log_error("code %d, message %s", code.value, message or code.phrase)
        self.close_connection = True
        text = f"{code.value} {code.phrase}\n" + (f"{message}\n" if message and message != code.phrase else "")
        data = text.encode("utf-8", "replace")
        self.send_response(code)
        self.send_header("Connection", "close")
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self._security_headers()
        self.end_headers()
        if self.command != "HEAD" and code >= 200 and code not in (HTTPStatus.NO_CONTENT, HTTPStatus.NOT_MODIFIED):
            self.wfile.write(data)

    def do_GET(self) -> None:
        self._serve(body=True)

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def _serve(self, body: bool) -> None:
        try:
            if not self.allowed:
                type(self).allowed = allowed_dirs(self.root, self.symlinks_into)
            file = resolve(self.root, urlsplit(self.path).path, allowed=self.allowed)
            if file is None:
                return self._not_found(body)
            path, encoding, vary = self._representation(file)
            f = open(path, "rb")
        except (ValueError, OSError):
            return self._not_found(body)
        with f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                return self._not_found(body)
            etag = etag_for(st, encoding)
            modified = email.utils.formatdate(st.st_mtime, usegmt=True)
            cache = cache_control(self.root, file)
            if not_modified(self.headers, etag, st.st_mtime):
                self.send_response(HTTPStatus.NOT_MODIFIED)
                self._common_headers(file, cache, etag, modified, vary)
                self.end_headers()
                return
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", content_type(file))
            if encoding:
                self.send_header("Content-Encoding", encoding)
            self.send_header("Content-Length", str(st.st_size))
            self._common_headers(file, cache, etag, modified, vary)
            if body and st.st_size <= SMALL_FILE:  # headers and body in one write
                data = f.read(st.st_size)
                self._headers_buffer.extend((b"\r\n", data))
                self.flush_headers()
                sent = len(data)
            else:
                self.end_headers()
                sent = self.connection.sendfile(f, 0, st.st_size) if body and st.st_size else st.st_size
            if sent != st.st_size:  # the file shrank meanwhile: Content-Length was wrong
                self.close_connection = True

    def _representation(self, file: Path) -> tuple[str, str | None, bool]:
        """(what to send, its Content-Encoding or None, whether to say Vary: Accept-Encoding)."""
        original = os.stat(file)
        fresh: dict[str, str] = {}
        vary = False
        for encoding, suffix in ENCODINGS:
            sibling = str(file) + suffix
            try:
                os.stat(sibling)  # the usual case, no copy, in one system call
            except OSError:
                continue
            real = real_file(sibling, self.allowed)
            if real is None:
                continue
            vary = True
            try:
                if os.stat(real).st_mtime_ns >= original.st_mtime_ns:  # older than the file: stale
                    fresh[encoding] = real
            except OSError:
                pass
        if fresh:
            for encoding in accepted_encodings(self.headers.get("Accept-Encoding")):
                if encoding in fresh:
                    return fresh[encoding], encoding, vary
        return str(file), None, vary

    def _common_headers(self, file: Path, cache: str, etag: str, modified: str, vary: bool = False) -> None:
        self.send_header("Cache-Control", cache)
        if vary:
            self.send_header("Vary", "Accept-Encoding")
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", modified)
        self._security_headers()

    def _security_headers(self) -> None:
        for name, value in SECURITY_HEADERS:
            self.send_header(name, value)

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
                verbose: bool = False, *, workers: int = WORKERS, header_timeout: float = HEADER_TIMEOUT,
                idle_timeout: float = IDLE_TIMEOUT, write_timeout: float = WRITE_TIMEOUT,
                max_header_bytes: int = MAX_HEADER_BYTES, max_connections: int | None = None,
                symlinks_into: Iterable[Path | str] = ()) -> StaticServer:
    """A bound (not yet serving) server for ``root``; ``port=0`` picks a free port.

    ``symlinks_into``: directories outside ``root`` that symlinks under it may
    point into (by default a real path must be inside the real root).
    """
    root = Path(root).absolute()
    symlinks_into = tuple(os.path.realpath(d) for d in symlinks_into)
    try:
        allowed = allowed_dirs(root, symlinks_into)
    except OSError:
        allowed = ()  # no root yet: worked out at the first request
    attrs = {"root": root, "verbose": verbose, "symlinks_into": symlinks_into, "allowed": allowed}
    handler = type("BoundHandler", (Handler,), attrs)
    return StaticServer((host, port), handler, workers=workers, header_timeout=header_timeout,
                        idle_timeout=idle_timeout, write_timeout=write_timeout,
                        max_header_bytes=max_header_bytes, max_connections=max_connections)


def server_url(server: HTTPServer) -> str:
    host, port = server.server_address[:2]
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/"


def _raise_open_file_limit() -> None:
    """Every connection is a file descriptor: allow as many as the hard limit lets us (up to 65536)."""
    try:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = (1 << 16) if hard == resource.RLIM_INFINITY else min(hard, 1 << 16)
        if 0 <= soft < want:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    except (ImportError, OSError, ValueError):
        pass


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be more than 0, not {text}")
        return value
    return parse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.serve",
                                     description="Serve the draw-a-digit page.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    parser.add_argument("--root", default=str(ROOT), help="web root (default: the repository)")
    parser.add_argument("--allow-symlinks-into", action="append", default=[], metavar="DIR",
                        help="a directory outside the root that symlinks under the root may point into "
                             "(repeatable; by default they may not)")
    parser.add_argument("--workers", type=_positive(int), default=WORKERS,
                        help=f"threads that answer requests (default {WORKERS})")
    parser.add_argument("--header-timeout", type=_positive(float), default=HEADER_TIMEOUT, metavar="SECONDS",
                        help=f"drop a client whose request headers are not all in after this (default {HEADER_TIMEOUT:g})")
    parser.add_argument("--idle-timeout", type=_positive(float), default=IDLE_TIMEOUT, metavar="SECONDS",
                        help=f"close an idle keep-alive connection after this (default {IDLE_TIMEOUT:g})")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    root = Path(args.root)
    if not (root / "index.html").is_file():
        print(f"serve: error: {root}/index.html not found (is --root the repository?)", file=sys.stderr)
        return 2
    if not (root / "static" / "pyodide").is_dir():
        print("serve: warning: static/pyodide/ is missing; run 'python -m tools.assets' "
              "(or scripts/setup.sh) first", file=sys.stderr, flush=True)
    _raise_open_file_limit()
    try:
        server = make_server(root, args.host, args.port, args.verbose, workers=args.workers,
                             header_timeout=args.header_timeout, idle_timeout=args.idle_timeout,
                             symlinks_into=args.allow_symlinks_into)
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
