"""The Dask engine: `guideparse extract --scheduler ADDR` (the `[dask]` extra).

The same extraction as a local run (`run.extract_input`, `run.make_manifest`), as Dask
tasks: one task per batch of inputs reads them (plain paths as `inputs` does, URLs through
`remote`), extracts each and writes the batch's `documents/part-NNNNN.jsonl`; then the
catalog is a group-by on slug: the slugs are split in sorted ranges, and one task per range
takes the entries of its slugs from the batches that hold them (worker to worker), merges
the apps with several documents and writes `catalog/part-NNNNN.jsonl` and the records. The
client only counts: statuses, slugs and facts cross to it, never a document.

The run is written in a work folder beside `--out` and swapped into place (`fsio.replacing`)
or, for an object store, under a temporary prefix committed by writing the manifest last
(`remote.commit`). Dask reruns the tasks of a worker that dies; every task writes whole files
under fixed names, so a rerun writes the same bytes. Dask is imported only here, on first use.
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .cache import splice_path
from .catalog import app_entry
from .errors import GuideparseError, InputError
from .family_models import load_document
from .inputs import InputFile, collect_inputs, read_input
from .models import InputStatus
from .remote import EXTRA, Listed, join, list_url, local_path, put, put_many, read_url
from .rules import Rules

BATCH = 256  # inputs per task: a few hundred milliseconds of work against a millisecond of scheduling
CONNECT_TIMEOUT = "10s"  # how long to try reaching a --scheduler address


def part_name(number: int) -> str:
    return f"part-{number:05d}.jsonl"


@dataclass(frozen=True)
class Job:
    """What every task needs besides the rules (scattered once) and its own inputs."""

    out: str  # the run's work folder, or its temporary prefix
    max_bytes: int
    timeout: float | None
    token: str


@dataclass(frozen=True)
class Item:
    """One input's outcome as a batch keeps it on its worker; the lines only for one that gave a record."""

    status: InputStatus
    error: GuideparseError | None
    slug: str = ""
    facts: str = "0;"
    entry: bytes = b""  # the app's catalog line as if it had this document only
    record: bytes = b""  # and its records/<slug>.json
    document: bytes = b""  # the documents.jsonl line


Source = InputFile | Listed


def extract_batch(rules: Rules, job: Job, number: int, sources: list[Source]) -> list[Item]:
    """A task: extract a batch of inputs and write their document lines as one part."""
    items = [_one(rules, job, src) for src in sources]
    put(join(job.out, "documents", part_name(number)), b"".join(i.document for i in items))
    return items


def _one(rules: Rules, job: Job, src: Source) -> Item:
    from .run import Failed, extract_input, failed

    try:
        data = read_url(src, job.max_bytes) if isinstance(src, Listed) else read_input(src, job.max_bytes)
    except InputError as exc:
        gone = failed(src.shown, exc)
        return Item(gone.status, gone.error)
    sha = hashlib.sha256(data).hexdigest()
    one = extract_input(data, src.shown, sha, rules, job.timeout, job.token)
    if isinstance(one, Failed):
        return Item(one.status, one.error)
    status = InputStatus(path=src.shown, sha256=sha, bytes=len(data), status="ok")

    def shown(b: bytes) -> bytes:
        return splice_path(b, one.token, src.shown)

    return Item(status, None, one.slug, one.facts, shown(one.entry), shown(one.record), shown(one.document))


def light(items: list[Item]) -> list[Item]:
    """A task: a batch's outcomes without their lines (what the client counts)."""
    return [Item(i.status, i.error, i.slug, i.facts) for i in items]


def keyed(items: list[Item], bounds: list[str]) -> list[tuple[int, Item]]:
    """A task (where the batch is): its records keyed by the slug range each falls in (`bounds`:
    each range's first slug), for the group-by's shuffle."""
    return [(bisect.bisect_right(bounds, i.slug) - 1, i) for i in items if i.error is None]


def merge_ranges(groups: list[tuple[int, list[tuple[int, Item]]]], rules: Rules, job: Job) -> int:
    """A task: the slug ranges the shuffle brought to one partition; returns their apps."""
    return sum(merge_range(rules, job, n, [i for _, i in pairs]) for n, pairs in groups)


def merge_range(rules: Rules, job: Job, number: int, items: list[Item]) -> int:
    """The catalog part and records of one slug range from its records (in input order, the
    order of their paths); apps with several documents merged as a local run does."""
    from .render import entry_lines
    from .run import safe_record_name

    groups: dict[str, list[Item]] = {}
    for i in sorted(items, key=lambda i: i.status.path):
        groups.setdefault(i.slug, []).append(i)
    lines, records = [], {}
    for slug in sorted(groups):
        group = groups[slug]
        line, record = group[0].entry, group[0].record
        if len(group) > 1:
            found = [load_document(i.document) for i in group]  # each in its family's model
            entry = app_entry(found, rules)  # as a local run merges an app (families in their fields)
            line, record = entry_lines(entry)
        records[join(job.out, "records", f"{safe_record_name(slug)}.json")] = record
        lines.append(line)
    put_many(records)
    put(join(job.out, "catalog", part_name(number)), b"".join(lines))
    return len(lines)


def executing_keys(dask_worker: Any) -> list[str]:
    """Run on each worker (`Client.run`): the keys of the tasks it is running, cancelled ones included."""
    return [str(ts.key) for ts in dask_worker.state.executing]


# --------------------------------------------------------------------------- the client's side


def collect_sources(given: list[str]) -> list[Source]:
    """Every input, sorted by the name a run shows: plain paths and file:// URLs as a local
    run finds them, other URLs from their listing (GP905: a given path or URL with nothing there)."""
    found: dict[str, Source] = {}
    local = []
    for g in given:
        path = local_path(g)
        if path is None:
            found.update((f.shown, f) for f in list_url(g))
        elif not os.path.lexists(path):
            raise GuideparseError("GP905", "no such file or folder", path=g)
        else:
            local.append(path)
    found.update((f.shown, f) for f in collect_inputs(local))  # all at once, as a local run does
    return [found[k] for k in sorted(found)]


@contextlib.contextmanager
def connect(scheduler: str) -> Iterator[Any]:
    """A Dask client: `local` or `local:N` starts a LocalCluster of N worker processes (default:
    the CPUs this process may use), else the scheduler at that address. GP920: no Dask;
    GP922: no scheduler answers."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise GuideparseError("GP920", f"--scheduler needs Dask: {EXTRA}") from None
    if scheduler == "local" or scheduler.startswith("local:"):
        from .pool import usable_cpus

        given = scheduler[len("local:") :]
        if given and not (given.isdigit() and int(given) > 0):
            raise GuideparseError("GP906", "--scheduler local:N needs a number of workers, 1 or more", path=scheduler)
        n = int(given) if given else len(usable_cpus())
        with (
            LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
            Client(cluster) as client,
        ):
            yield client
        return
    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as exc:
        raise GuideparseError("GP922", f"cannot reach the Dask scheduler: {exc}", path=scheduler) from None
    with client:
        yield client


def new_job(out: str, max_bytes: int, timeout: float | None) -> Job:
    return Job(out, max_bytes, timeout, f"@@guideparse-path-{secrets.token_hex(8)}@@")
