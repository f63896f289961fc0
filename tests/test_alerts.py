"""Alerts: a real SMTP server (aiosmtpd) on loopback, a real command, a real SQLite file."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import socket
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
import yaml
from aiosmtpd.controller import Controller

import storage
from monitor.alerts import SmtpChannel, deliver_due, inline
from monitor.config import Alerts, ConfigError, parse_config
from monitor.demo.server import FeedServer
from storage import ClassificationIn, FeedSpec
from tests.builders import article, store_poll
from tests.conftest import write_config
from tests.test_cli import invoke

T0 = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
HOSTILE_TITLE = "Group detained in Tumen\r\nBcc: evil@example.org"


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd API)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def smtp_settings(port: int) -> dict[str, object]:
    return {
        "host": "127.0.0.1",
        "port": port,
        "starttls": False,
        "from": "alerts@example.org",
        "to": ["desk@example.org"],
    }


def alerts_config(**values: object) -> Alerts:
    return Alerts.model_validate({"min_score": 0.9, "retry": "15m", **values})


def command_writing_to(tmp_path: Path, fail: bool = False, slow: float = 0.0) -> list[str]:
    """A command that appends its stdin as one line to out.jsonl (and fails if asked); with
    `slow`, every call after the first takes that many seconds first."""
    script = tmp_path / "notify.py"
    out = tmp_path / "out.jsonl"
    script.write_text(
        "import os, sys, time\n"
        f"if {slow!r} and os.path.exists({str(out)!r}):\n"
        f"    time.sleep({slow!r})\n"
        f"with open({str(out)!r}, 'a', encoding='utf-8') as f:\n"
        "    f.write(sys.stdin.read() + '\\n')\n"
        + ("sys.stderr.write('relay down\\nsecond line\\n'); sys.exit(3)\n" if fail else ""),
        encoding="utf-8",
    )
    return [sys.executable, str(script)]


def sent_lines(tmp_path: Path) -> list[dict[str, object]]:
    out = tmp_path / "out.jsonl"
    if not out.exists():
        return []
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def db(tmp_path: Path):
    db = storage.open_db(tmp_path / "monitor.db")
    storage.sync_feeds(db, [FeedSpec("Daily NK", "https://n.example/rss", 1800)], iso(T0))
    yield db
    db.close()


def add_article(
    db,
    key: str,
    score: float,
    *,
    title: str = "Defectors detained",
    fetched: datetime = T0,
    flagged: bool = True,
) -> int:
    feed_id = storage.get_feed(db, "Daily NK").id
    item = article(
        key,
        title,
        url=f"https://n.example/{key}",
        published="2026-11-28T23:00:00Z",
        content_hash=f"{key}|{title}",
    )
    scores = {"repatriation": score, "border": 0.5, "defectors": 0.2}
    result = ClassificationIn(scores, ("repatriation", "border") if flagged else (), flagged)
    saved = store_poll(
        db,
        feed_id,
        [item],
        {key: result},
        started=iso(fetched),
        next_poll=iso(fetched + timedelta(hours=1)),
        duration_ms=3,
        model="v1",
    )
    return saved.new[key]


def deliver(db, alerts: Alerts, clock: Clock):
    return asyncio.run(deliver_due(db, alerts, inline, clock))


def test_mail_carries_the_story_and_no_injected_header(db, smtp_server, tmp_path: Path) -> None:
    inbox, port = smtp_server
    article_id = add_article(db, "a1", 0.98, title=HOSTILE_TITLE)
    done = deliver(db, alerts_config(smtp=smtp_settings(port)), Clock())
    assert done.sent == {"smtp": 1}
    [message] = inbox.messages
    assert inbox.envelopes == [("alerts@example.org", ["desk@example.org"])]
    subject = " ".join(message["Subject"].split())  # unfolded
    assert (
        subject == "[nk-monitor] repatriation 0.98: Group detained in Tumen Bcc: evil@example.org"
    )
    assert message["Bcc"] is None and "evil@example.org" not in inbox.envelopes[0][1]
    body = message.get_content()
    for text in (
        "Group detained in Tumen",
        "Daily NK",
        "https://n.example/a1",
        "repatriation, border",
    ):
        assert text in body
    assert f"monitor label {article_id} relevant" in body
    assert [row["status"] for row in storage.alert_deliveries(db)] == ["sent"]


def test_feed_text_never_breaks_lines_in_the_mail() -> None:
    settings = Alerts.model_validate({"smtp": smtp_settings(25)}).smtp
    assert settings is not None
    alert = dataclasses.replace(_sample(), title=HOSTILE_TITLE, outlet="X\nBcc: a@b")
    raw = bytes(SmtpChannel(settings).message(alert)).decode()
    assert not re.search(r"^Bcc:", raw, flags=re.MULTILINE | re.IGNORECASE)


def test_smtp_login_needs_the_password_from_the_environment() -> None:
    settings = Alerts.model_validate(
        {"smtp": {**smtp_settings(25), "username": "u", "password_env": "NK_TEST_PW"}}
    ).smtp
    assert settings is not None
    with pytest.raises(Exception, match="environment variable NK_TEST_PW is not set"):
        SmtpChannel(settings, env={}).send(_sample())


def _sample():
    from monitor.alerts import SAMPLE

    return SAMPLE


def test_command_gets_the_alert_as_json(db, tmp_path: Path) -> None:
    article_id = add_article(db, "a1", 0.97)
    deliver(db, alerts_config(command=command_writing_to(tmp_path)), Clock())
    assert sent_lines(tmp_path) == [
        {
            "article_id": article_id,
            "title": "Defectors detained",
            "outlet": "Daily NK",
            "url": "https://n.example/a1",
            "labels": ["repatriation", "border"],
            "scores": {"defectors": 0.2, "repatriation": 0.97, "border": 0.5},
            "score": 0.97,
            "published": "2026-11-28T23:00:00Z",
        }
    ]


def test_once_per_story_and_only_above_min_score(db, tmp_path: Path) -> None:
    add_article(db, "high", 0.97)
    add_article(db, "low", 0.80)
    add_article(db, "unflagged", 0.99, flagged=False)
    alerts = alerts_config(command=command_writing_to(tmp_path))
    clock = Clock()
    assert deliver(db, alerts, clock).sent == {"command": 1}
    clock.now += timedelta(hours=1)
    assert deliver(db, alerts, clock).sent == {}
    assert [line["url"] for line in sent_lines(tmp_path)] == ["https://n.example/high"]


def test_once_per_story_however_many_outlets_carry_it(db, tmp_path: Path) -> None:
    first = add_article(db, "wire", 0.96)
    copy = add_article(db, "copy", 0.98)
    storage.join_story(db, copy, storage.story_of(db, first), iso(T0))  # a near-duplicate
    alerts = alerts_config(command=command_writing_to(tmp_path))
    clock = Clock()
    assert deliver(db, alerts, clock).sent == {"command": 1}
    late = add_article(db, "late", 0.99, fetched=T0 + timedelta(minutes=30))
    storage.join_story(db, late, storage.story_of(db, first), iso(T0))
    clock.now += timedelta(hours=1)
    assert deliver(db, alerts, clock).sent == {}
    assert [line["url"] for line in sent_lines(tmp_path)] == ["https://n.example/copy"]


def test_not_relevant_verdict_cancels_the_alert(db, tmp_path: Path) -> None:
    article_id = add_article(db, "a1", 0.97)
    storage.add_review(db, article_id, "not-relevant", iso(T0))
    deliver(db, alerts_config(command=command_writing_to(tmp_path)), Clock())
    assert sent_lines(tmp_path) == []


def test_the_archive_is_not_alerted_on_first_start(db, tmp_path: Path) -> None:
    add_article(db, "old", 0.99, fetched=T0 - timedelta(days=30))
    add_article(db, "yesterday", 0.99, fetched=T0 - timedelta(days=1))
    alerts = alerts_config(command=command_writing_to(tmp_path))
    deliver(db, alerts, Clock())
    add_article(db, "later", 0.99, fetched=T0 + timedelta(days=5))
    deliver(db, alerts, Clock(T0 + timedelta(days=5)))  # after enabling: even past 2 days
    urls = [line["url"] for line in sent_lines(tmp_path)]
    assert urls == ["https://n.example/yesterday", "https://n.example/later"]


def test_failure_is_retried_after_the_delay_then_given_up(db, tmp_path: Path) -> None:
    add_article(db, "a1", 0.97)
    alerts = alerts_config(command=command_writing_to(tmp_path, fail=True), max_attempts=3)
    clock = Clock()
    assert deliver(db, alerts, clock).retrying == {"command": 1}
    [row] = storage.alert_deliveries(db)
    assert row["status"] == "pending" and row["attempts"] == 1
    assert row["last_error"] == "command: exit status 3: relay down"
    assert row["next_attempt"] == iso(T0 + timedelta(minutes=15))
    clock.now = T0 + timedelta(minutes=14)
    assert deliver(db, alerts, clock).retrying == {}  # not yet
    clock.now = T0 + timedelta(minutes=15)
    assert deliver(db, alerts, clock).retrying == {"command": 1}
    [row] = storage.alert_deliveries(db)
    assert row["next_attempt"] == iso(clock.now + timedelta(minutes=30))  # backoff doubles
    clock.now += timedelta(minutes=30)
    assert deliver(db, alerts, clock).failed == {"command": 1}
    clock.now += timedelta(days=1)
    assert str(deliver(db, alerts, clock)) == "alerts: 0 sent, 0 to retry, 0 given up"
    [row] = storage.alert_deliveries(db)
    assert row["status"] == "failed" and row["attempts"] == 3
    assert len(sent_lines(tmp_path)) == 3


def test_a_failing_channel_does_not_stop_the_other(db, smtp_server, tmp_path: Path) -> None:
    inbox, port = smtp_server
    add_article(db, "a1", 0.97)
    missing = [str(tmp_path / "no-such-notifier")]
    done = deliver(db, alerts_config(command=missing, smtp=smtp_settings(port)), Clock())
    assert done.retrying == {"command": 1} and done.sent == {"smtp": 1}
    assert len(inbox.messages) == 1
    rows = {row["channel"]: row for row in storage.alert_deliveries(db)}
    assert rows["command"]["last_error"].startswith("command: cannot run ")


def test_unreachable_smtp_server_is_a_failure_not_an_exception(db) -> None:
    add_article(db, "a1", 0.97)
    port = free_port()  # nothing listens there
    done = deliver(db, alerts_config(smtp=smtp_settings(port), timeout="2s"), Clock())
    assert done.retrying == {"smtp": 1}
    [row] = storage.alert_deliveries(db)
    assert row["last_error"].startswith(f"smtp: 127.0.0.1:{port}: ")


@pytest.mark.parametrize(
    ("alerts", "problem"),
    [
        ({"min_score": 0.9}, "alerts: needs a channel: command:, smtp: or both"),
        (
            {"min_score": 1.5, "command": ["notify"]},
            "alerts.min_score: expected a score from 0 to 1, got 1.5",
        ),
        (
            {"command": "notify --urgent"},
            'alerts.command: expected a list like ["/usr/local/bin/notify", "--urgent"]'
            ' (no shell), got "notify --urgent"',
        ),
        (
            {"smtp": {**smtp_settings(587), "username": "u", "password": "hunter2"}},
            "alerts.smtp.password: never put the password in feeds.yaml: set password_env to"
            " the name of an environment variable that holds it",
        ),
        (
            {"smtp": {**smtp_settings(587), "from": "a@example.org\r\nBcc: evil@example.org"}},
            "alerts.smtp.from: must be a non-empty printable string on one line",
        ),
        ({"command": ["notify"], "colour": "red"}, "alerts.colour: unknown key"),
    ],
)
def test_config_problems_are_one_line_each(alerts: dict[str, object], problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"alerts": alerts}, Path("feeds.yaml"))
    assert info.value.problems == [f"feeds.yaml: {problem}"]


def test_config_problem_through_the_cli(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(yaml.safe_dump({"alerts": {"min_score": "high"}}), encoding="utf-8")
    result = invoke(path, "alerts", "test")
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        f'Error: {path}: alerts.min_score: expected a score from 0 to 1, got "high"'
    ]


def test_alerts_test_sends_a_sample_through_every_channel(smtp_server, tmp_path: Path) -> None:
    inbox, port = smtp_server
    path = tmp_path / "feeds.yaml"
    data = {"alerts": {"command": command_writing_to(tmp_path), "smtp": smtp_settings(port)}}
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = invoke(path, "alerts", "test")
    assert result.exit_code == 0, result.output
    assert result.output == "command: sent\nsmtp: sent\n"
    assert sent_lines(tmp_path)[0]["outlet"] == "nk-monitor"
    assert inbox.messages[0]["Subject"].startswith("[nk-monitor] repatriation 0.99: ")
    assert not (tmp_path / "monitor.db").exists()  # a test stores nothing


def test_alerts_test_reports_a_failing_channel(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    data = {"alerts": {"command": command_writing_to(tmp_path, fail=True)}}
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = invoke(path, "alerts", "test")
    assert result.exit_code == 1
    assert result.output == (
        "command: failed: exit status 3: relay down\nError: 1 of 1 channels failed\n"
    )


def config_alerting_by_command(
    tmp_path: Path, feeds: list[dict[str, object]], model_dir: Path, slow: float = 0.0
) -> Path:
    """feeds.yaml for `feeds`, alerting at score 0.05 through the command of
    `command_writing_to`."""
    path = tmp_path / "feeds.yaml"
    write_config(path, feeds, model_dir)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["alerts"] = {"min_score": 0.05, "command": command_writing_to(tmp_path, slow=slow)}
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_run_once_alerts_the_flagged_articles_once(
    tmp_path: Path, feed_server: FeedServer, model_dir: Path
) -> None:
    feeds = [{"name": "Basic", "url": feed_server.url("rss2-basic.xml"), "language": "en"}]
    path = config_alerting_by_command(tmp_path, feeds, model_dir)
    assert invoke(path, "run", "--once").exit_code == 0
    db = storage.open_db(tmp_path / "monitor.db")
    # one alert per flagged story, about its highest-scoring article
    flagged = {row["article_id"] for row in storage.story_queue(db) if row["score"] >= 0.05}
    assert flagged, "the sample feed should flag something"
    first = sent_lines(tmp_path)
    assert {line["article_id"] for line in first} == flagged
    assert all(line["outlet"] == "Basic" and line["labels"] for line in first)
    assert invoke(path, "run", "--once").exit_code == 0
    assert sent_lines(tmp_path) == first
    assert {row["status"] for row in storage.alert_deliveries(db)} == {"sent"}


def test_daemon_sends_alerts_off_the_event_loop(
    tmp_path: Path, feed_server: FeedServer, model_dir: Path
) -> None:
    """`monitor run` as a real process: polls, then its alert job delivers, once."""
    from tests.test_daemon import run_daemon_until

    feeds = [{"name": "Basic", "url": feed_server.url("rss2-basic.xml"), "interval": "1h"}]
    path = config_alerting_by_command(tmp_path, feeds, model_dir)
    text = run_daemon_until(path, tmp_path / "daemon.log", lambda log: "via command: sent" in log)
    assert "alerting via command at score >= 0.05" in text and "Traceback" not in text
    ids = [line["article_id"] for line in sent_lines(tmp_path)]
    assert ids and len(ids) == len(set(ids))


def test_stopping_the_daemon_while_it_sends_an_alert_is_clean(
    tmp_path: Path, feed_server: FeedServer, model_dir: Path
) -> None:
    """SIGTERM lands while the second alert's command is still running: the delivery finishes
    within the shutdown grace and is recorded; nothing is cancelled from under the scheduler
    (which logged a traceback when its shutdown cancelled the running alert job)."""
    from tests.test_daemon import run_daemon_until

    feeds = [{"name": "Basic", "url": feed_server.url("rss2-basic.xml"), "interval": "1h"}]
    path = config_alerting_by_command(tmp_path, feeds, model_dir, slow=1.5)
    # SIGTERM after the first alert: the next alert's command is sleeping then
    text = run_daemon_until(path, tmp_path / "daemon.log", lambda log: "via command: sent" in log)
    assert "Traceback" not in text and "raised an exception" not in text, text
    assert text.count("via command: sent") == len(sent_lines(tmp_path)) == 2
    db = storage.open_db(tmp_path / "monitor.db")
    assert [row["status"] for row in storage.alert_deliveries(db)] == ["sent", "sent"]
