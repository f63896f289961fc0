"""The review UI: stories in a table, one key press per verdict, label or note, undo as a stack.

All text from the database is hostile: everything shown is built by `monitor.tui.render` as
plain `rich.text.Text` from sanitised strings (DataTable would read plain `str` cells as markup).

Database work runs in thread workers, one connection per call, so reads never wait for the
daemon (WAL) and the screen never waits for the database. Writes run one at a time in the order
the keys were pressed: a key queues a write and moves on at once, and `u` undoes whatever was
stored last, even if that write was still running when `u` was pressed. Every write (verdict,
label, note) appends a review row, so undo is always "delete the newest row this session wrote".
The queue reloads every `refresh_every` seconds, keeping the cursor on the same story.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import sqlite_utils
from rich.text import Text
from textual import events, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Static
from textual.worker import Worker, WorkerState

import storage
from monitor.report import clip
from monitor.text import one_line
from monitor.tui.links import Opener, open_in_browser, web_link
from monitor.tui.render import (
    CHROME_WIDTH,
    COLUMNS,
    FIXED_WIDTH,
    HIGHLIGHT,
    MIN_TITLE_WIDTH,
    ORDER_NAMES,
    STATUS_NAMES,
    Row,
    counts_text,
    describe,
    detail_text,
    help_text,
    row_cells,
    stories,
    view_text,
)
from monitor.tui.screens import HelpScreen, LinkScreen, NoteScreen, SearchScreen

__all__ = ["HIGHLIGHT", "HelpScreen", "ReviewApp"]

Clock = Callable[[], datetime]

DB_ERRORS = (sqlite3.Error, storage.StorageError, OSError)
QUEUE_ROWS = 1000  # the queue shows this many stories at a time; the status bar counts all
UNCERTAIN_ROWS = 500  # `--order uncertain` takes in unflagged stories: the nearest this many
REFRESH_SECONDS = 30.0
MODES = {  # what the queue holds, for the first status message
    "score": "flagged stories, highest score first",
    "date": "flagged stories, newest first",
    "uncertain": "stories nearest the flag threshold first",
    "audit": "audit sample of unflagged stories",
}


# ---------------------------------------------------------------- writes and their messages


@dataclass(frozen=True)
class Verdict:
    story_id: int
    article_id: int
    verdict: str


@dataclass(frozen=True)
class ToggleLabel:
    story_id: int
    article_id: int
    label: str


@dataclass(frozen=True)
class Note:
    story_id: int
    article_id: int
    note: str


@dataclass(frozen=True)
class Undo:
    story_id: int
    review_id: int


@dataclass(frozen=True)
class UndoLast:
    """`u` pressed: undo the newest stored write, resolved when its turn comes."""


Write = Verdict | ToggleLabel | Note | Undo


class QueueLoaded(Message):
    def __init__(
        self,
        generation: int,
        rows: list[Row],
        outlets: dict[int, list[Row]],
        counts: dict[str, int],
        keep: int | None,
    ) -> None:
        super().__init__()
        self.generation = generation
        self.rows = rows
        self.outlets = outlets
        self.counts = counts
        self.keep = keep  # the story to keep the cursor on, if it is still there


class WriteDone(Message):
    def __init__(
        self,
        op: Write,
        review_id: int | None,
        row: Row | None,
        outlets: list[Row],
        counts: dict[str, int],
    ) -> None:
        super().__init__()
        self.op = op
        self.review_id = review_id
        self.row = row
        self.outlets = outlets
        self.counts = counts


class DbFailed(Message):
    def __init__(self, op: Write | None, error: str, *, refused: bool = False) -> None:
        super().__init__()
        self.op = op
        self.error = error
        self.refused = refused  # a change the story's verdict does not allow, not a failure


class LinkOpened(Message):
    def __init__(self, url: str, opened: bool) -> None:
        super().__init__()
        self.url = url
        self.opened = opened


def store(db: sqlite_utils.Database, op: Write, now: str) -> int | None:
    """Perform one write; the new review's id (None for an undo)."""
    if isinstance(op, Verdict):
        labels = None
        if op.verdict in storage.RELEVANT_VERDICTS:
            labels = storage.current_labels(db, op.article_id)  # keep the analyst's labels
        return storage.add_review(db, op.article_id, op.verdict, now, labels=labels)
    if isinstance(op, ToggleLabel):
        return storage.toggle_label(db, op.article_id, op.label, now)
    if isinstance(op, Note):
        return storage.set_note(db, op.article_id, op.note, now)
    storage.undo_review(db, op.review_id)
    return None


