"""Stage 6: inputs -> run folder. The only module besides cli.py that touches files.

A run is written to a temporary folder beside its destination and moved into
place at the end, so an interrupted run never leaves a half-written folder.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator

from . import __version__
from .batch import Entry, Worker, cache_file, check_cache, work_chunk, worker_init
from .catalog import build_catalog, merge_documents, merge_order
from .errors import GuideparseError, InputError
from .models import DocumentRecord, InputStatus, Manifest
from .rules import Rules

INPUT_SUFFIXES = (".txt", ".md", ".html", ".htm")
DEFAULT_MAX_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class InputFile:
    shown: str            # the path as given (joined under a given folder)
    path: Path
    root: Path | None     # the folder it was found in, for the symlink check


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
        p = Path(given)
        if p.is_dir():
            for dirpath, dirnames, filenames in os.walk(p, followlinks=False):
                dirnames.sort()
                for name in sorted(filenames):
                    if name.lower().endswith(INPUT_SUFFIXES) and not name.startswith("."):
                        shown = os.path.join(dirpath, name)
                        found[shown] = InputFile(shown, Path(shown), p)
        else:
            found[given] = InputFile(given, p, None)
    return [found[k] for k in sorted(found)]


def read_input(f: InputFile, max_bytes: int) -> bytes:
    """Read one input's bytes, refusing what must not be read."""
    try:
        if f.root is not None and f.path.is_symlink():
            target = f.path.resolve()
            root = f.root.resolve()
            if root not in target.parents:
                raise InputError("GP907", f"symlink leads outside the input folder (to {target})", path=f.shown)
        st = f.path.stat()
        if not f.path.is_file():
            raise InputError("GP905", "not a regular file", path=f.shown)
        if st.st_size > max_bytes:
            raise InputError("GP904", f"file is {st.st_size} bytes, over --max-bytes {max_bytes}", path=f.shown)
        with f.path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise InputError("GP904", f"file grew over --max-bytes {max_bytes} while read", path=f.shown)
        return data
    except FileNotFoundError:
        raise InputError("GP905", "file not found", path=f.shown) from None
    except PermissionError:
        raise InputError("GP905", "permission denied", path=f.shown) from None
    except IsADirectoryError:
        raise InputError("GP905", "is a directory", path=f.shown) from None
    except OSError as exc:
        raise InputError("GP905", f"cannot read: {exc.strerror or exc}", path=f.shown) from None


# --------------------------------------------------------------------------- writing

def dumps_pretty(obj: dict) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2) + "\n"


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


def safe_record_name(slug: str) -> str:
    """A slug is [a-z0-9-]; anything else can never become a path."""
    if not slug or any(c not in "abcdefghijklmnopqrstuvwxyz0123456789-" for c in slug):
        return "invalid-" + hashlib.sha256(slug.encode()).hexdigest()[:12]
    return slug


def write_run(out_dir: Path, documents: list[DocumentRecord], manifest: Manifest) -> None:
    """Write a run folder from documents in memory (the baseline after `review`)."""
    out_dir = out_dir.absolute()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
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
    (records / f"{safe_record_name(entry.slug)}.json").write_text(
        entry.model_dump_json(exclude={"provenance"}, indent=2) + "\n", encoding="utf-8", newline="\n")


def _seal(tmp: Path, out_dir: Path, manifest: Manifest) -> None:
    """The manifest last, then the finished folder into place."""
    (tmp / "manifest.json").write_text(dumps_pretty(manifest.model_dump(mode="json")), encoding="utf-8",
                                       newline="\n")
    move_into_place(tmp, out_dir)


def move_into_place(tmp: Path, dest: Path) -> None:
    """Replace `dest` with the finished folder `tmp` (same parent): rename, never copy."""
    if dest.exists() or dest.is_symlink():
        old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.old-", dir=dest.parent))
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


