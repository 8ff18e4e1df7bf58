"""Serve the page for development (production is nginx; ``--help``): only ``/``, ``/index.html``, ``/sw.js``
and ``/static/...``, by GET or HEAD, with SECURITY_HEADERS, cached as docs/deploy.md asks of nginx, as a
fresh ``.br``/``.gz`` copy if accepted. One event loop holds the connections (a slow client costs a socket,
never a thread); slow, idle and non-reading clients are dropped. tools/harness.py reads ``Serving on ...``."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote

from aiohttp import web

from tools.cli import number, whole_number
from tools.paths import ROOT

MIME_TYPES = {".html": "text/html", ".css": "text/css", ".js": "text/javascript", ".mjs": "text/javascript"}
MIME_TYPES |= {".json": "application/json", ".map": "application/json", ".wasm": "application/wasm"}
MIME_TYPES |= {".zip": "application/zip", ".whl": "application/zip"}  # .npz and the rest: octet-stream
IMMUTABLE = "public, max-age=31536000, immutable"  # for static/pyodide/<tag>/ only; the rest is "no-cache"
# Nothing leaves the browser: the page may only talk to this server; Pyodide compiles WebAssembly.
CSP = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; style-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Content-Security-Policy", CSP),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
)
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))  # pre-compressed copies, preferred first
BACKLOG = 1024  # a burst of connections waits in the kernel's listen queue, not refused
WORKERS = 8  # threads for disk work (resolve, stat, open); the event loop sends (sendfile)
HEADER_TIMEOUT = 10.0  # seconds a client has to send its whole request headers
IDLE_TIMEOUT = 15.0  # seconds an idle keep-alive connection is kept
WRITE_TIMEOUT = 30.0  # seconds sent data may go unread (the kernel drops a client that stopped reading)
TIMEOUT_ANSWER = (  # 408 as bytes: a connection dropped mid-headers has no request to answer with
    "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 20\r\nCache-Control: no-store\r\n"
    + "".join(f"{k}: {v}\r\n" for k, v in SECURITY_HEADERS)
    + "\r\n408 Request Timeout\n"
).encode()


def accepted_encodings(header: str | None) -> list[str]:
    """The copies ('br', 'gzip') an Accept-Encoding allows, best first: q=0 (or a q that is not a
    number) refuses, ``*`` is any coding not named, br wins a tie."""
    weights = {}
    for item in (header or "").lower().split(","):
        name, *params = [p.strip() for p in item.split(";")]
        q = next((v.strip() for k, _, v in (p.partition("=") for p in params) if k.strip() == "q"), "1")
        weights["gzip" if name == "x-gzip" else name] = float(q) if re.fullmatch(r"\d*\.?\d+", q) else 0.0
    ranked = sorted((-weights.get(e, weights.get("*", 0.0)), i, e) for i, (e, _) in enumerate(ENCODINGS))
    return [e for q, _, e in ranked if q < 0]


def plain(status: int, **extra: str) -> web.Response:
    """A short text answer for errors and 405: never cached, with the security headers."""
    text, headers = f"{status} {HTTPStatus(status).phrase}\n", {"Cache-Control": "no-store", **extra}
    return web.Response(status=status, text=text, headers={**headers, **dict(SECURITY_HEADERS)})


def not_modified(request: web.BaseRequest, etag: str, mtime: float) -> bool:
    """Whether the client's copy is current: If-None-Match (weak match, ``*``) wins over If-Modified-Since."""
    if request.if_none_match is not None:
        return any(tag.value in ("*", etag) for tag in request.if_none_match)
    return request.if_modified_since is not None and int(mtime) <= request.if_modified_since.timestamp()


