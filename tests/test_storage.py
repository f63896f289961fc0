from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import storage
from storage import ArticleIn, ClassificationIn, FeedSpec, PollRecord
from tests import builders

NOW = "2026-11-29T08:00:00Z"
LATER = "2026-11-29T09:00:00Z"


def article(key: str, url: str | None = None, title: str = "Title", summary: str = "") -> ArticleIn:
    return builders.article(key, title, summary=summary, url=url)


def poll(feed_id: int, started: str = NOW, **kw: object) -> PollRecord:
    values: dict[str, object] = {
        "feed_id": feed_id,
        "started": started,
        "http_status": 200,
        "next_poll": LATER,
        "duration_ms": 3,
        "ok": True,
    }
    values.update(kw)
    return PollRecord(**values)  # type: ignore[arg-type]


FLAG = ClassificationIn(
    {"defectors": 0.9, "repatriation": 0.2, "border": 0.1}, ("defectors",), True
)


@pytest.fixture
def db(tmp_path: Path):
    database = storage.open_db(tmp_path / "t.db")
    storage.sync_feeds(
        database,
        [
            FeedSpec("A", "https://a.example/rss", 1800, "en"),
            FeedSpec("B", "https://b.example/rss", 900),
        ],
        NOW,
    )
    yield database
    database.close()


def feed_id(db, name: str) -> int:
    feed = storage.get_feed(db, name)
    assert feed is not None
    return feed.id


def test_wal_busy_timeout_and_named_migrations(db) -> None:
    assert db.journal_mode == "wal"
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] == 10_000
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL: no fsync per commit
    assert storage.applied_migrations(db) == [
        "m001_create_feeds",
        "m002_create_articles",
        "m003_create_classifications",
        "m004_create_reviews",
        "m005_create_polls",
        "m006_feed_politeness_state",
        "m007_feed_encoding",
        "m008_classification_why_and_margin",
        "m009_create_audits",
        "m010_create_alerts",
        "m011_create_stories",
        "m012_create_search_index",
        "m013_search_index_without_positions",
    ]


def test_reopening_does_not_reapply_migrations(tmp_path: Path) -> None:
    storage.open_db(tmp_path / "x.db").close()
    again = storage.open_db(tmp_path / "x.db")
    assert len(storage.applied_migrations(again)) == 13


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(storage.StorageError, match="junk.db"):
        storage.open_db(path)


def test_repolling_never_duplicates(db) -> None:
    a = feed_id(db, "A")
    items = [article("g1", "https://n.example/1"), article("g2", "https://n.example/2")]
    first = storage.save_poll(db, poll(a), items, {"g1": FLAG, "g2": FLAG}, "v1")
    second = storage.save_poll(db, poll(a, LATER), items, {}, "v1")
    assert len(first.new) == 2 and second.new == {} and second.changed == {}
    assert storage.count_articles(db) == 2


def test_same_canonical_url_from_two_feeds_is_one_article(db) -> None:
    a, b = feed_id(db, "A"), feed_id(db, "B")
    storage.save_poll(db, poll(a), [article("ga", "https://n.example/story")], {"ga": FLAG}, "v1")
    saved = storage.save_poll(db, poll(b), [article("gb", "https://n.example/story")], {}, "v1")
    assert saved.new == {}
    assert storage.count_articles(db) == 1
    assert storage.article_outlets(db, 1) == ["A", "B"]


def test_changed_content_updates_and_keeps_review(db) -> None:
    a = feed_id(db, "A")
    storage.save_poll(db, poll(a), [article("g1", title="Old")], {"g1": FLAG}, "v1")
    review = storage.add_review(db, 1, "relevant", NOW, note="keep me")
    saved = storage.save_poll(db, poll(a, LATER), [article("g1", title="New")], {"g1": FLAG}, "v1")
    assert saved.changed == {"g1": 1}
    assert storage.get_article(db, 1)["title"] == "New"
    latest = storage.latest_review(db, 1)
    assert latest is not None and latest["id"] == review and latest["note"] == "keep me"


