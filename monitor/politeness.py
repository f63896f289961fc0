"""Politeness towards each host: at most N requests at once and a minimum gap between starts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit


def host_key(url: str) -> str:
    parts = urlsplit(url)
    return (parts.hostname or "").lower()


class HostGate:
    """Per-host concurrency limit plus spacing between request starts, then a global limit.

    A slot for the host is taken before a global slot, so requests queued behind a busy host
    never hold global slots that other hosts could use. The spacing is applied by
    `wait_turn(host)`, which the fetcher awaits as each request's headers are about to be
    written (redirect hops included), so a request delayed after taking its slot, or by
    connecting, cannot arrive early.
    """

    def __init__(self, *, per_host: int, spacing: float, total: int) -> None:
        self.per_host = per_host
        self.spacing = spacing
        self._total = asyncio.Semaphore(total)
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._turns: dict[str, asyncio.Lock] = {}
        self._last_sent: dict[str, float] = {}

    @asynccontextmanager
    async def slot(self, url: str) -> AsyncIterator[None]:
        host = host_key(url)
        semaphore = self._hosts.setdefault(host, asyncio.Semaphore(self.per_host))
        async with semaphore, self._total:
            yield

    async def wait_turn(self, host: str) -> None:
        """Sleep until this host may receive another request.

        Turns are taken one at a time per host and the clock starts when a turn is actually
        granted, so a request that wakes late (a busy event loop) delays the next one too,
        instead of letting the two reach the server closer together than the spacing.
        """
        host = host.lower()
        if self.spacing <= 0:
            return
        async with self._turns.setdefault(host, asyncio.Lock()):
            last = self._last_sent.get(host)
            if last is not None and (delay := last + self.spacing - time.monotonic()) > 0:
                await asyncio.sleep(delay)
            self._last_sent[host] = time.monotonic()
