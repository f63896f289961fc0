"""Read-side queries: the story review queue with its filters, counts and outlets."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlite_utils

from storage.classifications import SCORED_LABELS, decode_why
from storage.reviews import CURRENT_LABELS, LATEST_STORY_REVIEW, RELEVANT_VERDICTS
from storage.stories import chunks

ORDERS = ("score", "uncertain", "date")
STATUSES = ("unreviewed", "relevant", "not-relevant", "escalated", "all")


@dataclass(frozen=True)
class StoryFilters:
    """Which stories the review queue holds, and in what order.

    `status`: unreviewed (no verdict yet, or a flagged article changed since), a verdict, or
    all. The other fields narrow it (None or empty: no restriction): `labels` any of these
    (the analyst's once a story is relevant or escalated, else the model's), `feed` carried by
    the feed of that name, `language` holds an article in it, `since`/`until` first seen on
    or after / on or before that day (UTC), `audit` holds an article `monitor audit` drew.
    """

    status: str = "unreviewed"
    labels: tuple[str, ...] = ()
    feed: str | None = None
    language: str | None = None
    since: date | None = None
    until: date | None = None
    order: str = "score"
    audit: bool = False

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {self.status!r}")
        if self.order not in ORDERS:
            raise ValueError(f"order must be one of {', '.join(ORDERS)}, got {self.order!r}")
        unknown = [label for label in self.labels if label not in SCORED_LABELS]
        if unknown:
            raise ValueError(f"unknown label {unknown[0]!r}: one of {', '.join(SCORED_LABELS)}")


_STORY_ORDER_BY = {
    "score": "s.score desc, s.first_time desc, s.id",
    "date": "s.first_time desc, s.id desc",
    "uncertain": "s.margin is null, abs(s.margin), s.score desc, s.id",
}
# One row per story: its summary columns, its best-scoring article, its first outlet and its
# current verdict.
_STORY_COLUMNS = """
    s.id, s.articles, s.outlets, s.first_time, s.first_article_id, s.score, s.margin,
    s.flagged, s.updated, s.last_joined,
    a.id as article_id, a.title, a.summary, a.url, a.published, a.fetched, a.language,
    f.name as source,
    c.score_defectors, c.score_repatriation, c.score_border, c.labels as model_labels,
    c.model_version, c.why,
    r.id as review_id, r.verdict, r.labels as review_labels, r.note, r.reviewed_at
"""
_BEST_ARTICLE_JOINS = """
    join articles a on a.id = coalesce(s.best_article_id, s.first_article_id)
    left join classifications c on c.id = a.classification_id
"""
_LATEST_REVIEW_JOIN = f"left join reviews r on r.id = {LATEST_STORY_REVIEW}"
_STORY_JOINS = f"""
    from stories s {_BEST_ARTICLE_JOINS} {_LATEST_REVIEW_JOIN}
    left join feeds f on f.id = s.first_feed_id
