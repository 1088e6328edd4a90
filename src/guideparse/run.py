"""Assembling a run: inputs -> run folder (documents, catalog, records, manifest).

Chunks of inputs go to `ExtractTask` (in worker processes, `pool.map_ordered`): each
input is read, looked up in the cache by its sha256 or extracted, and its record
written; the chunk's document lines go straight into documents.jsonl, in their place
(`ordered.OrderedFile`). Each chunk's catalog lines go into its worker's spool
(`spools.Spools`), where the main process reads them back at the end, when it writes
`catalog.jsonl` by slug, merging the apps with several documents; only where they are
crosses the pipe, with the outcomes, which the main process receives in input order. The
run is built in a work folder beside `--out` and swapped into place at once
(`fsio.replacing`).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from pydantic import TypeAdapter

from . import __version__
from .cache import (
    DEFAULT_MAX_SIZE,
    CachedResult,
    CacheRefused,
    ResultCache,
    default_cache_dir,
    open_cache,
    result_facts,
    result_version,
)
from .catalog import app_entry, build_catalog, single_entry
from .errors import GuideparseError, InputError
from .family_models import load_document
from .fsio import check_output_target, replacing, write_atomic
from .inputs import DEFAULT_MAX_BYTES, INPUT_SUFFIXES, InputFile, collect_inputs, read_input
from .limits import DEFAULT_TIMEOUT, TimeLimitExceeded, time_limit
from .models import DocumentRecord, InputStatus, Manifest, RunSummary
from .ordered import OrderedFile
from .pool import map_ordered, pool_context, usable_cpus
from .render import document_line, entry_lines, render_result
from .rules import Rules, load_rules
from .spools import Piece, Spools

_MANIFEST = TypeAdapter(Manifest)
_SAFE_SLUG = re.compile(r"[a-z0-9-]+")


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def default_run_dir(base: Path) -> Path:
    """A new, empty base/runs/<UTC time> (with a counter when taken), made at once, so two
    runs started in the same second never pick the same folder."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (base / "runs").mkdir(parents=True, exist_ok=True)
    for n in itertools.count():
        d = base / "runs" / (f"{stamp}-{n}" if n else stamp)
        try:
            d.mkdir()
            return d
        except FileExistsError:
            continue
    raise AssertionError("unreachable")


def safe_record_name(slug: str) -> str:
    """A slug is [a-z0-9-]; anything else can never become a path."""
    if not _SAFE_SLUG.fullmatch(slug):
        return "invalid-" + hashlib.sha256(slug.encode()).hexdigest()[:12]
    return slug


def extract_result(data: bytes, rules: Rules, sha: str, token: str) -> CachedResult:
    """Extract one input with `token` in place of its source path (so the result serves the
    same bytes under any name). Raises InputError."""
    from .record import extract_document

    doc = extract_document(data, token, rules, sha)
    entry = single_entry(doc, rules)
    facts = result_facts(doc.source.truncated, [w.code for w in doc.warnings])
    out = render_result(doc, entry)
    return CachedResult(doc.slug, out.document, out.catalog, out.record, token, facts)


# --------------------------------------------------------------------------- one input


@dataclass(frozen=True)
class Extracted:
    """An input that gave a record. Plain fields: thousands cross from the workers per run."""

    path: str
    sha256: str
    size: int
    slug: str
    document: tuple[int, int]  # where its line is in documents.jsonl: offset, length
    entry: Piece  # where the catalog line of the app as if it had this document only is spooled
    facts: str = "0;"  # CachedResult.facts: truncated, warning codes
    cached: bool = False
    cache_note: str | None = None

    @property
    def status(self) -> InputStatus:
        return InputStatus(path=self.path, sha256=self.sha256, bytes=self.size, status="ok")


@dataclass(frozen=True)
class Failed:
    """An input that gave none; `error` says why, in one line."""

    status: InputStatus
    error: GuideparseError


Outcome = Extracted | Failed


def failed(shown: str, err: GuideparseError, data: bytes | None = None, sha: str | None = None) -> Failed:
    status = InputStatus(
        path=shown,
        sha256=sha,
        bytes=None if data is None else len(data),
        status="failed",
        error=f"{err.code} {err.message}",
        error_code=err.code,
    )
    return Failed(status, err)


