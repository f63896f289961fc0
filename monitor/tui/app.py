"""The review UI: the flagged queue in a table, one key press per verdict, undo as a stack.

All text from the database is hostile. Every string shown is passed through `one_line` or
`strip_controls` and placed in a `rich.text.Text` (never parsed as markup): DataTable would read
plain `str` cells as console markup.

Database work runs in thread workers, one connection per call. Writes run one at a time in the
order the keys were pressed: a verdict key queues a write and moves on at once, and `u` undoes
whatever verdict was stored last, even if that write was still running when `u` was pressed.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

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
from monitor.report import LABEL_CODES, clip, short_labels
from monitor.text import one_line, strip_controls
from monitor.why import all_terms, term_spans

Row = dict[str, Any]
Clock = Callable[[], datetime]

COLUMNS = (  # key, header, width (None: the title takes what is left)
    ("mark", "", 1),
    ("score", "score", 5),
    ("labels", "lab", 3),
    ("source", "source", 10),
    ("date", "date", 10),
    ("title", "title", None),
)
FIXED_WIDTH = sum(width or 0 for _, _, width in COLUMNS)
CHROME_WIDTH = 2 * len(COLUMNS) + 1  # one cell of padding each side of a column, the scrollbar
MIN_TITLE_WIDTH = 12
MARKS = {None: (" ", ""), "relevant": ("✓", "bold green"), "not-relevant": ("✗", "bold red")}
DB_ERRORS = (sqlite3.Error, storage.StorageError, storage.ReviewError, OSError)
QUEUE_ACTIONS = frozenset(
    {"cursor_down", "cursor_up", "toggle_detail", "mark_relevant", "mark_not_relevant", "undo"}
)
KEY_NAMES = {"down": "↓", "up": "↑", "enter": "Enter", "question_mark": "?", "escape": "Esc"}
HIGHLIGHT = "bold reverse"  # why-terms in the detail's title and summary
UNCERTAIN_ROWS = 500  # `--order uncertain` takes in unflagged articles: the nearest this many
MODES = {  # (order, audit) -> what the queue holds, for the subtitle and an empty queue
    "score": "flagged stories, highest score first",
    "date": "flagged stories, newest first",
    "uncertain": "stories nearest the flag threshold first",
    "audit": "audit sample of unflagged stories",
}


# ---------------------------------------------------------------- writes and their messages


@dataclass(frozen=True)
class Verdict:
    article_id: int
    verdict: str


@dataclass(frozen=True)
class Undo:
    article_id: int
    review_id: int


@dataclass(frozen=True)
class UndoLast:
    """`u` pressed: undo the newest stored verdict, resolved when its turn comes."""


Write = Verdict | Undo


class QueueLoaded(Message):
    def __init__(self, rows: list[Row], outlets: dict[int, list[str]]) -> None:
        super().__init__()
        self.rows = rows
        self.outlets = outlets


class WriteDone(Message):
    def __init__(self, op: Write, review_id: int | None, row: Row | None) -> None:
        super().__init__()
        self.op = op
        self.review_id = review_id
        self.row = row


class DbFailed(Message):
    def __init__(self, op: Write | None, error: str) -> None:
        super().__init__()
        self.op = op
        self.error = error


# ---------------------------------------------------------------- formatting (pure)


def when(iso: str | None) -> str:
    """'2026-11-29T08:15:00Z' as '2026-11-29 08:15 UTC'."""
    text = one_line(iso or "")
    if not text:
        return "unknown"
    return text[:16].replace("T", " ") + (" UTC" if text.endswith("Z") else "")


def describe(exc: BaseException) -> str:
    return one_line(str(exc)) or type(exc).__name__


def row_cells(row: Row, title_width: int, *, pending: bool = False) -> list[Text]:
    """The table cells of one queue row, all plain `Text` (never markup)."""
    mark, mark_style = ("…", "yellow") if pending else MARKS.get(row["verdict"], ("?", ""))
    style = "dim" if row["verdict"] and not pending else ""
    score = row["score"]
    return [
        Text(mark, style=mark_style),
        Text(f"{score:.2f}" if score is not None else "", style=style, justify="right"),
        Text(short_labels(row["labels"]), style=style),
        Text(clip(one_line(row["source"] or ""), 10), style=style),
        Text(one_line(row["sort_time"] or "")[:10], style=style),
        Text(clip(one_line(row["title"] or ""), title_width), style=style),
    ]


def detail_text(row: Row, outlets: Sequence[str]) -> Text:
    """The detail pane for one article: plain `Text` built from sanitised strings, the terms
    that drove its labels highlighted by character spans (never markup)."""
    why = row.get("why") or {}
    terms = [one_line(term) for term in all_terms(why)]
    lines = [
        highlighted(one_line(row["title"] or "(no title)"), terms, style="bold"),
        _meta_line(row, outlets),
        _scores_line(row),
        *([_why_line(why)] if why else []),
        _verdict_line(row),
        Text(one_line(row["url"] or "(no link)"), style="underline"),
        Text(),
        highlighted(strip_controls(row["summary"] or "(no summary)").strip(), terms),
    ]
    return Text("\n").join(lines)


def highlighted(plain: str, terms: Sequence[str], *, style: str = "") -> Text:
    """`plain` as Text with every occurrence of `terms` (any case) styled HIGHLIGHT."""
    text = Text(plain, style=style)
    for start, end in term_spans(plain, terms):
        text.stylize(HIGHLIGHT, start, end)
    return text


def _why_line(why: dict[str, list[str]]) -> Text:
    """'why: defectors 탈북민, defector · border 국경', each label's terms after its name."""
    parts = [
        Text.assemble((one_line(label), "bold"), " ", ", ".join(one_line(t) for t in terms))
        for label, terms in why.items()
        if terms
    ]
    return Text("why: ") + Text(" · ").join(parts)


