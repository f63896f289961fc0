"""The review UI, driven by key presses against a real SQLite database in tmp_path: every
binding is checked against what was stored, through a fresh connection."""

from __future__ import annotations

import asyncio
import io
import json
import sqlite3
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rich.console import Console
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

import storage
from monitor.cli import cli
from monitor.tui.app import HelpScreen, ReviewApp
from monitor.tui.links import gui_command, web_link
from monitor.tui.screens import LinkScreen, NoteScreen, SearchScreen
from tests.builders import article, store_poll

NOW = "2026-11-29T08:00:00Z"
LATER = "2026-11-29T10:00:00Z"  # after the verdicts the app stores
REVIEWED_AT = datetime(2026, 11, 29, 9, 30, tzinfo=UTC)
HOSTILE_TITLE = (
    "[bold red]boom[/] \x1b]52;c;ZXZpbA==\x07 red \x1b[31mALERT\x1b[0m "
    "\x1b]8;;http://evil.test\x1b\\click\x1b]8;;\x1b\\ \u202eesrever"
    "\x1b]0;pwned-bel\x07\x1b]2;pwned-st\x1b\\\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069"
    "\x9b31m\x9d0;pwned-c1\x07"
)
TITLE = 6  # the title's column in the queue table

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


FEEDS = [
    storage.FeedSpec("Daily NK", "https://nk.test/rss", 900, "en"),
    storage.FeedSpec("Yonhap", "https://yna.test/rss", 900, "ko"),
]


def build_db(
    path: Path,
    articles: list[Spec] = ARTICLES,
    *,
    feed_name: str = "Daily NK",
    started: str = NOW,
    language: str = "en",
) -> dict[str, int]:
    """A real database with two feeds and `articles` polled from one and classified;
    {key: article id}. Called again on the same file, it polls more articles."""
    db = storage.open_db(path)
    storage.sync_feeds(db, FEEDS, NOW)
    feed = storage.get_feed(db, feed_name)
    assert feed is not None
    items = [
        article(
            key,
            title,
            summary=f"Summary of story {key}: what happened and where.",
            url=f"https://nk.test/{key}",
            published=f"2026-11-2{i}T06:00:00Z",
            language=language,
            content_hash=f"hash-{key}",
        )
        for i, (key, title, *_rest) in enumerate(articles)
    ]
    scores = {
        key: storage.ClassificationIn(scores=s, labels=labels, flagged=flagged)
        for key, _title, s, labels, flagged in articles
    }
    saved = store_poll(
        db,
        feed.id,
        items,
        scores,
        started=started,
        next_poll="2026-11-29T08:15:00Z",
        model="test-model",
    )
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


def stored(path: Path) -> list[tuple[int, int, str, list[str], str]]:
    """Every review row, oldest first: (article id, story id, verdict, labels, note)."""
    db = storage.open_db(path)
    try:
        rows = db.query("select * from reviews order by id")
        return [
            (r["article_id"], r["story_id"], r["verdict"], json.loads(r["labels"]), r["note"])
            for r in rows
        ]
    finally:
        db.close()


def with_db(path: Path, change: Callable[[Any], Any]) -> Any:
    """Run `change(db)` through a connection of its own, as another process would."""
    db = storage.open_db(path)
    try:
        with db.atomic():
            return change(db)
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


async def type_text(app: ReviewApp, pilot: Pilot[None], text: str) -> None:
    await press(app, pilot, *("space" if char == " " else char for char in text))


def make_app(path: Path, **kwargs: Any) -> ReviewApp:
    return ReviewApp(path, clock=lambda: REVIEWED_AT, **kwargs)


