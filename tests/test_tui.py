"""The review UI, driven by key presses against a real SQLite database in tmp_path."""

from __future__ import annotations

import asyncio
import io
import sqlite3
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

import storage
from monitor.tui.app import HelpScreen, ReviewApp

NOW = "2026-11-29T08:00:00Z"
REVIEWED_AT = datetime(2026, 11, 29, 9, 30, tzinfo=UTC)
HOSTILE_TITLE = (
    "[bold red]boom[/] \x1b]52;c;ZXZpbA==\x07 red \x1b[31mALERT\x1b[0m "
    "\x1b]8;;http://evil.test\x1b\\click\x1b]8;;\x1b\\ \u202eesrever"
)

# key, title, scores, labels, flagged. Queue order is by highest score: a, b, c, d, e.
Spec = tuple[str, str, dict[str, float], tuple[str, ...], bool]
ARTICLES: list[Spec] = [
    ("c", "Border fence extended near Hyesan", {"border": 0.71}, ("border",), True),
    (
        "a",
        "Defectors detained in Shenyang",
        {"defectors": 0.95, "repatriation": 0.62},
        ("defectors", "repatriation"),
        True,
    ),
    ("e", "Rights group counts repatriations", {"repatriation": 0.52}, ("repatriation",), True),
    ("f", "Pyongyang weather report", {"defectors": 0.05}, (), False),
    ("b", "Forced repatriation from Jilin", {"repatriation": 0.88}, ("repatriation",), True),
    ("d", "Escapee testimony in Seoul", {"defectors": 0.64}, ("defectors",), True),
]


def build_db(path: Path, articles: list[Spec] = ARTICLES) -> dict[str, int]:
    """A real database with one feed and `articles` polled and classified; {key: article id}."""
    db = storage.open_db(path)
    storage.sync_feeds(db, [storage.FeedSpec("Daily NK", "https://nk.test/rss", 900, "en")], NOW)
    feed = storage.get_feed(db, "Daily NK")
    assert feed is not None
    items = [
        storage.ArticleIn(
            key=key,
            guid=key,
            url=f"https://nk.test/{key}",
            canonical_url=f"https://nk.test/{key}",
            title=title,
            summary=f"Summary of story {key}: what happened and where.",
            published=f"2026-11-2{i}T06:00:00Z",
            language="en",
            content_hash=f"hash-{key}",
        )
        for i, (key, title, *_rest) in enumerate(articles)
    ]
    scores = {
        key: storage.ClassificationIn(scores=s, labels=labels, flagged=flagged)
        for key, _title, s, labels, flagged in articles
    }
    poll = storage.PollRecord(
        feed_id=feed.id,
        started=NOW,
        http_status=200,
        next_poll="2026-11-29T08:15:00Z",
        duration_ms=1,
        ok=True,
    )
    saved = storage.save_poll(db, poll, items, scores, "test-model")
    db.close()
    return saved.new


def verdicts(path: Path) -> dict[int, str | None]:
    """Each article's current verdict, read through a fresh connection."""
    db = storage.open_db(path)
    try:
        ids = [row["id"] for row in db.query("select id from articles")]
        return {i: (r["verdict"] if (r := storage.latest_review(db, i)) else None) for i in ids}
    finally:
        db.close()


def review_count(path: Path) -> int:
    db = storage.open_db(path)
    try:
        return db.execute("select count(*) from reviews").fetchone()[0]
    finally:
        db.close()


Scenario = Callable[[ReviewApp, Pilot[None]], Awaitable[None]]


def drive(app: ReviewApp, scenario: Scenario) -> None:
    """Run `app` headless at 80×24 and play `scenario` against it."""

    async def main() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            await scenario(app, pilot)

    asyncio.run(main())


async def settle(app: ReviewApp, pilot: Pilot[None]) -> None:
    """Wait until every queued write has been stored and its message handled."""
    for _ in range(100):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if app.is_idle and not app.workers:
            return
    raise AssertionError("the app never became idle")


async def press(app: ReviewApp, pilot: Pilot[None], *keys: str) -> None:
    await pilot.press(*keys)
    await settle(app, pilot)


def make_app(path: Path, **kwargs: Any) -> ReviewApp:
    return ReviewApp(path, clock=lambda: REVIEWED_AT, **kwargs)


