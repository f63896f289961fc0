"""The weekly digest: one row per story, status filters, ISO weeks in a time zone, CSV with an
optional BOM, Markdown that feed text cannot break, the summary's sparklines, `monitor status`
and the daemon's weekly files."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from click.testing import CliRunner
from markdown_it import MarkdownIt

import storage
from monitor.cli import cli
from monitor.config import Settings, WeeklyTime
from monitor.daemon import Daemon, digest_job, digest_trigger
from monitor.digest import DIGEST_COLUMNS, build_digest, digest_markdown
from monitor.normalise import iso
from monitor.scheduled_digest import catch_up, last_due, write_last_week
from monitor.summary import sparkline
from monitor.text import one_line
from monitor.weeks import parse_week
from tests import builders

NOW = "2026-11-28T09:00:00Z"
FEEDS = ("Wire, Inc.", "연합 Yonhap", "新华 Xinhua")


def flag(*labels: str, score: float = 0.9, flagged: bool = True) -> storage.ClassificationIn:
    scores = dict.fromkeys(labels, score) or {"defectors": score}
    why = {label: (f"{label[:4]}-term",) for label in labels} if flagged else {}
    return storage.ClassificationIn(scores, labels if flagged else (), flagged, why)


UNFLAGGED = flag(score=0.05, flagged=False)


def article(key: str, title: str, published: str | None, **extra: Any) -> storage.ArticleIn:
    return builders.article(key, title, published=published, content_hash=f"h-{key}", **extra)


class Newsroom:
    """A real database with three outlets; `carry` stores articles as one poll would."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = storage.open_db(path)
        specs = [
            storage.FeedSpec(name, f"https://f{i}.test/rss", 1800) for i, name in enumerate(FEEDS)
        ]
        storage.sync_feeds(self.db, specs, NOW)
        self.feeds = {name: storage.get_feed(self.db, name).id for name in FEEDS}

    def carry(
        self, outlet: str, item: storage.ArticleIn, result: storage.ClassificationIn, now: str = NOW
    ) -> int:
        scores = {item.key: result}
        feed_id = self.feeds[outlet]
        saved = builders.store_poll(self.db, feed_id, [item], scores, started=now, model="v1")
        return saved.new[item.key]

    def same_story(self, article_id: int, as_article: int) -> None:
        with self.db.atomic():
            storage.join_story(self.db, article_id, storage.story_of(self.db, as_article), NOW)

    def review(self, article_id: int, verdict: str, **extra: Any) -> None:
        if verdict in storage.VERDICTS:
            storage.add_review(self.db, article_id, verdict, NOW, **extra)
            return
        story = storage.story_of(self.db, article_id)  # a verdict another module may add
        self.db.execute(
            "insert into reviews (article_id, story_id, verdict, labels, note, reviewed_at)"
            " values (?, ?, ?, ?, ?, ?)",
            [article_id, story, verdict, json.dumps(extra.get("labels", [])), "", NOW],
        )
        self.db.conn.commit()


def titles(rows: list[dict[str, Any]]) -> list[str]:
    return [row["title"] for row in rows]


@pytest.fixture
def room(tmp_path: Path) -> Newsroom:
    return Newsroom(tmp_path / "digest.db")


# ---------------------------------------------------------------- one row per story


def test_near_duplicates_across_outlets_are_one_row(room: Newsroom) -> None:
    first = room.carry(
        "연합 Yonhap",
        article("y1", "China detains 13 North Koreans in Yunnan", "2026-11-24T01:00:00Z"),
        flag("defectors", score=0.8),
    )
    wire = room.carry(
        "Wire, Inc.",
        article(
            "w1", "China holds 13 North Koreans, fears of repatriation", "2026-11-24T03:00:00Z"
        ),
        flag("defectors", "repatriation", score=0.97),
    )
    room.same_story(wire, first)
    room.carry(
        "新华 Xinhua", article("x1", "边防部队加强巡逻", "2026-11-25T02:00:00Z"), flag("border")
    )
    rows = build_digest(room.db, "2026-W48").rows
    assert [list(row) for row in rows[:1]] == [list(DIGEST_COLUMNS)]
    assert len(rows) == 2
    story = rows[0]
    assert story["first_published"] == "2026-11-24T01:00:00Z"  # the earliest article's
    assert (story["first_outlet"], story["outlets"]) == ("연합 Yonhap", 2)
    # title, link, labels, score and why of the highest-scoring article
    assert story["title"] == "China holds 13 North Koreans, fears of repatriation"
    assert story["url"] == "https://news.test/w1"
    assert (story["labels"], story["score"]) == ("defectors;repatriation", "0.970")
    assert story["why"] == "defectors: defe-term; repatriation: repa-term"
    assert story["verdict"] == "unreviewed"
    assert rows[1]["first_outlet"] == "新华 Xinhua" and rows[1]["outlets"] == 1


