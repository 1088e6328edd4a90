"""One file written in order by several processes: each chunk of bytes takes the place after
the chunk before it.

The documents of a run are written by the workers that made them, straight into
documents.jsonl, in input order: a worker whose chunk's turn has come (the chunk before
it has its place) reserves the offset (a counter shared by the processes, under a lock)
and writes with pwrite, outside the lock, beside the others. A worker whose chunk's turn
has not come waits a little (a fraction of the time the chunk took), then hands the bytes
to the main process, which writes them when it reaches that chunk (it receives chunks in
order, so its turn has come by then). Workers neither idle long nor make the main process
copy every document.
"""

from __future__ import annotations

import os
import time
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any

from .fsio import pwrite_all


class OrderedFile:
    """Made in the main process before the workers start (they inherit it); chunks are
    numbered 0, 1, 2, … and each must be written once, even when empty."""

    def __init__(self, path: Path, context: BaseContext) -> None:
        self.path = path
        self._turn: Any = context.Condition()
        self._next_chunk: Any = context.Value("q", 0, lock=False)
        self._end: Any = context.Value("q", 0, lock=False)
        self._fd = -1
        self._pid = -1
        path.touch()

    def try_write(self, chunk: int, data: bytes, patience: float) -> int | None:
        """Write a chunk's bytes in their place if the chunk's turn comes within `patience`
        seconds; returns the offset they start at, or None (nothing written)."""
        return self._write(chunk, data, time.monotonic() + patience)

    def write(self, chunk: int, data: bytes) -> int:
        """Write a chunk's bytes in their place, waiting for their turn; returns the offset."""
        offset = self._write(chunk, data, None)
        assert offset is not None
        return offset

    def _write(self, chunk: int, data: bytes, deadline: float | None) -> int | None:
        with self._turn:
            while self._next_chunk.value != chunk:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return None
                self._turn.wait(left)
            offset = int(self._end.value)
            self._end.value = offset + len(data)
            self._next_chunk.value = chunk + 1
            self._turn.notify_all()
        pwrite_all(self._open(), data, offset)
        return offset

    @property
    def size(self) -> int:
        return int(self._end.value)

    def _open(self) -> int:
        if self._pid != os.getpid():  # a process of its own: its own descriptor
            self._fd, self._pid = os.open(self.path, os.O_WRONLY | os.O_CLOEXEC), os.getpid()
        return self._fd

    def close(self) -> None:
        """Close this process's descriptor (a library caller runs many batches in one process)."""
        if self._pid == os.getpid() and self._fd >= 0:
            os.close(self._fd)
        self._fd, self._pid = -1, -1

    def __enter__(self) -> OrderedFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_fd": -1, "_pid": -1}
