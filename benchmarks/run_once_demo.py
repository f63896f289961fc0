"""Wall time of `monitor run --once` on the bundled demo feeds, as a whole process.

Serves monitor/demo/feeds on 127.0.0.1, trains the model once (first-run cost, reported
separately), then runs `python -m monitor run --once` into a fresh database several times
(cold: every article new) and once more on the last database (warm: every feed answers 304).

    python benchmarks/run_once_demo.py [--runs 5]
"""

from __future__ import annotations

import argparse
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from monitor.demo import demo_files
from monitor.demo.server import FeedServer


def run(config: Path, db: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "monitor",
            "--config",
            str(config),
            "--db",
            str(db),
            "run",
            "--once",
        ],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    template = (demo_files().parent / "feeds.yaml").read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp, FeedServer(demo_files()) as server:
        work = Path(tmp)
        data = yaml.safe_load(template.replace("{port}", str(server.port)))
        data["settings"]["model_dir"] = str(work / "models")
        config = work / "feeds.yaml"
        config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        first = run(config, work / "first.db")
        cold = [run(config, work / f"cold{i}.db") for i in range(args.runs)]
        warm = run(config, work / f"cold{args.runs - 1}.db")
    rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    python = f"{platform.python_implementation()} {platform.python_version()}"
    print(f"machine: {platform.machine()}, {python}")
    print(f"feeds: {len(data['feeds'])} demo feeds on 127.0.0.1")
    print(f"first run (trains the model from the seed corpus): {first:.2f} s")
    print(
        f"cold run --once, model trained: median {statistics.median(cold):.2f} s"
        f" (min {min(cold):.2f}, max {max(cold):.2f}, n={len(cold)})"
    )
    print(f"warm run --once (all 304): {warm:.2f} s")
    print(f"peak RSS of a monitor process: {rss_mb:.0f} MB")


if __name__ == "__main__":
    main()