def test_a_verdict_on_one_article_is_the_story_s(room: Newsroom) -> None:
    first = room.carry(
        "Wire, Inc.", article("a", "Detained", "2026-11-24T01:00:00Z"), flag("border")
    )
    second = room.carry(
        "연합 Yonhap", article("b", "Detained too", "2026-11-24T02:00:00Z"), flag("border")
    )
    room.same_story(second, first)
    room.review(second, "relevant", labels=["repatriation"], note="moved to\nDandong")
    [row] = build_digest(room.db, "2026-W48").rows
    assert (row["verdict"], row["labels"], row["note"]) == (
        "relevant", "repatriation", "moved to\nDandong"
    )  # fmt: skip


# ---------------------------------------------------------------- which stories


@pytest.fixture
def verdicts(room: Newsroom) -> Newsroom:
    """Flagged and unflagged stories with every kind of verdict, all in 2026-W48."""
    day = iter(f"2026-11-2{d}T0{h}:00:00Z" for d in range(3, 10) for h in range(1, 4))
    kinds = [
        ("flagged unreviewed", flag("defectors"), None),
        ("flagged relevant", flag("defectors"), "relevant"),
        ("flagged escalated", flag("border"), "escalated"),
        ("flagged rejected", flag("defectors"), "not-relevant"),
        ("unflagged relevant", UNFLAGGED, "relevant"),
        ("unflagged rejected", UNFLAGGED, "not-relevant"),
        ("unflagged unreviewed", UNFLAGGED, None),
    ]
    for i, (title, result, verdict) in enumerate(kinds):
        article_id = room.carry(FEEDS[i % 3], article(f"k{i}", title, next(day)), result)
        if verdict:
            room.review(article_id, verdict, labels=["repatriation"])
    return room


@pytest.mark.parametrize(
    ("status", "include_rejected", "expected"),
    [
        ("relevant", False, ["flagged relevant", "flagged escalated", "unflagged relevant"]),
        ("unreviewed", False, ["flagged unreviewed"]),
        (
            "all",
            False,
            ["flagged unreviewed", "flagged relevant", "flagged escalated", "unflagged relevant"],
        ),
        (
            "all",
            True,
            [
                "flagged unreviewed",
                "flagged relevant",
                "flagged escalated",
                "flagged rejected",
                "unflagged relevant",
            ],
        ),
    ],
)
def test_status_filters(
    verdicts: Newsroom, status: str, include_rejected: bool, expected: list[str]
) -> None:
    digest = build_digest(verdicts.db, "2026-W48", status=status, include_rejected=include_rejected)
    assert titles(digest.rows) == expected
    assert sum(digest.summary.stories) == len(expected)


def test_labels_are_the_analyst_s_for_relevant_and_escalated(verdicts: Newsroom) -> None:
    rows = {
        r["title"]: r for r in build_digest(verdicts.db, "2026-W48", include_rejected=True).rows
    }
    assert rows["flagged unreviewed"]["labels"] == "defectors"  # the model's
    assert rows["flagged relevant"]["labels"] == "repatriation"  # the analyst's
    assert rows["flagged escalated"]["verdict"] == "escalated"
    assert rows["flagged escalated"]["labels"] == "repatriation"
    assert rows["flagged rejected"]["labels"] == "defectors"  # the model's, as unreviewed


def test_status_options_from_the_cli(verdicts: Newsroom) -> None:
    base = ["--db", str(verdicts.path), "digest", "--week", "2026-W48"]
    result = CliRunner().invoke(cli, [*base, "--status", "unreviewed"])
    assert [r["title"] for r in csv.DictReader(io.StringIO(result.stdout))] == [
        "flagged unreviewed"
    ]
    result = CliRunner().invoke(cli, [*base, "--all"])  # the old name of --include-rejected
    assert "flagged rejected" in result.stdout
    result = CliRunner().invoke(cli, [*base, "--status", "relevant", "--include-rejected"])
    assert result.exit_code == 2 and "only with --status all" in result.output


