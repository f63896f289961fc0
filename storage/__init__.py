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
    from .classifications import SCORED_LABELS, decode_why, save_classification
    from .db import StorageError, applied_migrations, open_db
    from .digest import DIGEST_STATUSES, label_day_counts, top_outlets, week_stories
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
    from .queue import (
        ORDERS,
        STATUSES,
        StoryFilters,
        queue_counts,
        story_outlets,
        story_queue,
        story_rows,
    )
    from .records import ArticleIn, ClassificationIn
    from .reviews import (
        RELEVANT_VERDICTS,
        VERDICTS,
        ReviewError,
        add_review,
        current_labels,
        latest_review,
        review_counts,
        reviewed_examples,
        set_note,
        toggle_label,
        undo_review,
        unreviewed_articles,
    )
    from .search import search_stories
    from .search_index import index_pending, indexed_up_to, pending_count
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
    "SCORED_LABELS": "classifications",
    "decode_why": "classifications",
    "save_classification": "classifications",
    "DIGEST_STATUSES": "digest",
    "label_day_counts": "digest",
    "top_outlets": "digest",
    "week_stories": "digest",
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
    "STATUSES": "queue",
    "StoryFilters": "queue",
    "queue_counts": "queue",
    "story_outlets": "queue",
    "story_queue": "queue",
    "story_rows": "queue",
    "search_stories": "search",
    "VERDICTS": "reviews",
    "RELEVANT_VERDICTS": "reviews",
    "current_labels": "reviews",
    "set_note": "reviews",
    "toggle_label": "reviews",
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
    "index_pending": "search_index",
    "indexed_up_to": "search_index",
    "pending_count": "search_index",
}

__all__ = [
    "DIGEST_STATUSES",
    "ORDERS",
    "RELEVANT_VERDICTS",
    "SCORED_LABELS",
    "STATUSES",
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
    "StoryFilters",
    "add_review",
    "alert_deliveries",
    "applied_migrations",
    "article_outlets",
    "audit_population",
    "audit_weeks",
    "count_articles",
    "current_labels",
    "decode_why",
    "due_alerts",
    "due_feeds",
    "enable_alert_channels",
    "enabled_feeds",
    "feed_health",
    "find_matches",
    "get_article",
    "get_feed",
    "index_pending",
    "indexed_up_to",
    "join_story",
    "label_day_counts",
    "latest_review",
    "needs_classifying",
    "new_articles_since",
    "open_db",
    "pending_count",
    "queue_counts",
    "recent_signatures",
    "record_alert",
    "record_audit",
    "refresh_stories",
    "review_counts",
    "reviewed_examples",
    "save_classification",
    "save_poll",
    "save_signatures",
    "search_stories",
    "set_note",
    "set_paused",
    "stories_of",
    "story_members",
    "story_of",
    "story_outlets",
    "story_queue",
    "story_rows",
    "sync_feeds",
    "toggle_label",
    "top_outlets",
    "unclassified_articles",
    "undo_review",
    "unreviewed_articles",
    "week_stories",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'storage' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    globals()[name] = value
    return value
