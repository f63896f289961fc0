"""Parsed entries to storable articles: plain safe text, UTC dates, canonical URLs, a key."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from monitor.language import detect_language, primary_language
from monitor.parser import RawEntry
from monitor.similarity import signatures
from monitor.text import html_to_text, one_line
from monitor.urls import canonical_url, safe_url
from storage import ArticleIn

MAX_TITLE = 500
MAX_SUMMARY = 5000
MAX_GUID = 1000
FUTURE_SKEW = timedelta(days=1)
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)


def iso(moment: datetime) -> str:
    """The one timestamp format stored everywhere: UTC, seconds, trailing Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def plausible_date(moment: datetime | None, now: datetime) -> datetime | None:
    """None for dates before 1990 or more than a day in the future: unknown, not trusted."""
    if moment is None or moment < EARLIEST or moment > now + FUTURE_SKEW:
        return None
    return moment


def content_hash(title: str, summary: str) -> str:
    return hashlib.sha256(f"{title}\n{summary}".encode()).hexdigest()


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def normalise_entry(
    entry: RawEntry, language: str | None, now: datetime, feed_language: str | None = None
) -> ArticleIn | None:
    """One storable article, or None when the entry has neither title nor summary.

    Its language: `language` (feeds.yaml) if set, else the entry's own, else the feed's
    (`feed_language`), else detected from the text; primary subtags only ("en-US" -> "en").
    """
    title = html_to_text(entry.title) if entry.title_is_html else one_line(entry.title)
    summary = html_to_text(entry.summary)
    if not title and not summary:
        return None
    title = _truncate(title or summary, MAX_TITLE)
    summary = _truncate(summary, MAX_SUMMARY)
    url = safe_url(entry.link)
    canonical = canonical_url(url)
    guid = one_line(entry.guid)[:MAX_GUID] if entry.guid else None
    digest = content_hash(title, summary)
    published = plausible_date(entry.published, now)
    return ArticleIn(
        key=guid or canonical or f"sha256:{digest}",
        guid=guid,
        url=url,
        canonical_url=canonical,
        title=title,
        summary=summary,
        published=iso(published) if published else None,
        language=(
            primary_language(language)
            or primary_language(entry.language)
            or primary_language(feed_language)
            or detect_language(f"{title} {summary}")
        ),
        content_hash=digest,
    )


def normalise_entries(
    entries: Iterable[RawEntry],
    language: str | None,
    now: datetime,
    feed_language: str | None = None,
) -> list[ArticleIn]:
    """Normalise a feed's entries, keeping the first of any repeated key, each with its
    near-duplicate signature."""
    seen: set[str] = set()
    articles = []
    for entry in entries:
        article = normalise_entry(entry, language, now, feed_language)
        if article is not None and article.key not in seen:
            seen.add(article.key)
            articles.append(article)
    signed = signatures([(article.title, article.summary) for article in articles])
    return [
        dataclasses.replace(article, signature=signature)
        for article, signature in zip(articles, signed, strict=True)
    ]
