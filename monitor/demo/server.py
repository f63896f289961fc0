"""A small loopback HTTP server for feed files, with ETag and Last-Modified support.

Used by `monitor demo` and by the tests; it binds 127.0.0.1 only.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

CONTENT_TYPES = {
    ".xml": "application/rss+xml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
}
STARTED = formatdate(usegmt=True)


@dataclass(frozen=True)
class Route:
    """A canned response for one path."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering
    trickle: float = 0.0  # seconds to wait between body bytes


class _Handler(BaseHTTPRequestHandler):
    server: FeedServerHTTP

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - keep quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        path = self.path.split("?", 1)[0]
        self.server.requests.append((path, dict(self.headers)))
        self.server.starts.append(time.monotonic())
        with self.server.counting():
            self._answer(path)

    def _answer(self, path: str) -> None:
        route = self.server.routes.get(path) or self._file_route(path)
        time.sleep(route.delay)
        self.send_response(route.status)
        for name, value in route.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(route.body)))
        self.end_headers()
        try:
            self._write_body(route)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, as it should with a slow server

    def _write_body(self, route: Route) -> None:
        if not route.trickle:
            self.wfile.write(route.body)
            return
        for i in range(len(route.body)):
            self.wfile.write(route.body[i : i + 1])
            self.wfile.flush()
            time.sleep(route.trickle)

    def _file_route(self, path: str) -> Route:
        name = path.lstrip("/")
        file = (self.server.root / name).resolve() if name else None
        if file is None or file.parent != self.server.root.resolve() or not file.is_file():
            return Route(404, b"<html><body>Not found</body></html>", {"Content-Type": "text/html"})
        body = file.read_bytes()
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        headers = {
            "Content-Type": CONTENT_TYPES.get(file.suffix, "application/xml"),
            "ETag": etag,
            "Last-Modified": STARTED,
        }
        if self.headers.get("If-None-Match") == etag:
            return Route(304, b"", {"ETag": etag})
        return Route(200, body, headers)


class FeedServerHTTP(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path, routes: dict[str, Route], host: str = "127.0.0.1") -> None:
        super().__init__((host, 0), _Handler)
        self.root = root
        self.routes = routes
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.starts: list[float] = []  # time.monotonic() of each request
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()

    @contextmanager
    def counting(self) -> Iterator[None]:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            yield
        finally:
            with self._lock:
                self.in_flight -= 1


class FeedServer:
    """Serve a folder of feed files (plus canned routes) on a loopback address in a thread."""

    def __init__(
        self, root: Path, routes: dict[str, Route] | None = None, host: str = "127.0.0.1"
    ) -> None:
        self.host = host
        self.httpd = FeedServerHTTP(root, dict(routes or {}), host)
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}/{path.lstrip('/')}"

    @property
    def requests(self) -> list[tuple[str, dict[str, str]]]:
        return self.httpd.requests

    def __enter__(self) -> FeedServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)
