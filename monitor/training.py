"""Retraining: the seed corpus plus the analysts' verdicts, which weigh more.

The steps are separate so that the daemon can run the database ones on its database thread and
the CPU-heavy fit on another: `training_data` (database) → `fit` (CPU) → `install_trained`
(files) → `monitor.rescore` (database). `train_from_verdicts` runs them in a row for the CLI.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

import storage
from classifiers import Example, Model, TrainReport, load_seed, train
from classifiers.errors import ModelError
from monitor.models import (
    ReviewState,
    Switch,
    VersionInfo,
    current_version,
    install,
    list_versions,
    training_info,
    use_version,
    version_info,
)
from monitor.rescore import rescore_unreviewed

log = logging.getLogger("monitor.training")
VERDICT_WEIGHT = 3.0
DEFAULT_TARGET_RECALL = 0.95


@dataclass(frozen=True)
class TrainingData:
    seed: list[Example]
    verdicts: list[Example]
    reviews: ReviewState  # the reviews table the verdicts were read from

    @property
    def examples(self) -> list[Example]:
        return self.seed + self.verdicts


@dataclass(frozen=True)
class TrainResult:
    model: Model
    report: TrainReport
    seed_examples: int
    verdicts: int
    path: Path
    before: VersionInfo | None = None  # the version that was current until now
    evaluation: dict[str, Any] | None = None  # the new model on the --eval file
    before_evaluation: dict[str, Any] | None = None  # the previous model on it
    rescored: int | None = None  # unreviewed articles re-scored (None: no database yet)


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


def review_state(db: sqlite_utils.Database) -> ReviewState:
    return ReviewState(*storage.review_counts(db))


def training_data(db: sqlite_utils.Database | None) -> TrainingData:
    """The seed corpus and every article's current verdict (none without a database)."""
    seed = load_seed()
    if db is None:
        return TrainingData(seed, [], ReviewState())
    with db.atomic():  # one snapshot: the verdicts and the state they are recorded as
        return TrainingData(seed, verdict_examples(db), review_state(db))


def has_new_verdicts(reviews: ReviewState, model_dir: Path) -> bool:
    """Whether the reviews table changed since the newest version was trained.

    The newest, not the current one: after `monitor model use OLD` the nightly job must not
    undo the rollback by retraining on verdicts the newer version already learnt from.
    """
    versions = list_versions(model_dir)
    return not versions or ReviewState.from_info(versions[0].info) != reviews


def fit(
    data: TrainingData, target_recall: float = DEFAULT_TARGET_RECALL
) -> tuple[Model, TrainReport]:
    """Cross-validate and fit on seed + verdicts: CPU only, safe to run on any thread."""
    return train(data.examples, target_recall=target_recall)


def install_trained(
    model: Model,
    data: TrainingData,
    model_dir: Path,
    *,
    target_recall: float,
    evaluation: dict[str, Any] | None = None,
) -> Path:
    """Save the model with its info.json (data counts, metrics) and make it current."""
    info = training_info(
        model, seed_examples=len(data.seed), verdicts=len(data.verdicts), reviews=data.reviews
    )
    info["target_recall"] = target_recall
    info["eval"] = evaluation
    return install(model, model_dir, info)


def evaluate_file(model: Any, path: str | Path) -> dict[str, Any]:
    from classifiers import evaluate, load_jsonl

    return {"file": str(path), **evaluate(model, load_jsonl(path))}


def train_from_verdicts(
    db: sqlite_utils.Database | None,
    model_dir: Path,
    *,
    target_recall: float = DEFAULT_TARGET_RECALL,
    eval_file: str | Path | None = None,
) -> TrainResult:
    """Train on seed + verdicts, install the model as current, re-score the unreviewed queue;
    the result carries CV metrics before and after (and on `eval_file`, if given)."""
    data = training_data(db)
    before = version_info(model_dir, current_version(model_dir))
    model, report = fit(data, target_recall)
    evaluation = evaluate_file(model, eval_file) if eval_file else None
    before_evaluation = _evaluate_version(before, model_dir, eval_file)
    path = install_trained(
        model, data, model_dir, target_recall=target_recall, evaluation=evaluation
    )
    rescored = rescore_unreviewed(db, model) if db is not None else None
    return TrainResult(
        model,
        report,
        len(data.seed),
        len(data.verdicts),
        path,
        before,
        evaluation,
        before_evaluation,
        rescored,
    )


def _evaluate_version(
    version: VersionInfo | None, model_dir: Path, eval_file: str | Path | None
) -> dict[str, Any] | None:
    """The previous model on the labelled file, if there are both; a broken one is skipped."""
    if version is None or not eval_file:
        return None
    from classifiers import load_model

    try:
        return evaluate_file(load_model(model_dir / version.version), eval_file)
    except ModelError as exc:
        log.warning("cannot evaluate the previous model: %s", exc)
        return None


def use_and_rescore(
    db: sqlite_utils.Database | None, model_dir: Path, version: str
) -> tuple[Switch, int]:
    """Make `version` current and give the unreviewed articles its classification."""
    switch = use_version(model_dir, version)
    rescored = rescore_unreviewed(db, switch.model) if db is not None else 0
    return switch, rescored