class Connection(web.RequestHandler):
    """aiohttp's protocol for one connection, plus deadlines: aiohttp's own lets a client trickle
    request headers forever; here the clock starts at connecting or at a request's first byte."""

    def __init__(self, manager: Server, args: argparse.Namespace, **kwargs):
        super().__init__(manager, keepalive_timeout=args.header_timeout + args.idle_timeout + 1, **kwargs)
        self.args, self.busy, self.begun = args, False, False
        self.deadline = asyncio.get_running_loop().call_later(args.header_timeout, self.expire)  # to connect

    def connection_made(self, transport) -> None:
        super().connection_made(transport)  # a client that stops reading: the kernel gives up on it
        sock = transport.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, int(self.args.write_timeout * 1000))

    def data_received(self, data: bytes) -> None:
        if data and not self.begun and not self.busy:  # a request's first byte
            self.arm(self.args.header_timeout)
        self.begun = self.begun or bool(data)
        super().data_received(data)

    def answering(self, busy: bool) -> None:
        """No deadline while a request is answered; then idle_timeout, or header_timeout once begun."""
        self.busy, self.begun = busy, self.begun and not busy
        self.arm(None if busy else self.args.header_timeout if self.begun else self.args.idle_timeout)

    def arm(self, seconds: float | None) -> None:
        """Drop the connection ``seconds`` from now (None: never), replacing any earlier deadline."""
        self.deadline.cancel()
        if seconds is not None and self.transport is not None:
            self.deadline = asyncio.get_running_loop().call_later(seconds, self.expire)

    def expire(self) -> None:
        """The deadline passed: answer 408 if a request had begun, and close."""
        if self.transport is not None and self.begun:
            self.transport.write(TIMEOUT_ANSWER)
        self.force_close()

    def handle_error(self, request, status: int = 500, exc=None, message=None) -> web.StreamResponse:
        """What aiohttp answers itself (a malformed request, which closes the connection; a crash)."""
        if request.writer.output_size > 0:
            raise ConnectionError("the answer had begun")
        if status >= 500:
            self.log_exception("Error handling request", exc_info=exc)
        return plain(status)


