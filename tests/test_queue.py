"""The story review queue: statuses, filters, counts, markers, and the reviews behind them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pytest

import storage
from storage import StoryFilters
from tests.builders import article, store_poll

NOW = "2026-11-29T08:00:00Z"
REVIEWED = "2026-11-29T09:30:00Z"
LATER = "2026-11-29T10:00:00Z"
FEEDS = ("Daily NK", "Yonhap", "Xinhua")

# key: (feed, title, published day, language, scores, labels, flagged)
Item = tuple[str, str, int, str, dict[str, float], tuple[str, ...], bool]
ITEMS: dict[str, Item] = {
    "a": (
        "Daily NK",
        "Defectors detained in Shenyang",
        21,
        "en",
        {"defectors": 0.95},
        ("defectors",),
        True,
    ),
    "b": (
        "Yonhap",
        "탈북민 강제북송 우려",
        24,
        "ko",
        {"repatriation": 0.88},
        ("repatriation",),
        True,
    ),
    "c": ("Xinhua", "边境围栏延长", 20, "zh", {"border": 0.71}, ("border",), True),
    "d": ("Daily NK", "Weather in Pyongyang", 25, "en", {"defectors": 0.05}, (), False),
}


def poll(db, feed: str, items: Sequence[tuple[str, Item]], started: str = NOW, hashes: str = "h"):
    found = storage.get_feed(db, feed)
    assert found is not None
    articles = [
        article(
            key,
            title,
            summary=f"About {key}.",
            published=f"2026-11-{day}T06:00:00Z",
            language=language,
            content_hash=f"{hashes}-{key}",
        )
        for key, (_feed, title, day, language, *_rest) in items
    ]
    scores = {
        key: storage.ClassificationIn(s, labels, flagged, margin=max(s.values(), default=0) - 0.5)
        for key, (*_head, s, labels, flagged) in items
    }
    return store_poll(db, found.id, articles, scores, started=started, model="test-model")


@pytest.fixture
def db(tmp_path: Path):
    db = storage.open_db(tmp_path / "q.db")
    specs = [storage.FeedSpec(name, f"https://{i}.test/rss", 900) for i, name in enumerate(FEEDS)]
    storage.sync_feeds(db, specs, NOW)
    for feed in FEEDS:
        poll(db, feed, [(k, item) for k, item in ITEMS.items() if item[0] == feed])
    yield db
    db.close()


def aid(db, key: str) -> int:
    return db.execute("select id from articles where guid = ?", [key]).fetchone()[0]


def titles(rows) -> list[str]:
    return [row["title"] for row in rows]


def queue(db, **filters) -> list[str]:
    return titles(storage.story_queue(db, StoryFilters(**filters)))


def test_flagged_stories_wait_for_a_verdict_by_score_or_date(db) -> None:
    assert queue(db) == [ITEMS[k][1] for k in "abc"]
    assert queue(db, order="date") == [ITEMS[k][1] for k in "bac"]
    assert queue(db, order="uncertain") == [ITEMS[k][1] for k in "cbad"]  # by |score - 0.5|
    [row] = storage.story_queue(db, limit=1)
    assert row["id"] == storage.story_of(db, aid(db, "a")) and row["article_id"] == aid(db, "a")
    assert row["source"] == "Daily NK" and row["first_time"] == "2026-11-21T06:00:00Z"
    assert row["labels"] == ["defectors"] and row["scores"]["defectors"] == 0.95
    assert (row["verdict"], row["marker"], row["outlets"], row["articles"]) == (None, None, 1, 1)


def test_statuses_and_counts(db) -> None:
    storage.add_review(db, aid(db, "a"), "relevant", REVIEWED)
    storage.add_review(db, aid(db, "b"), "escalated", REVIEWED)
    storage.add_review(db, aid(db, "d"), "not-relevant", REVIEWED)  # unflagged, from an audit
    assert queue(db) == [ITEMS["c"][1]]
    assert queue(db, status="relevant") == [ITEMS["a"][1]]
    assert queue(db, status="escalated") == [ITEMS["b"][1]]
    assert queue(db, status="not-relevant") == [ITEMS["d"][1]]
    assert queue(db, status="all") == [ITEMS[k][1] for k in "abcd"]
    counts = storage.queue_counts(db)
    assert counts == {"unreviewed": 1, "relevant": 1, "not-relevant": 1, "escalated": 1}
    assert storage.queue_counts(db, StoryFilters(language="ko"))["escalated"] == 1
    assert storage.queue_counts(db, StoryFilters(language="ko"))["relevant"] == 0


def test_filters_label_feed_language_dates(db) -> None:
    assert queue(db, labels=("border",)) == [ITEMS["c"][1]]
    assert queue(db, labels=("border", "defectors")) == [ITEMS[k][1] for k in "ac"]
    assert queue(db, feed="Yonhap") == [ITEMS["b"][1]]
    assert queue(db, feed="Nobody") == []
    assert queue(db, language="zh") == [ITEMS["c"][1]]
    assert queue(db, since=date(2026, 11, 21)) == [ITEMS[k][1] for k in "ab"]
    assert queue(db, until=date(2026, 11, 21)) == [ITEMS[k][1] for k in "ac"]  # inclusive
    assert queue(db, since=date(2026, 11, 22), until=date(2026, 11, 24)) == [ITEMS["b"][1]]
    # once relevant, the analyst's labels count, not the model's
    storage.add_review(db, aid(db, "a"), "relevant", REVIEWED, labels=["border"])
    assert queue(db, status="all", labels=("border",)) == [ITEMS[k][1] for k in "ac"]
    assert queue(db, status="all", labels=("defectors",)) == []


def test_bad_filters_are_refused() -> None:
    with pytest.raises(ValueError, match="status must be one of"):
        StoryFilters(status="maybe")
    with pytest.raises(ValueError, match="order must be one of"):
        StoryFilters(order="random")
    with pytest.raises(ValueError, match="unknown label 'weather'"):
        StoryFilters(labels=("weather",))


def join(db, key: str, into: str, feed: str = "Yonhap", at: str = LATER) -> int:
    """A new article `key` from `feed`, stored at `at`, joined to the story of `into`."""
    item = (feed, f"{ITEMS[into][1]} (copy)", 22, "en", {"defectors": 0.9}, ("defectors",), True)
    saved = poll(db, feed, [(key, item)], started=at)
    story = storage.story_of(db, aid(db, into))
    with db.atomic():
        storage.join_story(db, saved.new[key], story, at)
    return saved.new[key]


def test_a_verdict_covers_the_story_and_joined_articles_show_as_new(db) -> None:
    storage.add_review(db, aid(db, "a"), "relevant", REVIEWED)
    copy = join(db, "a2", "a")
    assert queue(db) == [ITEMS[k][1] for k in "bc"]  # not back in the queue...
    [row] = storage.story_queue(db, StoryFilters(status="relevant"))
    assert row["marker"] == "new" and row["articles"] == 2 and row["outlets"] == 2  # ...but new
    examples = {e["id"]: e for e in storage.reviewed_examples(db)}
    assert examples[copy]["verdict"] == "relevant" and examples[copy]["labels"] == ["defectors"]
    outlets = storage.story_outlets(db, [row["id"]])[row["id"]]
    assert [(o["feed"], o["first_seen"]) for o in outlets] == [("Daily NK", NOW), ("Yonhap", LATER)]


def test_a_changed_flagged_article_brings_its_story_back_marked_updated(db) -> None:
    storage.add_review(db, aid(db, "a"), "not-relevant", REVIEWED)
    storage.add_review(db, aid(db, "d"), "not-relevant", REVIEWED)
    assert ITEMS["a"][1] not in queue(db)
    poll(db, "Daily NK", [("a", ITEMS["a"]), ("d", ITEMS["d"])], started=LATER, hashes="h2")
    rows = storage.story_queue(db)
    assert titles(rows) == [ITEMS[k][1] for k in "abc"]  # d is unflagged: not back
    assert rows[0]["marker"] == "updated" and rows[0]["verdict"] == "not-relevant"
    assert storage.queue_counts(db)["unreviewed"] == 3
    storage.add_review(db, aid(db, "a"), "relevant", "2026-11-29T11:00:00Z")  # seen again
    assert queue(db) == [ITEMS[k][1] for k in "bc"]


def test_escalated_trains_as_relevant_and_labels_toggle(db) -> None:
    a = aid(db, "a")
    storage.add_review(db, a, "escalated", REVIEWED)
    assert storage.reviewed_examples(db)[0]["labels"] == ["defectors"]
    storage.toggle_label(db, a, "border", LATER)
    assert (storage.latest_review(db, a)["verdict"], storage.current_labels(db, a)) == (
        "escalated",
        ["defectors", "border"],
    )
    storage.toggle_label(db, a, "defectors", LATER)
    with pytest.raises(storage.ReviewError, match="needs a label"):
        storage.toggle_label(db, a, "border", LATER)
    b = aid(db, "b")
    storage.toggle_label(db, b, "border", LATER)  # unreviewed: relevant with that label
    assert json.loads(storage.latest_review(db, b)["labels"]) == ["border"]
    storage.add_review(db, b, "not-relevant", LATER)
    storage.toggle_label(db, b, "defectors", LATER)
    assert storage.latest_review(db, b)["verdict"] == "relevant"
    assert storage.current_labels(db, b) == ["defectors"]


def test_notes_keep_the_verdict_and_need_one(db) -> None:
    a = aid(db, "a")
    with pytest.raises(storage.ReviewError, match="verdict before a note"):
        storage.set_note(db, a, "seen", LATER)
    storage.add_review(db, a, "relevant", REVIEWED, labels=["border"])
    review_id = storage.set_note(db, a, "seen by Kim", LATER)
    latest = storage.latest_review(db, a)
    assert (latest["verdict"], latest["labels"], latest["note"]) == (
        "relevant",
        '["border"]',
        "seen by Kim",
    )
    storage.undo_review(db, review_id)
    assert storage.latest_review(db, a)["note"] == ""


def test_audit_stories_only(db) -> None:
    d = aid(db, "d")
    with db.atomic():
        db.execute(
            "insert into audits (id, sampled_at, week, window_start, window_end, unflagged)"
            " values (1, ?, '2026-W48', ?, ?, 1)",
            [NOW, NOW, NOW],
        )
        db.execute("insert into audit_samples values (?, 1, ?, '2026-W48')", [d, NOW])
    assert queue(db, audit=True) == [ITEMS["d"][1]]
    storage.add_review(db, d, "relevant", REVIEWED)
    assert queue(db, audit=True) == []
    assert queue(db, audit=True, status="relevant") == [ITEMS["d"][1]]