# ---------------------------------------------------------------- weeks in a time zone


def test_sunday_late_utc_is_monday_in_seoul(room: Newsroom) -> None:
    room.carry(
        "Wire, Inc.", article("s", "Late Sunday story", "2026-11-29T23:30:00Z"), flag("border")
    )
    assert titles(build_digest(room.db, "2026-W48", "UTC").rows) == ["Late Sunday story"]
    assert build_digest(room.db, "2026-W48", "Asia/Seoul").rows == []
    [row] = build_digest(room.db, "2026-W49", "Asia/Seoul").rows
    assert row["first_published"] == "2026-11-30T08:30:00+09:00"
    assert row["week"] == "2026-W49"


def test_week_bounds_are_local_midnights_even_across_a_clock_change() -> None:
    seoul = ZoneInfo("Asia/Seoul")
    assert [iso(t) for t in parse_week("2026-W49", seoul)] == [
        "2026-11-29T15:00:00Z",
        "2026-12-06T15:00:00Z",
    ]
    berlin = ZoneInfo("Europe/Berlin")  # summer time ends on Sunday 2026-10-25
    start, end = parse_week("2026-W43", berlin)
    assert (iso(start), iso(end)) == ("2026-10-18T22:00:00Z", "2026-10-25T23:00:00Z")
    assert end - start == timedelta(days=7, hours=1)


def test_default_week_and_time_zone_come_from_feeds_yaml(room: Newsroom, tmp_path: Path) -> None:
    (tmp_path / "feeds.yaml").write_text(
        f"settings:\n  database: {room.path.name}\n  timezone: Asia/Seoul\n", encoding="utf-8"
    )
    room.carry("Wire, Inc.", article("s", "Seoul time", "2026-11-29T23:30:00Z"), flag("border"))
    result = CliRunner().invoke(
        cli, ["--config", str(tmp_path / "feeds.yaml"), "digest", "--week", "2026-W49"]
    )
    assert result.exit_code == 0, result.output
    [row] = list(csv.DictReader(io.StringIO(result.stdout)))
    assert row["first_published"] == "2026-11-30T08:30:00+09:00"


# ---------------------------------------------------------------- CSV


def test_bom_only_when_asked(room: Newsroom, tmp_path: Path) -> None:
    room.carry("Wire, Inc.", article("b", "탈북민 13명", "2026-11-24T01:00:00Z"), flag("defectors"))
    base = ["--db", str(room.path), "digest", "--week", "2026-W48"]
    plain = CliRunner().invoke(cli, base).stdout_bytes
    assert plain.startswith(b"week,first_published,")
    out = tmp_path / "bom.csv"
    assert CliRunner().invoke(cli, [*base, "--bom", "--out", str(out)]).exit_code == 0
    assert out.read_bytes() == b"\xef\xbb\xbf" + plain
    assert CliRunner().invoke(cli, [*base, "--bom"]).stdout_bytes == b"\xef\xbb\xbf" + plain
    result = CliRunner().invoke(cli, [*base, "--bom", "--format", "markdown"])
    assert result.exit_code == 2 and "only for --format csv" in result.output


# ---------------------------------------------------------------- Markdown


HOSTILE_TITLES = [
    "| injected | cells | here |",
    "[click me](https://evil.test/phish) now",
    "![pixel](https://evil.test/track.png)",
    '<img src=x onerror="alert(1)"> <script>alert(2)</script>',
    "Bare https://evil.test/auto and www.evil.test and spy@evil.test",
    "**bold** _it_ ~~gone~~ `code` $x^2$ &lt;b&gt; \\| # heading",
    "line one\nline two | after the break",
]


