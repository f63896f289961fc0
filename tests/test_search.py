"""Searching the archive: trigram FTS5 for Korean, Chinese, Japanese and English words of three
characters or more, a substring scan for shorter ones, and user input that is never syntax."""

from __future__ import annotations

from pathlib import Path

import pytest

import storage
from tests.test_queue import FEEDS, NOW, Item, aid, poll, titles

ARCHIVE: dict[str, Item] = {
    "ko": ("Yonhap", "탈북민 13명 윈난서 체포", 21, "ko", {"defectors": 0.9}, ("defectors",), True),
    "ko2": ("Yonhap", "강제북송 중단하라", 22, "ko", {"repatriation": 0.2}, (), False),
    "zh": (
        "Xinhua",
        "中国遣返脱北者引发关注",
        23,
        "zh",
        {"repatriation": 0.8},
        ("repatriation",),
        True,
    ),
    "ja": (
        "Daily NK",
        "脱北者を強制送還",
        24,
        "ja",
        {"repatriation": 0.7},
        ("repatriation",),
        True,
    ),
    "en": (
        "Daily NK",
        "Defectors held in Dandong",
        25,
        "en",
        {"defectors": 0.6},
        ("defectors",),
        True,
    ),
    "odd": ("Daily NK", 'Rates 100% up_front "quoted" (NEAR) title:x', 26, "en", {}, (), False),
}


@pytest.fixture(params=["indexed", "pending"])
def db(tmp_path: Path, request: pytest.FixtureRequest):
    """The archive in the full-text index, or stored since it last caught up."""
    db = storage.open_db(tmp_path / "s.db")
    specs = [storage.FeedSpec(name, f"https://{i}.test/rss", 900) for i, name in enumerate(FEEDS)]
    storage.sync_feeds(db, specs, NOW)
    for feed in FEEDS:
        poll(db, feed, [(k, item) for k, item in ARCHIVE.items() if item[0] == feed])
    if request.param == "indexed":
        assert storage.index_pending(db) == len(ARCHIVE)
    assert storage.pending_count(db) == (len(ARCHIVE) if request.param == "pending" else 0)
    yield db
    db.close()


def search(db, query: str) -> list[str]:
    return titles(storage.search_stories(db, query))


@pytest.mark.parametrize(
    ("query", "keys"),
    [
        ("탈북", ["ko"]),  # two characters: the substring fallback
        ("脱北", ["ja", "zh"]),  # newest first without an index rank
        ("脱北者", ["zh", "ja"]),  # trigram index, Chinese and Japanese
        ("강제북송", ["ko2"]),  # unflagged articles are in the archive too
        ("defectors", ["en"]),  # English, any case
        ("DANDONG held", ["en"]),  # every word, in any order
        ("탈북 윈난서", ["ko"]),  # a short word narrows an indexed one
        ("UN", []),
        ("Rights", []),
    ],
)
def test_search_finds_words_in_every_script(db, query: str, keys: list[str]) -> None:
    assert sorted(search(db, query)) == sorted(ARCHIVE[k][1] for k in keys)


def test_search_returns_story_rows(db) -> None:
    [row] = storage.search_stories(db, "탈북민")
    assert row["id"] == storage.story_of(db, aid(db, "ko")) and row["source"] == "Yonhap"
    assert row["labels"] == ["defectors"] and row["verdict"] is None


@pytest.mark.parametrize(
    "query",
    ['"quoted"', '"', "100%", "up_", "(NEAR)", "title:x", "AND OR NOT", "*", "a\"b'c", "NEAR("],
)
def test_user_input_is_never_fts_syntax(db, query: str) -> None:
    found = search(db, query)  # no sqlite3.OperationalError for any of them
    expected = [] if query in ("AND OR NOT", "*", "a\"b'c", "NEAR(") else [ARCHIVE["odd"][1]]
    assert found == expected


def test_like_wildcards_are_literal(db) -> None:
    assert search(db, "0%") == [ARCHIVE["odd"][1]]
    assert search(db, "p_") == [ARCHIVE["odd"][1]]  # "up_front", not any p + one character
    assert search(db, "%") == [ARCHIVE["odd"][1]]
    assert search(db, "_") == [ARCHIVE["odd"][1]]
    assert search(db, "   ") == []


def test_one_row_per_story_and_edits_are_found(db) -> None:
    copy = ("Yonhap", "Defectors held in Dandong, police say", 25, "en", {}, (), False)
    saved = poll(db, "Yonhap", [("copy", copy)])
    with db.atomic():
        storage.join_story(db, saved.new["copy"], storage.story_of(db, aid(db, "en")), NOW)
    assert search(db, "Dandong") == [ARCHIVE["en"][1]]  # the story's best article
    edited = ("Daily NK", "Defectors moved to Yanji", 25, "en", {}, (), False)
    poll(db, "Daily NK", [("en", edited)], hashes="h2")
    assert search(db, "Yanji") == [edited[1]]
    assert search(db, "Dandong") == [edited[1]]  # still found through the joined copy


def test_articles_stored_after_the_index_caught_up_are_found_first(db) -> None:
    storage.index_pending(db)
    newer = ("Xinhua", "脱北者在丹东被捕", 27, "zh", {}, (), False)
    poll(db, "Xinhua", [("newer", newer)])
    assert storage.pending_count(db) == 1
    first, *rest = search(db, "脱北者")
    assert first == newer[1] and sorted(rest) == sorted([ARCHIVE["zh"][1], ARCHIVE["ja"][1]])


def test_upgrade_rebuilds_the_index_without_positions_and_keeps_what_was_indexed(
    tmp_path: Path,
) -> None:
    from storage.search import indexed_articles
    from storage.search_index import index_pending
    from tests.builders import database_before

    path = tmp_path / "old.db"
    old = database_before(path, "m013_search_index_without_positions")
    for n, title in enumerate(("Defectors reach Seoul", "탈북민 단둥으로 이송", "Late item"), 1):
        old["articles"].insert(
            {"id": n, "feed_id": 1, "title": title, "fetched": NOW, "content_hash": str(n)}
        )
        if n == 2:
            index_pending(old)  # the first two indexed under m012
    old.close()
    db = storage.open_db(path)
    (sql,) = db.execute("select sql from sqlite_master where name = 'articles_fts'").fetchone()
    assert "detail=none" in sql
    assert indexed_articles(db, "defectors") == [1]
    assert indexed_articles(db, "단둥으로") == [2]
    assert indexed_articles(db, "Late") == []  # was not indexed; the next batch takes it
    assert index_pending(db) == 1 and indexed_articles(db, "Late item") == [3]
    db.execute("update articles set title = 'Moved to Dandong' where id = 1")  # triggers
    assert indexed_articles(db, "defectors") == [] and indexed_articles(db, "Dandong") == [1]
