"""Read-side queries: the review queue, one article in detail, a week's digest."""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

_ARTICLE_COLUMNS = """
    a.id, a.title, a.summary, a.url, a.published, a.fetched, a.language,
    coalesce(a.published, a.fetched) as sort_time,
    f.name as source,
    c.score, c.score_defectors, c.score_repatriation, c.score_border,
    c.labels as model_labels, c.flagged, c.model_version,
    r.id as review_id, r.verdict, r.labels as review_labels, r.note, r.reviewed_at
"""

_ARTICLE_JOINS = """
    from articles a
    join feeds f on f.id = a.feed_id
    left join classifications c on c.id = a.classification_id
    left join reviews r on r.id = (
        select max(r2.id) from reviews r2 where r2.article_id = a.id
    )
"""


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    row["model_labels"] = json.loads(row["model_labels"] or "[]")
    row["review_labels"] = json.loads(row["review_labels"] or "[]")
    row["labels"] = row["review_labels"] if row["verdict"] == "relevant" else row["model_labels"]
    row["scores"] = {
        label: row[f"score_{label}"]
        for label in ("defectors", "repatriation", "border")
        if row[f"score_{label}"] is not None
    }
    return row


def review_queue(
    db: sqlite_utils.Database, *, limit: int | None = None, include_reviewed: bool = False
) -> list[dict[str, Any]]:
    """Flagged articles without a verdict, highest score first, newest first on ties."""
    where = "where c.flagged = 1" + ("" if include_reviewed else " and r.id is null")
    sql = (
        f"select {_ARTICLE_COLUMNS} {_ARTICLE_JOINS} {where} order by c.score desc, sort_time desc"
    )
    if limit:
        sql += f" limit {int(limit)}"
    return [_decode(row) for row in db.query(sql)]


def article_view(db: sqlite_utils.Database, article_id: int) -> dict[str, Any] | None:
    """One article with its source, scores and current verdict."""
    sql = f"select {_ARTICLE_COLUMNS} {_ARTICLE_JOINS} where a.id = ?"
    rows = [_decode(row) for row in db.query(sql, [article_id])]
    return rows[0] if rows else None


def week_digest(
    db: sqlite_utils.Database, start: str, end: str, *, include_rejected: bool = False
) -> list[dict[str, Any]]:
    """Flagged (or analyst-confirmed) articles published in [start, end), oldest first.

    Articles without a usable publication date count by the time we first fetched them.
    Articles an analyst marked not relevant are left out unless `include_rejected`.
    """
    where = "where coalesce(a.published, a.fetched) >= ? and coalesce(a.published, a.fetched) < ?"
    where += " and (c.flagged = 1 or r.verdict = 'relevant')"
    if not include_rejected:
        where += " and (r.verdict is null or r.verdict != 'not-relevant')"
    sql = f"select {_ARTICLE_COLUMNS} {_ARTICLE_JOINS} {where} order by sort_time, a.id"
    return [_decode(row) for row in db.query(sql, [start, end])]
