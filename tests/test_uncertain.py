"""`monitor review --order uncertain`: the stories whose flag decision is least sure first,
flagged or not, scored by the real classifier."""

from __future__ import annotations

import asyncio
from pathlib import Path

import storage
from monitor.models import load_current
from monitor.tui.app import ReviewApp
from tests.test_explanations import store

TEXTS = [
    ("en", "China forcibly repatriates 60 North Korean defectors across the Tumen", ""),
    ("en", "Stocks close higher as tech shares rally", "Markets rose on Tuesday."),
    ("en", "North Korea fires missile into the sea", "Seoul condemned the launch."),
    ("en", "Seoul church group helps North Koreans settle", "Volunteers teach job skills."),
    ("ko", "탈북민 정착 지원 예산 늘린다", "통일부는 내년 예산을 늘렸다."),
    ("en", "Chinese police step up checks near the border", "Residents of Dandong say."),
    ("en", "Weather: heavy snow expected in Pyongyang", ""),
]


def expected_margins(model, texts) -> list[float]:
    """max over labels of score - threshold, computed here from the model's own numbers."""
    scores = model.scores([(title, summary) for _lang, title, summary in texts])
    cut = [model.thresholds[label] for label in model.labels]
    return [max(s - c for s, c in zip(row, cut, strict=True)) for row in scores]


def test_uncertain_order_puts_the_article_nearest_its_threshold_first(
    tmp_path: Path, model_dir: Path
) -> None:
    model = load_current(model_dir)
    path = tmp_path / "u.db"
    ids = store(path, model, TEXTS)
    margins = dict(zip(ids, expected_margins(model, TEXTS), strict=True))
    assert any(m < 0 for m in margins.values()) and any(m >= 0 for m in margins.values())
    by_certainty = sorted(ids, key=lambda i: abs(margins[i]))

    db = storage.open_db(path)
    uncertain = storage.StoryFilters(order="uncertain")
    queue = storage.story_queue(db, uncertain)  # each article is a story of its own here
    assert [r["article_id"] for r in queue] == by_certainty  # unflagged ones too
    assert [round(r["margin"], 6) for r in queue] == [round(margins[i], 6) for i in by_certainty]
    flagged = storage.story_queue(db)  # the default order: flagged only, highest score first
    assert {r["article_id"] for r in flagged} == {i for i in ids if margins[i] >= 0}
    storage.add_review(db, by_certainty[0], "not-relevant", "2026-11-26T10:00:00Z")
    assert storage.story_queue(db, uncertain)[0]["article_id"] == by_certainty[1]
    db.close()

    async def main() -> None:
        app = ReviewApp(path, order="uncertain")
        async with app.run_test(size=(80, 24)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert app._order == by_certainty[1:]
            assert app.highlighted() == by_certainty[1]
            assert "nearest the flag threshold first" in app.status_text
            body = str(app.query_one("#detail-body").content)
            assert f"flag margin {margins[by_certainty[1]]:+.2f}" in body

    asyncio.run(main())
