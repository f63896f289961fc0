"""Near-duplicate articles across outlets become one story: signatures, the index, the pipeline."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlite_utils

import storage
from monitor.demo.server import FeedServer
from monitor.normalise import iso
from monitor.runner import run_once
from monitor.similarity import BYTES, signatures, similarity
from monitor.stories import StoryIndex, StorySettings
from storage.search import indexed_articles
from tests.builders import article, database_before, store_poll
from tests.conftest import write_config

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

WIRE = (
    "China detains 13 North Koreans in Yunnan, moves them to Dandong",
    "Public security officers in Yunnan detained 13 North Koreans near the border with Laos"
    " this month and have since moved the group to a holding facility in Dandong, according"
    " to two people in contact with their relatives.",
)
WIRE_EDITED = (
    "13 North Koreans detained in Yunnan, moved to Dandong - report",
    "Public security officers in Yunnan detained 13 North Koreans near the border with Laos"
    " earlier this month and have since moved the group to a holding facility in Dandong,"
    " according to two people in contact with their relatives.",
)
SAME_TOPIC = (
    "North Korean woman arrested in Jilin faces forced return, rights group says",
    "Police in Jilin province arrested a North Korean woman who had lived in hiding for six"
    " years; a rights group said she is likely to be handed back at the Tumen crossing.",
)
KO = (
    "탈북민 13명 윈난서 체포…단둥으로 이송",
    "중국 공안이 지난주 라오스 국경 인근에서 북한 주민 13명을 체포해 단둥 구류시설로 옮겼다고"
    " 인권단체가 밝혔다.",
)
KO_EDITED = (
    "탈북민 13명 中윈난서 체포돼 단둥 이송",
    "중국 공안이 지난주 라오스 국경 인근에서 북한 주민 13명을 체포해 단둥의 구류시설로 옮겼다고"
    " 인권단체가 전했다.",
)
KO_OTHER = (
    "탈북민 1명 지린성서 체포…강제북송 우려",
    "중국 공안이 지린성에서 탈북 여성 1명을 체포했으며 강제북송이 우려된다고 인권단체가 밝혔다.",
)
ZH = (
    "13名脱北者在云南被捕 已被押往丹东",
    "人权团体称，中国警方上周在老挝边境附近拘留13名朝鲜人，并将其转移至丹东拘留所。",
)
ZH_EDITED = (
    "13名脱北者在云南被捕 已押往丹东",
    "人权团体称，中国警方上周在老挝边境附近拘留了13名朝鲜人，并已将其转移至丹东拘留所。",
)
ZH_OTHER = (
    "吉林一名脱北女性被捕 恐遭强制遣返",
    "人权团体表示，中国警方在吉林拘留了一名朝鲜女性，她可能被强制遣返。",
)


def sim(a: tuple[str, str], b: tuple[str, str]) -> float:
    left, right = signatures([a, b])
    return similarity(left, right)


# ---------------------------------------------------------------- signatures


@pytest.mark.parametrize(
    ("copy", "edited", "other"),
    [(WIRE, WIRE_EDITED, SAME_TOPIC), (KO, KO_EDITED, KO_OTHER), (ZH, ZH_EDITED, ZH_OTHER)],
    ids=["en", "ko", "zh"],
)
def test_a_lightly_edited_copy_is_similar_and_another_story_on_the_topic_is_not(
    copy: tuple[str, str], edited: tuple[str, str], other: tuple[str, str]
) -> None:
    assert sim(copy, copy) == 1.0
    assert sim(copy, edited) >= StorySettings().similarity
    assert sim(copy, other) < 0.3
    assert sim(edited, other) < 0.3


def test_signatures_ignore_case_punctuation_and_spacing() -> None:
    title, summary = WIRE
    noisy = (f"  {title.upper()}!!! ", summary.replace(",", " ,  ").replace(".", " … "))
    assert sim(WIRE, noisy) == 1.0


def test_empty_text_has_no_signature_and_matches_nothing() -> None:
    empty, punctuation, short = signatures([("", ""), ("…!?", " - "), ("탈북", "")])
    assert empty == b"" and punctuation == b""
    assert len(short) == BYTES
    assert similarity(empty, punctuation) == 0.0


def test_signatures_are_the_same_in_another_process() -> None:
    script = (
        "from monitor.similarity import signatures;"
        "import sys; sys.stdout.write(signatures([(sys.argv[1], sys.argv[2])])[0].hex())"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, *KO], capture_output=True, text=True, check=True
    )
    assert out.stdout == signatures([KO])[0].hex()


# ---------------------------------------------------------------- grouping in the database


def store(
    db: sqlite_utils.Database,
    feed_id: int,
    index: StoryIndex,
    items: list[tuple[str, tuple[str, str], datetime]],
    now: datetime = NOW,
) -> dict[str, int]:
    """Store one poll of `feed_id` (key, (title, summary), published) and group it."""
    texts = [text for _, text, _ in items]
    articles = [
        article(
            key,
            title,
            summary=summary,
            url=f"https://outlet{feed_id}.test/{key}",
            published=iso(published),
            language=None,
            signature=signature,
        )
        for (key, (title, summary), published), signature in zip(
            items, signatures(texts), strict=True
        )
    ]
    with db.atomic():
        saved = store_poll(db, feed_id, articles, started=iso(now))
        index.group(db, feed_id, saved.new, articles, now)
    return saved.new


@pytest.fixture
def db(tmp_path: Path) -> sqlite_utils.Database:
    database = storage.open_db(tmp_path / "stories.db")
    specs = [
        storage.FeedSpec(name=f"outlet {n}", url=f"https://outlet{n}.test/rss", interval_s=1800)
        for n in (1, 2, 3)
    ]
    storage.sync_feeds(database, specs, iso(NOW))
    return database


def story(db: sqlite_utils.Database, article_id: int) -> dict[str, object]:
    story_id = storage.story_of(db, article_id)
    return next(db.query("select * from stories where id = ?", [story_id]))


def test_copies_in_three_outlets_are_one_story_that_knows_its_first_outlet(
    db: sqlite_utils.Database,
) -> None:
    index = StoryIndex()
    second = store(db, 2, index, [("a", WIRE_EDITED, NOW - timedelta(hours=1))])
    first = store(db, 1, index, [("b", WIRE, NOW - timedelta(hours=5))])
    third = store(db, 3, index, [("c", WIRE, NOW)])
    ids = [second["a"], first["b"], third["c"]]
    assert len({storage.story_of(db, i) for i in ids}) == 1
    row = story(db, ids[0])
    assert row["articles"] == 3 and row["outlets"] == 3
    assert row["first_article_id"] == first["b"] and row["first_feed_id"] == 1
    assert row["first_time"] == iso(NOW - timedelta(hours=5))
    assert db.execute("select count(*) from stories").fetchone()[0] == 1  # the others dropped


def test_a_wire_story_in_forty_outlets_is_one_story() -> None:
    """More copies than a band keeps (BUCKET_ROWS), word for word or edited, find their story."""
    index = StoryIndex()
    copies = [WIRE] * 30 + [WIRE_EDITED] * 10
    found = []
    for n, signature in enumerate(signatures(copies)):
        story_id = index.find(signature, n, iso(NOW))
        found.append(story_id)
        index.add(n, 0 if story_id is None else story_id, n, iso(NOW), signature)
    assert found == [None] + [0] * 39


def test_pruning_forgets_old_articles_and_is_the_index_of_those_kept() -> None:
    """A long-running daemon's index: after prune() it is what a new index of the articles
    kept would be, and it goes on finding and adding."""
    old, recent, other = signatures([WIRE, KO, ZH])
    articles = [(1, 1, 1, iso(NOW - timedelta(days=10)), old)]
    articles += [(n, 2, n, iso(NOW - timedelta(hours=n)), recent) for n in range(2, 14)]
    articles += [(20, 20, 20, iso(NOW), other), (21, 21, 21, iso(NOW), b"")]  # no signature
    index = StoryIndex()
    for article_id, story_id, feed_id, time, signature in articles:
        index.add(article_id, story_id, feed_id, time, signature)
    assert len(index) == 14
    index.prune(NOW)
    kept = StoryIndex()
    for article_id, story_id, feed_id, time, signature in articles[1:]:
        kept.add(article_id, story_id, feed_id, time, signature)
    assert len(index) == len(kept) == 13
    assert index._rows == kept._rows and index._buckets == kept._buckets
    for name in ("_signatures", "_stories", "_feeds", "_times"):
        assert (getattr(index, name)[:13] == getattr(kept, name)[:13]).all(), name
    assert index.find(old, 99, iso(NOW - timedelta(days=10))) is None
    assert index.find(recent, 99, iso(NOW)) == 2
    assert index.find(other, 99, iso(NOW)) == 20
    (edited,) = signatures([ZH_EDITED])
    index.add(30, 20, 30, iso(NOW), edited)
    assert len(index) == 14 and index.find(edited, 99, iso(NOW)) == 20


def test_a_candidate_shares_two_bands_unless_one_half_is_empty() -> None:
    index = StoryIndex()
    (signature,) = signatures([WIRE])
    index.add(1, 1, 1, iso(NOW), signature)
    one_band = bytearray(signatures([SAME_TOPIC])[0])
    one_band[:8] = signature[:8]  # the first title band, alone
    assert similarity(bytes(one_band), signature) < 0.2
    assert index.find(bytes(one_band), 2, iso(NOW)) is None
    two_bands = bytearray(one_band)
    two_bands[8:16] = signature[8:16]
    index.settings = StorySettings(similarity=0.0)  # any candidate at all is a match
    assert index.find(bytes(two_bands), 2, iso(NOW)) == 1
    assert index.find(bytes(one_band), 2, iso(NOW)) is None  # still not a candidate


def test_different_stories_on_one_topic_stay_apart(db: sqlite_utils.Database) -> None:
    index = StoryIndex()
    one = store(db, 1, index, [("a", WIRE, NOW), ("k", KO, NOW), ("z", ZH, NOW)])
    two = store(db, 2, index, [("b", SAME_TOPIC, NOW), ("k", KO_OTHER, NOW), ("z", ZH_OTHER, NOW)])
    stories = {storage.story_of(db, i) for i in [*one.values(), *two.values()]}
    assert len(stories) == 6


def test_copies_further_apart_than_the_window_are_separate_stories(
    db: sqlite_utils.Database,
) -> None:
    index = StoryIndex(StorySettings(window=timedelta(days=3)))
    old = store(db, 1, index, [("a", WIRE, NOW - timedelta(days=4))])
    new = store(db, 2, index, [("b", WIRE, NOW)])
    assert storage.story_of(db, old["a"]) != storage.story_of(db, new["b"])


def test_one_outlet_repeating_itself_needs_a_closer_match(db: sqlite_utils.Database) -> None:
    assert StorySettings().similarity <= sim(KO, KO_EDITED) < StorySettings().same_outlet_similarity
    index = StoryIndex()
    ids = store(db, 1, index, [("a", KO, NOW), ("b", KO_EDITED, NOW), ("c", KO, NOW)])
    assert storage.story_of(db, ids["a"]) != storage.story_of(db, ids["b"])
    assert storage.story_of(db, ids["a"]) == storage.story_of(db, ids["c"])  # identical text


def test_a_new_index_finds_stories_stored_before_it_and_signs_old_articles(
    db: sqlite_utils.Database,
) -> None:
    first = store(db, 1, StoryIndex(), [("a", WIRE, NOW)])
    db.execute("update articles set signature = null")  # stored before signatures existed
    later = store(db, 2, StoryIndex(), [("b", WIRE_EDITED, NOW)])
    assert storage.story_of(db, first["a"]) == storage.story_of(db, later["b"])
    assert db.execute("select count(*) from articles where signature is null").fetchone()[0] == 0


def test_a_verdict_on_a_story_applies_to_every_article_in_it(db: sqlite_utils.Database) -> None:
    index = StoryIndex()
    first = store(db, 1, index, [("a", WIRE, NOW)])
    storage.add_review(db, first["a"], "relevant", iso(NOW), labels=["repatriation"])
    later = store(db, 2, index, [("b", WIRE_EDITED, NOW)])  # joins the reviewed story
    examples = {row["id"]: row for row in storage.reviewed_examples(db)}
    assert set(examples) == {first["a"], later["b"]}
    assert examples[later["b"]]["labels"] == ["repatriation"]
    assert storage.latest_review(db, later["b"])["verdict"] == "relevant"
    row = story(db, later["b"])
    assert row["last_joined"] == iso(NOW) and row["articles"] == 2


def test_a_story_keeps_the_best_score_of_its_articles(db: sqlite_utils.Database) -> None:
    index = StoryIndex()
    first = store(db, 1, index, [("a", WIRE, NOW)])
    later = store(db, 2, index, [("b", WIRE_EDITED, NOW)])
    for article_id, score in ((first["a"], 0.4), (later["b"], 0.9)):
        result = storage.ClassificationIn(
            scores={"repatriation": score}, labels=("repatriation",) if score > 0.5 else (),
            flagged=score > 0.5, margin=score - 0.5,
        )  # fmt: skip
        storage.save_classification(db, article_id, "v1", result, iso(NOW))
    row = story(db, first["a"])
    assert row["score"] == 0.9 and row["best_article_id"] == later["b"]
    assert row["flagged"] == 1 and row["margin"] == pytest.approx(0.4)


def test_migration_gives_existing_articles_a_story_each_and_keeps_their_verdicts(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    old = database_before(path, "m011_create_stories")
    for n in (1, 2):
        old["articles"].insert(
            {"id": n, "feed_id": 1, "title": f"t{n}", "fetched": iso(NOW), "content_hash": str(n)}
        )
    old["reviews"].insert(
        {"article_id": 2, "verdict": "relevant", "labels": "[]", "reviewed_at": iso(NOW)}
    )
    old.close()
    db = storage.open_db(path)
    assert db.execute("select count(*) from stories").fetchone()[0] == 2
    assert storage.latest_review(db, 2)["verdict"] == "relevant"
    assert storage.latest_review(db, 1) is None
    assert indexed_articles(db, "t1") == []  # trigram: three characters at least
    assert db.execute("select count(*) from articles_fts").fetchone()[0] == 2


# ---------------------------------------------------------------- the whole pipeline


RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>{name}</title><link>https://{name}.test/</link>
{items}</channel></rss>"""
ITEM = """<item><title>{title}</title><link>https://{name}.test/{slug}</link>
<guid>{name}-{slug}</guid><pubDate>{date}</pubDate><description>{summary}</description></item>"""


