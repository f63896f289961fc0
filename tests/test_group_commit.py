"""Several writes to a transaction, each in its own savepoint, on a real SQLite file."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from monitor.group_commit import GroupCommit


def open_db(path: Path) -> sqlite_utils.Database:
    import sqlite3

    db = sqlite_utils.Database(sqlite3.connect(path, check_same_thread=False))
    db.execute("create table items (id integer primary key, owner integer references owners(id))")
    db.execute("create table owners (id integer primary key)")
    db.execute("insert into owners (id) values (1)")
    db.execute("pragma foreign_keys = on")
    return db


def add(db: sqlite_utils.Database, n: int) -> int:
    db.execute("insert into items (id, owner) values (?, 1)", [n])
    if n == 13:
        raise ValueError("thirteen")
    return n


def add_orphan(db: sqlite_utils.Database, n: int) -> int:
    db.execute("pragma defer_foreign_keys = on")  # the violation shows only at COMMIT
    db.execute("insert into items (id, owner) values (?, 99)", [n])
    return n


async def write_all(db: sqlite_utils.Database, jobs: list[tuple[Any, int]]) -> tuple:
    rollbacks: list[int] = []
    with ThreadPoolExecutor(max_workers=1) as thread:

        async def on_db(function: Any, *args: Any) -> Any:
            return await asyncio.get_running_loop().run_in_executor(thread, function, *args)

        writes = GroupCommit(db, on_db, on_rollback=lambda: rollbacks.append(1), max_batch=8)
        results = await asyncio.gather(
            *(writes.write(function, db, n) for function, n in jobs), return_exceptions=True
        )
        await writes.flush()
    return results, writes.batches, rollbacks


def stored(db: sqlite_utils.Database) -> list[int]:
    return [row[0] for row in db.execute("select id from items order by id")]


def test_concurrent_writes_share_transactions_and_each_gets_its_result(tmp_path: Path) -> None:
    db = open_db(tmp_path / "a.db")
    results, batches, rollbacks = asyncio.run(write_all(db, [(add, n) for n in range(20, 40)]))
    assert results == list(range(20, 40))
    assert stored(db) == list(range(20, 40))
    assert batches == 3  # 20 writes, at most 8 a transaction
    assert rollbacks == [] and not db.conn.in_transaction


def test_a_failing_write_is_rolled_back_alone(tmp_path: Path) -> None:
    db = open_db(tmp_path / "b.db")
    results, _, rollbacks = asyncio.run(write_all(db, [(add, n) for n in range(10, 16)]))
    assert isinstance(results[3], ValueError) and str(results[3]) == "thirteen"
    assert [r for r in results if not isinstance(r, Exception)] == [10, 11, 12, 14, 15]
    assert stored(db) == [10, 11, 12, 14, 15]  # 13 was inserted, then rolled back
    assert rollbacks == []


def test_a_failed_commit_loses_the_batch_tells_every_caller_and_calls_on_rollback(
    tmp_path: Path,
) -> None:
    db = open_db(tmp_path / "c.db")
    jobs = [(add, 1), (add, 2), (add_orphan, 3), (add, 4)]
    results, batches, rollbacks = asyncio.run(write_all(db, jobs))
    assert batches == 1 and rollbacks == [1]
    assert all(isinstance(r, Exception) and "FOREIGN KEY" in str(r) for r in results)
    assert stored(db) == [] and not db.conn.in_transaction


def test_a_cancelled_caller_still_gets_its_write_done(tmp_path: Path) -> None:
    db = open_db(tmp_path / "d.db")

    async def go() -> None:
        with ThreadPoolExecutor(max_workers=1) as thread:

            async def on_db(function: Any, *args: Any) -> Any:
                return await asyncio.get_running_loop().run_in_executor(thread, function, *args)

            writes = GroupCommit(db, on_db)
            task = asyncio.ensure_future(writes.write(add, db, 7))
            await asyncio.sleep(0)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await writes.flush()

    asyncio.run(go())
    assert stored(db) == [7]
