from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from classifiers import Example, Model, TrainReport, load_seed, train
from monitor.config import Config, load_config
from monitor.demo.server import FeedServer, Route
from monitor.models import install

DATA = Path(__file__).parent / "data"
FEEDS = DATA / "feeds"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No real home, no stray config: every test runs in its own folder."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MONITOR_CONFIG", raising=False)
    monkeypatch.delenv("MONITOR_DB", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))


# Titles and summaries to score in the classifier tests: every label, every language, a
# full-width text, nothing at all, and a negative last.
PROBES = [
    ("North Korean defectors arrive in Seoul after years in hiding in China", ""),
    ("China sends captured escapees back to North Korea", "They face prison camps."),
    ("탈북민 강제북송 중단하라", "국경 경비 강화"),
    ("朝鲜边境走私", "边防部队加强巡逻"),
    ("脱北者を強制送還", ""),
    ("", ""),
    ("ＮＯＲＴＨ　ＫＯＲＥＡ　ｄｅｆｅｃｔｏｒｓ", "\t\n 😀 café 𠀀"),
    ("Markets rally on rate cut hopes", "Stocks rose for a third day."),  # a negative, last
]


@pytest.fixture(scope="session")
def seed() -> list[Example]:
    return load_seed()


@pytest.fixture(scope="session")
def seed_training(seed: list[Example]) -> tuple[Model, TrainReport]:
    """The real classifier trained once on the real seed corpus, with the defaults `monitor
    train` uses (5 folds, seed 0, recall 0.95), and its report. Shared: do not change it."""
    return train(seed)


@pytest.fixture(scope="session")
def seed_model_dir(
    tmp_path_factory: pytest.TempPathFactory, seed_training: tuple[Model, TrainReport]
) -> Path:
    """That model installed as current."""
    model_dir = tmp_path_factory.mktemp("models")
    install(seed_training[0], model_dir)
    return model_dir


@pytest.fixture
def model_dir(seed_model_dir: Path, tmp_path: Path) -> Path:
    """A private copy, so a test that retrains does not change the others' model."""
    target = tmp_path / "models"
    shutil.copytree(seed_model_dir, target)
    return target


HOSTILE_ROUTES = {
    "/missing.xml": Route(
        404, b"<html><body>Not Found</body></html>", {"Content-Type": "text/html"}
    ),
    "/broken.xml": Route(
        500, b"<html><body>Internal error</body></html>", {"Content-Type": "text/html"}
    ),
    "/busy.xml": Route(429, b"slow down", {"Retry-After": "7200"}),
    "/json.xml": Route(200, b'{"items": []}', {"Content-Type": "application/json"}),
    "/moved.xml": Route(301, b"", {"Location": "/rss2-basic.xml"}),
}


@pytest.fixture
def feed_server() -> FeedServer:
    with FeedServer(FEEDS, HOSTILE_ROUTES) as server:
        yield server


def write_config(
    path: Path, feeds: list[dict[str, object]], model_dir: Path, **settings: object
) -> Config:
    data = {
        "settings": {
            "database": "monitor.db",
            "model_dir": str(model_dir),
            "timeout": "5s",
            "connect_timeout": "2s",
            "host_spacing": "0s",  # every test feed is on 127.0.0.1
            **settings,
        },
        "feeds": feeds,
    }
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_config(path)
