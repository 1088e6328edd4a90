"""Bytes a worker process hands the main process: appended to a file of the worker's own in
the run's work folder, with only where they are (a `Piece`) crossing the pipe.

Pickled through multiprocessing's result pipe, a chunk's catalog lines (~220 KB compressed)
kept the workers waiting: one pipe of 64 KiB and one lock for all workers, drained by a
thread of the main process that needs the GIL for every read. Each worker now writes them
into its spool (one write a chunk, and one more for the chunk's document lines when their
turn had not come), and the main process reads each piece back where it needs it (see the
README's A/B table). The lines are spooled as they are, not compressed: ~14 KB a guide for
the time of the run, removed before it is swapped into place.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import Any, NamedTuple

from .fsio import pwrite_all


class Piece(NamedTuple):
    """Where a worker put some bytes: its spool (a number drawn by the process), the offset, the length."""

    spool: int
    offset: int
    length: int


class Spools:
    """Made by the main process before the workers start (they inherit it, or get it pickled
    without its descriptors); each process appends to its own file, the main process reads any."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._fd, self._pid, self._end, self._own = -1, -1, 0, -1
        self._readers: dict[int, int] = {}

    def path(self, spool: int) -> Path:
        return self.folder / f".spool-{spool}"

    def put(self, data: bytes) -> Piece:
        """Append `data` to this process's spool (made on its first use). Raises OSError."""
        if self._pid != os.getpid():  # a process of its own: a spool of its own
            self._open_own()
        piece = Piece(self._own, self._end, len(data))
        pwrite_all(self._fd, data, self._end)
        self._end += len(data)  # only once all of it is written: a failed write leaves no hole
        return piece

    def _open_own(self) -> None:
        """A spool named by a random number, not the pid: a worker replaced by one that got a
        dead worker's pid must not meet its spool."""
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
        while True:
            own = secrets.randbits(62)
            try:
                self._fd = os.open(self.path(own), flags, 0o600)
                break
            except FileExistsError:
                continue
        self._pid, self._own, self._end = os.getpid(), own, 0

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
        return {**self.__dict__, "_fd": -1, "_pid": -1, "_own": -1, "_readers": {}}
