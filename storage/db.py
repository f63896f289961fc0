"""Open the SQLite database: WAL, a busy timeout, foreign keys, migrations applied.

`synchronous = NORMAL` is SQLite's advice for WAL: a commit no longer waits for the disk
(an fsync per poll cost the poller's database thread about 4.5 s of a 24 s cold cycle of
1,000 feeds). A killed process still loses nothing it committed; a power cut may roll back
the last few commits, each whole, so a feed's validators are never kept without the
articles they vouch for (they are written in the same transaction) and the server is asked
again for what was lost. The database is never corrupted either way."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

from storage.migrations import MIGRATIONS

BUSY_TIMEOUT_MS = 10_000


class StorageError(Exception):
    """The database could not be opened or is not an nk-monitor database."""


def open_db(path: str | Path, *, migrate: bool = True) -> sqlite_utils.Database:
    path = Path(path)
    if path.parent and not path.parent.exists():
        raise StorageError(f"{path}: folder {path.parent} does not exist")
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
        db = sqlite_utils.Database(conn)
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        db.execute("PRAGMA foreign_keys = ON")
        if db.journal_mode != "wal":
            db.enable_wal()
        db.execute("PRAGMA synchronous = NORMAL")
        if migrate:
            MIGRATIONS.apply(db)
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"{path}: {exc}") from exc
    return db


def applied_migrations(db: sqlite_utils.Database) -> list[str]:
    return [m.name for m in MIGRATIONS.applied(db)]
