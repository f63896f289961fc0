"""The polling engine over loopback: politeness, validators, redirects, pausing, the lock."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import storage
from classifiers import load_model
from monitor.cli import cli
from monitor.demo.server import FeedServer, Route
from monitor.lock import AlreadyRunning, polling_lock
from monitor.models import current_version
from monitor.runner import open_monitor, poll_all, run_once
from tests.conftest import FEEDS, write_config

FEED = (FEEDS / "rss2-basic.xml").read_bytes()


def rss(*guids: str) -> bytes:
    items = "".join(
        f"<item><title>Story {g}</title><link>https://n.test/{g}</link><guid>{g}</guid>"
        "<description>Text</description></item>"
        for g in guids
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()


def config_for(tmp_path: Path, model_dir: Path, feeds: list[dict[str, object]], **settings: object):
    return write_config(tmp_path / "feeds.yaml", feeds, model_dir, **settings)


def feed_row(config, name: str) -> storage.FeedState:
    feed = storage.get_feed(storage.open_db(config.database_path()), name)
    assert feed is not None
    return feed


def test_per_host_limit_and_spacing(tmp_path: Path, model_dir: Path) -> None:
    slow = {f"/slow{i}.xml": Route(200, rss(f"s{i}"), delay=1.2) for i in range(6)}
    with FeedServer(FEEDS, slow) as one, FeedServer(FEEDS, slow, host="127.0.0.2") as two:
        feeds = [{"name": f"a{i}", "url": one.url(f"slow{i}.xml")} for i in range(6)]
        feeds += [{"name": f"b{i}", "url": two.url(f"slow{i}.xml")} for i in range(2)]
        config = config_for(tmp_path, model_dir, feeds, per_host=2, host_spacing="0.5s")
        outcomes = run_once(config, config.database_path())
        assert all(o.ok for o in outcomes)
        assert one.httpd.max_in_flight == 2
        gaps = [b - a for a, b in zip(one.httpd.starts, one.httpd.starts[1:], strict=False)]
        # measured where the server sees them, so allow for a new connection's set-up time
        assert min(gaps) >= 0.4
        # the second host was not held up behind the first one's queue
        assert two.httpd.starts[0] - one.httpd.starts[0] < 0.4


def test_identical_body_is_not_parsed_again(tmp_path: Path, model_dir: Path) -> None:
    routes = {"/no-validators.xml": Route(200, rss("x1", "x2"))}  # no ETag, no Last-Modified
    with FeedServer(FEEDS, routes) as server:
        config = config_for(
            tmp_path, model_dir, [{"name": "n", "url": server.url("no-validators.xml")}]
        )
        [first] = run_once(config, config.database_path())
        [second] = run_once(config, config.database_path())
    assert (first.new, first.unchanged) == (2, False)
    assert (second.status, second.new, second.unchanged) == (200, 0, True)
    assert feed_row(config, "n").body_hash


def test_ignore_validators_switch(tmp_path: Path, model_dir: Path, feed_server: FeedServer) -> None:
    feeds = [
        {"name": "trusting", "url": feed_server.url("rss2-basic.xml")},
        {"name": "sceptic", "url": feed_server.url("atom-basic.atom"), "ignore_validators": True},
    ]
    config = config_for(tmp_path, model_dir, feeds)
    run_once(config, config.database_path())
    outcomes = {o.feed: o for o in run_once(config, config.database_path())}
    assert outcomes["trusting"].status == 304
    assert outcomes["sceptic"].status == 200 and outcomes["sceptic"].unchanged
    sent = {path: headers for path, headers in feed_server.requests[-2:]}
    assert "If-None-Match" in sent["/rss2-basic.xml"]
    assert "If-None-Match" not in sent["/atom-basic.atom"]
    assert feed_row(config, "sceptic").etag  # validators are still stored on every 200


def test_permanent_redirect_moves_the_feed_on_second_sight(
    tmp_path: Path, model_dir: Path, feed_server: FeedServer
) -> None:
    feed_server.httpd.routes["/found.xml"] = Route(302, b"", {"Location": "/rss2-basic.xml"})
    feeds = [
        {"name": "moved", "url": feed_server.url("moved.xml")},
        {"name": "found", "url": feed_server.url("found.xml")},
    ]
    config = config_for(tmp_path, model_dir, feeds)
    run_once(config, config.database_path())
    assert feed_row(config, "moved").url == feed_server.url("moved.xml")
    assert feed_row(config, "moved").redirect_url == feed_server.url("rss2-basic.xml")
    run_once(config, config.database_path())
    assert feed_row(config, "moved").url == feed_server.url("rss2-basic.xml")
    run_once(config, config.database_path())
    assert feed_row(config, "found").url == feed_server.url("found.xml")
    # the move survives a restart: feeds.yaml still names the old URL
    assert feed_row(config, "moved").url == feed_server.url("rss2-basic.xml")


@pytest.mark.parametrize(
    ("route", "polls", "paused"),
    [
        (Route(410, b"gone"), 3, True),
        (Route(404, b"<html>no</html>", {"Content-Type": "text/html"}), 6, True),
        (Route(429, b"", {"Retry-After": "60"}), 8, False),
        (Route(500, b"<html>oops</html>", {"Content-Type": "text/html"}), 12, False),
        (Route(200, b"<html><body>a page</body></html>", {"Content-Type": "text/html"}), 6, True),
    ],
)
def test_failures_pause_only_when_the_feed_is_really_dying(
    tmp_path: Path, model_dir: Path, route: Route, polls: int, paused: bool
) -> None:
    with FeedServer(FEEDS, {"/bad.xml": route}) as server:
        config = config_for(tmp_path, model_dir, [{"name": "bad", "url": server.url("bad.xml")}])
        for _ in range(polls - 1):
            run_once(config, config.database_path())
            assert not feed_row(config, "bad").paused
        [last] = run_once(config, config.database_path())
    feed = feed_row(config, "bad")
    assert feed.paused is paused
    assert feed.consecutive_failures == polls
    if paused:
        assert last.paused and last.paused.startswith("paused after repeated failures")
        assert run_once(config, config.database_path()) == []  # paused feeds are not polled


def test_paused_feed_in_status_and_resumed_from_the_cli(
    tmp_path: Path, model_dir: Path, feed_server: FeedServer
) -> None:
    feed_server.httpd.routes["/gone.xml"] = Route(410, b"gone")
    config = config_for(tmp_path, model_dir, [{"name": "gone", "url": feed_server.url("gone.xml")}])
    for _ in range(3):
        run_once(config, config.database_path())
    runner = CliRunner()
    status = runner.invoke(cli, ["--config", str(config.path), "status", "--format", "json"])
    [row] = json.loads(status.output)
    assert row["state"] == "paused"
    assert row["pause_reason"].endswith("fetch: HTTP 410 Gone")
    result = runner.invoke(cli, ["--config", str(config.path), "feeds", "resume", "gone"])
    assert result.exit_code == 0
    feed = feed_row(config, "gone")
    assert not feed.paused and feed.failure_score == 0 and feed.next_poll is None
    result = runner.invoke(cli, ["--config", str(config.path), "feeds", "resume", "nope"])
    assert result.exit_code == 1 and "no feed named 'nope'" in result.output


def test_backing_off_state_and_new_articles_last_week(
    tmp_path: Path, model_dir: Path, feed_server: FeedServer
) -> None:
    feeds = [
        {"name": "good", "url": feed_server.url("rss2-basic.xml")},
        {"name": "broken", "url": feed_server.url("broken.xml")},
    ]
    config = config_for(tmp_path, model_dir, feeds)
    run_once(config, config.database_path())
    run_once(config, config.database_path())
    status = CliRunner().invoke(cli, ["--config", str(config.path), "status", "--format", "json"])
    rows = {r["name"]: r for r in json.loads(status.output)}
    assert rows["good"]["state"] == "ok" and rows["good"]["new_7d"] == 5
    assert rows["broken"]["state"] == "backing off" and rows["broken"]["failures"] == 2


def test_sliding_window_loses_nothing(tmp_path: Path, model_dir: Path) -> None:
    with FeedServer(FEEDS, {"/window.xml": Route(200, rss("w1", "w2", "w3"))}) as server:
        config = config_for(tmp_path, model_dir, [{"name": "w", "url": server.url("window.xml")}])
        run_once(config, config.database_path())
        server.httpd.routes["/window.xml"] = Route(200, rss("w3", "w4", "w5"))
        run_once(config, config.database_path())
        server.httpd.routes["/window.xml"] = Route(200, rss("w5", "w6"))
        run_once(config, config.database_path())
    assert storage.count_articles(storage.open_db(config.database_path())) == 6


def test_one_poller_per_database(tmp_path: Path, model_dir: Path, feed_server: FeedServer) -> None:
    config = config_for(
        tmp_path, model_dir, [{"name": "f", "url": feed_server.url("rss2-basic.xml")}]
    )
    with polling_lock(config.database_path()):
        with pytest.raises(AlreadyRunning, match=r"already being polled by pid \d+"):
            run_once(config, config.database_path())
        result = CliRunner().invoke(cli, ["--config", str(config.path), "run", "--once"])
        assert result.exit_code == 1
    assert len(run_once(config, config.database_path())) == 1  # released on exit


def test_in_flight_feed_is_never_polled_twice(tmp_path: Path, model_dir: Path) -> None:
    from monitor.runner import open_monitor

    with FeedServer(FEEDS, {"/slow.xml": Route(200, rss("q"), delay=0.3)}) as server:
        config = config_for(tmp_path, model_dir, [{"name": "s", "url": server.url("slow.xml")}])

        async def twice() -> list[int]:
            with open_monitor(config, config.database_path()) as monitor:
                async with monitor.refresher() as refresher:
                    feed = storage.enabled_feeds(monitor.db)[0]
                    outcomes = await refresher.poll_feeds([feed, feed])
                    return [len(outcomes), len(server.requests)]

        assert asyncio.run(twice()) == [1, 1]


def test_encoding_setting_fixes_a_server_that_lies(tmp_path: Path, model_dir: Path) -> None:
    body = (Path(__file__).parent / "data" / "hostile" / "wrong-charset.xml").read_bytes()
    lying = Route(200, body, {"Content-Type": "application/rss+xml; charset=utf-8"})
    titles = {}
    with FeedServer(FEEDS, {"/lying.xml": lying}) as server:
        for name, extra in (("as-served", {}), ("fixed", {"encoding": "euc-kr"})):
            (tmp_path / name).mkdir()
            feed = {"name": name, "url": server.url("lying.xml"), **extra}
            config = write_config(tmp_path / name / "feeds.yaml", [feed], model_dir)
            [outcome] = run_once(config, config.database_path())
            db = storage.open_db(config.database_path())
            titles[name] = (
                outcome.warning,
                [r[0] for r in db.execute("select title from articles")],
            )
    assert "set `encoding:` for this feed" in titles["as-served"][0]
    assert titles["fixed"][0] is None
    assert "탈북민 정착 지원 예산 증액" in titles["fixed"][1]


def test_a_feed_that_burns_cpu_is_stopped_and_the_rest_stored(
    tmp_path: Path, model_dir: Path, feed_server: FeedServer
) -> None:
    """feedparser's e-mail regex is quadratic on a long <author> without "@" (C code: no
    signal handler runs there); the worker's RLIMIT_CPU stops it."""
    burner = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item>'
        b"<title>Slow</title><author>" + b"a" * 150_000 + b"</author></item></channel></rss>"
    )
    feed_server.httpd.routes["/burner.xml"] = Route(200, burner)
    feeds = [
        {"name": "burner", "url": feed_server.url("burner.xml")},
        {"name": "fine", "url": feed_server.url("rss2-basic.xml")},
    ]
    config = config_for(tmp_path, model_dir, feeds, parse_cpu_budget="1s")
    started = time.monotonic()
    outcomes = {o.feed: o for o in run_once(config, config.database_path())}
    assert time.monotonic() - started < 20
    assert outcomes["burner"].error == "parse: exceeded the CPU budget of 1 s"
    assert outcomes["fine"].new == 5


