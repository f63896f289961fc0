from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from classifiers import load_seed, train
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


@pytest.fixture(scope="session")
def seed_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real classifier trained once on the real seed corpus, installed as current."""
    model_dir = tmp_path_factory.mktemp("models")
    model, _report = train(load_seed())
    install(model, model_dir)
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
