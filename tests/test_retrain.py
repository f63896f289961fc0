"""Learning from verdicts: `monitor train` before/after, the feedback loop, and the daemon's
scheduled retrain job (called directly, not waited for)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, time
from pathlib import Path

import pytest
from tzlocal import get_localzone

import storage
from classifiers import load_model
from monitor.config import load_config
from monitor.daemon import Daemon
from monitor.models import current_version, list_versions
from monitor.retrain import Retrained, Retrainer
from monitor.runner import open_monitor
from tests.test_models import LABELLED, STORIES, article_ids, invoke, newsroom, scored_by

__all__ = ["newsroom"]  # the fixture, shared with test_models


def border_score(model_dir: Path, version: str, title: str, summary: str) -> float:
    model = load_model(model_dir / version)
    return model.predict([(title, summary)])[0].scores["border"]


def story_view(db, article_id: int) -> dict:
    """The queue row of the story of `article_id`, which must be that story's best article."""
    story = storage.story_of(db, article_id)
    assert story is not None
    [row] = storage.story_rows(db, [story])
    assert row["article_id"] == article_id
    return row


def test_a_verdict_changes_the_next_model(newsroom: Path, model_dir: Path) -> None:
    """An analyst says a story about fines for phones that call China is about border
    enforcement; after `monitor train` the story, and its near-duplicate from another outlet,
    score higher for border."""
    db = storage.open_db(newsroom.parent / "monitor.db")
    ids = article_ids(db)
    story, twin = ids[STORIES[2][0]], ids[STORIES[3][0]]
    before = current_version(model_dir)
    assert before is not None
    story_before = border_score(model_dir, before, *STORIES[2])
    twin_before = story_view(db, twin)["scores"]["border"]
    assert story_before < 0.5 and twin_before < 0.5

    verdict = invoke(newsroom, "label", str(story), "relevant", "--labels", "border")
    assert verdict.exit_code == 0
    result = invoke(newsroom, "train", "--eval", str(LABELLED))
    assert result.exit_code == 0, result.output
    after = current_version(model_dir)
    assert after is not None and after != before

    assert border_score(model_dir, after, *STORIES[2]) > story_before + 0.2
    view = story_view(db, twin)
    assert view["model_version"] == after and view["scores"]["border"] > twin_before + 0.2
    assert "border" in view["model_labels"]

    lines = result.output.splitlines()
    assert lines[0].startswith(f"model {after}: ") and "+ 1 analyst verdicts" in lines[0]
    assert lines[1] == f"5-fold cross-validation (before: {before}, after: {after})"
    assert "- before -" in lines[2] and "- after -" in lines[2]
    assert lines[3].split() == ["support", *(["prec", "recall", "f1", "tp", "fp", "fn", "tn"] * 2)]
    assert [line.split("  ")[0] for line in lines[4:8]] == [
        "defectors", "repatriation", "border", "flag (any)"
    ]  # fmt: skip
    assert lines[-1] == f"re-scored {len(STORIES) - 1} unreviewed articles with {after}"
    assert any(line.startswith("thresholds for out-of-fold recall >= 0.95") for line in lines)
    (newest, *_rest) = list_versions(model_dir)
    assert newest.verdicts == 1 and newest.info["reviews"]["count"] == 1

    # --eval: both models on the labelled file, recorded with the new version
    at = result.output.index(f"evaluation on {LABELLED} (before: {before}, after: {after})")
    block = result.output[at:].splitlines()
    assert "- before -" in block[1] and "- after -" in block[1]
    flag = next(line for line in block if line.startswith("flag (any)"))
    assert flag.split()[2] == "32"  # support: the file's relevant items
    assert newest.info["eval"]["file"] == str(LABELLED)
    assert newest.info["eval"]["flag"]["support"] == 32


def retrain_now(config_path: Path, *, runs: int = 1) -> list[Retrained | None]:
    """The daemon's retrain job, `runs` times at once, as the scheduler would start it."""
    config = load_config(config_path)
    with open_monitor(config, config.database_path()) as monitor:

        async def go() -> list[Retrained | None]:
            async with monitor.refresher() as refresher:
                retrainer = Retrainer(
                    monitor.db, config.model_dir(), config.settings.target_recall, refresher.on_db
                )
                return list(await asyncio.gather(*(retrainer.run() for _ in range(runs))))

        return asyncio.run(go())


def test_scheduled_retrain_only_with_new_verdicts(
    newsroom: Path, model_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="monitor.retrain")
    seed_version = current_version(model_dir)
    assert retrain_now(newsroom) == [None]
    assert current_version(model_dir) == seed_version
    assert "no new verdicts since the newest model" in caplog.text

    db = storage.open_db(newsroom.parent / "monitor.db")
    story = article_ids(db)[STORIES[2][0]]
    storage.add_review(db, story, "relevant", "2026-11-29T00:00:00Z", labels=["border"])
    first, second = retrain_now(newsroom, runs=2)  # the second finds the first running
    assert second is None and "retrain: already running" in caplog.text
    assert isinstance(first, Retrained) and first.previous == seed_version
    assert current_version(model_dir) == first.version != seed_version
    assert first.verdicts == 1 and first.rescored == len(STORIES) - 1
    versions = scored_by(db)
    assert versions.pop(story) == seed_version
    assert set(versions.values()) == {first.version}
    line = next(r.message for r in caplog.records if r.message.startswith("retrained:"))
    assert line.startswith(f"retrained: model {seed_version} -> {first.version} (1 verdicts),")
    assert "CV flag F1 0." in line and f"re-scored {len(STORIES) - 1} unreviewed" in line

    caplog.clear()
    assert retrain_now(newsroom) == [None]  # nothing new since
    assert current_version(model_dir) == first.version

    # A rollback stays: the newest version has seen every verdict, so nothing retrains.
    assert invoke(newsroom, "model", "use", str(seed_version)).exit_code == 0
    assert retrain_now(newsroom) == [None]
    assert current_version(model_dir) == seed_version


def test_daemon_schedules_retrain_daily_at_local_time(newsroom: Path) -> None:
    config = load_config(newsroom)
    retrainer = Retrainer(None, config.model_dir(), 0.95, on_db=None)  # type: ignore[arg-type]
    daemon = Daemon(None, 60.0, retrainer, time(3, 30))  # type: ignore[arg-type]
    job = daemon.scheduler().get_job("retrain")
    assert job is not None and job.max_instances == 1
    zone = get_localzone()
    after = job.trigger.get_next_fire_time(None, datetime(2026, 11, 29, 4, 0, tzinfo=zone))
    assert after == datetime(2026, 11, 30, 3, 30, tzinfo=zone)
    off = Daemon(None, 60.0, retrainer, None)  # type: ignore[arg-type]
    assert off.scheduler().get_job("retrain") is None
