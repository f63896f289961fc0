"""The whole loop over loopback: feeds.yaml -> fetch -> parse -> store -> classify."""

from __future__ import annotations

from pathlib import Path

import storage
from monitor.demo.server import FeedServer
from monitor.runner import run_once
from tests.conftest import write_config


def feeds(server: FeedServer, *names: str) -> list[dict[str, object]]:
    return [{"name": n, "url": server.url(n), "language": "en"} for n in names]


def test_cycle_stores_classifies_and_survives_bad_feeds(
    tmp_path: Path, feed_server: FeedServer, model_dir: Path
) -> None:
    names = [
        "rss2-basic.xml",
        "rss-korean-euckr.xml",
        "malformed-truncated.xml",
        "missing.xml",
        "broken.xml",
        "not-a-feed.html",
        "json.xml",
        "empty.xml",
    ]
    config = write_config(tmp_path / "feeds.yaml", feeds(feed_server, *names), model_dir)
    outcomes = {o.feed: o for o in run_once(config, config.database_path())}
    assert outcomes["rss2-basic.xml"].new == 5 and outcomes["rss2-basic.xml"].ok
    assert outcomes["rss-korean-euckr.xml"].new == 3
    truncated = outcomes["malformed-truncated.xml"]
    assert truncated.ok and truncated.new == 5 and truncated.warning.startswith("parse: malformed")
    assert outcomes["missing.xml"].error == "fetch: HTTP 404 Not Found"
    assert outcomes["broken.xml"].error == "fetch: HTTP 500 Internal Server Error"
    assert outcomes["not-a-feed.html"].error == "parse: got an HTML page, not a feed"
    assert outcomes["json.xml"].error == "parse: got a JSON document, not an RSS or Atom feed"
    assert outcomes["empty.xml"].error == "parse: empty response body"

    db = storage.open_db(config.database_path())
    assert storage.count_articles(db) == 13
    unscored = db.execute("select count(*) from articles where classification_id is null")
    assert unscored.fetchone()[0] == 0
    versions = {r[0] for r in db.execute("select distinct model_version from classifications")}
    assert len(versions) == 1
    queue = storage.story_queue(db)
    titles = [row["title"] for row in queue]
    assert any("China repatriates 60 North Koreans" in t for t in titles)
    assert any("강제북송" in t for t in titles)
    assert not any("Rice prices" in t for t in titles)
    health = {row["name"]: row for row in storage.feed_health(db, "2026-01-01T00:00:00Z")}
    assert health["missing.xml"]["consecutive_failures"] == 1
    assert health["missing.xml"]["last_error"] == "fetch: HTTP 404 Not Found"
    assert health["malformed-truncated.xml"]["last_warning"].startswith("parse: malformed")


def test_second_cycle_uses_304_and_keeps_reviews(
    tmp_path: Path, feed_server: FeedServer, model_dir: Path
) -> None:
    config = write_config(tmp_path / "feeds.yaml", feeds(feed_server, "rss2-basic.xml"), model_dir)
    run_once(config, config.database_path())
    db = storage.open_db(config.database_path())
    first = storage.story_queue(db, limit=1)[0]["article_id"]
    storage.add_review(db, first, "relevant", "2026-11-29T09:00:00Z", note="seen")
    [outcome] = run_once(config, config.database_path())
    assert outcome.status == 304 and outcome.new == 0
    assert feed_server.requests[-1][1]["If-None-Match"]
    assert storage.count_articles(db) == 5
    assert storage.latest_review(db, first)["note"] == "seen"
    assert storage.queue_counts(db)["relevant"] == 1


def test_retry_after_sets_next_poll(
    tmp_path: Path, feed_server: FeedServer, model_dir: Path
) -> None:
    config = write_config(tmp_path / "feeds.yaml", feeds(feed_server, "busy.xml"), model_dir)
    [outcome] = run_once(config, config.database_path())
    assert outcome.status == 429
    feed = storage.get_feed(storage.open_db(config.database_path()), "busy.xml")
    polled = storage.feed_health(storage.open_db(config.database_path()), "2026-01-01T00:00:00Z")[
        0
    ]["last_polled"]
    from datetime import datetime

    gap = datetime.fromisoformat(feed.next_poll) - datetime.fromisoformat(polled)
    assert 7200 <= gap.total_seconds() <= 7200 * 1.1 + 1


def test_cross_feed_duplicate_stored_once(
    tmp_path: Path, feed_server: FeedServer, model_dir: Path
) -> None:
    config = write_config(
        tmp_path / "feeds.yaml",
        [
            {"name": "one", "url": feed_server.url("rss2-basic.xml")},
            {"name": "two", "url": feed_server.url("rss2-basic.xml") + "?copy=1"},
        ],
        model_dir,
    )
    outcomes = sorted(run_once(config, config.database_path()), key=lambda o: o.feed)
    assert sum(o.new for o in outcomes) == 5
    db = storage.open_db(config.database_path())
    assert storage.count_articles(db) == 5
    assert db.execute("select count(*) from sightings").fetchone()[0] == 10
