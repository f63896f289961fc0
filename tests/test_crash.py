"""kill -9 in the middle of polling never leaves validators for items that were not stored."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from monitor.demo.server import FeedServer, Route
from tests.conftest import write_config

FEEDS = 30
ITEMS = 40


def write_feeds(folder: Path) -> None:
    folder.mkdir()
    for f in range(FEEDS):
        items = "".join(
            f"<item><title>Feed {f} story {i} about markets</title>"
            f"<link>https://crash.test/{f}/{i}</link><guid>crash-{f}-{i}</guid>"
            f"<description>&lt;p&gt;Paragraph {i} of feed {f}.&lt;/p&gt;</description></item>"
            for i in range(ITEMS)
        )
        body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>f{f}</title>{items}</channel></rss>'
        (folder / f"f{f}.xml").write_text(body, encoding="utf-8")


def check_invariant(db_path: Path) -> int:
    """Every feed holding an ETag has all the items of the body that ETag names."""
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("pragma integrity_check").fetchone() == ("ok",)
        rows = conn.execute(
            "select f.name, f.etag, (select count(*) from sightings s where s.feed_id = f.id)"
            " from feeds f"
        ).fetchall()
    for name, etag, stored in rows:
        if etag is not None:
            assert stored == ITEMS, f"{name} has an ETag but only {stored} of {ITEMS} items"
    return sum(1 for _name, etag, _stored in rows if etag is not None)


def test_kill_9_loop(tmp_path: Path, model_dir: Path) -> None:
    write_feeds(tmp_path / "farm")
    rng = random.Random(7)
    # Answers after 0.3 s, four at a time: the cycle's writes spread over a few seconds, so
    # most kills land between or during them (a cycle of instant answers often ends first).
    routes = {
        f"/{path.name}": Route(
            200,
            path.read_bytes(),
            {"ETag": f'"{path.stem}"', "Content-Type": "application/rss+xml"},
            delay=0.3,
        )
        for path in (tmp_path / "farm").iterdir()
    }
    with FeedServer(tmp_path / "farm", routes) as server:
        feeds = [{"name": f"f{i}", "url": server.url(f"f{i}.xml")} for i in range(FEEDS)]
        config = write_config(tmp_path / "feeds.yaml", feeds, model_dir, concurrency=4)
        command = [sys.executable, "-m", "monitor", "--config", str(config.path), "run", "--once"]
        killed_mid_cycle = 0
        for _ in range(8):
            process = subprocess.Popen(
                command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            time.sleep(rng.uniform(0.8, 2.5))
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                killed_mid_cycle += 1
            process.wait(timeout=60)
            if config.database_path().exists():
                check_invariant(config.database_path())
        final = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert final.returncode == 0, final.stderr
    assert killed_mid_cycle >= 3
    assert check_invariant(config.database_path()) == FEEDS
    with sqlite3.connect(config.database_path()) as conn:
        assert conn.execute("select count(*) from articles").fetchone() == (FEEDS * ITEMS,)
