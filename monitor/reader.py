"""Parse, normalise and score one response body: the CPU-heavy middle of a poll, as one call.

The parse workers run it, so feed entries become scored, storable articles in the worker and
only plain records cross back to the daemon, which deduplicates and stores them. Scoring
articles that turn out to be stored already costs a little: about 40 µs an article.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from monitor.classify import score_with
from monitor.normalise import normalise_entries
from monitor.parser import parse_feed
from storage import ArticleIn, ClassificationIn


@dataclass(frozen=True)
class FeedContent:
    articles: list[ArticleIn] = field(default_factory=list)
    warning: str | None = None  # the parser's, for a feed kept despite a problem
    ttl: str | None = None  # RSS <ttl>, minutes, as the feed wrote it
    model_version: str | None = None  # of `scores`; None: not scored
    scores: dict[str, ClassificationIn] = field(default_factory=dict)  # by article key


def read_feed(
    body: bytes,
    headers: Mapping[str, str],
    language: str | None,
    now: datetime,
    model_path: Path | None = None,
) -> FeedContent:
    """The feed's articles, scored by the model saved in `model_path` if one is given.
    ParseError if the body is not a usable feed."""
    parsed = parse_feed(body, headers)
    articles = normalise_entries(parsed.entries, language, now, parsed.language)
    scored = score_with(model_path, articles) if model_path and articles else None
    version, scores = scored if scored else (None, {})
    return FeedContent(articles, parsed.warning, parsed.ttl, version, scores)