"""
_IN_AUDIT = (
    "s.id in (select x.story_id from audit_samples au join articles x on x.id = au.article_id)"
)
_LATEST_WITH_VERDICT = """s.id in (
    select r3.story_id from reviews r3 where r3.verdict = ?
    and r3.id = (select max(r4.id) from reviews r4 where r4.story_id = r3.story_id))"""


def _scope(filters: StoryFilters) -> str:
    """The stories waiting for a verdict in this view: flagged ones; for the uncertain order
    unflagged ones with a margin too; for an audit, the drawn ones."""
    if filters.audit:
        return _IN_AUDIT
    if filters.order == "uncertain":
        return "(s.flagged = 1 or s.margin is not null)"
    return "s.flagged = 1"


def _status_clause(filters: StoryFilters, status: str) -> tuple[list[str], list[Any]]:
    if status == "unreviewed":
        return [_scope(filters), "(r.id is null or s.updated > r.reviewed_at)"], []
    if status == "all":
        reviewed = "s.id in (select story_id from reviews)"
        return [_IN_AUDIT if filters.audit else f"({_scope(filters)} or {reviewed})"], []
    return [_LATEST_WITH_VERDICT, *([_IN_AUDIT] if filters.audit else [])], [status]


def _story_where(filters: StoryFilters, status: str) -> tuple[str, list[Any]]:
    clauses, params = _status_clause(filters, status)
    if filters.labels:
        # stored labels are JSON lists of known names: a quoted name is found as a substring
        clauses.append(
            "(" + " or ".join([f"instr({CURRENT_LABELS}, ?)"] * len(filters.labels)) + ")"
        )
        params += [f'"{label}"' for label in filters.labels]
    if filters.feed is not None:
        clauses.append(
            "s.id in (select x.story_id from sightings g join articles x on x.id = g.article_id"
            " where g.feed_id = (select id from feeds where name = ?))"
        )
        params.append(filters.feed)
    if filters.language is not None:
        clauses.append("s.id in (select x.story_id from articles x where x.language = ?)")
        params.append(filters.language)
    if filters.since is not None:
        clauses.append("s.first_time >= ?")
        params.append(filters.since.isoformat())
    if filters.until is not None:
        clauses.append("s.first_time < ?")
        params.append((filters.until + timedelta(days=1)).isoformat())
    return " and ".join(clauses), params


def _pick(filters: StoryFilters, status: str) -> tuple[str, list[Any]]:
    """The FROM and WHERE selecting the stories `s` in `status` under `filters`: only the
    joins the conditions need, so that counting and choosing a page stay cheap."""
    joins = _LATEST_REVIEW_JOIN
    if filters.labels:
        joins = f"{joins} {_BEST_ARTICLE_JOINS}"
    where, params = _story_where(filters, status)
    return f"from stories s {joins} where {where}", params


def story_queue(
    db: sqlite_utils.Database, filters: StoryFilters | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """One row per story in `filters` (default: flagged stories waiting for a verdict, highest
    score first), in its order: ``score`` highest first, ``date`` newest first, ``uncertain``
    nearest the flag threshold first (stories scored before margins were stored last).

    Each row carries the story's summary columns (id, articles, outlets, first_time, score,
    margin), its best article (article_id, title, summary, url, language, scores, why), its
    first outlet (source), its current verdict (verdict, labels, note, reviewed_at) and a
    `marker`: "updated" when a flagged article changed after the verdict, "new" when articles
    joined it after the verdict, else None.
    """
    filters = filters or StoryFilters()
    where, params = _pick(filters, filters.status)
    sql = f"select s.id {where} order by {_STORY_ORDER_BY[filters.order]}"
    if limit:
        sql += f" limit {int(limit)}"
    return story_rows(db, [row[0] for row in db.execute(sql, params).fetchall()])


def queue_counts(db: sqlite_utils.Database, filters: StoryFilters | None = None) -> dict[str, int]:
    """{status: number of stories} for every status but "all", with the other filters applied."""
    filters = filters or StoryFilters()
    counts = {}
    for status in STATUSES[:-1]:
        where, params = _pick(filters, status)
        counts[status] = int(db.execute(f"select count(*) {where}", params).fetchone()[0])
    return counts


def story_rows(db: sqlite_utils.Database, story_ids: Sequence[int]) -> list[dict[str, Any]]:
    """The queue rows of these stories, in the order given (unknown ids left out)."""
    found: dict[int, dict[str, Any]] = {}
    for chunk in chunks(story_ids):
        sql = (
            f"select {_STORY_COLUMNS} {_STORY_JOINS} where s.id in ({', '.join('?' * len(chunk))})"
        )
        found.update((row["id"], _decode_story(row)) for row in db.query(sql, chunk))
    return [found[story_id] for story_id in story_ids if story_id in found]


def story_outlets(
    db: sqlite_utils.Database, story_ids: Iterable[int]
) -> dict[int, list[dict[str, Any]]]:
    """{story id: every outlet that carried one of its articles, earliest first}: article_id,
    feed (name), time (published, else when the feed first showed it), first_seen, title, url."""
    found: dict[int, list[dict[str, Any]]] = {}
    for chunk in chunks(list(story_ids)):
        sql = f"""
            select a.story_id, a.id as article_id, fx.name as feed,
                   coalesce(a.published, g.first_seen) as time, g.first_seen, a.title, a.url
            from articles a join sightings g on g.article_id = a.id
            join feeds fx on fx.id = g.feed_id
            where a.story_id in ({", ".join("?" * len(chunk))})
            order by a.story_id, time, fx.name
        """
        for row in db.query(sql, chunk):
            found.setdefault(row.pop("story_id"), []).append(row)
    return found


def _decode_story(row: dict[str, Any]) -> dict[str, Any]:
    row = _decode(row)
    reviewed = row["reviewed_at"]
    row["marker"] = None
    if reviewed and row["updated"] and row["updated"] > reviewed:
        row["marker"] = "updated"
    elif reviewed and row["last_joined"] and row["last_joined"] > reviewed:
        row["marker"] = "new"
    return row


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    row["model_labels"] = json.loads(row["model_labels"] or "[]")
    row["review_labels"] = json.loads(row["review_labels"] or "[]")
    relevant = row["verdict"] in RELEVANT_VERDICTS
    row["labels"] = row["review_labels"] if relevant else row["model_labels"]
    row["why"] = decode_why(row["why"])
    row["scores"] = {
        label: row[f"score_{label}"]
        for label in ("defectors", "repatriation", "border")
        if row[f"score_{label}"] is not None
    }
    return row
