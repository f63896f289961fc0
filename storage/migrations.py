"""Named schema migrations. Never edit a released migration: add a new one."""

from __future__ import annotations

import sqlite_utils
from sqlite_utils import Migrations

MIGRATIONS = Migrations("nk-monitor")


@MIGRATIONS()
def m001_create_feeds(db: sqlite_utils.Database) -> None:
    db["feeds"].create(
        {
            "id": int,
            "name": str,
            "url": str,
            "language": str,
            "tags": str,  # JSON list
            "interval_s": int,
            "enabled": int,
            "etag": str,
            "last_modified": str,
            "last_polled": str,
            "last_status": int,
            "last_success": str,
            "last_error": str,
            "last_warning": str,
            "consecutive_failures": int,
            "next_poll": str,
            "created": str,
        },
        pk="id",
        not_null={"name", "url"},
        defaults={"enabled": 1, "consecutive_failures": 0, "tags": "[]"},
    )
    db["feeds"].create_index(["name"], unique=True)


@MIGRATIONS()
def m002_create_articles(db: sqlite_utils.Database) -> None:
    db["articles"].create(
        {
            "id": int,
            "feed_id": int,
            "guid": str,
            "url": str,
            "canonical_url": str,
            "title": str,
            "summary": str,
            "published": str,  # ISO 8601 UTC, or NULL when the feed gave no usable date
            "fetched": str,  # ISO 8601 UTC, first time we stored it
            "updated": str,  # ISO 8601 UTC, last time its content changed
            "language": str,
            "content_hash": str,
            "classification_id": int,  # the latest classification
        },
        pk="id",
        foreign_keys=[("feed_id", "feeds", "id")],
        not_null={"feed_id", "title", "fetched", "content_hash"},
        defaults={"summary": ""},
    )
    # One article per canonical URL across all feeds; NULLs (no usable link) are exempt.
    db.execute(
        "CREATE UNIQUE INDEX idx_articles_canonical_url ON articles(canonical_url) "
        "WHERE canonical_url IS NOT NULL"
    )
    db["articles"].create_index(["published"])
    db["articles"].create_index(["fetched"])
    # Every (feed, key) an article was seen under: GUID, else canonical URL, else content hash.
    db["sightings"].create(
        {"feed_id": int, "key": str, "article_id": int, "first_seen": str},
        pk=("feed_id", "key"),
        foreign_keys=[("feed_id", "feeds", "id"), ("article_id", "articles", "id")],
    )
    db["sightings"].create_index(["article_id"])


@MIGRATIONS()
def m003_create_classifications(db: sqlite_utils.Database) -> None:
    db["classifications"].create(
        {
            "id": int,
            "article_id": int,
            "model_version": str,
            "score_defectors": float,
            "score_repatriation": float,
            "score_border": float,
            "score": float,  # the highest label score
            "labels": str,  # JSON list of labels that passed their threshold
            "flagged": int,
            "classified_at": str,
        },
        pk="id",
        foreign_keys=[("article_id", "articles", "id")],
        not_null={"article_id", "model_version", "flagged"},
    )
    db["classifications"].create_index(["article_id", "model_version"], unique=True)


@MIGRATIONS()
def m004_create_reviews(db: sqlite_utils.Database) -> None:
    # Append-only: the newest row for an article is its verdict; undo deletes that row.
    db["reviews"].create(
        {
            "id": int,
            "article_id": int,
            "verdict": str,  # relevant | not-relevant
            "labels": str,  # JSON list, the analyst's labels
            "note": str,
            "reviewed_at": str,
        },
        pk="id",
        foreign_keys=[("article_id", "articles", "id")],
        not_null={"article_id", "verdict", "reviewed_at"},
    )
    db["reviews"].create_index(["article_id", "id"])


@MIGRATIONS()
def m005_create_polls(db: sqlite_utils.Database) -> None:
    db["polls"].create(
        {
            "id": int,
            "feed_id": int,
            "started": str,
            "http_status": int,
            "new_articles": int,
            "updated_articles": int,
            "duration_ms": int,
            "error": str,
            "warning": str,
        },
        pk="id",
        foreign_keys=[("feed_id", "feeds", "id")],
    )
    db["polls"].create_index(["feed_id", "started"])


