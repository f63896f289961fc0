"""The daemon's weekly digest: the last complete week as CSV and Markdown files in a folder,
never written over an earlier file; on start, the one it missed while it was not running."""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from pathlib import Path

import sqlite_utils

from monitor.digest import build_digest, write_digest
from monitor.weeks import last_complete_week, zone

log = logging.getLogger("monitor.digest")
# (format, suffix, byte order mark): the CSV gets one, so Excel reads it as UTF-8 too
FILES = (("csv", ".csv", True), ("markdown", ".md", False))
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class WrittenDigest:
    week: str
    stories: int
    paths: tuple[Path, ...]
    renamed: bool  # an earlier digest of the week was there: these carry a -2, -3 ... suffix


def free_stem(folder: Path, week: str) -> str:
    """'digest-2026-W48', else 'digest-2026-W48-2', '-3' ...: the first no file uses yet."""
    for number in itertools.count(1):
        stem = f"digest-{week}" if number == 1 else f"digest-{week}-{number}"
        if not any((folder / f"{stem}{suffix}").exists() for _, suffix, _ in FILES):
            return stem
    raise AssertionError("unreachable")


def write_week_files(
    db: sqlite_utils.Database, folder: Path, week: str, timezone: str
) -> WrittenDigest:
    """`week`'s digest (every flagged or relevant story, not-relevant left out) into `folder`
    as digest-WEEK.csv and digest-WEEK.md, or under the next free suffix. Files are created
    exclusively: an existing one is never overwritten, even by a racing writer."""
    digest = build_digest(db, week, timezone)
    folder.mkdir(parents=True, exist_ok=True)
    stem = free_stem(folder, week)
    paths = []
    for fmt, suffix, bom in FILES:
        path = folder / f"{stem}{suffix}"
        with path.open("x", encoding="utf-8", newline="") as handle:
            write_digest(digest, handle, fmt, bom=bom)
        paths.append(path)
    return WrittenDigest(week, len(digest.rows), tuple(paths), stem != f"digest-{week}")


def write_last_week(
    db: sqlite_utils.Database, folder: Path, now: datetime, timezone: str
) -> WrittenDigest:
    """The scheduled job's work: the last complete week before `now` (weeks in `timezone`)."""
    week = last_complete_week(now, zone(timezone))
    written = write_week_files(db, folder, week, timezone)
    names = ", ".join(path.name for path in written.paths)
    if written.renamed:
        log.warning(
            "digest %s: an earlier digest of that week is in %s; kept it, wrote %s",
            week, folder, names,
        )  # fmt: skip
    log.info("digest %s: %d stories, wrote %s in %s", week, written.stories, names, folder)
    return written


def last_due(now: datetime, day: str, at: time, tz: tzinfo) -> datetime:
    """The latest moment at or before `now` when `day` (mon .. sun) `at` came round in `tz`."""
    local = now.astimezone(tz)
    back = (local.weekday() - DAYS.index(day)) % 7
    due = datetime.combine(local.date() - timedelta(days=back), at, tzinfo=tz)
    return due - timedelta(days=7) if due > local else due


def week_written(folder: Path, week: str) -> bool:
    """Whether `folder` holds a CSV digest of `week` (under any suffix)."""
    return (folder / f"digest-{week}.csv").exists() or any(folder.glob(f"digest-{week}-*.csv"))


def catch_up(
    db: sqlite_utils.Database,
    folder: Path,
    now: datetime,
    day: str,
    at: time,
    timezone: str,
) -> WrittenDigest | None:
    """On start: the digest the daemon should have written at its last `day` `at` but did
    not (it was not running), written now; None when it is there already."""
    tz = zone(timezone)
    week = last_complete_week(last_due(now, day, at, tz), tz)
    if week_written(folder, week):
        return None
    written = write_week_files(db, folder, week, timezone)
    names = ", ".join(path.name for path in written.paths)
    log.warning(
        "digest %s: not written at %s %s (the daemon was not running); wrote %s in %s now",
        week, day, at.strftime("%H:%M"), names, folder,
    )  # fmt: skip
    return written
