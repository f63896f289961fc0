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
    `wait_turn(host)` and `turn_done(host)`, which the fetcher calls as each request's headers
    are about to be written and once they are (redirect hops included), so a request delayed
    after taking its slot, or by connecting, cannot arrive early.
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
        """Wait for this host's turn: until no other request to it is being sent, and the
        spacing has passed since the last one was. Hand the turn back with `turn_done`.

        The clock starts when the previous request's headers were written, not when its turn
        was granted, so a request that was slow to go out (a busy event loop) cannot reach the
        host closer to the next one than the spacing.
        """
        if self.spacing <= 0:
            return
        turn = self._turns.setdefault(host.lower(), asyncio.Lock())
        await turn.acquire()
        try:
            last = self._last_sent.get(host.lower())
            if last is not None and (delay := last + self.spacing - time.monotonic()) > 0:
                await asyncio.sleep(delay)
        except BaseException:
            turn.release()
            raise

    def turn_done(self, host: str) -> None:
        """The request whose turn it was has been written (or has failed)."""
        if self.spacing <= 0:
            return
        host = host.lower()
        self._last_sent[host] = time.monotonic()
        turn = self._turns.get(host)
        if turn is not None and turn.locked():
            turn.release()
