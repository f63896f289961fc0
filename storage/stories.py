"""The stories table: near-duplicate articles across outlets, grouped into one story each.

Every article is stored with a story of its own (by storage.articles.store_articles);
the grouping step then moves a new article into the story it repeats (`join_story`). Review
state lives on the story: a verdict applies to every article in it. A story's summary columns
(first outlet and time, articles, outlets, best score) are recomputed from its articles
whenever one joins or is scored, so they never drift.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlite_utils

_SORT_TIME = "coalesce(a.published, a.fetched)"


def chunks(ids: Sequence[int], size: int = 500) -> Iterable[Sequence[int]]:
    """`ids` in slices of `size`: SQLite takes a bounded number of ? in one statement."""
    return (ids[start : start + size] for start in range(0, len(ids), size))


def join_story(db: sqlite_utils.Database, article_id: int, story_id: int, now: str) -> None:
    """Move `article_id` into `story_id`; the story it leaves is deleted if left empty and
    unreviewed. Call inside a transaction."""
    row = db.execute(
        f"select a.story_id, a.feed_id, {_SORT_TIME}, c.score, coalesce(c.flagged, 0), c.margin"
        " from articles a left join classifications c on c.id = a.classification_id"
        " where a.id = ?",
        [article_id],
    ).fetchone()
    if row is None:
        raise ValueError(f"no article with id {article_id}")
    old, feed_id, time, score, flagged, margin = row
    if old == story_id:
        return
    db.execute("update articles set story_id = ? where id = ?", [story_id, article_id])
    # the summary columns, updated for one more article (refresh_stories recomputes them all)
    db.execute(
        """
        update stories set
            articles = articles + 1,
            last_joined = :now,
            outlets = (select count(distinct s.feed_id) from articles a
                       join sightings s on s.article_id = a.id where a.story_id = stories.id),
            first_article_id = iif(:time < first_time, :id, first_article_id),
            first_feed_id = iif(:time < first_time, :feed, first_feed_id),
            first_time = min(first_time, :time),
            best_article_id = iif(coalesce(:score, -1) > coalesce(score, -1), :id,
                                  best_article_id),
            score = max(coalesce(score, :score), coalesce(:score, score)),
            flagged = max(flagged, :flagged),
            margin = max(coalesce(margin, :margin), coalesce(:margin, margin))
        where id = :story
        """,
        {
            "now": now, "time": time, "id": article_id, "feed": feed_id, "score": score,
            "flagged": flagged, "margin": margin, "story": story_id,
        },
    )  # fmt: skip
    if old is not None:
        _drop_if_empty(db, old)


def _drop_if_empty(db: sqlite_utils.Database, story_id: int) -> None:
    empty = db.execute(
        "select not exists (select 1 from articles where story_id = ?)"
        " and not exists (select 1 from reviews where story_id = ?)",
        [story_id, story_id],
    ).fetchone()[0]
    if empty:
        db.execute("delete from stories where id = ?", [story_id])
    else:
        refresh_stories(db, [story_id])


def refresh_stories(db: sqlite_utils.Database, story_ids: Iterable[int] | None = None) -> None:
    """Recompute the summary columns of `story_ids` (every story if None) from their articles
    and current classifications."""
    ids = None if story_ids is None else sorted(set(story_ids))
    if ids == []:
        return
    where = "" if ids is None else f"where a.story_id in ({', '.join('?' * len(ids))})"
    db.execute(
        f"""
        with members as (
            select a.story_id, a.id, a.feed_id, {_SORT_TIME} as time,
                   c.score, coalesce(c.flagged, 0) as flagged, c.margin,
                   row_number() over (partition by a.story_id
                                      order by {_SORT_TIME}, a.id) as by_time,
                   row_number() over (partition by a.story_id
                                      order by c.score desc nulls last, a.id) as by_score
            from articles a left join classifications c on c.id = a.classification_id
            {where}
        ),
        summary as (
            select story_id,
                   count(*) as articles,
                   max(case when by_time = 1 then id end) as first_article_id,
                   max(case when by_time = 1 then feed_id end) as first_feed_id,
                   max(case when by_time = 1 then time end) as first_time,
                   max(case when by_score = 1 then id end) as best_article_id,
                   max(score) as score, max(flagged) as flagged, max(margin) as margin
            from members group by story_id
        ),
        outlets as (
            select a.story_id, count(distinct s.feed_id) as outlets
            from articles a join sightings s on s.article_id = a.id
            {where} group by a.story_id
        )
        update stories set
            articles = summary.articles,
            first_article_id = summary.first_article_id,
            first_feed_id = summary.first_feed_id,
            first_time = summary.first_time,
            best_article_id = summary.best_article_id,
            score = summary.score,
            flagged = summary.flagged,
            margin = summary.margin,
            outlets = max(coalesce((select o.outlets from outlets o
                                    where o.story_id = summary.story_id), 1), 1)
        from summary where summary.story_id = stories.id
        """,
        [*(ids or []), *(ids or [])],
    )


def mark_updated(db: sqlite_utils.Database, article_ids: Iterable[int], now: str) -> None:
    """Articles whose content changed: their stories come back to the review queue (with an
    'updated' marker) if the changed article is flagged."""
    ids = list(article_ids)
    if not ids:
        return
    db.execute(
        f"""update stories set updated = ? where id in (
            select a.story_id from articles a join classifications c on c.id = a.classification_id
            where c.flagged = 1 and a.id in ({", ".join("?" * len(ids))}))""",
        [now, *ids],
    )


def story_of(db: sqlite_utils.Database, article_id: int) -> int | None:
    row = db.execute("select story_id from articles where id = ?", [article_id]).fetchone()
    return row[0] if row else None


def stories_of(db: sqlite_utils.Database, article_ids: Iterable[int]) -> dict[int, int]:
    """{article id: story id} for the given articles."""
    found: dict[int, int] = {}
    for chunk in chunks(list(article_ids)):
        marks = ", ".join("?" * len(chunk))
        sql = f"select id, story_id from articles where id in ({marks})"
        found.update(db.execute(sql, chunk).fetchall())
    return found


def story_members(db: sqlite_utils.Database, story_id: int) -> list[dict[str, Any]]:
    """The story's articles, earliest first: id, feed (name), title, url, time, fetched,
    score, flagged."""
    sql = f"""
        select a.id, f.name as feed, a.title, a.url, {_SORT_TIME} as time, a.fetched,
               a.language, c.score, coalesce(c.flagged, 0) as flagged
        from articles a join feeds f on f.id = a.feed_id
        left join classifications c on c.id = a.classification_id
        where a.story_id = ? order by time, a.id
    """
    return list(db.query(sql, [story_id]))


def recent_signatures(
    db: sqlite_utils.Database, since: str
) -> list[tuple[int, int, int, str, bytes | None, str, str]]:
    """(article id, story id, feed id, time, signature, title, summary) of articles dated at
    or after `since`, oldest first: what the grouping step compares new articles with."""
    sql = f"""
        select a.id, a.story_id, a.feed_id, {_SORT_TIME} as time, a.signature, a.title, a.summary
        from articles a where {_SORT_TIME} >= ? and a.story_id is not null order by time, a.id
    """
    return [tuple(row) for row in db.execute(sql, [since]).fetchall()]  # type: ignore[misc]


def save_signatures(db: sqlite_utils.Database, signatures: Iterable[tuple[int, bytes]]) -> None:
    db.conn.executemany(
        "update articles set signature = ? where id = ?",
        [(signature, article_id) for article_id, signature in signatures],
    )
