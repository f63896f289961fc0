"""Hostile feed text into files other programs read: spreadsheet-safe CSV cells and
Markdown-safe table cells."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any, TextIO
from urllib.parse import quote, urlsplit

from monitor.text import one_line, strip_controls

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Characters CommonMark and GitHub's Markdown give a meaning inside a table cell: emphasis, code,
# links and images ([), raw HTML and entities, cell borders, strikethrough, maths ($), and the
# `:`, `.` and `@` by which bare URLs, www. addresses and e-mail addresses become links.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~&:@$.])")
_PLAIN = re.compile(r"^[0-9WTZ:+.\-]*$")  # dates, weeks, numbers: nothing Markdown reads
_URL_SAFE = "/:?&=#%;,+@!$*'()[]"  # kept as they are in a link; anything else is %-encoded


def csv_safe(value: Any) -> str:
    """A cell a spreadsheet shows as text: formula-like cells get a leading apostrophe, which
    LibreOffice shows as part of the text when it reads a CSV (it is not the typing shortcut
    there) and does not run. Tabs become spaces: LibreOffice drops them from cells."""
    text = "" if value is None else str(value)
    text = strip_controls(text.replace("\r\n", "\n"))
    if text.startswith(_FORMULA_PREFIXES):
        text = "'" + text
    return text.replace("\t", " ")


def write_csv(rows: Iterable[dict[str, Any]], out: TextIO, columns: Sequence[str]) -> int:
    """RFC 4180 CSV (CRLF line ends, minimal quoting) with a header row; returns data rows."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow([csv_safe(row.get(column)) for column in columns])
        count += 1
    return count


def csv_text(rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> str:
    buffer = io.StringIO()
    write_csv(rows, buffer, columns)
    return buffer.getvalue()


def md_escape(value: Any) -> str:
    """Text for one Markdown table cell: one line, every character Markdown reads as markup
    backslash-escaped, so feed text can neither break the table nor add links, images or HTML."""
    text = one_line("" if value is None else str(value))
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def md_plain(value: Any) -> str:
    """A date, week or number as it is; anything else escaped as `md_escape` does."""
    text = "" if value is None else str(value)
    return text if _PLAIN.match(text) else md_escape(text)


def md_link(url: str | None) -> str:
    """An http(s) URL as a Markdown autolink (characters that could end it or split the table
    %-encoded); anything else as escaped text."""
    text = one_line(url or "")
    try:
        scheme = urlsplit(text).scheme.lower()
    except ValueError:
        scheme = ""
    if scheme not in ("http", "https"):
        return md_escape(text)
    return f"<{quote(text, safe=_URL_SAFE)}>"


def markdown_table(
    rows: Iterable[dict[str, Any]], columns: Sequence[str], plain: Sequence[str] = ()
) -> str:
    """A GitHub-style table: the `url` column as links, `plain` columns (dates, numbers) as
    `md_plain` has them, every other cell escaped."""
    lines = ["| " + " | ".join(md_escape(c.replace("_", " ")) for c in columns) + " |"]
    lines.append("|" + "---|" * len(columns))
    for row in rows:
        cells = [_md_cell(row.get(column), column, plain) for column in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _md_cell(value: Any, column: str, plain: Sequence[str]) -> str:
    if column == "url":
        return md_link(value)
    return md_plain(value) if column in plain else md_escape(value)
