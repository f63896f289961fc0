"""HostGate: one request to a host is sent at a time, the next only after the spacing."""

from __future__ import annotations

import asyncio
import time

from monitor.politeness import HostGate


async def send(gate: HostGate, host: str, sent: list[float], writing: float = 0.0) -> None:
    """What the fetcher does around writing one request's headers (taking `writing` seconds)."""
    await gate.wait_turn(host)
    await asyncio.sleep(writing)
    sent.append(time.monotonic())
    gate.turn_done(host)


def test_the_spacing_counts_from_when_the_last_request_was_written() -> None:
    """A request that is slow to go out (here 0.3 s between its turn and its headers being
    written) holds the turn: the next one keeps the full spacing from the actual write."""

    async def scenario() -> list[float]:
        gate = HostGate(per_host=4, spacing=0.2, total=10)
        sent: list[float] = []
        await send(gate, "a.example", sent)
        await asyncio.gather(
            send(gate, "a.example", sent, writing=0.3), send(gate, "A.example", sent)
        )
        return sent

    first, second, third = asyncio.run(scenario())
    assert second - first >= 0.2
    assert third - second >= 0.2 - 0.005  # timer resolution


def test_a_busy_event_loop_cannot_squeeze_two_requests_together() -> None:
    async def scenario() -> list[float]:
        gate = HostGate(per_host=4, spacing=0.2, total=10)
        sent: list[float] = []
        await send(gate, "a.example", sent)
        second = asyncio.create_task(send(gate, "a.example", sent))
        await asyncio.sleep(0)  # the second is now waiting for its turn
        time.sleep(0.35)  # the loop is busy well past the second's turn
        await asyncio.gather(second, send(gate, "a.example", sent))
        return sent

    first, second, third = asyncio.run(scenario())
    assert second - first >= 0.2 and third - second >= 0.2 - 0.005


def test_a_cancelled_wait_gives_the_turn_back() -> None:
    async def scenario() -> float:
        gate = HostGate(per_host=4, spacing=0.1, total=10)
        sent: list[float] = []
        await send(gate, "a.example", sent)
        waiting = asyncio.create_task(gate.wait_turn("a.example"))
        await asyncio.sleep(0.01)
        waiting.cancel()
        started = time.monotonic()
        await asyncio.wait_for(send(gate, "a.example", sent), 1.0)  # not stuck behind it
        return time.monotonic() - started

    assert asyncio.run(scenario()) < 0.2


def test_hosts_do_not_wait_for_each_other_and_zero_spacing_never_waits() -> None:
    async def scenario(spacing: float) -> float:
        gate = HostGate(per_host=2, spacing=spacing, total=10)
        started, sent = time.monotonic(), []
        for host in ("a.example", "b.example", "c.example"):
            await send(gate, host, sent)
        if spacing == 0:
            await send(gate, "a.example", sent)
        return time.monotonic() - started

    assert asyncio.run(scenario(5.0)) < 0.1
    assert asyncio.run(scenario(0.0)) < 0.1
