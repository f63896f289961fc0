"""The classifications table: every score a model version gave an article."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import sqlite_utils

from storage.records import ClassificationIn
from storage.stories import refresh_stories, score_story

SCORED_LABELS = ("defectors", "repatriation", "border")


def save_classification(
    db: sqlite_utils.Database,
    article_id: int,
    model_version: str,
    result: ClassificationIn,
    now: str,
    *,
    new_article: bool = False,
) -> int:
    """Store (or replace) this model version's verdict and make it the article's current one.
    `new_article`: the article was inserted in this transaction, so it has nothing to replace."""
    row = {
        "article_id": article_id,
        "model_version": model_version,
        "score": max(result.scores.values(), default=0.0),
        "labels": json.dumps(list(result.labels)),
        "flagged": int(result.flagged),
        "classified_at": now,
        "why": _why_json(result.why),
        "margin": result.margin,
    }
    for label in SCORED_LABELS:
        row[f"score_{label}"] = float(result.scores.get(label, 0.0))
    if not new_article:
        db.execute(
            "delete from classifications where article_id = ? and model_version = ?",
            [article_id, model_version],
        )
    columns = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    cursor = db.execute(
        f"insert into classifications ({columns}) values ({marks})", list(row.values())
    )
    class_id = cursor.lastrowid
    db.execute("update articles set classification_id = ? where id = ?", [class_id, article_id])
    if new_article:
        score_story(db, article_id, row["score"], result.flagged, result.margin)
    else:
        story = db.execute("select story_id from articles where id = ?", [article_id]).fetchone()
        if story and story[0] is not None:
            refresh_stories(db, [story[0]])
    assert class_id is not None
    return class_id


def _why_json(why: Mapping[str, Sequence[str]]) -> str | None:
    """{label: [term, ...]} as JSON, None when there is nothing to explain."""
    cleaned = {label: list(terms) for label, terms in why.items() if terms}
    return json.dumps(cleaned, ensure_ascii=False) if cleaned else None


def decode_why(text: str | None) -> dict[str, list[str]]:
    """The stored why column back as {label: [term, ...]}; {} when absent or unreadable."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {
        str(label): [str(term) for term in terms]
        for label, terms in value.items()
        if isinstance(terms, list)
    }