def write_feed(
    folder: Path, name: str, items: list[tuple[str, tuple[str, str]]], hours_ago: int = 0
) -> None:
    date = (NOW - timedelta(hours=hours_ago)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    body = "".join(
        ITEM.format(name=name, slug=slug, title=title, summary=summary, date=date)
        for slug, (title, summary) in items
    )
    (folder / f"{name}.xml").write_text(RSS.format(name=name, items=body), encoding="utf-8")


def test_run_once_groups_a_wire_story_across_outlets_and_runs(
    tmp_path: Path, model_dir: Path
) -> None:
    folder = tmp_path / "feeds"
    folder.mkdir()
    write_feed(folder, "wire", [("yunnan", WIRE), ("jilin", SAME_TOPIC)], hours_ago=3)
    write_feed(folder, "daily", [("dandong", WIRE_EDITED), ("seoul", KO)])
    with FeedServer(folder) as server:
        feeds = [{"name": n, "url": server.url(f"{n}.xml")} for n in ("wire", "daily")]
        config = write_config(tmp_path / "feeds.yaml", feeds, model_dir)
        run_once(config, config.database_path())
        write_feed(folder, "later", [("copy", WIRE)])  # a third outlet, in the next run
        feeds.append({"name": "later", "url": server.url("later.xml")})
        config = write_config(tmp_path / "feeds.yaml", feeds, model_dir)
        run_once(config, config.database_path())
    db = storage.open_db(config.database_path())
    rows = list(
        db.query(
            "select s.articles, s.outlets, f.name as first from stories s"
            " join feeds f on f.id = s.first_feed_id order by s.articles desc"
        )
    )
    assert len(rows) == 3  # the wire story, the Jilin story, the Korean story
    assert rows[0] == {"articles": 3, "outlets": 3, "first": "wire"}


def test_search_index_catches_up_in_batches_and_follows_changes(
    db: sqlite_utils.Database,
) -> None:
    from storage.search_index import index_pending, indexed_up_to, pending_count

    def found(words: str) -> list[int]:
        return indexed_articles(db, words)

    ids = store(db, 1, StoryIndex(), [("a", WIRE, NOW), ("k", KO, NOW), ("z", ZH, NOW)])
    assert pending_count(db) == 3 and found("Dandong") == []  # not indexed yet
    assert index_pending(db, limit=2) == 2 and index_pending(db) == 1
    assert indexed_up_to(db) == max(ids.values()) and pending_count(db) == 0
    assert found("Dandong") == [ids["a"]]
    assert found("단둥") == []  # two characters: below the trigram index, a substring scan's job
    assert found("단둥으로") == [ids["k"]] and found("脱北者") == [ids["z"]]
    db.execute("update articles set title = 'Yalu fences' where id = ?", [ids["a"]])
    assert found("Dandong") == [ids["a"]]  # still in the summary
    assert found("Yalu") == [ids["a"]] and found("Yunnan, moves") == []
