"""The one orchestrator: fetch → parse → normalise → dedupe → classify → store, per feed.

`monitor run --once` and the daemon both call `Refresher.poll_feeds` / `poll_feed`; each
feed's outcome comes back as a value, so one broken feed never stops the others. Parsing,
normalising and scoring happen together in a parse worker (`read`, monitor/reader.py), on both
cores; deduplication then keeps the scores of the articles that need them and drops the rest.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
import sqlite_utils

if TYPE_CHECKING:
    from classifiers import Model

import storage
from classifiers.errors import ModelError
from monitor.classify import classify, score_rows
from monitor.errors import FetchError, ParseError
from monitor.fetcher import FetchLimits, FetchResult, fetch, make_client
from monitor.group_commit import GroupCommit
from monitor.normalise import iso
from monitor.parser import with_charset
from monitor.politeness import HostGate
from monitor.reader import FeedContent, read_feed
from monitor.schedule import (
    ScheduleSettings,
    failure_weight,
    next_poll,
    parse_retry_after,
    pause_reason,
    server_min_interval,
)
from monitor.stories import StoryIndex

log = logging.getLogger("monitor.poll")
SEARCH_BATCH = 2000  # index new articles for search once this many are waiting
Read = Callable[
    [bytes, Mapping[str, str], str | None, datetime, Path | None], Awaitable[FeedContent]
]
T = TypeVar("T")


@dataclass(frozen=True)
class Politeness:
    per_host: int = 2
    host_spacing: float = 1.0
    jitter: float = 0.1
    pause_after: float = 3.0


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
    unchanged: bool = False  # 304, or a body identical to the last one
    paused: str | None = None  # the reason, when this poll paused the feed

    @property
    def ok(self) -> bool:
        return self.error is None

    def log_line(self) -> str:
        status = self.status if self.status is not None else "-"
        line = (
            f"feed={self.feed!r} status={status} new={self.new} updated={self.updated}"
            f" flagged={self.flagged} ms={self.duration_ms}"
        )
        for name in ("error", "warning", "paused"):
            if getattr(self, name):
                line += f" {name}={getattr(self, name)!r}"
        return line


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


async def read_in_thread(
    body: bytes,
    headers: Mapping[str, str],
    language: str | None,
    now: datetime,
    model_path: Path | None = None,
) -> FeedContent:
    return await asyncio.to_thread(read_feed, body, headers, language, now, model_path)


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


@dataclass
class _Poll:
    """One poll in progress: what the stages found, for the final write."""

    feed: storage.FeedState
    started: datetime
    clock_start: float
    result: FetchResult | None = None
    content: FeedContent | None = None
    digest: str | None = None

    @property
    def unchanged(self) -> bool:
        return self.result is not None and (
            self.result.not_modified or self.digest == self.feed.body_hash
        )


class Refresher:
    """Polls feeds with one HTTP client. Each poll is written in one transaction, shared
    with the polls that finished meanwhile (monitor.group_commit)."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        model: Callable[[], Model],
        limits: FetchLimits,
        politeness: Politeness | None = None,
        *,
        read: Read = read_in_thread,
        model_path: Callable[[], Path | None] = lambda: None,
        stories: StoryIndex | None = None,
        clock: Callable[[], datetime] = utc_now,
        rng: random.Random | None = None,
    ) -> None:
        self.db = db
        self.model = model
        self.limits = limits
        self.politeness = politeness or Politeness()
        self.read = read
        self.model_path = model_path
        self.stories = stories or StoryIndex()
        self._unindexed = 0  # articles stored since the full-text index last caught up
        self.clock = clock
        self.rng = rng or random.Random()
        self.in_flight: set[int] = set()
        self.gate = HostGate(
            per_host=self.politeness.per_host,
            spacing=self.politeness.host_spacing,
            total=limits.concurrency,
        )
        self._client: httpx.AsyncClient | None = None
        self._db_thread: ThreadPoolExecutor | None = None
        self._writes = GroupCommit(db, self.on_db, on_rollback=self.stories.reset)

    async def __aenter__(self) -> Refresher:
        self._client = make_client(self.limits, self.politeness.per_host)
        self._db_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="monitor-db")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._writes.flush()
        if self._client is not None:
            await self._client.aclose()
        if self._db_thread is not None:  # lets a write already under way finish
            await asyncio.to_thread(self._db_thread.shutdown, wait=True)

    async def on_db(self, function: Callable[..., T], *args: Any) -> T:
        """Run `function(*args)` on the one thread that uses the database.

        Scoring and storing a poll is CPU work; done there, it never stalls the
        event loop (and with it every other feed's requests). One thread keeps writes serial.
        """
        if self._db_thread is None:
            raise RuntimeError("use Refresher as an async context manager")
        return await asyncio.get_running_loop().run_in_executor(self._db_thread, function, *args)

    async def poll_feeds(self, feeds: Iterable[storage.FeedState]) -> list[PollOutcome]:
        """Poll the given feeds concurrently; feeds already being polled (or listed twice) are
        polled once."""
        unique = {f.id: f for f in feeds if f.id not in self.in_flight}
        return list(await asyncio.gather(*(self.poll_feed(feed) for feed in unique.values())))

    async def poll_feed(self, feed: storage.FeedState) -> PollOutcome:
        if feed.id in self.in_flight:
            raise RuntimeError(f"feed {feed.name!r} is already being polled")
        self.in_flight.add(feed.id)
        try:  # in flight until stored: until then the database still says it is due
            poll = _Poll(feed, self.clock(), time.monotonic())
            error = await self._fetch_and_parse(poll)
            if error:
                return await self._writes.write(self._store_failure, poll, error)
            return await self._writes.write(self._store_success, poll)
        finally:
            self.in_flight.discard(feed.id)

    async def _fetch_and_parse(self, poll: _Poll) -> FetchError | ParseError | None:
        """Fill in the poll's response and its content; the error that stopped it, if any."""
        feed = poll.feed
        try:
            async with self.gate.slot(feed.url):
                poll.started, poll.clock_start = self.clock(), time.monotonic()
                poll.result = await fetch(
                    self._client_or_fail(),
                    feed.url,
                    self.limits,
                    etag=None if feed.ignore_validators else feed.etag,
                    last_modified=None if feed.ignore_validators else feed.last_modified,
                    turns=self.gate,
                )
            if not poll.result.not_modified:
                poll.digest = body_hash(poll.result.body)
            if not poll.unchanged:
                headers = poll.result.headers
                if feed.encoding:
                    headers = with_charset(headers, feed.encoding)
                poll.content = await self.read(
                    poll.result.body, headers, feed.language, poll.started, self._model_path()
                )
        except (FetchError, ParseError) as exc:
            return exc
        return None

    def _model_path(self) -> Path | None:
        """Where the parse worker finds the model to score with; None lets the daemon score
        (and report a model that cannot be had, as it would without workers)."""
        try:
            return self.model_path()
        except ModelError:
            return None

    def _client_or_fail(self) -> httpx.AsyncClient:
        if self._client is None:
            raise RuntimeError("use Refresher as an async context manager")
        return self._client

    def _elapsed_ms(self, poll: _Poll) -> int:
        return int((time.monotonic() - poll.clock_start) * 1000)

    def _store_success(self, poll: _Poll) -> PollOutcome:
        feed, result = poll.feed, poll.result
        assert result is not None
        articles = poll.content.articles if poll.content else []
        matches = storage.find_matches(self.db, feed.id, articles)
        fresh = storage.needs_classifying(self.db, feed.id, articles, matches)
        version, scores = self._scores(poll, fresh)
        moved, redirect = self._redirect(feed, result)
        server_min = self._server_min_interval(poll)
        record = storage.PollRecord(
            feed_id=feed.id,
            started=iso(poll.started),
            http_status=result.status,
            next_poll=iso(self._next_success(poll, server_min)),
            duration_ms=self._elapsed_ms(poll),
            ok=True,
            warning=poll.content.warning if poll.content else None,
            etag=result.headers.get("etag"),
            last_modified=result.headers.get("last-modified"),
            body_hash=poll.digest,
            server_min_interval_s=server_min,
            redirect_url=redirect,
            url=moved,
        )
        try:
            with self.db.atomic():
                saved = storage.save_poll(self.db, record, articles, scores, version, matches)
                self.stories.group(self.db, feed.id, saved.new, articles, poll.started)
        except BaseException:
            self.stories.reset()  # it may hold articles that were rolled back
            raise
        self._unindexed += len(saved.new)
        if self._unindexed >= SEARCH_BATCH:
            self.index_search()
        if moved:
            log.warning("feed=%r moved permanently: %s -> %s", feed.name, feed.url, moved)
        stored = {**saved.new, **saved.changed}
        outcome = PollOutcome(
            feed=feed.name,
            status=result.status,
            new=len(saved.new),
            updated=len(saved.changed),
            flagged=sum(1 for key in stored if key in scores and scores[key].flagged),
            duration_ms=record.duration_ms,
            warning=record.warning,
            unchanged=poll.unchanged,
        )
        (log.warning if outcome.warning else log.info)(outcome.log_line())
        return outcome

    def index_search(self) -> int:
        """Bring the full-text index up to date (call on the DB thread); returns articles
        indexed. Batches are cheaper than indexing each poll; searches scan the rest."""
        count = 0
        while indexed := storage.index_pending(self.db):
            count += indexed
        self._unindexed = 0
        return count

    def _scores(
        self, poll: _Poll, fresh: Sequence[storage.ArticleIn]
    ) -> tuple[str | None, dict[str, storage.ClassificationIn]]:
        """(model version, scores) for the articles to store: the parse worker's, or computed
        here for any it did not score (no model path, or it could not load the model)."""
        if not fresh:
            return None, {}
        content = poll.content
        if content and content.model_version and all(a.key in content.scores for a in fresh):
            return content.model_version, {a.key: content.scores[a.key] for a in fresh}
        model = self.model()
        return model.version, classify(model, fresh)

    def _redirect(
        self, feed: storage.FeedState, result: FetchResult
    ) -> tuple[str | None, str | None]:
        """(URL to move to, permanent redirect to remember): a 301/308 moves on its second sight."""
        target = result.permanent_redirect
        if target and target == feed.redirect_url:
            return target, None
        return None, target

    def _server_min_interval(self, poll: _Poll) -> int | None:
        assert poll.result is not None
        ttl = poll.content.ttl if poll.content else None
        return server_min_interval(ttl, poll.result.headers.get("cache-control"))

    def _next_success(self, poll: _Poll, server_min: int | None) -> datetime:
        feed = poll.feed
        weekly = None
        if feed.adaptive:
            since = iso(poll.started - timedelta(days=7))
            weekly = storage.new_articles_since(self.db, feed.id, since)
        settings = self._schedule(feed, server_min)
        return next_poll(poll.started, settings, ok=True, new_last_week=weekly, rng=self.rng)

    def _store_failure(self, poll: _Poll, exc: FetchError | ParseError) -> PollOutcome:
        feed = poll.feed
        status = exc.status if isinstance(exc, FetchError) else None
        kind = exc.kind if isinstance(exc, FetchError) else "soft"
        retry_after = exc.retry_after if isinstance(exc, FetchError) else None
        when = next_poll(
            poll.started,
            self._schedule(feed, feed.server_min_interval_s),
            ok=False,
            consecutive_failures=feed.consecutive_failures,
            retry_after=parse_retry_after(retry_after, poll.started),
            rng=self.rng,
        )
        weight = failure_weight(kind)
        reason = pause_reason(
            kind, feed.failure_score + weight, self.politeness.pause_after, str(exc)
        )
        record = storage.PollRecord(
            feed_id=feed.id,
            started=iso(poll.started),
            http_status=status,
            next_poll=iso(when),
            duration_ms=self._elapsed_ms(poll),
            ok=False,
            error=str(exc),
            failure_weight=weight,
            pause_reason=reason,
        )
        storage.save_poll(self.db, record)
        outcome = PollOutcome(
            feed.name, status, 0, 0, 0, record.duration_ms, error=str(exc), paused=reason
        )
        log.error(outcome.log_line())
        return outcome

    def _schedule(self, feed: storage.FeedState, server_min: int | None) -> ScheduleSettings:
        return ScheduleSettings(
            interval_s=feed.interval_s,
            jitter=self.politeness.jitter,
            adaptive=feed.adaptive,
            min_interval_s=feed.min_interval_s,
            max_interval_s=feed.max_interval_s,
            server_min_interval_s=server_min,
        )


def classify_unscored(
    db: sqlite_utils.Database, model: Callable[[], Model], batch: int = 2000
) -> int:
    """Score articles that have no classification yet (e.g. stored before a model existed)."""
    done = 0
    while rows := storage.unclassified_articles(db, limit=batch):
        score_rows(db, model(), rows, iso(utc_now()))
        done += len(rows)
    return done
