"""Feed parsing in worker processes, each parse held to a CPU-time budget by the kernel.

feedparser can raise on hostile input, and its e-mail regex can spin for minutes inside the `re`
C code, where no Python signal handler runs. So every parse runs in a worker process whose
RLIMIT_CPU is re-armed before each task: an overrun gets SIGXCPU from the kernel and dies, the
parent reports a ParseError for that feed alone and starts a fresh worker on the next parse.

Linux (or another POSIX system with `resource`). Workers come from the "forkserver" start method,
which preloads `monitor.reader` (feedparser and the normaliser), so a worker holds those but not
what the daemon imported. Workers parse and normalise: only plain article records come back.
Caveat: multiprocessing still re-imports the parent's main script in every worker. Started as
`python -m monitor` that is skipped (a package __main__); started as the `monitor` console script
it imports monitor.cli, and with it scikit-learn: about 1 s and 110 MiB more per worker.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import os
import queue
import resource
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.connection import Connection, wait
from multiprocessing.context import ForkServerContext, SpawnContext
from pathlib import Path
from types import TracebackType
from typing import Any

from monitor.errors import ParseError
from monitor.parser import ParsedFeed, parse_feed
from monitor.reader import FeedContent, read_feed

WORKER_NAME = "nk-monitor-parse"
_EXIT_NO_MEMORY = 3  # a worker's exit status when a request did not fit in its memory limit
# multiprocessing reaps every child from whichever thread starts or polls one; serialise that
_PROCESS_LOCK = threading.Lock()

# ("ok", ParsedFeed); ("error", message); ("retire", message): an error after which the worker
# exits, because the exception came from deeper than parse_feed's own checks
_Reply = tuple[str, Any]
_Request = tuple[Callable[..., Any], tuple[Any, ...]]  # a module-level function, its arguments
_Context = ForkServerContext | SpawnContext


@dataclass(frozen=True)
class _Limits:
    cpu_budget: float  # CPU seconds per parse
    memory_limit: int | None  # bytes of address space a parse may add; None: unbounded


# --- the worker process ------------------------------------------------------------------


def _serve(conn: Connection, limits: _Limits) -> None:
    """Worker main loop: one request in, one reply out, until the parent hangs up."""
    _prepare_worker(limits.memory_limit)
    with conn:
        while True:
            try:
                function, args = conn.recv()
            except EOFError:
                return
            except MemoryError:  # the pipe is now out of step: this worker is done
                sys.exit(_EXIT_NO_MEMORY)
            _arm_cpu_budget(limits.cpu_budget)
            if not _send(conn, _run(function, args)):
                return


def _prepare_worker(memory_limit: int | None) -> None:
    # Scoring a feed's articles is a small sparse product: BLAS threads would only compete
    # with the other workers (and reserve memory), so numpy gets one, set before it loads.
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = "1"
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGXCPU, signal.SIG_DFL)  # an overrun ends the process...
    _, hard = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (0, hard))  # ...without writing a core file
    if memory_limit is not None:
        _limit_address_space(memory_limit)


def _limit_address_space(extra: int) -> None:
    """Let the worker grow by `extra` bytes beyond its size now; MemoryError past that."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            pages = int(statm.read().split()[0])
    except (OSError, ValueError, IndexError):
        return  # no procfs: leave memory unbounded rather than guess the current size
    _set_soft_limit(resource.RLIMIT_AS, pages * resource.getpagesize() + extra)


def _arm_cpu_budget(budget: float) -> None:
    """The kernel sends SIGXCPU once this process has used `budget` more CPU seconds (or up to
    one more: the limit counts whole seconds)."""
    _set_soft_limit(resource.RLIMIT_CPU, math.ceil(time.process_time() + budget))


def _set_soft_limit(which: int, soft: int) -> None:
    _, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)  # an unprivileged process cannot raise its hard limit
    resource.setrlimit(which, (soft, hard))


def _run(function: Callable[..., Any], args: tuple[Any, ...]) -> _Reply:
    try:
        return ("ok", function(*args))
    except ParseError as exc:  # with a cause, feedparser itself failed (MemoryError, ...)
        return ("error" if exc.__cause__ is None else "retire", str(exc))
    except Exception as exc:  # RecursionError, MemoryError, a bug: still only a bad feed
        return ("retire", f"parse: {type(exc).__name__}: {exc or 'no details'}")


