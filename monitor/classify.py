"""Scoring normalised articles with a trained model, wherever that happens.

The parse workers score the articles they have just read (`score_with`, the model loaded once
per process and again when a new version is installed); the daemon scores what they could not.
Each flagged article also gets the terms that drove each label it passed, and every article its
flag margin: how far its best label is above (or below) that label's threshold.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import storage
from classifiers.errors import ModelError
from monitor.why import MAX_TERMS, searchable, tidy_terms
from storage import ArticleIn, ClassificationIn

if TYPE_CHECKING:
    import sqlite_utils

    from classifiers import Model, Prediction

log = logging.getLogger("monitor.classify")
_loaded: dict[Path, Model] = {}  # this process's model, by version directory; at most one
EXPLAIN_CANDIDATES = 2 * MAX_TERMS  # terms asked for per label, before tidying (tidy_terms)

Pair = tuple[str, str]  # (title, summary)


def classify(model: Model, articles: Sequence[ArticleIn]) -> dict[str, ClassificationIn]:
    """Each article's scores, labels, flag, why-terms and margin, by article key."""
    results = classify_texts(model, [(a.title, a.summary) for a in articles])
    return {a.key: result for a, result in zip(articles, results, strict=True)}


def classify_texts(model: Model, texts: Sequence[Pair]) -> list[ClassificationIn]:
    """ClassificationIn for each (title, summary), in order; flagged ones with their why-terms."""
    return [
        ClassificationIn(
            p.scores,
            p.labels,
            p.flagged,
            why=why,
            margin=flag_margin(p.scores, model.thresholds),
        )
        for p, why in explained_predictions(model, texts)
    ]


def score_rows(
    db: sqlite_utils.Database, model: Model, rows: Sequence[Mapping[str, Any]], now: str
) -> None:
    """Score stored articles (rows with id, title, summary) with `model` and make those scores
    their current classification, in one transaction."""
    results = classify_texts(model, [(r["title"], r["summary"] or "") for r in rows])
    with db.atomic():
        for row, result in zip(rows, results, strict=True):
            storage.save_classification(db, row["id"], model.version, result, now)


def explained_predictions(
    model: Model, texts: Sequence[Pair]
) -> list[tuple[Prediction, dict[str, tuple[str, ...]]]]:
    """Each text's prediction with, for each label it passed, up to MAX_TERMS readable terms of
    the text that raised that label's score most. The one place that asks the model for
    explanations: the model explains the passing labels from the feature matrix it scored."""
    predictions = model.predict(list(texts), explain=True, top=EXPLAIN_CANDIDATES)
    return [
        (p, _why(p.terms, text) if p.flagged else {})
        for p, text in zip(predictions, texts, strict=True)
    ]


def _why(terms: Mapping[str, Sequence[str]], text: Pair) -> dict[str, tuple[str, ...]]:
    lowered = searchable(*text)
    return {label: tidy_terms(label_terms, lowered) for label, label_terms in terms.items()}


def flag_margin(scores: Mapping[str, float], thresholds: Mapping[str, float]) -> float | None:
    """max over labels of (score - threshold): >= 0 when flagged; its size is how sure the flag
    decision is. None without thresholds."""
    margins = [scores[label] - cut for label, cut in thresholds.items() if label in scores]
    return max(margins) if margins else None


def score_with(
    model_path: Path, articles: Sequence[ArticleIn]
) -> tuple[str, dict[str, ClassificationIn]] | None:
    """(model version, scores) from the model saved in `model_path`; None if it cannot be
    loaded, so that the caller scores the articles itself (and reports the problem)."""
    model = _loaded.get(model_path)
    if model is None:
        from classifiers import load_model

        try:
            model = load_model(model_path)
        except ModelError as exc:
            log.warning("cannot score here: %s", exc)
            return None
        _loaded.clear()
        _loaded[model_path] = model
    return model.version, classify(model, articles)
