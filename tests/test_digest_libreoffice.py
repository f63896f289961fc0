"""The digest's CSV opened in LibreOffice Calc: every cell as written, nothing run as a formula.

A digest with Korean and Chinese titles, commas, quotes, line breaks and formula-like cells is
written by `monitor digest` from a real database, converted to .ods by `soffice --headless`
(reading it as UTF-8, comma-separated, as its import dialog would), and every cell of the
spreadsheet is compared with the CSV. Skipped where LibreOffice is missing, unless
NK_REQUIRE_LIBREOFFICE=1 (as in CI), where that is a failure.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from tests.test_digest import FEEDS, Newsroom, article, flag

CSV_FILTER = "CSV:44,34,76,1"  # comma, double quote, UTF-8, from line 1
NS = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
}
NUMBERS = ("outlets", "score")  # read by Calc as numbers, as a spreadsheet should
TITLES = [
    '중국 공안, 탈북민 13명 체포…"강제북송" 우려',
    "云南警方抓获13名朝鲜人，已移送丹东 “强制遣返”",
    '=HYPERLINK("https://evil.test/x", "click")',
    "+82 탈북민, 인천 도착",
    "-30도 압록강, 국경 경비 강화",
    "@SUM(1+1) 边境",
    "Quotes \"inside\", commas, and 'apostrophes'",
]
NOTES = {
    0: "line one\nline two, with a comma",
    1: '=1+2 "quoted"',
    2: "\ttab first\n=second line",
}


def _soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        if os.environ.get("NK_REQUIRE_LIBREOFFICE") == "1":
            pytest.fail("NK_REQUIRE_LIBREOFFICE=1 but LibreOffice (soffice) is not installed")
        pytest.skip("LibreOffice (soffice) is not installed")
    return found


def convert(files: list[Path], out: Path, profile: Path) -> None:
    """CSV files to .ods in `out`, with a LibreOffice profile of their own."""
    command = [
        _soffice(),
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--norestore",
        f"--infilter={CSV_FILTER}",
        "--convert-to",
        "ods",
        "--outdir",
        str(out),
        *map(str, files),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr


def _text(element: ElementTree.Element) -> str:
    """The text of a <text:p>: spaces (<text:s c=…>), tabs and line breaks as characters."""
    parts = [element.text or ""]
    for child in element:
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "s":
            parts.append(" " * int(child.get(f"{{{NS['text']}}}c", "1")))
        elif tag == "tab":
            parts.append("\t")
        elif tag == "line-break":
            parts.append("\n")
        else:
            parts.append(_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def read_cells(ods: Path) -> list[list[dict[str, str | None]]]:
    """Each row's cells (empty ones too, but not those after the last): type, value, formula
    and text as Calc stored them."""
    root = ElementTree.fromstring(zipfile.ZipFile(ods).read("content.xml"))
    rows = []
    for row in root.iter(f"{{{NS['table']}}}table-row"):
        cells = []
        for cell in row.iter(f"{{{NS['table']}}}table-cell"):
            repeat = int(cell.get(f"{{{NS['table']}}}number-columns-repeated", "1"))
            paragraphs = cell.findall("text:p", NS)
            found = {
                "type": cell.get(f"{{{NS['office']}}}value-type"),
                "value": cell.get(f"{{{NS['office']}}}value"),
                "formula": cell.get(f"{{{NS['table']}}}formula"),
                "text": "\n".join(_text(p) for p in paragraphs) if paragraphs else None,
            }
            cells += [found] * min(repeat, 50)
        while cells and cells[-1]["type"] is None:
            cells.pop()
        rows.append(cells)
    return [row for row in rows if row]


def build(path: Path) -> Newsroom:
    room = Newsroom(path)
    for i, title in enumerate(TITLES):
        when = f"2026-11-2{3 + i % 5}T0{i}:15:00Z"
        article_id = room.carry(FEEDS[i % 3], article(f"t{i}", title, when), flag("defectors"))
        if i in NOTES:
            room.review(article_id, "relevant", labels=["repatriation", "border"], note=NOTES[i])
    return room


def test_the_csv_opens_cell_for_cell_in_libreoffice(tmp_path: Path) -> None:
    _soffice()
    room = build(tmp_path / "lo.db")
    base = ["--db", str(room.path), "digest", "--week", "2026-W48"]
    plain, bom = tmp_path / "digest.csv", tmp_path / "digest-bom.csv"
    for out, extra in ((plain, []), (bom, ["--bom"])):
        result = CliRunner().invoke(cli, [*base, *extra, "--out", str(out)])
        assert result.exit_code == 0, result.output
    control = tmp_path / "control.csv"  # proves Calc runs formulas when it reads a CSV this way
    control.write_bytes(b"a,b\r\n=1+2,'=1+2\r\n")
    convert([plain, bom, control], tmp_path / "ods", tmp_path / "profile")

    written = list(csv.reader(io.StringIO(plain.read_text(encoding="utf-8"), newline="")))
    assert len(written) == len(TITLES) + 1
    for name in ("digest", "digest-bom"):
        sheet = read_cells(tmp_path / "ods" / f"{name}.ods")
        assert len(sheet) == len(written)
        header = written[0]
        for row_cells, row_written in zip(sheet, written, strict=True):
            empty = {"type": None, "value": None, "formula": None, "text": None}
            row_cells += [empty] * (len(row_written) - len(row_cells))  # an empty note last
            for column, cell, text in zip(header, row_cells, row_written, strict=True):
                assert cell["formula"] is None, (column, text)
                if not text:
                    assert cell["type"] is None, column
                elif column in NUMBERS and text != column:
                    assert cell["type"] == "float" and float(cell["value"]) == float(text)
                else:
                    assert (cell["type"], cell["text"]) == ("string", text), column
    # what the analyst sees in the formula-like cells: the text, apostrophe included
    sheet = read_cells(tmp_path / "ods" / "digest.ods")
    shown = {cell["text"] for row in sheet for cell in row}
    assert '\'=HYPERLINK("https://evil.test/x", "click")' in shown
    assert {"'+82 탈북민, 인천 도착", "'-30도 압록강, 국경 경비 강화", "'@SUM(1+1) 边境"} <= shown
    assert {'\'=1+2 "quoted"', "' tab first\n=second line", NOTES[0]} <= shown
    assert TITLES[0] in shown and TITLES[1] in shown

    [_, (evaluated, kept)] = read_cells(tmp_path / "ods" / "control.ods")
    assert evaluated["formula"] == "of:=1+2" and evaluated["value"] == "3"
    assert (kept["type"], kept["formula"], kept["text"]) == ("string", None, "'=1+2")
