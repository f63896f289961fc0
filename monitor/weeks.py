"""ISO weeks and days in a time zone, as the UTC bounds the database is queried with."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


class WeekError(ValueError):
    pass


def zone(name: str) -> tzinfo:
    """The IANA time zone `name` ("UTC", "Asia/Seoul"); ValueError if unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f'unknown time zone "{name}" (expected an IANA name like "Asia/Seoul" or "UTC")'
        ) from None


def week_monday(text: str) -> date:
    """'2026-W48' -> the date of that week's Monday."""
    match = _WEEK.match(text.strip())
    if not match:
        raise WeekError(f'expected an ISO week like "2026-W48", got "{text}"')
    try:
        return date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    except ValueError as exc:
        raise WeekError(f'"{text}" is not a week of that year') from exc


def local_midnight(day: date, tz: tzinfo) -> datetime:
    """00:00 of `day` in `tz`, in UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)


def parse_week(text: str, tz: tzinfo = UTC) -> tuple[datetime, datetime]:
    """'2026-W48' -> (its Monday 00:00 in `tz`, the next Monday 00:00 in `tz`), both in UTC."""
    monday = week_monday(text)
    return local_midnight(monday, tz), local_midnight(monday + timedelta(days=7), tz)


def week_days(text: str) -> list[date]:
    monday = week_monday(text)
    return [monday + timedelta(days=i) for i in range(7)]


def day_bounds(days: list[date], tz: tzinfo) -> list[datetime]:
    """The UTC start of each of `days` (consecutive) in `tz`, and the end of the last."""
    return [local_midnight(d, tz) for d in days] + [local_midnight(days[-1] + timedelta(1), tz)]


def week_label(moment: datetime, tz: tzinfo = UTC) -> str:
    year, week, _ = moment.astimezone(tz).isocalendar()
    return f"{year}-W{week:02d}"


def last_complete_week(now: datetime, tz: tzinfo = UTC) -> str:
    return week_label(now.astimezone(tz) - timedelta(days=7), tz)


def last_days(now: datetime, tz: tzinfo, count: int = 7) -> list[date]:
    """The `count` local days ending with today (in `tz`), oldest first."""
    today = now.astimezone(tz).date()
    return [today - timedelta(days=count - 1 - i) for i in range(count)]


def local_iso(stamp: str, tz: tzinfo) -> str:
    """A stored UTC time ('2026-11-29T23:30:00Z') in `tz`: '2026-11-30T08:30:00+09:00'
    (a trailing Z where the offset is zero)."""
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(tz)
    except ValueError:
        return stamp
    text = moment.isoformat(timespec="seconds")
    return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text
