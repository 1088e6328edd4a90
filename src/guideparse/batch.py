"""Batch extraction: worker processes, pack files, a content-addressed cache.

A worker builds the rules and the spaCy pipeline once, then for each input of a
chunk: reads and hashes it, extracts it, and appends the three finished JSON
texts (document line, single-document catalog entry, pretty record) to a pack
file, one write. Only a small index entry (which pack, which offsets) goes back
to the main process, which assembles the run folder from the packs at the end.
The same code runs in-process for one job.

The cache is those packs kept under $XDG_CACHE_HOME/guideparse, with an SQLite
index: result key (input sha256, rules digest, tool version with a digest of
the code) -> pack and offsets. A result never outlives an edit of the rules or
of the code. A second table maps a file's identity as `stat` sees it (path,
device, inode, size, mtime, ctime) to the sha256 read last time, so an
unchanged input is neither read nor hashed again; its texts are copied straight
from the pack into the new run.

Texts hold the source path as a token random to the writing process (kept in
the index with them); the real path is spliced in when they are copied, so one
cached result serves a file under any name.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import secrets
import shutil
import sqlite3
from dataclasses import dataclass
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from pathlib import Path

from . import __version__
from .errors import GuideparseError, InputError
from .models import InputStatus

#: The source path in extracted texts: the same length in every process, unique to this one.
_TOKEN_ID = secrets.token_hex(8)
PATH_TOKEN = f"@@guideparse-path-{_TOKEN_ID}@@"
_PACK_LIMIT = 256 * 1024 * 1024              # a writer starts a new pack file past this size
_KEEP_SALTS = 4                              # pack folders of this many rules/code versions are kept


@dataclass(frozen=True)
class Texts:
    """Where one result's texts are: document line, catalog entry line, pretty record, in a row."""

    pack: str                          # absolute path of the pack file
    offset: int
    lengths: tuple[int, int, int]
    token: str                         # the path token of the process that wrote them


@dataclass
class Entry:
    """One input's outcome as the main process sees it."""

    path: str
    status: InputStatus
    slug: str | None = None
    texts: Texts | None = None
    error: GuideparseError | None = None
    cached: bool = False
    seen: tuple | None = None          # stat identity taken before the read, for the cache's stat table


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


