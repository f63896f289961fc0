"""A loopback feed farm: N deterministic news feeds spread over many 127.0.0.x hosts.

Feed i lives at http://127.0.0.(2 + i % hosts):PORT/feeds/{i}.xml and holds 30-60 items that
read like news (RSS 2.0 for about 80% of feeds, Atom for the rest; about 5% of items are about
North Korean defectors, repatriation or the border). Every host address gets its own asyncio
server speaking a minimal HTTP/1.1 with keep-alive, gzip, ETag and Last-Modified (304 on a
matching If-None-Match or If-Modified-Since), and waits `latency` seconds before each answer.

The control endpoint on 127.0.0.1:PORT:

    POST /advance?share=0.1   give 10% of the feeds (chosen from the seed) 3-5 new items
    GET  /stats               JSON: requests, 200s, 304s, distinct items served, and what the
                              hosts saw of the client's manners (most requests in flight at
                              one host, shortest gap between two arrivals at one host)
    POST /reset-politeness    start a new window for those two figures
    GET  /urls                every feed URL, one a line

    python benchmarks/feed_farm.py --feeds 1000 --hosts 25 --latency 0.05 --port 8700

Only loopback addresses are ever bound; nothing is fetched from anywhere.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import hashlib
import json
import os
import random
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from farm_news import (
    TEXTS,
    Story,
    atom_entry,
    host_address,
    http_date,
    iso_time,
    make_story,
    rss_item,
    site_domain,
    site_name,
)

MIN_ITEMS, MAX_ITEMS = 30, 60
MAX_HOSTS = 253  # 127.0.0.2 .. 127.0.0.254
HISTORY_S = 14 * 86400
ATOM_SHARE = 0.2


@dataclass
class FeedDoc:
    """One feed: its items newest first, and the current body with its validators."""

    index: int
    host: int
    atom: bool
    items: list[tuple[str, str]] = field(default_factory=list)  # (guid, XML fragment)
    next_n: int = 0
    version: int = 0
    served_version: int = -1
    modified: int = 0
    plain: bytes = b""
    gz: bytes = b""
    etag: str = ""

    def render(self, modified: int) -> None:
        self.modified = max(modified, self.modified + 1)
        body = "".join(fragment for _, fragment in self.items)
        site = site_name(self.host)
        text = (_atom_document if self.atom else _rss_document)(self, site, body)
        self.plain = text.encode("utf-8")
        self.gz = gzip.compress(self.plain, compresslevel=6, mtime=0)
        self.etag = 'W/"' + hashlib.sha1(self.plain).hexdigest()[:20] + '"'
        self.version += 1


def _rss_document(doc: FeedDoc, site: str, items: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>\n'
        f"<title>{site} &#8211; feed {doc.index}</title>"
        f"<link>https://www.{site_domain(doc.host)}/</link>"
        f"<description>Latest news from the {site}</description><language>en</language>"
        f"<lastBuildDate>{http_date(doc.modified)}</lastBuildDate><ttl>30</ttl>\n"
        f"{items}</channel></rss>\n"
    )


def _atom_document(doc: FeedDoc, site: str, items: str) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">\n'
        f"<title>{site} &#8211; feed {doc.index}</title>"
        f"<id>tag:farm.example,2026:feed/{doc.index}</id>"
        f'<link rel="alternate" href="https://www.{site_domain(doc.host)}/"/>'
        f"<updated>{iso_time(doc.modified)}</updated>\n{items}</feed>\n"
    )


def _fragment(story: Story, doc: FeedDoc, rng: random.Random) -> tuple[str, str]:
    xml = atom_entry(story) if doc.atom else rss_item(story, cdata=rng.random() < 0.5)
    return story.guid, xml


@dataclass
class Counters:
    requests: int = 0
    ok: int = 0
    not_modified: int = 0
    not_found: int = 0
    bytes_sent: int = 0
    connections: int = 0


@dataclass
class Politeness:
    """What the hosts saw of the client's manners since the last reset."""

    in_flight: list[int]
    max_in_flight_per_host: int = 0
    min_start_gap_ms: float | None = None  # shortest time between two arrivals at one host
    last_start: dict[int, float] = field(default_factory=dict)

    def arrive(self, host: int) -> None:
        now = time.monotonic()
        self.in_flight[host] += 1
        self.max_in_flight_per_host = max(self.max_in_flight_per_host, self.in_flight[host])
        if host in self.last_start:
            gap = (now - self.last_start[host]) * 1000
            self.min_start_gap_ms = min(gap, self.min_start_gap_ms or gap)
        self.last_start[host] = now

    def reset(self) -> None:
        self.max_in_flight_per_host, self.min_start_gap_ms = 0, None
        self.last_start.clear()


