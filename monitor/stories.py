"""Group near-duplicate articles into stories: the dedupe step after exact (key, URL) matching.

A new article joins the story of the most similar article dated within `window` of it, if
their signatures (monitor.similarity) agree on at least `similarity` of their bins; a lower
bar across outlets than within one (an outlet rarely repeats itself except to correct, and its
boilerplate makes unrelated items look alike). Candidates come from an in-memory index of
the articles in the window, banded LSH style, loaded from the database on first use and
kept up to date as articles are stored.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlite_utils

import storage
from monitor.normalise import iso
from monitor.similarity import BINS, bands, signatures, similarity

BAND_ROWS = 2  # 32 bands of 2 bins: pairs at 0.4 similarity are candidates 99% of the time


@dataclass(frozen=True)
class StorySettings:
    window: timedelta = timedelta(days=3)
    similarity: float = 0.5  # across outlets
    same_outlet_similarity: float = 0.8


@dataclass(frozen=True)
class _Entry:
    article_id: int
    story_id: int
    feed_id: int
    time: float  # POSIX seconds
    signature: bytes


def _seconds(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


@dataclass
class StoryIndex:
    """The signatures of recent articles, by band, for finding a new article's story."""

    settings: StorySettings = field(default_factory=StorySettings)
    _entries: dict[int, _Entry] = field(default_factory=dict)  # by article id
    _buckets: dict[bytes, list[int]] = field(default_factory=lambda: defaultdict(list))
    _loaded: bool = False
    _added_since_prune: int = 0

    def load(
        self, db: sqlite_utils.Database, now: datetime, skip: frozenset[int] = frozenset()
    ) -> None:
        """Index the articles of the last window (signing any stored without a signature),
        but those in `skip`: the ones being grouped, stored in this transaction."""
        since = iso(now - self.settings.window)
        rows = [row for row in storage.recent_signatures(db, since) if row[0] not in skip]
        unsigned = [row for row in rows if row[4] is None]
        computed = dict(
            zip(
                (row[0] for row in unsigned),
                signatures([(row[5], row[6]) for row in unsigned]),
                strict=True,
            )
        )
        if computed:
            with db.atomic():
                storage.save_signatures(db, computed.items())
        for article_id, story_id, feed_id, time, signature, _, _ in rows:
            self.add(article_id, story_id, feed_id, time, computed.get(article_id, signature))
        self._loaded = True

    def reset(self) -> None:
        """Forget everything (after a failed write): the next `group` reloads from the database."""
        self._entries, self._buckets = {}, defaultdict(list)
        self._loaded, self._added_since_prune = False, 0

    def add(
        self, article_id: int, story_id: int, feed_id: int, time: str, signature: bytes | None
    ) -> None:
        if not signature or len(signature) != BINS * 4:
            return
        self._entries[article_id] = _Entry(article_id, story_id, feed_id, _seconds(time), signature)
        for band in bands(signature, BAND_ROWS):
            self._buckets[band].append(article_id)
        self._added_since_prune += 1

    def find(self, signature: bytes | None, feed_id: int, time: str) -> int | None:
        """The story of the most similar indexed article within the window, if similar enough."""
        if not signature or len(signature) != BINS * 4:
            return None
        moment, window = _seconds(time), self.settings.window.total_seconds()
        seen: set[int] = set()
        best: tuple[float, int] | None = None
        for band in bands(signature, BAND_ROWS):
            for article_id in self._buckets.get(band, ()):
                if article_id in seen:
                    continue
                seen.add(article_id)
                entry = self._entries.get(article_id)
                if entry is None or abs(entry.time - moment) > window:
                    continue
                score = similarity(signature, entry.signature)
                bar = (
                    self.settings.same_outlet_similarity
                    if entry.feed_id == feed_id
                    else self.settings.similarity
                )
                if score >= bar and (best is None or score > best[0]):
                    best = (score, entry.story_id)
        return best[1] if best else None

    def prune(self, now: datetime) -> None:
        """Forget articles older than the window (the index of a long-running daemon)."""
        oldest = (now - self.settings.window).timestamp() - self.settings.window.total_seconds()
        kept = [e for e in self._entries.values() if e.time >= oldest]
        if len(kept) == len(self._entries):
            return
        self._entries = {}
        self._buckets = defaultdict(list)
        for entry in kept:
            self._entries[entry.article_id] = entry
            for band in bands(entry.signature, BAND_ROWS):
                self._buckets[band].append(entry.article_id)
        self._added_since_prune = 0

    def group(
        self,
        db: sqlite_utils.Database,
        feed_id: int,
        new: Mapping[str, int],
        articles: Sequence[storage.ArticleIn],
        now: datetime,
    ) -> dict[int, int]:
        """Move each new article (`new`: key -> article id) into the story it repeats; call in
        the transaction that stored them. Returns {article id: story id} of those that joined."""
        if not new:
            return {}
        if not self._loaded:
            self.load(db, now, skip=frozenset(new.values()))
        stamp = iso(now)
        stories = storage.stories_of(db, new.values())
        joined: dict[int, int] = {}
        for article in articles:
            article_id = new.get(article.key)
            if article_id is None:
                continue
            signature = article.signature
            if signature is None:
                signature = signatures([(article.title, article.summary)])[0]
            time = article.published or stamp
            story_id = self.find(signature, feed_id, time)
            if story_id is not None and story_id != stories[article_id]:
                storage.join_story(db, article_id, story_id, stamp)
                joined[article_id] = story_id
            self.add(article_id, story_id or stories[article_id], feed_id, time, signature)
        if self._added_since_prune > 10_000:
            self.prune(now)
        return joined
