"""Group near-duplicate articles into stories: the dedupe step after exact (key, URL) matching.

A new article joins the story of the most similar article dated within `window` of it, if
their signatures (monitor.similarity: title and summary alike, on average) reach
`similarity`; a higher bar within one outlet, which rarely repeats itself except to correct
and whose boilerplate makes unrelated items look alike. Candidates come from an in-memory
index of the articles in the window, banded LSH style, loaded from the database on first use
and kept up to date as articles are stored.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import sqlite_utils

import storage
from monitor.normalise import iso
from monitor.similarity import BINS, BYTES, as_array, bands, signatures, similarities


@dataclass(frozen=True)
class StorySettings:
    window: timedelta = timedelta(days=3)
    similarity: float = 0.5  # across outlets
    same_outlet_similarity: float = 0.9


def _seconds(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()  # stored times are UTC with a Z


class StoryIndex:
    """The signatures of recent articles, by band, for finding a new article's story.

    Rows live in NumPy arrays, so a new article is compared with all its candidates at once.
    A band keeps only its `BUCKET_ROWS` most recent articles: a band common to many articles
    (stock phrases of one outlet, templated headlines, a wire story carried by a hundred
    outlets) proposes a bounded number of candidates, and the recent ones, which are those
    inside the window. (Dropping such bands altogether, as a search engine drops stop words,
    split a story once more than that many outlets carried it word for word, and missed 5%
    of the feed farm's joins.) On 45,000 farm items 8 rows a band find 99.7% of the joins
    16 would, at 62 instead of 72 us an item. Two bins a band, 16 bands a half: halves 50%
    alike share a band 99% of the time.

    A candidate must share `SHARED_BANDS` bands when both halves have text (one when only
    the title or only the summary does): unrelated items in one language share the odd band
    through common words, and two texts 50% alike in both halves share two of the 32 bands
    99.9% of the time. On 27,000 items of the feed farm that compares 7 times fewer
    candidates than one shared band would, with the same joins.
    """

    BUCKET_ROWS = 8
    SHARED_BANDS = 2

    def __init__(self, settings: StorySettings | None = None) -> None:
        self.settings = settings or StorySettings()
        self.reset()

    def reset(self) -> None:
        """Forget everything (after a failed write): the next `group` reloads from the database."""
        self._signatures = np.zeros((0, BINS), dtype=np.uint32)
        self._stories = np.zeros(0, dtype=np.int64)
        self._feeds = np.zeros(0, dtype=np.int64)
        self._times = np.zeros(0, dtype=np.float64)
        self._size = 0
        self._rows: dict[int, int] = {}  # article id -> row
        self._buckets: dict[int, int | list[int]] = {}  # band -> row, or rows
        self._loaded = False
        self._pruned_at = 0

    def __len__(self) -> int:
        return self._size

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

    def add(
        self,
        article_id: int,
        story_id: int,
        feed_id: int,
        time: str,
        signature: bytes | None,
        banded: list[bytes] | None = None,
    ) -> None:
        """Index one article; `banded`: bands(signature), if already computed."""
        if not signature or len(signature) != BYTES or article_id in self._rows:
            return
        row = self._size
        if row == len(self._stories):
            self._grow()
        self._signatures[row] = as_array(signature)
        self._stories[row], self._feeds[row] = story_id, feed_id
        self._times[row] = _seconds(time)
        self._rows[article_id] = row
        self._size += 1
        self._file(row, banded if banded is not None else bands(signature))

    def _file(self, row: int, banded: list[int]) -> None:
        """Put a row in the buckets of its bands."""
        buckets = self._buckets
        for band in banded:
            bucket = buckets.get(band)
            if bucket is None:  # most bands are one article's: no list for those
                buckets[band] = row
            elif isinstance(bucket, int):
                buckets[band] = [bucket, row]
            else:  # the most recent: older ones are the first to leave the window
                if len(bucket) == self.BUCKET_ROWS:
                    del bucket[0]
                bucket.append(row)

    def _grow(self) -> None:
        capacity = max(1024, 2 * len(self._stories))
        self._signatures = np.resize(self._signatures, (capacity, BINS))
        self._stories = np.resize(self._stories, capacity)
        self._feeds = np.resize(self._feeds, capacity)
        self._times = np.resize(self._times, capacity)

    def find(
        self,
        signature: bytes | None,
        feed_id: int,
        time: str,
        banded: list[bytes] | None = None,
    ) -> int | None:
        """The story of the most similar indexed article within the window, if similar enough."""
        if not signature or len(signature) != BYTES:
            return None
        banded = banded if banded is not None else bands(signature)
        buckets = self._buckets
        proposed: list[int] = []  # rows, once for every band they share with this signature
        for band in banded:
            bucket = buckets.get(band)
            if bucket is None:
                continue
            if isinstance(bucket, int):
                proposed.append(bucket)
            else:
                proposed.extend(bucket)
        shared = Counter(proposed)
        need = self.SHARED_BANDS if len(banded) == BINS // 2 else 1
        candidates = [row for row, count in shared.items() if count >= need]
        if not candidates:
            return None
        rows = np.fromiter(candidates, dtype=np.int64, count=len(candidates))
        near = np.abs(self._times[rows] - _seconds(time)) <= self.settings.window.total_seconds()
        rows = rows[near]
        if not len(rows):
            return None
        scores = similarities(signature, self._signatures[rows])
        bars = np.where(
            self._feeds[rows] == feed_id,
            self.settings.same_outlet_similarity,
            self.settings.similarity,
        )
        passing = scores >= bars
        if not passing.any():
            return None
        best = rows[passing][np.argmax(scores[passing])]
        return int(self._stories[best])

    def prune(self, now: datetime) -> None:
        """Forget articles older than the window (the index of a long-running daemon).

        The rows kept move to the front in their order, and the buckets are filled again from
        their signatures: the index is then the one that adding them afresh would build."""
        oldest = (now - 2 * self.settings.window).timestamp()
        keep = np.flatnonzero(self._times[: self._size] >= oldest)
        if len(keep) == self._size:
            return
        ids = np.empty(self._size, dtype=np.int64)
        ids[list(self._rows.values())] = list(self._rows.keys())
        kept = [a[keep] for a in (self._signatures, self._stories, self._feeds, self._times)]
        self.reset()
        self._loaded = True
        self._signatures, self._stories, self._feeds, self._times = kept  # full: add() grows
        self._size = len(keep)
        self._rows = dict(zip(ids[keep].tolist(), range(self._size), strict=True))
        for row, signature in enumerate(self._signatures):
            self._file(row, bands(signature.tobytes()))

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
            banded = bands(signature) if len(signature) == BYTES else []
            story_id = self.find(signature, feed_id, time, banded)
            if story_id is not None and story_id != stories[article_id]:
                storage.join_story(db, article_id, story_id, stamp)
                joined[article_id] = story_id
            story_id = story_id or stories[article_id]
            self.add(article_id, story_id, feed_id, time, signature, banded)
        if self._size > 2 * self._pruned_at + 10_000:
            self.prune(now)
            self._pruned_at = self._size
        return joined
