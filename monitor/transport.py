"""One small connection pool per host, behind one httpx client.

httpcore's pool matches every queued request against every connection each time a request
starts or ends, so one pool for a thousand feeds over dozens of hosts spends more CPU on that
bookkeeping than on the HTTP itself (measured: about a third of the poller's main thread in a
cold cycle of 1,000 feeds on 25 hosts). The politeness gate already keeps at most `per_host`
requests at a host, so a pool per host holds at most a few connections and the matching is
trivial. Connections are still reused between requests to one host.

Pools are opened as hosts are first seen and closed once unused for `idle_s`, so that a list
of thousands of hosts polled hourly does not keep a socket open per host between polls.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable

import httpx

PoolKey = tuple[bytes, bytes, int | None]


class HostPools(httpx.AsyncBaseTransport):
    def __init__(
        self,
        *,
        connections_per_host: int,
        idle_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.connections_per_host = connections_per_host
        self.idle_s = idle_s
        self.clock = clock
        self._pools: dict[PoolKey, httpx.AsyncHTTPTransport] = {}
        self._last_used: dict[PoolKey, float] = {}
        self._last_sweep = clock()
        self._ssl: ssl.SSLContext | None = None

    @property
    def hosts(self) -> int:
        """How many pools are open now."""
        return len(self._pools)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        now = self.clock()
        if now - self._last_sweep >= self.idle_s:
            self._last_sweep = now
            await self._close_idle(now)
        key = (request.url.raw_scheme, request.url.raw_host, request.url.port)
        self._last_used[key] = now
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = self._new_pool()
        return await pool.handle_async_request(request)

    def _new_pool(self) -> httpx.AsyncHTTPTransport:
        if self._ssl is None:  # one context for every pool: each costs a CA bundle load
            self._ssl = httpx.create_ssl_context(trust_env=False)
        n = self.connections_per_host
        return httpx.AsyncHTTPTransport(
            verify=self._ssl,
            trust_env=False,
            limits=httpx.Limits(max_connections=n, max_keepalive_connections=n),
        )

    async def _close_idle(self, now: float) -> None:
        """Close the pools of hosts not asked anything for `idle_s`: every request they
        served has ended by then (`idle_s` is longer than a fetch's total deadline)."""
        idle = [key for key, used in self._last_used.items() if now - used >= self.idle_s]
        for key in idle:
            del self._last_used[key]
            await self._pools.pop(key).aclose()

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        self._last_used.clear()
        for pool in pools:
            await pool.aclose()
