"""Retraining: the seed corpus plus the analysts' verdicts, which weigh more."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

import storage
from classifiers import Example, Model, TrainReport, load_seed, train
from monitor.models import install

VERDICT_WEIGHT = 3.0


@dataclass(frozen=True)
class TrainResult:
    model: Model
    report: TrainReport
    seed_examples: int
    verdicts: int
    path: Path


def verdict_examples(db: sqlite_utils.Database) -> list[Example]:
    return [
        Example(
            title=row["title"],
            summary=row["summary"] or "",
            labels=frozenset(row["labels"]),
            lang=row["language"],
            weight=VERDICT_WEIGHT,
            id=f"article-{row['id']}",
        )
        for row in storage.reviewed_examples(db)
    ]


def train_from_verdicts(db: sqlite_utils.Database | None, model_dir: Path) -> TrainResult:
    """Train on seed + verdicts, install the model as current, return it with CV metrics."""
    seed = load_seed()
    verdicts = verdict_examples(db) if db is not None else []
    model, report = train(seed + verdicts)
    path = install(model, model_dir)
    return TrainResult(model, report, len(seed), len(verdicts), path)
