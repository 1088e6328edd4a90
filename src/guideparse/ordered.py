"""One file written in order by several processes: each chunk of bytes takes the place after
the chunk before it.

The documents of a run are written by the workers that made them, straight into
documents.jsonl, in input order: a chunk reserves its offset (a counter shared by the
processes, under a lock, after the chunk numbered before it has), then writes with
pwrite, outside the lock, beside the others. The main process never holds or copies a
document, so it is not the bottleneck of a batch.
"""

from __future__ import annotations

import os
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any


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

    def write(self, chunk: int, data: bytes) -> int:
        """Write a chunk's bytes in its place; returns the offset they start at."""
        with self._turn:
            while self._next_chunk.value != chunk:
                self._turn.wait()
            offset = self._end.value
            self._end.value = offset + len(data)
            self._next_chunk.value = chunk + 1
            self._turn.notify_all()
        fd = self._open()
        view, at = memoryview(data), offset
        while view:
            n = os.pwrite(fd, view, at)
            view, at = view[n:], at + n
        return offset

    @property
    def size(self) -> int:
        return int(self._end.value)

    def _open(self) -> int:
        if self._pid != os.getpid():  # a process of its own: its own descriptor
            self._fd, self._pid = os.open(self.path, os.O_WRONLY | os.O_CLOEXEC), os.getpid()
        return self._fd

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_fd": -1, "_pid": -1}
