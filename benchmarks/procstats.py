"""Process accounting for the benchmarks, from /proc (Linux): CPU, RSS, process trees.

`monitor run --once` leaves parse workers and their forkserver behind for a moment, so the
benchmark becomes a subreaper, collects them itself and counts their CPU too.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import threading
import time

SAMPLE_S = 0.05
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
TICKS = os.sysconf("SC_CLK_TCK")


def machine_busy_s() -> float:
    """CPU seconds used by every process on every core since boot, from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as stat:
        ticks = [int(x) for x in stat.readline().split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / TICKS  # all but idle and iowait


def own_cpu_s() -> float:
    times = os.times()
    return times.user + times.system


def wait_for_quiet(limit_s: float, window_s: float = 1.0, max_cores: float = 0.25) -> float:
    """Wait (at most limit_s) until other work uses under max_cores for a whole window.

    Other engineers' test runs share the two cores; measuring over them would mostly measure
    them. Returns the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        before = machine_busy_s()
        time.sleep(window_s)
        if machine_busy_s() - before < max_cores * window_s:
            break
    return time.monotonic() - started - window_s


def process_cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


# -- the configuration --------------------------------------------------------------------


def child_map() -> dict[int, list[int]]:
    """{parent pid: [child pids]} of every process, from /proc/*/stat."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as stat:
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def descendants(root: int) -> list[int]:
    """root and every process below it."""
    children = child_map()
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def become_subreaper() -> bool:
    """Adopt orphaned descendants (Linux prctl PR_SET_CHILD_SUBREAPER), so the CPU of
    processes that outlive `monitor` (a multiprocessing forkserver and the workers it
    reaped) is still counted: we reap them ourselves."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def reap_orphans(keep: set[int], grace_s: float = 10.0) -> tuple[float, float, int]:
    """Wait for adopted descendants (our children but not in `keep`), killing any still alive
    after grace_s: (their CPU seconds, largest ru_maxrss in MB, how many)."""
    cpu, rss_mb, count = 0.0, 0.0, 0
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline + 5:
        orphans = [p for p in child_map().get(os.getpid(), []) if p not in keep]
        if not orphans:
            break
        for pid in orphans:
            if time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            try:
                reaped, _, usage = os.wait4(pid, os.WNOHANG)
            except ChildProcessError:
                continue
            if reaped:
                cpu += usage.ru_utime + usage.ru_stime
                rss_mb, count = max(rss_mb, usage.ru_maxrss / 1024), count + 1
        time.sleep(0.01)
    return cpu, rss_mb, count


def tree_rss_kb(root: int) -> int:
    total = 0
    for pid in descendants(root):
        try:
            with open(f"/proc/{pid}/statm", encoding="ascii") as statm:
                total += int(statm.read().split()[1]) * PAGE_KB
        except (OSError, IndexError, ValueError):
            continue
    return total


class RssSampler(threading.Thread):
    """The largest total resident size of a process tree, sampled every SAMPLE_S seconds."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_kb = pid, 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(SAMPLE_S):
            self.peak_kb = max(self.peak_kb, tree_rss_kb(self.pid))
