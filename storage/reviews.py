"""The reviews table: analysts' verdicts, append-only, newest first.

A verdict is given on one article and applies to its whole story: an article's verdict is the
newest review of its story (`LATEST_REVIEW`). "escalated" is a relevant story a colleague
should see: it trains as relevant. Changing a story's labels or note appends a row that keeps
its verdict, so undo (deleting the newest row) takes back any kind of change."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlite_utils

from storage.classifications import SCORED_LABELS

VERDICTS = ("relevant", "not-relevant", "escalated")
RELEVANT_VERDICTS = ("relevant", "escalated")  # verdicts whose labels teach the model
# SQL fragments shared by the read queries. The current verdict is the newest review of a
# story: its id for the story of the article aliased `a`, or for the story aliased `s`.
LATEST_REVIEW = "(select max(r2.id) from reviews r2 where r2.story_id = a.story_id)"
LATEST_STORY_REVIEW = "(select max(r2.id) from reviews r2 where r2.story_id = s.id)"
# the verdict `r` is relevant or escalated; then its labels, else the classification `c`'s
RELEVANT_SQL = f"r.verdict in ({', '.join(repr(v) for v in RELEVANT_VERDICTS)})"
CURRENT_LABELS = f"case when {RELEVANT_SQL} then r.labels else c.labels end"


class ReviewError(ValueError):
    """A review that cannot be stored: unknown article, verdict or label, or a change the
    story's current verdict does not allow."""


def add_review(
    db: sqlite_utils.Database,
    article_id: int,
    verdict: str,
    now: str,
    *,
    labels: Sequence[str] | None = None,
    note: str | None = None,
) -> int:
    """Record a verdict and return its id.

    Labels default to the model's current labels; an article the model did not flag (an audit
    sample, say) that is marked relevant gets the label the model rated highest, so that the
    verdict teaches the next model something (correct it with `labels`).
    """
    if verdict not in VERDICTS:
        raise ReviewError(f"verdict must be one of {', '.join(VERDICTS)}, got {verdict!r}")
    scores = ", ".join(f"c.score_{label}" for label in SCORED_LABELS)
    row = db.execute(
        f"select a.story_id, c.labels, {scores} from articles a left join classifications c"
        " on c.id = a.classification_id where a.id = ?",
        [article_id],
    ).fetchone()
    if row is None:
        raise ReviewError(f"no article with id {article_id}")
    story_id = row[0]
    if labels is None:
        labels = _default_labels(row[1], row[2:]) if verdict in RELEVANT_VERDICTS else []
    if note is None:
        previous = latest_review(db, article_id)
        note = previous["note"] if previous else ""
    with db.atomic():
        cursor = db.execute(
            "insert into reviews (article_id, story_id, verdict, labels, note, reviewed_at)"
            " values (?, ?, ?, ?, ?, ?)",
            [article_id, story_id, verdict, json.dumps(list(labels)), note, now],
        )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def toggle_label(db: sqlite_utils.Database, article_id: int, label: str, now: str) -> int:
    """Add or remove one of the analyst's labels on the article's story; returns the review id.

    A relevant or escalated story keeps its verdict; any other (unreviewed, not relevant)
    becomes relevant with just this label. A relevant story keeps at least one label.
    """
    if label not in SCORED_LABELS:
        raise ReviewError(f"label must be one of {', '.join(SCORED_LABELS)}, got {label!r}")
    current = latest_review(db, article_id)
    if current is None or current["verdict"] not in RELEVANT_VERDICTS:
        return add_review(db, article_id, "relevant", now, labels=[label])
    labels = json.loads(current["labels"] or "[]")
    labels = [x for x in labels if x != label] if label in labels else [*labels, label]
    if not labels:
        verdict = current["verdict"]
        raise ReviewError(f"a {verdict} story needs a label: mark it not relevant instead")
    ordered = [x for x in SCORED_LABELS if x in labels]
    return add_review(db, article_id, current["verdict"], now, labels=ordered)


def set_note(db: sqlite_utils.Database, article_id: int, note: str, now: str) -> int:
    """Replace the note on the article's story, keeping its verdict and labels; returns the
    review id. A story without a verdict has nowhere to keep a note: that is a ReviewError."""
    current = latest_review(db, article_id)
    if current is None:
        raise ReviewError("give the story a verdict before a note")
    labels = json.loads(current["labels"] or "[]")
    return add_review(db, article_id, current["verdict"], now, labels=labels, note=note)


def current_labels(db: sqlite_utils.Database, article_id: int) -> list[str] | None:
    """The analyst's labels on the article's story when its verdict is relevant or escalated,
    else None (a new relevant verdict then takes the model's)."""
    current = latest_review(db, article_id)
    if current is None or current["verdict"] not in RELEVANT_VERDICTS:
        return None
    return list(json.loads(current["labels"] or "[]"))


def _default_labels(model_labels: str | None, scores: Sequence[float | None]) -> list[str]:
    labels = json.loads(model_labels or "[]")
    if labels:
        return list(labels)
    scored = [(s, label) for label, s in zip(SCORED_LABELS, scores, strict=True) if s is not None]
    return [max(scored)[1]] if scored else []


def undo_review(db: sqlite_utils.Database, review_id: int) -> None:
    """Withdraw a verdict: the article's previous verdict (if any) becomes current again."""
    with db.atomic():
        db.execute("delete from reviews where id = ?", [review_id])


def latest_review(db: sqlite_utils.Database, article_id: int) -> dict[str, Any] | None:
    """The current verdict on the article's story, if any."""
    sql = f"select r.* from articles a join reviews r on r.id = {LATEST_REVIEW} where a.id = ?"
    rows = list(db.query(sql, [article_id]))
    return rows[0] if rows else None


def reviewed_examples(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """The text of every article in a reviewed story, with the story's current verdict and
    labels, for retraining."""
    sql = f"""
        select a.id, a.title, a.summary, a.language, r.verdict, r.labels
        from articles a join reviews r on r.id = {LATEST_REVIEW}
        order by a.id
    """
    rows = []
    for row in db.query(sql):
        relevant = row["verdict"] in RELEVANT_VERDICTS
        row["labels"] = json.loads(row["labels"] or "[]") if relevant else []
        rows.append(row)
    return rows


def review_counts(db: sqlite_utils.Database) -> tuple[int, int]:
    """(number of reviews, highest review id or 0): whether verdicts changed since a model."""
    count, latest = db.execute("select count(*), coalesce(max(id), 0) from reviews").fetchone()
    return int(count), int(latest)


def unreviewed_articles(
    db: sqlite_utils.Database, not_by_version: str, after_id: int, limit: int
) -> list[dict[str, Any]]:
    """Articles without a verdict whose current classification is not by `not_by_version`,
    in id order after `after_id`: id, title, summary."""
    sql = """
        select a.id, a.title, a.summary from articles a
        left join classifications c on c.id = a.classification_id
        where a.id > ?
          and not exists (select 1 from reviews r where r.story_id = a.story_id)
          and (c.model_version is null or c.model_version != ?)
        order by a.id limit ?
    """
    return list(db.query(sql, [after_id, not_by_version, limit]))
