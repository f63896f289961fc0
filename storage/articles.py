"""The articles and sightings tables: one row per article however many feeds carry it.

A poll's new articles are written with their classifications and a story each (the grouping
step may move them into another) in one statement per table: their ids are taken in the
transaction, so no row has to be updated after it is written."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from storage.classifications import COLUMNS as CLASSIFICATION_COLUMNS
from storage.classifications import classification_row, top_score
from storage.records import ArticleIn, ClassificationIn
from storage.stories import refresh_stories, stories_of


@dataclass(frozen=True)
class Match:
    article_id: int
    same_feed: bool  # seen under this key in this feed (else: same canonical URL elsewhere)
    content_hash: str


def find_existing(db: sqlite_utils.Database, feed_id: int, article: ArticleIn) -> Match | None:
    """The stored article this one repeats: same key in the same feed, or same canonical URL."""
    row = db.execute(
        "select a.id, a.content_hash from sightings s join articles a on a.id = s.article_id"
        " where s.feed_id = ? and s.key = ?",
        [feed_id, article.key],
    ).fetchone()
    if row:
        return Match(row[0], True, row[1])
    if article.canonical_url:
        row = db.execute(
            "select id, content_hash from articles where canonical_url = ?",
            [article.canonical_url],
        ).fetchone()
        if row:
            return Match(row[0], False, row[1])
    return None


Matches = dict[str, Match | None]  # article key -> its stored twin, if any


def find_matches(db: sqlite_utils.Database, feed_id: int, articles: Iterable[ArticleIn]) -> Matches:
    """find_existing for each article, once per poll: `needs_classifying` and `store_articles`
    (through save_poll) both take the result instead of looking every article up again."""
    return {article.key: find_existing(db, feed_id, article) for article in articles}


def needs_classifying(
    db: sqlite_utils.Database,
    feed_id: int,
    articles: Iterable[ArticleIn],
    matches: Matches | None = None,
) -> list[ArticleIn]:
    """Articles that are new, or whose content changed in this feed since we stored them."""
    articles = list(articles)
    if matches is None:
        matches = find_matches(db, feed_id, articles)
    out = []
    for article in articles:
        match = matches[article.key]
        if match is None or (match.same_feed and match.content_hash != article.content_hash):
            out.append(article)
    return out


def get_article(db: sqlite_utils.Database, article_id: int) -> dict[str, Any] | None:
    rows = list(db["articles"].rows_where("id = ?", [article_id]))
    return rows[0] if rows else None


def article_outlets(db: sqlite_utils.Database, article_id: int) -> list[str]:
    sql = (
        "select f.name from sightings s join feeds f on f.id = s.feed_id"
        " where s.article_id = ? order by s.first_seen, f.name"
    )
    return [r[0] for r in db.execute(sql, [article_id]).fetchall()]


def unclassified_articles(
    db: sqlite_utils.Database, limit: int | None = None
) -> list[dict[str, Any]]:
    sql = "select id, title, summary from articles where classification_id is null order by id"
    if limit:
        sql += f" limit {int(limit)}"
    return list(db.query(sql))


def count_articles(db: sqlite_utils.Database) -> int:
    return db.execute("select count(*) from articles").fetchone()[0]


def store_articles(
    db: sqlite_utils.Database,
    feed_id: int,
    articles: Sequence[ArticleIn],
    now: str,
    matches: Matches | None = None,
    scores: Mapping[str, ClassificationIn] | None = None,
    model_version: str | None = None,
) -> tuple[dict[str, int], dict[str, int]]:
    """Insert new articles, update changed ones, record sightings. Call inside a transaction.

    Returns ({key: article_id} of new articles, {key: article_id} of changed ones). Reviews
    are never touched: an article seen again keeps its id and so its verdict. `matches`, from
    find_matches just before in the same thread, saves looking the articles up again. New
    articles with a classification in `scores` (by article key, from `model_version`) are
    stored with it; changed ones are left for the caller to classify.
    """
    new: dict[str, int] = {}
    changed: dict[str, int] = {}
    fresh: list[ArticleIn] = []  # new articles, in the order of `new`
    inserted: dict[str, int] = {}  # canonical URL -> id, of articles inserted by this call
    carried: set[int] = set()  # stored articles this feed now carries too: one outlet more
    sightings: list[tuple[int, str, int, str]] = []
    next_id = _next_id(db, "articles")
    for article in articles:
        if article.key in new:  # the same item twice in one response: stored once
            continue
        match = _match(db, feed_id, article, matches, inserted)
        if match is None:
            new[article.key] = next_id
            fresh.append(article)
            next_id += 1
            if article.canonical_url:
                inserted.setdefault(article.canonical_url, new[article.key])
        elif match.same_feed and match.content_hash != article.content_hash:
            _update_content(db, match.article_id, article, now)
            changed[article.key] = match.article_id
        if match is None or not match.same_feed:
            article_id = new.get(article.key) or match.article_id  # type: ignore[union-attr]
            sightings.append((feed_id, article.key, article_id, now))
            if match is not None:
                carried.add(article_id)
    if fresh:
        _insert_new(db, feed_id, fresh, list(new.values()), now, scores or {}, model_version)
    db.conn.executemany(
        "insert or ignore into sightings (feed_id, key, article_id, first_seen)"
        " values (?, ?, ?, ?)",
        sightings,
    )
    if carried:
        refresh_stories(db, stories_of(db, carried).values())
    return new, changed


def _next_id(db: sqlite_utils.Database, table: str) -> int:
    return int(db.execute(f"select coalesce(max(id), 0) + 1 from {table}").fetchone()[0])


_ARTICLE_COLUMNS = (
    "id, feed_id, guid, url, canonical_url, title, summary, published, fetched, updated,"
    " language, content_hash, signature, classification_id, story_id"
)
_STORY_COLUMNS = (
    "id, first_article_id, first_feed_id, first_time, articles, outlets, best_article_id,"
    " score, flagged, margin, created, last_joined"
)


def _insert_new(
    db: sqlite_utils.Database,
    feed_id: int,
    articles: Sequence[ArticleIn],
    ids: Sequence[int],
    now: str,
    scores: Mapping[str, ClassificationIn],
    model_version: str | None,
) -> None:
    """The new articles, each with its classification (if scored) and a story of its own."""
    class_id = _next_id(db, "classifications")
    story_id = _next_id(db, "stories")
    article_rows, class_rows, story_rows = [], [], []
    for article, article_id in zip(articles, ids, strict=True):
        result = scores.get(article.key) if model_version else None
        score = margin = current = None
        flagged = 0
        if result is not None:
            current = class_id
            values = classification_row(article_id, model_version or "", result, now)
            class_rows.append((class_id, *values))
            score, flagged = top_score(result), int(result.flagged)
            margin = result.margin
            class_id += 1
        article_rows.append(
            (
                article_id, feed_id, article.guid, article.url, article.canonical_url,
                article.title, article.summary, article.published, now, now, article.language,
                article.content_hash, article.signature, current, story_id,
            )
        )  # fmt: skip
        story_rows.append(
            (
                story_id, article_id, feed_id, article.published or now, 1, 1, article_id,
                score, flagged, margin, now, now,
            )
        )  # fmt: skip
        story_id += 1
    marks = ", ".join("?" * len(article_rows[0]))
    db.conn.executemany(f"insert into articles ({_ARTICLE_COLUMNS}) values ({marks})", article_rows)
    if class_rows:
        columns = ", ".join(("id", *CLASSIFICATION_COLUMNS))
        marks = ", ".join("?" * len(class_rows[0]))
        db.conn.executemany(f"insert into classifications ({columns}) values ({marks})", class_rows)
    marks = ", ".join("?" * len(story_rows[0]))
    db.conn.executemany(f"insert into stories ({_STORY_COLUMNS}) values ({marks})", story_rows)


def _match(
    db: sqlite_utils.Database,
    feed_id: int,
    article: ArticleIn,
    matches: Matches | None,
    inserted: dict[str, int],
) -> Match | None:
    if matches is None or article.key not in matches:
        match = find_existing(db, feed_id, article)
    else:
        match = matches[article.key]
    if match is None and article.canonical_url in inserted:  # an earlier item of this poll
        return Match(inserted[article.canonical_url], False, "")
    return match


def _update_content(
    db: sqlite_utils.Database, article_id: int, article: ArticleIn, now: str
) -> None:
    db.execute(
        "update articles set title = ?, summary = ?, published = coalesce(?, published),"
        " updated = ?, content_hash = ?, signature = coalesce(?, signature) where id = ?",
        [
            article.title,
            article.summary,
            article.published,
            now,
            article.content_hash,
            article.signature,
            article_id,
        ],
    )