def test_poll_is_one_transaction(db) -> None:
    a = feed_id(db, "A")
    bad = article("g2", "https://n.example/2")
    broken = ClassificationIn({"defectors": float("nan")}, (), False)

    class Boom(Exception):
        pass

    class ExplodingScores(dict):  # fails once the articles are being written
        def __contains__(self, key: object) -> bool:
            raise Boom()

        def get(self, key: object, default: object = None) -> object:
            raise Boom()

    with pytest.raises(Boom):
        storage.save_poll(
            db,
            poll(a, etag='"new"'),
            [article("g1", "https://n.example/1"), bad],
            ExplodingScores(g1=broken),
            "v1",
        )
    assert storage.count_articles(db) == 0
    assert storage.get_feed(db, "A").etag is None  # validators not written without the items


def test_validators_kept_on_304_and_replaced_on_200(db) -> None:
    a = feed_id(db, "A")
    storage.save_poll(db, poll(a, etag='"v1"', last_modified="Mon, 01 Jan 2026 00:00:00 GMT"))
    storage.save_poll(db, poll(a, http_status=304))
    feed = storage.get_feed(db, "A")
    assert (feed.etag, feed.last_modified) == ('"v1"', "Mon, 01 Jan 2026 00:00:00 GMT")
    storage.save_poll(db, poll(a, etag='"v2"'))
    assert storage.get_feed(db, "A").etag == '"v2"'


def test_failures_counted_and_reset(db) -> None:
    a = feed_id(db, "A")
    for _ in range(2):
        storage.save_poll(db, poll(a, ok=False, http_status=500, error="fetch: HTTP 500"))
    feed = storage.get_feed(db, "A")
    assert feed.consecutive_failures == 2 and feed.last_error == "fetch: HTTP 500"
    storage.save_poll(db, poll(a))
    feed = storage.get_feed(db, "A")
    assert feed.consecutive_failures == 0 and feed.last_error is None and feed.last_success == NOW


def test_due_feeds_respects_next_poll(db) -> None:
    a = feed_id(db, "A")
    assert [f.name for f in storage.due_feeds(db, NOW)] == ["A", "B"]
    storage.save_poll(db, poll(a, next_poll=LATER))
    assert [f.name for f in storage.due_feeds(db, NOW)] == ["B"]
    assert [f.name for f in storage.due_feeds(db, LATER)] == ["B", "A"]  # never polled first


def test_sync_keeps_state_and_disables_removed_feeds(db) -> None:
    a = feed_id(db, "A")
    storage.save_poll(db, poll(a, etag='"e"'))
    storage.sync_feeds(db, [FeedSpec("A", "https://a.example/rss", 600)], LATER)
    feed = storage.get_feed(db, "A")
    assert feed.etag == '"e"' and feed.interval_s == 600
    assert not storage.get_feed(db, "B").enabled
    storage.sync_feeds(db, [FeedSpec("A", "https://a.example/new", 600)], LATER)
    assert storage.get_feed(db, "A").etag is None  # validators belonged to the old URL


def queue_titles(db, **filters: object) -> list[str]:
    return [r["title"] for r in storage.story_queue(db, storage.StoryFilters(**filters))]


def test_story_queue_order_and_reviews(db) -> None:
    a = feed_id(db, "A")
    low = ClassificationIn({"border": 0.6}, ("border",), True)
    unflagged = ClassificationIn({"border": 0.1}, (), False)
    items = [article("g1", title="High"), article("g2", title="Low"), article("g3", title="No")]
    storage.save_poll(db, poll(a), items, {"g1": FLAG, "g2": low, "g3": unflagged}, "v1")
    assert queue_titles(db) == ["High", "Low"]
    rid = storage.add_review(db, 1, "not-relevant", NOW)
    assert queue_titles(db) == ["Low"]
    assert queue_titles(db, status="not-relevant") == ["High"]
    storage.undo_review(db, rid)
    assert queue_titles(db) == ["High", "Low"]
    assert queue_titles(db, status="not-relevant") == []