def stat_identity(path: str, st: os.stat_result) -> tuple:
    """What says a file is unchanged without reading it (as git's index does)."""
    return (os.path.abspath(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def path_json(path: str) -> bytes:
    """A source path as the JSON string the serialiser writes (UTF-8, not ASCII-escaped)."""
    return encode_basestring(path).encode("utf-8")


def splice_path(text: bytes, token: str, shown: str) -> bytes:
    """Put the real source path wherever the writer's path token stands. The token is random
    per writing process, so no page can print it; it needs no JSON escaping."""
    return text.replace(f'"@@guideparse-path-{token}@@"'.encode("ascii"), path_json(shown))


# --------------------------------------------------------------------------- packs

class PackWriter:
    """Appends results to a pack file of its own, created on the first result.

    A pack is written by one process and never reopened for writing, so an index
    row, once its bytes are there, keeps pointing at them: a pack cut short (disk
    full, a crash, a hand) only loses the rows past its end (see Cache.results)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.fd = -1
        self.path = ""
        self.size = 0

    def _open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        p = self.directory / f"{os.getpid()}-{secrets.token_hex(6)}.pack"
        self.fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        self.path, self.size = str(p), 0

    def append(self, texts: tuple[bytes, bytes, bytes]) -> Texts:
        if self.fd < 0 or self.size >= _PACK_LIMIT:
            self.close()
            self._open()
        offset = self.size
        view = memoryview(b"".join(texts))
        while view:
            n = os.write(self.fd, view)
            view = view[n:]
            self.size += n
        return Texts(self.path, offset, (len(texts[0]), len(texts[1]), len(texts[2])), _TOKEN_ID)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class PackReader:
    """Reads texts back with the real source path spliced in (a few packs open at once)."""

    def __init__(self) -> None:
        self.fds: dict[str, int] = {}

    def read(self, texts: Texts, which: int, shown: str) -> bytes:
        fd = self.fds.get(texts.pack)
        if fd is None:
            if len(self.fds) >= 64:
                os.close(self.fds.pop(next(iter(self.fds))))
            fd = self.fds[texts.pack] = os.open(texts.pack, os.O_RDONLY)
        start = texts.offset + sum(texts.lengths[:which])
        length = texts.lengths[which]
        data = os.pread(fd, length, start)
        if len(data) != length:
            raise OSError(errno.EIO, f"pack {texts.pack} is shorter than its index says")
        return splice_path(data, texts.token, shown)

    def close(self) -> None:
        for fd in self.fds.values():
            os.close(fd)
        self.fds.clear()


# --------------------------------------------------------------------------- the cache index

_SCHEMA = """
CREATE TABLE IF NOT EXISTS results3 (
    key TEXT PRIMARY KEY, slug TEXT NOT NULL, pack TEXT NOT NULL, offset INTEGER NOT NULL,
    len_doc INTEGER NOT NULL, len_entry INTEGER NOT NULL, len_pretty INTEGER NOT NULL,
    token TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS seen (
    path TEXT PRIMARY KEY, dev INTEGER, ino INTEGER, size INTEGER, mtime_ns INTEGER, ctime_ns INTEGER,
    sha256 TEXT NOT NULL);
"""
_BATCH = 500  # parameters per IN (...) lookup


class Cache:
    """The result cache: the SQLite index over the pack folder of the current rules and code."""

    def __init__(self, directory: Path, salt: str) -> None:
        self.directory = directory
        self.salt = salt
        self.salt_dir = hashlib.sha256(salt.encode()).hexdigest()[:16]
        self.home = directory / self.salt_dir          # this rules/code version's packs and records
        self.packs = self.home / "packs"
        self.records = self.home / "records"
        directory.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(directory / "index.sqlite3", timeout=60, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=OFF")  # a cache: losing it costs time, never correctness
        self.db.executescript(_SCHEMA)

    @staticmethod
    def key(sha: str, salt: str) -> str:
        return f"{sha}:{salt}"

    def close(self) -> None:
        self.db.close()

    # ----------------------------------------------------------------- lookups (main process)

    def known_shas(self, identities: list[tuple]) -> dict[str, str]:
        """Absolute path -> sha256 for the files whose stat identity is as last seen."""
        out: dict[str, str] = {}
        by_path = {ident[0]: ident for ident in identities}
        paths = list(by_path)
        for i in range(0, len(paths), _BATCH):
            part = paths[i:i + _BATCH]
            rows = self.db.execute(
                f"SELECT path, dev, ino, size, mtime_ns, ctime_ns, sha256 FROM seen WHERE path IN "
                f"({','.join('?' * len(part))})", part).fetchall()
            for path, *ident, sha in rows:
                if tuple(ident) == by_path[path][1:]:
                    out[path] = sha
        return out

    def results(self, shas: list[str]) -> dict[str, tuple[str, Texts]]:
        """sha256 -> (slug, texts) for the results held, checked against their packs' sizes."""
        keys = {self.key(s, self.salt): s for s in shas}
        klist = list(keys)
        out: dict[str, tuple[str, Texts]] = {}
        packs: dict[str, tuple[str, int]] = {}   # as indexed -> (full path, size)
        root = str(self.directory)
        for i in range(0, len(klist), _BATCH):
            part = klist[i:i + _BATCH]
            rows = self.db.execute(
                f"SELECT key, slug, pack, offset, len_doc, len_entry, len_pretty, token "
                f"FROM results3 WHERE key IN ({','.join('?' * len(part))})", part).fetchall()
            for key, slug, pack, offset, l1, l2, l3, token in rows:
                known = packs.get(pack)
                if known is None:
                    full = os.path.join(root, pack)
                    try:
                        known = packs[pack] = (full, os.stat(full).st_size)
                    except OSError:
                        known = packs[pack] = (full, -1)
                if known[1] < offset + l1 + l2 + l3:
                    continue  # a pack lost or cut short: extract again
                out[keys[key]] = (slug, Texts(known[0], offset, (l1, l2, l3), token))
        return out

    # ----------------------------------------------------------------- writes

    def put_results(self, rows: list[tuple[str, str, Texts]]) -> None:
        """(key, slug, texts) of results just appended to packs under this cache."""
        base = str(self.directory) + os.sep
        values = [(key, slug, t.pack.removeprefix(base), t.offset, *t.lengths, t.token)
                  for key, slug, t in rows if t.pack.startswith(base)]
        self._write("INSERT OR REPLACE INTO results3 VALUES (?, ?, ?, ?, ?, ?, ?, ?)", values)

    #: Files remembered by stat; past this, those written longest ago are forgotten (read again).
    SEEN_LIMIT = 1_000_000

    def put_seen(self, rows: list[tuple[tuple, str]]) -> None:
        """(stat identity, sha256) of inputs read in this run."""
        self._write("INSERT OR REPLACE INTO seen VALUES (?, ?, ?, ?, ?, ?, ?)", [(*i, sha) for i, sha in rows])
        try:
            (count,) = self.db.execute("SELECT count(*) FROM seen").fetchone()
        except sqlite3.Error:
            return
        if count > self.SEEN_LIMIT:  # REPLACE gives a rewritten row a new rowid: oldest first
            self._write("DELETE FROM seen WHERE rowid IN (SELECT rowid FROM seen ORDER BY rowid LIMIT ?)",
                        [(count - self.SEEN_LIMIT,)])

    def _write(self, sql: str, values: list[tuple]) -> None:
        if not values:
            return
        try:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.executemany(sql, values)
            self.db.execute("COMMIT")
        except sqlite3.Error:
            try:
                self.db.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # the results are simply not cached this time

    def prune(self) -> None:
        """Keep the packs and records of the few most recently used rules/code versions;
        drop the rest with their index rows."""
        self.records.mkdir(parents=True, exist_ok=True)
        self.packs.mkdir(parents=True, exist_ok=True)
        os.utime(self.home)
        homes = [p for p in self.directory.iterdir() if p.is_dir() and _is_salt_dir(p.name)]
        homes.sort(key=lambda p: p.stat().st_mtime, reverse=True)
        for old in homes[_KEEP_SALTS:]:
            if old.name != self.salt_dir:
                self._write("DELETE FROM results3 WHERE pack LIKE ?", [(f"{old.name}/%",)])
                shutil.rmtree(old, ignore_errors=True)

    def record_copy(self, key: str, shown: str) -> str:
        """The cache's copy of a result's record as printed for this source path."""
        name = hashlib.sha256(f"{key}\0{shown}".encode("utf-8")).hexdigest()[:32] + ".json"
        return os.path.join(self.records, name)

    def keep_record(self, key: str, shown: str, written: str) -> None:
        """Keep a record just written into a run (read-only) as the cache's copy: a link, no copy."""
        try:
            os.link(written, self.record_copy(key, shown))
        except OSError:
            pass  # already kept (another run), or a cache on another file system

    def link_record(self, key: str, shown: str, dest: str, pretty) -> None:
        """Put a result's record in the run as a hard link to the cache's copy (written from
        `pretty()` and kept when there is none): a warm run creates no record file at all.

        Records are read-only, and every writer of records replaces a file rather than
        writing into it, so a link never carries an edit back into the cache."""
        try:
            _link(self.record_copy(key, shown), dest)
        except OSError:  # not kept yet, another file system, too many links
            write_file(dest, pretty(), mode=0o444)
            self.keep_record(key, shown, dest)


    # ----------------------------------------------------------------- assembled runs

    #: Assembled runs kept per rules/code version (links: they share their bytes with the runs).
    KEEP_RUNS = 2

    def run_key(self, entries: list[Entry]) -> str:
        """What a run folder's assembled files depend on: each source path with its content,
        under these rules and this code (entries sorted by path)."""
        h = hashlib.sha256(self.salt.encode("utf-8"))
        for e in entries:
            h.update(f"\0{e.path}\0{e.status.sha256}".encode("utf-8", "surrogateescape"))
        return h.hexdigest()[:32]

    def reuse_run(self, key: str, dest: Path) -> bool:
        """Link the assembled files of an identical earlier run into `dest`; False (and nothing
        left in `dest`) when none is kept or a kept file is not as it was written."""
        home = self.home / "runs" / key
        linked: list[Path] = []
        try:
            meta = json.loads((home / "files.json").read_text(encoding="utf-8"))
            files = meta["files"]
            if any(os.stat(home / name).st_size != size for name, size in files.items()):
                shutil.rmtree(home, ignore_errors=True)  # changed by hand: this run keeps its own instead
                return False
            for name in files:
                target = dest / name
                _link(str(home / name), str(target))
                linked.append(target)
            os.utime(home)
            return True
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            for target in linked:  # the caller assembles afresh: no file may stay a link
                target.unlink(missing_ok=True)
            return False

    def keep_run(self, key: str, src: Path, names: list[str]) -> None:
        """Keep a just-assembled run's files (read-only links, no copy) under its run key."""
        runs = self.home / "runs"
        home = runs / key
        if home.exists():
            return
        tmp = runs / f".{key}.{os.getpid()}.tmp"
        try:
            shutil.rmtree(tmp, ignore_errors=True)
            sizes = {}
            for name in names:
                (tmp / name).parent.mkdir(parents=True, exist_ok=True)
                os.chmod(src / name, 0o444)  # shared with the run from now on: nobody writes into it
                os.link(src / name, tmp / name)
                sizes[name] = os.stat(tmp / name).st_size
            (tmp / "files.json").write_text(json.dumps({"files": sizes}), encoding="utf-8")
            os.rename(tmp, home)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)  # not kept this time (or another run kept it)
            return
        kept = sorted((p for p in runs.iterdir() if not p.name.startswith(".")),
                      key=lambda p: p.stat().st_mtime, reverse=True)
        for old in kept[self.KEEP_RUNS:]:
            shutil.rmtree(old, ignore_errors=True)


def _is_salt_dir(name: str) -> bool:
    return len(name) == 16 and all(c in "0123456789abcdef" for c in name)


def _link(src: str, dest: str) -> None:
    """Make dest a hard link to src; an existing dest is replaced atomically (workers may race
    on one slug)."""
    try:
        os.link(src, dest)
        return
    except FileExistsError:
        pass
    tmp = f"{dest}.{os.getpid()}.tmp"
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass
    os.link(src, tmp)
    os.replace(tmp, dest)


def open_cache(directory: Path | None, salt: str) -> tuple[Cache | None, str | None]:
    """The cache, or None and a one-line reason (the run goes on without it)."""
    try:
        cache = Cache(directory or default_cache_dir(), salt)
        cache.prune()
        return cache, None
    except (OSError, sqlite3.Error) as exc:
        return None, f"cache not used ({exc})"


# --------------------------------------------------------------------------- workers

def quiet_gc() -> None:
    """For processes guideparse owns (its workers, the CLI), never a library caller's.

    Extraction makes many short-lived objects and few cycles: the cyclic collector, left to
    its defaults, spends a sixth of the time re-scanning the rules and modules loaded once.
    Freeze those, and collect young objects a hundred times less often (refcounting frees
    everything else as usual)."""
    import gc

    gc.freeze()
    gc.set_threshold(70_000, 20, 20)


class Worker:
    """Per-process state: rules, pack writer, cache connection, record folder."""

    def __init__(self, rules, out_dir: Path, pack_dir: Path, cache_dir: Path | None, salt: str,
                 max_bytes: int) -> None:
        self.rules = rules
        self.records = out_dir / "records"
        self.records.mkdir(exist_ok=True)
        from .run import safe_record_name  # run imports this module

        self.record_name = safe_record_name
        self.max_bytes = max_bytes
        self.salt = salt
        self.cache = None
        if cache_dir is not None:
            try:
                self.cache = Cache(cache_dir, salt)
                pack_dir = self.cache.packs
            except (OSError, sqlite3.Error):
                self.cache = None  # extract without the cache
        self.packs = PackWriter(pack_dir)
        self.pending: list[tuple[str, str, Texts]] = []

    def run(self, files) -> list[Entry]:
        from .run import read_input

        out = []
        for f in files:
            try:
                data, st = read_input(f, self.max_bytes)
            except InputError as exc:
                out.append(failed_entry(f.shown, exc, None, None))
                continue
            sha = hashlib.sha256(data).hexdigest()
            entry = self.one(f.shown, data, sha)
            entry.seen = stat_identity(f.shown, st)
            out.append(entry)
        self.flush()
        return out

    def one(self, shown: str, data: bytes, sha: str) -> Entry:
        if self.cache is not None:
            try:
                hit = self.cache.results([sha]).get(sha)
            except sqlite3.Error:
                hit = None  # a cache problem costs time, never the input
            if hit is not None:  # known content under a new name or a new stat
                return Entry(path=shown, status=InputStatus(path=shown, sha256=sha, bytes=len(data), status="ok"),
                             slug=hit[0], texts=hit[1], cached=True)
        try:
            slug, texts = extract_texts(data, self.rules, sha)
        except InputError as exc:
            exc.path = shown
            return failed_entry(shown, exc, data, sha)
        except Exception as exc:  # a bug must cost one input, not the batch
            return failed_entry(shown, InputError("GP999", f"internal error: {type(exc).__name__}: {exc}",
                                                  path=shown), data, sha)
        where = self.packs.append(texts)
        # The app's record as if it had one document; the main process rewrites merged ones.
        dest = os.path.join(self.records, f"{self.record_name(slug)}.json")

        def pretty() -> bytes:
            return splice_path(texts[2], _TOKEN_ID, shown)

        if self.cache is not None:
            key = Cache.key(sha, self.salt)
            self.pending.append((key, slug, where))
            write_file(dest, pretty(), mode=0o444)
            self.cache.keep_record(key, shown, dest)
        else:
            write_file(dest, pretty(), mode=0o444)
        return Entry(path=shown, status=InputStatus(path=shown, sha256=sha, bytes=len(data), status="ok"),
                     slug=slug, texts=where)

    def flush(self) -> None:
        if self.cache is not None and self.pending:
            try:
                self.cache.put_results(self.pending)
            except (OSError, sqlite3.Error):
                pass  # not cached this time
        self.pending.clear()

    def close(self) -> None:
        self.flush()
        self.packs.close()
        if self.cache is not None:
            self.cache.close()


def write_file(path: str, data: bytes, mode: int = 0o644) -> None:
    """Create or replace a file with these bytes (the records: thousands per run, so no layers).

    An existing file is replaced (written under a temporary name, renamed over it), never
    written into: it may be a link to the cache, or another worker's record of the same app."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        target = None
    except FileExistsError:
        target, path = path, f"{path}.{os.getpid()}.tmp"
        try:
            os.unlink(path)  # left by a killed process of the same pid, maybe read-only
        except FileNotFoundError:
            pass
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)
    if target is not None:
        os.replace(path, target)


def extract_texts(data: bytes, rules, sha: str | None = None) -> tuple[str, tuple[bytes, bytes, bytes]]:
    """(slug, (document line, catalog entry line, pretty record)) as UTF-8, each holding
    PATH_TOKEN wherever the source path goes (the source, and each warning's source)."""
    from .catalog import single_entry
    from .record import extract_document

    doc = extract_document(data, PATH_TOKEN, rules, sha)
    entry = single_entry(doc)
    ser = doc.__pydantic_serializer__
    texts = (ser.to_json(doc) + b"\n",
             entry.__pydantic_serializer__.to_json(entry, exclude={"provenance"}) + b"\n",
             entry.__pydantic_serializer__.to_json(entry, exclude={"provenance"}, indent=2) + b"\n")
    return doc.slug, texts


def failed_entry(shown: str, err: GuideparseError, data: bytes | None, sha: str | None) -> Entry:
    return Entry(path=shown, status=InputStatus(path=shown, sha256=sha, bytes=len(data) if data is not None else None,
                                                status="failed", error=f"{err.code} {err.message}",
                                                error_code=err.code), error=err)


# --------------------------------------------------------------------------- process pool entry points

_WORKER: Worker | None = None


def worker_init(rules, out_dir: str, pack_dir: str, cache_dir: str | None, salt: str, max_bytes: int,
                pin_counter=None) -> None:
    """Per worker process: its rules (inherited when forked, else loaded once from their
    folder), its pack file and the cache; its own CPU when `pin_counter` is given."""
    global _WORKER
    from .rules import load_rules

    _die_with_parent()
    if pin_counter is not None:
        pin_to_cpu(pin_counter)
    quiet_gc()  # this process is ours; a library caller's in-process run keeps its own settings
    if isinstance(rules, str):
        rules = load_rules(rules)
    _WORKER = Worker(rules, Path(out_dir), Path(pack_dir), Path(cache_dir) if cache_dir else None, salt, max_bytes)


def usable_cpus() -> list[int]:
    """The CPUs this process may run on (its affinity: a container's share, not the host's count)."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def pin_to_cpu(counter) -> None:
    """Keep this worker on one CPU of its own (the k-th worker on the k-th allowed CPU).

    Workers left free are moved between CPUs as the main process wakes and sleeps, and
    each move starts them on cold caches: measured here, two free workers run 10-15%
    slower than two pinned ones. `counter` is a shared multiprocessing Value."""
    if not hasattr(os, "sched_setaffinity"):
        return
    try:
        cpus = usable_cpus()
        with counter.get_lock():
            k = counter.value
            counter.value += 1
        os.sched_setaffinity(0, {cpus[k % len(cpus)]})
    except OSError:
        pass  # not allowed here: run unpinned


def _die_with_parent() -> None:
    """On Linux, ask the kernel to end this worker when the main process ends, however it
    ends (kill -9 included): no orphan keeps writing into a run nobody will finish."""
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import multiprocessing
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        parent = multiprocessing.parent_process()
        if parent is not None and os.getppid() != parent.pid:  # it died before the request took effect
            os._exit(1)
    except (OSError, AttributeError):
        pass


def work_chunk(files) -> list[Entry]:
    assert _WORKER is not None
    return _WORKER.run(files)