def cells(app: ReviewApp) -> list[list[str]]:
    table = app.query_one("#queue", DataTable)
    return [[plain(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def plain(cell: object) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


def detail(app: ReviewApp) -> str:
    return str(app.query_one("#detail-body", Static).visual)


def titles(app: ReviewApp) -> list[str]:
    return [row[TITLE] for row in cells(app)]


def story(path: Path, article_id: int) -> int:
    return with_db(path, lambda db: storage.story_of(db, article_id))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "monitor.db"


@pytest.fixture
def ids(db_path: Path) -> dict[str, int]:
    return build_db(db_path)


# ---------------------------------------------------------------- the queue on screen


def test_queue_shows_flagged_stories_by_score(db_path: Path, ids: dict[str, int]) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        rows = cells(app)
        assert titles(app) == [
            "Defectors detained in Shenyang",
            "Forced repatriation from Jilin",
            "Border fence extended near Hyesan",
            "Escapee testimony in Seoul",
            "Rights group counts repatriations",
        ]
        assert rows[0][:6] == ["  ", "0.95", "DR·", "Daily NK", "2026-11-21", ""]
        assert "Pyongyang weather report" not in app.export_screenshot()
        assert app.highlighted() == story(db_path, ids["a"])
        assert "Summary of story a" in detail(app)
        assert app.status_text.startswith("5 to review · ✓ 0 · ✗ 0 · ! 0 │ r relevant")
        assert app.view_line == "waiting for a verdict · highest score first"

    drive(make_app(db_path), scenario)


def test_usable_at_80_by_24(db_path: Path, ids: dict[str, int]) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        assert app.query_one("#view").region.y == 0
        assert app.query_one("#queue").region.height >= 8  # the header and 7 stories at least
        assert app.query_one("#detail").region.height >= 8
        assert app.query_one("#status").region.y == 22
        terminal = frame_as_sent(app)
        for shown in ("Relevant", "Not relevant", "Escalate", "Undo", "Search", "Help", "Quit"):
            assert shown in terminal
        assert all(len(row[TITLE]) <= 33 for row in cells(app))

    drive(make_app(db_path), scenario)


def test_date_order_shows_the_newest_flagged_first(db_path: Path, ids: dict[str, int]) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        assert app._order == [story(db_path, ids[k]) for k in "dbeac"]
        assert "flagged stories, newest first" in app.status_text

    drive(make_app(db_path, order="date"), scenario)


def test_long_titles_are_cut_to_fit_80_columns(db_path: Path) -> None:
    long_title = "Defectors " + "detained and questioned " * 10
    build_db(db_path, [("a", long_title, {"defectors": 0.9}, ("defectors",), True)])

    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        title = cells(app)[0][TITLE]
        assert title.endswith("…") and len(title) < 40
        assert long_title.strip() in detail(app)  # in full in the detail pane
        await pilot.resize_terminal(120, 30)
        await pilot.pause()
        assert len(cells(app)[0][TITLE]) > len(title) + 30

    drive(make_app(db_path), scenario)


@pytest.mark.parametrize(
    ("filters", "keys", "view"),
    [
        ({"labels": ("border",)}, "c", "label border"),
        ({"labels": ("defectors", "border")}, "acd", "label defectors/border"),
        ({"feed": "Yonhap"}, "", "feed Yonhap"),
        ({"feed": "Daily NK", "language": "en"}, "abcde", "language en"),
        ({"since": date(2026, 11, 22)}, "bde", "2026-11-22 – …"),
        ({"until": date(2026, 11, 21)}, "ac", "… – 2026-11-21"),
    ],
)
def test_filters_narrow_the_queue(
    db_path: Path, ids: dict[str, int], filters: dict[str, Any], keys: str, view: str
) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        assert app._order == [story(db_path, ids[k]) for k in keys]
        assert view in app.view_line
        if not keys:
            assert "No story" not in str(app.query_one("#empty", Static).visual)
            assert "Nothing to review" in str(app.query_one("#empty", Static).visual)

    drive(make_app(db_path, filters=storage.StoryFilters(**filters)), scenario)


# ---------------------------------------------------------------- one test per binding


def test_r_stores_relevant_for_the_whole_story(db_path: Path, ids: dict[str, int]) -> None:
    copy = build_db(
        db_path, [("a2", "Defectors held in Shenyang", {}, (), False)], feed_name="Yonhap"
    )
    a = story(db_path, ids["a"])
    with_db(db_path, lambda db: storage.join_story(db, copy["a2"], a, NOW))

    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        assert cells(app)[0][5] == "2"  # outlets
        text = detail(app)
        assert "Yonhap (also Daily NK) · 2026-11-20 06:00 UTC · language en" in text
        assert "Also in this story:" in text
        assert (
            "  Daily NK · 2026-11-21 06:00 UTC · Defectors detained in Shenyang (shown above)"
            in text
        )
        assert "  Yonhap · 2026-11-20 06:00 UTC · Defectors held in Shenyang" in text
        await press(app, pilot, "r")
        assert stored(db_path) == [(ids["a"], a, "relevant", ["defectors", "repatriation"], "")]
        db = storage.open_db(db_path)
        examples = {e["id"]: e for e in storage.reviewed_examples(db)}
        db.close()
        assert set(examples) == {ids["a"], copy["a2"]}  # the verdict covers both articles
        assert examples[copy["a2"]]["labels"] == ["defectors", "repatriation"]
        assert app.highlighted() == story(db_path, ids["b"])  # moved on to the next story
        assert cells(app)[0][0] == "✓ "
        assert app.status_text.startswith("4 to review · ✓ 1 · ✗ 0 · ! 0 │ Marked relevant")

    drive(make_app(db_path), scenario)


def test_n_stores_not_relevant(db_path: Path, ids: dict[str, int]) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        await press(app, pilot, "n")
        assert verdicts(db_path) == {i: None for i in ids.values()} | {ids["a"]: "not-relevant"}
        assert stored(db_path)[0][3] == []
        assert cells(app)[0][0] == "✗ "
        assert app.highlighted() == story(db_path, ids["b"])

    drive(make_app(db_path), scenario)


def test_exclamation_mark_escalates_and_trains_as_relevant(
    db_path: Path, ids: dict[str, int]
) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        await press(app, pilot, "exclamation_mark")
        assert verdicts(db_path) == {i: None for i in ids.values()} | {ids["a"]: "escalated"}
        assert stored(db_path)[0][3] == ["defectors", "repatriation"]
        db = storage.open_db(db_path)
        [example] = storage.reviewed_examples(db)
        db.close()
        assert example["labels"] == ["defectors", "repatriation"]  # a positive example
        assert cells(app)[0][0] == "! "
        assert app.status_text.startswith("4 to review · ✓ 0 · ✗ 0 · ! 1")
        await press(app, pilot, "k", "enter")
        assert "! escalated as defectors, repatriation (reviewed 2026-11-29 09:30 UTC)" in detail(
            app
        )

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
        await press(app, pilot, *["j"] * 8, "r", "n")  # both on the last story
        assert [(row[0], row[2]) for row in stored(db_path)] == [
            (ids["e"], "relevant"),
            (ids["e"], "not-relevant"),
        ]

    drive(make_app(db_path), scenario)


def test_number_keys_toggle_the_three_labels(db_path: Path, ids: dict[str, int]) -> None:
    a = ids["a"]

    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        await press(app, pilot, "3")  # unreviewed: relevant, with just that label
        assert stored(db_path)[-1][2:] == ("relevant", ["border"], "")
        assert app.highlighted() == story(db_path, a)  # the cursor stays
        await press(app, pilot, "1")
        assert stored(db_path)[-1][2:] == ("relevant", ["defectors", "border"], "")
        await press(app, pilot, "3")
        assert stored(db_path)[-1][2:] == ("relevant", ["defectors"], "")
        await press(app, pilot, "1")  # the last label stays: n marks it not relevant
        assert review_count(db_path) == 3
        assert "needs a label" in app.status_text
        await press(app, pilot, "2")
        assert stored(db_path)[-1][2:] == ("relevant", ["defectors", "repatriation"], "")
        assert cells(app)[0][:3] == ["✓ ", "0.95", "DR·"]
        assert "Labels now defectors, repatriation (relevant)" in app.status_text
        await press(app, pilot, "j", "n", "k", "2")  # not relevant becomes relevant
        assert stored(db_path)[-1][2:] == ("relevant", ["repatriation"], "")
        assert stored(db_path)[-1][0] == ids["b"]

    drive(make_app(db_path), scenario)


def test_e_edits_the_note_and_keeps_the_verdict(db_path: Path, ids: dict[str, int]) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        await press(app, pilot, "e")  # no verdict yet: nowhere to keep a note
        assert not isinstance(app.screen, NoteScreen)
        assert "Give the story a verdict first" in app.status_text
        await press(app, pilot, "3", "e")
        assert isinstance(app.screen, NoteScreen)
        await type_text(app, pilot, "seen by Kim jk rn!")  # letters typed, not keys acted on
        assert review_count(db_path) == 1
        await press(app, pilot, "enter")
        assert not isinstance(app.screen, NoteScreen)
        assert stored(db_path)[-1] == (
            ids["a"],
            story(db_path, ids["a"]),
            "relevant",
            ["border"],
            "seen by Kim jk rn!",
        )
        assert "note: seen by Kim jk rn!" in detail(app)
        assert "Note saved" in app.status_text
        await press(app, pilot, "e")
        assert app.screen.query_one(Input).value == "seen by Kim jk rn!"
        await press(app, pilot, "x", "escape")  # Esc cancels
        assert review_count(db_path) == 2 and "Note not changed" in app.status_text
        await press(app, pilot, "e", "ctrl+u", "enter")  # emptied: the note is removed
        assert stored(db_path)[-1][2:] == ("relevant", ["border"], "")
        assert "note: none (e adds one)" in detail(app)
        await press(app, pilot, "u")
        assert stored(db_path)[-1][4] == "seen by Kim jk rn!"

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
        assert [row[0] for row in cells(app)] == ["✓ ", "  ", "  ", "  ", "  "]
        assert app.status_text.startswith("4 to review · ✓ 1 · ✗ 0 · ! 0")
        assert "Undone, now unreviewed: Forced repatriation from Jilin" in app.status_text
        await press(app, pilot, "u", "u")  # one left to undo, then nothing
        assert review_count(db_path) == 0
        assert "Nothing to undo" in app.status_text

    drive(make_app(db_path), scenario)


def test_u_undoes_every_kind_of_write(db_path: Path, ids: dict[str, int]) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        await press(app, pilot, "r", "k", "3", "e")
        await type_text(app, pilot, "ask Jin")
        await press(app, pilot, "enter", "exclamation_mark")
        history = [row[2:] for row in stored(db_path)]
        assert history == [
            ("relevant", ["defectors", "repatriation"], ""),
            ("relevant", ["defectors", "repatriation", "border"], ""),
            ("relevant", ["defectors", "repatriation", "border"], "ask Jin"),
            ("escalated", ["defectors", "repatriation", "border"], "ask Jin"),  # kept both
        ]
        for left in (3, 2, 1, 0):
            await press(app, pilot, "u")
            assert [row[2:] for row in stored(db_path)] == history[:left]
        await press(app, pilot, "k")
        assert cells(app)[0][0] == "  " and "not reviewed yet" in detail(app)

    drive(make_app(db_path), scenario)


def test_u_restores_the_previous_verdict(db_path: Path, ids: dict[str, int]) -> None:
    db = storage.open_db(db_path)
    storage.add_review(db, ids["a"], "relevant", NOW, note="seen by Kim")
    db.close()

    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        assert cells(app)[0][0] == "✓ "  # --all shows earlier verdicts
        await press(app, pilot, "n")
        assert verdicts(db_path)[ids["a"]] == "not-relevant"
        await press(app, pilot, "k", "u")
        assert verdicts(db_path)[ids["a"]] == "relevant"
        assert cells(app)[0][0] == "✓ "
        text = detail(app)
        assert "✓ relevant as defectors, repatriation (reviewed 2026-11-29 08:00 UTC)" in text
        assert "note: seen by Kim" in text

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
        assert app.status_text.startswith("3 to review · ✓ 1 · ✗ 1 · ! 0")

    drive(make_app(db_path), scenario)


def test_enter_shows_the_detail(db_path: Path, ids: dict[str, int]) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        await press(app, pilot, "j", "enter")
        assert app.screen.has_class("-expanded")
        assert app.focused is app.query_one("#detail")
        text = detail(app)
        assert "Forced repatriation from Jilin" in text
        assert "Summary of story b: what happened and where." in text
        assert "Daily NK · 2026-11-24 06:00 UTC · language en" in text
        assert "scores: defectors 0.00 · repatriation 0.88 · border 0.00" in text
        assert "https://nk.test/b" in text
        assert "not reviewed yet" in text and "note: none" in text
        await press(app, pilot, "r")  # verdict keys still work with the detail open
        assert verdicts(db_path)[ids["b"]] == "relevant"
        await press(app, pilot, "enter")
        assert not app.screen.has_class("-expanded")
        assert app.focused is app.query_one("#queue")
        await press(app, pilot, "enter", "escape")  # Esc closes it too
        assert not app.screen.has_class("-expanded")
        assert review_count(db_path) == 1  # enter itself stores nothing

    drive(make_app(db_path), scenario)


def test_o_opens_the_link_with_the_opener(db_path: Path, ids: dict[str, int]) -> None:
    opened: list[str] = []

    def opener(url: str) -> bool:
        opened.append(url)
        return True

    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        await press(app, pilot, "j", "o")
        assert opened == ["https://nk.test/b"]
        assert "Opened in the browser: https://nk.test/b" in app.status_text
        assert review_count(db_path) == 0  # opening stores nothing

    drive(make_app(db_path, opener=opener), scenario)


def test_o_without_a_browser_shows_the_link(db_path: Path, ids: dict[str, int]) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        await press(app, pilot, "o")
        assert isinstance(app.screen, LinkScreen)
        shown = str(app.screen.query_one("#link", Static).visual)
        assert "No graphical browser here" in shown and "https://nk.test/a" in shown
        await press(app, pilot, "r", "escape")  # r does nothing over the link
        assert not isinstance(app.screen, LinkScreen)
        assert review_count(db_path) == 0

    drive(make_app(db_path, opener=lambda url: False), scenario)


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "file:///etc/passwd", "https://x.test/\x1b]52;c;QQ==\x07", None]
)
def test_o_opens_only_http_links(db_path: Path, ids: dict[str, int], url: str | None) -> None:
    with_db(db_path, lambda db: db.execute("update articles set url = ?", [url]))
    opened: list[str] = []

    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        await press(app, pilot, "o")
        assert opened == [] and not isinstance(app.screen, LinkScreen)
        assert "Not opened (only http and https links)" in app.status_text
        assert "\x1b" not in app.status_text and "QQ==" not in app.status_text

    drive(make_app(db_path, opener=lambda url: bool(opened.append(url))), scenario)


def test_links_and_browsers() -> None:
    assert web_link("https://nk.test/a?b=1") == "https://nk.test/a?b=1"
    for bad in ("javascript:alert(1)", "https:///nohost", "http://a.test/\x07", "http://a b", ""):
        assert web_link(bad) is None
    assert gui_command({}, "linux") is None  # no desktop: never a text browser
    assert gui_command({"DISPLAY": ":0"}, "darwin") == ["open"]
    assert gui_command({"TERM": "xterm"}, "freebsd14") is None


def test_slash_searches_the_archive_and_escape_returns(db_path: Path, ids: dict[str, int]) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        await press(app, pilot, "slash")
        assert isinstance(app.screen, SearchScreen)
        await type_text(app, pilot, "weather")  # the unflagged story is in the archive too
        await press(app, pilot, "enter")
        assert titles(app) == ["Pyongyang weather report"]
        assert app.view_line.startswith("search “weather”: 1 story")
        await press(app, pilot, "r")  # a verdict from the results
        assert verdicts(db_path)[ids["f"]] == "relevant"
        await press(app, pilot, "slash", "ctrl+u")
        await type_text(app, pilot, "Jilin")
        await press(app, pilot, "enter")
        assert titles(app) == ["Forced repatriation from Jilin"]
        await press(app, pilot, "escape")
        assert len(titles(app)) == 5 and app.view_line.startswith("waiting for a verdict")
        await press(app, pilot, "slash")
        await type_text(app, pilot, "nothing like it")
        await press(app, pilot, "enter")
        assert "Nothing in the archive matches “nothing like it”" in str(
            app.query_one("#empty", Static).visual
        )
        await press(app, pilot, "escape", "escape")
        assert len(titles(app)) == 5 and app.query_one("#queue").display

    drive(make_app(db_path), scenario)


KOREAN: list[Spec] = [
    ("k", "탈북민 13명 윈난서 체포…강제북송 우려", {"defectors": 0.9}, ("defectors",), True),
    ("z", "中国遣返脱北者引发关注", {"repatriation": 0.8}, ("repatriation",), True),
    ("j", "脱北者を強制送還、人権団体が抗議", {"repatriation": 0.3}, (), False),
    ("x", "Markets rally on rate cut hopes", {"border": 0.01}, (), False),
]


@pytest.mark.parametrize(
    ("query", "keys"),
    [("탈북", "k"), ("강제북송", "k"), ("脱北者", "zj"), ("脱北", "zj"), ("rally", "x")],
)
def test_slash_finds_korean_chinese_and_japanese(db_path: Path, query: str, keys: str) -> None:
    ids = build_db(db_path, KOREAN, language="ko")
    assert with_db(db_path, storage.index_pending) == len(KOREAN)  # 3+ characters: the index

    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        await press(app, pilot, "slash")
        await type_text(app, pilot, query)
        await press(app, pilot, "enter")
        assert sorted(app._order) == sorted(story(db_path, ids[k]) for k in keys)

    drive(make_app(db_path), scenario)


def test_s_cycles_the_status_filter(db_path: Path, ids: dict[str, int]) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        await press(app, pilot, "r", "exclamation_mark")  # a relevant, b escalated
        await press(app, pilot, "s")
        assert app.view_line.startswith("marked relevant")
        assert titles(app) == ["Defectors detained in Shenyang"]
        await press(app, pilot, "s")
        assert "No story marked not relevant here" in str(app.query_one("#empty", Static).visual)
        await press(app, pilot, "s")
        assert titles(app) == ["Forced repatriation from Jilin"]
        await press(app, pilot, "s")
        assert app.view_line.startswith("all stories") and len(titles(app)) == 5
        await press(app, pilot, "s")
        assert app.view_line.startswith("waiting for a verdict") and len(titles(app)) == 3
        assert review_count(db_path) == 2  # changing the view stores nothing

    drive(make_app(db_path), scenario)


def test_capital_s_cycles_the_order(db_path: Path, ids: dict[str, int]) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        await press(app, pilot, "S")
        assert app.view_line == "waiting for a verdict · nearest the flag threshold first"
        await press(app, pilot, "S")
        assert app.view_line == "waiting for a verdict · newest first"
        assert app._order == [story(db_path, ids[k]) for k in "dbeac"]
        await press(app, pilot, "S")
        assert app._order == [story(db_path, ids[k]) for k in "abcde"]
        assert review_count(db_path) == 0  # changing the order stores nothing

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
        for line in (
            "j / ↓  Next story",
            "r  Relevant",
            "n  Not relevant",
            "!  Escalate",
            "1  Label defectors",
            "3  Label border",
            "e  Edit note",
            "u  Undo",
            "o  Open link",
            "/  Search",
            "s  Next status",
            "?  Help",
            "q  Quit",
            "+ articles joined since the verdict",
        ):
            assert line in shown
        assert app.screen.query_one("#help").region.height <= 24
        await press(app, pilot, "r", "j", "1", "q")  # q closes the help, does not quit
        assert review_count(db_path) == 0
        assert app.is_running and not isinstance(app.screen, HelpScreen)
        await press(app, pilot, "r")
        assert verdicts(db_path)[ids["a"]] == "relevant"  # the cursor did not move under help

    drive(make_app(db_path), scenario)


# ---------------------------------------------------------------- stories that change


def repoll(path: Path, key: str, title: str, started: str = LATER) -> None:
    """Feed `Daily NK` again with `key` changed: its content hash is new."""
    db = storage.open_db(path)
    feed = storage.get_feed(db, "Daily NK")
    assert feed is not None
    item = article(
        key,
        title,
        summary="Updated: 13 moved to Dandong.",
        url=f"https://nk.test/{key}",
        published="2026-11-21T06:00:00Z",
        content_hash=f"hash-{key}-2",
    )
    assert store_poll(db, feed.id, [item], started=started).changed
    db.close()


def test_a_joined_article_does_not_requeue_but_shows_as_new(
    db_path: Path, ids: dict[str, int]
) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        await press(app, pilot, "r")  # a relevant at 09:30; the cursor on b
        a = story(db_path, ids["a"])
        copy = build_db(
            db_path,
            [("a2", "Defectors held in Shenyang", {"defectors": 0.9}, ("defectors",), True)],
            feed_name="Yonhap",
            started=LATER,
        )
        with_db(db_path, lambda db: storage.join_story(db, copy["a2"], a, LATER))
        app.refresh_queue()
        await settle(app, pilot)
        assert a not in app._order  # not back in the queue
        assert app.highlighted() == story(db_path, ids["b"])
        assert app.status_text.startswith("4 to review · ✓ 1")
        await press(app, pilot, "s")
        assert app._order == [a]
        assert cells(app)[0][0] == "✓+"
        text = detail(app)
        assert "articles joined since the verdict" in text
        assert "  Yonhap · 2026-11-20 06:00 UTC · Defectors held in Shenyang (new)" in text
        assert verdicts(db_path)[copy["a2"]] == "relevant"

    drive(make_app(db_path), scenario)


def test_a_changed_flagged_article_brings_its_story_back(
    db_path: Path, ids: dict[str, int]
) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        await press(app, pilot, "n", "j")  # a not relevant; the cursor on c
        repoll(db_path, "a", "Defectors moved to Dandong")
        app.refresh_queue()
        await settle(app, pilot)
        assert titles(app)[0] == "Defectors moved to Dandong"
        assert cells(app)[0][0] == "✗*"
        assert app.highlighted() == story(db_path, ids["c"])  # the cursor stayed
        assert app.status_text.startswith("5 to review · ✓ 0 · ✗ 1")
        await press(app, pilot, "k", "k")
        assert "a flagged article changed since the verdict" in detail(app)
        now[0] = datetime(2026, 11, 29, 11, 0, tzinfo=UTC)
        await press(app, pilot, "r")  # looked at again: out of the queue at the next refresh
        app.refresh_queue()
        await settle(app, pilot)
        assert story(db_path, ids["a"]) not in app._order

    now = [REVIEWED_AT]
    drive(ReviewApp(db_path, clock=lambda: now[0]), scenario)


def test_new_stories_appear_without_restarting(db_path: Path, ids: dict[str, int]) -> None:
    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        await press(app, pilot, "j")
        build_db(
            db_path, [("z", "Mass repatriation at Tumen", {"border": 0.99}, ("border",), True)]
        )
        for _ in range(100):  # refreshed by the app's own timer
            await pilot.pause(0.05)
            if "Mass repatriation at Tumen" in titles(app):
                break
        await settle(app, pilot)
        assert titles(app)[0] == "Mass repatriation at Tumen"
        assert app.highlighted() == story(db_path, ids["b"])  # the cursor stayed on b
        assert "1 new story in the queue" in app.status_text
        assert app.status_text.startswith("6 to review")

    drive(make_app(db_path, refresh_every=0.1), scenario)


# ---------------------------------------------------------------- the command


def test_review_command_passes_its_filters(
    db_path: Path, ids: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr("monitor.tui.run_review", lambda path, **kwargs: calls.append(kwargs))

    def run(*args: str) -> Any:
        return CliRunner().invoke(cli, ["--db", str(db_path), "review", *args])

    result = run(
        *("--status", "relevant", "--label", "border", "--label", "defectors"),
        *("--feed", "Daily NK", "--language", "en", "--order", "date"),
        *("--since", "2026-11-01", "--until", "2026-11-30"),
    )
    assert result.exit_code == 0, result.output
    assert calls.pop()["filters"] == storage.StoryFilters(
        status="relevant",
        labels=("border", "defectors"),
        feed="Daily NK",
        language="en",
        since=date(2026, 11, 1),
        until=date(2026, 11, 30),
        order="date",
    )
    assert run("--all", "--audit").exit_code == 0
    assert calls.pop()["filters"] == storage.StoryFilters(status="all", audit=True)
    result = run("--all", "--status", "relevant")
    assert result.exit_code == 2 and "--all" in result.output
    result = run("--feed", "Nobody")
    assert result.exit_code == 1 and "no feed named 'Nobody'" in result.output
    assert run("--since", "yesterday").exit_code == 2
    assert not calls


# ---------------------------------------------------------------- empty queue and errors


def test_empty_queue_says_so(db_path: Path) -> None:
    build_db(db_path, [ARTICLES[3]])  # only the unflagged article

    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        empty = app.query_one("#empty", Static)
        assert empty.display and "Nothing to review" in str(empty.visual)
        await press(app, pilot, "j", "k", "enter", "r", "n", "exclamation_mark", "1", "e", "o")
        assert "the queue is empty" in app.status_text
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
        await press(app, pilot, "r", "u", "s")
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
        assert cells(app)[0][0] == "  "
        assert app.is_running
        await press(app, pilot, "u")
        assert "Nothing to undo" in app.status_text

    drive(make_app(db_path), scenario)


# ---------------------------------------------------------------- hostile text


HOSTILE_BITS = (
    "\x1b", "\x07", "\x9b", "\x9d", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
    "\u2066", "\u2067", "\u2068", "\u2069", "ZXZpbA==", "evil.test", "pwned",
)  # fmt: skip


def test_hostile_text_never_reaches_the_terminal(db_path: Path) -> None:
    hostile: list[Spec] = [("h", HOSTILE_TITLE, {"border": 0.99}, ("border",), True), *ARTICLES]
    ids = build_db(db_path, hostile)
    copy = build_db(db_path, [("h2", HOSTILE_TITLE + " (copy)", {}, (), False)], feed_name="Yonhap")
    db = storage.open_db(db_path)
    db.execute(
        "update articles set summary = ?, url = ? where id = ?",
        [
            "Body\x1b[2J [link=https://x.test]here[/link] \u202e\x07\nline two\x1b]0;pwned\x1b\\",
            "https://x.test/\x1b]52;c;QQ==\x07",
            ids["h"],
        ],
    )
    db.execute("update feeds set name = ? where name = 'Daily NK'", ["F\x1b[5m [i]x[/i]\u202e"])
    with db.atomic():
        storage.join_story(db, copy["h2"], storage.story_of(db, ids["h"]), NOW)
    db.conn.commit()
    db.close()

    async def scenario(app: ReviewApp, pilot: Pilot[None]) -> None:
        await press(app, pilot, "enter")
        assert_safe(app)
        title, meta = detail(app).split("\n")[:2]
        assert title == "[bold red]boom[/] red ALERT click esrever"
        assert meta.startswith("F [i]x[/i] (also Yonhap) · ")
        assert "Body [link=https://x.test]here[/link] \nline two" in detail(app)
        assert "[bold red]boom[/] red ALERT click esrever (copy)" in detail(app)
        assert "boom[/]" in app.export_screenshot() and "boom[/]" in frame_as_sent(app)
        assert "https://x.test/" in detail(app) and "QQ==" not in detail(app)
        await press(app, pilot, "o")  # a link with an escape sequence is not opened
        assert "Not opened" in app.status_text
        await press(app, pilot, "r")  # the status line now quotes the title
        assert verdicts(db_path)[ids["h"]] == "relevant"
        assert "Marked relevant: [bold red]boom[/] red ALERT click esrev…" in app.status_text
        assert_safe(app)
        await press(app, pilot, "slash")
        await type_text(app, pilot, "boom")
        await press(app, pilot, "enter", "enter")
        assert app.view_line.startswith("search “boom”: 1 story")
        assert_safe(app)
        assert app.is_running

    drive(make_app(db_path), scenario)


def assert_safe(app: ReviewApp) -> None:
    """No hostile sequence in the widgets' text, the screenshot or the bytes for the terminal."""
    shown = [cell for row in cells(app) for cell in row]
    shown += [detail(app), app.status_text, app.view_line]
    for text in shown:
        assert not any(bad in text for bad in HOSTILE_BITS), repr(text)
    assert cells(app)[0][3] == "F [i]x[/i]"  # markup in a source name is shown, not applied
    assert cells(app)[0][TITLE] == "[bold red]boom[/] red ALERT clic…"
    svg = app.export_screenshot()
    assert not any(bad in svg for bad in HOSTILE_BITS)
    assert "[i]x[/i]" in svg
    terminal = frame_as_sent(app)
    for bad in ("\x07", "]52;", "]8;", "]0;", "]2;", "[31m", "[5m", "[2J", *HOSTILE_BITS[3:]):
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