def test_database_in_a_missing_folder_is_one_clear_line(tmp_path: Path, model_dir: Path) -> None:
    config = config_for(tmp_path, model_dir, [{"name": "f", "url": "http://127.0.0.1:9/x"}])
    missing = tmp_path / "nowhere" / "monitor.db"
    result = CliRunner().invoke(
        cli, ["--config", str(config.path), "--db", str(missing), "run", "--once"]
    )
    assert result.exit_code == 1
    assert result.output == (
        f"Error: {missing}.lock: cannot create the polling lock: No such file or directory\n"
    )


def test_parse_workers_score_and_the_daemon_never_loads_the_model(
    tmp_path: Path, model_dir: Path, feed_server
) -> None:
    names = ["rss2-basic.xml", "rss-korean-euckr.xml", "atom-basic.atom"]
    feeds = [{"name": n, "url": feed_server.url(n)} for n in names]
    config = config_for(tmp_path, model_dir, feeds)
    with open_monitor(config, config.database_path()) as monitor:
        outcomes = asyncio.run(poll_all(monitor))
        assert monitor.models.model is None  # scored in the parse workers
    assert all(o.ok for o in outcomes) and sum(o.new for o in outcomes) == 11
    version = current_version(model_dir)
    assert version
    model = load_model(model_dir / version)
    db = storage.open_db(config.database_path())
    rows = list(
        db.query(
            "select a.title, a.summary, c.model_version, c.flagged, c.score_border"
            " from articles a join classifications c on c.id = a.classification_id"
        )
    )
    assert len(rows) == 11 and {r["model_version"] for r in rows} == {version}
    expected = model.predict([(r["title"], r["summary"]) for r in rows])
    assert [bool(r["flagged"]) for r in rows] == [p.flagged for p in expected]
    assert [r["score_border"] for r in rows] == pytest.approx(
        [p.scores["border"] for p in expected], abs=1e-12
    )
    assert any(r["flagged"] for r in rows) and not all(r["flagged"] for r in rows)


