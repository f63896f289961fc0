"""The CLI through click's runner (and once as a real subprocess), exit codes and exact output."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import storage
from monitor.cli import cli
from monitor.demo.server import FeedServer
from tests.builders import article, store_poll
from tests.conftest import write_config


@pytest.fixture
def polled(tmp_path: Path, feed_server: FeedServer, model_dir: Path) -> Path:
    """A feeds.yaml whose database holds one polled cycle; returns the config path."""
    feeds = [
        {"name": "Basic", "url": feed_server.url("rss2-basic.xml"), "language": "en"},
        {"name": "Korean", "url": feed_server.url("rss-korean-euckr.xml"), "language": "ko"},
        {"name": "Dead", "url": feed_server.url("missing.xml")},
    ]
    path = tmp_path / "feeds.yaml"
    write_config(path, feeds, model_dir)
    result = invoke(path, "run", "--once")
    assert result.exit_code == 0, result.output
    return path


def invoke(config: Path | None, *args: str, input: str | None = None):
    prefix = ["--config", str(config)] if config else []
    return CliRunner().invoke(cli, [*prefix, *args], input=input, catch_exceptions=False)


def run_main(*args: str, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_run_once_reports_and_exits_zero_despite_failures(polled: Path) -> None:
    db = storage.open_db(polled.parent / "monitor.db")
    assert storage.count_articles(db) == 8


def test_status_table_and_json(polled: Path) -> None:
    result = invoke(polled, "status", "--format", "json")
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert rows["Basic"]["state"] == "ok" and rows["Basic"]["articles"] == 5
    assert rows["Dead"]["state"] == "failing"
    assert rows["Dead"]["last_error"] == "fetch: HTTP 404 Not Found"
    assert rows["Dead"]["failures"] == 1
    table = invoke(polled, "status").output
    assert table.splitlines()[0].split() == [
        "name",
        "state",
        "last_success",
        "failures",
        "next_poll",
        "articles",
        "new_7d",
        "last_error",
    ]
    assert "fetch: HTTP 404 Not Found" in table


def test_flagged_formats(polled: Path) -> None:
    rows = json.loads(invoke(polled, "flagged", "--format", "json").output)
    assert rows, "the repatriation stories must be flagged"
    assert rows == sorted(rows, key=lambda r: -r["score"])
    parsed = list(csv.DictReader(io.StringIO(invoke(polled, "flagged", "--format", "csv").output)))
    assert [int(r["id"]) for r in parsed] == [r["id"] for r in rows]
    table = invoke(polled, "flagged").output
    assert table.splitlines()[0].split() == [
        "id",
        "score",
        "labels",
        "published",
        "source",
        "why",
        "title",
    ]


def test_label_removes_from_queue_and_digest_shows_verdict(polled: Path) -> None:
    rows = json.loads(invoke(polled, "flagged", "--format", "json").output)
    first = rows[0]["id"]
    result = invoke(polled, "label", str(first), "relevant", "--note", "=SUM(A1) check")
    assert result.exit_code == 0
    after = json.loads(invoke(polled, "flagged", "--format", "json").output)
    assert first not in [r["id"] for r in after]
    digest = invoke(polled, "digest", "--week", "2026-W11").stdout_bytes.decode()
    lines = digest.split("\r\n")
    assert lines[0] == (
        "week,first_published,first_outlet,outlets,title,url,labels,score,verdict,why,note"
    )
    records = list(csv.DictReader(io.StringIO(digest)))
    mine = [r for r in records if r["verdict"] == "relevant"]
    assert len(mine) == 1 and mine[0]["note"] == "'=SUM(A1) check"
    assert all(r["week"] == "2026-W11" for r in records)


def test_digest_exact_bytes(tmp_path: Path) -> None:
    db = storage.open_db(tmp_path / "d.db")
    storage.sync_feeds(db, [storage.FeedSpec("Wire, Inc.", "https://w.example/rss", 1800)], "x")
    item = article(
        "k1",
        '탈북민 "13명" =체포',
        url="https://w.example/a?id=1",
        published="2026-11-24T03:00:00Z",
        language="ko",
        content_hash="h",
    )
    scores = {
        "k1": storage.ClassificationIn(
            {"defectors": 0.91, "repatriation": 0.8}, ("defectors", "repatriation"), True
        )
    }
    store_poll(
        db,
        1,
        [item],
        scores,
        started="2026-11-24T04:00:00Z",
        next_poll="2026-11-24T05:00:00Z",
        model="v1",
    )
    storage.add_review(db, 1, "relevant", "2026-11-25T00:00:00Z", note="line one\nline two")
    out = tmp_path / "w48.csv"
    result = CliRunner().invoke(
        cli, ["--db", str(tmp_path / "d.db"), "digest", "--week", "2026-W48", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert (
        out.read_bytes()
        == (
            "week,first_published,first_outlet,outlets,title,url,labels,score,verdict,why,note\r\n"
            '2026-W48,2026-11-24T03:00:00Z,"Wire, Inc.",1,"탈북민 ""13명"" =체포",'
            'https://w.example/a?id=1,defectors;repatriation,0.910,relevant,,"line one\nline two"'
            "\r\n"
        ).encode()
    )


def test_bad_week_and_bad_verdict_are_usage_errors(polled: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", str(polled), "digest", "--week", "48"])
    assert (
        result.exit_code == 2 and 'expected an ISO week like "2026-W48", got "48"' in result.output
    )
    result = CliRunner().invoke(cli, ["--config", str(polled), "label", "1", "maybe"])
    assert result.exit_code == 2


def test_classify_jsonl(polled: Path) -> None:
    lines = [
        {"id": "a", "title": "China forcibly repatriates 60 North Korean defectors", "summary": ""},
        {"id": "b", "title": "Stocks close higher as tech rallies", "summary": "Markets rose."},
    ]
    result = invoke(polled, "classify", input="\n".join(json.dumps(x) for x in lines) + "\n")
    out = [json.loads(line) for line in result.output.splitlines()]
    assert [o["id"] for o in out] == ["a", "b"]
    assert out[0]["flagged"] is True and "repatriation" in out[0]["labels"]
    assert out[1]["flagged"] is False
    assert set(out[0]["scores"]) == {"defectors", "repatriation", "border"}


def test_evaluate_prints_model_and_baseline(polled: Path) -> None:
    labelled = Path(__file__).parent / "data" / "labelled.jsonl"
    result = invoke(polled, "evaluate", str(labelled))
    assert result.exit_code == 0
    assert "keyword baseline" in result.output
    for label in ("defectors", "repatriation", "border", "flag"):
        assert label in result.output


def test_user_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    (tmp_path / "feeds.yaml").write_text(
        "feeds:\n  - name: x\n    url: https://x.example\n    interval: fast\n"
    )
    result = run_main("status", cwd=tmp_path)
    assert result.returncode == 2
    assert (
        result.stderr
        == 'Error: feeds.yaml: feeds[0].interval: expected a duration like "15m", got "fast"\n'
    )
    result = run_main("--config", "nowhere.yaml", "flagged", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr == "Error: nowhere.yaml: no such file (set --config or MONITOR_CONFIG)\n"
    result = run_main("--db", str(tmp_path / "none.db"), "flagged", cwd=tmp_path)
    assert result.returncode == 1
    assert (
        result.stderr
        == f"Error: {tmp_path / 'none.db'}: no database yet (run `monitor run --once` first)\n"
    )
    result = run_main("classify", cwd=tmp_path, stdin="not json\n")
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_environment_variables_choose_config_and_db(
    polled: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MONITOR_CONFIG", str(polled))
    result = CliRunner().invoke(cli, ["status", "--format", "json"])
    assert len(json.loads(result.output)) == 3
    monkeypatch.setenv("MONITOR_DB", str(tmp_path / "other.db"))
    result = CliRunner().invoke(cli, ["status"])
    assert result.exit_code == 1 and "other.db: no database yet" in result.output


def test_every_command_has_help_with_example() -> None:
    for name, command in cli.commands.items():
        assert command.help and "Example" in command.help, name


def test_polled_stories_carry_why_terms_and_review_checks_its_order(polled: Path) -> None:
    rows = json.loads(invoke(polled, "flagged", "--format", "json").output)
    assert rows and all(r["why"] and set(r["why"]) == set(r["labels"].split(",")) for r in rows)
    result = invoke(polled, "review", "--order", "random")
    assert result.exit_code == 2 and "'random' is not one of" in result.output
