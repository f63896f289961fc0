"""One `monitor run --once` process over the loopback feed farm: cold, warm and changed cycles.

Starts benchmarks/feed_farm.py in its own process (its CPU is not the monitor's, but it shares
the cores), writes a feeds.yaml listing every farm feed into a temporary directory, trains the
model once (untimed), then runs three `monitor --config X run --once` processes:

    cold      empty database, every item new
    warm      every feed answers 304
    changed   after POST /advance: 10% of the feeds have 3-5 new items

For each: wall seconds, feeds/s, items/s, CPU seconds and peak RSS of the monitor process tree,
and the database's item count against the farm's count of distinct items served. Then the
floor: feedparser.parse over the cold cycle's bodies in a pool of two processes, with its default
options (the target's floor) and as the monitor calls it (no HTML sanitising or relative-link
rewriting, since the monitor keeps only text), for comparison.

    python benchmarks/cycle.py [--feeds 1000] [--hosts 25] [--latency 0.05] [--concurrency N]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import platform
import re
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from procstats import (
    RssSampler,
    become_subreaper,
    machine_busy_s,
    own_cpu_s,
    process_cpu_s,
    reap_orphans,
    wait_for_quiet,
)

FARM = Path(__file__).with_name("feed_farm.py")
RUN_TIMEOUT_S = 15 * 60
# Settings another change adds to monitor/config.py; written only when Settings has them.
OPTIONAL_SETTINGS = {
    "per_host": "int",
    "host_spacing": "duration",
    "parse_workers": "int",
    "parse_cpu_budget": "duration",
}
SUMMARY = re.compile(r"polled \d+ feeds in [\d.]+ s: .*")
TARGET_RATIO, TARGET_WARM_S, TARGET_RSS_MB = 1.3, 3.0, 400


@dataclass
class Cycle:
    name: str
    wall_s: float
    cpu_s: float
    rss_tree_mb: float  # largest sum of VmRSS over the monitor and its children, sampled
    rss_max_mb: float  # largest single process (ru_maxrss from wait4)
    exit_code: int
    summary: str
    new_items: int = 0
    db_items: int = 0
    served_items: int = 0
    farm: dict[str, int] = field(default_factory=dict)
    farm_cpu_s: float = 0.0
    other_cpu_s: float = 0.0  # used meanwhile by processes that are neither monitor nor farm
    waited_s: float = 0.0  # for the machine to go quiet first
    orphans: int = 0  # descendants that outlived the monitor, reaped (and counted) by us
    orphan_cpu_s: float = 0.0  # their share of cpu_s


# -- the machine --------------------------------------------------------------------------


def machine() -> str:
    model = "unknown CPU"
    with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    python = f"{platform.python_implementation()} {platform.python_version()}"
    memory_gb = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30
    return (
        f"machine: {os.cpu_count()} cores (nproc {len(os.sched_getaffinity(0))}), {model},"
        f" {memory_gb:.0f} GiB RAM, {python}, {platform.system()} {platform.release()}"
    )


# -- the farm -----------------------------------------------------------------------------


class Farm:
    """benchmarks/feed_farm.py in a subprocess, and its control endpoint."""

    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        command = [
            sys.executable,
            str(FARM),
            *("--feeds", str(args.feeds), "--hosts", str(args.hosts)),
            *("--latency", str(args.latency), "--seed", str(args.seed), "--port", "0"),
            *("--text", args.text),
            *("--urls-file", str(work / "urls.txt")),
        ]
        self.log = open(work / "farm.log", "w", encoding="utf-8")  # noqa: SIM115 - closed in stop
        self.proc = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=self.log, text=True, preexec_fn=_observer
        )
        assert self.proc.stdout is not None
        urls_path = self.proc.stdout.readline().strip()
        control = self.proc.stdout.readline()
        if not urls_path or "127.0.0.1:" not in control:
            self.stop()
            sys.exit(f"feed farm did not start; see {work / 'farm.log'}")
        self.port = int(re.search(r"127\.0\.0\.1:(\d+)", control).group(1))  # type: ignore[union-attr]
        self.urls = Path(urls_path).read_text(encoding="utf-8").split()

    def request(self, method: str, path: str) -> Any:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path)
            response = conn.getresponse()
            body = response.read()
        finally:
            conn.close()
        if response.status != 200:
            raise RuntimeError(f"farm {method} {path}: HTTP {response.status}: {body[:200]!r}")
        return json.loads(body)

    def stats(self) -> dict[str, int]:
        return dict(self.request("GET", "/stats"))

    def advance(self, share: float) -> dict[str, int]:
        return dict(self.request("POST", f"/advance?share={share}"))

    def cpu_s(self) -> float:
        return process_cpu_s(self.proc.pid)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def _observer() -> None:
    """Run the farm ahead of the monitor when the machine allows it (root may lower niceness):
    on two busy cores a farm waiting for a CPU reads requests late and records two arrivals
    closer together than they were sent, which would misreport the host spacing."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, -10)
    except OSError:
        pass


