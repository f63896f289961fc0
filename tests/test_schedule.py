from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from monitor.schedule import ScheduleSettings, next_poll, parse_retry_after

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
HOURLY = ScheduleSettings(interval_s=3600, jitter=0.0)


def test_success_waits_one_interval() -> None:
    assert next_poll(NOW, HOURLY, ok=True) == NOW + timedelta(hours=1)


def test_jitter_stays_within_share() -> None:
    settings = ScheduleSettings(interval_s=3600, jitter=0.1)
    rng = random.Random(1)
    times = [next_poll(NOW, settings, ok=True, rng=rng) - NOW for _ in range(200)]
    assert all(timedelta(hours=1) <= t <= timedelta(hours=1, minutes=6) for t in times)
    assert len(set(times)) > 100


def test_failures_back_off_and_cap() -> None:
    waits = [next_poll(NOW, HOURLY, ok=False, consecutive_failures=n) - NOW for n in range(8)]
    assert waits[:4] == [timedelta(hours=h) for h in (1, 2, 4, 8)]
    assert waits[4:] == [timedelta(hours=12)] * 4


def test_retry_after_wins_when_longer_but_is_capped() -> None:
    assert next_poll(NOW, HOURLY, ok=False, retry_after=timedelta(hours=3)) == NOW + timedelta(
        hours=3
    )
    assert next_poll(NOW, HOURLY, ok=False, retry_after=timedelta(days=9)) == NOW + timedelta(
        hours=24
    )
    assert next_poll(NOW, HOURLY, ok=False, retry_after=timedelta(seconds=5)) == NOW + timedelta(
        hours=1
    )


def test_parse_retry_after() -> None:
    assert parse_retry_after("120", NOW) == timedelta(seconds=120)
    assert parse_retry_after("Sun, 29 Nov 2026 10:00:00 GMT", NOW) == timedelta(hours=2)
    assert parse_retry_after("Sun, 29 Nov 2026 07:00:00 GMT", NOW) == timedelta(0)
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None
