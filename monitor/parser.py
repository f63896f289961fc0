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
_CHAR_REF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,16})|([0-9]{1,20}));")
_REPLACEMENT_REF = b"&#xFFFD;"
_UTF8 = ("utf-8", "utf8")


@dataclass(frozen=True)
class RawEntry:
    guid: str | None
    link: str | None
    title: str
    title_is_html: bool
    summary: str  # HTML or text, as the feed gave it: untrusted markup, never rendered
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
    return with_charset(headers, superset)


def _valid_code_point(match: re.Match[bytes]) -> bytes:
    hex_digits, decimal = match.groups()
    value = int(hex_digits, 16) if hex_digits else int(decimal)
    if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
        return _REPLACEMENT_REF
    return match.group(0)


def repair_character_references(body: bytes) -> bytes:
    """Replace numeric character references to surrogates or beyond U+10FFFF with U+FFFD.

    feedparser's fallback parser raises on them (chr() / encode errors), which would cost the
    whole feed for one bad reference. Only ASCII-compatible bodies are touched.
    """
    if b"&#" not in body or body[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in body[:64]:
        return body
    return _CHAR_REF.sub(_valid_code_point, body)


def with_charset(headers: Mapping[str, str], encoding: str) -> dict[str, str]:
    """Response headers that make the parser read the body as `encoding`."""
    kept = {k: v for k, v in headers.items() if k.lower() != "content-type"}
    return {**kept, "content-type": f"application/xml; charset={encoding}"}


def _warning(result: Any, entries: int) -> str | None:
    """The parse warning worth recording, if any: not well-formed, or decoded by guesswork."""
    if not result.get("bozo"):
        return None
    exc = result.get("bozo_exception")
    if isinstance(exc, feedparser.NonXMLContentType):
        return None
    if isinstance(exc, feedparser.CharacterEncodingOverride):
        if str(result.get("encoding", "")).lower() in _UTF8:
            return None  # e.g. text/xml without charset, read as the UTF-8 it is
        return (
            f"parse: {exc}; the text may be garbled: set `encoding:` for this feed"
            " in feeds.yaml if it is"
        )
    reason = str(exc or "not well-formed").splitlines()[0][:200]
    return f"parse: malformed feed, kept {entries} entries ({reason})"


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
    """Parse a feed body with feedparser; a bozo result with entries is kept with a warning.

    A charset in the Content-Type header wins over the document's own declaration, as HTTP
    says; the pipeline puts a feed's `encoding:` setting there for servers that lie.
    """
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    _sniff(body, headers.get("content-type", "").lower())
    headers = _with_superset_charset(body, headers)
    body = repair_character_references(body)
    try:
        result = feedparser.parse(
            io.BytesIO(body),
            response_headers=headers,
            # Summaries become plain text in normalise (html_to_text drops tags and script and
            # style content) and are never rendered as HTML, so feedparser's sanitiser and its
            # rewriting of relative links inside the HTML would be paid for and thrown away:
            # together they are about 45% of its parse time.
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except Exception as exc:  # feedparser raises on some malformed input instead of bozo
        raise ParseError(f"parse: feedparser failed: {type(exc).__name__}: {exc}") from exc
    entries = []
    for raw in result.entries:
        try:
            entries.append(_entry(raw))
        except (TypeError, ValueError, AttributeError):
            continue  # one odd entry never sinks the feed
    warning = _warning(result, len(entries))
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