class Taken(NamedTuple):
    """An input's result, from the cache or fresh, with its source path in its texts."""

    result: CachedResult
    sha: str
    size: int
    cached: bool
    note: str | None  # a cache entry that failed its check
    document: bytes
    entry: bytes


Chunk = tuple[int, list[InputFile]]  # a chunk's number and its inputs, in input order
CHUNK = 32  # inputs in one task
PATIENCE = 0.25  # a worker waits for its chunk's turn this share of the time the chunk took


@dataclass(frozen=True)
class ChunkDone:
    """A chunk's outcomes; with where its document lines are spooled when it was not the
    chunk's turn to write them (the main process then writes them in their place, and document
    offsets are relative to the chunk's start)."""

    number: int
    outcomes: list[Outcome]
    documents: Piece | None
    cache_bytes: int = 0  # the bytes of the cache entries the chunk wrote


@dataclass
class ExtractTask:
    """What a worker does with a chunk of inputs: read each, take its result from the cache or
    extract it, write the app's record into the run; then write the chunk's document lines
    into documents.jsonl, in their place (ordered.OrderedFile), and its catalog lines into the
    worker's spool, and hand back where they are."""

    rules: Rules
    folder: Path  # the run's work folder
    max_bytes: int
    documents: OrderedFile
    spools: Spools
    cache: ResultCache | None = None
    timeout: float | None = DEFAULT_TIMEOUT
    token: str = field(default_factory=lambda: f"@@guideparse-path-{secrets.token_hex(8)}@@")

    def __call__(self, chunk: Chunk) -> ChunkDone:
        number, files = chunk
        started = time.monotonic()
        done = [(f, self._one(f)) for f in files]
        fresh = [(one.sha, one.result) for _, one in done if not isinstance(one, Failed) and not one.cached]
        kept, keep_note = self._keep(fresh)
        taken = [one for _, one in done if not isinstance(one, Failed)]
        data = b"".join(one.document for one in taken)
        patience = (time.monotonic() - started) * PATIENCE
        written = self.documents.try_write(number, data, patience)
        spooled = None if written is not None else self.spools.put(data)
        at = written or 0  # relative to the chunk's start when the main process writes it
        entries = self.spools.put(b"".join(one.entry for one in taken))
        entry_at = entries.offset
        outcomes: list[Outcome] = []
        for f, one in done:
            if isinstance(one, Failed):
                outcomes.append(one)
                continue
            result, note = one.result, one.note
            if not one.cached and keep_note is not None:  # the first input the cache failed
                note, keep_note = keep_note, None
            doc_at, entry = (at, len(one.document)), Piece(entries.spool, entry_at, len(one.entry))
            outcomes.append(
                Extracted(f.shown, one.sha, one.size, result.slug, doc_at, entry, result.facts, one.cached, note)
            )
            at, entry_at = at + len(one.document), entry_at + len(one.entry)
        return ChunkDone(number, outcomes, spooled, kept)

    def _one(self, f: InputFile) -> Failed | Taken:
        try:
            data = read_input(f, self.max_bytes)
        except InputError as exc:
            return failed(f.shown, exc)
        sha = hashlib.sha256(data).hexdigest()
        result, note = self._cached(sha)
        cached = result is not None
        if result is None:
            one = extract_input(data, f.shown, sha, self.rules, self.timeout, self.token)
            if isinstance(one, Failed):
                return one
            result = one
        document, entry, record = result.spliced(f.shown)
        write_atomic(self.folder / "records" / f"{safe_record_name(result.slug)}.json", record, direct=True)
        return Taken(result, sha, len(data), cached, note, document, entry)

    def _cached(self, sha: str) -> tuple[CachedResult | None, str | None]:
        if self.cache is None:
            return None, None
        result, garbled = self.cache.get(sha)
        return result, "garbled" if garbled else None

    def _keep(self, results: list[tuple[str, CachedResult]]) -> tuple[int, str | None]:
        """Store a chunk's new results (one pack): (bytes written, a note when the cache could
        not be written, which costs the cache only)."""
        if self.cache is None or not results:
            return 0, None
        try:
            return self.cache.put_many(results), None
        except OSError as exc:
            self.cache = None  # this worker stops trying
            return 0, f"unwritable: {exc.strerror or exc}"