@MIGRATIONS()
def m006_feed_politeness_state(db: sqlite_utils.Database) -> None:
    feeds = db["feeds"]
    feeds.add_column("config_url", str)  # the URL in feeds.yaml; `url` may follow a 301/308
    feeds.add_column("body_hash", str)  # sha256 of the last body parsed
    feeds.add_column("ignore_validators", int, not_null_default=0)
    feeds.add_column("adaptive", int, not_null_default=0)
    feeds.add_column("min_interval_s", int)
    feeds.add_column("max_interval_s", int)
    feeds.add_column("server_min_interval_s", int)  # from RSS ttl or Cache-Control max-age
    feeds.add_column("failure_score", float, not_null_default=0)
    feeds.add_column("paused", int, not_null_default=0)
    feeds.add_column("pause_reason", str)
    feeds.add_column("redirect_url", str)  # a permanent redirect seen once, applied if repeated
    db.execute("update feeds set config_url = url")


@MIGRATIONS()
def m007_feed_encoding(db: sqlite_utils.Database) -> None:
    db["feeds"].add_column("encoding", str)  # overrides the charset the server declares


@MIGRATIONS()
def m008_classification_why_and_margin(db: sqlite_utils.Database) -> None:
    classifications = db["classifications"]
    classifications.add_column("why", str)  # JSON {label: [term, ...]}, flagged articles only
    classifications.add_column("margin", float)  # max over labels of score - threshold


@MIGRATIONS()
def m009_create_audits(db: sqlite_utils.Database) -> None:
    # One row per `monitor audit`: the window it sampled and how many unflagged articles it held.
    db["audits"].create(
        {
            "id": int,
            "sampled_at": str,
            "week": str,  # ISO week most of the window falls in, e.g. 2026-W48
            "window_start": str,
            "window_end": str,
            "unflagged": int,  # unflagged articles dated in the window when it was sampled
            "share": float,
            "seed": int,
        },
        pk="id",
        not_null={"sampled_at", "week", "window_start", "window_end", "unflagged"},
    )
    # Unflagged articles drawn for review; an article is drawn at most once.
    db["audit_samples"].create(
        {"article_id": int, "audit_id": int, "sampled_at": str, "week": str},
        pk="article_id",
        foreign_keys=[("article_id", "articles", "id"), ("audit_id", "audits", "id")],
        not_null={"audit_id", "sampled_at", "week"},
    )
    db["audit_samples"].create_index(["week"])


@MIGRATIONS()
def m010_create_alerts(db: sqlite_utils.Database) -> None:
    # One row per article and channel once an alert is due: the key is the article for now,
    # a story id once near-duplicates are grouped into stories.
    db["alert_deliveries"].create(
        {
            "article_id": int,
            "channel": str,  # command | smtp
            "status": str,  # pending (to retry) | sent | failed (gave up)
            "attempts": int,
            "last_error": str,
            "next_attempt": str,  # ISO 8601 UTC, when status is pending
            "sent_at": str,
            "created": str,
        },
        pk=("article_id", "channel"),
        foreign_keys=[("article_id", "articles", "id")],
        not_null={"status", "attempts", "created"},
    )
    db["alert_deliveries"].create_index(["status", "next_attempt"])
    # When each channel was first configured: older articles are never alerted on that channel.
    db["alert_channels"].create({"channel": str, "enabled_at": str}, pk="channel")


