"""A time limit on one input's extraction, so one pathological page fails alone.

In the main thread of a process (every pool worker's, and the CLI's with one job): SIGALRM
with an interval timer, whose handler raises in the extraction between two Python bytecodes.
In any other thread (a Dask worker's task threads, a library caller's thread): a timer thread
that, when the time is up, asks the interpreter to raise in the extracting thread
(`PyThreadState_SetAsyncExc`), which it does between two bytecodes too (the timer itself runs
when the extracting thread lets the interpreter switch, every 5 ms: a limit under that is
late by as much); a raise that has not landed when the block ends is withdrawn, so it never
escapes the block. Either way, time spent
inside one C call (a regex, the HTML parser) is not interrupted until that call returns: rules
patterns run on a linear-time engine and inputs are bounded by --max-bytes, so such calls
stay short.
"""

from __future__ import annotations

import ctypes
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

DEFAULT_TIMEOUT = 60.0  # seconds; a whole guide takes milliseconds


class TimeLimitExceeded(Exception):
    """The extraction ran past its time limit."""


def _raise(signum: int, frame: FrameType | None) -> None:
    raise TimeLimitExceeded()


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise TimeLimitExceeded in the block once `seconds` have passed (None or 0: no limit)."""
    if not seconds:
        yield
    elif threading.current_thread() is threading.main_thread():
        with _alarm(seconds):
            yield
    else:
        with _thread_timer(seconds):
            yield


@contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    previous = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


_SET_ASYNC_EXC = ctypes.pythonapi.PyThreadState_SetAsyncExc
_SET_ASYNC_EXC.argtypes = (ctypes.c_ulong, ctypes.py_object)


@contextmanager
def _thread_timer(seconds: float) -> Iterator[None]:
    """The time limit of a thread that is not the main one: a timer thread raises in it."""
    target = threading.get_ident()
    lock = threading.Lock()
    state = {"done": False, "fired": False}

    def fire() -> None:
        with lock:
            if not state["done"]:
                state["fired"] = True
                _SET_ASYNC_EXC(target, TimeLimitExceeded)

    started = time.monotonic()
    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        with lock:
            state["done"] = True
            if state["fired"]:
                _SET_ASYNC_EXC(target, ctypes.py_object())  # NULL: withdraw a raise not yet landed
        timer.cancel()
    # The timer thread waits for the GIL (up to the switch interval, 5 ms) before it can fire:
    # a block that ran over the limit and ended before it did fails all the same.
    if time.monotonic() - started >= seconds:
        raise TimeLimitExceeded()
