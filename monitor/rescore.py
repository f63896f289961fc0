"""Re-scoring the unreviewed queue with another model version.

Articles an analyst has judged keep the classification they were judged on; every other article
gets one by the new version, which becomes its current classification. Work goes in batches of
one transaction each, so a daemon can interleave its polls' writes between them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlite_utils

import storage
from monitor.classify import score_rows
from monitor.normalise import iso
from monitor.pipeline import utc_now

if TYPE_CHECKING:
    from classifiers import Model

BATCH = 1000


@dataclass(frozen=True)
class Batch:
    scored: int
    last_id: int | None  # None: nothing was left to score


def rescore_batch(
    db: sqlite_utils.Database, model: Model, after_id: int = 0, limit: int = BATCH
) -> Batch:
    """Score up to `limit` unreviewed articles after `after_id` with `model`, in one transaction."""
    rows = storage.unreviewed_articles(db, model.version, after_id, limit)
    if not rows:
        return Batch(0, None)
    score_rows(db, model, rows, iso(utc_now()))
    return Batch(len(rows), rows[-1]["id"])


def rescore_unreviewed(db: sqlite_utils.Database, model: Model, batch: int = BATCH) -> int:
    """Give every unreviewed article a classification by `model`; returns how many changed."""
    done, after = 0, 0
    while (step := rescore_batch(db, model, after, batch)).last_id is not None:
        done, after = done + step.scored, step.last_id
    return done
