"""A loopback server that misbehaves at the TCP and HTTP level, for adversarial fetch tests.

http.server cannot hang after reading a request, stream forever, reset a connection half-way
or accept without reading, so this is a small asyncio server running in a background thread.
It binds 127.0.0.1 only (port 0), logs every requested path and counts connections, so tests
can assert what a client did (e.g. that an external entity URL was never requested).

Routes (see ROUTES below) and every file in tests/data/hostile/ (served 200 as
application/rss+xml; charset=utf-8, with "@PORT@" replaced by the server's port).
`/silent-accept` lives on a second listening socket, because a server that never reads
cannot know the path: `url("/silent-accept")` points there.
"""

from __future__ import annotations

import asyncio
import functools
import socket
import struct
import threading
import time
import zlib
from collections import Counter
from collections.abc import Awaitable, Callable
from email.utils import formatdate
from pathlib import Path
from types import TracebackType

HOSTILE_DATA = Path(__file__).parent / "data" / "hostile"
RSS = "application/rss+xml; charset=utf-8"
BOMB_INFLATED = 1 << 30  # 1 GiB of whitespace after a feed-like prefix
# "Forever", for the routes that never finish: far beyond any deadline the tests set, yet short
# enough that a client which lost its deadline or size cap fails a test in seconds, not hours.
GIVE_UP_S = 30.0
ENDLESS_MAX = 256_000_000
_BOMB_PREFIX = (
    b'<?xml version="1.0" encoding="utf-8"?>\n'
    b'<rss version="2.0"><channel><title>Decompression bomb</title>'
)

FEED_OK = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0">
<channel>
  <title>Healthy Herald</title>
  <link>https://healthy-herald.test/</link>
  <description>A small valid feed served next to hostile ones</description>
  <language>en</language>
  <item>
    <title>Healthy Herald: Unification ministry publishes annual report on defectors</title>
    <link>https://healthy-herald.test/2026/11/01/defector-report</link>
    <guid isPermaLink="false">healthy-herald-1</guid>
    <pubDate>Sun, 01 Nov 2026 08:00:00 +0000</pubDate>
    <description>The ministry said 236 North Korean defectors arrived in the South this year.</description>
  </item>
  <item>
    <title>Healthy Herald: Rice harvest up five percent in South Chungcheong</title>
    <link>https://healthy-herald.test/2026/11/02/rice-harvest</link>
    <guid isPermaLink="false">healthy-herald-2</guid>
    <pubDate>Mon, 02 Nov 2026 08:00:00 +0000</pubDate>
    <description>Farmers credited a dry, warm autumn for the better yield.</description>
  </item>
  <item>
    <title>Healthy Herald: Busan port traffic reaches a record</title>
    <link>https://healthy-herald.test/2026/11/03/busan-port</link>
    <guid isPermaLink="false">healthy-herald-3</guid>
    <pubDate>Tue, 03 Nov 2026 08:00:00 +0000</pubDate>
    <description>Container volumes rose for the sixth straight month.</description>
  </item>
