"""When to poll a feed next: a pure function of the clock, the feed and the outcome."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

MAX_BACKOFF = timedelta(hours=12)
MAX_RETRY_AFTER = timedelta(hours=24)


@dataclass(frozen=True)
class ScheduleSettings:
    interval_s: float
    jitter: float = 0.1  # share of the interval added at random


def next_poll(
    now: datetime,
    settings: ScheduleSettings,
    *,
    ok: bool,
    consecutive_failures: int = 0,
    retry_after: timedelta | None = None,
    rng: random.Random | None = None,
) -> datetime:
    """The next poll time.

    Success: one interval later. Failure: the interval doubled for each consecutive failure
    (this one included beyond the first), capped at 12 h. A server's Retry-After wins when it
    asks for longer, capped at 24 h. A random share of up to `jitter` is added so that feeds
    polled together drift apart instead of hitting their hosts in bursts.
    """
    rng = rng or random.Random()
    base = timedelta(seconds=settings.interval_s)
    if not ok:
        failures = consecutive_failures + 1
        base = min(base * 2 ** min(failures - 1, 10), max(MAX_BACKOFF, base))
    if retry_after is not None:
        base = max(base, min(retry_after, MAX_RETRY_AFTER))
    return now + base + base * (settings.jitter * rng.random())


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """Retry-After as seconds or an HTTP date, or None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(when - now, timedelta(0))