@MIGRATIONS()
def m011_create_stories(db: sqlite_utils.Database) -> None:
    # One story per event: near-duplicate articles across outlets. Review state lives on the
    # story; the columns after `id` summarise its articles and are kept up to date as they join.
    db["stories"].create(
        {
            "id": int,
            "first_article_id": int,  # the earliest article: its outlet, time, title and link
            "first_feed_id": int,
            "first_time": str,  # coalesce(published, fetched) of the earliest article
            "articles": int,
            "outlets": int,  # distinct feeds that carried it
            "best_article_id": int,  # the article with the highest score
            "score": float,  # the highest article score
            "flagged": int,  # 1 if any article is flagged
            "margin": float,  # the largest flag margin (nearest 0: least sure)
            "created": str,
            "last_joined": str,  # when the newest article joined
            "updated": str,  # when a flagged article's content last changed
        },
        pk="id",
        foreign_keys=[("first_article_id", "articles", "id"), ("first_feed_id", "feeds", "id")],
        not_null={"first_article_id", "first_time", "articles", "outlets", "flagged", "created"},
        defaults={"articles": 1, "outlets": 1, "flagged": 0},
    )
    db["stories"].create_index(["flagged", "score"])
    db["stories"].create_index(["first_time"])
    db["stories"].create_index(["first_article_id"])
    articles = db["articles"]
    articles.add_column("story_id", int)  # NULL until grouped
    articles.add_column("signature", bytes)  # MinHash of the text (monitor.similarity)
    articles.create_index(["story_id"])
    db.execute("CREATE INDEX idx_articles_sort_time ON articles(coalesce(published, fetched))")
    db["reviews"].add_column("story_id", int)  # the verdict applies to the whole story
    db["reviews"].create_index(["story_id", "id"])
    # Articles stored before stories existed: a story each, their verdicts moved with them.
    db.execute(
        "INSERT INTO stories (first_article_id, first_feed_id, first_time, articles, outlets,"
        " best_article_id, score, flagged, margin, created, last_joined)"
        " SELECT a.id, a.feed_id, coalesce(a.published, a.fetched), 1, 1, a.id, c.score,"
        " coalesce(c.flagged, 0), c.margin, a.fetched, a.fetched"
        " FROM articles a LEFT JOIN classifications c ON c.id = a.classification_id ORDER BY a.id"
    )
    db.execute(
        "UPDATE articles SET story_id ="
        " (SELECT s.id FROM stories s WHERE s.first_article_id = articles.id)"
    )
    db.execute(
        "UPDATE reviews SET story_id ="
        " (SELECT a.story_id FROM articles a WHERE a.id = reviews.article_id)"
    )


@MIGRATIONS()
def m012_create_search_index(db: sqlite_utils.Database) -> None:
    # Full-text search over every article. The trigram tokenizer finds Korean, Chinese and
    # Japanese words of three characters or more; shorter queries fall back to a substring scan.
    # New articles are indexed in batches (storage.search_index): indexing each poll's few
    # articles as it commits costs four times as much. Rows up to search_state.indexed_id are
    # in the index; the triggers keep those in step when an article changes or goes.
    db.execute(
        "CREATE VIRTUAL TABLE articles_fts USING fts5(title, summary, content='articles',"
        " content_rowid='id', tokenize='trigram')"
    )
    db.execute(
        "CREATE TABLE search_state (id INTEGER PRIMARY KEY CHECK (id = 1),"
        " indexed_id INTEGER NOT NULL)"
    )
    db.execute("INSERT INTO search_state (id, indexed_id) VALUES (1, 0)")
    _search_index_triggers(db)
    db.execute(
        "INSERT INTO articles_fts(rowid, title, summary) SELECT id, title, summary FROM articles"
    )
    db.execute("UPDATE search_state SET indexed_id = (SELECT coalesce(max(id), 0) FROM articles)")


@MIGRATIONS()
def m013_search_index_without_positions(db: sqlite_utils.Database) -> None:
    # The trigram index without positions (detail=none): indexing costs half as much and the
    # file is smaller; searches check each candidate for the words (storage.search).
    for trigger in ("articles_fts_delete", "articles_fts_update"):
        db.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    db.execute("DROP TABLE IF EXISTS articles_fts")
    db.execute(
        "CREATE VIRTUAL TABLE articles_fts USING fts5(title, summary, content='articles',"
        " content_rowid='id', tokenize='trigram', detail=none)"
    )
    db.execute(
        "INSERT INTO articles_fts(rowid, title, summary) SELECT id, title, summary FROM articles"
        " WHERE id <= (SELECT indexed_id FROM search_state WHERE id = 1)"
    )
    _search_index_triggers(db)


def _search_index_triggers(db: sqlite_utils.Database) -> None:
    """Keep indexed rows (ids up to search_state.indexed_id) in step when articles change."""
    indexed = "old.id <= (SELECT indexed_id FROM search_state WHERE id = 1)"
    db.execute(
        f"CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles WHEN {indexed} BEGIN"
        " INSERT INTO articles_fts(articles_fts, rowid, title, summary)"
        " VALUES ('delete', old.id, old.title, old.summary); END"
    )
    db.execute(
        "CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, summary ON articles"
        f" WHEN {indexed} BEGIN"
        " INSERT INTO articles_fts(articles_fts, rowid, title, summary)"
        " VALUES ('delete', old.id, old.title, old.summary);"
        " INSERT INTO articles_fts(rowid, title, summary) VALUES (new.id, new.title, new.summary);"
        " END"
    )
