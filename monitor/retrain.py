"""The daemon's scheduled retraining: when analysts have given verdicts since the newest model
was trained, train a new one beside the polling, install it and re-score the unreviewed queue.

Database work goes through the daemon's one database thread (`on_db`), in short steps, so polls
keep storing between them; the fit runs on a thread of its own. scikit-learn is imported only
when a retrain actually starts.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlite_utils

if TYPE_CHECKING:
    from classifiers import Model

log = logging.getLogger("monitor.retrain")
OnDb = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class Retrained:
    version: str
    previous: str | None
    verdicts: int
    before_f1: float | None  # cross-validated flag F1 of the model it replaces
    after_f1: float
    rescored: int
    seconds: float

    def log_line(self) -> str:
        before = "?" if self.before_f1 is None else f"{self.before_f1:.3f}"
        return (
            f"retrained: model {self.previous or 'none'} -> {self.version}"
            f" ({self.verdicts} verdicts), CV flag F1 {before} -> {self.after_f1:.3f},"
            f" re-scored {self.rescored} unreviewed articles, {self.seconds:.1f} s"
        )


class Retrainer:
    """The retrain job; runs one at a time, however often it is called."""

    def __init__(
        self, db: sqlite_utils.Database, model_dir: Path, target_recall: float, on_db: OnDb
    ) -> None:
        self.db = db
        self.model_dir = model_dir
        self.target_recall = target_recall
        self.on_db = on_db
        self.task: asyncio.Task[Any] | None = None

    async def run(self) -> Retrained | None:
        """Retrain if there are new verdicts; None when there were none (or one is running)."""
        if self.task is not None:
            log.info("retrain: already running")
            return None
        self.task = asyncio.current_task()
        try:
            return await self._retrain()
        except asyncio.CancelledError:
            log.info("retrain: stopped before it finished; the current model stays")
            raise
        except Exception as exc:  # a failed retrain must never stop the daemon
            log.error("retrain failed: %s: %s", type(exc).__name__, exc)
            return None
        finally:
            self.task = None

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    async def _retrain(self) -> Retrained | None:
        from monitor.models import current_version, version_info
        from monitor.training import fit, has_new_verdicts, install_trained, training_data

        started = time.monotonic()
        data = await self.on_db(training_data, self.db)
        if not await asyncio.to_thread(has_new_verdicts, data.reviews, self.model_dir):
            log.info("retrain: no new verdicts since the newest model; nothing to do")
            return None
        model, report = await asyncio.to_thread(fit, data, self.target_recall)
        # Not cancelled while fitting: install (CURRENT switches, parse workers follow).
        before = version_info(self.model_dir, current_version(self.model_dir))
        await asyncio.to_thread(
            install_trained, model, data, self.model_dir, target_recall=self.target_recall
        )
        rescored = await self._rescore(model)
        result = Retrained(
            version=model.version,
            previous=before.version if before else None,
            verdicts=len(data.verdicts),
            before_f1=(before.cv.get("flag") or {}).get("f1") if before else None,
            after_f1=float(report.flag["f1"]),
            rescored=rescored,
            seconds=time.monotonic() - started,
        )
        log.info(result.log_line())
        return result

    async def _rescore(self, model: Model) -> int:
        """Batch by batch on the database thread, polls' writes going in between."""
        from monitor.rescore import rescore_batch

        done, after = 0, 0
        while (step := await self.on_db(rescore_batch, self.db, model, after)).last_id is not None:
            done, after = done + step.scored, step.last_id
        return done