def _finish(entries: list[Entry], tmp: Path) -> int:
    """Write documents.jsonl (by source path) and catalog.jsonl (by slug) from the workers'
    spool files, and the records of apps with several documents; only the small index is
    held in memory. Returns the app count."""
    spools: dict[str, object] = {}

    def spool(e: Entry):
        fh = spools.get(e.spool)
        if fh is None:
            fh = spools[e.spool] = (tmp / e.spool).open("rb")
        return fh

    def copy(e: Entry, i: int, out) -> None:
        off, length = e.spans[2 * i], e.spans[2 * i + 1]
        _copy_range(spool(e), out, off, length)

    def read(e: Entry, i: int) -> str:
        fh = spool(e)
        fh.seek(e.spans[2 * i])
        return fh.read(e.spans[2 * i + 1]).decode("utf-8")

    try:
        entries = sorted(entries, key=lambda e: e.path)
        with (tmp / "documents.jsonl").open("wb") as out:
            for e in entries:
                copy(e, 0, out)
        by_slug: dict[str, list[Entry]] = {}
        for e in entries:
            by_slug.setdefault(e.slug, []).append(e)
        (tmp / "records").mkdir(exist_ok=True)
        with (tmp / "catalog.jsonl").open("wb") as out:
            for slug in sorted(by_slug):
                group = by_slug[slug]
                if len(group) == 1:
                    copy(group[0], 1, out)
                    continue
                docs = [DocumentRecord.model_validate_json(read(e, 0)) for e in group]
                _write_entry(merge_documents(merge_order(docs)), out, tmp / "records")
    finally:
        for h in spools.values():
            h.close()  # type: ignore[attr-defined]
        for f in tmp.glob(".spool-*"):
            f.unlink()
    return len(by_slug)


def _copy_range(src, dst, offset: int, length: int) -> None:
    """Copy bytes between files in the kernel where it can (copy_file_range), else through memory."""
    dst.flush()
    copy = getattr(os, "copy_file_range", None)
    if copy is not None:
        try:
            while length > 0:
                n = copy(src.fileno(), dst.fileno(), length, offset)
                if n <= 0:
                    break
                offset += n
                length -= n
            if length == 0:
                dst.seek(0, os.SEEK_END)
                return
        except OSError:
            pass
    src.seek(offset)
    dst.write(src.read(length))


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
) -> RunResult:
    """Extract every input and write one run folder, atomically.

    Inputs go in chunks to `jobs` worker processes (in-process for one job), a
    bounded number in flight; each worker spools its results to disk; the run
    folder is assembled at the end through a small index, in a temporary folder
    moved into place.
    """
    started = utc_now()
    t0 = time.perf_counter()
    files = collect_inputs(inputs)
    out_dir = out_dir.absolute()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    cache_path = None
    if use_cache:
        note = check_cache(cache_dir)
        if note is None:
            cache_path = cache_file(cache_dir)
        elif on_note is not None:
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

            if jobs <= 1 or len(files) <= CHUNK:
                worker = Worker(rules, tmp, cache_path, max_bytes)
                try:
                    for chunk in _chunks(files, CHUNK):
                        for e in worker.run(chunk):
                            handle(e)
                finally:
                    worker.close()
            else:
                _run_pool(files, jobs, rules, tmp, cache_path, max_bytes, handle)
        apps = _finish(entries, tmp)
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
    cached = sum(1 for e in entries if e.cached)
    return RunResult(out_dir, statuses, time.perf_counter() - t0, failures, apps=apps, cached=cached)


def _run_pool(files: list[InputFile], jobs: int, rules: Rules, tmp: Path, cache_path: Path | None,
              max_bytes: int, handle: Callable[[Entry], None]) -> None:
    """Feed chunks to a process pool, at most 3 per worker in flight, handling entries as they finish."""
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    init = (str(rules.directory), str(tmp), str(cache_path) if cache_path else None, max_bytes)
    with ProcessPoolExecutor(max_workers=jobs, initializer=worker_init, initargs=init) as pool:
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