def _send(conn: Connection, reply: _Reply) -> bool:
    """Send the reply; whether this worker should go on serving."""
    try:
        conn.send(reply)
    except OSError:
        return False  # the parent hung up
    except Exception as exc:  # the result would not pickle (or not fit in memory)
        reply = ("retire", f"parse: result not sent: {type(exc).__name__}: {exc}")
        conn.send(reply)
    return reply[0] != "retire"


# --- the parent's handle on one worker ---------------------------------------------------


class _Worker:
    """One worker process and the parent's end of its pipe. Used by one thread at a time,
    except `kill`, which any thread may call."""

    def __init__(self, context: _Context, limits: _Limits) -> None:
        parent_end, child_end = context.Pipe(duplex=True)
        self.process = context.Process(
            target=_serve, args=(child_end, limits), name=WORKER_NAME, daemon=True
        )
        try:
            with _PROCESS_LOCK:
                self.process.start()
        except BaseException:
            parent_end.close()
            raise
        finally:
            child_end.close()
        self.conn = parent_end
        self._exitcode: int | None = None
        self._reaped = False

    @property
    def usable(self) -> bool:
        with _PROCESS_LOCK:
            return not self._reaped and self.process.exitcode is None

    def call(self, request: _Request, wall_limit: float, budget: float) -> Any:
        """Send one request and return the worker's result; on any failure, reap the worker."""
        try:
            self.conn.send(request)
            reply: _Reply | None = self.conn.recv() if self.conn.poll(wall_limit) else None
        except (EOFError, OSError) as exc:  # the worker died mid-task
            raise ParseError(_death_message(self.reap(grace=2.0), budget)) from exc
        except BaseException:  # interrupted, or a garbled reply: the pipe is out of step
            self.reap()
            raise
        if reply is None:  # blocked without using CPU (the kernel only counts CPU time)
            self.reap()
            raise ParseError(f"parse: no result after {wall_limit:g} s, worker stopped")
        status, value = reply
        if status == "retire":  # it may be in a bad state (half-done imports, say): it exits
            self.reap(grace=2.0)
        if status != "ok":
            raise ParseError(str(value))
        return value

    def kill(self) -> None:
        with _PROCESS_LOCK:
            if not self._reaped and self.process.exitcode is None:
                self.process.kill()

    def reap(self, grace: float = 0.0) -> int | None:
        """Give the worker `grace` seconds to exit by itself (so its own exit status is kept),
        stop it if it has not, wait for it and free its pipe; its exit code."""
        if grace and not self._reaped:
            wait([self.process.sentinel], grace)  # only waits: reading it is join()'s job
        self.kill()
        with _PROCESS_LOCK:
            if not self._reaped:
                self._reaped = True
                self.process.join()
                self._exitcode = self.process.exitcode
                self.process.close()
                self.conn.close()
        return self._exitcode


def _death_message(exitcode: int | None, budget: float) -> str:
    if exitcode == -signal.SIGXCPU:
        return f"parse: exceeded the CPU budget of {budget:g} s"
    if exitcode == _EXIT_NO_MEMORY:
        return "parse: feed body too large for the worker's memory limit"
    if exitcode is not None and exitcode < 0:
        return f"parse: worker crashed (signal {-exitcode})"
    return f"parse: worker exited unexpectedly (status {exitcode})"


def _context() -> _Context:
    """forkserver: workers fork from a clean server that imported only monitor.parser."""
    try:
        context = multiprocessing.get_context("forkserver")
    except ValueError:  # no forkserver on this platform
        return multiprocessing.get_context("spawn")
    context.set_forkserver_preload(["monitor.reader"])
    return context


# --- the pool ------------------------------------------------------------------------------


