from __future__ import annotations

from html.parser import HTMLParser

import pytest

from monitor.export import csv_safe
from monitor.text import html_to_text, one_line, strip_controls
from monitor.urls import canonical_url, safe_url

HOSTILE = [
    ("\x1b[31mred\x1b[0m", "red"),
    ("a\x1b]8;;http://evil.test\x1b\\link\x1b]8;;\x1b\\b", "alinkb"),
    ("x\x1b]52;c;ZXZpbA==\x07y", "xy"),
    ("x\x1b]0;new title\x07y", "xy"),
    ("x\x9b31my", "xy"),
    ("x\x9d8;;http://e\x9cy", "xy"),
    ("a\u202eb\u2066c\u200bd", "abcd"),
    ("bell\x07 null\x00 del\x7f", "bell null del"),
]


@pytest.mark.parametrize(("raw", "clean"), HOSTILE)
def test_escape_sequences_and_controls_removed(raw: str, clean: str) -> None:
    assert strip_controls(raw) == clean


def test_ordinary_text_untouched() -> None:
    text = "탈북민 13명 강제북송 위기 · 脱北者 · 強制送還 — “quotes” [bold]not markup[/]"
    assert strip_controls(text) == text


def test_one_line_collapses_whitespace() -> None:
    assert one_line("  a\n\tb\r\n  c\u00a0 ") == "a b c"


def test_html_to_text() -> None:
    html = "<p>Guards &amp; <b>cameras</b>&#8217;</p><script>alert(1)</script><p>Next</p>"
    assert html_to_text(html) == "Guards & cameras’ Next"


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("HTTPS://News.Example:443/a?id=1&utm_source=rss#top", "https://news.example/a?id=1"),
        ("http://news.example:80/a?fbclid=1&gclid=2&Page=2", "http://news.example/a?Page=2"),
        ("https://news.example", "https://news.example/"),
        ("https://news.example:8443/a", "https://news.example:8443/a"),
        ("javascript:alert(1)", None),
        ("data:text/html,x", None),
        ("file:///etc/passwd", None),
        ("vbscript:msgbox", None),
        ("/relative/path", None),
        (None, None),
    ],
)
def test_canonical_url(url: str | None, canonical: str | None) -> None:
    assert canonical_url(url) == canonical


def test_safe_url_rejects_control_characters() -> None:
    assert safe_url("https://news.example/a\x1b[31m") is None


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "' =1"),  # tabs become spaces: LibreOffice drops them from cells
        ("\r=1", "'=1"),
        ("plain", "plain"),
        ("탈북민", "탈북민"),
        (None, ""),
    ],
)
def test_csv_cells_neutralised(value: str | None, cell: str) -> None:
    assert csv_safe(value) == cell


HIDDEN = {"script", "style", "template", "noscript"}
BLOCKS = {"p", "br", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"}


class _ReferenceText(HTMLParser):
    """What a real HTML parser sees as text, to hold html_to_text's regular expressions to."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.hidden += tag in HIDDEN
        self.parts.append(" " if tag in BLOCKS else "")

    def handle_endtag(self, tag: str) -> None:
        self.hidden -= self.hidden > 0 and tag in HIDDEN
        self.parts.append(" " if tag in BLOCKS else "")

    def handle_data(self, data: str) -> None:
        self.parts.append("" if self.hidden else data)


def _words(text: str) -> list[str]:
    return text.split()


FRAGMENTS = [
    '<p class="lede">Thirteen people <em>detained</em> in Yunnan &amp; sent to Dandong.</p>',
    "<div><ul><li>One</li><li>Two</li></ul></div><br/>Three",
    "<style>p { color: red }</style><p>Visible</p><!-- a comment --><script src=x></script>",
    '<img src="x.jpg" alt="photo"> caption<br>next line',
    "Prices rose 3% &lt; 5% &#8212; &quot;quoted&quot; &nbsp;and &#x1F600;",
    "<h2>Heading</h2><blockquote>Quote</blockquote><table><tr><td>cell</td></tr></table>",
    "탈북민 <b>13명</b> 강제북송 &middot; <i>脱北者</i> の<span>送還</span>",
    "<![CDATA[not really]]> <?xml-stylesheet href='a'?> <!DOCTYPE x> text",
    "a < b and c > d, but <3 stays",
    "<SCRIPT>upper()</SCRIPT><P>Upper case tags</P>",
]


@pytest.mark.parametrize("fragment", FRAGMENTS)
def test_html_to_text_reads_markup_as_an_html_parser_does(fragment: str) -> None:
    reference = _ReferenceText()
    reference.feed(fragment)
    reference.close()
    assert _words(html_to_text(fragment)) == _words(one_line("".join(reference.parts)))


@pytest.mark.parametrize(
    ("fragment", "text"),
    [
        ("kept <script>dropped() to the end", "kept"),
        ("kept <!-- never closed", "kept"),
        ("kept <a href='x", "kept"),
        ("<p>kept</p><style>never closed", "kept"),
    ],
)
def test_unclosed_markup_hides_the_rest(fragment: str, text: str) -> None:
    assert html_to_text(fragment) == text


@pytest.mark.parametrize("unit", ["<a", "<script", "<!--x-->", "<p x='", "</x"])
def test_hostile_markup_is_read_in_linear_time(unit: str) -> None:
    """Each would cost a scan to the end from every "<" if a pattern could fail there: 10^10
    steps for this size, which would stall the suite rather than pass slowly."""
    assert isinstance(html_to_text(unit * 100_000), str)


def test_every_escape_sequence_starts_with_a_control_character() -> None:
    """strip_controls skips text without control characters; that is only safe if no escape
    sequence can begin with anything else."""
    from monitor.text import _CONTROL, _ESCAPE_SEQUENCE

    starts = {chr(c) for c in range(0x110000) if _ESCAPE_SEQUENCE.match(chr(c) + "[31m")}
    assert starts and all(_CONTROL.match(c) for c in starts)
