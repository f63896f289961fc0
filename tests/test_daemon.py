"""`monitor run` as a real process: polls at start, stops cleanly on SIGTERM and SIGINT."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import storage
from monitor.demo.server import FeedServer
from tests.conftest import write_config


def wait_for(predicate, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def run_daemon_until(
    config_path: Path, log: Path, ready: Callable[[str], bool], sig: int = signal.SIGTERM
) -> str:
    """Start `monitor run` logging to `log`; once `ready(log text)`, send `sig`. The daemon
    must get ready and then exit with status 0; returns its log."""
    with log.open("w") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config_path), "run"],
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    try:
        assert wait_for(lambda: ready(log.read_text())), log.read_text()
        process.send_signal(sig)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    return log.read_text()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_daemon_polls_then_stops_cleanly(
    tmp_path: Path, feed_server: FeedServer, model_dir: Path, sig: signal.Signals
) -> None:
    feeds = [
        {"name": "basic", "url": feed_server.url("rss2-basic.xml"), "interval": "1h"},
        {"name": "dead", "url": feed_server.url("missing.xml")},
    ]
    config = write_config(tmp_path / "feeds.yaml", feeds, model_dir, tick="1m")
    text = run_daemon_until(
        config.path, tmp_path / "daemon.log", lambda log: log.count("feed=") >= 2, sig
    )
    assert "feed='basic' status=200 new=5" in text
    assert "retraining daily at 03:00 local time if there are new verdicts" in text
    digests = config.digest_dir()
    assert f"writing last week's digest to {digests} every mon at 07:00 (UTC)" in text
    # first start: the digest of the week before the last Monday 07:00 is written at once
    assert "(the daemon was not running); wrote digest-" in text
    assert len(list(digests.glob("digest-*.csv"))) == 1
    assert "feed='dead' status=404 new=0" in text and "error='fetch: HTTP 404 Not Found'" in text
    assert text.rstrip().endswith("stopped")
    assert "Traceback" not in text
    db = storage.open_db(config.database_path())
    assert storage.count_articles(db) == 5
    basic = storage.get_feed(db, "basic")
    assert basic.next_poll > basic.last_success  # scheduled about an hour later


def test_second_daemon_refuses_and_once_refuses_while_one_runs(
    tmp_path: Path, feed_server: FeedServer, model_dir: Path
) -> None:
    feeds = [{"name": "basic", "url": feed_server.url("rss2-basic.xml")}]
    config = write_config(tmp_path / "feeds.yaml", feeds, model_dir)
    base = [sys.executable, "-m", "monitor", "--config", str(config.path), "run"]
    log = tmp_path / "first.log"
    with log.open("w") as handle:
        first = subprocess.Popen(base, stdout=handle, stderr=subprocess.STDOUT)
    try:
        assert wait_for(lambda: "feed='basic'" in log.read_text()), log.read_text()
        for extra in ([], ["--once"]):
            second = subprocess.run(base + extra, capture_output=True, text=True, timeout=60)
            assert second.returncode == 1
            assert second.stderr.strip() == (
                f"Error: {config.database_path()}: already being polled by pid {first.pid}"
                " (`monitor run`); stop it first, or let it do the polling"
            )
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=30) == 0
    finally:
        if first.poll() is None:
            first.kill()
    again = subprocess.run(base + ["--once"], capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stderr
