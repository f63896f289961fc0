"""The audits and audit_samples tables: unflagged articles drawn at random for review, so that
the team can estimate what the classifier misses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlite_utils

from storage.reviews import LATEST_REVIEW, RELEVANT_SQL


def audit_population(db: sqlite_utils.Database, start: str, end: str) -> list[tuple[int, bool]]:
    """(article id, already sampled) for every article dated in [start, end) whose current
    classification is not flagged, in id order. Undated articles count by their fetch time."""
    sql = """
        select a.id, au.article_id is not null
        from articles a
        join classifications c on c.id = a.classification_id
        left join audit_samples au on au.article_id = a.id
        where c.flagged = 0
          and coalesce(a.published, a.fetched) >= ? and coalesce(a.published, a.fetched) < ?
        order by a.id
    """
    return [(row[0], bool(row[1])) for row in db.execute(sql, [start, end]).fetchall()]


def record_audit(
    db: sqlite_utils.Database,
    article_ids: Sequence[int],
    *,
    sampled_at: str,
    week: str,
    window: tuple[str, str],
    unflagged: int,
    share: float,
    seed: int,
) -> int:
    """Store one audit and its samples in one transaction; returns the audit's id."""
    with db.atomic():
        cursor = db.execute(
            "insert into audits (sampled_at, week, window_start, window_end, unflagged, share,"
            " seed) values (?, ?, ?, ?, ?, ?, ?)",
            [sampled_at, week, window[0], window[1], unflagged, share, seed],
        )
        audit_id = cursor.lastrowid
        assert audit_id is not None
        db.conn.executemany(
            "insert into audit_samples (article_id, audit_id, sampled_at, week)"
            " values (?, ?, ?, ?)",
            [(article_id, audit_id, sampled_at, week) for article_id in article_ids],
        )
    return audit_id


def audit_weeks(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Per audit week, newest first: articles sampled, reviewed, found relevant, and the unflagged
    articles in the window sampled (several audits in one week pool their samples; the largest
    window count stands for the week)."""
    sql = f"""
        select au.week,
               (select max(x.unflagged) from audits x where x.week = au.week) as unflagged,
               count(*) as sampled,
               count(r.id) as reviewed,
               coalesce(sum({RELEVANT_SQL}), 0) as relevant
        from audit_samples au
        left join articles a on a.id = au.article_id
        left join reviews r on r.id = {LATEST_REVIEW}
        group by au.week
        order by au.week desc
    """
    return list(db.query(sql))