class Cells(HTMLParser):
    """The text of every <td>, the tags seen, and the links' targets."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.tags: set[str] = set()
        self.links: list[str] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag == "tr":
            self.rows.append([])
        elif tag == "td":
            self.cell = []
        elif tag == "a":
            self.links.append(dict(attrs)["href"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self.cell is not None:
            self.rows[-1].append("".join(self.cell))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def test_markdown_escapes_hostile_feed_text(room: Newsroom) -> None:
    for i, title in enumerate(HOSTILE_TITLES):
        item = article(
            f"h{i}",
            title,
            f"2026-11-2{3 + i % 5}T0{i}:00:00Z",
            url=f"https://news.test/{i}?a=(1)|b",
        )
        article_id = room.carry(FEEDS[i % 3], item, flag("defectors"))
        if i == 0:
            room.review(article_id, "relevant", note="[see](javascript:alert(1)) <b>x</b>")
    text = digest_markdown(build_digest(room.db, "2026-W48"))
    html = MarkdownIt("gfm-like").render(text)  # GitHub's flavour, bare URLs linkified
    cells = Cells()
    cells.feed(html)
    rows = [row for row in cells.rows if row]
    assert len(rows) == len(HOSTILE_TITLES)
    assert all(len(row) == len(DIGEST_COLUMNS) for row in rows)
    title_at = DIGEST_COLUMNS.index("title")
    assert sorted(row[title_at] for row in rows) == sorted(one_line(t) for t in HOSTILE_TITLES)
    note_at = DIGEST_COLUMNS.index("note")
    assert "[see](javascript:alert(1)) <b>x</b>" in [row[note_at] for row in rows]
    assert cells.tags <= {
        "h1",
        "h2",
        "p",
        "pre",
        "code",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "a",
    }
    # the only links are the articles' own, with the characters that could end them encoded
    assert sorted(cells.links) == sorted(f"https://news.test/{i}?a=(1)%7Cb" for i in range(7))


def test_markdown_summary_on_top(room: Newsroom) -> None:
    # Mon: 2 defectors (one also repatriation); Wed: 1 border; Sun: 1 defectors
    stories = [
        ("Wire, Inc.", "2026-11-23T01:00:00Z", ("defectors", "repatriation")),
        ("연합 Yonhap", "2026-11-23T05:00:00Z", ("defectors",)),
        ("Wire, Inc.", "2026-11-25T05:00:00Z", ("border",)),
        ("Wire, Inc.", "2026-11-29T05:00:00Z", ("defectors",)),
    ]
    for i, (outlet, when, labels) in enumerate(stories):
        room.carry(outlet, article(f"s{i}", f"Story {i}", when), flag(*labels))
    text = digest_markdown(build_digest(room.db, "2026-W48"))
    assert text.startswith(
        "# Digest 2026-W48\n\n"
        "Mon 2026-11-23 – Sun 2026-11-29 (UTC): 4 stories, flagged by the model or marked"
        " relevant; stories marked not relevant left out.\n\n"
        "## Summary\n\n"
        "Stories per label per day (▁ none, █ the busiest day):\n\n"
        "```text\n"
        "              MTWTFSS\n"
        "defectors     █▁▁▁▁▁▅  3\n"
        "repatriation  ▅▁▁▁▁▁▁  1\n"
        "border        ▁▁▅▁▁▁▁  1\n"
        "stories       █▁▅▁▁▁▅  4\n"
        "```\n\n"
        "Most active outlets: Wire, Inc\\. 3, 연합 Yonhap 1\n\n"
        "## Stories\n\n"
        "| week | first published | first outlet |"
    )


def test_sparkline() -> None:
    assert sparkline([0, 1, 3, 6], 6) == "▁▃▅█"
    assert sparkline([0, 0], 0) == "▁▁"
    assert sparkline([1, 100], 100) == "▂█"  # a few is never drawn as none


def test_summary_json_file(room: Newsroom, tmp_path: Path) -> None:
    room.carry("Wire, Inc.", article("j", "One", "2026-11-24T01:00:00Z"), flag("border"))
    out = tmp_path / "summary.json"
    args = ["--db", str(room.path), "digest", "--week", "2026-W48", "--summary", str(out)]
    assert CliRunner().invoke(cli, args).exit_code == 0
    document = json.loads(out.read_text(encoding="utf-8"))
    assert (document["week"], document["stories"], document["missed"]) == ("2026-W48", 1, None)
    summary = document["summary"]
    assert summary["days"][0] == "2026-11-23" and summary["labels"]["border"][1] == 1
    assert summary["outlets"] == [{"name": "Wire, Inc.", "stories": 1}]


# ---------------------------------------------------------------- monitor status


def test_status_shows_the_last_7_days(room: Newsroom) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    for i, labels in enumerate([("defectors",), ("defectors", "border")]):
        when = iso(now - timedelta(hours=1 + i))
        room.carry(FEEDS[i], article(f"r{i}", f"Recent {i}", when), flag(*labels), now=when)
    base = ["--db", str(room.path), "status"]
    table = CliRunner().invoke(cli, base).output.splitlines()
    assert table[0].split()[:2] == ["name", "state"]
    start = table.index(next(line for line in table if line.startswith("stories flagged")))
    assert [line.split()[0] for line in table[start + 2 : start + 6]] == [
        "defectors", "repatriation", "border", "stories"
    ]  # fmt: skip
    assert table[start + 2].endswith("  2") and table[start + 5].endswith("  2")
    assert table[start + 6].startswith("most active outlets: ")
    assert isinstance(json.loads(CliRunner().invoke(cli, [*base, "--format", "json"]).output), list)
    full = json.loads(CliRunner().invoke(cli, [*base, "--format", "json-full"]).output)
    assert set(full) == {"feeds", "summary", "missed"} and len(full["feeds"]) == 3
    assert sum(full["summary"]["labels"]["defectors"]) == 2 and full["missed"] is None
    assert len(full["summary"]["days"]) == 7


# ---------------------------------------------------------------- the daemon's weekly files


def test_scheduled_digest_writes_last_week_and_never_overwrites(
    room: Newsroom, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    room.carry(
        "Wire, Inc.", article("d", '탈북민, "13명"', "2026-11-24T01:00:00Z"), flag("defectors")
    )
    folder = tmp_path / "digests"
    now = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)  # Monday: last complete week is W48
    caplog.set_level(logging.INFO, logger="monitor.digest")
    first = write_last_week(room.db, folder, now, "UTC")
    assert [p.name for p in first.paths] == ["digest-2026-W48.csv", "digest-2026-W48.md"]
    csv_bytes = first.paths[0].read_bytes()
    assert csv_bytes.startswith(b"\xef\xbb\xbfweek,first_published,")
    assert first.paths[1].read_text(encoding="utf-8").startswith("# Digest 2026-W48\n")
    assert (
        "digest 2026-W48: 1 stories, wrote digest-2026-W48.csv, digest-2026-W48.md" in caplog.text
    )

    (folder / "digest-2026-W48-2.md").write_text("kept", encoding="utf-8")  # an old half pair
    again = write_last_week(room.db, folder, now, "UTC")
    assert [p.name for p in again.paths] == ["digest-2026-W48-3.csv", "digest-2026-W48-3.md"]
    assert again.renamed and first.paths[0].read_bytes() == csv_bytes
    assert (folder / "digest-2026-W48-2.md").read_text(encoding="utf-8") == "kept"
    assert "an earlier digest of that week is in" in caplog.text


def test_scheduled_week_is_the_local_one(room: Newsroom, tmp_path: Path) -> None:
    monday_morning_seoul = datetime(2026, 11, 29, 22, 30, tzinfo=UTC)  # still Sunday in UTC
    written = write_last_week(room.db, tmp_path, monday_morning_seoul, "Asia/Seoul")
    assert written.week == "2026-W48"
    assert write_last_week(room.db, tmp_path, monday_morning_seoul, "UTC").week == "2026-W47"


@pytest.mark.parametrize(
    ("now", "due"),
    [
        ("2026-11-30T07:00:00+00:00", "2026-11-30T07:00:00+00:00"),  # the minute itself
        ("2026-12-02T12:00:00+00:00", "2026-11-30T07:00:00+00:00"),  # Wednesday after
        ("2026-11-30T06:59:00+00:00", "2026-11-23T07:00:00+00:00"),  # just before: last week's
        ("2026-11-29T22:30:00+00:00", "2026-11-30T07:00:00+09:00"),  # Monday 07:30 in Seoul
    ],
)
def test_last_due_is_the_latest_scheduled_moment_not_after_now(now: str, due: str) -> None:
    tz = ZoneInfo("Asia/Seoul") if due.endswith("+09:00") else UTC
    at = datetime(2026, 1, 1, 7, 0).time()
    found = last_due(datetime.fromisoformat(now), "mon", at, tz)
    assert found == datetime.fromisoformat(due)


def test_a_digest_missed_while_stopped_is_written_on_start_once(
    room: Newsroom, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    room.carry("Wire, Inc.", article("d", "탈북민 13명", "2026-11-24T01:00:00Z"), flag("defectors"))
    folder = tmp_path / "digests"
    at = datetime(2026, 1, 1, 7, 0).time()
    wednesday = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # Monday 07:00 passed while stopped
    caplog.set_level(logging.INFO, logger="monitor.digest")
    written = catch_up(room.db, folder, wednesday, "mon", at, "UTC")
    assert written is not None and written.week == "2026-W48" and written.stories == 1
    assert "not written at mon 07:00 (the daemon was not running)" in caplog.text
    assert catch_up(room.db, folder, wednesday, "mon", at, "UTC") is None  # there already
    assert sorted(p.name for p in folder.iterdir()) == ["digest-2026-W48.csv", "digest-2026-W48.md"]
    (folder / "digest-2026-W48.csv").unlink()
    (folder / "digest-2026-W48-2.csv").write_text("an analyst's copy", encoding="utf-8")
    assert catch_up(room.db, folder, wednesday, "mon", at, "UTC") is None  # any suffix counts


def test_daemon_registers_the_weekly_cron_job() -> None:
    settings = Settings(timezone="Asia/Seoul", digest_at="fri 18:30")
    assert settings.digest_at == WeeklyTime("fri", datetime(2026, 1, 1, 18, 30).time())

    async def digest() -> None:
        return None

    daemon = Daemon(object(), 60.0, digest=digest, digest_trigger=digest_trigger(settings))  # type: ignore[arg-type]
    job = daemon.scheduler().get_job("digest")
    assert isinstance(job.trigger, CronTrigger)
    fields = {f.name: str(f) for f in job.trigger.fields if not f.is_default}
    assert fields == {"day_of_week": "fri", "hour": "18", "minute": "30"}
    assert job.trigger.timezone == ZoneInfo("Asia/Seoul")
    assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, 6 * 3600)
    after = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)  # Friday 18:00 in Seoul
    fire = job.trigger.get_next_fire_time(None, after)
    assert fire == datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
    off = Settings(digest_at="off")
    assert digest_trigger(off) is None
    daemon = Daemon(object(), 60.0, digest=digest, digest_trigger=None)  # type: ignore[arg-type]
    assert daemon.scheduler().get_job("digest") is None


class DbThread:
    """What the daemon needs of a Refresher: the database, and work run on its thread."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self.in_flight: set[int] = set()

    async def on_db(self, function: Any, *args: Any) -> Any:
        return function(*args)

    async def poll_feed(self, feed: Any) -> None:
        return None


