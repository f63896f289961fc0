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


def test_adaptive_interval_follows_publishing_rate_within_bounds() -> None:
    from monitor.schedule import adaptive_interval

    bounded = ScheduleSettings(
        interval_s=3600, jitter=0.0, adaptive=True, min_interval_s=600, max_interval_s=43200
    )
    assert adaptive_interval(bounded, 7 * 24) == 3600  # one a hour: hourly
    assert adaptive_interval(bounded, 10_000) == 600  # floor
    assert adaptive_interval(bounded, 1) == 43200  # ceiling
    assert adaptive_interval(bounded, 0) == 43200
    polite = ScheduleSettings(interval_s=3600, adaptive=True, server_min_interval_s=7200)
    assert adaptive_interval(polite, 7 * 24) == 7200  # the feed's ttl wins when longer
    greedy = ScheduleSettings(interval_s=3600, adaptive=True, server_min_interval_s=10**9)
    assert adaptive_interval(greedy, 7 * 24) == 86400  # ...but not past the upper bound
    when = next_poll(NOW, bounded, ok=True, new_last_week=7 * 24)
    assert when == NOW + timedelta(hours=1)
    fixed = ScheduleSettings(interval_s=3600, jitter=0.0)
    assert next_poll(NOW, fixed, ok=True, new_last_week=10_000) == NOW + timedelta(hours=1)


def test_server_min_interval_from_ttl_and_cache_control() -> None:
    from monitor.schedule import server_min_interval

    assert server_min_interval("60", None) == 3600
    assert server_min_interval(None, "public, max-age=900") == 900
    assert server_min_interval("10", "max-age=900") == 900
    assert server_min_interval("soon", "no-cache") is None


def test_failure_weights_and_pausing() -> None:
    from monitor.schedule import failure_weight, pause_reason

    assert [failure_weight(k) for k in ("hard", "soft", "transient", "rate-limited")] == [
        1.0,
        0.5,
        0.25,
        0.0,
    ]
    assert pause_reason("hard", 3.0, 3.0, "fetch: HTTP 410 Gone") == (
        "paused after repeated failures (score 3): fetch: HTTP 410 Gone"
    )
    assert pause_reason("hard", 2.0, 3.0, "x") is None
    assert pause_reason("transient", 30.0, 3.0, "fetch: timed out after 20 s") is None
    assert pause_reason("rate-limited", 30.0, 3.0, "fetch: HTTP 429") is None