def _meta_line(row: Row, outlets: Sequence[str]) -> Text:
    source = one_line(row["source"] or "?")
    others = [one_line(name) for name in outlets if name != row["source"]]
    if others:
        source += f" (also {', '.join(others)})"
    date = (
        f"published {when(row['published'])}"
        if row["published"]
        else (f"fetched {when(row['fetched'])}")
    )
    language = one_line(row["language"] or "?")
    return Text(f"{source} · {date} · language {language}", style="italic")


def _scores_line(row: Row) -> Text:
    parts = [
        Text(f"{name} {row['scores'][name]:.2f}", style="bold" if name in row["labels"] else "dim")
        for name, _ in LABEL_CODES
        if name in row["scores"]
    ]
    line = Text("scores: ") + Text(" · ").join(parts)
    if row.get("margin") is not None:
        line.append(f" · flag margin {row['margin']:+.2f}", style="dim")
    return line


def _verdict_line(row: Row) -> Text:
    if not row["verdict"]:
        return Text("not reviewed yet", style="dim")
    mark, style = MARKS.get(row["verdict"], ("?", ""))
    text = Text(f"{mark} {one_line(row['verdict'])}", style=style)
    text.append(f" (reviewed {when(row['reviewed_at'])})")
    if row["note"]:
        text.append(f" — note: {one_line(row['note'])}")
    return text


def help_text(bindings: Sequence[BindingType]) -> Text:
    text = Text("Keys\n\n", style="bold")
    for binding in bindings:
        if isinstance(binding, Binding):
            keys = " / ".join(KEY_NAMES.get(key, key) for key in binding.key.split(","))
            text.append(f"{keys:>10}  ", style="bold")
            text.append(f"{binding.description}\n")
    text.append("\nPgUp/PgDn scroll the detail after Enter. Esc or ? closes this help.")
    return text


# ---------------------------------------------------------------- screens


