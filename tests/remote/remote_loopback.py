"""A loopback HTTP server for the remote-source tests and the fetch benchmark.

``python -m http.server`` ignores ``Range`` (GDAL then reads whole files or fails); this one
serves single-range requests (``206`` + ``Content-Range``), counts requests and body bytes per
path, runs route handlers (replayed recordings, CDSE/DHuS stand-ins) and injects faults queued
per path: ``500``, ``503``, ``429:<retry-after>``, ``stall:<seconds>``, ``truncate:<bytes>``,
``maintenance``, ``401``.

Imported by ``tests/remote/conftest.py`` and ``bench/bench_fetch.py`` (by path, not as a package).
"""
from __future__ import annotations

import collections
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qs, urlsplit

MAINTENANCE_HTML = b"""<!DOCTYPE html><html><head><title>Server maintenance</title></head>
<body><h1>The Copernicus Open Access Hub is under maintenance</h1><p>Please come back later.</p></body></html>"""


@dataclass
class Request:
    """What a route handler sees."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    raw_path: str


@dataclass
class Reply:
    """What a route handler returns."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Reply]


class LoopbackServer:
    """Threaded HTTP server on 127.0.0.1 with Range, routes, counters and fault injection."""

    def __init__(self) -> None:
        self.files: dict[str, bytes | Path] = {}
        self.routes: list[tuple[str, re.Pattern, Handler]] = []
        self.faults: dict[str, collections.deque] = collections.defaultdict(collections.deque)
        self.bytes_served: collections.Counter = collections.Counter()
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.lock = threading.Lock()
        self.support_range = True
        self.maintenance_html = MAINTENANCE_HTML
        outer = self

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):  # silence
                pass

            def do_GET(self):
                outer._handle(self, "GET")

            def do_HEAD(self):
                outer._handle(self, "HEAD")

            def do_POST(self):
                outer._handle(self, "POST")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _H)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    # -- configuration ----------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def host(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"{host}:{port}"

    def add_file(self, path: str, content: bytes | Path) -> str:
        self.files[path] = content
        return self.url + path

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self.routes.append((method, re.compile(pattern), handler))

    def fault(self, path: str, *faults: str) -> None:
        self.faults[path].extend(faults)

    def reset_counts(self) -> None:
        with self.lock:
            self.bytes_served.clear()
            self.requests.clear()

    def total_bytes(self, path: str | None = None) -> int:
        with self.lock:
            return self.bytes_served[path] if path else sum(self.bytes_served.values())

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- serving ------------------------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(h.path)
        path = parts.path
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        with self.lock:
            self.requests.append((method, h.path, dict(h.headers.items())))
        fault = None
        with self.lock:
            if self.faults.get(path) and method != "HEAD":
                fault = self.faults[path].popleft()
        truncate = None
        if fault:
            kind, _, arg = fault.partition(":")
            if kind in ("500", "502", "503", "401", "403"):
                return self._send(h, path, method, Reply(int(kind), b'{"detail": "injected fault"}', {"Content-Type": "application/json"}))
            if kind == "429":
                return self._send(h, path, method, Reply(429, b"slow down", {"Retry-After": arg or "1"}))
            if kind == "maintenance":
                return self._send(h, path, method, Reply(503, self.maintenance_html, {"Content-Type": "text/html"}))
            if kind == "stall":
                time.sleep(float(arg or 5))
            if kind == "truncate":
                truncate = int(arg or 100)
        req = Request(method, path, parse_qs(parts.query), {k.lower(): v for k, v in h.headers.items()}, body, h.path)
        for m, pat, handler in self.routes:
            if (m == method or (m == "GET" and method == "HEAD")) and pat.fullmatch(path):
                reply = handler(req)
                return self._send(h, path, method, reply, req_headers=req.headers, truncate=truncate)
        if path in self.files:
            content = self.files[path]
            data = content.read_bytes() if isinstance(content, Path) else content
            return self._send(h, path, method, Reply(200, data, {"Content-Type": "application/octet-stream"}),
                              req_headers=req.headers, truncate=truncate, ranged=True)
        return self._send(h, path, method, Reply(404, b'{"detail": "not found"}', {"Content-Type": "application/json"}))

    def _send(self, h, path, method, reply: Reply, *, req_headers=None, truncate=None, ranged=False) -> None:
        data = reply.body
        status = reply.status
        headers = dict(reply.headers)
        rng = (req_headers or {}).get("range")
        if status == 200 and (ranged or headers.pop("X-Ranged", None)) and self.support_range:
            headers["Accept-Ranges"] = "bytes"
            if rng:
                m = re.fullmatch(r"bytes=(\d*)-(\d*)", rng.strip())
                size = len(data)
                if m:
                    a, b = m.groups()
                    if a == "":
                        start, end = max(0, size - int(b)), size - 1
                    else:
                        start, end = int(a), (int(b) if b else size - 1)
                    end = min(end, size - 1)
                    if start >= size:
                        status, data = 416, b""
                        headers["Content-Range"] = f"bytes */{size}"
                    else:
                        status = 206
                        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
                        data = data[start:end + 1]
        headers.setdefault("Content-Type", "application/octet-stream")
        try:
            h.send_response(status)
            for k, v in headers.items():
                h.send_header(k, v)
            h.send_header("Content-Length", str(len(data)))
            if truncate is not None:
                h.send_header("Connection", "close")
            h.end_headers()
            if method == "HEAD":
                return
            out = data if truncate is None else data[:truncate]
            h.wfile.write(out)
            h.wfile.flush()
            with self.lock:
                self.bytes_served[path] += len(out)
            if truncate is not None:
                h.close_connection = True
                try:
                    h.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        except (BrokenPipeError, ConnectionResetError):
            pass
