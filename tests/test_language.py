"""Language per article: feeds.yaml, then the entry, then the feed, then the text's scripts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.language import detect_language, primary_language
from monitor.normalise import normalise_entries
from monitor.parser import parse_feed

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("탈북민 13명 중국 공안에 체포돼 강제북송 위기", "ko"),
        ("脱北者の強制送還に懸念、国連が中国に説明求める", "ja"),
        ("中国强制遣返脱北者 联合国表示关切", "zh"),
        ("北韓脫北者遭強制遣返 人權團體譴責", "zh"),
        ("China repatriates North Korean defectors despite appeals from the UN", "en"),
        ("KCNA: 북한 (North Korea) 조선중앙통신 보도", "ko"),  # Korean with a little English
        ("Le gouvernement chinois a renvoyé des réfugiés", None),  # not one of ours: unknown
        ("1234 — …", None),
        ("", None),
    ],
)
def test_detect_language(text: str, language: str | None) -> None:
    assert detect_language(text) == language


@pytest.mark.parametrize(
    ("tag", "primary"),
    [("en-US", "en"), ("ko_KR", "ko"), ("ZH", "zh"), ("ja", "ja"), ("", None), (None, None)],
)
def test_primary_language(tag: str | None, primary: str | None) -> None:
    assert primary_language(tag) == primary


def feed(channel_language: str, *items: tuple[str, str]) -> bytes:
    body = "".join(
        f"<item><guid>g{i}</guid><title>{title}</title>{lang}</item>"
        for i, (title, lang) in enumerate(items)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        f"{channel_language}{body}</channel></rss>"
    ).encode()


def test_setting_then_feed_then_detection() -> None:
    body = feed(
        "", ("탈북민 강제북송 위기", ""), ("China repatriates the defectors to the North", "")
    )
    parsed = parse_feed(body, {})
    detected = [a.language for a in normalise_entries(parsed.entries, None, NOW, parsed.language)]
    assert detected == ["ko", "en"]
    assert {a.language for a in normalise_entries(parsed.entries, "ja", NOW)} == {"ja"}
    declared = parse_feed(feed("<language>zh-CN</language>", ("탈북민 강제북송", "")), {})
    [article] = normalise_entries(declared.entries, None, NOW, declared.language)
    assert article.language == "zh"  # the feed says so, even if the text looks Korean