def cells(app: ReviewApp) -> list[list[str]]:
    table = app.query_one("#queue", DataTable)
    return [[plain(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def plain(cell: object) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


def detail(app: ReviewApp) -> str:
    return str(app.query_one("#detail-body", Static).visual)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "monitor.db"


@pytest.fixture
def ids(db_path: Path) -> dict[str, int]:
    return build_db(db_path)


# ---------------------------------------------------------------- the queue on screen


def test_queue_shows_flagged_articles_by_score(db_path: Path, ids: dict[str, int]) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        rows = cells(app)
        assert [row[5] for row in rows] == [
            "Defectors detained in Shenyang",
            "Forced repatriation from Jilin",
            "Border fence extended near Hyesan",
            "Escapee testimony in Seoul",
            "Rights group counts repatriations",
        ]
        assert rows[0][1:5] == ["0.95", "DR·", "Daily NK", "2026-11-21"]
        assert "Pyongyang weather report" not in app.export_screenshot()
        assert app.highlighted() == ids["a"]
        assert "Summary of story a" in detail(app)
        assert app.status_text.startswith("5 to review · 0 reviewed this session")

    drive(make_app(db_path), scenario)


def test_date_order_shows_the_newest_flagged_first(db_path: Path, ids: dict[str, int]) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        assert app._order == [ids[k] for k in "dbeac"]
        assert "flagged stories, newest first" in app.status_text

    drive(make_app(db_path, order="date"), scenario)


def test_long_titles_are_cut_to_fit_80_columns(db_path: Path) -> None:
    long_title = "Defectors " + "detained and questioned " * 10
    build_db(db_path, [("a", long_title, {"defectors": 0.9}, ("defectors",), True)])

    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        title = cells(app)[0][5]
        assert title.endswith("…") and len(title) < 45
        assert long_title.strip() in detail(app)  # in full in the detail pane
        await pilot.resize_terminal(120, 30)
        await pilot.pause()
        assert len(cells(app)[0][5]) > len(title) + 30

    drive(make_app(db_path), scenario)


# ---------------------------------------------------------------- one test per binding


def test_r_stores_relevant_for_the_highlighted_article(db_path: Path, ids: dict[str, int]) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        await press(app, pilot, "r")
        db = storage.open_db(db_path)
        review = storage.latest_review(db, ids["a"])
        db.close()
        assert review is not None
        assert review["verdict"] == "relevant"
        assert review["reviewed_at"] == "2026-11-29T09:30:00Z"
        assert review["labels"] == '["defectors", "repatriation"]'
        assert verdicts(db_path)[ids["b"]] is None
        assert app.highlighted() == ids["b"]  # moved on to the next row
        assert cells(app)[0][0] == "✓"
        assert app.status_text.startswith("4 to review · 1 reviewed this session")

    drive(make_app(db_path), scenario)


def test_n_stores_not_relevant(db_path: Path, ids: dict[str, int]) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        await press(app, pilot, "n")
        assert verdicts(db_path) == {i: None for i in ids.values()} | {ids["a"]: "not-relevant"}
        assert cells(app)[0][0] == "✗"
        assert app.highlighted() == ids["b"]

    drive(make_app(db_path), scenario)


@pytest.mark.parametrize("key", ["j", "down"])
def test_next_key_then_r_marks_the_second_highest_score(
    db_path: Path, ids: dict[str, int], key: str
) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        await press(app, pilot, key, "r")
        assert verdicts(db_path) == {i: None for i in ids.values()} | {ids["b"]: "relevant"}

    drive(make_app(db_path), scenario)


@pytest.mark.parametrize("key", ["k", "up"])
def test_previous_key_moves_back(db_path: Path, ids: dict[str, int], key: str) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        await press(app, pilot, "j", "j", key, "n")
        assert verdicts(db_path) == {i: None for i in ids.values()} | {ids["b"]: "not-relevant"}
        await press(app, pilot, key, key, key, "r")  # stops at the top
        assert verdicts(db_path)[ids["a"]] == "relevant"

    drive(make_app(db_path), scenario)


def test_last_row_keeps_the_cursor(db_path: Path, ids: dict[str, int]) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        await press(app, pilot, *["j"] * 8, "r", "n")  # both on the last article
        db = storage.open_db(db_path)
        rows = list(db.query("select verdict from reviews where article_id = ?", [ids["e"]]))
        db.close()
        assert [r["verdict"] for r in rows] == ["relevant", "not-relevant"]

    drive(make_app(db_path), scenario)


def test_u_twice_undoes_two_verdicts(db_path: Path, ids: dict[str, int]) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        await press(app, pilot, "r", "n", "r")
        assert review_count(db_path) == 3
        await press(app, pilot, "u")
        assert verdicts(db_path)[ids["c"]] is None
        assert verdicts(db_path)[ids["b"]] == "not-relevant"
        await press(app, pilot, "u")
        assert verdicts(db_path) == {i: None for i in ids.values()} | {ids["a"]: "relevant"}
        assert [row[0] for row in cells(app)] == ["✓", " ", " ", " ", " "]
        assert app.status_text.startswith("4 to review · 1 reviewed this session")
        assert "Undone, now unreviewed: Forced repatriation from Jilin" in app.status_text
        await press(app, pilot, "u", "u")  # one left to undo, then nothing
        assert review_count(db_path) == 0
        assert "Nothing to undo" in app.status_text

    drive(make_app(db_path), scenario)


def test_u_restores_the_previous_verdict(db_path: Path, ids: dict[str, int]) -> None:
    db = storage.open_db(db_path)
    storage.add_review(db, ids["a"], "relevant", NOW, note="seen by Kim")
    db.close()

    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        assert cells(app)[0][0] == "✓"  # include_reviewed shows earlier verdicts
        await press(app, pilot, "n")
        assert verdicts(db_path)[ids["a"]] == "not-relevant"
        await press(app, pilot, "k", "u")
        assert verdicts(db_path)[ids["a"]] == "relevant"
        assert cells(app)[0][0] == "✓"
        assert "✓ relevant (reviewed 2026-11-29 08:00 UTC) — note: seen by Kim" in detail(app)

    drive(make_app(db_path, include_reviewed=True), scenario)


def test_keys_pressed_faster_than_the_database_are_stored_in_order(
    db_path: Path, ids: dict[str, int]
) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        await pilot.press("r", "n", "r", "u")  # no waiting in between
        await settle(app, pilot)
        assert verdicts(db_path) == {i: None for i in ids.values()} | {
            ids["a"]: "relevant",
            ids["b"]: "not-relevant",
        }
        assert app.status_text.startswith("3 to review · 2 reviewed this session")

    drive(make_app(db_path), scenario)


def test_enter_shows_the_detail(db_path: Path, ids: dict[str, int]) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        await press(app, pilot, "j", "enter")
        assert app.screen.has_class("-expanded")
        assert app.focused is app.query_one("#detail")
        text = detail(app)
        assert "Forced repatriation from Jilin" in text
        assert "Summary of story b: what happened and where." in text
        assert "Daily NK · published 2026-11-24 06:00 UTC · language en" in text
        assert "scores: defectors 0.00 · repatriation 0.88 · border 0.00" in text
        assert "https://nk.test/b" in text
        assert "not reviewed yet" in text
        await press(app, pilot, "r")  # verdict keys still work with the detail open
        assert verdicts(db_path)[ids["b"]] == "relevant"
        await press(app, pilot, "enter")
        assert not app.screen.has_class("-expanded")
        assert app.focused is app.query_one("#queue")
        assert review_count(db_path) == 1  # enter itself stores nothing

    drive(make_app(db_path), scenario)


def test_q_quits(db_path: Path, ids: dict[str, int]) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        await pilot.press("r", "q")  # quits once the verdict is stored
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not app.is_running

    drive(make_app(db_path), scenario)
    assert verdicts(db_path)[ids["a"]] == "relevant"


def test_question_mark_shows_help_and_blocks_verdict_keys(
    db_path: Path, ids: dict[str, int]
) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        await press(app, pilot, "question_mark")
        assert isinstance(app.screen, HelpScreen)
        shown = str(app.screen.query_one("#help", Static).visual)
        for line in ("j / ↓  Next article", "r  Relevant", "n  Not relevant", "u  Undo", "q  Quit"):
            assert line in shown
        await press(app, pilot, "r", "j", "q")  # q closes the help, does not quit
        assert review_count(db_path) == 0
        assert app.is_running and not isinstance(app.screen, HelpScreen)
        await press(app, pilot, "r")
        assert verdicts(db_path)[ids["a"]] == "relevant"  # the cursor did not move under help

    drive(make_app(db_path), scenario)


# ---------------------------------------------------------------- empty queue and errors


def test_empty_queue_says_so(db_path: Path) -> None:
    build_db(db_path, [ARTICLES[3]])  # only the unflagged article

    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        empty = app.query_one("#empty", Static)
        assert empty.display and "Nothing to review" in str(empty.visual)
        await press(app, pilot, "j", "k", "enter", "r", "n")
        assert "Nothing to mark: the queue is empty" in app.status_text
        await press(app, pilot, "u")
        assert "Nothing to undo" in app.status_text
        assert review_count(db_path) == 0
        assert app.is_running

    drive(make_app(db_path), scenario)


def test_missing_database_is_reported_not_created(tmp_path: Path) -> None:
    path = tmp_path / "absent.db"

    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        assert "Database error:" in app.status_text and "no such database file" in app.status_text
        empty = app.query_one("#empty", Static)
        assert empty.display and "no such database file" in str(empty.visual)
        await press(app, pilot, "r", "u")
        assert app.is_running

    drive(make_app(path), scenario)
    assert not path.exists()


def test_corrupt_database_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)

    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        assert "Database error:" in app.status_text and "not a database" in app.status_text
        assert app.is_running

    drive(make_app(path), scenario)


def test_failed_write_is_shown_and_the_row_restored(db_path: Path, ids: dict[str, int]) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        conn = sqlite3.connect(db_path)  # another process breaks the database under us
        conn.execute("drop table reviews")
        conn.commit()
        conn.close()
        await press(app, pilot, "r")
        assert "Database error: no such table: reviews" in app.status_text
        assert cells(app)[0][0] == " "
        assert app.is_running
        await press(app, pilot, "u")
        assert "Nothing to undo" in app.status_text

    drive(make_app(db_path), scenario)


# ---------------------------------------------------------------- hostile text


def test_hostile_text_never_reaches_the_terminal(db_path: Path) -> None:
    hostile: list[Spec] = [("h", HOSTILE_TITLE, {"border": 0.99}, ("border",), True), *ARTICLES]
    ids = build_db(db_path, hostile)
    db = storage.open_db(db_path)
    db.execute(
        "update articles set summary = ?, url = ? where id = ?",
        [
            "Body\x1b[2J [link=https://x.test]here[/link] \u202e\x07\nline two",
            "https://x.test/\x1b]52;c;QQ==\x07",
            ids["h"],
        ],
    )
    db.execute("update feeds set name = ?", ["F\x1b[5m [i]x[/i]\u202e"])
    db.conn.commit()
    db.close()

    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        await press(app, pilot, "enter")
        assert_safe(app)
        title, meta = detail(app).split("\n")[:2]
        assert title == "[bold red]boom[/] red ALERT click esrever"
        assert meta.startswith("F [i]x[/i] · published ")
        assert "Body [link=https://x.test]here[/link] \nline two" in detail(app)
        assert "boom[/]" in app.export_screenshot() and "boom[/]" in frame_as_sent(app)
        assert "https://x.test/" in detail(app) and "QQ==" not in detail(app)
        await press(app, pilot, "r")  # the status line now quotes the title
        assert verdicts(db_path)[ids["h"]] == "relevant"
        assert "Marked relevant: [bold red]boom[/] red ALERT click esrev…" in app.status_text
        assert_safe(app)
        assert app.is_running

    drive(make_app(db_path), scenario)


def assert_safe(app: ReviewApp) -> None:
    """No hostile sequence in the widgets' text, the screenshot or the bytes for the terminal."""
    hostile = ("\x1b", "\x07", "\u202e", "ZXZpbA==", "evil.test")
    shown = [cell for row in cells(app) for cell in row] + [detail(app), app.status_text]
    for text in shown:
        assert not any(bad in text for bad in hostile), text
    assert cells(app)[0][3] == "F [i]x[/i]"  # markup in a source name is shown, not applied
    assert cells(app)[0][5] == "[bold red]boom[/] red ALERT click esr…"
    svg = app.export_screenshot()
    assert not any(bad in svg for bad in hostile)
    assert "[i]x[/i]" in svg
    terminal = frame_as_sent(app)
    for bad in ("\x07", "]52;", "]8;", "[31m", "[5m", "[2J", "\u202e", "ZXZpbA==", "evil.test"):
        assert bad not in terminal
    assert "[i]x[/i]" in terminal


def frame_as_sent(app: ReviewApp) -> str:
    """The full screen as the escape sequences Textual writes to the terminal."""
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, color_system="truecolor", width=80)
    console.print(app.screen._compositor.render_update(full=True), end="")
    return out.getvalue()


def test_importing_the_package_does_not_import_textual() -> None:
    code = "import sys, monitor.tui; assert 'textual' not in sys.modules, 'textual imported'"
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