class ReviewApp(App[None]):
    """Review stories: r/n/! store a verdict at once, 1/2/3 and e change it, u takes it back."""

    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "nk-monitor review"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "cursor_down", "Next story", show=False, priority=True),
        Binding("k,up", "cursor_up", "Previous story", show=False, priority=True),
        Binding("enter", "toggle_detail", "Detail", show=False, priority=True),
        Binding("r", "mark_relevant", "Relevant"),
        Binding("n", "mark_not_relevant", "Not relevant"),
        Binding("exclamation_mark", "escalate", "Escalate"),
        Binding("1", "toggle_label('defectors')", "Label defectors", show=False),
        Binding("2", "toggle_label('repatriation')", "Label repatriation", show=False),
        Binding("3", "toggle_label('border')", "Label border", show=False),
        Binding("e", "edit_note", "Edit note", show=False),
        Binding("u", "undo", "Undo"),
        Binding("o", "open_link", "Open link", show=False),
        Binding("slash", "search", "Search"),
        Binding("escape", "back", "Back to queue", show=False),
        Binding("s", "cycle_status", "Next status", show=False),
        Binding("S", "cycle_order", "Next order", show=False),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(
        self,
        db_path: Path,
        *,
        include_reviewed: bool = False,
        order: str = "score",
        audit: bool = False,
        clock: Clock | None = None,
        filters: storage.StoryFilters | None = None,
        opener: Opener | None = None,
        refresh_every: float = REFRESH_SECONDS,
    ) -> None:
        super().__init__()
        self.db_path = Path(db_path)
        self.filters = filters or storage.StoryFilters(
            status="all" if include_reviewed else "unreviewed", order=order, audit=audit
        )
        self.sub_title = MODES["audit" if self.filters.audit else self.filters.order]
        self.refresh_every = refresh_every
        self._clock: Clock = clock or (lambda: datetime.now(UTC))
        self._opener: Opener = opener or open_in_browser
        self._query: str | None = None  # the search shown instead of the queue
        self._rows: dict[int, Row] = {}  # by story id
        self._outlets: dict[int, list[Row]] = {}
        self._order: list[int] = []
        self._counts: dict[str, int] | None = None
        self._waiting: deque[Write | UndoLast] = deque()
        self._busy: Write | None = None
        self._undo: list[tuple[int, int]] = []  # (review_id, story_id), newest last
        self._generation = 0  # of the latest load asked for: older results are dropped
        self._loading = False
        self._loaded_once = False
        self._migrated = False
        self._last = "Loading the queue…"
        self._error = False
        self._quit_requested = False
        self._title_width = MIN_TITLE_WIDTH
        self._detail_id: int | None = None

    # ------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Static("", id="view", markup=False)
        yield DataTable(id="queue", cursor_type="row")
        yield Static("", id="empty", markup=False)
        with VerticalScroll(id="detail"):
            yield Static("", id="detail-body", markup=False)
        yield Static("", id="status", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#detail").border_title = "Detail"
        self._update_status()
        self._reload()
        if self.refresh_every > 0:
            self.set_interval(self.refresh_every, self.refresh_queue)

    def on_resize(self, event: events.Resize) -> None:
        if self._order and self._fit_title_width(event.size.width) != self._title_width:
            self._rebuild_table(event.size.width, self.table.cursor_row)

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#queue", DataTable)

    @property
    def is_idle(self) -> bool:
        """True when no write is being stored or waiting to be."""
        return self._busy is None and not self._waiting

    def highlighted(self) -> int | None:
        """The id of the story under the cursor, if any."""
        if not self._order:
            return None
        return self._order[min(self.table.cursor_row, len(self._order) - 1)]

    def _current(self) -> Row | None:
        story_id = self.highlighted()
        return None if story_id is None else self._rows[story_id]

    # ------------------------------------------------------------ actions (one per binding)

    def action_cursor_down(self) -> None:
        if self._order:
            self.table.move_cursor(row=self.table.cursor_row + 1)

    def action_cursor_up(self) -> None:
        if self._order:
            self.table.move_cursor(row=max(self.table.cursor_row - 1, 0))

    def action_toggle_detail(self) -> None:
        if not self._order:
            return
        table, detail = self.table, self.query_one("#detail")
        expanded = not self.screen.has_class("-expanded")
        self.screen.set_class(expanded, "-expanded")
        detail.border_title = "Detail · PgUp/PgDn scroll · Enter closes" if expanded else "Detail"
        (detail if expanded else table).focus()
        self.call_after_refresh(table.move_cursor, row=table.cursor_row)  # keep it in view

    def action_mark_relevant(self) -> None:
        self._mark("relevant")

    def action_mark_not_relevant(self) -> None:
        self._mark("not-relevant")

    def action_escalate(self) -> None:
        self._mark("escalated")

    def action_toggle_label(self, label: str) -> None:
        row = self._current()
        if row is None:
            self._say("Nothing to label: the queue is empty")
            return
        self._submit(ToggleLabel(row["id"], row["article_id"], label))

    def action_edit_note(self) -> None:
        row = self._current()
        if row is None:
            self._say("Nothing to annotate: the queue is empty")
            return
        if not row["verdict"] and not self._verdict_pending(row["id"]):
            self._say("Give the story a verdict first (r, n or !): its note is kept with it")
            return

        def save(note: str | None) -> None:
            if note is None or one_line(note) == one_line(row["note"] or ""):
                self._say("Note not changed")
                return
            self._submit(Note(row["id"], row["article_id"], one_line(note)))

        self.push_screen(NoteScreen(row["note"] or ""), save)

    def action_undo(self) -> None:
        self._submit(UndoLast())

    def action_open_link(self) -> None:
        row = self._current()
        if row is None:
            self._say("Nothing to open: the queue is empty")
            return
        link = web_link(row["url"])
        if link is None:
            shown = clip(one_line(row["url"] or ""), 40) or "no link"
            self._say(f"Not opened (only http and https links): {shown}", error=True)
            return
        self._open(link)

    def action_search(self) -> None:
        def search(query: str | None) -> None:
            if query is not None and query.strip():
                self._query = query.strip()
                self._reload()

        self.push_screen(SearchScreen(self._query or ""), search)

    def action_back(self) -> None:
        if self._query is not None:
            self._query = None
            self._reload()
        elif self.screen.has_class("-expanded"):
            self.action_toggle_detail()

    def action_cycle_status(self) -> None:
        statuses = storage.STATUSES
        status = statuses[(statuses.index(self.filters.status) + 1) % len(statuses)]
        self.filters = replace(self.filters, status=status)
        self._query = None
        self._say(f"Showing stories {STATUS_NAMES[status]}")
        self._reload()

    def action_cycle_order(self) -> None:
        orders = storage.ORDERS
        order = orders[(orders.index(self.filters.order) + 1) % len(orders)]
        self.filters = replace(self.filters, order=order)
        self._query = None
        self._say(f"Sorted {ORDER_NAMES[order]}")
        self._reload()

    def action_help(self) -> None:
        self.push_screen(HelpScreen(help_text(self.BINDINGS)))

    async def action_quit(self) -> None:
        if self.is_idle:
            self.exit()
            return
        self._quit_requested = True
        self._say("Saving, then quitting…")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Over a pop-up, the queue's keys are the pop-up's (typing a note types letters)."""
        stack = self.screen_stack
        return not (stack and isinstance(stack[-1], ModalScreen) and action != "quit")

    def refresh_queue(self) -> None:
        """Reload the queue (on a timer): new stories appear, the cursor stays on its story."""
        if self._query is None and self.is_idle and not self._loading:
            if not isinstance(self.screen_stack[-1], ModalScreen):
                self._reload(keep=self.highlighted())

    # ------------------------------------------------------------ the write queue

    def _mark(self, verdict: str) -> None:
        row = self._current()
        if row is None:
            self._say("Nothing to mark: the queue is empty")
            return
        self._submit(Verdict(row["id"], row["article_id"], verdict))
        self.action_cursor_down()

    def _verdict_pending(self, story_id: int) -> bool:
        ops = [self._busy, *self._waiting]
        return any(isinstance(op, Verdict) and op.story_id == story_id for op in ops)

    def _submit(self, op: Write | UndoLast) -> None:
        self._waiting.append(op)
        self._pump()

    def _pump(self) -> None:
        """Start the next waiting write unless one is running; quit when asked and idle."""
        while self._busy is None and self._waiting:
            op = self._waiting.popleft()
            if isinstance(op, UndoLast):
                if not self._undo:
                    self._say("Nothing to undo")
                    continue
                review_id, story_id = self._undo.pop()
                op = Undo(story_id, review_id)
            self._busy = op
            self._refresh_row(op.story_id)
            self._write(op, self.filters)
        if self._quit_requested and self.is_idle:
            self.exit()

    def on_write_done(self, message: WriteDone) -> None:
        op = message.op
        self._busy = None
        self._counts = message.counts
        shown = op.story_id in self._rows
        if message.row is not None and shown:
            self._rows[op.story_id] = message.row
            self._outlets[op.story_id] = message.outlets
        row = message.row or self._rows.get(op.story_id)
        if message.review_id is not None:
            self._undo.append((message.review_id, op.story_id))
        self._say(self._done_text(op, row))
        if shown:
            self._refresh_row(op.story_id)
        elif isinstance(op, Undo) and self._query is None:
            self._reload(keep=self.highlighted())  # bring the story back into the queue
        self._pump()

    @staticmethod
    def _done_text(op: Write, row: Row | None) -> str:
        title = clip(one_line((row or {}).get("title") or ""), 40)
        verdict = (row or {}).get("verdict") or "unreviewed"
        if isinstance(op, Verdict):
            return f"Marked {op.verdict}: {title}"
        if isinstance(op, ToggleLabel):
            labels = ", ".join((row or {}).get("labels") or []) or "none"
            return f"Labels now {labels} ({verdict}): {title}"
        if isinstance(op, Note):
            return f"Note {'saved' if op.note else 'removed'}: {title}"
        return f"Undone, now {verdict}: {title}"

    def on_db_failed(self, message: DbFailed) -> None:
        if message.refused:
            self._busy = None
            self._say(message.error, error=True)
            if message.op is not None:
                self._refresh_row(message.op.story_id)
            self._pump()
            return
        self._fail(message.op, message.error)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:  # a bug, not a database error: keep running
            self._loading = False
            self._fail(self._busy, f"internal error: {describe(event.worker.error or Exception())}")

    def _fail(self, op: Write | None, error: str) -> None:
        """Show a failed load or write; drop the writes queued behind it."""
        self._busy = None
        self._loading = False
        if isinstance(op, Undo):
            self._undo.append((op.review_id, op.story_id))
        dropped = len(self._waiting)
        self._waiting.clear()
        self._quit_requested = False
        suffix = f" ({dropped} queued key presses dropped)" if dropped else ""
        self._say(f"Database error: {error}{suffix}", error=True)
        if op is not None:
            self._refresh_row(op.story_id)
        elif not self._order:
            self._show_empty(f"The queue could not be loaded.\n\n{error}")

    # ------------------------------------------------------------ database workers

    @contextmanager
    def _connect(self) -> Iterator[sqlite_utils.Database]:
        if not self.db_path.is_file():
            raise storage.StorageError(f"{self.db_path}: no such database file")
        db = storage.open_db(self.db_path, migrate=not self._migrated)
        self._migrated = True
        try:
            yield db
        finally:
            db.close()

    def _reload(self, keep: int | None = None) -> None:
        self._generation += 1
        self._loading = True
        self.query_one("#view", Static).update(view_text(self.filters, self._query))
        self._load(self._generation, self.filters, self._query, keep)

    @work(thread=True, exit_on_error=False, group="db")
    def _load(
        self, generation: int, filters: storage.StoryFilters, query: str | None, keep: int | None
    ) -> None:
        try:
            with self._connect() as db:
                if query is None:
                    limit = UNCERTAIN_ROWS if filters.order == "uncertain" else QUEUE_ROWS
                    rows = storage.story_queue(db, filters, limit=limit)
                else:
                    rows = storage.search_stories(db, query)
                grouped = [row["id"] for row in rows if row["outlets"] > 1 or row["articles"] > 1]
                outlets = storage.story_outlets(db, grouped)
                counts = storage.queue_counts(db, filters)
        except DB_ERRORS as exc:
            self.post_message(DbFailed(None, describe(exc)))
            return
        self.post_message(QueueLoaded(generation, rows, outlets, counts, keep))

    @work(thread=True, exit_on_error=False, group="db")
    def _write(self, op: Write, filters: storage.StoryFilters) -> None:
        try:
            with self._connect() as db:
                review_id = store(db, op, self._now())
                rows = storage.story_rows(db, [op.story_id])
                outlets = storage.story_outlets(db, [op.story_id]).get(op.story_id, [])
                counts = storage.queue_counts(db, filters)
        except storage.ReviewError as exc:
            self.post_message(DbFailed(op, describe(exc), refused=True))
            return
        except DB_ERRORS as exc:
            self.post_message(DbFailed(op, describe(exc)))
            return
        self.post_message(WriteDone(op, review_id, rows[0] if rows else None, outlets, counts))

    @work(thread=True, exit_on_error=False, group="open")
    def _open(self, url: str) -> None:
        try:
            opened = self._opener(url)
        except OSError:
            opened = False
        self.post_message(LinkOpened(url, opened))

    def on_link_opened(self, message: LinkOpened) -> None:
        if message.opened:
            self._say(f"Opened in the browser: {clip(one_line(message.url), 50)}")
        else:
            self.push_screen(LinkScreen(message.url, "No graphical browser here: copy the link"))

    def _now(self) -> str:
        return self._clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    # ------------------------------------------------------------ showing rows

    def on_queue_loaded(self, message: QueueLoaded) -> None:
        if message.generation != self._generation:
            return  # a newer load is on its way
        self._loading = False
        self._counts = message.counts
        found = None if self._query is None else len(message.rows)
        self.query_one("#view", Static).update(view_text(self.filters, self._query, found))
        new_order = [row["id"] for row in message.rows]
        unchanged = new_order == self._order and all(
            self._rows.get(row["id"]) == row for row in message.rows
        )
        old_order, old_cursor = self._order, self.table.cursor_row
        first_load, self._loaded_once = not self._loaded_once, True
        self._rows = {row["id"]: row for row in message.rows}
        self._order = new_order
        self._outlets = message.outlets
        if not self._order:
            self._show_empty(self._empty_message())
            self._say("Nothing matches" if self._query is not None else "Queue is empty")
            return
        if unchanged:
            self._show_detail(self._order[min(old_cursor, len(self._order) - 1)])
        else:
            cursor = _cursor_after(message.keep, old_order, old_cursor, new_order)
            self._show_table()
            self._rebuild_table(self.size.width, cursor)
        self._say_loaded(first_load, len(set(new_order) - set(old_order)), message.keep)

    def _say_loaded(self, first_load: bool, added: int, keep: int | None) -> None:
        if self._query is not None:
            self._say(f"{stories(len(self._order))} found · Esc back to the queue")
        elif first_load:
            default = self.filters.order == "score" and not self.filters.audit
            mode = "" if default else f"{self.sub_title} · "
            self._say(f"{mode}r relevant · n not relevant · ! escalate · u undo · ? help")
        elif keep is not None and added:
            self._say(f"{added} new {'story' if added == 1 else 'stories'} in the queue")
        else:
            self._update_status()

    def _empty_message(self) -> str:
        if self._query is not None:
            return f"Nothing in the archive matches “{one_line(self._query)}”.\n\nEsc returns."
        if self.filters.status == "unreviewed" and self.filters.audit:
            return "Nothing to review: no audit sample is waiting (`monitor audit` draws some)."
        if self.filters.status == "unreviewed":
            return "Nothing to review: no flagged story is waiting for a verdict."
        return f"No story {STATUS_NAMES[self.filters.status]} here.\n\ns shows another status."

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None and int(event.row_key.value) in self._rows:
            self._show_detail(int(event.row_key.value))

    def _fit_title_width(self, width: int) -> int:
        return max(MIN_TITLE_WIDTH, width - FIXED_WIDTH - CHROME_WIDTH)

    def _rebuild_table(self, screen_width: int, cursor: int) -> None:
        table = self.table
        self._title_width = self._fit_title_width(screen_width)
        table.clear(columns=True)
        for key, header, width in COLUMNS:
            table.add_column(Text(header), key=key, width=width or self._title_width)
        for story_id in self._order:
            table.add_row(*self._cells(story_id), key=str(story_id))
        table.move_cursor(row=cursor)
        story_id = self.highlighted()
        if story_id is not None:
            self._show_detail(story_id)

    def _cells(self, story_id: int) -> list[Text]:
        pending = self._busy is not None and self._busy.story_id == story_id
        return row_cells(self._rows[story_id], self._title_width, pending=pending)

    def _refresh_row(self, story_id: int) -> None:
        if story_id in self._rows:
            for (key, _, _), cell in zip(COLUMNS, self._cells(story_id), strict=True):
                self.table.update_cell(str(story_id), key, cell)
            if self.highlighted() == story_id:
                self._show_detail(story_id)
        self._update_status()

    def _show_detail(self, story_id: int) -> None:
        body = detail_text(self._rows[story_id], self._outlets.get(story_id, []))
        self.query_one("#detail-body", Static).update(body)
        if story_id != self._detail_id:
            self.query_one("#detail").scroll_home(animate=False)
            self._detail_id = story_id

    def _show_empty(self, message: str) -> None:
        self.table.display = False
        self.query_one("#detail").display = False
        empty = self.query_one("#empty", Static)
        empty.update(Text(message))
        empty.display = True

    def _show_table(self) -> None:
        self.query_one("#empty").display = False
        self.table.display = True
        self.query_one("#detail").display = True
        if not isinstance(self.screen_stack[-1], ModalScreen) and self.focused is None:
            self.table.focus()

    # ------------------------------------------------------------ status line

    def _say(self, message: str, *, error: bool = False) -> None:
        self._last = message
        self._error = error
        self._update_status()

    def _update_status(self) -> None:
        counts = counts_text(self._counts)
        if self._error:  # errors first, so that a narrow terminal cuts the counts instead
            text = Text.assemble((self._last, "bold red"), " │ ", counts)
        elif counts:
            text = Text.assemble(counts, " │ ", self._last)
        else:
            text = Text(self._last)
        self.query_one("#status", Static).update(text)

    @property
    def status_text(self) -> str:
        """The status line as plain text."""
        visual = self.query_one("#status", Static).visual
        return str(getattr(visual, "plain", visual))

    @property
    def view_line(self) -> str:
        """The line above the queue (what it holds) as plain text."""
        visual = self.query_one("#view", Static).visual
        return str(getattr(visual, "plain", visual))


def _cursor_after(keep: int | None, old: list[int], old_cursor: int, new: list[int]) -> int:
    """Where the cursor goes after a reload: on `keep` if it is still there, else on the
    first story after it that still is, else at the top."""
    if keep is None or not new:
        return 0
    index = {story_id: i for i, story_id in enumerate(new)}
    if keep in index:
        return index[keep]
    for story_id in old[old_cursor:]:
        if story_id in index:
            return index[story_id]
    return min(old_cursor, len(new) - 1)
