"""SQLite storage for nk-monitor, through sqlite-utils. Never imports monitor or classifiers.

Names are imported on first use, so a parse worker that builds `ArticleIn` records does not
load sqlite-utils (and with it numpy).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .alerts import alert_deliveries, due_alerts, enable_alert_channels, record_alert
    from .articles import (
        article_outlets,
        count_articles,
        find_matches,
        get_article,
        needs_classifying,
        unclassified_articles,
    )
    from .audit import audit_population, audit_weeks, record_audit
    from .classifications import decode_why, save_classification
    from .db import StorageError, applied_migrations, open_db
    from .feeds import (
        FeedNotFound,
        FeedSpec,
        FeedState,
        due_feeds,
        enabled_feeds,
        feed_health,
        get_feed,
        new_articles_since,
        set_paused,
        sync_feeds,
    )
    from .polls import PollRecord, PollSaved, save_poll
    from .queue import ORDERS, article_view, review_queue, week_digest
    from .records import ArticleIn, ClassificationIn
    from .reviews import (
        VERDICTS,
        ReviewError,
        add_review,
        latest_review,
        review_counts,
        reviewed_examples,
        undo_review,
        unreviewed_articles,
    )
    from .stories import (
        join_story,
        recent_signatures,
        refresh_stories,
        save_signatures,
        stories_of,
        story_members,
        story_of,
    )

_WHERE = {
    "alert_deliveries": "alerts",
    "due_alerts": "alerts",
    "enable_alert_channels": "alerts",
    "record_alert": "alerts",
    "ArticleIn": "records",
    "article_outlets": "articles",
    "count_articles": "articles",
    "find_matches": "articles",
    "get_article": "articles",
    "needs_classifying": "articles",
    "unclassified_articles": "articles",
    "ClassificationIn": "records",
    "audit_population": "audit",
    "audit_weeks": "audit",
    "record_audit": "audit",
    "decode_why": "classifications",
    "save_classification": "classifications",
    "StorageError": "db",
    "applied_migrations": "db",
    "open_db": "db",
    "FeedNotFound": "feeds",
    "FeedSpec": "feeds",
    "FeedState": "feeds",
    "due_feeds": "feeds",
    "enabled_feeds": "feeds",
    "feed_health": "feeds",
    "get_feed": "feeds",
    "new_articles_since": "feeds",
    "set_paused": "feeds",
    "sync_feeds": "feeds",
    "PollRecord": "polls",
    "PollSaved": "polls",
    "save_poll": "polls",
    "ORDERS": "queue",
    "article_view": "queue",
    "review_queue": "queue",
    "week_digest": "queue",
    "VERDICTS": "reviews",
    "ReviewError": "reviews",
    "add_review": "reviews",
    "latest_review": "reviews",
    "review_counts": "reviews",
    "reviewed_examples": "reviews",
    "unreviewed_articles": "reviews",
    "undo_review": "reviews",
    "join_story": "stories",
    "recent_signatures": "stories",
    "refresh_stories": "stories",
    "save_signatures": "stories",
    "story_members": "stories",
    "story_of": "stories",
    "stories_of": "stories",
}

__all__ = [
    "ORDERS",
    "VERDICTS",
    "ArticleIn",
    "ClassificationIn",
    "FeedNotFound",
    "FeedSpec",
    "FeedState",
    "PollRecord",
    "PollSaved",
    "ReviewError",
    "StorageError",
    "add_review",
    "alert_deliveries",
    "applied_migrations",
    "article_outlets",
    "article_view",
    "audit_population",
    "audit_weeks",
    "count_articles",
    "decode_why",
    "due_alerts",
    "due_feeds",
    "enable_alert_channels",
    "enabled_feeds",
    "feed_health",
    "find_matches",
    "get_article",
    "get_feed",
    "join_story",
    "latest_review",
    "needs_classifying",
    "new_articles_since",
    "open_db",
    "recent_signatures",
    "record_alert",
    "record_audit",
    "refresh_stories",
    "review_counts",
    "review_queue",
    "reviewed_examples",
    "save_classification",
    "save_poll",
    "save_signatures",
    "set_paused",
    "stories_of",
    "story_members",
    "story_of",
    "sync_feeds",
    "unclassified_articles",
    "undo_review",
    "unreviewed_articles",
    "week_digest",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'storage' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    globals()[name] = value
    return value