class Server(web.Server):
    """The web root and the settings; makes a Connection per client and answers its requests."""

    def __init__(self, args: argparse.Namespace):
        super().__init__(self.handle)
        self.root, self.args = args.root.absolute(), args
        self.allowed = os.path.realpath(self.root, strict=True).rstrip(os.sep) + os.sep

    def __call__(self) -> Connection:
        return Connection(self, self.args, loop=asyncio.get_running_loop(), access_log=None)

    def real(self, file: Path | str) -> str | None:
        """The real path of ``file`` (symlinks resolved) if it is a regular file inside the real root."""
        try:
            real = os.path.realpath(file, strict=True)
        except (OSError, ValueError):
            return None
        return real if os.path.isfile(real) and real.startswith(self.allowed) else None

    def resolve(self, url_path: str) -> Path:
        """The file a URL path names, checked after percent-decoding (no ``..``, dot, empty, ``.br``/``.gz``
        segment, ``\\`` or NUL; index.html, sw.js, static/** only); else FileNotFoundError or ValueError."""
        path = unquote(url_path, errors="strict")
        parts = ("/index.html" if path == "/" else path)[1:].split("/")
        page = parts in (["index.html"], ["sw.js"]) or (parts[0] == "static" and len(parts) > 1)
        file = self.root.joinpath(*parts)
        odd = not path.startswith("/") or "\\" in path or "\x00" in path or parts[-1].endswith((".br", ".gz"))
        if not page or odd or any(p == "" or p.startswith(".") for p in parts) or not self.real(file):
            raise FileNotFoundError(url_path)
        return file

    def load(self, url_path: str, accept: str | None):
        """On a worker thread: (file, stat, Content-Encoding, vary, the open file to send), or None (404).
        A copy older than its file was made from an earlier version: stale, never sent."""
        try:
            file = self.resolve(url_path)
            copies = {encoding: self.real(f"{file}{suffix}") for encoding, suffix in ENCODINGS}
            mtime = os.stat(file).st_mtime_ns
            fresh = {e: c for e, c in copies.items() if c and os.stat(c).st_mtime_ns >= mtime}
            encoding = next((e for e in accepted_encodings(accept) if e in fresh), None)
            f = open(fresh[encoding] if encoding else file, "rb")
        except (OSError, ValueError):  # not a page file, or gone meanwhile
            return None
        return file, os.fstat(f.fileno()), encoding, any(copies.values()), f

    async def respond(self, request: web.BaseRequest) -> tuple[web.StreamResponse, BinaryIO | None]:
        """The response, and the open file to send after its headers (None: nothing to send)."""
        if request.method not in ("GET", "HEAD"):
            return plain(405, Allow="GET, HEAD"), None
        where, accept = request.raw_path.partition("?")[0], request.headers.get("Accept-Encoding")
        found = await asyncio.get_running_loop().run_in_executor(None, self.load, where, accept)
        if found is None:
            return plain(404), None
        file, st, encoding, vary, body = found
        parts, etag = file.relative_to(self.root).parts, f"{st.st_mtime_ns:x}-{st.st_size:x}"
        cache = IMMUTABLE if parts[:2] == ("static", "pyodide") and len(parts) > 3 else "no-cache"
        response = web.StreamResponse(headers={"Cache-Control": cache, **dict(SECURITY_HEADERS)})
        response.etag, response.last_modified, response.content_length = etag, st.st_mtime, st.st_size
        response.headers.update({"Vary": "Accept-Encoding"} if vary else {})
        if not_modified(request, etag, st.st_mtime):
            response.set_status(304)
        else:
            mime = MIME_TYPES.get(file.suffix.lower(), "application/octet-stream")
            response.headers["Content-Type"] = f"{mime}; charset=utf-8" if mime.startswith("text/") else mime
            response.headers.update({"Content-Encoding": encoding} if encoding else {})
        if response.status == 304 or request.method == "HEAD" or not st.st_size:
            body = body.close()  # None: nothing to send
        return response, body

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        """Answer one request in full, then tell its connection it is idle again."""
        request.protocol.answering(True)
        response, file = await self.respond(request)
        try:
            await response.prepare(request)
            if file is not None:
                await asyncio.get_running_loop().sendfile(request.transport, file, 0, response.content_length)
            await response.write_eof()
        except (OSError, RuntimeError):  # the client went away, or the kernel dropped it, mid-answer
            request.protocol.force_close()
        finally:
            if file is not None:
                file.close()
            request.protocol.answering(False)
        return response


async def serve(args: argparse.Namespace) -> None:
    """Listen, print the ``Serving on`` line, and answer until cancelled."""
    loop = asyncio.get_running_loop()
    loop.set_default_executor(ThreadPoolExecutor(args.workers, "serve-disk"))
    listener = await loop.create_server(Server(args), args.host, args.port, backlog=BACKLOG)
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"Serving on http://{host}:{listener.sockets[0].getsockname()[1]}/", flush=True)
    await listener.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.serve", description="Serve the draw-a-digit page.")
    seconds = number(0, low_open=True)
    for flag, kind, default, what in (
        ("--host", str, "127.0.0.1", "address to listen on"),
        ("--root", Path, ROOT, "web root"),
        ("--port", whole_number(0, 65535), 8000, "port, 0 for any free one"),
        ("--workers", whole_number(at_least=1), WORKERS, "threads for disk work"),
        ("--header-timeout", seconds, HEADER_TIMEOUT, "seconds a request's headers may take to arrive"),
        ("--idle-timeout", seconds, IDLE_TIMEOUT, "seconds an idle keep-alive connection is kept"),
        ("--write-timeout", seconds, WRITE_TIMEOUT, "seconds a client may leave sent data unread"),
    ):
        parser.add_argument(flag, type=kind, default=default, help=f"{what} (default {default})")
    args = parser.parse_args(argv)
    if not (args.root / "index.html").is_file():
        parser.error(f"--root: no index.html in {args.root} (is it the repository?)")
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        pass
    except OSError as e:
        parser.exit(2, f"serve: error: cannot listen on {args.host}:{args.port}: {e.strerror or e}\n")


if __name__ == "__main__":
    main()