</channel>
</rss>
"""
FEED_OK_ITEMS = 3

_REASONS = {
    200: "OK",
    301: "Moved Permanently",
    302: "Found",
    404: "Not Found",
    410: "Gone",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


@functools.cache
def bomb_bodies() -> dict[str, bytes]:
    """~1 MB gzip and zlib ("deflate") bodies that each inflate to 1 GiB (+ a feed prefix).

    Built in well under a second: after a full flush a deflate stream forgets its history, so
    compressing the same 1 MiB of spaces again yields the same bytes, which are repeated.
    """
    chunk = b" " * (1 << 20)
    repeats = BOMB_INFLATED // len(chunk)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = comp.compress(_BOMB_PREFIX) + comp.flush(zlib.Z_FULL_FLUSH)
    block = comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH)
    raw = head + block * repeats + comp.flush(zlib.Z_FINISH)
    crc, adler = zlib.crc32(_BOMB_PREFIX), zlib.adler32(_BOMB_PREFIX)
    for _ in range(repeats):
        crc, adler = zlib.crc32(chunk, crc), zlib.adler32(chunk, adler)
    size = (len(_BOMB_PREFIX) + repeats * len(chunk)) & 0xFFFFFFFF
    gzip_body = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + raw + struct.pack("<II", crc, size)
    zlib_body = b"\x78\xda" + raw + struct.pack(">I", adler)
    return {"gzip": gzip_body, "deflate": zlib_body}


class _Conn:
    """One accepted connection: the parsed request and helpers to answer (or not)."""

    def __init__(
        self, server: HostileServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        self.path = ""

    async def read_request(self) -> bool:
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            return False
        parts = head.split(b"\r\n", 1)[0].decode("latin-1").split()
        self.path = parts[1].split("?", 1)[0] if len(parts) >= 2 else ""
        return True

    def head(self, status: int, headers: dict[str, str], length: int | None) -> None:
        lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Whatever')}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if length is not None:
            lines.append(f"Content-Length: {length}")
        lines.append("Connection: close")
        self.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def send(self, data: bytes) -> None:
        self.writer.write(data)
        self.server.bytes_sent[self.path] += len(data)

    async def respond(self, status: int, body: bytes = b"", **headers: str) -> None:
        self.head(status, {k.replace("_", "-"): v for k, v in headers.items()}, len(body))
        self.send(body)
        await self.writer.drain()

    async def stream(self, body: bytes, piece: int = 65536) -> None:
        for start in range(0, len(body), piece):
            self.send(body[start : start + piece])
            await self.writer.drain()

    async def wait_for_client_close(self) -> None:
        """Keep the socket open, ignoring anything sent, until the client hangs up."""
        async with asyncio.timeout(GIVE_UP_S):
            while await self.reader.read(65536):
                pass
        self.server.client_closed[self.path] += 1


Handler = Callable[[_Conn], Awaitable[None]]


async def _hang(conn: _Conn) -> None:
    await conn.wait_for_client_close()


async def _trickle(conn: _Conn) -> None:
    conn.head(200, {"Content-Type": RSS}, len(FEED_OK))
    await conn.writer.drain()
    for i in range(min(len(FEED_OK), int(GIVE_UP_S))):
        conn.send(FEED_OK[i : i + 1])
        await conn.writer.drain()
        await asyncio.sleep(1.0)


def _endless_items() -> bytes:
    item = (
        b"<item><title>Endless item</title><link>https://endless.test/</link>"
        b"<description>" + b"more " * 40 + b"</description></item>\n"
    )
    return item * (65536 // len(item))


async def _endless(conn: _Conn) -> None:
    conn.head(200, {"Content-Type": RSS}, None)
    conn.send(b'<?xml version="1.0"?>\n<rss version="2.0"><channel><title>Endless</title>\n')
    items = _endless_items()
    for _ in range(ENDLESS_MAX // len(items)):
        conn.send(items)
        await conn.writer.drain()


async def _endless_chunked(conn: _Conn) -> None:
    conn.head(200, {"Content-Type": RSS, "Transfer-Encoding": "chunked"}, None)
    prefix = b'<?xml version="1.0"?>\n<rss version="2.0"><channel><title>Endless</title>\n'
    conn.send(f"{len(prefix):x}\r\n".encode() + prefix + b"\r\n")
    items = _endless_items()
    chunk = f"{len(items):x}\r\n".encode() + items + b"\r\n"
    for _ in range(ENDLESS_MAX // len(chunk)):
        conn.send(chunk)
        await conn.writer.drain()


async def _reset(conn: _Conn) -> None:
    conn.head(200, {"Content-Type": RSS}, len(FEED_OK))
    conn.send(FEED_OK[: len(FEED_OK) // 2])
    await conn.writer.drain()
    await asyncio.sleep(0.2)  # let the client read the headers and half the body
    sock = conn.writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.writer.transport.abort()  # close with linger 0: the peer gets a RST, not a FIN
    conn.server.resets += 1


def _bomb(encoding: str) -> Handler:
    async def handler(conn: _Conn) -> None:
        body = bomb_bodies()[encoding]
        conn.head(200, {"Content-Type": RSS, "Content-Encoding": encoding}, len(body))
        await conn.stream(body)

    return handler


def _canned(status: int, body: bytes = b"", **headers: str) -> Handler:
    async def handler(conn: _Conn) -> None:
        await conn.respond(status, body, **headers)

    return handler


async def _unavailable(conn: _Conn) -> None:
    when = formatdate(time.time() + 7200, usegmt=True)
    body = b"<html><body>Down for maintenance</body></html>"
    await conn.respond(503, body, Content_Type="text/html", Retry_After=when)


HTML_PAGE = b"""<!DOCTYPE html>
<html><head><title>Hostile Times</title>
<link rel="alternate" type="application/rss+xml" href="/feed-ok"></head>
<body><h1>Welcome</h1><p>This is a web page, not a feed.</p></body></html>
"""

ROUTES: dict[str, Handler] = {
    "/hang": _hang,
    "/trickle": _trickle,
    "/endless": _endless,
    "/endless-chunked": _endless_chunked,
    "/reset": _reset,
    "/gzip-bomb": _bomb("gzip"),
    "/deflate-bomb": _bomb("deflate"),
    "/redirect-loop": _canned(302, Location="/redirect-loop"),
    "/moved": _canned(301, Location="/feed-ok"),
    "/found": _canned(302, Location="/feed-ok"),
    "/gone": _canned(410, b"gone"),
    "/busy": _canned(429, b"slow down", Retry_After="3600"),
    "/unavailable": _unavailable,
    "/error-html": _canned(
        500, b"<html><body><h1>Internal Server Error</h1></body></html>", Content_Type="text/html"
    ),
    "/html": _canned(200, HTML_PAGE, Content_Type="text/html; charset=utf-8"),
    "/empty": _canned(200, b"", Content_Type=RSS),
    "/json": _canned(200, b'{"items": [{"title": "x"}]}', Content_Type="application/json"),
    "/feed-ok": _canned(200, FEED_OK, Content_Type=RSS),
    # canaries: a client that resolves external entities or DTDs would request these
    "/xxe": _canned(200, b"XXE-CANARY-HTTP", Content_Type="text/plain"),
    "/xxe.dtd": _canned(200, b'<!ENTITY canary "XXE-CANARY-DTD">', Content_Type="text/plain"),
    "/xxe-pe": _canned(200, b'<!ENTITY canary "XXE-CANARY-PE">', Content_Type="text/plain"),
}


class HostileServer:
    """Serve ROUTES and tests/data/hostile/ on 127.0.0.1 from an event loop in a thread."""

    def __init__(self, data_dir: Path = HOSTILE_DATA) -> None:
        self.data_dir = data_dir
        self.requests: list[str] = []  # every request path, in order
        self.connections = 0  # connections accepted on the main port
        self.silent_connections = 0  # connections accepted on the silent port
        self.client_closed: Counter[str] = Counter()  # path -> connections the client closed
        self.bytes_sent: Counter[str] = Counter()
        self.resets = 0
        self.port = 0
        self.silent_port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="hostile-server", daemon=True)
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._error: BaseException | None = None

    # -- public API -------------------------------------------------------------------------
    def url(self, path: str) -> str:
        port = self.silent_port if path == "/silent-accept" else self.port
        return f"http://127.0.0.1:{port}/{path.lstrip('/')}"

    def count(self, path: str) -> int:
        return self.requests.count(path)

    def wait_for_client_close(self, path: str, timeout: float = 2.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.client_closed[path]:
                return True
            time.sleep(0.02)
        return False

    def __enter__(self) -> HostileServer:
        bomb_bodies()  # built here, not in the event loop where it would stall other clients
        self._thread.start()
        if not self._ready.wait(10) or self._error is not None:
            raise RuntimeError(f"hostile server did not start: {self._error!r}")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=10)

    # -- the event loop thread --------------------------------------------------------------
    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve())
        except BaseException as exc:  # surfaced by __enter__ when it happens at start-up
            self._error = exc
            self._ready.set()
        finally:
            self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        main = await asyncio.start_server(self._accept, "127.0.0.1", 0, limit=65536)
        silent = await asyncio.start_server(self._accept_silently, "127.0.0.1", 0)
        self.port = main.sockets[0].getsockname()[1]
        self.silent_port = silent.sockets[0].getsockname()[1]
        self._ready.set()
        await self._stop.wait()
        for srv in (main, silent):
            srv.close()
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for srv in (main, silent):
            await srv.wait_closed()

    def _track(self, writer: asyncio.StreamWriter) -> asyncio.Task[None] | None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)  # type: ignore[arg-type]
        self._writers.add(writer)
        return task  # type: ignore[return-value]

    def _untrack(self, task: asyncio.Task[None] | None, writer: asyncio.StreamWriter) -> None:
        if task is not None:
            self._tasks.discard(task)
        self._writers.discard(writer)
        writer.transport.abort()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = self._track(writer)
        conn = _Conn(self, reader, writer)
        try:
            if await conn.read_request():
                self.requests.append(conn.path)
                await self._handler(conn.path)(conn)
                if not writer.transport.is_closing() and not reader.at_eof():
                    writer.write_eof()
                    await conn.wait_for_client_close()
        except (ConnectionError, OSError):
            self.client_closed[conn.path] += 1  # the client hung up mid-response, as it should
        except (TimeoutError, asyncio.CancelledError):
            pass  # GIVE_UP_S passed, or the server is stopping
        finally:
            self._untrack(task, writer)

    async def _accept_silently(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Accept, never read, never answer: the request sits unread in the socket buffer."""
        self.silent_connections += 1
        task = self._track(writer)
        try:
            assert self._stop is not None
            await asyncio.wait_for(self._stop.wait(), GIVE_UP_S)
        except (TimeoutError, asyncio.CancelledError):
            pass
        finally:
            self._untrack(task, writer)

    def _handler(self, path: str) -> Handler:
        if path in ROUTES:
            return ROUTES[path]
        name = path.lstrip("/")
        file = self.data_dir / name
        if name and "/" not in name and file.is_file():
            body = file.read_bytes().replace(b"@PORT@", str(self.port).encode())
            return _canned(200, body, Content_Type=RSS)
        return _canned(404, b"<html><body>Not found</body></html>", Content_Type="text/html")
