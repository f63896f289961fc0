"""Searching the whole archive, as story queue rows.

Words of three characters or more are looked up in the trigram FTS5 index (m012), which finds
Korean, Chinese and Japanese words without word boundaries; shorter words (탈북, 脱北, UN) and
the articles stored since the index last caught up (storage.search_index) are found by a
plain substring scan. The user's words are never FTS5 syntax: each becomes a quoted string,
so quotes, stars, parentheses, column names and NEAR are matched as text.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from storage.queue import story_rows
from storage.search_index import indexed_up_to

MIN_INDEXED = 3  # the trigram index cannot find anything shorter
SEARCH_LIMIT = 200
_NEWEST_FIRST = "max(coalesce(a.published, a.fetched)) desc, a.story_id desc"


def search_stories(
    db: sqlite_utils.Database, query: str, limit: int = SEARCH_LIMIT
) -> list[dict[str, Any]]:
    """Stories with an article whose title or summary holds every word of `query` (any case):
    articles not yet indexed first, newest first, then the index's best matches."""
    words = query.split()
    if not words:
        return []
    indexed = [word for word in words if len(word) >= MIN_INDEXED]
    if not indexed:  # nothing the index can answer: scan everything
        story_ids = _substring_matches(db, words, 0, limit)
    else:
        story_ids = _substring_matches(db, words, indexed_up_to(db), limit)
        story_ids += _index_matches(db, indexed, [w for w in words if w not in indexed], limit)
    unique = list(dict.fromkeys(i for i in story_ids if i is not None))
    return story_rows(db, unique[:limit])


def _substring_matches(
    db: sqlite_utils.Database, words: list[str], after_id: int, limit: int
) -> list[int]:
    """Stories of the articles after `after_id` holding every word, newest first."""
    where, params = _likes(words)
    sql = f"""
        select a.story_id from articles a where a.id > ? and {where}
        group by a.story_id order by {_NEWEST_FIRST} limit ?
    """
    return [row[0] for row in db.execute(sql, [after_id, *params, int(limit)]).fetchall()]


def _index_matches(
    db: sqlite_utils.Database, indexed: list[str], short: list[str], limit: int
) -> list[int]:
    """Stories of the indexed articles holding every word, best match first."""
    where, params = _likes(short)
    sql = f"""
        select a.story_id from articles_fts join articles a on a.id = articles_fts.rowid
        where articles_fts match ? and {where}
        group by a.story_id order by min(articles_fts.rank), a.story_id limit ?
    """
    rows = db.execute(sql, [fts_phrases(indexed), *params, int(limit)]).fetchall()
    return [row[0] for row in rows]


def fts_phrases(words: list[str]) -> str:
    """An FTS5 query matching every word as a literal string: '"a""b" "c"'."""
    return " ".join('"' + word.replace('"', '""') + '"' for word in words)


def _likes(words: list[str]) -> tuple[str, list[str]]:
    """SQL requiring every word in the title or summary of article `a`, LIKE's wildcards
    escaped ("1" when there are no words)."""
    patterns = [_like(word) for word in words]
    clause = "(a.title like ? escape '\\' or a.summary like ? escape '\\')"
    where = " and ".join([clause] * len(patterns)) or "1"
    return where, [pattern for pattern in patterns for _ in (0, 1)]


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
