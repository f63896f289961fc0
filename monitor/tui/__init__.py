"""The analysts' review UI (Textual).

Importing this package is cheap and does not import Textual: `run_review` imports the app when
it is called, so the CLI can import `monitor.tui` lazily and headless commands never load Textual.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storage import StoryFilters

__all__ = ["run_review"]


def run_review(
    db_path: Path,
    include_reviewed: bool = False,
    order: str = "score",
    audit: bool = False,
    *,
    filters: StoryFilters | None = None,
) -> None:
    """Open the review UI on the database at `db_path`; return when the analyst quits.
    `filters` chooses the stories (see storage.StoryFilters); without it `include_reviewed`,
    `order` (score, date or uncertain) and `audit` (the audit sample) do.

    Example: `run_review(Path("~/.local/share/nk-monitor/monitor.db").expanduser())`
    """
    from monitor.tui.app import ReviewApp

    app = ReviewApp(
        Path(db_path), include_reviewed=include_reviewed, order=order, audit=audit, filters=filters
    )
    app.run()
