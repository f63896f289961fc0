"""What the review UI shows, as plain `rich.text.Text` built from sanitised strings.

All text from the database is hostile: every string passes through `one_line` or
`strip_controls` and becomes a `Text` (never parsed as markup), and why-terms are highlighted
by character spans, never by inserting markup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.text import Text
from textual.binding import Binding, BindingType

from monitor.report import LABEL_CODES, clip, short_labels
from monitor.text import one_line, strip_controls
from monitor.why import all_terms, term_spans

Row = dict[str, Any]

COLUMNS = (  # key, header, width (None: the title takes what is left)
    ("mark", "", 2),
    ("score", "score", 5),
    ("labels", "lab", 3),
    ("source", "source", 10),
    ("date", "date", 10),
    ("outlets", "n", 2),
    ("title", "title", None),
)
FIXED_WIDTH = sum(width or 0 for _, _, width in COLUMNS)
CHROME_WIDTH = 2 * len(COLUMNS) + 1  # one cell of padding each side of a column, the scrollbar
MIN_TITLE_WIDTH = 12
MARKS = {
    None: (" ", ""),
    "relevant": ("✓", "bold green"),
    "not-relevant": ("✗", "bold red"),
    "escalated": ("!", "bold magenta"),
}
MARKERS = {"new": ("+", "bold cyan"), "updated": ("*", "bold yellow")}
MARKER_TEXT = {
    "new": "articles joined since the verdict",
    "updated": "a flagged article changed since the verdict",
}
KEY_NAMES = {
    "down": "↓",
    "up": "↑",
    "enter": "Enter",
    "question_mark": "?",
    "escape": "Esc",
    "slash": "/",
    "exclamation_mark": "!",
}
HIGHLIGHT = "bold reverse"  # why-terms in the detail's title and summary
STATUS_NAMES = {
    "unreviewed": "waiting for a verdict",
    "relevant": "marked relevant",
    "not-relevant": "marked not relevant",
    "escalated": "escalated",
    "all": "all stories",
}
ORDER_NAMES = {
    "score": "highest score first",
    "date": "newest first",
    "uncertain": "nearest the flag threshold first",
}


def when(iso: str | None) -> str:
    """'2026-11-29T08:15:00Z' as '2026-11-29 08:15 UTC'."""
    text = one_line(iso or "")
    if not text:
        return "unknown"
    return text[:16].replace("T", " ") + (" UTC" if text.endswith("Z") else "")


def stories(count: int) -> str:
    return f"{count} {'story' if count == 1 else 'stories'}"


def describe(exc: BaseException) -> str:
    return one_line(str(exc)) or type(exc).__name__


# ---------------------------------------------------------------- the queue table


def row_cells(row: Row, title_width: int, *, pending: bool = False) -> list[Text]:
    """The table cells of one story, all plain `Text` (never markup)."""
    mark, mark_style = ("…", "yellow") if pending else MARKS.get(row["verdict"], ("?", ""))
    marker, marker_style = MARKERS.get(row.get("marker") or "", (" ", ""))
    style = "dim" if row["verdict"] and not pending and not row.get("marker") else ""
    score = row["score"]
    outlets = row.get("outlets") or 1
    return [
        Text.assemble((mark, mark_style), (marker, marker_style)),
        Text(f"{score:.2f}" if score is not None else "", style=style, justify="right"),
        Text(short_labels(row["labels"]), style=style),
        Text(clip(one_line(row["source"] or ""), 10), style=style),
        Text(one_line(row.get("first_time") or row.get("sort_time") or "")[:10], style=style),
        Text(str(outlets) if outlets < 10 else "9+", style=style, justify="right")
        if outlets > 1
        else Text(""),
        Text(clip(one_line(row["title"] or ""), title_width), style=style),
    ]


# ---------------------------------------------------------------- the detail pane


def detail_text(row: Row, outlets: Sequence[Row]) -> Text:
    """The detail of one story: its best article's title, outlet, time, language, labels with
    scores, why-terms (highlighted in title and summary), verdict and note, link, summary,
    and the other outlets that carried it."""
    why = row.get("why") or {}
    terms = [one_line(term) for term in all_terms(why)]
    others = other_outlets(row, outlets)
    lines = [
        highlighted(one_line(row["title"] or "(no title)"), terms, style="bold"),
        _meta_line(row, others),
        _scores_line(row),
        *([_why_line(why)] if why else []),
        _verdict_line(row),
        _note_line(row),
        Text(one_line(row["url"] or "(no link)"), style="underline"),
        Text(),
        highlighted(strip_controls(row["summary"] or "(no summary)").strip(), terms),
    ]
    if others:
        lines += [Text(), Text("Also in this story:", style="bold")]
        lines += [_outlet_line(row, other) for other in others]
    return Text("\n").join(lines)


def other_outlets(row: Row, outlets: Sequence[Row]) -> list[Row]:
    """The story's outlets but the one shown: its first outlet carrying the best article."""
    shown = (row["article_id"], row["source"])
    return [other for other in outlets if (other["article_id"], other["feed"]) != shown]