def test_daemon_writes_the_digest_when_the_trigger_fires(room: Newsroom, tmp_path: Path) -> None:
    """The real scheduler, a trigger every second, the daemon's own job function."""
    room.carry(
        "Wire, Inc.",
        article("d", "Story", iso(datetime.now(UTC) - timedelta(days=7))),
        flag("border"),
    )
    folder = tmp_path / "weekly"
    refresher = DbThread(room.db)

    async def main() -> list[str]:
        job = lambda: digest_job(refresher, room.db, folder, "UTC")  # noqa: E731
        daemon = Daemon(refresher, 3600.0, digest=job, digest_trigger=CronTrigger(second="*"))  # type: ignore[arg-type]
        scheduler = daemon.scheduler()
        scheduler.start()
        for _ in range(50):
            await asyncio.sleep(0.1)
            if len(list(folder.glob("*.md"))) >= 1:
                break
        daemon.stopping.set()
        scheduler.pause()
        await daemon.drain()
        scheduler.shutdown(wait=False)
        return sorted(p.name for p in folder.iterdir())

    names = asyncio.run(main())
    assert names[:2] == [f"digest-{names[0][7:15]}.csv", f"digest-{names[0][7:15]}.md"]


def test_a_failed_digest_is_logged_and_polling_goes_on(
    room: Newsroom, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    asyncio.run(digest_job(DbThread(room.db), room.db, blocked, "UTC"))  # type: ignore[arg-type]
    assert f"digest: not written to {blocked}: FileExistsError" in caplog.text
