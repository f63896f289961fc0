"""Several polls' writes in one transaction: the polls that finish while the database thread
is busy are stored together.

Each write runs in a savepoint of its own, so one that fails is rolled back alone and its
caller gets its exception; the others commit.
A poll's articles and its feed's new validators stay in the same transaction, as before, so a
crash can still never keep validators without the articles they vouch for; it can only lose
the whole batch, which the next poll fetches again.

In a cold cycle of 1,000 feeds one commit per poll cost the database thread about 4 s, mostly
writing the same index and table pages to the WAL a thousand times.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import sqlite_utils

T = TypeVar("T")
RunOnDb = Callable[..., Awaitable[Any]]

MAX_BATCH = 32  # writes a transaction: bounds how long the write lock is held


class GroupCommit:
    def __init__(
        self,
        db: sqlite_utils.Database,
        run_on_db: RunOnDb,
        *,
        on_rollback: Callable[[], None] = lambda: None,
        max_batch: int = MAX_BATCH,
    ) -> None:
        """`run_on_db(function, *args)` runs on the database thread; `on_rollback` is called
        there when a whole batch is rolled back (to drop state that described it)."""
        self.db = db
        self.run_on_db = run_on_db
        self.on_rollback = on_rollback
        self.max_batch = max_batch
        self.batches = 0  # committed or rolled back, for tests and logs
        self._queue: list[tuple[Callable[..., Any], tuple[Any, ...], asyncio.Future[Any]]] = []
        self._draining: asyncio.Task[None] | None = None

    async def write(self, function: Callable[..., T], *args: Any) -> T:
        """Run `function(*args)` on the database thread in the next batch; its result once
        the batch has committed."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append((function, args, future))
        if self._draining is None:
            self._draining = asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def flush(self) -> None:
        """Wait until every write asked for so far has run (callers cancelled or not)."""
        while self._draining is not None:
            await asyncio.wait([self._draining])

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch = self._queue[: self.max_batch]
                del self._queue[: self.max_batch]
                try:
                    results = await self.run_on_db(self._run_batch, [(f, a) for f, a, _ in batch])
                except BaseException as exc:  # noqa: BLE001 - handed to every waiting caller
                    results = [(False, exc)] * len(batch)
                for (_, _, future), (ok, value) in zip(batch, results, strict=True):
                    if future.done():  # its caller was cancelled
                        continue
                    if ok:
                        future.set_result(value)
                    else:
                        future.set_exception(value)
        finally:
            self._draining = None

    def _run_batch(
        self, batch: list[tuple[Callable[..., Any], tuple[Any, ...]]]
    ) -> list[tuple[bool, Any]]:
        results: list[tuple[bool, Any]] = []
        self.batches += 1
        try:
            with self.db.atomic():
                for function, args in batch:
                    try:
                        with self.db.atomic():  # a savepoint: rolled back alone if it fails
                            results.append((True, function(*args)))
                    except Exception as exc:
                        results.append((False, exc))
        except BaseException:
            self.on_rollback()
            raise
        return results
