"""Bytes and response headers in, plain entries out. Never touches the network or storage."""

from __future__ import annotations

import calendar
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import feedparser

from monitor.errors import ParseError

# Legacy labels that real feeds use for their larger supersets (as browsers do): a Korean
# feed declared euc-kr routinely holds CP949-only syllables, gb2312 feeds hold GBK characters.
_SUPERSETS = {
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "ksc5601": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "big5": "big5hkscs",
}
_CHARSET_HEADER = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_CHARSET_PROLOG = re.compile(rb"^\s*<\?xml[^>]*encoding\s*=\s*[\"']([\w.:-]+)", re.IGNORECASE)
# bozo exceptions that say nothing about the entries we got
_HARMLESS = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)


@dataclass(frozen=True)
class RawEntry:
    guid: str | None
    link: str | None
    title: str
    title_is_html: bool
    summary: str  # HTML or text, as the feed gave it (already sanitised by feedparser)
    published: datetime | None  # UTC
    language: str | None = None


@dataclass(frozen=True)
class ParsedFeed:
    version: str
    title: str
    language: str | None
    entries: list[RawEntry] = field(default_factory=list)
    warning: str | None = None
    ttl: str | None = None  # RSS <ttl>, minutes, as the feed wrote it


def _sniff(body: bytes, content_type: str) -> None:
    """Refuse bodies that are plainly not feeds, with a message saying what they are."""
    head = body[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if not head:
        raise ParseError("parse: empty response body")
    if head.startswith((b"<!doctype html", b"<html")) or (
        "html" in content_type and b"<rss" not in head and b"<feed" not in head
    ):
        raise ParseError("parse: got an HTML page, not a feed")
    if head[:1] in (b"{", b"[") or "json" in content_type:
        try:
            json.loads(body)
        except ValueError:
            return
        raise ParseError("parse: got a JSON document, not an RSS or Atom feed")


def _with_superset_charset(body: bytes, headers: dict[str, str]) -> dict[str, str]:
    """Headers that make feedparser decode a legacy CJK label with its superset codec."""
    match = _CHARSET_HEADER.search(headers.get("content-type", "")) or _CHARSET_PROLOG.match(
        body[:512].lstrip(b"\xef\xbb\xbf")
    )
    if not match:
        return headers
    label = match.group(1)
    label = label.decode("ascii", "replace") if isinstance(label, bytes) else label
    superset = _SUPERSETS.get(label.lower())
    if superset is None:
        return headers
    return {**headers, "content-type": f"application/xml; charset={superset}"}


def _timestamp(entry: Mapping[str, Any]) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = dict.get(entry, key)  # type: ignore[arg-type]  # no feedparser fallback warning
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
            except (OverflowError, ValueError, OSError):
                continue
    return None


def _summary(entry: Mapping[str, Any]) -> str:
    summary = entry.get("summary") or ""
    if not summary:
        for content in entry.get("content") or []:
            if content.get("value"):
                return str(content["value"])
    return str(summary)


def _entry(entry: Mapping[str, Any]) -> RawEntry:
    title_detail = entry.get("title_detail") or {}
    return RawEntry(
        guid=(str(entry["id"]).strip() or None) if entry.get("id") else None,
        link=str(entry.get("link") or "").strip() or None,
        title=str(entry.get("title") or ""),
        title_is_html="html" in str(title_detail.get("type", "")),
        summary=_summary(entry),
        published=_timestamp(entry),
        language=title_detail.get("language") or None,
    )


def parse_feed(body: bytes, headers: Mapping[str, str] | None = None) -> ParsedFeed:
    """Parse a feed body with feedparser; a bozo result with entries is kept with a warning."""
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    _sniff(body, headers.get("content-type", "").lower())
    headers = _with_superset_charset(body, headers)
    try:
        result = feedparser.parse(io.BytesIO(body), response_headers=headers, sanitize_html=True)
    except Exception as exc:  # feedparser raises on some malformed input instead of bozo
        raise ParseError(f"parse: feedparser failed: {type(exc).__name__}: {exc}") from exc
    entries = []
    for raw in result.entries:
        try:
            entries.append(_entry(raw))
        except (TypeError, ValueError, AttributeError):
            continue  # one odd entry never sinks the feed
    warning = None
    if result.get("bozo") and not isinstance(result.get("bozo_exception"), _HARMLESS):
        reason = str(result.get("bozo_exception") or "not well-formed").splitlines()[0][:200]
        warning = f"parse: malformed feed, kept {len(entries)} entries ({reason})"
    if not result.get("version") and not entries:
        raise ParseError(
            f"parse: not an RSS or Atom feed{' (' + warning[7:] + ')' if warning else ''}"
        )
    feed = result.get("feed") or {}
    return ParsedFeed(
        version=result.get("version") or "unknown",
        title=str(feed.get("title") or ""),
        language=feed.get("language") or None,
        entries=entries,
        warning=warning,
        ttl=str(feed["ttl"])[:20] if feed.get("ttl") else None,
    )
