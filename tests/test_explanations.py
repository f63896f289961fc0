"""Why-terms: computed from the real model, stored with the classification, shown in the digest,
`monitor flagged` and the review UI (highlighted by spans, never as markup)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.text import Text
from textual.widgets import Static

import storage
from monitor.classify import classify, classify_texts
from monitor.cli import cli
from monitor.models import load_current
from monitor.tui.app import HIGHLIGHT, ReviewApp
from monitor.why import format_why, searchable, short_why, term_spans, tidy_terms
from tests.builders import article, store_poll
from tests.test_tui import frame_as_sent

NOW = "2026-11-26T08:00:00Z"
KOREAN = (
    "ko",
    "중국 공안, 탈북민 13명 체포…강제북송 위기",
    "단둥 국경 인근에서 붙잡힌 탈북민들이 북송될 처지에 놓였다.",
)
ENGLISH = (
    "en",
    "China forcibly repatriates 60 North Korean defectors across the Tumen",
    "Border guards handed the escapees to North Korean security officials.",
)
UNRELATED = ("en", "Stocks close higher as tech shares rally", "Markets rose on Tuesday.")


@pytest.fixture
def model(model_dir: Path):
    return load_current(model_dir)


def store(path: Path, model, items: list[tuple[str, str, str]]) -> list[int]:
    """A real database holding `items` (language, title, summary), scored by `model`."""
    db = storage.open_db(path)
    storage.sync_feeds(db, [storage.FeedSpec("Wire", "https://wire.test/rss", 900)], NOW)
    articles = [
        article(
            f"k{i}",
            title,
            summary=summary,
            url=f"https://wire.test/{i}",
            published=f"2026-11-2{4 + i % 3}T06:00:00Z",
            language=language,
            content_hash=f"h{i}",
        )
        for i, (language, title, summary) in enumerate(items)
    ]
    scores = classify(model, articles)
    saved = store_poll(
        db, 1, articles, scores, started=NOW, next_poll="2026-11-26T09:00:00Z", model=model.version
    )
    db.close()
    return [saved.new[a.key] for a in articles]


def stored_why(path: Path, article_id: int) -> dict[str, list[str]]:
    """The why-terms the review queue shows for the story of `article_id` (stored alone)."""
    db = storage.open_db(path)
    try:
        story = storage.story_of(db, article_id)
        assert story is not None
        [row] = storage.story_rows(db, [story])
    finally:
        db.close()
    assert row["article_id"] == article_id  # the story's best article: this one
    return row["why"]


# ---------------------------------------------------------------- computing and storing


@pytest.mark.parametrize("item", [KOREAN, ENGLISH], ids=["ko", "en"])
def test_why_terms_are_real_features_of_the_text(model, item) -> None:
    _language, title, summary = item
    [result] = classify_texts(model, [(title, summary)])
    assert result.flagged
    assert set(result.why) == set(result.labels)  # every passing label, and only those
    text = f"{title}\n{summary}".lower()
    explained = model.explain(title, summary, top=10_000)
    for label, terms in result.why.items():
        assert 1 <= len(terms) <= 5, (label, terms)
        assert len(set(terms)) == len(terms)
        positive = [name for name, share in explained[label] if share > 0]
        fragments = [name.partition(":")[2].strip() for name in positive]
        keyword_rules = [name for name in positive if name.startswith("kw:")]
        for term in terms:
            assert term in text, (label, term)
            assert ":" not in term and term == term.strip()
            # the term is (part of) a feature of this article that raised this label's score,
            # or the words a keyword rule of this article matched ("north korea + tumen")
            overlaps = any(f and (f in term or term in f) for f in fragments)
            assert overlaps or keyword_rules, (label, term)


def test_unflagged_articles_have_no_why_but_a_negative_margin(model) -> None:
    [result] = classify_texts(model, [UNRELATED[1:]])
    assert not result.flagged and result.why == {}
    assert result.margin is not None and result.margin < 0
    cut = model.thresholds
    assert result.margin == pytest.approx(max(result.scores[k] - cut[k] for k in cut))


def test_tidy_terms_split_keyword_matches_and_drop_what_is_not_in_the_text() -> None:
    text = searchable("North Korean defectors repatriated", "국경 탈북민")
    terms = ["north korea + repatriated", "defectors", "defector", "국", "nowhere", "탈북민"]
    assert tidy_terms(terms, text) == ("north korea", "repatriated", "defectors", "탈북민")
    assert tidy_terms(["국", "경"], text) == ("국",)  # a lone character only when alone
    assert len(tidy_terms([f"{w}" for w in text.split()], text, limit=5)) <= 5


def test_function_words_are_not_shown_as_reasons() -> None:
    text = searchable("She fled along the Tumen River", "who said the guards of the border")
    terms = ["she", "along", "of the", "who", "tumen", "the border", "guards"]
    assert tidy_terms(terms, text) == ("tumen", "the border", "guards")


def test_why_is_stored_as_json_with_the_classification(tmp_path: Path, model) -> None:
    path = tmp_path / "w.db"
    [korean] = store(path, model, [KOREAN])
    why = stored_why(path, korean)
    assert why and all(isinstance(t, str) for terms in why.values() for t in terms)
    db = storage.open_db(path)
    raw, margin = db.execute(
        "select c.why, c.margin from classifications c join articles a"
        " on a.classification_id = c.id where a.id = ?",
        [korean],
    ).fetchone()
    db.close()
    assert json.loads(raw) == why and "탈북" in raw  # readable JSON, not \\u escapes
    assert margin > 0


# ---------------------------------------------------------------- shown and exported


def test_digest_csv_has_the_why_column(tmp_path: Path, model) -> None:
    path = tmp_path / "d.db"
    ids = store(path, model, [KOREAN, ENGLISH, UNRELATED])
    result = CliRunner().invoke(cli, ["--db", str(path), "digest", "--week", "2026-W48"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["title"] for r in rows] == [KOREAN[1], ENGLISH[1]]
    korean = stored_why(path, ids[0])
    assert rows[0]["why"] == format_why(korean)
    for label, terms in korean.items():
        assert f"{label}: {', '.join(terms)}" in rows[0]["why"]


def test_flagged_shows_a_short_why(tmp_path: Path, model) -> None:
    path = tmp_path / "f.db"
    ids = store(path, model, [KOREAN, ENGLISH])
    result = CliRunner().invoke(cli, ["--db", str(path), "flagged", "--format", "json"])
    records = {r["id"]: r for r in json.loads(result.output)}
    assert records[ids[0]]["why"] == stored_why(path, ids[0])
    table = CliRunner().invoke(cli, ["--db", str(path), "flagged"]).output
    assert table.splitlines()[0].split()[5] == "why"
    assert short_why(stored_why(path, ids[1]))[:10] in table
    listed = CliRunner().invoke(cli, ["--db", str(path), "flagged", "--format", "csv"]).output
    assert [r["why"] for r in csv.DictReader(io.StringIO(listed))] == [
        format_why(records[r["id"]]["why"]) for r in json.loads(result.output)
    ]


def detail_content(app: ReviewApp) -> Text:
    content = app.query_one("#detail-body", Static).content
    assert isinstance(content, Text)
    return content


def highlighted_words(text: Text) -> set[str]:
    return {text.plain[s.start : s.end].lower() for s in text.spans if s.style == HIGHLIGHT}


def test_review_detail_highlights_and_lists_the_why_terms(tmp_path: Path, model) -> None:
    path = tmp_path / "r.db"
    [korean] = store(path, model, [KOREAN])
    why = stored_why(path, korean)
    terms = {t for ts in why.values() for t in ts}

    async def main() -> None:
        app = ReviewApp(path)
        async with app.run_test(size=(100, 30)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            text = detail_content(app)
            marked = highlighted_words(text)
            assert marked and marked <= terms  # every highlight is a why-term...
            title_end = len(KOREAN[1])
            in_title = [s for s in text.spans if s.style == HIGHLIGHT and s.end <= title_end]
            assert in_title  # ...found in the title, by character span
            assert any(t in text.plain[:title_end].lower() for t in marked)
            why_line = next(line for line in text.plain.split("\n") if line.startswith("why: "))
            for label, label_terms in why.items():
                assert f"{label} {', '.join(label_terms)}" in why_line

    asyncio.run(main())


# ---------------------------------------------------------------- hostile text


HOSTILE_TERMS = ["[bold red]boom[/]", "\x1b[31mred", "\x1b]52;c;ZXZpbA==\x07", "=cmd|' /C calc'!A0"]


def test_hostile_why_terms_are_text_everywhere(tmp_path: Path, model) -> None:
    path = tmp_path / "h.db"
    [article] = store(path, model, [ENGLISH])
    db = storage.open_db(path)
    db.execute(
        "update classifications set why = ?",
        [json.dumps({"border\x1b[5m[i]": HOSTILE_TERMS, "defectors": ["[link=x]boom[/link]"]})],
    )
    db.execute(
        "update articles set title = ?, summary = ? where id = ?",
        ["[bold red]boom[/] \x1b[31mred\x1b[0m", "[link=x]boom[/link] \u202eend", article],
    )
    db.conn.commit()
    db.close()

    digest = CliRunner().invoke(cli, ["--db", str(path), "digest", "--week", "2026-W48"])
    [row] = list(csv.DictReader(io.StringIO(digest.stdout)))
    assert "\x1b" not in row["why"] and "\x07" not in row["why"]
    flagged = CliRunner().invoke(cli, ["--db", str(path), "flagged", "--format", "csv"]).output
    assert "\x1b" not in flagged and "\x07" not in flagged

    async def main() -> None:
        app = ReviewApp(path)
        async with app.run_test(size=(100, 30)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            text = detail_content(app)
            plain = text.plain
            for bad in ("\x1b", "\x07", "\u202e", "ZXZpbA=="):
                assert bad not in plain
            assert plain.startswith("[bold red]boom[/] red")  # markup shown, not applied
            assert "[link=x]boom[/link]" in plain
            assert all(
                s.style in ("bold", "italic", "dim", HIGHLIGHT, "underline", "")
                or str(s.style).startswith(("bold", "dim"))
                for s in text.spans
            )
            assert highlighted_words(text) >= {"[bold red]boom[/]", "[link=x]boom[/link]"}
            screen = app.export_screenshot()
            assert "\x1b" not in screen and "ZXZpbA==" not in screen
            terminal = frame_as_sent(app)
            for bad in ("\x07", "]52;", "[31m", "[5m", "\u202e", "ZXZpbA=="):
                assert bad not in terminal

    asyncio.run(main())


def test_term_spans_ignore_case_and_prefer_longer_terms() -> None:
    text = "North Korean defectors; DEFECTOR testimony"
    spans = term_spans(text, ["defector", "defectors", "north korea", ""])
    assert [text[a:b] for a, b in spans] == ["North Korea", "defectors", "DEFECTOR"]
