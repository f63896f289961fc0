"""The weekly digest: one row per story of an ISO week (in the configured time zone), as CSV
for spreadsheets or as Markdown with the week's summary on top."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import sqlite_utils

import storage
from monitor.audit import MissedEstimate, estimate_for_week, format_estimate, missed_estimates
from monitor.export import markdown_table, md_escape, write_csv
from monitor.normalise import iso
from monitor.summary import StorySummary, outlets_text, period, sparkline_lines, story_summary
from monitor.text import one_line
from monitor.weeks import local_iso, parse_week, week_days, zone
from monitor.why import format_why

DIGEST_COLUMNS = (
    "week",
    "first_published",
    "first_outlet",
    "outlets",
    "title",
    "url",
    "labels",
    "score",
    "verdict",
    "why",
    "note",
)
DIGEST_FORMATS = ("csv", "markdown")
PLAIN_COLUMNS = ("week", "first_published", "outlets", "score")  # dates and numbers
BOM = "\ufeff"
CHOSEN = {
    "all": "flagged by the model or marked relevant; stories marked not relevant left out",
    "relevant": "marked relevant or escalated by an analyst",
    "unreviewed": "flagged by the model, not reviewed yet",
}


@dataclass(frozen=True)
class Digest:
    week: str
    timezone: str
    status: str
    include_rejected: bool
    rows: list[dict[str, Any]]
    summary: StorySummary
    audited: bool  # any audit at all: then the estimate (None: no audit of this week) is shown
    estimate: MissedEstimate | None

    def chosen(self) -> str:
        if self.status == "all" and self.include_rejected:
            return "flagged by the model or reviewed, stories marked not relevant included"
        return CHOSEN[self.status]


def build_digest(
    db: sqlite_utils.Database,
    week: str,
    timezone: str = "UTC",
    *,
    status: str = "all",
    include_rejected: bool = False,
) -> Digest:
    """The stories first seen in `week` (Monday 00:00 to Monday 00:00 in `timezone`) and their
    summary; raises WeekError for a malformed week."""
    tz = zone(timezone)
    start, end = parse_week(week, tz)
    chosen = {"status": status, "include_rejected": include_rejected}
    stories = storage.week_stories(db, iso(start), iso(end), **chosen)
    estimates = missed_estimates(db)
    return Digest(
        week=week,
        timezone=timezone,
        status=status,
        include_rejected=include_rejected,
        rows=[_row(week, story, timezone) for story in stories],
        summary=story_summary(db, week_days(week), timezone, **chosen),
        audited=bool(estimates),
        estimate=estimate_for_week(estimates, week),
    )


def _row(week: str, story: dict[str, Any], timezone: str) -> dict[str, Any]:
    score = story["score"]
    return {
        "week": week,
        "first_published": local_iso(story["first_time"], zone(timezone)),
        "first_outlet": one_line(story["first_outlet"] or ""),
        "outlets": story["outlets"],
        "title": one_line(story["title"] or ""),
        "url": story["url"] or "",
        "labels": ";".join(story["labels"]),
        "score": f"{score:.3f}" if score is not None else "",
        "verdict": story["verdict"] or "unreviewed",
        "why": one_line(format_why(story["why"])),
        "note": story["note"] or "",
    }


def write_digest(digest: Digest, out: TextIO, fmt: str = "csv", *, bom: bool = False) -> int:
    """The digest as CSV (UTF-8, RFC 4180, CRLF; `bom`: a byte order mark first, for
    spreadsheets that need one) or Markdown; returns the number of stories."""
    if fmt == "markdown":
        out.write(digest_markdown(digest))
        return len(digest.rows)
    if fmt != "csv":
        raise ValueError(f"format must be one of {', '.join(DIGEST_FORMATS)}, got {fmt!r}")
    if bom:
        out.write(BOM)
    return write_csv(digest.rows, out, DIGEST_COLUMNS)


def digest_markdown(digest: Digest) -> str:
    """A heading, the summary (sparklines per label, the most active outlets, the missed-stories
    estimate), then the stories as a table; feed text is escaped, never read as Markdown."""
    count = len(digest.rows)
    lines = [
        f"# Digest {digest.week}",
        "",
        f"{period(digest.summary)}: {count} {'story' if count == 1 else 'stories'},"
        f" {digest.chosen()}.",
        "",
        "## Summary",
        "",
    ]
    if any(digest.summary.stories):
        lines += ["Stories per label per day (▁ none, █ the busiest day):", "", "```text"]
        lines += [*sparkline_lines(digest.summary), "```", ""]
        lines += ["Most active outlets: " + outlets_text(digest.summary, md_escape), ""]
    else:
        lines += ["No stories this week.", ""]
    if digest.audited:
        lines += [md_escape(format_estimate(digest.estimate, digest.week)), ""]
    lines += ["## Stories", ""]
    lines.append(
        markdown_table(digest.rows, DIGEST_COLUMNS, PLAIN_COLUMNS) if digest.rows else "No stories."
    )
    return "\n".join(lines) + "\n"


def write_summary(path: str | Path, digest: Digest) -> None:
    """The digest's summary as JSON: the week, its story count, the summary, and the
    missed-stories estimate (null without an audit of that week). Kept out of the CSV."""
    document = {
        "week": digest.week,
        "timezone": digest.timezone,
        "status": digest.status,
        "stories": len(digest.rows),
        "missed": digest.estimate.as_dict() if digest.estimate is not None else None,
        "summary": digest.summary.as_dict(),
    }
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    Path(path).write_text(text, encoding="utf-8")
