"""`monitor run`: the refresh job on an APScheduler 3.x schedule, stopped cleanly by signals,
the nightly retrain (monitor/retrain.py) at the `retrain:` time of day, local time, and the
weekly digest (monitor/scheduled_digest.py) at `digest_at:` in the `timezone:` setting."""

from __future__ import annotations

import asyncio
import functools
import logging
import signal
from collections.abc import Awaitable, Callable, Coroutine
from datetime import time, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from tzlocal import get_localzone  # APScheduler 3's own dependency, for its local time

import storage
from monitor.config import Config, Settings
from monitor.normalise import iso
from monitor.pipeline import Refresher, utc_now
from monitor.retrain import Retrainer
from monitor.runner import open_monitor, send_alerts
from monitor.scheduled_digest import catch_up, write_last_week
from monitor.weeks import zone

log = logging.getLogger("monitor.daemon")
SHUTDOWN_GRACE_S = 5.0
RETRAIN_MISFIRE_S = 3600  # a daemon busy (or asleep) at the hour still retrains within it
ALERTS_EVERY_S = 60
DIGEST_MISFIRE_S = 6 * 3600  # a daemon busy (or asleep) at the time still writes it


class Daemon:
    """Ticks often; each tick starts a poll for every due feed that is not already in flight."""

    def __init__(
        self,
        refresher: Refresher,
        tick_s: float,
        retrainer: Retrainer | None = None,
        retrain_at: time | None = None,
        alerts: Callable[[], Awaitable[None]] | None = None,
        digest: Callable[[], Awaitable[None]] | None = None,
        digest_trigger: CronTrigger | None = None,
    ) -> None:
        self.refresher = refresher
        self.tick_s = tick_s
        self.retrainer = retrainer
        self.retrain_at = retrain_at
        self.alerts = alerts
        self.digest = digest
        self.digest_trigger = digest_trigger
        self.ticking: asyncio.Task[object] | None = None
        self.alerting: asyncio.Task[object] | None = None
        # Ticks, polls, alert deliveries and retrains run as tasks of their own, never as the
        # scheduler's jobs: shutting the scheduler down cancels a running job (and logs the
        # cancellation as a failure), while these are drained as `drain` says.
        self.tasks: set[asyncio.Task[object]] = set()
        self.stopping = asyncio.Event()

    async def tick(self) -> None:
        """Start polling the feeds that are due, unless the last tick is still looking."""
        if self.stopping.is_set():
            return
        if self.ticking is None or self.ticking.done():
            self.ticking = self._start(self._poll_due(), "tick")

    async def _poll_due(self) -> None:
        # Feeds in flight when the query starts may be stored (and leave in_flight) before it
        # runs, so skip those too: the answer about them may predate their new next poll.
        busy = set(self.refresher.in_flight)
        due = await self.refresher.on_db(storage.due_feeds, self.refresher.db, iso(utc_now()))
        for feed in due:
            if self.stopping.is_set():
                return
            if feed.id in busy or feed.id in self.refresher.in_flight:
                continue
            self._start(self.refresher.poll_feed(feed), f"poll {feed.name}")

    async def send_alerts(self) -> None:
        """Start delivering the alerts due, unless a delivery is still under way; sending runs
        on worker threads, the database work on the DB thread."""
        if self.stopping.is_set() or self.alerts is None:
            return
        if self.alerting is None or self.alerting.done():
            self.alerting = self._start(self.alerts(), "alerts")

    async def retrain(self) -> None:
        """Start the retrain job (it skips itself when one is under way or nothing is new)."""
        if self.retrainer is not None and not self.stopping.is_set():
            self._start(self.retrainer.run(), "retrain")

    async def write_digest(self) -> None:
        """Start writing last week's digest files (a failure is logged, polling goes on)."""
        if self.digest is not None and not self.stopping.is_set():
            self._start(self.digest(), "digest")

    def _start(self, work: Coroutine[Any, Any, object], name: str) -> asyncio.Task[object]:
        task = asyncio.create_task(work, name=name)
        self.tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[object]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            log.error("task %s failed: %s: %s", task.get_name(), type(exc).__name__, exc)

    def scheduler(self) -> AsyncIOScheduler:
        scheduler = AsyncIOScheduler(timezone="UTC")
        scheduler.add_job(
            self.tick,
            "interval",
            seconds=self.tick_s,
            next_run_time=utc_now(),
            id="due-feeds",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=int(self.tick_s),
        )
        if self.alerts is not None:
            scheduler.add_job(
                self.send_alerts,
                "interval",
                seconds=ALERTS_EVERY_S,
                next_run_time=utc_now() + timedelta(seconds=5),  # after the first tick's polls
                id="alerts",
                max_instances=1,
                coalesce=True,
                misfire_grace_time=ALERTS_EVERY_S,
            )
        if self.retrainer is not None and self.retrain_at is not None:
            scheduler.add_job(
                self.retrain,
                CronTrigger(
                    hour=self.retrain_at.hour,
                    minute=self.retrain_at.minute,
                    timezone=get_localzone(),
                ),
                id="retrain",
                max_instances=1,
                coalesce=True,
                misfire_grace_time=RETRAIN_MISFIRE_S,
            )
        if self.digest is not None and self.digest_trigger is not None:
            scheduler.add_job(
                self.write_digest,
                self.digest_trigger,
                id="digest",
                max_instances=1,
                coalesce=True,
                misfire_grace_time=DIGEST_MISFIRE_S,
            )
        return scheduler

    async def drain(self) -> None:
        """Let in-flight polls finish for a moment, then cancel the rest.

        Cancelling is safe: a poll writes its results in one synchronous transaction after its
        last await, so a cancelled poll has written nothing and a finished one everything.
        A retrain under way is cancelled: a fit not yet finished installs nothing, and
        re-scoring stops between two batches.
        """
        if self.retrainer is not None and self.retrainer.task is not None:
            retraining = self.retrainer.task
            self.retrainer.cancel()
            await asyncio.gather(retraining, return_exceptions=True)
        # Polls and an alert delivery under way finish, or are cancelled (an alert cancelled
        # mid-send is not recorded and goes out again after a restart).
        if self.tasks:
            _done, pending = await asyncio.wait(self.tasks, timeout=SHUTDOWN_GRACE_S)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)


