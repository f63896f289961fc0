"""The weekly digest: ISO weeks, rows for a week, spreadsheet-safe CSV."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import sqlite_utils

import storage
from monitor.normalise import iso
from monitor.text import one_line, strip_controls
from monitor.why import format_why

if TYPE_CHECKING:
    from monitor.audit import MissedEstimate

DIGEST_COLUMNS = (
    "week",
    "published",
    "source",
    "title",
    "url",
    "labels",
    "score",
    "verdict",
    "note",
    "why",
)
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class WeekError(ValueError):
    pass


def parse_week(text: str) -> tuple[datetime, datetime]:
    """'2026-W48' -> (Monday 00:00 UTC, next Monday 00:00 UTC)."""
    match = _WEEK.match(text.strip())
    if not match:
        raise WeekError(f'expected an ISO week like "2026-W48", got "{text}"')
    try:
        monday = date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    except ValueError as exc:
        raise WeekError(f'"{text}" is not a week of that year') from exc
    start = datetime(monday.year, monday.month, monday.day, tzinfo=UTC)
    return start, start + timedelta(days=7)


def week_label(moment: datetime) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def last_complete_week(now: datetime) -> str:
    return week_label(now - timedelta(days=7))


def csv_safe(value: Any) -> str:
    """A cell a spreadsheet shows as text: formula-like cells get a leading apostrophe."""
    text = "" if value is None else str(value)
    text = strip_controls(text.replace("\r\n", "\n"))
    if text.startswith(_FORMULA_PREFIXES):
        return "'" + text
    return text


def digest_rows(
    db: sqlite_utils.Database, week: str, *, include_rejected: bool = False
) -> list[dict[str, Any]]:
    start, end = parse_week(week)
    rows = storage.week_digest(db, iso(start), iso(end), include_rejected=include_rejected)
    return [
        {
            "week": week,
            "published": row["published"] or row["fetched"],
            "source": one_line(row["source"]),
            "title": one_line(row["title"]),
            "url": row["url"] or "",
            "labels": ";".join(row["labels"]),
            "score": f"{row['score']:.3f}" if row["score"] is not None else "",
            "verdict": row["verdict"] or "unreviewed",
            "note": row["note"] or "",
            "why": one_line(format_why(row["why"])),
        }
        for row in rows
    ]


def write_csv(
    rows: Iterable[dict[str, Any]], out: TextIO, columns: Sequence[str] = DIGEST_COLUMNS
) -> int:
    """RFC 4180 CSV (CRLF line ends, minimal quoting) with a header row; returns data rows."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow([csv_safe(row.get(column)) for column in columns])
        count += 1
    return count


def csv_text(rows: Iterable[dict[str, Any]], columns: Sequence[str] = DIGEST_COLUMNS) -> str:
    buffer = io.StringIO()
    write_csv(rows, buffer, columns)
    return buffer.getvalue()


def write_summary(
    path: str | Path, week: str, stories: int, estimate: MissedEstimate | None
) -> None:
    """The digest's summary as JSON: the week, its story count and the missed-stories
    estimate (null without an audit of that week). Kept out of the CSV, which holds stories."""
    document = {
        "week": week,
        "stories": stories,
        "missed": estimate.as_dict() if estimate is not None else None,
    }
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    Path(path).write_text(text, encoding="utf-8")
