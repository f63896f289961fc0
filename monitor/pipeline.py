"""The one orchestrator: fetch → parse → normalise → dedupe → classify → store, per feed.

`monitor run --once` and the daemon both call `Refresher.poll_feeds`; each feed's outcome
comes back as a value, so one broken feed never stops the others.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import sqlite_utils

import storage
from classifiers import Model
from monitor.errors import FetchError, ParseError
from monitor.fetcher import FetchLimits, FetchResult, fetch, make_client
from monitor.normalise import iso, normalise_entries
from monitor.parser import parse_feed
from monitor.schedule import ScheduleSettings, next_poll, parse_retry_after

log = logging.getLogger("monitor.poll")


@dataclass(frozen=True)
class PollOutcome:
    feed: str
    status: int | None
    new: int
    updated: int
    flagged: int
    duration_ms: int
    error: str | None = None
    warning: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def log_line(self) -> str:
        status = self.status if self.status is not None else "-"
        line = (
            f"feed={self.feed!r} status={status} new={self.new} updated={self.updated}"
            f" flagged={self.flagged} ms={self.duration_ms}"
        )
        if self.error:
            line += f" error={self.error!r}"
        if self.warning:
            line += f" warning={self.warning!r}"
        return line


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def classify(
    model: Model, articles: Sequence[storage.ArticleIn]
) -> dict[str, storage.ClassificationIn]:
    predictions = model.predict([(a.title, a.summary) for a in articles])
    return {
        a.key: storage.ClassificationIn(p.scores, p.labels, p.flagged)
        for a, p in zip(articles, predictions, strict=True)
    }


class Refresher:
    """Polls feeds with one HTTP client, writing each feed's poll in one transaction."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        model: Callable[[], Model],
        limits: FetchLimits,
        *,
        jitter: float = 0.1,
        clock: Callable[[], datetime] = utc_now,
        rng: random.Random | None = None,
    ) -> None:
        self.db = db
        self.model = model
        self.limits = limits
        self.jitter = jitter
        self.clock = clock
        self.rng = rng or random.Random()
        self.in_flight: set[int] = set()
        self._slots = asyncio.Semaphore(limits.concurrency)
        self._client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> Refresher:
        self._client = make_client(self.limits)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def poll_feeds(self, feeds: Iterable[storage.FeedState]) -> list[PollOutcome]:
        """Poll the given feeds concurrently; feeds already being polled are skipped."""
        feeds = [f for f in feeds if f.id not in self.in_flight]
        return list(await asyncio.gather(*(self.poll_feed(feed) for feed in feeds)))

    async def poll_feed(self, feed: storage.FeedState) -> PollOutcome:
        if feed.id in self.in_flight:
            raise RuntimeError(f"feed {feed.name!r} is already being polled")
        self.in_flight.add(feed.id)
        try:
            async with self._slots:
                return await self._poll(feed)
        finally:
            self.in_flight.discard(feed.id)

    async def _poll(self, feed: storage.FeedState) -> PollOutcome:
        started = self.clock()
        clock_start = time.monotonic()
        assert self._client is not None, "use Refresher as an async context manager"
        try:
            result = await fetch(
                self._client,
                feed.url,
                self.limits,
                etag=feed.etag,
                last_modified=feed.last_modified,
            )
            if result.not_modified:
                articles, warning = [], None
            else:
                parsed = await asyncio.to_thread(parse_feed, result.body, result.headers)
                articles = normalise_entries(parsed.entries, feed.language, started)
                warning = parsed.warning
        except (FetchError, ParseError) as exc:
            return self._store_failure(feed, started, clock_start, exc)
        return self._store_success(feed, started, clock_start, result, articles, warning)

    def _elapsed_ms(self, clock_start: float) -> int:
        return int((time.monotonic() - clock_start) * 1000)

    def _store_success(
        self,
        feed: storage.FeedState,
        started: datetime,
        clock_start: float,
        result: FetchResult,
        articles: list[storage.ArticleIn],
        warning: str | None,
    ) -> PollOutcome:
        model = self.model()
        fresh = storage.needs_classifying(self.db, feed.id, articles)
        scores = classify(model, fresh) if fresh else {}
        when = next_poll(started, self._schedule(feed), ok=True, rng=self.rng)
        record = storage.PollRecord(
            feed_id=feed.id,
            started=iso(started),
            http_status=result.status,
            next_poll=iso(when),
            duration_ms=self._elapsed_ms(clock_start),
            ok=True,
            warning=warning,
            etag=result.headers.get("etag"),
            last_modified=result.headers.get("last-modified"),
        )
        saved = storage.save_poll(self.db, record, articles, scores, model.version)
        stored = {**saved.new, **saved.changed}
        outcome = PollOutcome(
            feed=feed.name,
            status=result.status,
            new=len(saved.new),
            updated=len(saved.changed),
            flagged=sum(1 for key in stored if key in scores and scores[key].flagged),
            duration_ms=record.duration_ms,
            warning=warning,
        )
        (log.warning if warning else log.info)(outcome.log_line())
        return outcome

    def _store_failure(
        self, feed: storage.FeedState, started: datetime, clock_start: float, exc: Exception
    ) -> PollOutcome:
        status = exc.status if isinstance(exc, FetchError) else None
        retry_after = exc.retry_after if isinstance(exc, FetchError) else None
        when = next_poll(
            started,
            self._schedule(feed),
            ok=False,
            consecutive_failures=feed.consecutive_failures,
            retry_after=parse_retry_after(retry_after, started),
            rng=self.rng,
        )
        record = storage.PollRecord(
            feed_id=feed.id,
            started=iso(started),
            http_status=status,
            next_poll=iso(when),
            duration_ms=self._elapsed_ms(clock_start),
            ok=False,
            error=str(exc),
        )
        storage.save_poll(self.db, record)
        outcome = PollOutcome(feed.name, status, 0, 0, 0, record.duration_ms, error=str(exc))
        log.error(outcome.log_line())
        return outcome

    def _schedule(self, feed: storage.FeedState) -> ScheduleSettings:
        return ScheduleSettings(interval_s=feed.interval_s, jitter=self.jitter)


def classify_unscored(db: sqlite_utils.Database, model: Model, batch: int = 2000) -> int:
    """Score articles that have no classification yet (e.g. stored before a model existed)."""
    done = 0
    while rows := storage.unclassified_articles(db, limit=batch):
        predictions = model.predict([(r["title"], r["summary"]) for r in rows])
        now = iso(utc_now())
        with db.atomic():
            for row, p in zip(rows, predictions, strict=True):
                result = storage.ClassificationIn(p.scores, p.labels, p.flagged)
                storage.save_classification(db, row["id"], model.version, result, now)
        done += len(rows)
    return done