def test_review_defaults_and_errors(db) -> None:
    a = feed_id(db, "A")
    storage.save_poll(db, poll(a), [article("g1")], {"g1": FLAG}, "v1")
    storage.add_review(db, 1, "relevant", NOW, note="first")
    storage.add_review(db, 1, "relevant", LATER)
    latest = storage.latest_review(db, 1)
    assert latest["note"] == "first" and latest["labels"] == '["defectors"]'
    examples = storage.reviewed_examples(db)
    assert [(e["id"], e["labels"]) for e in examples] == [(1, ["defectors"])]
    with pytest.raises(storage.ReviewError, match="no article with id 99"):
        storage.add_review(db, 99, "relevant", NOW)
    with pytest.raises(storage.ReviewError, match="verdict must be"):
        storage.add_review(db, 1, "maybe", NOW)


def test_readers_see_committed_data_while_a_writer_waits(tmp_path: Path) -> None:
    writer = storage.open_db(tmp_path / "c.db")
    storage.sync_feeds(writer, [FeedSpec("A", "https://a.example/rss", 1800)], NOW)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("update feeds set last_error = 'pending'")
    reader = sqlite3.connect(tmp_path / "c.db")
    assert reader.execute("select last_error from feeds").fetchone() == (None,)
    writer.execute("COMMIT")
    assert reader.execute("select last_error from feeds").fetchone() == ("pending",)


@pytest.mark.parametrize("precomputed", [False, True])
def test_matches_looked_up_once_store_the_same_as_lookups(db, precomputed: bool) -> None:
    """The pipeline passes find_matches' result to save_poll; two items of one poll with the
    same canonical URL must still become one article, and a changed item an update."""
    a, b = feed_id(db, "A"), feed_id(db, "B")
    storage.save_poll(db, poll(b), [article("elsewhere", "https://n.example/b")], {}, "v1")
    storage.save_poll(db, poll(a), [article("g1", "https://n.example/1", title="Old")], {}, "v1")
    items = [
        article("g1", "https://n.example/1", title="New"),  # changed in this feed
        article("g2", "https://n.example/2"),  # new
        article("g3", "https://n.example/2"),  # same story as g2, another key
        article("g4", "https://n.example/b"),  # already stored from feed B
    ]
    matches = storage.find_matches(db, a, items) if precomputed else None
    fresh = storage.needs_classifying(db, a, items, matches)
    assert [x.key for x in fresh] == ["g1", "g2", "g3"]
    saved = storage.save_poll(db, poll(a, LATER), items, {}, "v1", matches)
    assert (list(saved.new), list(saved.changed)) == (["g2"], ["g1"])
    assert storage.count_articles(db) == 3
    g2 = saved.new["g2"]
    keys = db.execute("select key from sightings where article_id = ? order by key", [g2])
    assert [r[0] for r in keys.fetchall()] == ["g2", "g3"]
    assert storage.article_outlets(db, 1) == ["B", "A"]


def test_story_queue_orders_by_margin_or_date(db) -> None:
    from dataclasses import replace

    results = {  # title: (classification, published day)
        "sure": (ClassificationIn({"defectors": 0.95}, ("defectors",), True, margin=0.45), 1),
        "close": (ClassificationIn({"border": 0.52}, ("border",), True, margin=0.02), 3),
        "miss": (ClassificationIn({"border": 0.45}, (), False, margin=-0.05), 4),
        "far": (ClassificationIn({"border": 0.01}, (), False, margin=-0.49), 5),
        "old": (ClassificationIn({"defectors": 0.7}, ("defectors",), True), 2),  # no margin
    }
    items = [
        replace(article(t, title=t), published=f"2026-11-2{day}T00:00:00Z")
        for t, (_, day) in results.items()
    ]
    scores = {t: result for t, (result, _) in results.items()}
    storage.save_poll(db, poll(feed_id(db, "A")), items, scores, "v1")
    order = {o: queue_titles(db, order=o) for o in storage.ORDERS}
    assert order == {
        "uncertain": ["close", "miss", "sure", "far", "old"],
        "score": ["sure", "old", "close"],
        "date": ["close", "old", "sure"],
    }
    uncertain = storage.StoryFilters(order="uncertain")
    assert [r["margin"] for r in storage.story_queue(db, uncertain, limit=2)] == [0.02, -0.05]
    with pytest.raises(ValueError, match="order must be one of score, uncertain, date"):
        storage.StoryFilters(order="random")