def optional_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The newer settings that monitor/config.py knows today: given on the command line, or
    its defaults written out; the ones it does not know are left out (with a note if given)."""
    from monitor.config import Settings

    known, out = Settings.model_fields, {}
    for name, kind in OPTIONAL_SETTINGS.items():
        given = getattr(args, name)
        if name not in known:
            if given is not None:
                print(f"note: settings.{name} is not in monitor/config.py yet; ignored")
            continue
        value = given if given is not None else known[name].get_default(call_default_factory=True)
        if value is None:
            continue
        if kind == "duration" and isinstance(value, int | float):
            value = f"{value:g}s" if value > 0 else value
        out[name] = value
    return out


def write_config(args: argparse.Namespace, work: Path, urls: list[str]) -> Path:
    settings: dict[str, Any] = {"database": "monitor.db", "model_dir": "models", "timeout": "20s"}
    if args.concurrency is not None:
        settings["concurrency"] = args.concurrency
    settings.update(optional_settings(args))
    feeds = [{"name": f"feed-{i}", "url": url, "language": "en"} for i, url in enumerate(urls)]
    path = work / "feeds.yaml"
    path.write_text(yaml.safe_dump({"settings": settings, "feeds": feeds}), encoding="utf-8")
    from monitor.config import load_config

    load_config(path)  # fail here, clearly, rather than in the first timed run
    return path


def settings_line(config: Path) -> str:
    from monitor.config import load_config

    settings = load_config(config).settings.model_dump()
    shown = ["concurrency", "timeout", *OPTIONAL_SETTINGS]
    return "settings: " + ", ".join(f"{k}={settings[k]}" for k in shown if k in settings)


# -- running monitor ----------------------------------------------------------------------


def monitor_command(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "monitor", "--config", str(config), *args]


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("MONITOR_CONFIG", "MONITOR_DB")}


def train(config: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        monitor_command(config, "train"), capture_output=True, text=True, env=clean_env()
    )
    if done.returncode != 0:
        sys.exit(f"monitor train failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return time.perf_counter() - started


def run_cycle(name: str, config: Path, work: Path, timeout_s: float, keep: set[int]) -> Cycle:
    """One `monitor run --once` process: wall time, CPU and peak RSS of its process tree.
    `keep`: our other children (the farm), which are not the monitor's orphans."""
    with open(work / f"{name}.log", "w", encoding="utf-8") as log:
        started = time.perf_counter()
        proc = subprocess.Popen(
            monitor_command(config, "run", "--once"),
            stdout=log,
            stderr=log,
            env=clean_env(),
            cwd=work,
        )
        sampler = RssSampler(proc.pid)
        sampler.start()
        killer = threading.Timer(timeout_s, proc.kill)
        killer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        killer.cancel()
        sampler.done.set()
        sampler.join()
    orphan_cpu, orphan_rss, orphans = reap_orphans(keep)
    proc.returncode = os.waitstatus_to_exitcode(status)
    text = (work / f"{name}.log").read_text(encoding="utf-8", errors="replace")
    summary = SUMMARY.findall(text)
    return Cycle(
        name=name,
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime + orphan_cpu,
        rss_tree_mb=sampler.peak_kb / 1024,
        rss_max_mb=max(usage.ru_maxrss / 1024, orphan_rss),
        orphans=orphans,
        orphan_cpu_s=orphan_cpu,
        exit_code=proc.returncode,
        summary=summary[-1] if summary else "(no summary line; see the log)",
    )


