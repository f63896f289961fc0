"""Alerts for stories that cannot wait a week: a command and/or a mail per story, once.

A story's alert names the article that triggered it (its highest-scoring article when several
are due together); copies joining the story later send nothing. Delivery never raises into
the poller: a failure is logged on one line, stored, and retried with backoff until
`max_attempts`.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import smtplib
import ssl
import subprocess
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any, Protocol, TypeVar

import sqlite_utils

import storage
from monitor.config import Alerts, Smtp
from monitor.errors import MonitorError
from monitor.normalise import iso
from monitor.text import one_line

log = logging.getLogger("monitor.alerts")
T = TypeVar("T")
OnDb = Callable[..., Awaitable[Any]]
RECENT = timedelta(days=2)  # on first start, articles fetched this recently are still alerted
MAX_ERROR = 300


class AlertError(MonitorError):
    """One delivery failed; the message names the channel and the cause."""


@dataclass(frozen=True)
class Alert:
    article_id: int
    title: str
    outlet: str
    url: str
    labels: tuple[str, ...]
    scores: Mapping[str, float] = field(default_factory=dict)
    score: float = 0.0
    published: str | None = None

    @property
    def top_label(self) -> str:
        if self.scores:
            return max(self.scores, key=lambda label: self.scores[label])
        return self.labels[0] if self.labels else "flagged"

    def subject(self) -> str:
        return one_line(f"[nk-monitor] {self.top_label} {self.score:.2f}: {self.title}")[:200]

    def as_json(self) -> str:
        return json.dumps(
            {
                "article_id": self.article_id,
                "title": self.title,
                "outlet": self.outlet,
                "url": self.url,
                "labels": list(self.labels),
                "scores": dict(self.scores),
                "score": self.score,
                "published": self.published,
            },
            ensure_ascii=False,
        )

    def body(self) -> str:
        """Plain text; every field one line, whatever the caller passed in."""
        scores = ", ".join(f"{one_line(k)} {v:.2f}" for k, v in self.scores.items())
        labels = ", ".join(one_line(label) for label in self.labels)
        return "\n".join(
            [
                one_line(self.title),
                "",
                f"Outlet: {one_line(self.outlet)}",
                f"Published: {one_line(self.published or 'unknown')}",
                f"Labels: {labels or 'none'}",
                f"Scores: {scores or f'{self.score:.2f}'}",
                f"URL: {one_line(self.url)}",
                "",
                f"Article {self.article_id}: monitor label {self.article_id} relevant|not-relevant",
                "",
            ]
        )


def alert_from_row(row: Mapping[str, Any]) -> Alert:
    """An alert from a `storage.due_alerts` row; feed text made one safe line."""
    return Alert(
        article_id=int(row["article_id"]),
        title=one_line(row["title"] or "") or "(no title)",
        outlet=one_line(row["outlet"] or ""),
        url=one_line(row["url"] or ""),
        labels=tuple(one_line(str(label)) for label in row["labels"]),
        scores={one_line(str(k)): float(v) for k, v in row["scores"].items()},
        score=float(row["score"] or 0.0),
        published=row["published"],
    )


SAMPLE = Alert(
    article_id=0,
    title="nk-monitor test alert: group of defectors detained near the border",
    outlet="nk-monitor",
    url="https://example.org/nk-monitor-test-alert",
    labels=("repatriation",),
    scores={"defectors": 0.41, "repatriation": 0.99, "border": 0.63},
    score=0.99,
)


class Channel(Protocol):
    name: str

    def send(self, alert: Alert) -> None: ...


@dataclass(frozen=True)
class CommandChannel:
    """Runs the command (no shell) with the alert as JSON on stdin; non-zero exit fails."""

    argv: Sequence[str]
    timeout: float = 30.0
    name: str = "command"

    def send(self, alert: Alert) -> None:
        try:
            result = subprocess.run(
                list(self.argv),
                input=alert.as_json().encode("utf-8"),
                capture_output=True,
                timeout=self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise AlertError(f"command: timed out after {self.timeout:g} s") from None
        except OSError as exc:
            raise AlertError(f"command: cannot run {self.argv[0]}: {exc.strerror}") from exc
        if result.returncode != 0:
            lines = result.stderr.decode("utf-8", "replace").strip().splitlines()
            detail = f": {one_line(lines[0])}" if lines else ""
            raise AlertError(f"command: exit status {result.returncode}{detail}")


@dataclass(frozen=True)
class SmtpChannel:
    """Sends one mail per alert: STARTTLS when configured, login when a username is set."""

    settings: Smtp
    timeout: float = 30.0
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    name: str = "smtp"

    def message(self, alert: Alert) -> EmailMessage:
        message = EmailMessage()
        message["Subject"] = alert.subject()  # one line: no header injection from a title
        message["From"] = self.settings.sender
        message["To"] = ", ".join(self.settings.to)
        message["Message-ID"] = make_msgid(domain="nk-monitor")
        message.set_content(alert.body())
        return message

    def send(self, alert: Alert) -> None:
        s = self.settings
        password = self._password()
        try:
            with smtplib.SMTP(s.host, s.port, timeout=self.timeout) as client:
                if s.starttls:
                    client.starttls(context=ssl.create_default_context())
                if s.username and password is not None:
                    client.login(s.username, password)
                client.send_message(self.message(alert))
        except (smtplib.SMTPException, OSError) as exc:
            reason = one_line(str(exc)) or type(exc).__name__
            raise AlertError(f"smtp: {s.host}:{s.port}: {reason}") from exc

    def _password(self) -> str | None:
        name = self.settings.password_env
        if not self.settings.username or not name:
            return None
        if name not in self.env:
            raise AlertError(f"smtp: environment variable {name} is not set (password_env)")
        return self.env[name]


def channels(alerts: Alerts, env: Mapping[str, str] | None = None) -> list[Channel]:
    """The configured channels, command first."""
    found: list[Channel] = []
    if alerts.command is not None:
        found.append(CommandChannel(alerts.command, alerts.timeout))
    if alerts.smtp is not None:
        environ = os.environ if env is None else env
        found.append(SmtpChannel(alerts.smtp, alerts.timeout, environ))
    return found


@dataclass
class Delivered:
    """What one delivery run did, per channel name: sent, to be retried, given up."""

    sent: dict[str, int] = field(default_factory=dict)
    retrying: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)

    def count(self, status: str, channel: str) -> None:
        counts = {"sent": self.sent, "pending": self.retrying, "failed": self.failed}[status]
        counts[channel] = counts.get(channel, 0) + 1

    def __str__(self) -> str:
        def total(counts: dict[str, int]) -> int:
            return sum(counts.values())

        return (
            f"alerts: {total(self.sent)} sent, {total(self.retrying)} to retry,"
            f" {total(self.failed)} given up"
        )


def retry_delay(alerts: Alerts, attempts: int) -> timedelta:
    """Backoff after the `attempts`-th failure: retry, then twice that, four times, ..."""
    return timedelta(seconds=alerts.retry * 2 ** max(attempts - 1, 0))


async def deliver_due(
    db: sqlite_utils.Database,
    alerts: Alerts,
    on_db: OnDb,
    now: Callable[[], datetime],
    senders: Sequence[Channel] | None = None,
) -> Delivered:
    """Send every alert now due on every channel. Database work runs through `on_db` (the
    daemon's one database thread), sending on worker threads; one channel failing never stops
    another, and nothing here raises for a failed delivery."""
    senders = channels(alerts) if senders is None else senders
    done = Delivered()
    started = now()
    await on_db(storage.enable_alert_channels, db, [c.name for c in senders], iso(started))
    for channel in senders:
        due = await on_db(
            storage.due_alerts,
            db,
            channel.name,
            alerts.min_score,
            iso(started),
            iso(started - RECENT),
        )
        for row in due:
            status = await _deliver_one(db, alerts, on_db, now, channel, row)
            done.count(status, channel.name)
    return done


async def _deliver_one(
    db: sqlite_utils.Database,
    alerts: Alerts,
    on_db: OnDb,
    now: Callable[[], datetime],
    channel: Channel,
    row: Mapping[str, Any],
) -> str:
    alert = alert_from_row(row)
    error: str | None = None
    try:
        await asyncio.to_thread(channel.send, alert)
    except AlertError as exc:
        error = str(exc)[:MAX_ERROR]
    except Exception as exc:  # a delivery must never take the poller down
        error = one_line(f"{channel.name}: {type(exc).__name__}: {exc}")[:MAX_ERROR]
    attempts = int(row["attempts"]) + 1
    finished = now()
    retry_at = None
    if error is not None and attempts < alerts.max_attempts:
        retry_at = iso(finished + retry_delay(alerts, attempts))
    record = functools.partial(storage.record_alert, error=error, retry_at=retry_at)
    status: str = await on_db(record, db, alert.article_id, channel.name, iso(finished))
    _log(alert, channel.name, status, error, attempts, retry_at)
    return status


def _log(
    alert: Alert, channel: str, status: str, error: str | None, attempts: int, retry_at: str | None
) -> None:
    what = f"alert {alert.article_id} via {channel}"
    if status == "sent":
        log.info("%s: sent (%s)", what, alert.subject())
    elif status == "pending":
        log.warning("%s: attempt %d failed: %s; retrying at %s", what, attempts, error, retry_at)
    else:
        log.error("%s: gave up after %d attempts: %s", what, attempts, error)


async def inline(function: Callable[..., T], *args: Any) -> T:
    """`on_db` for a caller that owns the database alone (tests, scripts)."""
    return function(*args)


def try_channels(alerts: Alerts) -> list[tuple[str, str | None]]:
    """Send the sample alert through every configured channel: (channel, error or None)."""
    results: list[tuple[str, str | None]] = []
    for channel in channels(alerts):
        try:
            channel.send(SAMPLE)
            results.append((channel.name, None))
        except AlertError as exc:
            results.append((channel.name, str(exc)))
    return results
