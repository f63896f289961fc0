"""When to poll a feed next, and when to stop: pure functions of the clock, feed and outcome."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

MAX_BACKOFF = timedelta(hours=12)
MAX_RETRY_AFTER = timedelta(hours=24)
WEEK_S = 7 * 86400
DEFAULT_MIN_INTERVAL_S = 5 * 60
DEFAULT_MAX_INTERVAL_S = 24 * 3600

# What one failure adds to a feed's failure score (Media Cloud weighs its failures alike).
# Rate limits are the server protecting itself, not the feed dying: they cost nothing.
FAILURE_WEIGHTS = {"hard": 1.0, "soft": 0.5, "transient": 0.25, "rate-limited": 0.0}
# Transient failures (timeouts, 5xx) back off but never pause a feed: outages end.
PAUSING_KINDS = ("hard", "soft")


@dataclass(frozen=True)
class ScheduleSettings:
    interval_s: float
    jitter: float = 0.1  # share of the interval added at random
    adaptive: bool = False
    min_interval_s: float | None = None
    max_interval_s: float | None = None
    server_min_interval_s: float | None = None  # the feed's RSS ttl or Cache-Control max-age


def adaptive_interval(settings: ScheduleSettings, new_last_week: int) -> float:
    """The interval for a feed that publishes `new_last_week` items a week.

    About one poll per new item (a week divided by last week's count), within the feed's
    bounds; never more often than the feed's own ttl / max-age asks, within the upper bound.
    """
    low = settings.min_interval_s or DEFAULT_MIN_INTERVAL_S
    high = settings.max_interval_s or DEFAULT_MAX_INTERVAL_S
    interval = WEEK_S / new_last_week if new_last_week > 0 else high
    interval = min(max(interval, low), high)
    if settings.server_min_interval_s:
        interval = max(interval, min(settings.server_min_interval_s, high))
    return interval


def next_poll(
    now: datetime,
    settings: ScheduleSettings,
    *,
    ok: bool,
    consecutive_failures: int = 0,
    retry_after: timedelta | None = None,
    new_last_week: int | None = None,
    rng: random.Random | None = None,
) -> datetime:
    """The next poll time.

    Success: one interval later (adaptive feeds: from how often they publish). Failure: the
    interval doubled for each consecutive failure (this one included beyond the first),
    capped at 12 h. A server's Retry-After wins when it asks for longer, capped at 24 h. A
    random share of up to `jitter` is added so that feeds polled together drift apart
    instead of hitting their hosts in bursts.
    """
    rng = rng or random.Random()
    seconds = settings.interval_s
    if settings.adaptive and new_last_week is not None:
        seconds = adaptive_interval(settings, new_last_week)
    base = timedelta(seconds=seconds)
    if not ok:
        failures = consecutive_failures + 1
        base = min(base * 2 ** min(failures - 1, 10), max(MAX_BACKOFF, base))
    if retry_after is not None:
        base = max(base, min(retry_after, MAX_RETRY_AFTER))
    return now + base + base * (settings.jitter * rng.random())


def failure_weight(kind: str) -> float:
    return FAILURE_WEIGHTS.get(kind, FAILURE_WEIGHTS["transient"])


def pause_reason(kind: str, score_after: float, pause_after: float, error: str) -> str | None:
    """Why to pause a feed after this failure, or None to keep polling it (with backoff)."""
    if kind not in PAUSING_KINDS or score_after < pause_after:
        return None
    return f"paused after repeated failures (score {score_after:g}): {error}"


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


def server_min_interval(ttl_minutes: str | None, cache_control: str | None) -> int | None:
    """Seconds the feed asks us to wait between polls: RSS <ttl> or Cache-Control max-age."""
    candidates = []
    if ttl_minutes and ttl_minutes.strip().isdigit():
        candidates.append(int(ttl_minutes.strip()) * 60)
    for part in (cache_control or "").lower().split(","):
        name, _, value = part.strip().partition("=")
        if name == "max-age" and value.strip().isdigit():
            candidates.append(int(value.strip()))
    return max(candidates) if candidates else None
