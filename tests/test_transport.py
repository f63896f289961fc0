"""One connection pool per host: reuse within a host, separate hosts, idle pools closed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from monitor.demo.server import FeedServer, _Handler
from monitor.transport import HostPools

FEEDS = Path(__file__).parent / "data" / "feeds"


class KeepAliveHandler(_Handler):
    protocol_version = "HTTP/1.1"  # the demo server's answers carry Content-Length


class CountedServer(FeedServer):
    """A FeedServer that keeps connections open and counts those it accepts."""

    def __init__(self, host: str) -> None:
        super().__init__(FEEDS, host=host)
        self.httpd.RequestHandlerClass = KeepAliveHandler
        self.connections = 0
        accept = self.httpd.get_request

        def counted() -> tuple:
            self.connections += 1
            return accept()

        self.httpd.get_request = counted  # type: ignore[method-assign]


@pytest.fixture
def servers() -> Iterator[tuple[CountedServer, CountedServer]]:
    with CountedServer("127.0.0.2") as a, CountedServer("127.0.0.3") as b:
        yield a, b


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_requests_to_one_host_share_its_connections(servers) -> None:
    a, b = servers
    pools = HostPools(connections_per_host=2, idle_s=60)

    async def go() -> list[int]:
        async with httpx.AsyncClient(transport=pools) as client:
            statuses = [(await client.get(a.url("rss2-basic.xml"))).status_code for _ in range(5)]
            statuses += [(await client.get(b.url("atom-basic.atom"))).status_code for _ in range(3)]
            assert pools.hosts == 2
            return statuses

    assert asyncio.run(go()) == [200] * 8
    assert (a.connections, b.connections) == (1, 1)
    assert pools.hosts == 0  # closed with the client


def test_a_host_never_gets_more_connections_than_its_pool(servers) -> None:
    a, _ = servers
    pools = HostPools(connections_per_host=2, idle_s=60)

    async def go() -> list[int]:
        async with httpx.AsyncClient(transport=pools) as client:
            responses = await asyncio.gather(
                *(client.get(a.url("rss2-basic.xml")) for _ in range(8))
            )
            return [r.status_code for r in responses]

    assert asyncio.run(go()) == [200] * 8
    assert a.connections == 2
    assert a.httpd.max_in_flight <= 2


def test_pools_of_hosts_left_idle_are_closed(servers) -> None:
    a, b = servers
    clock = Clock()
    pools = HostPools(connections_per_host=2, idle_s=30, clock=clock)

    async def go() -> None:
        async with httpx.AsyncClient(transport=pools) as client:
            await client.get(a.url("rss2-basic.xml"))
            clock.now += 10
            await client.get(b.url("atom-basic.atom"))
            assert pools.hosts == 2
            clock.now += 25  # a idle for 35 s, b for 25 s
            await client.get(b.url("atom-basic.atom"))
            assert pools.hosts == 1  # a's pool closed, b's kept
            await client.get(a.url("rss2-basic.xml"))  # a new pool, a new connection
            assert pools.hosts == 2

    asyncio.run(go())
    assert (a.connections, b.connections) == (2, 1)