def extract_input(
    data: bytes, shown: str, sha: str, rules: Rules, timeout: float | None, token: str
) -> Failed | CachedResult:
    """One input's result, or its failure as a one-line error naming `shown` (every engine
    extracts an input through here: the same bytes, the same failures)."""
    try:
        with time_limit(timeout):
            return extract_result(data, rules, sha, token)
    except TimeLimitExceeded:
        error = InputError("GP912", f"extraction took over {timeout:g} s (--timeout); skipped", path=shown)
        return failed(shown, error, data, sha)
    except GuideparseError as exc:
        exc.path = shown
        return failed(shown, exc, data, sha)
    except Exception as exc:  # a bug must cost one input, not the batch
        error = InputError("GP999", f"internal error: {type(exc).__name__}: {exc}", path=shown)
        return failed(shown, error, data, sha)


# --------------------------------------------------------------------------- the run folder


class Tally:
    """The counts of a run, input by input in input order: the manifest's statuses and summary."""

    def __init__(self) -> None:
        self.statuses: list[InputStatus] = []
        self.failures: list[GuideparseError] = []
        self.cached = 0
        self.truncated = self.with_warnings = 0
        self.warnings: Counter[str] = Counter()
        self.notes: dict[str, list[str]] = {}
        self.cache_bytes = 0  # written into the cache by the run

    def count(self, status: InputStatus, error: GuideparseError | None, facts: str = "0;") -> None:
        """One input: its status, its failure (or None) and, when it gave a record, its facts."""
        self.statuses.append(status)
        if error is not None:
            self.failures.append(error)
        else:
            self._count(facts)

    def _count(self, facts: str) -> None:
        truncated, _, codes = facts.partition(";")
        self.truncated += truncated == "1"
        if codes:
            self.with_warnings += 1
            for code, _, n in (c.partition("=") for c in codes.split(",")):
                self.warnings[code] += int(n)

    def summary(self, apps: int, seconds: float | None = None) -> RunSummary:
        """The counts of the run so far."""
        failed = Counter(e.code for e in self.failures)
        n = len(self.statuses)
        return RunSummary(
            inputs=n,
            ok=n - len(self.failures),
            ok_with_warnings=self.with_warnings,
            truncated=self.truncated,
            failed=len(self.failures),
            apps=apps,
            warnings=dict(sorted(self.warnings.items(), key=lambda kv: (-kv[1], kv[0]))),
            failures=dict(sorted(failed.items(), key=lambda kv: (-kv[1], kv[0]))),
            seconds=seconds,
        )


class RunAssembler(Tally):
    """Collects the outcomes in input order (the workers have written the document lines and
    spooled the catalog lines), then writes catalog.jsonl by slug, merging the apps with several
    documents (whose records it rewrites). Only offsets stay in memory."""

    def __init__(self, folder: Path, spools: Spools, rules: Rules | None = None) -> None:
        self.folder = folder
        super().__init__()
        self.spools = spools
        self.rules = rules  # for merging (None: the project's)
        self._apps: dict[str, list[tuple[tuple[int, int], Piece]]] = {}

    def add(self, outcome: Outcome, base: int = 0) -> None:
        """One outcome; `base` is added to its document's offset (see ChunkDone)."""
        self.statuses.append(outcome.status)
        if isinstance(outcome, Failed):
            self.failures.append(outcome.error)
            return
        doc = (outcome.document[0] + base, outcome.document[1])
        self._apps.setdefault(outcome.slug, []).append((doc, outcome.entry))
        self.cached += outcome.cached
        self._count(outcome.facts)
        if outcome.cache_note is not None:
            self.notes.setdefault(outcome.cache_note, []).append(outcome.path)

    def finish(self) -> int:
        """Write catalog.jsonl and the merged records; returns the number of apps."""
        with (
            open(self.folder / "documents.jsonl", "rb") as docs,
            open(self.folder / "catalog.jsonl", "wb", buffering=1 << 20) as out,
        ):
            for slug in sorted(self._apps):
                out.write(self._entry_line(slug, docs.fileno()))
        self.spools.close()
        return len(self._apps)

    def _entry_line(self, slug: str, docs: int) -> bytes:
        group = self._apps[slug]
        if len(group) == 1:
            return self.spools.get(group[0][1])
        found = [load_document(os.pread(docs, n, at)) for (at, n), _ in group]
        entry = app_entry(found, self.rules)
        line, record = entry_lines(entry)
        write_atomic(self.folder / "records" / f"{safe_record_name(slug)}.json", record)
        return line

    def __enter__(self) -> RunAssembler:
        return self

    def __exit__(self, *exc: object) -> None:
        self.spools.close()