def db_items(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return int(conn.execute("select count(*) from articles").fetchone()[0])


def measured_cycle(name: str, farm: Farm, config: Path, work: Path, args: Any) -> Cycle:
    reap_orphans({farm.proc.pid})  # left over from training, say: not this cycle's
    waited = wait_for_quiet(args.quiet_wait)
    before_items, before = db_items(work / "monitor.db"), farm.request("POST", "/reset-politeness")
    before_cpu = (farm.cpu_s(), machine_busy_s(), own_cpu_s())
    cycle = run_cycle(name, config, work, args.timeout, {farm.proc.pid})
    after = farm.stats()
    cycle.farm_cpu_s = farm.cpu_s() - before_cpu[0]
    busy = machine_busy_s() - before_cpu[1]
    cycle.other_cpu_s = max(
        0.0, busy - cycle.cpu_s - cycle.farm_cpu_s - own_cpu_s() + before_cpu[2]
    )
    cycle.waited_s = max(0.0, waited)
    counted = ("requests", "ok", "not_modified", "bytes_sent")
    cycle.farm = {k: after[k] - before[k] for k in counted}
    cycle.farm["max_in_flight_per_host"] = after["max_in_flight_per_host"]
    cycle.farm["min_start_gap_ms"] = after["min_start_gap_ms"]
    cycle.db_items = db_items(work / "monitor.db")
    cycle.new_items = cycle.db_items - before_items
    cycle.served_items = after["served_items"]
    return cycle


PROFILE = """
import cProfile, sys, time
out, sys.argv[0] = sys.argv.pop(1), "monitor"
profile = cProfile.Profile(time.thread_time)  # CPU of the main thread: blind to other load
profile.enable()
try:
    from monitor.cli import main
    main()
finally:
    profile.disable()
    profile.dump_stats(out)
"""


def profile_cold(config: Path, work: Path, timeout_s: float) -> Path:
    """An extra, untimed cold run into a fresh database under cProfile (main thread only)."""
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["settings"]["database"] = "profile.db"
    profiled = work / "profile.yaml"
    profiled.write_text(yaml.safe_dump(data), encoding="utf-8")
    out = work / "cold.prof"
    command = [sys.executable, "-c", PROFILE, str(out), "--config", str(profiled), "run", "--once"]
    with open(work / "profile.log", "w", encoding="utf-8") as log:
        subprocess.run(command, stdout=log, stderr=log, env=clean_env(), timeout=timeout_s)
    return out


def show_profile(path: Path, top: int = 30) -> None:
    import pstats

    print(
        f"profile of an extra cold run, {path}: CPU seconds of the main thread only (parse"
        " workers unseen), inflated for functions that make many small calls"
    )
    stats = pstats.Stats(str(path), stream=sys.stdout)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top // 2)


# -- the floor ----------------------------------------------------------------------------


def _fetch_host(port: int, host: str, paths: list[str]) -> list[bytes]:
    conn = http.client.HTTPConnection(host, port, timeout=60)
    bodies = []
    try:
        for path in paths:
            conn.request("GET", path)  # no Accept-Encoding: plain bodies
            response = conn.getresponse()
            body = response.read()
            if response.status != 200:
                raise RuntimeError(f"GET http://{host}:{port}{path}: HTTP {response.status}")
            bodies.append(body)
    finally:
        conn.close()
    return bodies


def fetch_bodies(urls: list[str]) -> list[bytes]:
    """Every feed's current body, uncompressed, one connection per host."""
    by_host: dict[tuple[str, int], list[str]] = {}
    for url in urls:
        parts = urlsplit(url)
        by_host.setdefault((parts.hostname or "", parts.port or 80), []).append(parts.path)
    with ThreadPoolExecutor(max_workers=len(by_host)) as pool:
        jobs = [
            pool.submit(_fetch_host, port, host, paths) for (host, port), paths in by_host.items()
        ]
        return [body for job in jobs for body in job.result()]


def _import_feedparser() -> None:
    import feedparser  # noqa: F401 - imported once per worker, before timing


def _parse(body: bytes) -> int:
    import io

    import feedparser

    return len(feedparser.parse(io.BytesIO(body)).entries)


def _parse_text_only(body: bytes) -> int:
    import io

    import feedparser

    options = {"sanitize_html": False, "resolve_relative_uris": False}  # as monitor/parser.py
    return len(feedparser.parse(io.BytesIO(body), **options).entries)


@dataclass
class Floor:
    wall_s: float
    cpu_s: float  # of the two workers, warm-up included
    entries: int
    other_cpu_s: float


def parse_floor(
    bodies: list[bytes], workers: int = 2, parse: Callable[[bytes], int] = _parse
) -> tuple[float, int]:
    """Wall seconds for feedparser.parse over every body in a pool of `workers` processes."""
    with multiprocessing.get_context("fork").Pool(workers, _import_feedparser) as pool:
        pool.map(parse, bodies[:workers], chunksize=1)  # warm up both workers
        started = time.perf_counter()
        entries = pool.map(parse, bodies, chunksize=4)
        wall = time.perf_counter() - started
    return wall, sum(entries)


def measured_floor(
    bodies: list[bytes], quiet_wait: float, parse: Callable[[bytes], int] = _parse
) -> Floor:
    wait_for_quiet(quiet_wait)
    before = (children_cpu_s(), machine_busy_s(), own_cpu_s())
    wall, entries = parse_floor(bodies, parse=parse)
    cpu = children_cpu_s() - before[0]
    other = machine_busy_s() - before[1] - cpu - (own_cpu_s() - before[2])
    return Floor(wall, cpu, entries, max(0.0, other))


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# -- output -------------------------------------------------------------------------------


def show_cycle(c: Cycle, feeds: int) -> None:
    ok = "OK" if c.db_items == c.served_items else "MISMATCH"
    print(
        f"{c.name:8} wall {c.wall_s:6.2f} s  {feeds / c.wall_s:7.1f} feeds/s"
        f"  {c.new_items / c.wall_s:7.1f} items/s  CPU {c.cpu_s:6.2f} s"
        f"  peak RSS {c.rss_tree_mb:.0f} MB (tree), {c.rss_max_mb:.0f} MB (largest process)"
    )
    f = c.farm
    print(
        f"         farm: {f['requests']} requests, {f['ok']} x 200, {f['not_modified']} x 304,"
        f" {f['bytes_sent'] / 1e6:.1f} MB sent,"
        f" at most {f['max_in_flight_per_host']} in flight at one host, shortest gap between"
        f" arrivals at one host {f['min_start_gap_ms']} ms, farm CPU {c.farm_cpu_s:.2f} s"
    )
    exit_note = "" if c.exit_code == 0 else f"  EXIT CODE {c.exit_code}"
    orphans = (
        f"; {c.orphans} of its processes outlived it ({c.orphan_cpu_s:.2f} CPU-s, counted above)"
        if c.orphans
        else ""
    )
    print(f"         monitor: {c.summary}{exit_note}{orphans}")
    print(
        f"         other processes used {c.other_cpu_s:.2f} CPU-s meanwhile"
        f" (waited {c.waited_s:.0f} s for a quiet machine first)"
    )
    print(
        f"         new items {c.new_items}; database {c.db_items}, farm served {c.served_items}:"
        f" {ok}"
    )


def show_targets(cycles: dict[str, Cycle], floor_s: float) -> None:
    cold, warm = cycles["cold"], cycles["warm"]
    peak = max(c.rss_tree_mb for c in cycles.values())
    counts_ok = all(c.db_items == c.served_items for c in cycles.values())
    checks = [
        (f"cold / floor = {cold.wall_s / floor_s:.2f} (target <= {TARGET_RATIO})",
         cold.wall_s / floor_s <= TARGET_RATIO),
        (f"warm cycle {warm.wall_s:.2f} s (target < {TARGET_WARM_S:g} s)",
         warm.wall_s < TARGET_WARM_S),
        (f"peak RSS {peak:.0f} MB (target < {TARGET_RSS_MB} MB)", peak < TARGET_RSS_MB),
        ("items in database == items served, every cycle", counts_ok),
    ]  # fmt: skip
    for text, passed in checks:
        print(f"  {'PASS' if passed else 'FAIL'}  {text}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=25, help="loopback hosts (default 25)")
    parser.add_argument("--latency", type=float, default=0.05, help="farm latency, seconds")
    parser.add_argument("--concurrency", type=int, help="settings.concurrency (default: config's)")
    parser.add_argument("--share", type=float, default=0.1, help="feeds changed before 'changed'")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--text", choices=("varied", "stock"), default="varied", help="farm text: farm_news.py"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--profile", action="store_true", help="then profile a cold run")
    parser.add_argument("--timeout", type=float, default=RUN_TIMEOUT_S, help="per monitor run")
    parser.add_argument(
        "--quiet-wait", type=float, default=120, help="most seconds to wait for a quiet machine"
    )
    for name, kind in OPTIONAL_SETTINGS.items():
        parser.add_argument(
            "--" + name.replace("_", "-"),
            dest=name,
            type=int if kind == "int" else str,
            help=f"settings.{name}, if monitor/config.py has it (default: its default)",
        )
    return parser.parse_args(argv)


def run_cycles(
    args: argparse.Namespace, farm: Farm, config: Path, work: Path
) -> tuple[dict[str, Cycle], list[bytes]]:
    """cold, warm, changed; and the cold cycle's bodies, fetched before the farm advances."""
    cycles = {}
    for name in ("cold", "warm"):
        cycles[name] = measured_cycle(name, farm, config, work, args)
        show_cycle(cycles[name], args.feeds)
    bodies = fetch_bodies(farm.urls)
    change = farm.advance(args.share)
    print(f"advance: {change['changed_feeds']} feeds, {change['new_items']} new items")
    cycles["changed"] = measured_cycle("changed", farm, config, work, args)
    show_cycle(cycles["changed"], args.feeds)
    return cycles, bodies


def benchmark(args: argparse.Namespace, work: Path) -> None:
    print(machine())
    if not become_subreaper():
        print("note: cannot adopt orphans; CPU of processes that outlive monitor is not counted")
    farm = Farm(args, work)
    try:
        last = f"127.0.0.{1 + args.hosts}"
        print(
            f"farm: {args.feeds} feeds, hosts 127.0.0.2-{last}, latency {args.latency:g} s,"
            f" {args.text} text"
        )
        config = write_config(args, work, farm.urls)
        print(settings_line(config))
        print(f"model trained once, untimed ({train(config):.1f} s)")
        cycles, bodies = run_cycles(args, farm, config, work)
        profile = profile_cold(config, work, args.timeout) if args.profile else None
    finally:
        farm.stop()
    floor = measured_floor(bodies, args.quiet_wait)
    print(
        f"floor    feedparser.parse of {len(bodies)} bodies ({sum(map(len, bodies)) / 1e6:.1f} MB,"
        f" {floor.entries} entries) in 2 processes: wall {floor.wall_s:.2f} s,"
        f" CPU {floor.cpu_s:.2f} s; other processes used {floor.other_cpu_s:.2f} CPU-s meanwhile"
    )
    print(f"cold / floor = {cycles['cold'].wall_s / floor.wall_s:.2f}")
    text_only = measured_floor(bodies, args.quiet_wait, _parse_text_only)
    print(
        f"         the same bodies as the monitor parses them (no sanitising, no relative-link"
        f" rewriting): wall {text_only.wall_s:.2f} s, CPU {text_only.cpu_s:.2f} s;"
        f" cold / that = {cycles['cold'].wall_s / text_only.wall_s:.2f}"
    )
    show_targets(cycles, floor.wall_s)
    if profile:
        show_profile(profile)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="nk-cycle-"))
    try:
        benchmark(args, work)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
