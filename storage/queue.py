"""Read-side queries: the review queue, one article in detail, a week's digest."""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from storage.classifications import decode_why

ORDERS = ("score", "uncertain", "date")
_ORDER_BY = {
    "score": "c.score desc, sort_time desc, a.id",
    "date": "sort_time desc, a.id desc",
    # nearest the flag decision first: |max over labels of (score - threshold)|
    "uncertain": "c.margin is null, abs(c.margin), c.score desc, a.id",
}

_ARTICLE_COLUMNS = """
    a.id, a.title, a.summary, a.url, a.published, a.fetched, a.language,
    coalesce(a.published, a.fetched) as sort_time,
    f.name as source,
    c.score, c.score_defectors, c.score_repatriation, c.score_border,
    c.labels as model_labels, c.flagged, c.model_version, c.why, c.margin,
    au.week as audit_week,
    r.id as review_id, r.verdict, r.labels as review_labels, r.note, r.reviewed_at
"""

_ARTICLE_JOINS = """
    from articles a
    join feeds f on f.id = a.feed_id
    left join classifications c on c.id = a.classification_id
    left join audit_samples au on au.article_id = a.id
    left join reviews r on r.id = (
        select max(r2.id) from reviews r2 where r2.story_id = a.story_id
    )
"""


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    row["model_labels"] = json.loads(row["model_labels"] or "[]")
    row["review_labels"] = json.loads(row["review_labels"] or "[]")
    row["labels"] = row["review_labels"] if row["verdict"] == "relevant" else row["model_labels"]
    row["why"] = decode_why(row["why"])
    row["scores"] = {
        label: row[f"score_{label}"]
        for label in ("defectors", "repatriation", "border")
        if row[f"score_{label}"] is not None
    }
    return row


def review_queue(
    db: sqlite_utils.Database,
    *,
    limit: int | None = None,
    include_reviewed: bool = False,
    order: str = "score",
    audit: bool = False,
) -> list[dict[str, Any]]:
    """Articles waiting for a verdict, in `order`:

    - ``score``: flagged articles, highest score first, newest first on ties;
    - ``date``: flagged articles, newest first;
    - ``uncertain``: flagged and unflagged articles, the one whose flag decision is nearest
      its threshold first (articles scored before margins were stored come last).

    `audit`: the articles drawn by `monitor audit` instead, flagged or not, in `order`.
    """
    if order not in _ORDER_BY:
        raise ValueError(f"order must be one of {', '.join(ORDERS)}, got {order!r}")
    if audit:
        clauses = ["au.article_id is not null"]
    elif order == "uncertain":
        clauses = ["(c.flagged = 1 or c.margin is not null)"]
    else:
        clauses = ["c.flagged = 1"]
    if not include_reviewed:
        clauses.append("r.id is null")
    where = "where " + " and ".join(clauses)
    sql = f"select {_ARTICLE_COLUMNS} {_ARTICLE_JOINS} {where} order by {_ORDER_BY[order]}"
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
