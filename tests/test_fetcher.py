"""The fetcher against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gzip
import time
from pathlib import Path

import pytest

from monitor.demo.server import FeedServer, Route
from monitor.errors import FetchError
from monitor.fetcher import FetchLimits, FetchResult, fetch, make_client

FEEDS = Path(__file__).parent / "data" / "feeds"
LIMITS = FetchLimits(timeout=2.0, connect_timeout=1.0, max_bytes=100_000, user_agent="nk-test/1")
FEED = (FEEDS / "rss2-basic.xml").read_bytes()
ROUTES = {
    "/gone.xml": Route(410, b"gone"),
    "/broken.xml": Route(500, b"<html>oops</html>", {"Content-Type": "text/html"}),
    "/busy.xml": Route(429, b"", {"Retry-After": "120"}),
    "/moved.xml": Route(301, b"", {"Location": "/rss2-basic.xml"}),
    "/found.xml": Route(302, b"", {"Location": "/rss2-basic.xml"}),
    "/loop.xml": Route(301, b"", {"Location": "/loop.xml"}),
    "/huge.xml": Route(200, b"<rss>" + b"x" * 200_000 + b"</rss>"),
    "/bomb.xml": Route(
        200,
        gzip.compress(b"<rss>" + b" " * 5_000_000 + b"</rss>"),
        {"Content-Encoding": "gzip"},
    ),
    "/corrupt.xml": Route(200, b"not gzip at all", {"Content-Encoding": "gzip"}),
    "/hang.xml": Route(200, FEED, delay=30),
    "/trickle.xml": Route(200, FEED, trickle=0.05),
}


@pytest.fixture(scope="module")
def server():
    with FeedServer(FEEDS, ROUTES) as srv:
        yield srv


def get(server: FeedServer, path: str, **kw: str | None) -> FetchResult:
    async def go() -> FetchResult:
        async with make_client(LIMITS) as client:
            return await fetch(client, server.url(path), LIMITS, **kw)

    return asyncio.run(go())


def test_plain_fetch_sends_user_agent(server: FeedServer) -> None:
    result = get(server, "rss2-basic.xml")
    assert result.status == 200 and result.body == FEED
    assert result.headers["etag"]
    assert server.requests[-1][1]["User-Agent"] == "nk-test/1"


def test_conditional_get_returns_304(server: FeedServer) -> None:
    etag = get(server, "rss2-basic.xml").headers["etag"]
    result = get(server, "rss2-basic.xml", etag=etag, last_modified="Sun, 01 Nov 2026 00:00:00 GMT")
    assert result.not_modified and result.body == b""
    sent = server.requests[-1][1]
    assert sent["If-None-Match"] == etag
    assert sent["If-Modified-Since"] == "Sun, 01 Nov 2026 00:00:00 GMT"


@pytest.mark.parametrize(
    ("path", "message", "status"),
    [
        ("missing.xml", "fetch: HTTP 404 Not Found", 404),
        ("gone.xml", "fetch: HTTP 410 Gone", 410),
        ("broken.xml", "fetch: HTTP 500 Internal Server Error", 500),
        ("loop.xml", "fetch: too many redirects", None),
        ("huge.xml", "fetch: body of 200011 bytes exceeds the 100 kB limit", None),
        ("bomb.xml", "fetch: body exceeds the 100 kB limit", None),
        (
            "corrupt.xml",
            "fetch: corrupt gzip body: Error -3 while decompressing data: incorrect header check",
            None,
        ),
    ],
)
def test_errors_are_one_clear_line(
    server: FeedServer, path: str, message: str, status: int | None
) -> None:
    with pytest.raises(FetchError) as info:
        get(server, path)
    assert str(info.value) == message
    assert info.value.status == status


def test_retry_after_is_reported(server: FeedServer) -> None:
    with pytest.raises(FetchError) as info:
        get(server, "busy.xml")
    assert info.value.status == 429 and info.value.retry_after == "120"


def test_redirects_followed_and_permanent_ones_reported(server: FeedServer) -> None:
    moved = get(server, "moved.xml")
    assert moved.body == FEED and moved.permanent_redirect == server.url("rss2-basic.xml")
    found = get(server, "found.xml")
    assert found.body == FEED and found.permanent_redirect is None


@pytest.mark.parametrize("path", ["hang.xml", "trickle.xml"])
def test_total_deadline(server: FeedServer, path: str) -> None:
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"^fetch: timed out after 2 s$"):
        get(server, path)
    assert time.monotonic() - started < 4


def test_unreachable_host() -> None:
    async def go() -> None:
        async with make_client(LIMITS) as client:
            await fetch(client, "http://127.0.0.1:9/feed.xml", LIMITS)

    with pytest.raises(FetchError, match="^fetch: cannot connect"):
        asyncio.run(go())