class FeedFarm:
    """The feeds, their servers and the counters. Call `start()` inside a running loop."""

    def __init__(
        self,
        feeds: int = 1000,
        hosts: int = 25,
        latency: float = 0.05,
        *,
        seed: int = 1,
        port: int = 8700,
        now: float | None = None,
        text: str = TEXTS[0],
    ) -> None:
        if not 1 <= hosts <= MAX_HOSTS:
            raise ValueError(f"hosts must be 1..{MAX_HOSTS}, got {hosts}")
        self.hosts, self.latency, self.seed, self.port = hosts, latency, seed, port
        self.text = text
        self.now = int(now if now is not None else time.time())
        self.generation = 0
        self.counters = Counters()
        self.served: set[str] = set()
        self.politeness = Politeness([0] * hosts)
        self.servers: list[asyncio.Server] = []
        self.docs = [self._new_doc(i) for i in range(feeds)]

    def _new_doc(self, index: int) -> FeedDoc:
        rng = random.Random(f"{self.seed}:{index}")
        doc = FeedDoc(index=index, host=index % self.hosts, atom=rng.random() < ATOM_SHARE)
        count = rng.randint(MIN_ITEMS, MAX_ITEMS)
        times = sorted(self.now - rng.uniform(600, HISTORY_S) for _ in range(count))
        self._prepend(doc, [int(t) for t in times], rng)
        doc.render(self.now - 300)
        return doc

    def _prepend(self, doc: FeedDoc, times: list[int], rng: random.Random) -> None:
        """Add items (times oldest first) at the top, dropping the oldest beyond MAX_ITEMS."""
        new = []
        for when in times:
            story = make_story(self.seed, doc.index, doc.next_n, self.hosts, when, self.text)
            new.append(_fragment(story, doc, rng))
            doc.next_n += 1
        doc.items = (new[::-1] + doc.items)[:MAX_ITEMS]

    def url(self, index: int) -> str:
        return f"http://{host_address(index % self.hosts)}:{self.port}/feeds/{index}.xml"

    def urls(self) -> list[str]:
        return [self.url(i) for i in range(len(self.docs))]

    def advance(self, share: float) -> dict[str, Any]:
        """Give `share` of the feeds (chosen from the seed and generation) 3-5 new items."""
        self.generation += 1
        rng = random.Random(f"{self.seed}:advance:{self.generation}")
        chosen = sorted(rng.sample(range(len(self.docs)), round(share * len(self.docs))))
        now, added = int(time.time()), 0
        for index in chosen:
            doc = self.docs[index]
            count = rng.randint(3, 5)
            self._prepend(doc, sorted(now - rng.randint(0, 1800) for _ in range(count)), rng)
            doc.render(now)
            added += count
        return {"generation": self.generation, "changed_feeds": len(chosen), "new_items": added}

    def stats(self) -> dict[str, Any]:
        p = self.politeness
        return {
            "feeds": len(self.docs),
            "hosts": self.hosts,
            "generation": self.generation,
            **asdict(self.counters),
            "served_items": len(self.served),
            "max_in_flight_per_host": p.max_in_flight_per_host,
            "min_start_gap_ms": round(p.min_start_gap_ms, 1) if p.min_start_gap_ms else None,
        }

    def reset_politeness(self) -> dict[str, Any]:
        """Start a new observation window for in-flight and start-gap figures."""
        self.politeness.reset()
        return self.stats()

    def body_sizes(self) -> tuple[int, int, int]:
        """(items, plain bytes, gzip bytes) over all feeds as they are now."""
        items = sum(len(d.items) for d in self.docs)
        return items, sum(len(d.plain) for d in self.docs), sum(len(d.gz) for d in self.docs)

    async def start(self) -> None:
        """Bind the control endpoint on 127.0.0.1 (port 0: any free port) and every host."""
        control = await asyncio.start_server(
            partial(self._connection, None), "127.0.0.1", self.port, backlog=512
        )
        self.port = control.sockets[0].getsockname()[1]
        self.servers = [control]
        for host in range(self.hosts):
            handler = partial(self._connection, host)
            server = await asyncio.start_server(handler, host_address(host), self.port, backlog=512)
            self.servers.append(server)

    async def close(self) -> None:
        for server in self.servers:
            server.close()
        for server in self.servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2)

    async def _connection(
        self, host: int | None, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.counters.connections += 1
        try:
            while request := await _read_request(reader):
                method, target, headers = request
                if host is None:
                    response = self._control(method, target)
                else:
                    response = await self._feed(host, method, target, headers)
                writer.write(response)
                await writer.drain()
                if not _keep_alive(headers):
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def _feed(self, host: int, method: str, target: str, headers: dict[str, str]) -> bytes:
        self.counters.requests += 1
        self.politeness.arrive(host)
        try:
            if self.latency > 0:
                await asyncio.sleep(self.latency)
            return self._answer(host, method, target, headers)
        finally:
            self.politeness.in_flight[host] -= 1

    def _doc_for(self, host: int, target: str) -> FeedDoc | None:
        path = urlsplit(target).path
        stem = path.removeprefix("/feeds/").removesuffix(".xml")
        if not (path.startswith("/feeds/") and path.endswith(".xml") and stem.isdigit()):
            return None
        index = int(stem)
        if index >= len(self.docs) or index % self.hosts != host:
            return None
        return self.docs[index]

    def _answer(self, host: int, method: str, target: str, headers: dict[str, str]) -> bytes:
        doc = self._doc_for(host, target)
        if doc is None or method not in ("GET", "HEAD"):
            self.counters.not_found += 1
            return _response(404, {"Content-Type": "text/plain"}, b"not found\n")
        validators = {"ETag": doc.etag, "Last-Modified": http_date(doc.modified)}
        if _not_modified(doc, headers):
            self.counters.not_modified += 1
            return _response(304, validators, b"")
        gzipped = "gzip" in headers.get("accept-encoding", "").lower()
        kind = "atom" if doc.atom else "rss"
        extra = {
            "Content-Type": f"application/{kind}+xml; charset=utf-8",
            "Cache-Control": "max-age=300",
            "Vary": "Accept-Encoding",
        }
        if gzipped:
            extra["Content-Encoding"] = "gzip"
        body = doc.gz if gzipped else doc.plain
        self.counters.ok += 1
        self.counters.bytes_sent += len(body)
        if method == "GET" and doc.served_version != doc.version:
            self.served.update(guid for guid, _ in doc.items)
            doc.served_version = doc.version
        return _response(200, {**validators, **extra}, body, head=method == "HEAD")

    def _control(self, method: str, target: str) -> bytes:
        parts = urlsplit(target)
        routes: dict[tuple[str, str], Callable[[], bytes]] = {
            ("GET", "/stats"): lambda: _json(self.stats()),
            ("POST", "/reset-politeness"): lambda: _json(self.reset_politeness()),
            ("POST", "/advance"): lambda: _json(self.advance(_share(parts.query))),
            ("GET", "/urls"): lambda: "".join(u + "\n" for u in self.urls()).encode(),
        }
        route = routes.get((method, parts.path))
        if route is None:
            return _response(404, {"Content-Type": "text/plain"}, b"not found\n")
        try:
            body = route()
        except ValueError as exc:
            return _response(400, {"Content-Type": "text/plain"}, f"{exc}\n".encode())
        kind = "text/plain" if parts.path == "/urls" else "application/json"
        return _response(200, {"Content-Type": kind}, body)


def _share(query: str) -> float:
    values = parse_qs(query).get("share", ["0.1"])
    share = float(values[0])
    if not 0 <= share <= 1:
        raise ValueError(f"share must be between 0 and 1, got {share}")
    return share


def _json(data: dict[str, Any]) -> bytes:
    return json.dumps(data).encode() + b"\n"


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str]] | None:
    """(method, target, lower-cased headers) of the next request, or None at end of stream."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        return None
    headers = {"_version": parts[2]}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    length = headers.get("content-length", "0")
    if length.isdigit() and int(length):
        await reader.readexactly(int(length))
    return parts[0], parts[1], headers


def _keep_alive(headers: dict[str, str]) -> bool:
    connection = headers.get("connection", "").lower()
    if headers.get("_version") == "HTTP/1.0":
        return connection == "keep-alive"
    return connection != "close"


def _not_modified(doc: FeedDoc, headers: dict[str, str]) -> bool:
    """If-None-Match (weak comparison) decides when present, else If-Modified-Since."""
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return "*" in tags or doc.etag.removeprefix("W/") in tags
    since = headers.get("if-modified-since")
    if since:
        try:
            return parsedate_to_datetime(since).timestamp() >= doc.modified
        except (TypeError, ValueError):
            return False
    return False


REASONS = {200: "OK", 304: "Not Modified", 400: "Bad Request", 404: "Not Found"}


def _response(status: int, headers: dict[str, str], body: bytes, *, head: bool = False) -> bytes:
    lines = [f"HTTP/1.1 {status} {REASONS[status]}", f"Date: {formatdate(usegmt=True)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if status != 304:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (b"" if head else body)


async def serve(farm: FeedFarm, urls_file: Path) -> None:
    """Serve until SIGINT or SIGTERM; print the URL file path, then the control URL."""
    await farm.start()
    urls_file.write_text("".join(u + "\n" for u in farm.urls()), encoding="utf-8")
    print(urls_file, flush=True)
    print(f"control: http://127.0.0.1:{farm.port} (POST /advance?share=0.1, GET /stats)")
    sys.stdout.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await farm.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=25, help="loopback hosts, 127.0.0.2 on")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds before answering")
    parser.add_argument("--port", type=int, default=8700, help="0: any free port")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--urls-file", type=Path, help="where to write the feed URLs")
    parser.add_argument("--text", choices=TEXTS, default=TEXTS[0], help="see farm_news.py")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    farm = FeedFarm(
        args.feeds, args.hosts, args.latency, seed=args.seed, port=args.port, text=args.text
    )
    items, plain, gz = farm.body_sizes()
    print(
        f"feed farm: {args.feeds} feeds, {items} items, {plain / 1e6:.1f} MB"
        f" ({gz / 1e6:.1f} MB gzip), generated in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    urls_file = args.urls_file
    if urls_file is None:
        handle, name = tempfile.mkstemp(prefix="feed-farm-", suffix=".txt")
        os.close(handle)
        urls_file = Path(name)
    try:
        asyncio.run(serve(farm, urls_file))
    except OSError as exc:
        sys.exit(f"feed farm: cannot bind loopback addresses: {exc}")


if __name__ == "__main__":
    main()
