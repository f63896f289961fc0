"""Scoring normalised articles with a trained model, wherever that happens.

The parse workers score the articles they have just read (`score_with`, the model loaded once
per process and again when a new version is installed); the daemon scores what they could not.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from classifiers.errors import ModelError
from storage import ArticleIn, ClassificationIn

if TYPE_CHECKING:
    from classifiers import Model

log = logging.getLogger("monitor.classify")
_loaded: dict[Path, Model] = {}  # this process's model, by version directory; at most one


def classify(model: Model, articles: Sequence[ArticleIn]) -> dict[str, ClassificationIn]:
    """Each article's scores, labels and flag, by article key."""
    predictions = model.predict([(a.title, a.summary) for a in articles])
    return {
        a.key: ClassificationIn(p.scores, p.labels, p.flagged)
        for a, p in zip(articles, predictions, strict=True)
    }


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
