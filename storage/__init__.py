"""SQLite storage for nk-monitor, through sqlite-utils. Never imports monitor or classifiers."""

from storage.articles import (
    ArticleIn,
    article_outlets,
    count_articles,
    get_article,
    needs_classifying,
    unclassified_articles,
)
from storage.classifications import ClassificationIn, save_classification
from storage.db import StorageError, applied_migrations, open_db
from storage.feeds import (
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
from storage.polls import PollRecord, PollSaved, save_poll
from storage.queue import article_view, review_queue, week_digest
from storage.reviews import (
    VERDICTS,
    ReviewError,
    add_review,
    latest_review,
    reviewed_examples,
    undo_review,
)

__all__ = [
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
    "applied_migrations",
    "article_outlets",
    "article_view",
    "count_articles",
    "due_feeds",
    "enabled_feeds",
    "feed_health",
    "get_article",
    "get_feed",
    "latest_review",
    "needs_classifying",
    "new_articles_since",
    "open_db",
    "review_queue",
    "reviewed_examples",
    "save_classification",
    "save_poll",
    "set_paused",
    "sync_feeds",
    "undo_review",
    "unclassified_articles",
    "week_digest",
]
