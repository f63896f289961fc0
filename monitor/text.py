"""Making hostile feed text safe: HTML to plain text, and no control sequences for terminals."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

# ESC-introduced sequences: CSI (ESC [ ... final), OSC/DCS/PM/APC/SOS (ESC ] ... BEL or ST),
# and two-character escapes. The 8-bit C1 forms (0x9b CSI, 0x9d OSC, ...) likewise.
_ESCAPE_SEQUENCE = re.compile(
    r"""
    (?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?      # CSI
    | (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f]).*?(?:\x07|\x1b\\|\x9c|$)   # OSC, DCS, SOS, PM, APC
    | \x1b[\x20-\x7e]?                                        # other ESC sequences
    """,
    re.VERBOSE | re.DOTALL,
)
# C0 and C1 controls (tab and newline handled by callers), DEL, and Unicode characters that
# reorder or hide text: bidi embeddings/overrides/isolates, zero-width and invisible marks.
_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]"
)
_SPACES = re.compile(r"[ \t\r\n\u00a0\u2028\u2029]+")
_BLOCK_TAGS = {"p", "br", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"}
_SKIP_TAGS = {"script", "style", "template", "noscript"}


def strip_controls(text: str) -> str:
    """Remove escape sequences and control/bidi characters, keeping ordinary text."""
    return _CONTROL.sub("", _ESCAPE_SEQUENCE.sub("", text))


def one_line(text: str) -> str:
    """Safe, single-line text: controls stripped, all whitespace runs collapsed to one space."""
    return _SPACES.sub(" ", strip_controls(text)).strip()


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skipping += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS and self._skipping:
            self._skipping -= 1
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Plain text of an HTML fragment: tags dropped, entities decoded, whitespace collapsed."""
    if "<" not in markup and "&" not in markup:
        return one_line(markup)
    parser = _TextExtractor()
    try:
        parser.feed(markup)
        parser.close()
        text = "".join(parser.parts)
    except Exception:  # HTMLParser is lenient, but never let a fragment stop a feed
        text = html.unescape(re.sub(r"<[^>]*>", " ", markup))
    return one_line(text)
