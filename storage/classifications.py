"""The classifications table: every score a model version gave an article."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import sqlite_utils

from storage.records import ClassificationIn
from storage.stories import refresh_stories

SCORED_LABELS = ("defectors", "repatriation", "border")


COLUMNS = (
    "article_id", "model_version", "score", "labels", "flagged", "classified_at", "why",
    "margin", *(f"score_{label}" for label in SCORED_LABELS),
)  # fmt: skip


def top_score(result: ClassificationIn) -> float:
    """The score a classification ranks by: its highest label score."""
    return max(result.scores.values(), default=0.0)


def classification_row(
    article_id: int, model_version: str, result: ClassificationIn, now: str
) -> tuple[object, ...]:
    """The values of a classifications row for `result`, in the order of COLUMNS."""
    return (
        article_id,
        model_version,
        top_score(result),
        json.dumps(list(result.labels)),
        int(result.flagged),
        now,
        _why_json(result.why),
        result.margin,
        *(float(result.scores.get(label, 0.0)) for label in SCORED_LABELS),
    )


def save_classification(
    db: sqlite_utils.Database,
    article_id: int,
    model_version: str,
    result: ClassificationIn,
    now: str,
) -> int:
    """Store (or replace) this model version's verdict, make it the article's current one and
    recompute its story's scores. (Articles stored by a poll get theirs with the article:
    storage.articles.)"""
    db.execute(
        "delete from classifications where article_id = ? and model_version = ?",
        [article_id, model_version],
    )
    marks = ", ".join("?" * len(COLUMNS))
    cursor = db.execute(
        f"insert into classifications ({', '.join(COLUMNS)}) values ({marks})",
        classification_row(article_id, model_version, result, now),
    )
    class_id = cursor.lastrowid
    db.execute("update articles set classification_id = ? where id = ?", [class_id, article_id])
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