@dataclass
class RunResult:
    """What a run did: where it went, each input's status, the failures, counts."""

    out_dir: Path | str  # a URL for a run written to an object store
    statuses: list[InputStatus]
    seconds: float
    failures: list[GuideparseError] = field(default_factory=list)
    apps: int = 0
    cached: int = 0
    notes: list[str] = field(default_factory=list)
    summary: RunSummary | None = None

    @property
    def failed(self) -> int:
        return sum(1 for s in self.statuses if s.status == "failed")


def extract_many(
    inputs: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    rules: Rules | None = None,
    jobs: int | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    cache_dir: str | os.PathLike[str] | None = None,
    use_cache: bool = True,
    cache_max_size: int | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    tune_gc: bool = True,
    on_progress: Callable[[int, int], None] | None = None,
) -> RunResult:
    """Extract every input (files, or folders searched for guides) into the run folder `out`,
    written beside it and swapped into place at once. `out` must be new, empty, or a run.
    `jobs` worker processes (default: the CPUs this process may use).

    A bad input costs itself only (a `failed` status), and so does one whose extraction takes
    over `timeout` seconds (GP912); an unusable cache costs time only (a note in
    `RunResult.notes`). No input found is GP911."""
    started, t0 = utc_now(), time.perf_counter()
    given = _given_inputs(inputs)
    out_dir = Path(os.path.abspath(out))
    check_output_target(out_dir, given)  # before the rules load: a refused --out costs nothing
    rules = rules or load_rules()
    files = collect_inputs(given)
    if not files:
        searched = f"searched for {', '.join(INPUT_SUFFIXES)} in folders; files are taken as given"
        raise GuideparseError("GP911", f"no guide file found ({searched})", path=", ".join(given))
    notes: list[str] = []
    cache = _open_cache(cache_dir, out_dir, rules, notes) if use_cache else None
    with replacing(out_dir, given) as tmp:
        (tmp / "records").mkdir()
        spools = Spools(tmp)
        with (
            RunAssembler(tmp, spools, rules) as assembler,
            OrderedFile(tmp / "documents.jsonl", pool_context()) as documents,
        ):
            task = ExtractTask(rules, tmp, max_bytes, documents, spools, cache, timeout)
            chunks = [(k, files[i : i + CHUNK]) for k, i in enumerate(range(0, len(files), CHUNK))]
            workers = min(jobs or len(usable_cpus()), len(chunks))  # never more processes than work
            for done in map_ordered(task, chunks, workers, tune_gc=tune_gc):
                spooled = done.documents
                base = 0 if spooled is None else task.documents.write(done.number, spools.get(spooled))
                assembler.cache_bytes += done.cache_bytes
                for outcome in done.outcomes:
                    assembler.add(outcome, base)
                if on_progress is not None:
                    on_progress(len(assembler.statuses), len(files))
            apps = assembler.finish()
        notes += _cache_notes(assembler.notes)
        summary = assembler.summary(apps, round(time.perf_counter() - t0, 3))
        _write_manifest(tmp, make_manifest(rules, started, assembler.statuses, summary))
    if cache is not None and (cache_max_size is not None or assembler.cached < len(assembler.statuses)):
        _prune(cache, cache_max_size, assembler.cache_bytes, notes)  # asked to, or the cache grew
    seconds = time.perf_counter() - t0
    summary = summary.model_copy(update={"seconds": round(seconds, 3)})
    return RunResult(out_dir, assembler.statuses, seconds, assembler.failures, apps, assembler.cached, notes, summary)


