"""The weekly summary of the digest and `monitor status`: stories per label per day as
sparklines, and the outlets that carried the most stories."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlite_utils

import storage
from monitor.normalise import iso
from monitor.text import one_line
from monitor.weeks import day_bounds, zone

LABEL_ORDER = ("defectors", "repatriation", "border")
BARS = "▁▂▃▄▅▆▇█"  # ▁ is none; ▂ to █ scale up to the busiest day of any row
TOP_OUTLETS = 5
TOTAL_ROW = "stories"


@dataclass(frozen=True)
class StorySummary:
    timezone: str
    days: tuple[date, ...]
    stories: tuple[int, ...]  # per day
    labels: dict[str, tuple[int, ...]]  # label -> stories per day
    outlets: tuple[tuple[str, int], ...]  # (feed name, stories), most first

    def as_dict(self) -> dict[str, Any]:
        return {
            "timezone": self.timezone,
            "days": [day.isoformat() for day in self.days],
            "stories": list(self.stories),
            "labels": {label: list(counts) for label, counts in self.labels.items()},
            "outlets": [{"name": name, "stories": count} for name, count in self.outlets],
        }


def story_summary(
    db: sqlite_utils.Database,
    days: Sequence[date],
    timezone: str,
    *,
    status: str = "all",
    include_rejected: bool = False,
) -> StorySummary:
    """The summary of the stories (chosen as the digest chooses them) first seen on `days`,
    consecutive local days in `timezone`."""
    bounds = [iso(moment) for moment in day_bounds(list(days), zone(timezone))]
    chosen = {"status": status, "include_rejected": include_rejected}
    counts = storage.label_day_counts(db, bounds, **chosen)
    found = {label for day in counts for label in day["labels"]}
    names = [*LABEL_ORDER, *sorted(found - set(LABEL_ORDER))]
    outlets = storage.top_outlets(db, bounds[0], bounds[-1], limit=TOP_OUTLETS, **chosen)
    return StorySummary(
        timezone=timezone,
        days=tuple(days),
        stories=tuple(day["stories"] for day in counts),
        labels={name: tuple(day["labels"].get(name, 0) for day in counts) for name in names},
        outlets=tuple(outlets),
    )


def sparkline(values: Sequence[int], top: int) -> str:
    """One bar per value: ▁ for none, else ▂ (a few) to █ (`top`)."""
    top = max(top, 1)
    return "".join(BARS[0] if v <= 0 else BARS[1 + min(6, round(6 * v / top))] for v in values)


def sparkline_lines(summary: StorySummary) -> list[str]:
    """A header of weekday initials, then a sparkline and a total per label and for all
    stories (a story with two labels counts in both rows). Holds no feed text."""
    rows = {one_line(label).replace("`", "'"): counts for label, counts in summary.labels.items()}
    rows[TOTAL_ROW] = summary.stories
    width = max(len(name) for name in rows) + 2
    top = max((v for counts in summary.labels.values() for v in counts), default=0)
    initials = "".join(day.strftime("%a")[0] for day in summary.days)
    lines = [" " * width + initials]
    for name, counts in rows.items():
        scale = max(summary.stories, default=0) if name == TOTAL_ROW else top
        lines.append(f"{name:<{width}}{sparkline(counts, scale)}  {sum(counts)}")
    return lines


def period(summary: StorySummary) -> str:
    """'Mon 2026-11-23 – Sun 2026-11-29 (Asia/Seoul)'."""
    first, last = summary.days[0], summary.days[-1]
    return f"{first:%a %Y-%m-%d} – {last:%a %Y-%m-%d} ({summary.timezone})"


def format_summary(summary: StorySummary, title: str) -> str:
    """The summary for a terminal: `title`, sparklines, the most active outlets."""
    if not any(summary.stories):
        return f"{title}, {period(summary)}: none"
    lines = [f"{title}, {period(summary)}:", *sparkline_lines(summary)]
    lines.append("most active outlets: " + outlets_text(summary, one_line))
    return "\n".join(lines)


def outlets_text(summary: StorySummary, escape: Callable[[str], str]) -> str:
    """'Daily NK 5, Yonhap 3' with each name passed through `escape`."""
    return ", ".join(f"{escape(name)} {count}" for name, count in summary.outlets) or "none"