def digest_trigger(settings: Settings) -> CronTrigger | None:
    """`digest_at:` as a weekly cron trigger in the `timezone:` setting (None when off)."""
    if settings.digest_at is None:
        return None
    day, at = settings.digest_at
    return CronTrigger(
        day_of_week=day, hour=at.hour, minute=at.minute, timezone=zone(settings.timezone)
    )


async def digest_job(
    refresher: Refresher, db: sqlite_utils.Database, folder: Path, timezone: str
) -> None:
    """Last week's digest files, written on the database thread; a failure is logged."""
    try:
        await refresher.on_db(write_last_week, db, folder, utc_now(), timezone)
    except Exception as exc:  # a digest must never stop polling
        log.error("digest: not written to %s: %s: %s", folder, type(exc).__name__, exc)


async def catch_up_job(
    refresher: Refresher, db: sqlite_utils.Database, folder: Path, settings: Settings
) -> None:
    """On start, the digest missed while the daemon was not running; a failure is logged."""
    if settings.digest_at is None:
        return
    day, at = settings.digest_at
    try:
        await refresher.on_db(catch_up, db, folder, utc_now(), day, at, settings.timezone)
    except Exception as exc:  # a digest must never stop polling
        log.error("digest: not written to %s: %s: %s", folder, type(exc).__name__, exc)


async def _serve(config: Config, db_path: Path) -> None:
    loop = asyncio.get_running_loop()
    with open_monitor(config, db_path) as monitor:
        async with monitor.refresher() as refresher:
            settings = config.settings
            retrainer = Retrainer(
                monitor.db, config.model_dir(), settings.target_recall, refresher.on_db
            )
            alerts = None
            if config.alerts is not None:
                alerts = functools.partial(send_alerts, monitor, refresher.on_db)
                channels = ", ".join(config.alerts.channel_names())
                log.info("alerting via %s at score >= %g", channels, config.alerts.min_score)
            digest = functools.partial(
                digest_job, refresher, monitor.db, config.digest_dir(), settings.timezone
            )
            trigger = digest_trigger(settings)
            daemon = Daemon(
                refresher, settings.tick, retrainer, settings.retrain, alerts, digest, trigger
            )
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, daemon.stopping.set)
            scheduler = daemon.scheduler()
            scheduler.start()
            feeds = len(storage.enabled_feeds(monitor.db))
            log.info("polling %d feeds into %s; Ctrl-C or SIGTERM stops", feeds, db_path)
            if settings.retrain is not None:
                at = settings.retrain.strftime("%H:%M")
                log.info("retraining daily at %s local time if there are new verdicts", at)
            if settings.digest_at is not None:
                day, at_time = settings.digest_at
                log.info(
                    "writing last week's digest to %s every %s at %s (%s)",
                    config.digest_dir(), day, at_time.strftime("%H:%M"), settings.timezone,
                )  # fmt: skip
                daemon._start(
                    catch_up_job(refresher, monitor.db, config.digest_dir(), settings),
                    "digest catch-up",
                )
            await daemon.stopping.wait()
            log.info("stopping: finishing in-flight polls")
            scheduler.pause()  # no new runs; a tick under way sees `stopping` and starts nothing
            await daemon.drain()
            scheduler.shutdown(wait=False)
    log.info("stopped")


def run_daemon(config: Config, db_path: Path) -> None:
    asyncio.run(_serve(config, db_path))
