"""A time limit on one input's extraction, so one pathological page fails alone.

SIGALRM with an interval timer: the handler raises in the thread that runs the
extraction, between two Python bytecodes. It needs the main thread of its process
(every worker's, and the CLI's with one job); elsewhere (a library caller's thread)
the limit is not applied. Time spent inside one C call (a regex, the HTML parser)
is not interrupted until that call returns: rules patterns run on a linear-time
engine and inputs are bounded by --max-bytes, so such calls stay short.
"""

from __future__ import annotations

import signal
import threading
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
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
