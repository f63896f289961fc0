"""Turning query rows into what the CLI prints: aligned tables, CSV or JSON."""

from __future__ import annotations

import json
import shutil
import unicodedata
from collections.abc import Sequence
from typing import Any

from monitor.export import csv_text
from monitor.text import one_line

FLAGGED_COLUMNS = ("id", "score", "labels", "published", "source", "title", "url")


def display_width(text: str) -> int:
    """Terminal cells: East Asian wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def clip(text: str, width: int) -> str:
    if display_width(text) <= width:
        return text + " " * (width - display_width(text))
    out, used = "", 0
    for ch in text:
        w = display_width(ch)
        if used + w > width - 1:
            break
        out += ch
        used += w
    return out + "…" + " " * (width - used - 1)


def table(
    rows: Sequence[dict[str, Any]], columns: Sequence[str], *, max_width: int | None = None
) -> str:
    """A plain aligned table; the last column is clipped to the terminal width."""
    cells = [
        [one_line(str(row.get(c) if row.get(c) is not None else "")) for c in columns]
        for row in rows
    ]
    widths = [
        max([display_width(c)] + [display_width(r[i]) for r in cells])
        for i, c in enumerate(columns)
    ]
    total = max_width or shutil.get_terminal_size((120, 24)).columns
    fixed = sum(widths[:-1]) + 2 * (len(columns) - 1)
    widths[-1] = max(10, min(widths[-1], total - fixed))
    lines = ["  ".join(clip(c, w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    for row in cells:
        lines.append("  ".join(clip(c, w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def flagged_records(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "id": row["id"],
            "score": round(row["score"], 3),
            "labels": ",".join(row["labels"]),
            "published": row["published"] or row["fetched"],
            "source": row["source"],
            "title": row["title"],
            "url": row["url"] or "",
            "scores": {k: round(v, 3) for k, v in row["scores"].items()},
            "model_version": row["model_version"],
        }
        for row in rows
    ]


def format_flagged(rows: Sequence[dict[str, Any]], fmt: str) -> str:
    records = flagged_records(rows)
    if fmt == "json":
        return json.dumps(records, ensure_ascii=False, indent=2)
    if fmt == "csv":
        return csv_text(records, FLAGGED_COLUMNS).rstrip("\r\n")
    if not records:
        return "No flagged stories waiting for review."
    display = [
        {**r, "score": f"{r['score']:.2f}", "published": (r["published"] or "")[:16]}
        for r in records
    ]
    columns = ("id", "score", "labels", "published", "source", "title")
    return table(display, columns)


def feed_state(row: dict[str, Any]) -> str:
    if not row["enabled"]:
        return "disabled"
    if row["last_polled"] is None:
        return "new"
    return "failing" if row["consecutive_failures"] else "ok"


def status_records(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "name": row["name"],
            "state": feed_state(row),
            "url": row["url"],
            "last_polled": row["last_polled"],
            "last_status": row["last_status"],
            "last_success": row["last_success"],
            "last_error": row["last_error"],
            "last_warning": row["last_warning"],
            "failures": row["consecutive_failures"] or 0,
            "next_poll": row["next_poll"],
            "articles": row["articles"],
        }
        for row in rows
    ]


def format_status(rows: Sequence[dict[str, Any]], fmt: str) -> str:
    records = status_records(rows)
    if fmt == "json":
        return json.dumps(records, ensure_ascii=False, indent=2)
    if not records:
        return "No feeds yet: run `monitor run --once` first."
    display = [
        {
            **r,
            "last_success": (r["last_success"] or "never")[:16],
            "next_poll": (r["next_poll"] or "now")[:16],
            "last_error": r["last_error"] or r["last_warning"] or "",
        }
        for r in records
    ]
    order = ("name", "state", "last_success", "failures", "next_poll", "articles", "last_error")
    return table(display, order)
