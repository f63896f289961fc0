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
    adaptive: bool = False
    min_interval_s: int | None = None
    max_interval_s: int | None = None
    ignore_validators: bool = False
    encoding: str | None = None


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
    body_hash: str | None = None
    ignore_validators: bool = False
    adaptive: bool = False
    min_interval_s: int | None = None
    max_interval_s: int | None = None
    server_min_interval_s: int | None = None
    failure_score: float = 0.0
    paused: bool = False
    redirect_url: str | None = None
    encoding: str | None = None


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
        body_hash=row["body_hash"],
        ignore_validators=bool(row["ignore_validators"]),
        adaptive=bool(row["adaptive"]),
        min_interval_s=row["min_interval_s"],
        max_interval_s=row["max_interval_s"],
        server_min_interval_s=row["server_min_interval_s"],
        failure_score=row["failure_score"] or 0.0,
        paused=bool(row["paused"]),
        redirect_url=row["redirect_url"],
        encoding=row["encoding"],
    )


def sync_feeds(db: sqlite_utils.Database, specs: Sequence[FeedSpec], now: str) -> None:
    """Make the feeds table match the configuration, keeping each feed's polling state.

    Feeds are matched by name. A feed whose configured URL changed starts afresh at that URL
    (validators, body hash, pause and redirect state belonged to the old one); otherwise a URL
    moved by a permanent redirect is kept. Feeds no longer configured are disabled, never
    deleted: their articles and reviews stay.
    """
    with db.atomic():
        existing = {row["name"]: row for row in db["feeds"].rows}
        for spec in specs:
            values = {
                "language": spec.language,
                "tags": json.dumps(list(spec.tags), ensure_ascii=False),
                "interval_s": spec.interval_s,
                "enabled": int(spec.enabled),
                "adaptive": int(spec.adaptive),
                "min_interval_s": spec.min_interval_s,
                "max_interval_s": spec.max_interval_s,
                "ignore_validators": int(spec.ignore_validators),
                "encoding": spec.encoding,
            }
            old = existing.get(spec.name)
            if old is None:
                db["feeds"].insert(
                    {"name": spec.name, "url": spec.url, "config_url": spec.url, "created": now}
                    | values
                )
                continue
            if old["config_url"] != spec.url:
                values.update(_fresh_start(spec.url))
            db["feeds"].update(old["id"], values)
        configured = {spec.name for spec in specs}
        for name, row in existing.items():
            if name not in configured and row["enabled"]:
                db["feeds"].update(row["id"], {"enabled": 0})


def _fresh_start(url: str) -> dict[str, Any]:
    return {
        "url": url,
        "config_url": url,
        "etag": None,
        "last_modified": None,
        "body_hash": None,
        "next_poll": None,
        "redirect_url": None,
        "paused": 0,
        "pause_reason": None,
        "failure_score": 0.0,
        "consecutive_failures": 0,
    }


def enabled_feeds(db: sqlite_utils.Database) -> list[FeedState]:
    """Feeds to poll: enabled in feeds.yaml and not paused."""
    return [
        _state(r) for r in db["feeds"].rows_where("enabled = 1 and paused = 0", order_by="name")
    ]


def due_feeds(db: sqlite_utils.Database, now: str) -> list[FeedState]:
    """Enabled, unpaused feeds never polled or whose next poll has come, most overdue first."""
    rows = db["feeds"].rows_where(
        "enabled = 1 and paused = 0 and (next_poll is null or next_poll <= ?)",
        [now],
        order_by="coalesce(next_poll, '') , name",
    )
    return [_state(r) for r in rows]


def get_feed(db: sqlite_utils.Database, name: str) -> FeedState | None:
    rows = list(db["feeds"].rows_where("name = ?", [name]))
    return _state(rows[0]) if rows else None


class FeedNotFound(LookupError):
    pass


def set_paused(db: sqlite_utils.Database, name: str, reason: str | None) -> None:
    """Pause a feed with a reason, or (reason None) resume it to be polled at once."""
    feed = get_feed(db, name)
    if feed is None:
        raise FeedNotFound(f"no feed named {name!r}")
    values: dict[str, Any] = {"paused": int(reason is not None), "pause_reason": reason}
    if reason is None:
        values.update(failure_score=0.0, consecutive_failures=0, next_poll=None)
    with db.atomic():
        db["feeds"].update(feed.id, values)


def feed_health(db: sqlite_utils.Database, since: str) -> list[dict[str, Any]]:
    """Per-feed health for `monitor status`: polling state, articles stored, new since `since`."""
    sql = """
        select f.name, f.url, f.config_url, f.enabled, f.paused, f.pause_reason, f.last_polled,
               f.last_status, f.last_success, f.last_error, f.last_warning,
               f.consecutive_failures, f.failure_score, f.next_poll,
               (select count(*) from sightings s where s.feed_id = f.id) as articles,
               (select count(*) from sightings s where s.feed_id = f.id and s.first_seen >= :since)
                   as new_articles
        from feeds f order by f.enabled desc, f.name
    """
    return list(db.query(sql, {"since": since}))


def new_articles_since(db: sqlite_utils.Database, feed_id: int, since: str) -> int:
    """Articles this feed brought that we first saw at or after `since`."""
    sql = "select count(*) from sightings where feed_id = ? and first_seen >= ?"
    return int(db.execute(sql, [feed_id, since]).fetchone()[0])
