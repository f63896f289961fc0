"""The analysts' review UI (Textual).

Importing this package is cheap and does not import Textual: `run_review` imports the app when
it is called, so the CLI can import `monitor.tui` lazily and headless commands never load Textual.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["run_review"]


def run_review(
    db_path: Path, include_reviewed: bool = False, order: str = "score", audit: bool = False
) -> None:
    """Open the review UI on the database at `db_path`; return when the analyst quits.
    `order`: score, date or uncertain (see storage.review_queue); `audit`: the audit sample.

    Example: `run_review(Path("~/.local/share/nk-monitor/monitor.db").expanduser())`
    """
    from monitor.tui.app import ReviewApp

    ReviewApp(Path(db_path), include_reviewed=include_reviewed, order=order, audit=audit).run()
