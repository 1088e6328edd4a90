"""`guideparse browse`: a run's catalog as tables, served by Datasette on this machine only.

The run is exported to SQLite (`export_write`) in a temporary folder and served read-only
(Datasette's immutable mode) on 127.0.0.1 with `browse_metadata.yaml` (titles, facets,
canned queries: data, not code). Ctrl-C or SIGTERM stops the server and removes the folder.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import signal
import socket
import tempfile
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from types import FrameType
from typing import Any

from .errors import GuideparseError
from .export_write import export_run, missing_extra

HOST = "127.0.0.1"
DATABASE = "guideparse"  # the database's name in Datasette: the file's stem
METADATA = "browse_metadata.yaml"


def load_metadata(run: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The Datasette metadata shipped in the package; with a run, that run as the source."""
    import yaml

    metadata = yaml.safe_load(resources.files(__package__).joinpath(METADATA).read_text(encoding="utf-8"))
    if run is not None:
        metadata["source"] = f"guideparse run {os.fspath(run)}"
    return metadata


def listen(port: int | None) -> socket.socket:
    """A socket bound to 127.0.0.1:port (a free port when None); GP921 when it is taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, port or 0))
    except OSError as exc:
        sock.close()
        why = "in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
        raise GuideparseError("GP921", f"cannot listen on {HOST}:{port}: {why} (pick another --port)") from None
    return sock


class _Stop(Exception):
    """SIGTERM, raised where the server's own handling of it ends."""


def serve(
    run: str | os.PathLike[str], port: int | None = None, *, quiet: bool = False, on_ready: Callable[[str], None]
) -> None:
    """Export the run, serve it until stopped (Ctrl-C, SIGTERM), then remove the export.
    `on_ready` gets the URL once the server is about to accept connections."""
    try:
        import uvicorn
        from datasette.app import Datasette
    except ImportError:
        raise missing_extra("datasette", "browse") from None
    try:
        import sqlite_utils  # noqa: F401
    except ImportError:
        raise missing_extra("sqlite-utils", "browse") from None
    sock = listen(port)
    try:
        with tempfile.TemporaryDirectory(prefix="guideparse-browse-") as folder:
            db = Path(folder) / f"{DATABASE}.db"
            export_run(run, "sqlite", db)
            ds = Datasette([], immutables=[str(db)], metadata=load_metadata(run))
            asyncio.run(ds.invoke_startup())
            on_ready(f"http://{HOST}:{sock.getsockname()[1]}/{DATABASE}")
            config = uvicorn.Config(ds.app(), log_level="error" if quiet else "warning", lifespan="on")
            with _sigterm_stops():
                uvicorn.Server(config).run(sockets=[sock])
    except (KeyboardInterrupt, _Stop):
        pass  # stopped as asked; the temporary export is gone
    finally:
        sock.close()


@contextlib.contextmanager
def _sigterm_stops() -> Iterator[None]:
    """SIGTERM ends `serve` normally: uvicorn shuts down on it, then raises it again, here."""

    def stop(sig: int, frame: FrameType | None) -> None:
        raise _Stop()

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
