"""Worker processes: one function mapped over many items, results in input order.

A plain `multiprocessing.Pool.imap`. Workers are forked where the system can (they
inherit the loaded rules and the imported extractor: no start-up of their own), die
with their parent however it ends (on Linux), leave Ctrl-C to the main process, collect
garbage less often (see `quiet_gc`) and keep their freed heap mapped (`quiet_malloc`).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.context import BaseContext
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_TASK: Callable[[Any], Any] | None = None


def usable_cpus() -> list[int]:
    """The CPUs this process may run on (its affinity: a container's share, not the host's count)."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def quiet_gc() -> None:
    """For processes guideparse owns (its workers, the CLI), never a library caller's.

    Extraction makes many short-lived objects and few cycles: the cyclic collector, left to
    its defaults, spends a sixth of the time re-scanning the rules and modules loaded once.
    Freeze those, and collect young objects a hundred times less often (refcounting frees
    everything else as usual)."""
    import gc

    gc.freeze()
    gc.set_threshold(70_000, 20, 20)


#: Free memory glibc's malloc keeps at the top of its heap (M_TOP_PAD) in processes guideparse owns.
HEAP_SLACK = 64 << 20
#: Allocations from this size up get memory maps of their own (M_MMAP_THRESHOLD): glibc's
#: ceiling for the threshold it otherwise raises by itself, which setting M_TOP_PAD freezes at
#: 128 KiB (a chunk's joined documents, ~1 MB, would each be mapped and faulted in afresh).
LARGE_ALLOCATION = 32 << 20
_M_TOP_PAD, _M_MMAP_THRESHOLD = -2, -3  # glibc's malloc.h


def quiet_malloc() -> None:
    """For processes guideparse owns, on glibc. Its malloc returns the top of the heap to the
    system as soon as 128 KiB of it are free, and the next large result (a guide's texts are
    ~60 KB) maps it back a page fault at a time: a cached re-run of 10,000 guides took 338,000
    page faults, half its system time. Keeping 64 MiB of slack there (pages mapped once, then
    reused) leaves 24,800 (see the README's A/B table); a process keeps up to that much freed
    memory resident (measured: the run's peak RSS did not change)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):  # not glibc (musl has no such name: ValueError)
            return
        import ctypes

        libc = ctypes.CDLL(None)
        libc.mallopt(_M_TOP_PAD, HEAP_SLACK)
        libc.mallopt(_M_MMAP_THRESHOLD, LARGE_ALLOCATION)
    except (OSError, ValueError, AttributeError):
        pass


def tune_own_process() -> None:
    """The CLI's process: its heap and its collector, as its workers'."""
    quiet_malloc()
    quiet_gc()


def map_ordered(task: Callable[[T], R], items: Sequence[T], jobs: int, *, tune_gc: bool = True) -> Iterator[R]:
    """task(item) for every item, in order; in `jobs` worker processes when there is work
    for more than one, else in this process (which keeps its own GC settings)."""
    if jobs <= 1 or len(items) <= 1:
        yield from map(task, items)
        return
    with pool_context().Pool(jobs, initializer=_init_worker, initargs=(task, tune_gc)) as pool:
        yield from pool.imap(_call, items)


def pool_context() -> BaseContext:
    """Fork where the system can: workers inherit what the main process loaded."""
    return multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)


def _init_worker(task: Callable[[Any], Any], tune_gc: bool) -> None:
    global _TASK
    _TASK = task
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    quiet_malloc()
    if tune_gc:
        quiet_gc()


def _call(item: Any) -> Any:
    assert _TASK is not None, "worker not initialised"
    return _TASK(item)


def _die_with_parent() -> None:
    """On Linux, ask the kernel to end this worker when the main process ends, however it
    ends (kill -9 included): no orphan keeps writing into a run nobody will finish."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        parent = multiprocessing.parent_process()
        if parent is not None and os.getppid() != parent.pid:  # it died before the request took effect
            os._exit(1)
    except (OSError, AttributeError):
        pass
