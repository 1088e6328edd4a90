"""A run on a Dask cluster, from the client: inputs listed, tasks submitted, outcomes counted,
the run folder committed (see `cluster` for the tasks, `remote` for URLs).

`--out` is a local path (work folder beside it, swapped into place as in a local run) or a URL
(a temporary prefix beside it, committed by writing the manifest last). The layout is a local
run's (documents.jsonl, catalog.jsonl: the parts concatenated in order, so the same bytes) or,
with `sharded`, the parts themselves, listed in the manifest.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from .cluster import (
    BATCH,
    Item,
    Job,
    collect_sources,
    connect,
    executing_keys,
    extract_batch,
    keyed,
    light,
    merge_ranges,
    new_job,
    part_name,
)
from .errors import GuideparseError
from .fsio import check_output_target, replacing
from .inputs import DEFAULT_MAX_BYTES, INPUT_SUFFIXES
from .limits import DEFAULT_TIMEOUT
from .remote import check_remote_target, commit, discard, filesystem, get, join, local_path, put, temporary_prefix
from .rules import Rules, load_rules
from .run import RunResult, Tally, make_manifest, manifest_bytes, utc_now

Progress = Callable[[int, int], None] | None


def extract_on_cluster(
    inputs: Iterable[str],
    out: str,
    *,
    scheduler: str,
    rules: Rules | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float | None = DEFAULT_TIMEOUT,
    batch_size: int = BATCH,
    sharded: bool = False,
    on_progress: Progress = None,
) -> RunResult:
    """`run.extract_many` on a Dask cluster: inputs and `out` may be URLs. A bad input costs
    itself only, reported as in a local run; a run that cannot complete leaves `out` as it was."""
    started, t0 = utc_now(), time.perf_counter()
    given = [os.fspath(i) for i in inputs]
    local_given = [p for p in map(local_path, given) if p is not None]
    out_path = local_path(out)
    if out_path is None:
        check_remote_target(out)
    else:
        check_output_target(Path(os.path.abspath(out_path)), local_given)
    rules = rules or load_rules()
    sources = collect_sources(given)
    if not sources:
        searched = f"searched for {', '.join(INPUT_SUFFIXES)} in folders; files are taken as given"
        raise GuideparseError("GP911", f"no guide file found ({searched})", path=", ".join(given))
    with connect(scheduler) as client, _output(out, local_given) as work:
        job = new_job(work, max_bytes, timeout)
        tally, apps, parts = _run(client, rules, job, sources, batch_size, on_progress)
        _tidy(work)
        summary = tally.summary(apps, round(time.perf_counter() - t0, 3))
        manifest = make_manifest(rules, started, tally.statuses, summary)
        if sharded:
            manifest.parts = parts
        else:
            _concatenate(work, parts)
        put(join(work, "manifest.json"), manifest_bytes(manifest))
    seconds = time.perf_counter() - t0
    summary = summary.model_copy(update={"seconds": round(seconds, 3)})
    shown_out = Path(os.path.abspath(out_path)) if out_path is not None else out
    return RunResult(shown_out, tally.statuses, seconds, tally.failures, apps, 0, [], summary)


@contextlib.contextmanager
def _output(out: str, local_given: list[str]) -> Iterator[str]:
    """Where the run is written before it is committed to `out`."""
    path = local_path(out)
    if path is not None:
        with replacing(Path(os.path.abspath(path)), local_given) as tmp:
            for name in ("records", "documents", "catalog"):
                (tmp / name).mkdir()
            yield str(tmp)
        return
    prefix = temporary_prefix(out)
    try:
        yield prefix
        commit(prefix, out)
    except BaseException:
        discard(prefix)
        raise


def _run(
    client: Any, rules: Rules, job: Job, sources: list[Any], batch: int, on_progress: Progress
) -> tuple[Tally, int, dict[str, list[str]]]:
    """Submit the batches, count their outcomes in input order, then the group-by on slug. On
    any error or interruption the run's tasks are cancelled and waited for (no task of a run
    given up writes into its work folder once it is removed)."""
    rules_f = client.scatter(rules, broadcast=True, hash=False)
    batches = [sources[i : i + batch] for i in range(0, len(sources), batch)]
    futures = [client.submit(extract_batch, rules_f, job, k, b, retries=2, pure=False) for k, b in enumerate(batches)]
    merges: list[Any] = []
    try:
        tally, slugs = _count(client, futures, len(sources), on_progress)
        ranges = [slugs[i : i + batch] for i in range(0, len(slugs), batch)]
        # no input gave a record (each failed or ran over --timeout): no app, no group-by
        merges = _group_by_slug(client, futures, [r[0] for r in ranges], rules_f, job) if ranges else []
        apps = sum(client.gather(merges))
    except BaseException:
        _stop(client, [*futures, *merges])
        raise
    parts = {
        "documents": [f"documents/{part_name(k)}" for k in range(len(batches))],
        "catalog": [f"catalog/{part_name(n)}" for n in range(len(ranges))],
    }
    return tally, apps, parts


def _group_by_slug(client: Any, futures: list[Any], bounds: list[str], rules_f: Any, job: Job) -> list[Any]:
    """The catalog as a group-by on slug: each batch's records keyed by slug range where they
    are, shuffled by Dask's task-based shuffle (a bag groupby: no task holds more than a
    bounded share of the run), then each range merged and written (`cluster.merge_range`)."""
    import operator

    import dask
    import dask.bag as db

    bounds_f = client.scatter(bounds, hash=False)
    parts = [dask.delayed(keyed, pure=False)(f, bounds_f) for f in futures]
    grouped = db.from_delayed(parts).groupby(operator.itemgetter(0), shuffle="tasks")
    counts = [dask.delayed(merge_ranges, pure=False)(d, rules_f, job) for d in grouped.to_delayed()]
    return list(client.compute(counts, retries=2))


def _count(client: Any, futures: list[Any], total: int, on_progress: Progress) -> tuple[Tally, list[str]]:
    """The batches' outcomes (only their statuses, slugs and facts cross to the client), counted
    in input order; the slugs of the run, sorted."""
    from distributed import as_completed

    lights = [client.submit(light, f, retries=2, pure=False) for f in futures]
    number = {f.key: k for k, f in enumerate(lights)}
    done: dict[int, list[Item]] = {}
    for f, items in as_completed(lights, with_results=True):
        done[number[f.key]] = items
        if on_progress is not None:
            on_progress(sum(map(len, done.values())), total)
    tally, slugs = Tally(), set()
    for k in range(len(futures)):
        for i in done[k]:
            tally.count(i.status, i.error, i.facts)
            if i.error is None:
                slugs.add(i.slug)
    return tally, sorted(slugs)


def _stop(client: Any, futures: list[Any], patience: float = 30.0) -> None:
    """Cancel a run's tasks and wait (up to `patience` seconds) until no worker still runs one."""
    keys = {str(f.key) for f in futures}
    with contextlib.suppress(Exception):
        client.cancel(futures)
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            running = client.run(executing_keys)
            if not keys.intersection(k for ks in running.values() for k in ks):
                return
            time.sleep(0.05)


def _tidy(work: str) -> None:
    """Remove what a worker killed while writing left in the work folder (the atomic writer's
    temporary files: the task was rerun and wrote the file whole)."""
    if "://" in work:
        return  # an object is written whole or not at all
    for name in ("records", "documents", "catalog"):
        for left in Path(work, name).glob("*.tmp"):
            left.unlink()


def _concatenate(work: str, parts: dict[str, list[str]]) -> None:
    """A local run's layout: each kind's parts, in order, as one file; the parts removed."""
    for kind, names in parts.items():
        put(join(work, f"{kind}.jsonl"), b"".join(get(join(work, n)) for n in names))
        if "://" in work:
            fs, path = filesystem(join(work, kind))
            if names:
                fs.rm([f"{path}/{n.split('/', 1)[1]}" for n in names])
        else:
            shutil.rmtree(join(work, kind))
