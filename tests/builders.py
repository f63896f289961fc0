"""Small builders for the records tests hand to storage."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum
from pathlib import Path

import sqlite_utils

from storage import ArticleIn, ClassificationIn, PollRecord, PollSaved, save_poll
from storage.migrations import MIGRATIONS


class _Default(Enum):
    """An argument left out, where None is a value of its own."""

    URL = "https://news.test/<key>"


def article(
    key: str,
    title: str = "Title",
    *,
    summary: str = "",
    url: str | None | _Default = _Default.URL,
    published: str | None = "2026-11-28T00:00:00Z",
    language: str | None = "en",
    content_hash: str | None = None,
    signature: bytes | None = None,
) -> ArticleIn:
    """An article as a parsed feed gives it: guid `key`, url `https://news.test/<key>` unless
    given (None for none), canonical_url the url, content_hash `<title>|<summary>` unless given,
    so a changed text is a changed article."""
    if isinstance(url, _Default):
        url = f"https://news.test/{key}"
    if content_hash is None:
        content_hash = f"{title}|{summary}"
    return ArticleIn(
        key=key,
        guid=key,
        url=url,
        canonical_url=url,
        title=title,
        summary=summary,
        published=published,
        language=language,
        content_hash=content_hash,
        signature=signature,
    )


def store_poll(
    db: sqlite_utils.Database,
    feed_id: int,
    articles: Sequence[ArticleIn],
    scores: Mapping[str, ClassificationIn] | None = None,
    *,
    started: str,
    next_poll: str | None = None,
    duration_ms: int = 1,
    model: str | None = None,
) -> PollSaved:
    """Store `articles` (and their `scores` by `model`) as one successful poll (200) of feed
    `feed_id`, next due at `next_poll` (default: `started`)."""
    poll = PollRecord(feed_id, started, 200, next_poll or started, duration_ms, True)
    return save_poll(db, poll, articles, scores, model)


def database_before(path: Path, migration: str) -> sqlite_utils.Database:
    """A database as an older release left it: migrations up to `migration` (not applied),
    with one feed (id 1), for testing the upgrade."""
    db = sqlite_utils.Database(path)
    MIGRATIONS.apply(db, stop_before=migration)
    db["feeds"].insert({"id": 1, "name": "old", "url": "https://old.test/rss"})
    return db
