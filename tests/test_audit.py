"""`monitor audit`: random samples of unflagged articles, reviewed, give the estimate of missed
stories a week shown by `monitor status`, `monitor audit --estimate` and `monitor digest`."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

import storage
from monitor.audit import (
    MissedEstimate,
    audit_week,
    draw_audit,
    missed_estimates,
    sample_size,
    wilson,
)
from monitor.cli import cli
from monitor.normalise import iso
from monitor.tui.app import ReviewApp
from tests.builders import article, store_poll

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
UNFLAGGED = storage.ClassificationIn({"defectors": 0.05, "border": 0.1}, (), False, margin=-0.4)
FLAGGED = storage.ClassificationIn({"defectors": 0.9}, ("defectors",), True, margin=0.4)


def build(path: Path, now: datetime, unflagged: int, *, flagged: int = 5, old: int = 5) -> None:
    """`unflagged` unflagged and `flagged` flagged articles in the 7 days before `now`, and `old`
    unflagged ones from before that."""
    db = storage.open_db(path)
    storage.sync_feeds(db, [storage.FeedSpec("Wire", "https://wire.test/rss", 900)], iso(now))
    specs = [("u", UNFLAGGED, 0)] * unflagged + [("f", FLAGGED, 0)] * flagged
    specs += [("o", UNFLAGGED, 8 * 86400)] * old
    articles, scores = [], {}
    for i, (kind, result, before) in enumerate(specs):
        key = f"{kind}{i}"
        published = now - timedelta(seconds=before + 1 + (i * 7919) % (6 * 86400))
        articles.append(
            article(key, f"{kind} story {i}", url=None, published=iso(published), content_hash=key)
        )
        scores[key] = result
    store_poll(db, 1, articles, scores, started=iso(now), model="v1")
    db.close()


def titles(db, ids) -> list[str]:
    return [storage.get_article(db, i)["title"] for i in ids]


def audit_queue(db) -> list[dict]:
    """The stories of the drawn articles still waiting for a verdict (`monitor review --audit`)."""
    return storage.story_queue(db, storage.StoryFilters(audit=True))


# ---------------------------------------------------------------- drawing samples


def test_sample_size_share_count_and_minimum() -> None:
    assert sample_size(1000, 1000, 0.02, None) == 20
    assert sample_size(1001, 1001, 0.02, None) == 21  # rounded up
    assert sample_size(100, 100, 0.02, None) == 10  # at least 10...
    assert sample_size(4, 4, 0.02, None) == 4  # ...if that many exist
    assert sample_size(1000, 1000, 0.02, 7) == 7
    assert sample_size(1000, 3, 0.02, None) == 3  # only what was not drawn before


def test_audit_draws_only_unflagged_articles_of_the_last_7_days(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    build(path, NOW, unflagged=1000)
    db = storage.open_db(path)
    draw = draw_audit(db, NOW, seed=42)
    assert draw.unflagged == 1000 and len(draw.article_ids) == 20
    assert all(t.startswith("u ") for t in titles(db, draw.article_ids))
    assert draw.week == "2026-W48" == audit_week(NOW - timedelta(days=7), NOW)
    queue = audit_queue(db)
    assert sorted(r["article_id"] for r in queue) == list(draw.article_ids)
    assert all(not r["flagged"] for r in queue)
    weeks = db.execute("select distinct week from audit_samples").fetchall()
    assert weeks == [("2026-W48",)]
    again = draw_audit(db, NOW, count=15, seed=42)  # never the same article twice
    assert len(again.article_ids) == 15 and not set(again.article_ids) & set(draw.article_ids)
    assert again.available == 980
    db.close()


def test_the_same_seed_draws_the_same_articles(tmp_path: Path) -> None:
    build(tmp_path / "a.db", NOW, unflagged=300)
    shutil.copy(tmp_path / "a.db", tmp_path / "b.db")
    first, second = storage.open_db(tmp_path / "a.db"), storage.open_db(tmp_path / "b.db")
    a = draw_audit(first, NOW, share=0.05, seed=7)
    b = draw_audit(second, NOW, share=0.05, seed=7)
    assert a.article_ids == b.article_ids and len(a.article_ids) == 15
    c = draw_audit(storage.open_db(tmp_path / "b.db"), NOW, share=0.05, seed=8)
    assert c.article_ids != a.article_ids
    stored = first.execute("select seed, unflagged, share from audits").fetchall()
    assert stored == [(7, 300, 0.05)]
    unseeded = draw_audit(first, NOW, count=3)  # a seed is chosen and kept
    assert first.execute("select seed from audits where id = 2").fetchone()[0] == unseeded.seed


def test_nothing_to_draw(tmp_path: Path) -> None:
    build(tmp_path / "a.db", NOW, unflagged=0)
    db = storage.open_db(tmp_path / "a.db")
    draw = draw_audit(db, NOW)
    assert draw.article_ids == () and draw.unflagged == 0
    assert db.execute("select count(*) from audits").fetchone()[0] == 0


# ---------------------------------------------------------------- the estimate


def test_wilson_interval() -> None:
    low, high = wilson(2, 20)
    assert low == pytest.approx(0.0279, abs=1e-4) and high == pytest.approx(0.3010, abs=1e-4)
    assert wilson(0, 20)[0] == 0.0 and wilson(20, 20)[1] == pytest.approx(1.0)
    assert wilson(0, 0) == (0.0, 1.0)


def review_sample(path: Path, relevant: int, reviewed: int) -> list[int]:
    db = storage.open_db(path)
    ids = [r["article_id"] for r in audit_queue(db)]
    for i, article_id in enumerate(ids[:reviewed]):
        verdict = "relevant" if i < relevant else "not-relevant"
        storage.add_review(db, article_id, verdict, iso(NOW))
    db.close()
    return ids


def test_estimate_from_reviewed_samples(tmp_path: Path) -> None:
    path = tmp_path / "e.db"
    build(path, NOW, unflagged=1000)
    db = storage.open_db(path)
    draw_audit(db, NOW, seed=1)
    review_sample(path, relevant=2, reviewed=20)
    [estimate] = missed_estimates(db)
    assert estimate == MissedEstimate("2026-W48", 1000, 20, 20, 2)
    assert estimate.estimate == pytest.approx(100)
    low, high = estimate.interval
    assert round(low) == 28 and round(high) == 301
    db.close()


def test_a_relevant_audit_sample_gets_the_label_the_model_rated_highest(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    build(path, NOW, unflagged=20)
    db = storage.open_db(path)
    [first, *_] = draw_audit(db, NOW, seed=3).article_ids
    storage.add_review(db, first, "relevant", iso(NOW))
    assert [e["labels"] for e in storage.reviewed_examples(db)] == [["border"]]


# ---------------------------------------------------------------- the CLI


def recent(tmp_path: Path) -> Path:
    """A database dated around the real clock, as `monitor audit` samples the last 7 days."""
    path = tmp_path / "cli.db"
    build(path, datetime.now(UTC).replace(microsecond=0), unflagged=1000)
    return path


def run(path: Path, *args: str):
    return CliRunner().invoke(cli, ["--db", str(path), *args], catch_exceptions=False)


def test_audit_status_estimate_and_digest_from_the_cli(tmp_path: Path) -> None:
    path = recent(tmp_path)
    before = run(path, "status").output.splitlines()
    assert before[-1] == "missed stories: no audit yet (`monitor audit` draws unflagged articles)"
    result = run(path, "audit", "--seed", "5")
    assert result.exit_code == 0
    week = audit_week(datetime.now(UTC) - timedelta(days=7), datetime.now(UTC))
    assert f"audit {week}: drew 20 of 1,000 unflagged articles" in result.stderr
    status = run(path, "status").output
    assert f"missed stories, audit {week}: none of 20 samples reviewed yet" in status
    review_sample(path, relevant=2, reviewed=20)

    lines = run(path, "status").output.splitlines()
    assert lines[0].split()[:2] == ["name", "state"]  # the feed table, then the estimate
    assert lines[-1] == (
        f"missed stories, audit {week}: about 100 a week (95% CI 28–301);"
        " 2 relevant of 20 reviewed audit samples (20 drawn) among 1,000 unflagged articles"
    )
    assert isinstance(json.loads(run(path, "status", "--format", "json").output), list)

    [record] = json.loads(run(path, "audit", "--estimate", "--format", "json").output)
    assert record["week"] == week and record["missed_per_week"] == 100.0
    assert (record["low"], record["high"]) == (27.9, 301.0)
    assert (record["relevant"], record["reviewed"], record["unflagged"]) == (2, 20, 1000)
    table = run(path, "audit", "--estimate").output.splitlines()
    assert table[0].split() == [
        "week", "unflagged", "sampled", "reviewed", "relevant", "missed", "95%", "CI"
    ]  # fmt: skip
    assert table[1].split() == [week, "1000", "20", "20", "2", "100", "28–301"]

    summary = tmp_path / "summary.json"
    digest = run(path, "digest", "--week", week, "--summary", str(summary))
    assert digest.exit_code == 0
    assert "about 100 a week" in digest.stderr and "missed" not in digest.stdout
    assert list(csv.reader(io.StringIO(digest.stdout)))[0][-2:] == ["why", "note"]
    document = json.loads(summary.read_text(encoding="utf-8"))
    assert document["week"] == week and document["missed"]["missed_per_week"] == 100.0
    other = run(path, "digest", "--week", "2020-W01", "--summary", str(summary))
    assert "no audit of 2020-W01" in other.stderr
    assert json.loads(summary.read_text(encoding="utf-8"))["missed"] is None


def test_audit_options_are_checked(tmp_path: Path) -> None:
    path = recent(tmp_path)
    assert run(path, "audit", "--share", "0").exit_code == 2
    assert run(path, "audit", "--share", "1.5").exit_code == 2
    assert run(path, "audit", "--count", "0").exit_code == 2
    result = run(path, "audit", "--count", "12", "--seed", "1")
    assert "drew 12 of 1,000" in result.stderr
    result = run(path, "audit", "--share", "0.05")
    assert "drew 50 of 1,000" in result.stderr


def test_review_audit_shows_the_samples_and_stores_verdicts(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    build(path, NOW, unflagged=30)
    db = storage.open_db(path)
    drawn = set(draw_audit(db, NOW, count=3, seed=2).article_ids)
    db.close()

    async def main() -> None:
        app = ReviewApp(path, audit=True)
        async with app.run_test(size=(80, 24)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert set(app._order) == drawn
            assert "audit sample of unflagged stories" in app.status_text
            first = app.highlighted()
            await pilot.press("r")
            await app.workers.wait_for_complete()
            await pilot.pause()
            db = storage.open_db(path)
            assert storage.latest_review(db, first)["verdict"] == "relevant"
            assert missed_estimates(db)[0].relevant == 1
            db.close()

    asyncio.run(main())


def test_the_audit_week_is_counted_in_the_configured_time_zone(tmp_path: Path) -> None:
    from monitor.weeks import zone

    sunday_evening = datetime(2026, 11, 29, 20, 0, tzinfo=UTC)  # Monday 05:00 in Seoul
    window = (sunday_evening - timedelta(days=3.5), sunday_evening + timedelta(days=3.5))
    assert audit_week(*window) == "2026-W48"
    assert audit_week(*window, zone("Asia/Seoul")) == "2026-W49"
    path = tmp_path / "a.db"
    build(path, window[1], unflagged=100)
    db = storage.open_db(path)
    draw = draw_audit(db, window[1], seed=1, tz=zone("Asia/Seoul"))
    assert draw.week == "2026-W49"
    assert db.execute("select distinct week from audit_samples").fetchall() == [("2026-W49",)]
