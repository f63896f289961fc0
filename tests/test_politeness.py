"""HostGate: per-host turns measured from when each turn was really granted."""

from __future__ import annotations

import asyncio
import time

from monitor.politeness import HostGate


def test_a_turn_granted_late_pushes_the_next_one_back() -> None:
    """With a busy event loop a waiting request wakes late; the request after it must still
    keep the full spacing from that late turn, not from the time the late one had booked."""

    async def scenario() -> list[float]:
        gate = HostGate(per_host=4, spacing=0.2, total=10)
        granted: list[float] = []

        async def request(host: str) -> None:
            await gate.wait_turn(host)
            granted.append(time.monotonic())

        first = asyncio.create_task(request("a.example"))
        await first
        second = asyncio.create_task(request("a.example"))
        await asyncio.sleep(0)  # the second is now waiting for its turn
        time.sleep(0.35)  # the loop is busy well past the second's turn
        third = asyncio.create_task(request("A.example"))  # same host, any case
        await asyncio.gather(second, third)
        return granted

    first, second, third = asyncio.run(scenario())
    assert second - first >= 0.2
    assert third - second >= 0.2 - 0.005  # timer resolution; the old gate gave about 0.05


def test_hosts_do_not_wait_for_each_other_and_zero_spacing_never_waits() -> None:
    async def scenario(spacing: float) -> float:
        gate = HostGate(per_host=2, spacing=spacing, total=10)
        started = time.monotonic()
        await gate.wait_turn("a.example")
        await gate.wait_turn("b.example")
        await gate.wait_turn("c.example")
        if spacing == 0:
            await gate.wait_turn("a.example")
        return time.monotonic() - started

    assert asyncio.run(scenario(5.0)) < 0.1
    assert asyncio.run(scenario(0.0)) < 0.1
