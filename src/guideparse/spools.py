"""Bytes a worker process hands the main process: appended to a file of the worker's own in
the run's work folder, with only where they are (a `Piece`) crossing the pipe.

Pickled through multiprocessing's result pipe, a chunk's catalog lines (~220 KB compressed)
kept the workers waiting: one pipe of 64 KiB and one lock for all workers, drained by a
thread of the main process that needs the GIL for every read. Each worker now writes them
once into its spool (one write a chunk), and the main process reads each line back where
it needs it (see the README's A/B table).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any, NamedTuple


class Piece(NamedTuple):
    """Where a worker put some bytes: its spool (the worker's pid), the offset, the length."""

    spool: int
    offset: int
    length: int


class Spools:
    """Made by the main process before the workers start (they inherit it, or get it pickled
    without its descriptors); each process appends to its own file, the main process reads any."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._fd, self._pid, self._end = -1, -1, 0
        self._readers: dict[int, int] = {}

    def path(self, spool: int) -> Path:
        return self.folder / f".spool-{spool}"

    def put(self, data: bytes) -> Piece:
        """Append `data` to this process's spool (made on its first use). Raises OSError."""
        if self._pid != os.getpid():  # a process of its own: a spool of its own
            self._pid = os.getpid()
            self._fd = os.open(self.path(self._pid), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            self._end = 0
        at, view = self._end, memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]
        self._end += len(data)
        return Piece(self._pid, at, len(data))

    def get(self, piece: Piece) -> bytes:
        """The bytes of a piece, from whichever process's spool holds them. Raises OSError."""
        fd = self._readers.get(piece.spool)
        if fd is None:
            fd = self._readers[piece.spool] = os.open(self.path(piece.spool), os.O_RDONLY | os.O_CLOEXEC)
        data = os.pread(fd, piece.length, piece.offset)
        if len(data) != piece.length:
            raise OSError(f"spool {piece.spool} cut at {piece.offset + len(data)}")
        return data

    def close(self) -> None:
        """Close this process's descriptors and remove every spool (the main process, once the
        run is assembled: a run folder holds the run only)."""
        for fd in self._readers.values():
            os.close(fd)
        self._readers.clear()
        if self._pid == os.getpid() and self._fd >= 0:
            os.close(self._fd)
        self._fd, self._pid = -1, -1
        for spool in self.folder.glob(".spool-*"):
            with contextlib.suppress(FileNotFoundError):
                spool.unlink()

    def __enter__(self) -> Spools:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_fd": -1, "_pid": -1, "_readers": {}}
