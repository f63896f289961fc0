"""Turning query rows into what the CLI prints: aligned tables, CSV or JSON."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from typing import Any

from rich.cells import cell_len, set_cell_size

from monitor.export import csv_text
from monitor.summary import StorySummary, format_summary
from monitor.text import one_line
from monitor.why import format_why, short_why

STATUS_COLUMNS = (
    "name", "state", "last_success", "failures", "next_poll", "articles", "new_7d", "last_error"
)  # fmt: skip
FLAGGED_COLUMNS = (
    "id", "score", "labels", "published", "source", "outlets", "title", "url", "why",
)  # fmt: skip
WHY_WIDTH = 24  # cells of the why column in the `monitor flagged` table


LABEL_CODES = (("defectors", "D"), ("repatriation", "R"), ("border", "B"))
LABEL_LEGEND = "labels: D defectors, R repatriation, B border"


def short_labels(labels: Sequence[str]) -> str:
    """'DR·' for defectors + repatriation: one fixed-width letter per label."""
    return "".join(code if name in labels else "·" for name, code in LABEL_CODES)


def clip(text: str, width: int) -> str:
    """`text` cut to `width` terminal cells, with an ellipsis when cut (wide characters count 2)."""
    if cell_len(text) <= width:
        return text
    return set_cell_size(text, max(width - 1, 0)).rstrip() + "…"


def _pad(text: str, width: int) -> str:
    text = clip(text, width)
    return text + " " * (width - cell_len(text))


def table(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    *,
    flex: str | None = None,
    max_width: int | None = None,
) -> str:
    """A plain aligned table fitted to the terminal: the `flex` column (default: the last)
    gives up width first, then the other columns are clipped to at most 30 cells."""
    cells = [[one_line("" if row.get(c) is None else str(row[c])) for c in columns] for row in rows]
    widths = [max([cell_len(c)] + [cell_len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    total = max_width or shutil.get_terminal_size((120, 24)).columns
    flex_i = columns.index(flex) if flex else len(columns) - 1
    gaps = 2 * (len(columns) - 1)
    if sum(widths) + gaps > total:
        widths = [w if i == flex_i else min(w, 30) for i, w in enumerate(widths)]
        others = sum(widths) - widths[flex_i] + gaps
        widths[flex_i] = max(12, min(widths[flex_i], total - others))
    lines = [columns, *cells]
    return "\n".join(
        "  ".join(_pad(c, w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines
    )


def flagged_records(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Story rows (storage.story_queue) as records; `id` is the story's best article, the one
    `monitor label ID` takes, and `source` its first outlet."""
    return [
        {
            "id": row.get("article_id", row["id"]),
            "score": round(row["score"], 3),
            "labels": ",".join(row["labels"]),
            "published": row["published"] or row["fetched"],
            "source": row["source"],
            "outlets": row.get("outlets", 1),
            "title": row["title"],
            "url": row["url"] or "",
            "scores": {k: round(v, 3) for k, v in row["scores"].items()},
            "model_version": row["model_version"],
            "why": {label: list(terms) for label, terms in row["why"].items()},
        }
        for row in rows
    ]


def format_flagged(rows: Sequence[dict[str, Any]], fmt: str) -> str:
    records = flagged_records(rows)
    if fmt == "json":
        return json.dumps(records, ensure_ascii=False, indent=2)
    if fmt == "csv":
        flat = [{**r, "why": one_line(format_why(r["why"]))} for r in records]
        return csv_text(flat, FLAGGED_COLUMNS).rstrip("\r\n")
    if not records:
        return "No flagged stories waiting for review."
    display = [
        {
            **r,
            "score": f"{r['score']:.2f}",
            "labels": short_labels(r["labels"].split(",")),
            "published": (r["published"] or "").replace("T", " ")[:16],
            "why": clip(one_line(short_why(r["why"])), WHY_WIDTH),
        }
        for r in records
    ]
    columns = ("id", "score", "labels", "published", "source", "why", "title")
    return table(display, columns, flex="title") + "\n" + LABEL_LEGEND


def feed_state(row: dict[str, Any]) -> str:
    """disabled, paused, new, ok, failing (one failure) or backing off (several in a row)."""
    if not row["enabled"]:
        return "disabled"
    if row["paused"]:
        return "paused"
    if row["last_polled"] is None:
        return "new"
    failures = row["consecutive_failures"] or 0
    return "ok" if failures == 0 else "failing" if failures == 1 else "backing off"


def status_records(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "name": row["name"],
            "state": feed_state(row),
            "url": row["url"],
            "config_url": row["config_url"],
            "pause_reason": row["pause_reason"],
            "last_polled": row["last_polled"],
            "last_status": row["last_status"],
            "last_success": row["last_success"],
            "last_error": row["last_error"],
            "last_warning": row["last_warning"],
            "failures": row["consecutive_failures"] or 0,
            "failure_score": row["failure_score"] or 0.0,
            "next_poll": row["next_poll"],
            "articles": row["articles"],
            "new_7d": row["new_articles"],
        }
        for row in rows
    ]


def format_status(
    rows: Sequence[dict[str, Any]],
    fmt: str,
    footer: str | None = None,
    *,
    summary: StorySummary | None = None,
    missed: dict[str, Any] | None = None,
) -> str:
    """The feed table with the last days' `summary` and `footer` (the missed-stories estimate)
    under it; JSON: the list of feeds; json-full: {"feeds", "summary", "missed"}."""
    records = status_records(rows)
    if fmt == "json":
        return json.dumps(records, ensure_ascii=False, indent=2)
    if fmt == "json-full":
        document = {
            "feeds": records,
            "summary": summary.as_dict() if summary is not None else None,
            "missed": missed,
        }
        return json.dumps(document, ensure_ascii=False, indent=2)
    if not records:
        return "No feeds yet: run `monitor run --once` first."
    parts = [_status_table(records)]
    if summary is not None:
        parts.append(format_summary(summary, "stories flagged or marked relevant"))
    if footer:
        parts.append(one_line(footer))
    return "\n\n".join(parts)


def _status_table(records: list[dict[str, Any]]) -> str:
    display = [
        {
            **r,
            "last_success": (r["last_success"] or "never").replace("T", " ")[:16],
            "next_poll": "-"
            if r["pause_reason"]
            else (r["next_poll"] or "now").replace("T", " ")[:16],
            "last_error": r["pause_reason"] or r["last_error"] or r["last_warning"] or "",
        }
        for r in records
    ]
    return table(display, STATUS_COLUMNS, flex="last_error")


ESTIMATE_COLUMNS = ("week", "unflagged", "sampled", "reviewed", "relevant", "missed", "95% CI")


def format_estimates(estimates: Sequence[Any], fmt: str) -> str:
    """`monitor audit --estimate`: one row per audit week (monitor.audit.MissedEstimate)."""
    records = [e.as_dict() for e in estimates]
    if fmt == "json":
        return json.dumps(records, ensure_ascii=False, indent=2)
    if not records:
        return "No audit yet: `monitor audit` draws unflagged stories for review."
    display = [
        {
            **r,
            "missed": "" if r["missed_per_week"] is None else f"{r['missed_per_week']:,.0f}",
            "95% CI": "" if r["low"] is None else f"{r['low']:,.0f}–{r['high']:,.0f}",
        }
        for r in records
    ]
    return table(display, ESTIMATE_COLUMNS, flex="95% CI")
