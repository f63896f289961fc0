"""Feed files drive these tests: every fixture in tests/data/feeds has an expectation here."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.errors import ParseError
from monitor.normalise import normalise_entries
from monitor.parser import parse_feed

FEEDS = Path(__file__).parent / "data" / "feeds"
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)

# file -> (articles after normalising, first title, malformed?)
EXPECTED = {
    "rss2-basic.xml": (5, "China repatriates 60 North Korean", False),
    "atom-basic.atom": (3, "UN panel hears testimony from", False),
    "rss-korean-euckr.xml": (3, "탈북민 5명, 중국 공안에 체포돼 강제북송 위기", False),
    "rss-korean-cp949-declared-euckr.xml": (2, "똠방각하 풍자극 재공연…탈북민 배우 출연", False),
    "rss-chinese-gb18030.xml": (3, "脱北者团体“자유”呼吁停止遣返", False),
    "rss-japanese-shiftjis.xml": (3, "脱北者の強制送還に懸念", False),
    "malformed-truncated.xml": (5, "Border guards in Hyesan", True),
    "malformed-badentity.xml": (3, "Seoul&nbsp2;plans new", True),
    "duplicate-guids.xml": (3, "First copy of a story", False),
    "tracking-params.xml": (3, "Link with utm_source", False),
    "hostile-text.xml": (3, "RED ALERT defectors", True),
    "hostile-text-raw.xml": (3, "RED ALERT defectors", True),
    "future-and-old-dates.xml": (4, "Item dated in 2099", False),
}
NOT_FEEDS = {
    "not-a-feed.html": "parse: got an HTML page, not a feed",
    "empty.xml": "parse: empty response body",
}


def test_every_fixture_has_an_expectation() -> None:
    files = {p.name for p in FEEDS.iterdir() if p.suffix != ".md"}
    assert files == set(EXPECTED) | set(NOT_FEEDS)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_feed_fixture(name: str) -> None:
    count, first_title, malformed = EXPECTED[name]
    parsed = parse_feed((FEEDS / name).read_bytes(), {})
    articles = normalise_entries(parsed.entries, None, NOW)
    assert len(articles) == count
    assert articles[0].title.startswith(first_title)
    assert (parsed.warning is not None) == malformed
    for article in articles:
        assert article.title
        assert all(ch >= " " for ch in article.title + article.summary)
        assert "<" not in article.summary or "&lt;" in (FEEDS / name).read_text("latin-1")


@pytest.mark.parametrize("name", sorted(NOT_FEEDS))
def test_not_a_feed(name: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_feed((FEEDS / name).read_bytes(), {"content-type": "text/html"})
    assert str(info.value) == NOT_FEEDS[name]


def test_json_body_is_refused() -> None:
    with pytest.raises(ParseError, match="JSON document"):
        parse_feed(b'{"items": [1, 2]}', {"content-type": "application/json"})


def test_html_stripped_and_entities_decoded() -> None:
    parsed = parse_feed((FEEDS / "rss2-basic.xml").read_bytes(), {})
    first = normalise_entries(parsed.entries, "en", NOW)[0]
    assert first.summary.startswith("Chinese authorities")
    assert "<p>" not in first.summary and "&amp;" not in first.summary
    assert first.published == "2026-03-12T08:30:00Z"
    assert first.language == "en"


def test_tracking_parameters_removed_real_ones_kept() -> None:
    parsed = parse_feed((FEEDS / "tracking-params.xml").read_bytes(), {})
    urls = [a.canonical_url for a in normalise_entries(parsed.entries, None, NOW)]
    assert all(u and "utm_" not in u and "fbclid" not in u and "gclid" not in u for u in urls)
    assert any(u.endswith("?id=123") for u in urls if u)


def test_implausible_dates_become_unknown() -> None:
    parsed = parse_feed((FEEDS / "future-and-old-dates.xml").read_bytes(), {})
    dates = [a.published for a in normalise_entries(parsed.entries, None, NOW)]
    assert dates[:3] == [None, None, None]
    assert dates[3] is not None and dates[3].startswith("2026-")


def test_duplicate_guid_keeps_first() -> None:
    parsed = parse_feed((FEEDS / "duplicate-guids.xml").read_bytes(), {})
    articles = normalise_entries(parsed.entries, None, NOW)
    keys = [a.key for a in articles]
    assert len(keys) == len(set(keys))
    assert articles[0].title.startswith("First copy")


def test_hostile_text_has_no_escape_sequences() -> None:
    for name in ("hostile-text.xml", "hostile-text-raw.xml"):
        parsed = parse_feed((FEEDS / name).read_bytes(), {})
        for article in normalise_entries(parsed.entries, None, NOW):
            text = article.title + article.summary
            assert not any(ch in text for ch in "\x1b\x07\x9b\x9d\u202e\u202c")
            assert "52;c;" not in text and "8;;http" not in text


def test_javascript_links_stored_as_missing() -> None:
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        b"<item><title>A</title><link>javascript:alert(1)</link><guid>a</guid></item>"
        b"<item><title>B</title><link>data:text/html,hi</link><guid>b</guid></item>"
        b"</channel></rss>"
    )
    articles = normalise_entries(parse_feed(body, {}).entries, None, NOW)
    assert [(a.url, a.canonical_url) for a in articles] == [(None, None), (None, None)]


def test_markup_is_reduced_to_text_without_feedparsers_sanitiser() -> None:
    """The parser skips feedparser's HTML sanitiser (the text is never rendered as HTML), so
    normalising alone must drop scripts, styles and tags, and entry links still resolve."""
    body = (
        b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"'
        b' xml:base="https://news.example/world/"><title>t</title>'
        b'<entry><id>tag:a</id><title type="html">&lt;b&gt;Bold&lt;/b&gt; title</title>'
        b'<link href="2026/11/story"/><summary type="html">&lt;style&gt;p{}&lt;/style&gt;'
        b"&lt;script&gt;steal()&lt;/script&gt;&lt;p onclick=&quot;x()&quot;&gt;Seen"
        b" &lt;a href=&quot;javascript:y()&quot;&gt;here&lt;/a&gt;&lt;/p&gt;</summary></entry></feed>"
    )
    [article] = normalise_entries(parse_feed(body, {}).entries, None, NOW)
    assert (article.title, article.summary) == ("Bold title", "Seen here")
    assert article.url == "https://news.example/world/2026/11/story"
