"""Searching the whole archive, as story queue rows.

The index (m013) keeps no positions (FTS5 `detail=none`: half the cost of indexing, a smaller
file), so it answers "which articles hold every trigram of these words", and each candidate
is then checked for the words themselves.

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
        story_ids += _index_matches(db, words, limit)
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


def _index_matches(db: sqlite_utils.Database, words: list[str], limit: int) -> list[int]:
    """Stories of the indexed articles holding every word, best match first."""
    where, params = _likes(words)
    sql = f"""
        select a.story_id from articles_fts join articles a on a.id = articles_fts.rowid
        where articles_fts match ? and {where}
        group by a.story_id order by min(articles_fts.rank), a.story_id limit ?
    """
    rows = db.execute(sql, [fts_query(words), *params, int(limit)]).fetchall()
    return [row[0] for row in rows]


def indexed_articles(db: sqlite_utils.Database, query: str) -> list[int]:
    """Ids of the indexed articles holding every word of `query`, in id order: what the
    index answers, for tests and benchmarks."""
    words = query.split()
    if not any(len(word) >= MIN_INDEXED for word in words):
        return []
    where, params = _likes(words)
    sql = f"""
        select a.id from articles_fts join articles a on a.id = articles_fts.rowid
        where articles_fts match ? and {where} order by a.id
    """
    return [row[0] for row in db.execute(sql, [fts_query(words), *params]).fetchall()]


def fts_query(words: list[str]) -> str:
    """An FTS5 query for the rows holding every trigram of every word of three characters or
    more, each trigram a quoted string ('"def" "efe" ...'): the user's text is never syntax."""
    grams = dict.fromkeys(
        word[start : start + MIN_INDEXED]
        for word in words
        for start in range(len(word) - MIN_INDEXED + 1)
    )
    return " ".join('"' + gram.replace('"', '""') + '"' for gram in grams)


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
