"""The review UI (`monitor review`) on a large database: open time, key-press latency, and
reads while the daemon writes.

Builds a database of N articles once (benchmarks/review_corpus.py), with the project's own
storage layer, and caches it by size and seed: about 300 feeds in English, Korean, Chinese and
Japanese; a year of articles with generated titles and ledes; about 4% flagged, with scores,
labels and why-terms; near-duplicate stories carried by several outlets; a few thousand
verdicts; an audit sample.
Then, on a copy of it:

    sql      the queries under the queue and a search, without the UI
    open     ReviewApp(db) headless at 80x24 (Textual's run_test) in a fresh process per run:
             from constructing the app to the first frame that shows queue rows (imports
             timed apart), and until the app is idle
    keys     one app: j, Enter, r (until the verdict is stored), u, and / with a search if the
             app has one; each from the key event to the first frame that shows its outcome
             with the app idle (no worker running, no write waiting)
    writes   another process holds a write transaction open, inserting articles as a poll
             does, while an app opens and the cursor moves

A frame is a screen update composed by Textual; headless apps compose them as a terminal app
does and only skip writing them out.

    python benchmarks/review_speed.py [--articles 200000] [--seed 1] [--runs 5] [--db PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from procstats import machine_busy_s, wait_for_quiet
from review_corpus import (
    CACHE_DIR,
    END,
    MODEL,
    build_db,
    cache_path,
    catch_up_index,
    describe_db,
    iso,
    topics_for,
    write_text,
)

import storage
from storage.search import fts_query

SIZE = (80, 24)
TARGET_OPEN_S = 1.0
SEARCH_WORDS = ("defector", "탈북", "脱北者")
SEARCH_REPEATS = 5
OPEN_MODES: dict[str, dict[str, Any]] = {
    "score": {},
    "date": {"order": "date"},
    "uncertain": {"order": "uncertain"},
    "audit": {"audit": True},
    "score, reviewed too": {"include_reviewed": True},
}


# -- the queries underneath (no UI) ----------------------------------------------------------


def timed(call: Callable[[], Any], runs: int = 3) -> tuple[float, Any]:
    """Median seconds of `runs` calls, and the last result."""
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def sql_figures(path: Path) -> None:
    """The storage calls behind the story queue and a search, as the app makes them today,
    and the bare search SQL. A call that fails (storage mid-change) is reported and skipped."""
    db = storage.open_db(path)
    try:
        try:
            calls = queue_calls(db)
        except Exception as exc:  # noqa: BLE001 - report and go on
            print(f"sql   the queue's calls failed: {type(exc).__name__}: {exc}")
            calls = []
        for word in SEARCH_WORDS:
            if hasattr(storage, "search_stories"):
                call = functools.partial(search_stories, db, word)
                calls.append((f"storage.search_stories({word!r})", call))
            calls.append((search_sql(word)[0], functools.partial(count_matches, db, word)))
        for name, call in calls:
            try:
                seconds, result = timed(call)
            except Exception as exc:  # noqa: BLE001 - report and go on
                print(f"sql   {name}: failed: {type(exc).__name__}: {exc}")
                continue
            size = f", {len(result):,} rows" if isinstance(result, list) else f", {result!r}"
            print(f"sql   {name}: {ms(seconds)}{size}")
    finally:
        db.close()


def search_stories(db: Any, word: str) -> list[Any]:
    return list(storage.search_stories(db, word))


def search_sql(word: str) -> tuple[str, str, list[str]]:
    if len(word) >= 3:
        sql = "select count(*) from articles_fts where articles_fts match ?"
        return f"count articles_fts MATCH {word!r} (trigrams)", sql, [fts_query([word])]
    sql = "select count(*) from articles where title like ? or summary like ?"
    name = f"count articles LIKE {word!r} (under 3 characters: a full scan)"
    return name, sql, [f"%{word}%"] * 2


def count_matches(db: Any, word: str) -> int:
    _, sql, params = search_sql(word)
    return int(db.execute(sql, params).fetchone()[0])


def queue_calls(db: Any) -> list[tuple[str, Callable[[], Any]]]:
    """What the app's queue load calls: the story queue (with the app's row limit), the
    outlets of its grouped stories and the counts."""
    from monitor.tui import app as tui

    filters, limit = storage.StoryFilters(), getattr(tui, "QUEUE_ROWS", None)
    rows = storage.story_queue(db, filters, limit=limit)
    grouped = [row["id"] for row in rows if row["outlets"] > 1 or row["articles"] > 1]
    return [
        (
            f"storage.story_queue(limit={limit})",
            lambda: storage.story_queue(db, filters, limit=limit),
        ),
        (
            f"storage.story_outlets, the {len(grouped)} grouped stories",
            lambda: list(storage.story_outlets(db, grouped).values()),
        ),
        ("storage.queue_counts", lambda: storage.queue_counts(db, filters)),
    ]


# -- watching the app ------------------------------------------------------------------------


class Probe:
    """The frames an app draws, and the first frame at which an expected state holds.

    Wraps the app's `_display`, which Textual calls with each composed screen update (headless
    too: it only skips writing to the terminal)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.last_frame = 0.0
        self.hit: float | None = None
        self._expect: Callable[[], bool] | None = None
        original = getattr(app, "_display", None)
        if original is None:
            print("note: this Textual has no App._display; frames are not seen, states polled")
            return

        def display(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if renderable is None:
                return
            self.last_frame = time.perf_counter()
            if self._expect is not None and self.hit is None and self._holds():
                self.hit = self.last_frame

        app._display = display

    def expect(self, condition: Callable[[], bool] | None) -> None:
        self._expect, self.hit = condition, None

    def _holds(self) -> bool:
        try:
            return bool(self._expect and self._expect())
        except Exception:  # the app is mid-change; look again at the next frame
            return False

    async def wait(self, timeout: float) -> float | None:
        """When the expected state was first drawn; or, if it holds with no frame left to
        draw, when it was first seen to hold (polled every millisecond)."""
        deadline, seen = time.perf_counter() + timeout, None
        while time.perf_counter() < deadline:
            await asyncio.sleep(0.001)
            if self.hit is not None:
                return self.hit
            if self._holds() and not pending(self.app):
                seen = seen or time.perf_counter()
                if time.perf_counter() - seen > 0.05:
                    return seen
            else:
                seen = None
        return None

    async def settle(self, timeout: float, quiet: float = 0.3) -> float | None:
        """The last frame before the app fell quiet (idle, no frame for `quiet` s)."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            if not busy(self.app) and not pending(self.app) and now - self.last_frame > quiet:
                return self.last_frame
        return None


def pending(app: Any) -> bool:
    """Whether the screen has changes not drawn yet (Textual internals, read defensively)."""
    screen = app.screen
    return bool(
        getattr(screen, "_dirty_widgets", None)
        or getattr(screen, "_layout_required", False)
        or getattr(screen, "_repaint_required", False)
    )


def busy(app: Any, ignore: frozenset[int] = frozenset()) -> bool:
    """A worker running (other than those in `ignore`, by id), or a write waiting."""
    from textual.worker import WorkerState

    running = (WorkerState.PENDING, WorkerState.RUNNING)
    if any(w.state in running and id(w) not in ignore for w in app.workers):
        return True
    return not getattr(app, "is_idle", True)


def main_table(app: Any) -> Any:
    from textual.widgets import DataTable

    tables = [t for t in app.screen.query(DataTable) if t.display]
    return tables[0] if tables else None


def widget_text(app: Any, selector: str) -> str | None:
    try:
        widget = app.screen.query_one(selector)
    except Exception:
        return None
    visual = getattr(widget, "visual", None) or getattr(widget, "renderable", None)
    return str(getattr(visual, "plain", visual))


def snapshot(app: Any) -> dict[str, object]:
    table = main_table(app)
    first = None
    if table is not None and table.row_count:
        try:
            first = table.coordinate_to_cell_key((0, 0)).row_key.value
        except Exception:
            first = None
    focused = app.focused
    return {
        "screen": (len(app.screen_stack), type(app.screen).__name__, sorted(app.screen.classes)),
        "focus": None if focused is None else (type(focused).__name__, focused.id),
        "cursor": None if table is None else tuple(table.cursor_coordinate),
        "rows": None if table is None else table.row_count,
        "first": first,
        "detail": widget_text(app, "#detail-body"),
        "status": widget_text(app, "#status"),
    }


def queue_shown(app: Any) -> bool:
    """Rows in the queue's table, or the empty-queue message on screen."""
    table = main_table(app)
    if table is not None and table.row_count:
        return True
    try:
        empty = app.screen.query_one("#empty")
    except Exception:
        return False
    return bool(empty.display and widget_text(app, "#empty"))


def press(app: Any, key: str) -> None:
    """One key event, as the terminal driver posts it (no pilot pauses around it)."""
    from textual import events

    characters = {"enter": "\r", "escape": "\x1b", "slash": "/", "space": " "}
    event = events.Key(key, characters.get(key, key if len(key) == 1 else None))
    event.set_sender(app)
    app.post_message(event)


async def between_keys(probe: Probe) -> None:
    """Wait for quiet, then a random part of a frame: Textual draws on a 60 Hz timer, so a
    key's latency depends on when in the frame it comes; spread the presses over it."""
    await probe.settle(10, quiet=0.02)
    await asyncio.sleep(random.uniform(0, 1 / 60))


Snapshot = dict[str, object]
Changed = Callable[[Snapshot, Snapshot], bool]


def changed_in(*fields: str) -> Changed:
    """Every one of `fields` that the app has changed (with no fields: anything changed)."""

    def check(before: Snapshot, now: Snapshot) -> bool:
        present = [f for f in fields if before.get(f) is not None]
        return all(now[f] != before[f] for f in present) if present else now != before

    return check


def results_shown(before: Snapshot, now: Snapshot) -> bool:
    """Back on the screen of `before`, with other rows in the table."""
    return now["screen"] == before["screen"] and (now["rows"], now["first"]) != (
        before["rows"],
        before["first"],
    )


async def time_key(
    app: Any,
    probe: Probe,
    key: str,
    changed: Changed | None = None,
    before: Snapshot | None = None,
    timeout: float = 30,
) -> float | None:
    """Seconds from the key event to the first frame showing the change expected (`changed`
    from `before`, by default from now; by default any change) with the app idle."""
    before = before or snapshot(app)
    changed = changed or changed_in()
    earlier = frozenset(id(worker) for worker in app.workers)  # a timed reload, say: not ours

    def done() -> bool:
        return not busy(app, earlier) and changed(before, snapshot(app))

    probe.expect(done)
    started = time.perf_counter()
    press(app, key)
    hit = await probe.wait(timeout)
    probe.expect(None)
    return None if hit is None else hit - started


# -- open: one fresh process per run ---------------------------------------------------------


async def open_once(db: Path, app_args: dict[str, Any], timeout: float = 120) -> dict[str, Any]:
    from monitor.tui.app import ReviewApp

    started = time.perf_counter()
    app = ReviewApp(db, **app_args)
    probe = Probe(app)
    probe.expect(lambda: queue_shown(app))
    async with app.run_test(size=SIZE):
        shown = await probe.wait(timeout)
        probe.expect(None)
        settled = await probe.settle(timeout)
        table = main_table(app)
        if shown is not None and settled is not None:
            settled = max(settled, shown)
        return {
            "shown": shown,
            "first_rows_s": None if shown is None else shown - started,
            "settled_s": None if settled is None else settled - started,
            "rows": None if table is None else table.row_count,
            "status": widget_text(app, "#status"),
        }


def child_open(args: argparse.Namespace) -> None:
    """In the child: import, say so, wait for 'go', open the app, print the figures."""
    started = time.perf_counter()
    import monitor.tui.app  # noqa: F401 - timed: a fresh `monitor review` pays for it

    print(json.dumps({"imported": time.perf_counter(), "import_s": time.perf_counter() - started}))
    sys.stdout.flush()
    sys.stdin.readline()
    result = asyncio.run(open_once(Path(args.db), json.loads(args.app_args)))
    print(json.dumps(result), flush=True)


@dataclass
class Opened:
    spawn_to_imported_s: float
    import_s: float
    first_rows_s: float | None
    settled_s: float | None
    rows: int | None
    shown_at: float | None  # perf_counter (CLOCK_MONOTONIC, the same in every process)
    status: str | None


class OpenChild:
    """A fresh process that opens the app when told to: started, then `go()`."""

    def __init__(self, db: Path, app_args: dict[str, Any]) -> None:
        self.spawned = time.perf_counter()
        command = [sys.executable, __file__, "--child", "open", "--db", str(db)]
        command += ["--app-args", json.dumps(app_args)]
        self.proc = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None and self.proc.stdin is not None
        line = self.proc.stdout.readline()
        if not line:
            sys.exit(f"open child failed to start (exit {self.proc.wait(60)})")
        self.ready = json.loads(line)

    def go(self) -> Opened:
        assert self.proc.stdout is not None and self.proc.stdin is not None
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        self.proc.wait(60)
        if not line:
            sys.exit(f"open child failed (exit {self.proc.returncode})")
        result = json.loads(line)
        return Opened(
            spawn_to_imported_s=self.ready["imported"] - self.spawned,
            import_s=self.ready["import_s"],
            first_rows_s=result["first_rows_s"],
            settled_s=result["settled_s"],
            rows=result["rows"],
            shown_at=result["shown"],
            status=result["status"],
        )


def open_runs(db: Path, runs: int) -> list[Opened]:
    OpenChild(db, {}).go()  # warm-up, untimed: the OS caches the file as a daily user's would
    opened = [OpenChild(db, {}).go() for _ in range(runs)]
    firsts = [o.first_rows_s for o in opened if o.first_rows_s is not None]
    if not firsts:
        sys.exit("the queue never appeared")
    settled = [o.settled_s for o in opened if o.settled_s is not None]
    spawn = statistics.median(o.spawn_to_imported_s for o in opened)
    verdict = "PASS" if statistics.median(firsts) < TARGET_OPEN_S else "FAIL"
    idle = ms(statistics.median(settled)) if settled else "never"
    print(
        f"open  first frame with queue rows: {ms(statistics.median(firsts))}, median of"
        f" {len(firsts)} (min {ms(min(firsts))}, max {ms(max(firsts))}); idle after {idle}"
    )
    print(
        f"      {opened[-1].rows} rows; a fresh process: Python start and imports"
        f" {ms(spawn)} (imports {ms(statistics.median(o.import_s for o in opened))}) before"
        f" that; status line: {opened[-1].status!r}"
    )
    print(f"      {verdict}  opens in under {TARGET_OPEN_S:g} s (construction to first rows)")
    return opened


def open_modes(db: Path) -> None:
    for name, app_args in OPEN_MODES.items():
        if not app_args:
            continue
        opened = OpenChild(db, app_args).go()
        rows = "?" if opened.rows is None else f"{opened.rows:,}"
        print(
            f"      {name:>20}: first rows {ms(opened.first_rows_s)}, idle {ms(opened.settled_s)},"
            f" {rows} rows"
        )


# -- keys: one app ---------------------------------------------------------------------------


async def open_app(db: Path) -> tuple[Any, Any, Probe]:
    from monitor.tui.app import ReviewApp

    app = ReviewApp(db)
    probe = Probe(app)
    context = app.run_test(size=SIZE)
    await context.__aenter__()
    probe.expect(lambda: queue_shown(app))
    if await probe.wait(120) is None:
        sys.exit("the queue never appeared")
    probe.expect(None)
    await probe.settle(30)
    return app, context, probe


async def measure_keys(db: Path, presses: int) -> dict[str, list[float]]:
    app, context, probe = await open_app(db)
    results: dict[str, list[float]] = {}

    async def record(name: str, key: str, changed: Changed | None = None) -> None:
        seconds = await time_key(app, probe, key, changed)
        if seconds is None:
            print(f"note: {name}: no visible change within 30 s")
        else:
            results.setdefault(name, []).append(seconds)
        await between_keys(probe)

    try:
        for _ in range(presses):
            await record("j (next row, detail)", "j", changed_in("cursor", "detail"))
        for _ in range(max(2, presses // 3)):
            await record("Enter (detail opens or closes)", "enter")
        for _ in range(max(2, presses // 3)):
            await record("r (verdict stored)", "r")
            await record("u (verdict undone)", "u")
        await search(app, probe, results)
    finally:
        await context.__aexit__(None, None, None)
    return results


def search_key(app: Any) -> str | None:
    """The key that opens the search, if the app has one: / or a *search* action."""
    try:
        bindings = app.active_bindings
    except Exception:
        return None
    for key, active in bindings.items():
        binding = getattr(active, "binding", active)
        if key in ("slash", "/") or "search" in getattr(binding, "action", ""):
            return key
    return None


async def search(app: Any, probe: Probe, results: dict[str, list[float]]) -> None:
    """/ until the search box shows; each character until the last frame before the app falls
    quiet (a search run as the query is typed counts there); Enter until the first frame back
    on the queue's screen with other rows, and until the screen is still."""
    from textual.widgets import Input

    key = search_key(app)
    if key is None:
        print("note: the app has no search yet (no / binding, no *search* action): skipped")
        return
    for word in SEARCH_WORDS:
        for _ in range(SEARCH_REPEATS):
            queue = snapshot(app)
            opened = await time_key(app, probe, key)
            if opened is not None:
                results.setdefault(f"{key} (search box opens)", []).append(opened)
            for box in app.screen.query(Input):
                box.cursor_blink = False  # a blinking cursor draws frames of its own
                if box.has_focus:
                    box.value = ""
            await probe.settle(5)  # draw those changes before timing the typing
            for char in word:
                typed = await time_settled(app, probe, char)
                if typed is not None:
                    results.setdefault("a character typed in the search box", []).append(typed)
            started = time.perf_counter()
            found = await time_key(app, probe, "enter", results_shown, queue, timeout=10)
            still = await probe.settle(30)
            if found is None or still is None:
                print(f"note: search {word!r}: the rows did not change after Enter")
            else:
                name = f"Enter on search {word!r}: {snapshot(app)['rows']} results drawn"
                results.setdefault(name, []).append(found)
                results.setdefault(f"  and the screen still ({word!r})", []).append(still - started)
            press(app, "escape")
            await probe.settle(10)


async def time_settled(app: Any, probe: Probe, key: str) -> float | None:
    """Seconds from the key event to the last frame before the app falls quiet."""
    started = time.perf_counter()
    press(app, key)
    last = await probe.settle(30)
    return None if last is None or last < started else last - started


# -- reads while the daemon writes -----------------------------------------------------------


def child_writer(args: argparse.Namespace) -> None:
    """In the child: take the write lock, insert articles as polls do for `hold` s, commit."""
    rng = random.Random(os.getpid())
    db = storage.open_db(Path(args.db))
    feed_id = db.execute("select min(id) from feeds").fetchone()[0]
    db.conn.execute("BEGIN IMMEDIATE")
    started, inserted, batch = time.perf_counter(), 0, 0
    while True:
        items, scores = [], {}
        for _ in range(20):
            title, lede = write_text(rng, "en", topics_for(rng, 0.05))
            key = f"https://writer.example/{os.getpid()}/{inserted}"
            items.append(storage.ArticleIn(key, key, key, key, title, lede, iso(END), "en", key))
            scores[key] = storage.ClassificationIn({"defectors": 0.1}, (), False, {}, -0.4)
            inserted += 1
        poll = storage.PollRecord(feed_id, iso(END), 200, iso(END), 100, True)
        storage.save_poll(db, poll, items, scores, MODEL)
        if batch == 0:
            print(json.dumps({"holding": time.perf_counter()}), flush=True)
        batch += 1
        if time.perf_counter() - started >= args.hold:
            break
        time.sleep(0.05)
    db.conn.execute("COMMIT")
    print(json.dumps({"released": time.perf_counter(), "inserted": inserted}), flush=True)
    db.close()


def start_writer(db: Path, hold: float) -> tuple[subprocess.Popen[str], float]:
    command = [sys.executable, __file__, "--child", "writer", "--db", str(db)]
    proc = subprocess.Popen([*command, "--hold", str(hold)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        sys.exit("writer failed to start")
    return proc, json.loads(line)["holding"]


def writer_done(proc: subprocess.Popen[str]) -> dict[str, Any]:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    proc.wait(60)
    return json.loads(line) if line else {"released": float("nan"), "inserted": 0}


def open_while_writing(db: Path, hold: float, baseline: float) -> None:
    child = OpenChild(db, {})
    writer, holding = start_writer(db, hold)
    opened = child.go()
    done = writer_done(writer)
    if opened.shown_at is None or opened.first_rows_s is None:
        print("write open: the queue never appeared while the writer held the lock")
        return
    shown = opened.shown_at - holding
    held = done["released"] - holding
    verdict = "PASS" if shown < held else "FAIL"
    print(
        f"write open while another process holds a write transaction ({done['inserted']}"
        f" articles inserted, committed after {held:.2f} s): first rows {ms(opened.first_rows_s)}"
        f" (without the writer {ms(baseline)}), drawn {shown:.2f} s into the writer's hold"
    )
    print(f"      {verdict}  reads never block on the daemon's writes")


async def keys_while_writing(db: Path, hold: float, presses: int) -> None:
    app, context, probe = await open_app(db)
    try:
        loop = asyncio.get_running_loop()
        writer, holding = await loop.run_in_executor(None, start_writer, db, hold)
        moves = []
        for _ in range(presses):
            seconds = await time_key(app, probe, "j", changed_in("cursor", "detail"))
            if seconds is not None:
                moves.append(seconds)
            await between_keys(probe)
        during = time.perf_counter() - holding
        before = snapshot(app)
        probe.expect(lambda: snapshot(app)["cursor"] != before["cursor"])
        pressed = time.perf_counter()
        press(app, "r")
        drawn = await probe.wait(10)
        probe.expect(None)
        stored = await probe.settle(hold + 15, quiet=0.05)
        status = widget_text(app, "#status")
        done = await loop.run_in_executor(None, writer_done, writer)
        released = done["released"] - holding
        print(
            f"write j while the writer holds the lock: {summary(moves)}; all {len(moves)} presses"
            f" {'within' if during < released else 'NOT all within'} its hold of {released:.2f} s"
        )
        drawn_text = "?" if drawn is None else ms(drawn - pressed)
        stored_text = "never" if stored is None else f"{stored - holding:.2f} s into the hold"
        print(
            f"      r meanwhile: cursor moved on screen after {drawn_text}; the verdict was stored"
            f" {stored_text} (writes wait for the lock, busy_timeout 10 s; the UI does not)"
        )
        print(f"      status line after it: {status!r}")
        await time_key(app, probe, "u")
    finally:
        await context.__aexit__(None, None, None)


# -- output ----------------------------------------------------------------------------------


@contextmanager
def quiet_machine(section: str, limit_s: float) -> Iterator[None]:
    """Wait for other processes to go quiet, then report the CPU they used during `section`
    (other engineers' test runs share the cores)."""
    waited = max(0.0, wait_for_quiet(limit_s))
    times = os.times()
    ours = times.user + times.system + times.children_user + times.children_system
    busy, started = machine_busy_s(), time.perf_counter()
    yield
    times = os.times()
    ours = times.user + times.system + times.children_user + times.children_system - ours
    other = max(0.0, machine_busy_s() - busy - ours)
    wall = time.perf_counter() - started
    print(
        f"      ({section}: other processes used {other:.1f} CPU-s over its {wall:.0f} s;"
        f" waited {waited:.0f} s for a quiet machine first)"
    )


def ms(seconds: float | None) -> str:
    return "?" if seconds is None else f"{seconds * 1000:,.0f} ms"


def summary(samples: Sequence[float]) -> str:
    if not samples:
        return "no samples"
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (
        f"median {statistics.median(ordered) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms,"
        f" max {ordered[-1] * 1000:.1f} ms (n={len(ordered)})"
    )


def machine() -> str:
    import textual

    model = "unknown CPU"
    with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory_gb = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30
    return (
        f"machine: {os.cpu_count()} cores, {model}, {memory_gb:.0f} GiB RAM,"
        f" {platform.python_implementation()} {platform.python_version()},"
        f" SQLite {sqlite3.sqlite_version}, Textual {textual.__version__},"
        f" {platform.system()} {platform.release()}"
    )


def profile_open(db: Path) -> None:
    """One in-process open under cProfile (the main thread: Textual's side, not the worker's)."""
    import cProfile
    import pstats

    profile = cProfile.Profile()
    profile.enable()
    asyncio.run(open_once(db, {}))
    profile.disable()
    print("profile of one open, main thread (database reads run in a worker thread, unseen):")
    stats = pstats.Stats(profile, stream=sys.stdout)
    stats.sort_stats("cumulative").print_stats(25)
    stats.sort_stats("tottime").print_stats(15)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5, help="fresh processes timed for open")
    parser.add_argument("--presses", type=int, default=45, help="j presses (others: a third)")
    parser.add_argument("--hold", type=float, default=3.0, help="seconds the writer holds")
    parser.add_argument("--db", help="the database to build or reuse (default: a cache file)")
    parser.add_argument("--cache-dir", type=Path, default=CACHE_DIR)
    parser.add_argument("--rebuild", action="store_true", help="build even if cached")
    parser.add_argument("--keep", action="store_true", help="keep the working copy")
    parser.add_argument("--profile", action="store_true", help="then profile one open")
    parser.add_argument(
        "--quiet-wait", type=float, default=120, help="most seconds to wait for a quiet machine"
    )
    parser.add_argument("--child", choices=("open", "writer"), help=argparse.SUPPRESS)
    parser.add_argument("--app-args", default="{}", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def prepare_copy(cached: Path, path: Path) -> None:
    """Copy the cache (the runs write verdicts and articles) and bring the copy up to date,
    untimed: migrations newer than the cache, articles the search index has not taken in."""
    shutil.copyfile(cached, path)
    db = storage.open_db(path, migrate=False)
    before = len(storage.applied_migrations(db))
    db.close()
    db = storage.open_db(path)
    migrated, indexed = len(storage.applied_migrations(db)) - before, catch_up_index(db)
    db.close()
    if migrated or indexed:
        print(f"note: the copy took {migrated} newer migrations and indexed {indexed} articles")


def benchmark(args: argparse.Namespace, work: Path) -> None:
    print(machine())
    cached = cache_path(args)
    cached.parent.mkdir(parents=True, exist_ok=True)
    if args.rebuild or not cached.exists():
        print(f"building {cached} ({args.articles:,} articles, seed {args.seed})…")
        built = build_db(cached, args.articles, args.seed)
        print(
            f"built in {built.seconds:.1f} s: {built.polls:,} polls through storage.save_poll,"
            f" {built.joins:,} articles joined to other outlets' stories, {built.reviews:,}"
            f" verdicts, an audit sample of {built.audit}"
        )
    else:
        print(f"reusing {cached} (--rebuild to build it again)")
    print("database: " + describe_db(cached))
    db = work / "monitor.db"
    prepare_copy(cached, db)
    with quiet_machine("sql and open", args.quiet_wait):
        sql_figures(db)
        opened = open_runs(db, args.runs)
        open_modes(db)
    with quiet_machine("keys", args.quiet_wait):
        results = asyncio.run(measure_keys(db, args.presses))
        for name, samples in results.items():
            print(f"keys  {name}: {summary(samples)}")
    baseline = statistics.median(o.first_rows_s for o in opened if o.first_rows_s is not None)
    hold = max(args.hold, 2 * (opened[-1].spawn_to_imported_s + baseline) + 1)
    with quiet_machine("writes", args.quiet_wait):
        open_while_writing(db, hold, baseline)
        asyncio.run(keys_while_writing(db, hold, max(5, args.presses // 3)))
    if args.profile:
        profile_open(db)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.child == "open":
        child_open(args)
        return
    if args.child == "writer":
        child_writer(args)
        return
    work = Path(tempfile.mkdtemp(prefix="nk-review-"))
    try:
        benchmark(args, work)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