def _given_inputs(inputs: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[str]:
    """The inputs as paths (one path alone is one input); each must exist (GP905: nothing to do)."""
    given = [os.fspath(inputs)] if isinstance(inputs, (str, os.PathLike)) else [os.fspath(p) for p in inputs]
    for g in given:
        if not os.path.lexists(g):
            raise GuideparseError("GP905", "no such file or folder", path=g)
    return given


def _open_cache(
    cache_dir: str | os.PathLike[str] | None, out_dir: Path, rules: Rules, notes: list[str]
) -> ResultCache | None:
    """The cache, or None with a note: refused, or overlapping the run (the swap would take it)."""
    root = Path(os.path.abspath(cache_dir)) if cache_dir is not None else default_cache_dir()
    real_root, real_out = os.path.realpath(root), os.path.realpath(out_dir)
    if os.path.commonpath([real_root, real_out]) in (real_root, real_out):
        notes.append(f"cache not used: {root} and the run folder {out_dir} overlap")
        return None
    try:
        return open_cache(root, result_version(rules.digest))
    except CacheRefused as exc:
        notes.append(f"cache not used: {exc}")
        return None


def _cache_notes(by_kind: dict[str, list[str]]) -> list[str]:
    """One line per kind of cache trouble met in the run, naming the first input it touched."""
    out = []
    for kind, paths in sorted(by_kind.items()):
        first = paths[0] + (f" and {len(paths) - 1} more" if len(paths) > 1 else "")
        if kind == "garbled":
            n = len(paths)
            told = (
                "1 entry failed its digest check and was"
                if n == 1
                else f"{n} entries failed their digest check and were"
            )
            out.append(f"cache: {told} extracted again ({first})")
        else:
            out.append(f"cache not written ({kind.removeprefix('unwritable: ')}); the run is complete ({first})")
    return out


def _prune(cache: ResultCache, max_size: int | None, added: int, notes: list[str]) -> None:
    try:
        cache.bound(DEFAULT_MAX_SIZE if max_size is None else max_size, added)
    except OSError as exc:
        notes.append(f"cache not pruned: {exc.strerror or exc}")


def make_manifest(rules: Rules, started: str, statuses: list[InputStatus], summary: RunSummary) -> Manifest:
    ok, apps = summary.ok, summary.apps
    return Manifest(
        tool_version=__version__,
        rules_digest=rules.digest,
        rules_dir=str(rules.directory),
        started_at=started,
        finished_at=utc_now(),
        counts={"inputs": len(statuses), "ok": ok, "failed": len(statuses) - ok, "apps": apps},
        inputs=statuses,
        summary=summary,
    )


def manifest_bytes(manifest: Manifest) -> bytes:
    """manifest.json: `parts` only in a sharded run (a run of one file per kind has no such key)."""
    exclude = {"parts"} if manifest.parts is None else None
    return _MANIFEST.dump_json(manifest, indent=2, exclude=exclude) + b"\n"


def _write_manifest(folder: Path, manifest: Manifest) -> None:
    write_atomic(folder / "manifest.json", manifest_bytes(manifest))


def write_run(out_dir: Path, documents: list[DocumentRecord], manifest: Manifest) -> None:
    """Write a run folder from documents in memory (the baseline after `review`)."""
    with replacing(Path(os.path.abspath(out_dir))) as tmp:
        (tmp / "records").mkdir()
        docs = sorted(documents, key=lambda d: d.source.path)
        write_atomic(tmp / "documents.jsonl", b"".join(map(document_line, docs)))
        lines = []
        for entry in build_catalog(docs):
            line, record = entry_lines(entry)
            write_atomic(tmp / "records" / f"{safe_record_name(entry.slug)}.json", record)
            lines.append(line)
        write_atomic(tmp / "catalog.jsonl", b"".join(lines))
        _write_manifest(tmp, manifest)
