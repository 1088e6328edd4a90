"""Batch extraction: worker processes, per-worker spool files, a content-addressed cache.

A worker builds the rules and the spaCy pipeline once, then for each input of a
chunk: reads and hashes it, takes the result from the cache or extracts it, and
appends the finished JSON text (document line, single-document catalog entry,
its pretty record) to its own spool file. Only a small index entry goes back to
the main process, which merges and writes the run folder at the end. The same
code runs in-process for one job.

The cache key is the input's sha256, the rules digest and the tool version with
a digest of the code, so a result never outlives an edit of either.
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .errors import GuideparseError, InputError
from .models import InputStatus

#: The path a cached result holds in place of its source path (JSON-encoded, then replaced).
PATH_TOKEN = "@@guideparse:source-path@@"
_TOKEN_JSON = ('"' + PATH_TOKEN + '"').encode()
_SEP = b"\x00"   # between the texts of a cached row (never inside JSON text)


@dataclass
class Entry:
    """One input's outcome as the main process sees it: status and where its texts are."""

    path: str
    status: InputStatus
    slug: str | None = None
    spool: str | None = None
    spans: tuple[int, int, int, int] | None = None   # document line, catalog entry line: (offset, length) each
    error: GuideparseError | None = None
    cached: bool = False


def code_version() -> str:
    """The tool version plus a digest of its code: a cache never outlives an edit."""
    h = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for p in sorted(here.rglob("*.py")):
        h.update(p.relative_to(here).as_posix().encode() + b"\0" + p.read_bytes())
    return f"{__version__}+{h.hexdigest()[:12]}"


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "guideparse"


def cache_file(directory: Path | None) -> Path:
    return (directory or default_cache_dir()) / "results.sqlite3"


def open_cache_db(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=60, isolation_level=None)
    db.execute("PRAGMA page_size=65536")  # a row (~60 KB) in one or two pages, not fifteen
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")  # a cache: losing it costs time, never correctness
    db.execute("CREATE TABLE IF NOT EXISTS results2 (key TEXT PRIMARY KEY, slug TEXT, texts BLOB)")
    return db


def check_cache(directory: Path | None) -> str | None:
    """None when the cache can be used, else a one-line reason (the run goes on without it)."""
    try:
        open_cache_db(cache_file(directory)).close()
        return None
    except (OSError, sqlite3.Error) as exc:
        return f"cache not used ({exc})"


class Worker:
    """Per-process state: rules, spool file, cache connection."""

    def __init__(self, rules, spool_dir: Path, cache_path: Path | None, max_bytes: int) -> None:
        self.rules = rules
        self.spool_name = f".spool-{os.getpid()}"
        self.spool = (spool_dir / self.spool_name).open("ab")
        self.records = spool_dir / "records"
        self.records.mkdir(exist_ok=True)
        from .run import safe_record_name  # run imports this module

        self.record_name = safe_record_name
        self.max_bytes = max_bytes
        self.db = None
        if cache_path is not None:
            try:
                self.db = open_cache_db(cache_path)
            except (OSError, sqlite3.Error):
                self.db = None  # extract without the cache
        self.salt = f"{rules.digest}:{code_version()}"
        self.pending: list[tuple] = []

    def run(self, files) -> list[Entry]:
        from .run import read_input

        out = []
        for f in files:
            try:
                data = read_input(f, self.max_bytes)
            except InputError as exc:
                out.append(_failed(f.shown, exc, None, None))
                continue
            sha = hashlib.sha256(data).hexdigest()
            out.append(self.one(f.shown, data, sha))
        self.flush()
        self.spool.flush()
        return out

    def one(self, shown: str, data: bytes, sha: str) -> Entry:
        key = f"{sha}:{self.salt}"
        row = None
        if self.db is not None:
            try:
                hit = self.db.execute("SELECT slug, texts FROM results2 WHERE key = ?", (key,)).fetchone()
            except sqlite3.Error:
                hit = None  # a cache problem costs time, never the input
            if hit is not None:
                row = (hit[0], *hit[1].split(_SEP))
        cached = row is not None
        if row is None:
            try:
                row = _extract(data, self.rules)
            except InputError as exc:
                exc.path = shown
                return _failed(shown, exc, data, sha)
            except Exception as exc:  # a bug must cost one input, not the batch
                return _failed(shown, InputError("GP999", f"internal error: {type(exc).__name__}: {exc}",
                                                 path=shown), data, sha)
            if self.db is not None:
                self.pending.append((key, row[0], _SEP.join(row[1:])))
        slug, doc, entry, pretty = row
        real = json.dumps(shown, ensure_ascii=False).encode("utf-8")
        spans: list[int] = []
        for blob in (doc, entry):
            blob = blob.replace(_TOKEN_JSON, real) + b"\n"
            spans += [self.spool.tell(), len(blob)]
            self.spool.write(blob)
        # The app's record as if it had one document; the main process rewrites merged ones.
        (self.records / f"{self.record_name(slug)}.json").write_bytes(pretty.replace(_TOKEN_JSON, real))
        return Entry(path=shown, status=InputStatus(path=shown, sha256=sha, bytes=len(data), status="ok"),
                     slug=slug, spool=self.spool_name, spans=tuple(spans), cached=cached)  # type: ignore[arg-type]

    def flush(self) -> None:
        if self.db is not None and self.pending:
            try:
                self.db.execute("BEGIN IMMEDIATE")
                self.db.executemany("INSERT OR REPLACE INTO results2 VALUES (?, ?, ?)", self.pending)
                self.db.execute("COMMIT")
            except sqlite3.Error:
                try:
                    self.db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass  # the results are simply not cached this time
            self.pending.clear()

    def close(self) -> None:
        self.flush()
        self.spool.close()
        if self.db is not None:
            self.db.close()


def _extract(data: bytes, rules) -> tuple[str, bytes, bytes, bytes]:
    """(slug, document line, catalog entry line, pretty record) as UTF-8, the source path as PATH_TOKEN."""
    from .catalog import single_entry
    from .record import extract_document

    doc = extract_document(data, PATH_TOKEN, rules)
    entry = single_entry(doc)
    return (doc.slug, doc.__pydantic_serializer__.to_json(doc),
            entry.__pydantic_serializer__.to_json(entry, exclude={"provenance"}),
            entry.__pydantic_serializer__.to_json(entry, exclude={"provenance"}, indent=2) + b"\n")


def _failed(shown: str, err: GuideparseError, data: bytes | None, sha: str | None) -> Entry:
    return Entry(path=shown, status=InputStatus(path=shown, sha256=sha, bytes=len(data) if data is not None else None,
                                                status="failed", error=f"{err.code} {err.message}",
                                                error_code=err.code), error=err)


# --------------------------------------------------------------------------- process pool entry points

_WORKER: Worker | None = None


def worker_init(rules_dir: str, spool_dir: str, cache_path: str | None, max_bytes: int) -> None:
    """Per worker process: load the rules once, open its spool and the cache."""
    global _WORKER
    from .rules import load_rules

    _WORKER = Worker(load_rules(rules_dir), Path(spool_dir), Path(cache_path) if cache_path else None, max_bytes)


def work_chunk(files) -> list[Entry]:
    assert _WORKER is not None
    return _WORKER.run(files)
