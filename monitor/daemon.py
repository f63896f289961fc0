"""`monitor run`: the refresh job on an APScheduler 3.x schedule, stopped cleanly by signals,
and the nightly retrain (monitor/retrain.py) at the `retrain:` time of day, local time."""

from __future__ import annotations

import asyncio
import functools
import logging
import signal
from collections.abc import Awaitable, Callable, Coroutine
from datetime import time, timedelta
from pathlib import Path
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from tzlocal import get_localzone  # APScheduler 3's own dependency, for its local time

import storage
from monitor.config import Config
from monitor.normalise import iso
from monitor.pipeline import Refresher, utc_now
from monitor.retrain import Retrainer
from monitor.runner import open_monitor, send_alerts

log = logging.getLogger("monitor.daemon")
SHUTDOWN_GRACE_S = 5.0
RETRAIN_MISFIRE_S = 3600  # a daemon busy (or asleep) at the hour still retrains within it
ALERTS_EVERY_S = 60


class Daemon:
    """Ticks often; each tick starts a poll for every due feed that is not already in flight."""

    def __init__(
        self,
        refresher: Refresher,
        tick_s: float,
        retrainer: Retrainer | None = None,
        retrain_at: time | None = None,
        alerts: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.refresher = refresher
        self.tick_s = tick_s
        self.retrainer = retrainer
        self.retrain_at = retrain_at
        self.alerts = alerts
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
            daemon = Daemon(refresher, settings.tick, retrainer, settings.retrain, alerts)
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, daemon.stopping.set)
            scheduler = daemon.scheduler()
            scheduler.start()
            feeds = len(storage.enabled_feeds(monitor.db))
            log.info("polling %d feeds into %s; Ctrl-C or SIGTERM stops", feeds, db_path)
            if settings.retrain is not None:
                at = settings.retrain.strftime("%H:%M")
                log.info("retraining daily at %s local time if there are new verdicts", at)
            await daemon.stopping.wait()
            log.info("stopping: finishing in-flight polls")
            scheduler.pause()  # no new runs; a tick under way sees `stopping` and starts nothing
            await daemon.drain()
            scheduler.shutdown(wait=False)
    log.info("stopped")


def run_daemon(config: Config, db_path: Path) -> None:
    asyncio.run(_serve(config, db_path))