def highlighted(plain: str, terms: Sequence[str], *, style: str = "") -> Text:
    """`plain` as Text with every occurrence of `terms` (any case) styled HIGHLIGHT."""
    text = Text(plain, style=style)
    for start, end in term_spans(plain, terms):
        text.stylize(HIGHLIGHT, start, end)
    return text


def _why_line(why: Mapping[str, Sequence[str]]) -> Text:
    """'why: defectors 탈북민, defector · border 국경', each label's terms after its name."""
    parts = [
        Text.assemble((one_line(label), "bold"), " ", ", ".join(one_line(t) for t in terms))
        for label, terms in why.items()
        if terms
    ]
    return Text("why: ") + Text(" · ").join(parts)


def _meta_line(row: Row, others: Sequence[Row]) -> Text:
    source = one_line(row["source"] or "?")
    names = []
    for other in others:
        name = one_line(other["feed"] or "?")
        if name != source and name not in names:
            names.append(name)
    if names:
        source += f" (also {', '.join(names)})"
    language = one_line(row["language"] or "?")
    return Text(f"{source} · {when(row['first_time'])} · language {language}", style="italic")


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
    if row["verdict"] != "not-relevant" and row["labels"]:
        text.append(f" as {', '.join(one_line(label) for label in row['labels'])}")
    text.append(f" (reviewed {when(row['reviewed_at'])})")
    if row.get("marker"):
        text.append(f" · {MARKER_TEXT[row['marker']]}", style=MARKERS[row["marker"]][1])
    return text


def _note_line(row: Row) -> Text:
    if row.get("note"):
        return Text(f"note: {one_line(row['note'])}")
    return Text("note: none" + (" (e adds one)" if row["verdict"] else ""), style="dim")


def _outlet_line(row: Row, outlet: Row) -> Text:
    text = Text(f"  {one_line(outlet['feed'] or '?')} · {when(outlet['time'])} · ")
    text.append(clip(one_line(outlet["title"] or ""), 60))
    if outlet["article_id"] == row["article_id"]:
        text.append(" (shown above)", style="dim")
    reviewed = row.get("reviewed_at")
    if reviewed and (outlet.get("first_seen") or "") > reviewed:
        text.append(" (new)", style=MARKERS["new"][1])
    return text


# ---------------------------------------------------------------- status, view and help


def counts_text(counts: Mapping[str, int] | None) -> Text:
    """'5 to review · ✓ 3 · ✗ 1 · ! 0' (empty until counted)."""
    if counts is None:
        return Text("")
    text = Text(f"{counts.get('unreviewed', 0)} to review")
    for verdict in ("relevant", "not-relevant", "escalated"):
        mark, style = MARKS[verdict]
        text.append(" · ")
        text.append(mark, style=style)
        text.append(f" {counts.get(verdict, 0)}")
    return text


def view_text(filters: Any, query: str | None = None, found: int | None = None) -> Text:
    """The line above the queue: what it holds (the filters), or the search shown instead."""
    if query is not None:
        shown = f"search “{clip(one_line(query), 30)}”"
        found_text = "searching…" if found is None else stories(found)
        return Text(f"{shown}: {found_text} · Esc back to the queue")
    parts = [
        "audit sample" if filters.audit else STATUS_NAMES[filters.status],
        ORDER_NAMES[filters.order],
    ]
    if filters.labels:
        parts.append("label " + "/".join(filters.labels))
    if filters.feed:
        parts.append(f"feed {one_line(filters.feed)}")
    if filters.language:
        parts.append(f"language {one_line(filters.language)}")
    if filters.since or filters.until:
        parts.append(f"{filters.since or '…'} – {filters.until or '…'}")
    return Text(" · ".join(parts))


def help_text(bindings: Sequence[BindingType]) -> Text:
    """Every binding, two to a line, then what the marks mean."""
    entries = [
        (" / ".join(KEY_NAMES.get(key, key) for key in binding.key.split(",")), binding.description)
        for binding in bindings
        if isinstance(binding, Binding)
    ]
    text = Text("Keys\n\n", style="bold")
    for start in range(0, len(entries), 2):
        for column, (keys, description) in enumerate(entries[start : start + 2]):
            text.append(f"{keys:>7}  ", style="bold")
            text.append(f"{description:<24}" if column == 0 else description)
        text.append("\n")
    text.append(
        "\nMarks: ✓ relevant, ✗ not relevant, ! escalated; + articles joined since the"
        " verdict; * a flagged article changed since (the story is back in the queue)."
        "\nPgUp/PgDn scroll the detail after Enter. Esc or ? closes this help."
    )
    return text
