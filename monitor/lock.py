"""One polling process per database: an advisory lock the kernel releases when we die."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from monitor.errors import MonitorError


class AlreadyRunning(MonitorError):
    pass


def lock_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lock")


def _holder(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        text = ""
    return f"pid {text}" if text.isdigit() else "another process"


@contextmanager
def polling_lock(db_path: Path) -> Iterator[None]:
    """Hold the database's polling lock, or raise AlreadyRunning naming who holds it.

    flock is released by the kernel when the process exits, however it exits (kill -9
    included), so a crashed daemon never leaves a stale lock behind.
    """
    path = lock_path(db_path)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise MonitorError(f"{path}: cannot create the polling lock: {exc.strerror}") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AlreadyRunning(
                f"{db_path}: already being polled by {_holder(fd)} (`monitor run`);"
                " stop it first, or let it do the polling"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)
