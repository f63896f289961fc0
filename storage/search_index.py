"""Keeping the full-text index (articles_fts, migration m012) up to date, in batches.

Articles are indexed in id order; `search_state.indexed_id` is the last one in the index.
Searches cover the rest with a substring scan, so an article is findable the moment it is
stored, and the index catches up a batch at a time.
"""

from __future__ import annotations

import sqlite_utils

BATCH = 2_000  # articles a transaction: FTS5 holds a batch's terms in memory until it commits


def indexed_up_to(db: sqlite_utils.Database) -> int:
    """The highest article id in the full-text index: newer articles are not in it yet."""
    row = db.execute("select indexed_id from search_state where id = 1").fetchone()
    return int(row[0]) if row else 0


def index_pending(db: sqlite_utils.Database, limit: int = BATCH) -> int:
    """Index up to `limit` articles not yet in the full-text index; returns how many."""
    with db.atomic():
        start = indexed_up_to(db)
        end = db.execute(
            "select max(id) from (select id from articles where id > ? order by id limit ?)",
            [start, limit],
        ).fetchone()[0]
        if end is None:
            return 0
        db.execute(
            "insert into articles_fts (rowid, title, summary)"
            " select id, title, summary from articles where id > ? and id <= ?",
            [start, end],
        )
        count = db.execute(
            "select count(*) from articles where id > ? and id <= ?", [start, end]
        ).fetchone()[0]
        db.execute("update search_state set indexed_id = ? where id = 1", [end])
    return int(count)


def pending_count(db: sqlite_utils.Database) -> int:
    """Articles stored since the index last caught up."""
    return int(
        db.execute("select count(*) from articles where id > ?", [indexed_up_to(db)]).fetchone()[0]
    )
