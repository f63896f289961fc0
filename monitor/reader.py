"""Parse then normalise one response body: the CPU-heavy middle of a poll, as one call.

The parse workers run it, so feed entries become storable articles in the worker and only
plain records cross back to the daemon.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from monitor.normalise import normalise_entries
from monitor.parser import parse_feed
from storage import ArticleIn


@dataclass(frozen=True)
class FeedContent:
    articles: list[ArticleIn] = field(default_factory=list)
    warning: str | None = None  # the parser's, for a feed kept despite a problem
    ttl: str | None = None  # RSS <ttl>, minutes, as the feed wrote it


def read_feed(
    body: bytes, headers: Mapping[str, str], language: str | None, now: datetime
) -> FeedContent:
    """ParseError if the body is not a usable feed."""
    parsed = parse_feed(body, headers)
    articles = normalise_entries(parsed.entries, language, now)
    return FeedContent(articles, parsed.warning, parsed.ttl)