class HelpScreen(ModalScreen[None]):
    """The key bindings, over the queue."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "close", "Close help"),
    ]

    def __init__(self, key_help: Text) -> None:
        super().__init__()
        self.key_help = key_help

    def compose(self) -> ComposeResult:
        yield Static(self.key_help, id="help", markup=False)

    def action_close(self) -> None:
        self.dismiss()


class ReviewApp(App[None]):
    """Review the flagged queue: r/n store a verdict at once, u takes it back."""

    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "nk-monitor review"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "cursor_down", "Next article", show=False, priority=True),
        Binding("k,up", "cursor_up", "Previous article", show=False, priority=True),
        Binding("enter", "toggle_detail", "Detail", priority=True),
        Binding("r", "mark_relevant", "Relevant"),
        Binding("n", "mark_not_relevant", "Not relevant"),
        Binding("u", "undo", "Undo"),
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
    ) -> None:
        super().__init__()
        self.db_path = Path(db_path)
        self.include_reviewed = include_reviewed
        self.order = order
        self.audit = audit
        self.sub_title = MODES["audit" if audit else order]
        self._clock: Clock = clock or (lambda: datetime.now(UTC))
        self._rows: dict[int, Row] = {}
        self._outlets: dict[int, list[str]] = {}
        self._order: list[int] = []
        self._waiting: deque[Write | UndoLast] = deque()
        self._busy: Write | None = None
        self._undo: list[tuple[int, int]] = []  # (review_id, article_id), newest last
        self._last = "Loading the queue…"
        self._error = False
        self._quit_requested = False
        self._title_width = MIN_TITLE_WIDTH
        self._detail_id: int | None = None

    # ------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield DataTable(id="queue", cursor_type="row")
        yield Static("", id="empty", markup=False)
        with VerticalScroll(id="detail"):
            yield Static("", id="detail-body", markup=False)
        yield Static("", id="status", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#detail").border_title = "Detail"
        self._update_status()
        self._load_queue()

    def on_resize(self, event: events.Resize) -> None:
        if self._order and self._fit_title_width(event.size.width) != self._title_width:
            self._rebuild_table(event.size.width)

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#queue", DataTable)

    @property
    def is_idle(self) -> bool:
        """True when no verdict or undo is being stored or waiting to be."""
        return self._busy is None and not self._waiting

    def highlighted(self) -> int | None:
        """The id of the article under the cursor, if any."""
        if not self._order:
            return None
        return self._order[self.table.cursor_row]

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

    def action_undo(self) -> None:
        self._submit(UndoLast())

    def action_help(self) -> None:
        self.push_screen(HelpScreen(help_text(self.BINDINGS)))

    async def action_quit(self) -> None:
        if self.is_idle:
            self.exit()
            return
        self._quit_requested = True
        self._say("Saving, then quitting…")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        stack = self.screen_stack
        if stack and isinstance(stack[-1], HelpScreen) and action in QUEUE_ACTIONS:
            return False
        return True

    # ------------------------------------------------------------ the write queue

    def _mark(self, verdict: str) -> None:
        article_id = self.highlighted()
        if article_id is None:
            self._say("Nothing to mark: the queue is empty")
            return
        self._submit(Verdict(article_id, verdict))
        self.action_cursor_down()

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
                review_id, article_id = self._undo.pop()
                op = Undo(article_id, review_id)
            self._busy = op
            self._refresh_row(op.article_id)
            self._write(op)
        if self._quit_requested and self.is_idle:
            self.exit()

    def on_write_done(self, message: WriteDone) -> None:
        op = message.op
        self._busy = None
        if message.row is not None:
            self._rows[op.article_id] = message.row
        row = self._rows[op.article_id]
        title = clip(one_line(row["title"] or ""), 40)
        if isinstance(op, Verdict) and message.review_id is not None:
            self._undo.append((message.review_id, op.article_id))
            self._say(f"Marked {op.verdict}: {title}")
        else:
            self._say(f"Undone, now {row['verdict'] or 'unreviewed'}: {title}")
        self._refresh_row(op.article_id)
        self._pump()

    def on_db_failed(self, message: DbFailed) -> None:
        self._fail(message.op, message.error)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:  # a bug, not a database error: keep running
            self._fail(self._busy, f"internal error: {describe(event.worker.error or Exception())}")

    def _fail(self, op: Write | None, error: str) -> None:
        """Show a failed load or write; drop the writes queued behind it."""
        self._busy = None
        if isinstance(op, Undo):
            self._undo.append((op.review_id, op.article_id))
        dropped = len(self._waiting)
        self._waiting.clear()
        self._quit_requested = False
        suffix = f" ({dropped} queued key presses dropped)" if dropped else ""
        self._say(f"Database error: {error}{suffix}", error=True)
        if op is not None:
            self._refresh_row(op.article_id)
        elif not self._order:
            self._show_empty(f"The queue could not be loaded.\n\n{error}")

    # ------------------------------------------------------------ database workers

    @contextmanager
    def _connect(self) -> Iterator[sqlite_utils.Database]:
        if not self.db_path.is_file():
            raise storage.StorageError(f"{self.db_path}: no such database file")
        db = storage.open_db(self.db_path)
        try:
            yield db
        finally:
            db.close()

    @work(thread=True, exit_on_error=False, group="db")
    def _load_queue(self) -> None:
        try:
            with self._connect() as db:
                rows = storage.review_queue(
                    db,
                    include_reviewed=self.include_reviewed,
                    order=self.order,
                    audit=self.audit,
                    limit=UNCERTAIN_ROWS if self.order == "uncertain" else None,
                )
                outlets = {row["id"]: storage.article_outlets(db, row["id"]) for row in rows}
        except DB_ERRORS as exc:
            self.post_message(DbFailed(None, describe(exc)))
            return
        self.post_message(QueueLoaded(rows, outlets))

    @work(thread=True, exit_on_error=False, group="db")
    def _write(self, op: Write) -> None:
        review_id = None
        try:
            with self._connect() as db:
                if isinstance(op, Verdict):
                    review_id = storage.add_review(db, op.article_id, op.verdict, self._now())
                else:
                    storage.undo_review(db, op.review_id)
                row = storage.article_view(db, op.article_id)
        except DB_ERRORS as exc:
            self.post_message(DbFailed(op, describe(exc)))
            return
        self.post_message(WriteDone(op, review_id, row))

    def _now(self) -> str:
        return self._clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    # ------------------------------------------------------------ showing rows

    def on_queue_loaded(self, message: QueueLoaded) -> None:
        self._rows = {row["id"]: row for row in message.rows}
        self._order = [row["id"] for row in message.rows]
        self._outlets = message.outlets
        if not self._order:
            self._show_empty(self._empty_message())
            self._say("Queue is empty")
            return
        self._rebuild_table(self.size.width)
        self.table.focus()
        mode = "" if self.order == "score" and not self.audit else f"{self.sub_title} · "
        self._say(f"{mode}r relevant · n not relevant · u undo · ? help")

    def _empty_message(self) -> str:
        if self.audit:
            return "Nothing to review: no audit sample is waiting (`monitor audit` draws some)."
        return "Nothing to review: no flagged article is waiting for a verdict."

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None:
            self._show_detail(int(event.row_key.value))

    def _fit_title_width(self, width: int) -> int:
        return max(MIN_TITLE_WIDTH, width - FIXED_WIDTH - CHROME_WIDTH)

    def _rebuild_table(self, screen_width: int) -> None:
        table = self.table
        cursor = table.cursor_row
        self._title_width = self._fit_title_width(screen_width)
        table.clear(columns=True)
        for key, header, width in COLUMNS:
            table.add_column(Text(header), key=key, width=width or self._title_width)
        for article_id in self._order:
            table.add_row(*self._cells(article_id), key=str(article_id))
        table.move_cursor(row=cursor)

    def _cells(self, article_id: int) -> list[Text]:
        pending = self._busy is not None and self._busy.article_id == article_id
        return row_cells(self._rows[article_id], self._title_width, pending=pending)

    def _refresh_row(self, article_id: int) -> None:
        for (key, _, _), cell in zip(COLUMNS, self._cells(article_id), strict=True):
            self.table.update_cell(str(article_id), key, cell)
        if self.highlighted() == article_id:
            self._show_detail(article_id)
        self._update_status()

    def _show_detail(self, article_id: int) -> None:
        body = detail_text(self._rows[article_id], self._outlets.get(article_id, []))
        self.query_one("#detail-body", Static).update(body)
        if article_id != self._detail_id:
            self.query_one("#detail").scroll_home(animate=False)
            self._detail_id = article_id

    def _show_empty(self, message: str) -> None:
        self.table.display = False
        self.query_one("#detail").display = False
        empty = self.query_one("#empty", Static)
        empty.update(Text(message))
        empty.display = True

    # ------------------------------------------------------------ status line

    def _say(self, message: str, *, error: bool = False) -> None:
        self._last = message
        self._error = error
        self._update_status()

    def _update_status(self) -> None:
        waiting = sum(1 for row in self._rows.values() if not row["verdict"])
        reviewed = len({article_id for _, article_id in self._undo})
        counts = Text(f"{waiting} to review · {reviewed} reviewed this session")
        if self._error:  # errors first, so that a narrow terminal cuts the counts instead
            text = Text.assemble((self._last, "bold red"), " │ ", counts)
        else:
            text = Text.assemble(counts, " │ ", self._last)
        self.query_one("#status", Static).update(text)

    @property
    def status_text(self) -> str:
        """The status line as plain text."""
        visual = self.query_one("#status", Static).visual
        return str(getattr(visual, "plain", visual))
