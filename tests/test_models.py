"""Model versions: `monitor model list` / `use` over real trained models and a real database,
and `monitor evaluate` beside the keyword baseline."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path

import pytest
from click.testing import CliRunner

import storage
from monitor.cli import cli
from monitor.demo.server import FeedServer
from monitor.models import (
    CURRENT,
    INFO_FILE,
    UnknownVersion,
    current_version,
    list_versions,
    read_info,
    use_version,
)
from tests.conftest import write_config

DATA = Path(__file__).parent / "data"
LABELLED = DATA / "labelled.jsonl"

# (title, summary): invented news, the first two and the next two near-duplicates of each other.
STORIES = [
    (
        "Chinese police detain nine North Koreans in Yunnan, activists fear forced return",
        "The group was held near the Laos border and moved to a detention centre, a rights"
        " group said.",
    ),
    (
        "Nine North Koreans held by Chinese police in Yunnan; activists fear they will be sent"
        " back",
        "The group was held near the Laos border and moved to a detention centre, rights groups"
        " said.",
    ),
    (
        "Village chief in Ryanggang fined after residents' phones found to call China",
        "Local officials were punished after investigators found smuggled Chinese handsets in"
        " the village, a source said.",
    ),
    (
        "Ryanggang village chief fined after residents' phones were found to call China",
        "Local officials were punished after inspectors found smuggled Chinese handsets in the"
        " village, sources said.",
    ),
    (
        "Defector-run bakery in Seoul marks tenth year",
        "Fourteen people who fled the North work there.",
    ),
    ("Seoul stocks end flat ahead of rate decision", "The KOSPI closed at 2,910."),
]


def feed_xml(stories: list[tuple[str, str]]) -> str:
    start = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    items = "".join(
        f"<item><title>{escape(title)}</title><description>{escape(summary)}</description>"
        f"<link>https://newsroom.test/{i}</link><guid>https://newsroom.test/{i}</guid>"
        f"<pubDate>{format_datetime(start - timedelta(hours=i))}</pubDate></item>"
        for i, (title, summary) in enumerate(stories)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Newsroom</title><link>https://newsroom.test/</link>{items}</channel></rss>"
    )


@pytest.fixture
def newsroom(tmp_path: Path, model_dir: Path) -> Path:
    """feeds.yaml over one served feed of STORIES, polled once (scored by the seed model)."""
    folder = tmp_path / "served"
    folder.mkdir()
    (folder / "news.xml").write_text(feed_xml(STORIES), encoding="utf-8")
    with FeedServer(folder) as server:
        feeds = [{"name": "Newsroom", "url": server.url("news.xml"), "language": "en"}]
        config = tmp_path / "feeds.yaml"
        write_config(config, feeds, model_dir)
        result = invoke(config, "run", "--once")
        assert result.exit_code == 0, result.output
    return config


def invoke(config: Path, *args: str):
    return CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)


def article_ids(db) -> dict[str, int]:
    return {row["title"]: row["id"] for row in db.query("select id, title from articles")}


def scored_by(db) -> dict[int, str]:
    sql = "select a.id, c.model_version from articles a join classifications c on c.id = a.classification_id"
    return {row["id"]: row["model_version"] for row in db.query(sql)}


def test_model_list_use_round_trip(newsroom: Path, model_dir: Path) -> None:
    seed_version = current_version(model_dir)
    db = storage.open_db(newsroom.parent / "monitor.db")
    assert set(scored_by(db).values()) == {seed_version}

    result = invoke(newsroom, "train")
    assert result.exit_code == 0, result.output
    trained = current_version(model_dir)
    assert trained != seed_version
    assert f"re-scored {len(STORIES)} unreviewed articles with {trained}" in result.output
    assert set(scored_by(db).values()) == {trained}
    scored = list(
        db.query(
            "select c.margin, c.flagged, c.why from articles a"
            " join classifications c on c.id = a.classification_id"
        )
    )
    assert len(scored) == len(STORIES)
    assert all(r["margin"] is not None for r in scored)  # re-scored as the pipeline scores
    assert all(storage.decode_why(r["why"]) for r in scored if r["flagged"])
    stories = sorted(set(storage.stories_of(db, article_ids(db).values()).values()))
    views = storage.story_rows(db, stories)  # and the queue shows the new scores
    assert len(views) == len(stories) and all(v["margin"] is not None for v in views)
    assert all(v["why"] for v in views if v["flagged"])

    listing = invoke(newsroom, "model", "list")
    lines = listing.output.splitlines()
    assert lines[0].split() == [
        "current", "version", "created", "examples", "verdicts", "flag_f1", "recall"
    ]  # fmt: skip
    assert lines[1].startswith("*") and trained in lines[1]
    assert not lines[2].startswith("*") and seed_version in lines[2]
    records = json.loads(invoke(newsroom, "model", "list", "--format", "json").output)
    assert [r["version"] for r in records] == [trained, seed_version]
    assert [r["current"] for r in records] == [True, False]
    assert records[0]["data"]["verdicts"] == 0
    assert records[0]["data"]["seed_examples"] == records[0]["data"]["examples"]
    assert records[0]["cv"]["flag"]["f1"] > 0.8
    assert records[0]["target_recall"] == 0.95

    reviewed = article_ids(db)[STORIES[4][0]]
    assert invoke(newsroom, "label", str(reviewed), "relevant").exit_code == 0

    result = invoke(newsroom, "model", "use", seed_version)
    assert result.exit_code == 0, result.output
    assert f"model: {trained} -> {seed_version}" in result.output
    assert f"re-scored {len(STORIES) - 1} unreviewed articles" in result.output
    assert current_version(model_dir) == seed_version
    versions = scored_by(db)
    assert versions.pop(reviewed) == trained  # the classification it was judged on stays
    assert set(versions.values()) == {seed_version}

    result = invoke(newsroom, "model", "use", trained)
    assert f"model: {seed_version} -> {trained}" in result.output
    assert set(scored_by(db).values()) == {trained}


def test_unknown_version_is_one_line_and_exit_2(newsroom: Path, model_dir: Path) -> None:
    seed_version = current_version(model_dir)
    result = CliRunner().invoke(cli, ["--config", str(newsroom), "model", "use", "../nope"])
    assert result.exit_code == 2
    assert result.output == (
        f"Error: no model version '../nope' in {model_dir}; installed: {seed_version}\n"
    )
    assert current_version(model_dir) == seed_version


def test_use_version_switches_current_atomically(model_dir: Path) -> None:
    seed_version = current_version(model_dir)
    copy = model_dir / "20990101T000000Z-copy00"
    shutil.copytree(model_dir / seed_version, copy)
    switch = use_version(model_dir, copy.name)
    assert switch.previous == seed_version and switch.model.version == seed_version
    assert (model_dir / CURRENT).read_text() == f"{copy.name}\n"
    assert [p.name for p in model_dir.iterdir() if p.name.startswith(".")] == []
    with pytest.raises(UnknownVersion):
        use_version(model_dir, "nope")


def test_versions_without_info_json_are_listed_from_model_json(model_dir: Path) -> None:
    version = current_version(model_dir)
    with_info = read_info(model_dir / version)
    (model_dir / version / INFO_FILE).unlink()
    from_model = read_info(model_dir / version)
    assert from_model["cv"] == with_info["cv"]
    assert from_model["data"]["examples"] == with_info["data"]["examples"]
    (record,) = list_versions(model_dir)
    assert record.current and record.verdicts is None


def test_model_list_without_models(tmp_path: Path) -> None:
    config = tmp_path / "feeds.yaml"
    write_config(config, [], tmp_path / "no-models")
    result = invoke(config, "model", "list")
    assert result.output == "No model installed yet: run `monitor train`.\n"
    assert json.loads(invoke(config, "model", "list", "--format", "json").output) == []


def test_evaluate_prints_model_beside_baseline(tmp_path: Path, model_dir: Path) -> None:
    config = tmp_path / "feeds.yaml"
    write_config(config, [], model_dir)
    result = invoke(config, "evaluate", str(LABELLED))
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].endswith(f"and keyword baseline on {LABELLED}: 80 items")
    assert "- model -" in lines[1] and "- keywords -" in lines[1]
    assert lines[2].split() == ["support", *(["prec", "recall", "f1", "tp", "fp", "fn", "tn"] * 2)]
    rows = {cells[0]: cells[1:] for cells in (re.split(r"\s{2,}", ln.strip()) for ln in lines[3:])}
    assert list(rows) == [
        "defectors", "repatriation", "border", "flag (any)",
        "lang en", "lang ja", "lang ko", "lang zh", "lang ko+zh+ja",
    ]  # fmt: skip
    for cells in rows.values():
        support, model, baseline = int(cells[0]), cells[1:8], cells[8:]
        for side in (model, baseline):
            tp, fp, fn, tn = map(int, side[3:])
            assert tp + fn == support
    flag = rows["flag (any)"]
    assert sum(map(int, flag[4:8])) == 80 and sum(map(int, flag[11:])) == 80


def test_evaluate_errors_lists_misclassified_items(tmp_path: Path, model_dir: Path) -> None:
    config = tmp_path / "feeds.yaml"
    write_config(config, [], model_dir)
    items = [json.loads(line) for line in LABELLED.read_text().splitlines()]
    hard = [
        {**items[0], "id": "x-miss", "labels": ["repatriation"]},  # gold disagrees with the text
        {
            **items[0],
            "id": "x-ctl\x1b[2J",
            "title": "Weather\nin Seoul " + "sunny " * 30,
            "summary": "Clear skies all week.",
        },
    ]
    file = tmp_path / "hard.jsonl"
    file.write_text("".join(json.dumps(item) + "\n" for item in hard), encoding="utf-8")
    result = invoke(config, "evaluate", str(file), "--errors")
    assert result.exit_code == 0
    tail = result.output.split("\n\n", 1)[1].splitlines()
    assert tail[0].endswith(" of 2 items misclassified by the model:")
    lines = {line.split("  ")[0]: line for line in tail[1:]}
    miss = lines["x-miss"].split("  ")
    assert miss[1:5] == ["en", "labels", "gold=repatriation", "predicted=defectors"]
    assert miss[5].startswith("scores=defectors:") and "repatriation:" in miss[5]
    assert miss[6].startswith("defectors[") and "repatriation[" in miss[6]
    assert miss[7] == items[0]["title"]
    weather = lines["x-ctl"].split("  ")  # the escape sequence is gone, the title one line
    assert weather[1:5] == ["en", "missed", "gold=defectors", "predicted=-"]
    assert weather[-1].startswith("Weather in Seoul sunny") and weather[-1].endswith("…")
    assert len(weather[-1]) == 80
