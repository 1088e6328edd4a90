"""Stage 6: inputs -> run folder. With batch.py (workers, packs, cache), the only
modules besides cli.py that touch files.

A run is written to a temporary folder beside its destination and moved into
place at the end, so an interrupted run never leaves a half-written folder.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import sqlite3
import stat
import tempfile
import time
from dataclasses import dataclass, field
from functools import partial
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator

from . import __version__
from .batch import (Cache, Entry, PackReader, Worker, code_version, failed_entry, open_cache, stat_identity, usable_cpus,
                    work_chunk, worker_init, write_file)
from .catalog import build_catalog, merge_documents, merge_order
from .errors import GuideparseError, InputError
from .models import DocumentRecord, InputStatus, Manifest
from .rules import Rules

INPUT_SUFFIXES = (".txt", ".md", ".html", ".htm")
DEFAULT_MAX_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class InputFile:
    shown: str              # the path as given (joined under a given folder); printable UTF-8
    root: str | None        # the folder it was found in, for the symlink check
    name_error: str | None = None   # why its name cannot be shown as it is (then it is not read)

    @property
    def path(self) -> Path:
        return Path(self.shown)


@dataclass
class RunResult:
    out_dir: Path
    statuses: list[InputStatus]
    seconds: float
    failures: list[GuideparseError] = field(default_factory=list)
    apps: int = 0
    cached: int = 0

    @property
    def failed(self) -> int:
        return sum(1 for s in self.statuses if s.status == "failed")


def collect_inputs(inputs: Iterable[str]) -> list[InputFile]:
    """Files as given, and guide files found by recursing into given folders."""
    found: dict[str, InputFile] = {}
    for given in inputs:
        if os.path.isdir(given):
            for dirpath, dirnames, filenames in os.walk(given, followlinks=False):
                dirnames.sort()
                for name in sorted(filenames):
                    if name.lower().endswith(INPUT_SUFFIXES) and not name.startswith("."):
                        f = _input_file(os.path.join(dirpath, name), given)
                        found[f.shown] = f
        else:
            f = _input_file(given, None)
            found[f.shown] = f
    return [found[k] for k in sorted(found)]


def _input_file(path: str, root: str | None) -> InputFile:
    try:
        path.encode("utf-8")
        return InputFile(path, root)
    except UnicodeEncodeError:  # bytes that are not UTF-8 in a name (Python keeps them as surrogates)
        shown = os.fsencode(path).decode("utf-8", "backslashreplace")
        return InputFile(shown, root, "file name is not valid UTF-8; rename the file")


def check_input(f: InputFile, max_bytes: int) -> os.stat_result:
    """Refuse what must not be read (a name that is not text, a symlink out of its folder,
    not a regular file, too big) by one or two stat calls."""
    if f.name_error is not None:
        raise InputError("GP905", f.name_error, path=f.shown)
    try:
        st = os.lstat(f.shown)
        if stat.S_ISLNK(st.st_mode):
            if f.root is not None:
                target = Path(f.shown).resolve()
                if Path(f.root).resolve() not in target.parents:
                    raise InputError("GP907", f"symlink leads outside the input folder (to {target})", path=f.shown)
            st = os.stat(f.shown)
        if not stat.S_ISREG(st.st_mode):
            raise InputError("GP905", "not a regular file", path=f.shown)
        if st.st_size > max_bytes:
            raise InputError("GP904", f"file is {st.st_size} bytes, over --max-bytes {max_bytes}", path=f.shown)
        return st
    except OSError as exc:
        raise _os_error(exc, f) from None


def read_input(f: InputFile, max_bytes: int) -> tuple[bytes, os.stat_result]:
    """Read one input's bytes (and its stat, taken before the read), refusing what must not be read."""
    st = check_input(f, max_bytes)
    try:
        with open(f.shown, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise _os_error(exc, f) from None
    if len(data) > max_bytes:
        raise InputError("GP904", f"file grew over --max-bytes {max_bytes} while read", path=f.shown)
    return data, st


def _os_error(exc: OSError, f: InputFile) -> InputError:
    if isinstance(exc, FileNotFoundError):
        return InputError("GP905", "file not found", path=f.shown)
    if isinstance(exc, PermissionError):
        return InputError("GP905", "permission denied", path=f.shown)
    if isinstance(exc, IsADirectoryError):
        return InputError("GP905", "is a directory", path=f.shown)
    return InputError("GP905", f"cannot read: {exc.strerror or exc}", path=f.shown)


# --------------------------------------------------------------------------- writing

def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def default_run_dir(base: Path) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    d = base / "runs" / stamp
    n = 1
    while d.exists():
        d = base / "runs" / f"{stamp}-{n}"
        n += 1
    return d


_SAFE_SLUG = re.compile(r"[a-z0-9-]+")


def safe_record_name(slug: str) -> str:
    """A slug is [a-z0-9-]; anything else can never become a path."""
    if not _SAFE_SLUG.fullmatch(slug):
        return "invalid-" + hashlib.sha256(slug.encode()).hexdigest()[:12]
    return slug


def write_run(out_dir: Path, documents: list[DocumentRecord], manifest: Manifest) -> None:
    """Write a run folder from documents in memory (the baseline after `review`)."""
    out_dir = out_dir.absolute()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = work_folder(out_dir, "tmp")
    try:
        docs = sorted(documents, key=lambda d: d.source.path)
        with (tmp / "documents.jsonl").open("w", encoding="utf-8", newline="\n") as fh:
            for d in docs:
                fh.write(d.model_dump_json() + "\n")
        (tmp / "records").mkdir()
        with (tmp / "catalog.jsonl").open("wb") as fh:
            for entry in build_catalog(docs):
                _write_entry(entry, fh, tmp / "records")
        _seal(tmp, out_dir, manifest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _write_entry(entry, catalog, records: Path) -> None:
    """One catalog line and its pretty record."""
    catalog.write((entry.model_dump_json(exclude={"provenance"}) + "\n").encode("utf-8"))
    write_file(os.path.join(records, f"{safe_record_name(entry.slug)}.json"),
               (entry.model_dump_json(exclude={"provenance"}, indent=2) + "\n").encode("utf-8"), mode=0o444)


def _seal(tmp: Path, out_dir: Path, manifest: Manifest) -> None:
    """The manifest last, then the finished folder into place."""
    # Rust-side serialisation: a manifest lists every input, thousands in a batch.
    (tmp / "manifest.json").write_bytes(manifest.__pydantic_serializer__.to_json(manifest, indent=2) + b"\n")
    move_into_place(tmp, out_dir)


def work_folder(dest: Path, kind: str) -> Path:
    """A new hidden folder beside `dest` for this process (".<name>.<kind>-<pid>-<random>").

    Folders of this kind left by processes that no longer run (killed, crashed) are
    removed first: an interrupted run costs its own work, never disk space for good."""
    prefix = f".{dest.name}.{kind}-"
    for stale in dest.parent.glob(prefix + "*"):
        pid = stale.name[len(prefix):].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _running(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=dest.parent))


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def move_into_place(tmp: Path, dest: Path) -> None:
    """Replace `dest` with the finished folder `tmp` (same parent): rename, never copy."""
    if dest.exists() or dest.is_symlink():
        old = work_folder(dest, "old")
        old.rmdir()
        os.replace(dest, old)
        os.replace(tmp, dest)
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink()
    else:
        os.replace(tmp, dest)


def point_latest(base: Path, run_dir: Path) -> None:
    """Make base/latest a relative symlink to the run, replaced atomically."""
    link = base / "latest"
    tmp = base / f".latest.tmp-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(os.path.relpath(run_dir, base))
    os.replace(tmp, link)


def _finish(entries: list[Entry], tmp: Path, cache: Cache | None = None) -> int:
    """Write documents.jsonl (by source path) and catalog.jsonl (by slug) from the packs, the
    records of cached results and of apps with several documents; only the small index is
    held in memory. Returns the app count.

    With a cache, the assembled files are kept there as read-only links under a key of the
    inputs (paths and contents), rules and code; a run with the same key links them instead.

    The three are written by three threads: their work is mostly system calls (reads,
    writes, links), which run side by side."""
    from concurrent.futures import ThreadPoolExecutor

    records = tmp / "records"
    records.mkdir(exist_ok=True)
    entries = sorted(entries, key=lambda e: e.path)
    by_slug: dict[str, list[Entry]] = {}
    for e in entries:
        by_slug.setdefault(e.slug, []).append(e)

    def documents() -> None:
        packs = PackReader()
        try:
            with (tmp / "documents.jsonl").open("wb", buffering=1 << 20) as out:
                for e in entries:
                    out.write(packs.read(e.texts, 0, e.path))
        finally:
            packs.close()

    def cached_records() -> None:
        """Records of apps with one document whose result came from the cache (a worker
        wrote the record of each result it extracted)."""
        packs = PackReader()
        try:
            for slug, group in by_slug.items():
                e = group[0]
                if len(group) != 1 or not e.cached:
                    continue
                dest = os.path.join(records, f"{safe_record_name(slug)}.json")
                pretty = partial(packs.read, e.texts, 2, e.path)
                if cache is not None:
                    cache.link_record(Cache.key(e.status.sha256, cache.salt), e.path, dest, pretty)
                else:
                    write_file(dest, pretty(), mode=0o444)
        finally:
            packs.close()

    def catalog() -> None:
        packs = PackReader()
        try:
            with (tmp / "catalog.jsonl").open("wb", buffering=1 << 20) as out:
                for slug in sorted(by_slug):
                    group = by_slug[slug]
                    if len(group) == 1:
                        out.write(packs.read(group[0].texts, 1, group[0].path))
                        continue
                    docs = [DocumentRecord.model_validate_json(packs.read(e.texts, 0, e.path)) for e in group]
                    _write_entry(merge_documents(merge_order(docs)), out, records)
        finally:
            packs.close()

    # An unchanged re-run: the files assembled for the same inputs, rules and code are linked.
    run_key = cache.run_key(entries) if cache is not None else None
    if cache is not None and run_key is not None and cache.reuse_run(run_key, tmp):
        cached_records()
        return len(by_slug)
    with ThreadPoolExecutor(2) as pool:
        side = [pool.submit(documents), pool.submit(cached_records)]
        catalog()
        for f in side:
            f.result()
    if cache is not None and run_key is not None:
        merged = [f"records/{safe_record_name(slug)}.json" for slug, group in by_slug.items() if len(group) > 1]
        cache.keep_run(run_key, tmp, ["documents.jsonl", "catalog.jsonl", *merged])
    return len(by_slug)


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    chunk: list = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


CHUNK = 32


def run_extract(
    inputs: list[str],
    rules: Rules,
    out_dir: Path,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    jobs: int = 1,
    cache_dir: Path | None = None,
    use_cache: bool = False,
    progress: bool = False,
    on_failure: Callable[[GuideparseError], None] | None = None,
    on_note: Callable[[str], None] | None = None,
    pin: bool = True,
) -> RunResult:
    """Extract every input and write one run folder, atomically.

    Inputs the cache knows unchanged (by stat, then by sha256) are not read again;
    the rest go in chunks to `jobs` worker processes (in-process for one job), a
    bounded number in flight, each appending its results to a pack file; the run
    folder is assembled from the packs at the end through a small index, in a
    temporary folder moved into place.
    """
    started = utc_now()
    t0 = time.perf_counter()
    files = collect_inputs(inputs)
    out_dir = out_dir.absolute()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = work_folder(out_dir, "tmp")
    salt = f"{rules.digest}:{code_version()}"
    cache = None
    if use_cache:
        cache, note = open_cache(cache_dir, salt)
        if note is not None and on_note is not None:
            on_note(note)
    entries: list[Entry] = []
    statuses: list[InputStatus] = []
    failures: list[GuideparseError] = []
    try:
        with _progress(progress, len(files)) as advance:

            def handle(e: Entry) -> None:
                statuses.append(e.status)
                if e.error is not None:
                    failures.append(e.error)
                    if on_failure is not None:
                        on_failure(e.error)
                else:
                    entries.append(e)
                advance()

            todo = _reuse_cached(files, cache, max_bytes, handle) if cache is not None else files
            pack_dir = tmp / ".packs"
            cache_path = cache.directory if cache is not None else None
            if jobs <= 1 or len(todo) <= CHUNK:
                worker = Worker(rules, tmp, pack_dir, cache_path, salt, max_bytes)
                try:
                    for chunk in _chunks(todo, CHUNK):
                        for e in worker.run(chunk):
                            handle(e)
                finally:
                    worker.close()
            else:
                _run_pool(todo, jobs, rules, (str(tmp), str(pack_dir), str(cache_path) if cache_path else None,
                                              salt, max_bytes), handle, pin)
        apps = _finish(entries, tmp, cache)
        shutil.rmtree(tmp / ".packs", ignore_errors=True)
        if cache is not None:
            cache.put_seen([(e.seen, e.status.sha256) for e in entries if e.seen is not None])
        statuses.sort(key=lambda s: s.path)
        ok = sum(1 for s in statuses if s.status == "ok")
        manifest = Manifest(
            tool_version=__version__, rules_digest=rules.digest, rules_dir=str(rules.directory),
            started_at=started, finished_at=utc_now(),
            counts={"inputs": len(statuses), "ok": ok, "failed": len(statuses) - ok, "apps": apps},
            inputs=statuses,
        )
        _seal(tmp, out_dir, manifest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if cache is not None:
            cache.close()
    cached = sum(1 for e in entries if e.cached)
    return RunResult(out_dir, statuses, time.perf_counter() - t0, failures, apps=apps, cached=cached)


def _reuse_cached(files: list[InputFile], cache: Cache, max_bytes: int,
                  handle: Callable[[Entry], None]) -> list[InputFile]:
    """Hand over the inputs whose results the cache holds (known unchanged by stat: not read
    again); return the others, to extract."""
    checked: list[tuple[InputFile, os.stat_result]] = []
    for f in files:
        try:
            checked.append((f, check_input(f, max_bytes)))
        except InputError as exc:
            handle(failed_entry(f.shown, exc, None, None))
    idents = [stat_identity(f.shown, st) for f, st in checked]
    try:
        shas = cache.known_shas(idents)
        held = cache.results(sorted(set(shas.values())))
    except sqlite3.Error:
        return [f for f, _ in checked]
    todo = []
    for (f, st), ident in zip(checked, idents):
        sha = shas.get(ident[0])
        hit = held.get(sha) if sha is not None else None
        if hit is None:
            todo.append(f)
            continue
        slug, texts = hit
        handle(Entry(path=f.shown, status=InputStatus(path=f.shown, sha256=sha, bytes=st.st_size, status="ok"),
                     slug=slug, texts=texts, cached=True))
    return todo


def _run_pool(files: list[InputFile], jobs: int, rules: Rules, args: tuple,
              handle: Callable[[Entry], None], pin: bool = True) -> None:
    """Feed chunks to a process pool, at most 3 per worker in flight, handling entries as they finish.

    With `pin`, and no more workers than CPUs this process may use, each worker keeps a CPU
    of its own (batch.pin_to_cpu)."""
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    context = multiprocessing.get_context()
    counter = context.Value("i", 0) if pin and jobs <= len(usable_cpus()) else None
    if context.get_start_method() == "fork":
        # Forked workers inherit the loaded rules and the imported extractor: no start-up of their own.
        from . import record  # noqa: F401

        shared = rules
    else:
        shared = str(rules.directory)
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=worker_init,
                             initargs=(shared, *args, counter)) as pool:
        running: set = set()
        for chunk in _chunks(files, CHUNK):
            running.add(pool.submit(work_chunk, chunk))
            if len(running) >= jobs * 3:
                done, running = wait(running, return_when=FIRST_COMPLETED)
                for fut in done:
                    for e in fut.result():
                        handle(e)
        for fut in running:
            for e in fut.result():
                handle(e)


class _progress:
    """A rich progress bar on a terminal (count, rate, ETA); nothing otherwise."""

    def __init__(self, show: bool, total: int) -> None:
        self.show, self.total, self.bar = show, total, None

    def __enter__(self) -> Callable[[], None]:
        if not self.show:
            return lambda: None
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn,
                                   TimeRemainingColumn)

        self.bar = Progress(TextColumn("extracting"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
                            TextColumn("{task.fields[rate]}"), TimeRemainingColumn(), transient=True,
                            console=None)
        self.bar.start()
        task = self.bar.add_task("extract", total=self.total, rate="")
        start = time.perf_counter()
        count = [0]

        def advance() -> None:
            count[0] += 1
            if count[0] % 16 == 0 or count[0] == self.total:
                rate = count[0] / max(time.perf_counter() - start, 1e-9)
                self.bar.update(task, completed=count[0], rate=f"{rate:.0f}/s")

        return advance

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()
