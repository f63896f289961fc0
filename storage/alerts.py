"""Alert deliveries: which stories are due an alert on which channel, and what happened.

A delivery row names the article the alert was about; a story is alerted once per channel,
whichever of its articles first passed the bar."""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from storage.reviews import LATEST_REVIEW

CHANNELS = ("command", "smtp")

_ALERT_COLUMNS = """
    a.id as article_id, a.story_id, a.title, a.url, a.published, a.fetched, f.name as outlet,
    c.score, c.labels, c.score_defectors, c.score_repatriation, c.score_border
"""
_ALERT_JOINS = """
    from articles a
    join feeds f on f.id = a.feed_id
    join classifications c on c.id = a.classification_id
"""
# An analyst's "not relevant" cancels an alert not yet sent.
_NOT_REJECTED = f"""
    not exists (
        select 1 from reviews r where r.id = {LATEST_REVIEW} and r.verdict = 'not-relevant'
    )
"""


def enable_alert_channels(db: sqlite_utils.Database, channels: list[str], now: str) -> None:
    """Remember when each channel was first configured (a later call keeps the first time)."""
    with db.conn:
        for channel in channels:
            db.execute(
                "insert or ignore into alert_channels (channel, enabled_at) values (?, ?)",
                [channel, now],
            )


def due_alerts(
    db: sqlite_utils.Database, channel: str, min_score: float, now: str, recent: str
) -> list[dict[str, Any]]:
    """Articles owed an alert on `channel`, oldest first: retries whose time has come, and
    flagged articles scoring at least `min_score` whose story has no delivery yet on this
    channel (one article per story, its highest-scoring), fetched since the channel was first
    enabled or since `recent` (never the whole archive)."""
    _check_channel(channel)
    new = f"""
        select {_ALERT_COLUMNS}, 0 as attempts {_ALERT_JOINS}
        where c.flagged = 1 and c.score >= ?
          and not exists (
              select 1 from alert_deliveries d join articles seen on seen.id = d.article_id
              where seen.story_id = a.story_id and d.channel = ?
          )
          and (a.fetched >= ? or a.fetched >= (
              select enabled_at from alert_channels where channel = ?
          ))
          and {_NOT_REJECTED}
    """
    retry = f"""
        select {_ALERT_COLUMNS}, d.attempts {_ALERT_JOINS}
        join alert_deliveries d on d.article_id = a.id and d.channel = ?
        where d.status = 'pending' and d.next_attempt <= ? and {_NOT_REJECTED}
    """
    sql = f"{new} union all {retry} order by fetched, article_id"
    rows = [
        _decode(row) for row in db.query(sql, [min_score, channel, recent, channel, channel, now])
    ]
    best: dict[int, dict[str, Any]] = {}  # story -> its highest-scoring new article
    for row in rows:
        if row["attempts"] == 0:
            kept = best.get(row["story_id"])
            if kept is None or row["score"] > kept["score"]:
                best[row["story_id"]] = row
    return [row for row in rows if row["attempts"] > 0 or best[row["story_id"]] is row]


def record_alert(
    db: sqlite_utils.Database,
    article_id: int,
    channel: str,
    now: str,
    *,
    error: str | None = None,
    retry_at: str | None = None,
) -> str:
    """Store one delivery attempt; returns the new status. A failure with `retry_at` stays
    pending until then; a failure without one has given up."""
    _check_channel(channel)
    if error is None:
        status, sent_at, retry_at = "sent", now, None
    else:
        status, sent_at = ("pending" if retry_at else "failed"), None
    with db.conn:
        db.execute(
            """
            insert into alert_deliveries
                (article_id, channel, status, attempts, last_error, next_attempt, sent_at, created)
            values (?, ?, ?, 1, ?, ?, ?, ?)
            on conflict (article_id, channel) do update set
                status = excluded.status, attempts = attempts + 1,
                last_error = excluded.last_error, next_attempt = excluded.next_attempt,
                sent_at = excluded.sent_at
            """,
            [article_id, channel, status, error, retry_at, sent_at, now],
        )
    return status


def alert_deliveries(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Every delivery row, by article then channel."""
    return list(db.query("select * from alert_deliveries order by article_id, channel"))


def _check_channel(channel: str) -> None:
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {', '.join(CHANNELS)}, got {channel!r}")


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    row["labels"] = json.loads(row["labels"] or "[]")
    row["scores"] = {
        label: row.pop(f"score_{label}")
        for label in ("defectors", "repatriation", "border")
        if row.get(f"score_{label}") is not None
    }
    return row