class ParsePool:
    """Parses feed bodies in worker processes, each parse limited to a CPU-time budget.

    At most `workers` parses run at once; other callers wait. Workers start on first use. A parse
    that overruns `cpu_budget` CPU seconds, or gives no answer within 3 x budget + 5 s of wall
    time, or whose worker dies, raises ParseError and costs only that worker.

        async with ParsePool(workers=2, cpu_budget=10) as pool:
            content = await pool.read(body, headers, language, now)
    """

    def __init__(
        self,
        workers: int = 2,
        cpu_budget: float = 10.0,
        memory_limit: int | None = 1 << 30,
    ) -> None:
        if workers < 1 or cpu_budget <= 0:
            raise ValueError("ParsePool needs workers >= 1 and cpu_budget > 0")
        self.workers = workers
        self.cpu_budget = cpu_budget
        self.wall_limit = 3 * cpu_budget + 5
        self._limits = _Limits(cpu_budget, memory_limit)
        self._context = _context()
        self._lock = threading.Lock()
        self._closed = False
        self._live: set[_Worker] = set()
        # one token per worker slot: an idle worker, or None for "start one when needed"
        self._slots: queue.SimpleQueue[_Worker | None] = queue.SimpleQueue()
        for _ in range(workers):
            self._slots.put(None)
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="parse-pool")

    async def parse(self, body: bytes, headers: Mapping[str, str]) -> ParsedFeed:
        """`parse_feed(body, headers)` in a worker, without blocking the event loop."""
        result: ParsedFeed = await self.run(parse_feed, bytes(body), dict(headers))
        return result

    async def read(
        self,
        body: bytes,
        headers: Mapping[str, str],
        language: str | None,
        now: datetime,
        model_path: Path | None = None,
    ) -> FeedContent:
        """`read_feed(...)` in a worker: parsed, normalised and scored articles come back."""
        args = (bytes(body), dict(headers), language, now, model_path)
        result: FeedContent = await self.run(read_feed, *args)
        return result

    def parse_sync(self, body: bytes, headers: Mapping[str, str]) -> ParsedFeed:
        """`parse_feed` in a worker, blocking the calling thread."""
        result: ParsedFeed = self.run_sync(parse_feed, bytes(body), dict(headers))
        return result

    async def run(self, function: Callable[..., Any], *args: Any) -> Any:
        """`function(*args)` in a worker, without blocking the event loop. `function` must be
        importable by name in a worker (module level) and should live in a module the
        forkserver preloads. If the caller is cancelled, the call still finishes (within the
        budget), unseen."""
        loop = asyncio.get_running_loop()
        try:
            future = loop.run_in_executor(self._executor, self.run_sync, function, *args)
        except RuntimeError as exc:  # the executor was shut down by close()
            raise ParseError("parse: the parse pool is closed") from exc
        return await future

    def run_sync(self, function: Callable[..., Any], *args: Any) -> Any:
        """`function(*args)` in a worker, blocking the calling thread; safe to call from several
        threads."""
        request: _Request = (function, args)
        worker = self._checkout()
        try:
            return worker.call(request, self.wall_limit, self.cpu_budget)
        except ParseError as exc:
            if self._closed and not worker.usable:  # killed by close(), not by the feed
                raise ParseError("parse: the parse pool was closed") from exc
            raise
        finally:
            self._checkin(worker)

    def close(self) -> None:
        """Kill the workers and wait for them; in-flight parses raise ParseError."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            live = list(self._live)
        for worker in live:
            worker.kill()
        self._executor.shutdown(wait=True)
        self._drain_slots()

    async def aclose(self) -> None:
        await asyncio.to_thread(self.close)

    def __enter__(self) -> ParsePool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> ParsePool:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def _checkout(self) -> _Worker:
        """Wait for a free slot; its idle worker, or a new one if the slot is empty."""
        worker = self._slots.get()
        try:
            if self._closed:
                raise ParseError("parse: the parse pool is closed")
            if worker is not None and not worker.usable:  # died while idle
                self._retire(worker)
                worker = None
            return worker if worker is not None else self._start_worker()
        except BaseException:
            self._slots.put(worker)
            raise

    def _checkin(self, worker: _Worker) -> None:
        if worker.usable:
            self._slots.put(worker)
        else:
            self._retire(worker)
            self._slots.put(None)  # the next parse starts a fresh worker

    def _start_worker(self) -> _Worker:
        worker = _Worker(self._context, self._limits)
        with self._lock:
            self._live.add(worker)
        return worker

    def _retire(self, worker: _Worker) -> None:
        worker.reap()
        with self._lock:
            self._live.discard(worker)

    def _drain_slots(self) -> None:
        """Collect every slot (busy callers return theirs once their killed worker is gone),
        reap the idle workers, then leave empty slots so later callers fail fast."""
        for _ in range(self.workers):
            worker = self._slots.get()
            if worker is not None:
                self._retire(worker)
        for _ in range(self.workers):
            self._slots.put(None)