def test_failed_and_timed_out_requests_give_their_host_turn_back(
    tmp_path: Path, model_dir: Path
) -> None:
    routes = {
        "/hang.xml": Route(200, rss("h"), delay=30),  # outlives the 1 s deadline
        "/gone.xml": Route(410, b"gone"),
        **{f"/ok{i}.xml": Route(200, rss(f"k{i}")) for i in range(3)},
    }
    with FeedServer(FEEDS, routes) as server:
        names = ["hang", "gone", "ok0", "ok1", "ok2"]
        feeds = [{"name": n, "url": server.url(f"{n}.xml")} for n in names]
        config = config_for(
            tmp_path, model_dir, feeds, per_host=1, host_spacing="0.2s", timeout="1s"
        )
        started = time.monotonic()
        outcomes = {o.feed: o for o in run_once(config, config.database_path())}
        elapsed = time.monotonic() - started
        gaps = [b - a for a, b in zip(server.httpd.starts, server.httpd.starts[1:], strict=False)]
    assert [outcomes[f"ok{i}"].new for i in range(3)] == [1, 1, 1]
    assert "timed out" in (outcomes["hang"].error or "")
    assert "410" in (outcomes["gone"].error or "")
    assert len(gaps) == 4 and min(gaps) >= 0.15
    assert elapsed < 8, "a turn was never handed back, or only after a timeout"
