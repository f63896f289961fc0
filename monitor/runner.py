"""Everything a poll cycle needs, opened once: database, feeds synced, model, parse workers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlite_utils

import storage
from monitor.config import Config
from monitor.fetcher import FetchLimits
from monitor.lock import polling_lock
from monitor.models import ModelHolder
from monitor.normalise import iso
from monitor.parse_pool import ParsePool
from monitor.pipeline import Politeness, PollOutcome, Refresher, classify_unscored, utc_now
from monitor.stories import StoryIndex, StorySettings

log = logging.getLogger("monitor")
OnDb = Callable[..., Awaitable[Any]]


@dataclass
class Monitor:
    config: Config
    db: sqlite_utils.Database
    models: ModelHolder
    parsers: ParsePool
    stories: StoryIndex = field(default_factory=StoryIndex)  # kept across cycles

    def refresher(self) -> Refresher:
        return Refresher(
            self.db,
            self.models.get,
            fetch_limits(self.config),
            politeness(self.config),
            read=self.parsers.read,
            model_path=self.models.current_path,
            stories=self.stories,
        )


def fetch_limits(config: Config) -> FetchLimits:
    s = config.settings
    return FetchLimits(
        timeout=s.timeout,
        connect_timeout=s.connect_timeout,
        max_bytes=s.max_body_size,
        concurrency=s.concurrency,
        user_agent=s.user_agent,
    )


def politeness(config: Config) -> Politeness:
    s = config.settings
    return Politeness(
        per_host=s.per_host, host_spacing=s.host_spacing, jitter=s.jitter, pause_after=s.pause_after
    )


def story_settings(config: Config) -> StorySettings:
    s = config.settings
    return StorySettings(window=timedelta(seconds=s.story_window), similarity=s.story_similarity)


def feed_specs(config: Config) -> list[storage.FeedSpec]:
    return [
        storage.FeedSpec(
            name=f.name,
            url=f.url,
            interval_s=int(config.feed_interval(f)),
            language=f.language,
            tags=f.tags,
            enabled=f.enabled,
            adaptive=f.adaptive,
            min_interval_s=int(f.min_interval) if f.min_interval else None,
            max_interval_s=int(f.max_interval) if f.max_interval else None,
            ignore_validators=f.ignore_validators,
            encoding=f.encoding,
        )
        for f in config.feeds
    ]


@contextmanager
def open_monitor(config: Config, db_path: Path) -> Iterator[Monitor]:
    """Database opened, feeds synced, model loaded, and this process the only one polling."""
    with polling_lock(db_path), _opened(config, db_path) as monitor:
        yield monitor


@contextmanager
def _opened(config: Config, db_path: Path) -> Iterator[Monitor]:
    db = storage.open_db(db_path)
    settings = config.settings
    try:
        with ParsePool(settings.parse_workers, settings.parse_cpu_budget) as parsers:
            storage.sync_feeds(db, feed_specs(config), iso(utc_now()))
            models = ModelHolder(config.model_dir())
            classify_unscored(db, models.get)
            yield Monitor(config, db, models, parsers, StoryIndex(story_settings(config)))
    finally:
        db.close()


async def poll_all(monitor: Monitor, *, alerts: bool = False) -> list[PollOutcome]:
    """Poll every enabled feed once, in an event loop that is already running; then, with
    `alerts`, send the alerts due (if feeds.yaml configures them)."""
    async with monitor.refresher() as refresher:
        feeds = await refresher.on_db(storage.enabled_feeds, monitor.db)
        outcomes = await refresher.poll_feeds(feeds)
        await refresher.on_db(refresher.index_search)
        if alerts and monitor.config.alerts is not None:
            await send_alerts(monitor, refresher.on_db)
        return outcomes


async def send_alerts(monitor: Monitor, on_db: OnDb) -> None:
    """The alerts due, sent; a failure is logged, never raised (shared with the daemon)."""
    from monitor.alerts import deliver_due

    if monitor.config.alerts is None:
        return
    try:
        done = await deliver_due(monitor.db, monitor.config.alerts, on_db, utc_now)
    except Exception as exc:  # alerts must never stop polling
        log.error("alerts failed: %s: %s", type(exc).__name__, exc)
        return
    if done.sent or done.retrying or done.failed:
        log.info("%s", done)


def run_once(config: Config, db_path: Path) -> list[PollOutcome]:
    """Poll every enabled feed once, whatever its schedule says, then send the alerts due."""
    with open_monitor(config, db_path) as monitor:
        return asyncio.run(poll_all(monitor, alerts=True))
