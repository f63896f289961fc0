from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from monitor.config import ConfigError, load_config, parse_duration, parse_size

DATA = Path(__file__).parent / "data" / "config"
ROOT = Path(__file__).parent.parent


def test_shipped_feeds_yaml_is_valid_and_broad() -> None:
    config = load_config(ROOT / "feeds.yaml")
    feeds = config.feeds
    assert len(feeds) >= 25
    languages = {f.language for f in feeds}
    assert "en" in languages
    assert len(languages & {"ko", "zh", "ja"}) >= 2
    assert len({f.name for f in feeds}) == len(feeds)
    assert all(f.url.startswith(("http://", "https://")) for f in feeds)
    tags = {t for f in feeds for t in f.tags}
    assert {"nk-specialist", "human-rights", "un"} <= tags


def test_every_problem_reported_at_once_with_location() -> None:
    with pytest.raises(ConfigError) as info:
        load_config(DATA / "invalid.yaml")
    label = str(DATA / "invalid.yaml")
    assert info.value.problems == [
        f'{label}: settings.interval: expected a duration like "15m", got "fast"',
        f'{label}: settings.max_body_size: expected a size like "10MB", got "huge"',
        f"{label}: settings.colour: unknown key",
        f'{label}: feeds[2].url: expected an http:// or https:// URL, got "ftp://news.example/rss"',
        f'{label}: feeds[3].interval: expected a duration like "15m", got "fast"',
        f"{label}: feeds[4].name: required",
        f'{label}: feeds[4].language: expected a language code like "en" or "ko", got "Korean"',
        f"{label}: feeds[4].enabled: Input should be a valid boolean, unable to interpret input",
        f'{label}: feeds[1].name: "Good feed" is already used by feeds[0]',
    ]
    assert info.value.exit_code == 2


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text("settings:\n  interval: [15m\nfeeds: []\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.problems[0].startswith(
        f"{path}: line 3, column 6: invalid YAML: expected ',' or ']'"
    )


def test_missing_file_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.yaml")
    assert info.value.problems == [
        f"{tmp_path / 'nope.yaml'}: no such file (set --config or MONITOR_CONFIG)"
    ]


def test_paths_resolve_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "feeds.yaml"
    path.write_text("settings:\n  database: data/x.db\nfeeds: []\n", encoding="utf-8")
    config = load_config(path)
    assert config.database_path() == tmp_path / "sub" / "data" / "x.db"
    assert config.model_dir() == tmp_path / "sub" / "models"


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("15m", 900), ("2h", 7200), ("1d", 86400), (300, 300)]
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["fast", "15", "-5m", "0m", "", None, True])
def test_bad_durations(text: object) -> None:
    with pytest.raises(ValueError, match="expected a duration"):
        parse_duration(text)


def test_sizes() -> None:
    assert parse_size("10MB") == 10_000_000
    assert parse_size("512KiB") == 512 * 1024
    assert parse_size(2048) == 2048
    with pytest.raises(ValueError):
        parse_size("lots")


def test_interval_floor(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text("feeds:\n  - {name: a, url: 'https://a.example/', interval: 10s}\n")
    with pytest.raises(ConfigError, match=r"feeds\[0\].interval: must be at least 1m"):
        load_config(path)


def test_unknown_encoding(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text("feeds:\n  - {name: a, url: 'https://a.example/', encoding: klingon}\n")
    with pytest.raises(ConfigError, match=r'feeds\[0\].encoding: unknown encoding "klingon"'):
        load_config(path)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('retrain: "03:00"', time(3, 0)),
        ("retrain: 03:00", time(3, 0)),  # YAML 1.1 reads a leading zero as text
        ('retrain: "23:59"', time(23, 59)),
        ("retrain: off", None),  # YAML reads a bare off as false
        ('retrain: "off"', None),
        ("retrain: null", None),
        ("target_recall: 0.9", time(3, 0)),  # the default: nightly at 03:00
    ],
)
def test_retrain_time(tmp_path: Path, line: str, expected: time | None) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(f"settings:\n  {line}\n")
    assert load_config(path).settings.retrain == expected


def test_bad_retrain_and_target_recall_reported_together(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text("settings:\n  retrain: 3:00\n  target_recall: 1.5\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.problems == [
        f'{path}: settings.retrain: expected a time of day like "03:00", or off; got 180'
        " (YAML reads an unquoted 3:00 as a number: quote it)",
        f"{path}: settings.target_recall: expected a number from 0.5 to 0.999, got 1.5",
    ]
    for line in ('retrain: "25:00"', "retrain: nightly", "retrain: true"):
        path.write_text(f"settings:\n  {line}\n")
        with pytest.raises(
            ConfigError, match=r'settings.retrain: expected a time of day like "03:00"'
        ):
            load_config(path)


def test_target_recall(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    assert load_config_text(path, "").settings.target_recall == 0.95
    assert (
        load_config_text(path, "settings:\n  target_recall: 0.99\n").settings.target_recall == 0.99
    )
    for bad in ("0.4", "1", "yes", '"95%"'):
        with pytest.raises(ConfigError, match="settings.target_recall: expected a number from 0.5"):
            load_config_text(path, f"settings:\n  target_recall: {bad}\n")


def load_config_text(path: Path, text: str):
    path.write_text(text)
    return load_config(path)
