"""Making hostile feed text safe: HTML to plain text, and no control sequences for terminals."""

from __future__ import annotations

import html
import re

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
# Markup, for reducing an HTML fragment to its text. Elements whose content is never text are
# dropped whole, block tags become spaces, every other tag, comment, declaration and processing
# instruction disappears; a "<" not followed by a tag name is text, as HTML parsers read it.
# Each pattern can also end at the end of the fragment, so an unclosed construct is one match
# to the end (not one failed scan from every "<": hostile input must not make this quadratic).
_HIDDEN_ELEMENT = re.compile(
    r"<(script|style|template|noscript)\b[^>]*(?:>.*?(?:</\1[^>]*(?:>|$)|$)|$)",
    re.IGNORECASE | re.DOTALL,
)
_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)
_BLOCK_TAG = re.compile(
    r"</?(?:p|br|div|li|tr|h[1-6]|blockquote)(?:[\s/][^>]*)?(?:>|$)", re.IGNORECASE
)
_ANY_TAG = re.compile(r"</?[A-Za-z][^>]*(?:>|$)|<![^>]*(?:>|$)|<\?[^>]*(?:>|$)")


def strip_controls(text: str) -> str:
    """Remove escape sequences and control/bidi characters, keeping ordinary text."""
    if not _CONTROL.search(text):  # every escape sequence starts with one: most text is clean
        return text
    return _CONTROL.sub("", _ESCAPE_SEQUENCE.sub("", text))


def one_line(text: str) -> str:
    """Safe, single-line text: controls stripped, all whitespace runs collapsed to one space."""
    return _SPACES.sub(" ", strip_controls(text)).strip()


def html_to_text(markup: str) -> str:
    """Plain text of an HTML fragment: tags dropped, entities decoded, whitespace collapsed.

    Regular expressions rather than an HTML parser: the result is only ever shown as text, and
    this runs for every article of every poll (html.parser took 0.3 ms an article).
    """
    if "<" in markup:
        markup = _HIDDEN_ELEMENT.sub(" ", _COMMENT.sub(" ", markup))
        markup = _ANY_TAG.sub("", _BLOCK_TAG.sub(" ", markup))
    if "&" in markup:
        markup = html.unescape(markup)
    return one_line(markup)
