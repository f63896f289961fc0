"""The feeds table: the configured feeds and their polling state."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils


@dataclass(frozen=True)
class FeedSpec:
    """A feed as configured in feeds.yaml."""

    name: str
    url: str
    interval_s: int
    language: str | None = None
    tags: tuple[str, ...] = ()
    enabled: bool = True


@dataclass(frozen=True)
class FeedState:
    """A feed with everything the fetcher and the scheduler need."""

    id: int
    name: str
    url: str
    interval_s: int
    language: str | None
    enabled: bool
    etag: str | None = None
    last_modified: str | None = None
    last_success: str | None = None
    last_error: str | None = None
    consecutive_failures: int = 0
    next_poll: str | None = None
    tags: tuple[str, ...] = field(default=())


def _state(row: dict[str, Any]) -> FeedState:
    return FeedState(
        id=row["id"],
        name=row["name"],
        url=row["url"],
        interval_s=row["interval_s"],
        language=row["language"],
        enabled=bool(row["enabled"]),
        etag=row["etag"],
        last_modified=row["last_modified"],
        last_success=row["last_success"],
        last_error=row["last_error"],
        consecutive_failures=row["consecutive_failures"] or 0,
        next_poll=row["next_poll"],
        tags=tuple(json.loads(row["tags"] or "[]")),
    )


def sync_feeds(db: sqlite_utils.Database, specs: Sequence[FeedSpec], now: str) -> None:
    """Make the feeds table match the configuration, keeping each feed's polling state.

    Feeds are matched by name. A feed whose URL changed loses its validators (they belonged
    to the old URL). Feeds no longer configured are disabled, never deleted: their articles
    and reviews stay.
    """
    with db.atomic():
        existing = {row["name"]: row for row in db["feeds"].rows}
        for spec in specs:
            values = {
                "url": spec.url,
                "language": spec.language,
                "tags": json.dumps(list(spec.tags), ensure_ascii=False),
                "interval_s": spec.interval_s,
                "enabled": int(spec.enabled),
            }
            old = existing.get(spec.name)
            if old is None:
                db["feeds"].insert({"name": spec.name, "created": now, **values})
                continue
            if old["url"] != spec.url:
                values.update(etag=None, last_modified=None, next_poll=None)
            db["feeds"].update(old["id"], values)
        configured = {spec.name for spec in specs}
        for name, row in existing.items():
            if name not in configured and row["enabled"]:
                db["feeds"].update(row["id"], {"enabled": 0})


def enabled_feeds(db: sqlite_utils.Database) -> list[FeedState]:
    return [_state(r) for r in db["feeds"].rows_where("enabled = 1", order_by="name")]


def due_feeds(db: sqlite_utils.Database, now: str) -> list[FeedState]:
    """Enabled feeds never polled or whose next poll has come, most overdue first."""
    rows = db["feeds"].rows_where(
        "enabled = 1 and (next_poll is null or next_poll <= ?)",
        [now],
        order_by="coalesce(next_poll, '') , name",
    )
    return [_state(r) for r in rows]


def get_feed(db: sqlite_utils.Database, name: str) -> FeedState | None:
    rows = list(db["feeds"].rows_where("name = ?", [name]))
    return _state(rows[0]) if rows else None


def feed_health(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Per-feed health for `monitor status`: polling state and how many articles it brought."""
    sql = """
        select f.name, f.url, f.enabled, f.last_polled, f.last_status, f.last_success,
               f.last_error, f.last_warning, f.consecutive_failures, f.next_poll,
               (select count(*) from sightings s where s.feed_id = f.id) as articles
        from feeds f order by f.enabled desc, f.name
    """
    return list(db.query(sql))
