"""`monitor demo`: serve the bundled sample feeds on 127.0.0.1 and run one cycle, offline."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

import storage
from monitor.config import Config, parse_config
from monitor.demo.server import FeedServer
from monitor.pipeline import PollOutcome
from monitor.runner import run_once


@dataclass(frozen=True)
class DemoResult:
    outcomes: list[PollOutcome]
    flagged: list[dict[str, object]]
    articles: int
    db_path: Path


def demo_files() -> Path:
    return Path(str(resources.files("monitor.demo") / "feeds"))


def demo_config(port: int, workdir: Path, db_path: Path) -> Config:
    template = (resources.files("monitor.demo") / "feeds.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(template.replace("{port}", str(port)))
    data["settings"]["database"] = str(db_path)
    data["settings"]["model_dir"] = str(workdir / "models")
    return parse_config(data, workdir / "demo-feeds.yaml")


def run_demo(db_path: Path | None = None) -> DemoResult:
    """Poll the sample feeds once into `db_path` (default: a temporary database)."""
    with tempfile.TemporaryDirectory(prefix="nk-monitor-demo-") as tmp:
        workdir = Path(tmp)
        db_path = db_path or workdir / "demo.db"
        with FeedServer(demo_files()) as server:
            config = demo_config(server.port, workdir, db_path.resolve())
            outcomes = run_once(config, db_path)
        db = storage.open_db(db_path)
        try:
            flagged = storage.story_queue(db)
            articles = storage.count_articles(db)
        finally:
            db.close()
    return DemoResult(outcomes, flagged, articles, db_path)
