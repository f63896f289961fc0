"""Writing one poll of one feed: its articles, scores and new polling state, atomically."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sqlite_utils

from storage.articles import ArticleIn, Matches, store_articles
from storage.classifications import ClassificationIn, save_classification
from storage.stories import mark_updated


@dataclass(frozen=True)
class PollRecord:
    """What happened when a feed was polled, and when to poll it next."""

    feed_id: int
    started: str
    http_status: int | None
    next_poll: str
    duration_ms: int
    ok: bool
    error: str | None = None
    warning: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None  # of the body parsed this time (None: keep the stored one)
    server_min_interval_s: int | None = None  # the feed's own ttl / max-age, when it gave one
    failure_weight: float = 0.0  # added to the feed's failure score when not ok
    pause_reason: str | None = None  # set to pause the feed
    redirect_url: str | None = None  # a permanent redirect seen this time
    url: str | None = None  # set to move the feed to a new URL


@dataclass(frozen=True)
class PollSaved:
    new: dict[str, int]
    changed: dict[str, int]


def save_poll(
    db: sqlite_utils.Database,
    poll: PollRecord,
    articles: Sequence[ArticleIn] = (),
    scores: Mapping[str, ClassificationIn] | None = None,
    model_version: str | None = None,
    matches: Matches | None = None,
) -> PollSaved:
    """Store the articles of a poll, their scores and the feed's new state in one transaction.

    Validators (ETag, Last-Modified) are written together with the articles they vouch for,
    so a crash can never leave validators behind for items that were not stored.
    `scores` maps article keys to classifications by `model_version`; `matches` as for
    store_articles.
    """
    scores = scores or {}
    with db.atomic():
        new, changed = store_articles(
            db, poll.feed_id, articles, poll.started, matches, scores, model_version
        )
        if model_version:  # new articles were stored with theirs
            for key, article_id in changed.items():
                if key in scores:
                    save_classification(db, article_id, model_version, scores[key], poll.started)
        mark_updated(db, changed.values(), poll.started)
        _update_feed(db, poll)
        db["polls"].insert(
            {
                "feed_id": poll.feed_id,
                "started": poll.started,
                "http_status": poll.http_status,
                "new_articles": len(new),
                "updated_articles": len(changed),
                "duration_ms": poll.duration_ms,
                "error": poll.error,
                "warning": poll.warning,
            }
        )
    return PollSaved(new, changed)


def _update_feed(db: sqlite_utils.Database, poll: PollRecord) -> None:
    values: dict[str, object] = {
        "last_polled": poll.started,
        "last_status": poll.http_status,
        "next_poll": poll.next_poll,
        "last_warning": poll.warning,
        "redirect_url": poll.redirect_url,
    }
    if poll.ok:
        values.update(
            last_success=poll.started, last_error=None, consecutive_failures=0, failure_score=0.0
        )
        if poll.http_status == 304:  # keep validators the server did not repeat
            values.update({k: v for k, v in _validators(poll).items() if v is not None})
        else:
            values.update(_validators(poll))
        if poll.body_hash:
            values["body_hash"] = poll.body_hash
        if poll.server_min_interval_s is not None:
            values["server_min_interval_s"] = poll.server_min_interval_s
    else:
        values["last_error"] = poll.error
        db.execute(
            "update feeds set consecutive_failures = coalesce(consecutive_failures, 0) + 1,"
            " failure_score = coalesce(failure_score, 0) + ? where id = ?",
            [poll.failure_weight, poll.feed_id],
        )
    if poll.pause_reason:
        values.update(paused=1, pause_reason=poll.pause_reason)
    if poll.url:
        values.update(url=poll.url, redirect_url=None)
    db["feeds"].update(poll.feed_id, values)


def _validators(poll: PollRecord) -> dict[str, str | None]:
    return {"etag": poll.etag, "last_modified": poll.last_modified}
