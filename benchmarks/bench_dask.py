"""Distributed benchmark: guideparse on a Dask LocalCluster against the local engine.

    .venv/bin/python benchmarks/bench_dask.py [--guides 1000 10000 50000] [--workers 2]
                                              [--batch-size 256] [--workdir DIR]

Generates N distinct guides the way `bench.py` does, then times, on this machine:

- the local engine (`extract`, one worker process per worker of the cluster, no cache);
- the same inputs on a LocalCluster (`extract --scheduler`, sharded output), started once
  beforehand (its start-up is printed apart), and checks that the two runs hold the same
  records and catalog.

For the cluster run it reports guides/s, the scheduler's overhead per task (the cluster's
worker-seconds not spent inside a task, over the number of tasks: scheduling, transfers,
idle workers at the start and end), and the bytes moved between processes: worker to
worker (the group-by on slug pulling a batch's lines to the task merging a slug range)
and task results gathered by the client. Prints a markdown table (the README keeps it).
"""

from __future__ import annotations

import argparse
import os
import pickle
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import generate  # noqa: E402  (the same guides as the local benchmark)


def _worker_bytes_out(dask_worker) -> int:  # run on each worker
    return int(dask_worker.transfer_outgoing_bytes_total)


def same_records(local: Path, sharded: Path) -> bool:
    """The sharded run's parts, concatenated in order, and records are the local run's files."""
    import json

    parts = json.loads((sharded / "manifest.json").read_bytes())["parts"]
    for kind in ("documents", "catalog"):
        joined = b"".join((sharded / p).read_bytes() for p in parts[kind])
        if joined != (local / f"{kind}.jsonl").read_bytes():
            return False
    names = sorted(p.name for p in (local / "records").iterdir())
    return names == sorted(p.name for p in (sharded / "records").iterdir()) and all(
        (local / "records" / n).read_bytes() == (sharded / "records" / n).read_bytes() for n in names
    )


def one_size(n: int, work: Path, cluster, batch: int, workers: int) -> dict[str, float]:
    from distributed import Client, get_task_stream

    from guideparse.cluster_run import extract_on_cluster
    from guideparse.run import extract_many

    inputs = work / f"in-{n}"
    size = generate(n, inputs) if not inputs.exists() else sum(p.stat().st_size for p in inputs.iterdir())
    t0 = time.perf_counter()
    extract_many([str(inputs)], work / f"local-{n}", jobs=workers, use_cache=False, tune_gc=True)
    local = time.perf_counter() - t0
    with Client(cluster) as client:
        before = sum(client.run(_worker_bytes_out).values())
        with get_task_stream(client) as stream:
            t0 = time.perf_counter()
            result = extract_on_cluster(
                [str(inputs)], str(work / f"dask-{n}"), scheduler=cluster.scheduler_address, batch_size=batch,
                sharded=True,
            )  # fmt: skip
            wall = time.perf_counter() - t0
        moved = sum(client.run(_worker_bytes_out).values()) - before
    tasks = [t for t in stream.data if t.get("key")]
    busy = sum(s["stop"] - s["start"] for t in tasks for s in t["startstops"] if s["action"] == "compute")
    gathered = len(pickle.dumps([s for s in result.statuses]))  # what the client received, about
    assert same_records(work / f"local-{n}", work / f"dask-{n}"), "the cluster run differs from the local run"
    for name in (f"local-{n}", f"dask-{n}"):
        shutil.rmtree(work / name)
    return {
        "n": n, "mb": size / 1e6, "local": local, "wall": wall, "tasks": len(tasks),
        "overhead_ms": (wall * workers - busy) / max(len(tasks), 1) * 1000, "moved_mb": moved / 1e6,
        "gathered_mb": gathered / 1e6,
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--guides", type=int, nargs="+", default=[1000, 10_000, 50_000])
    ap.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    from distributed import LocalCluster

    work = args.workdir or Path(tempfile.mkdtemp(prefix="gp-bench-dask-"))
    t0 = time.perf_counter()
    with LocalCluster(
        n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=40
    ) as cluster:
        print(f"LocalCluster of {args.workers} workers started in {time.perf_counter() - t0:.1f} s", flush=True)
        rows = [one_size(n, work, cluster, args.batch_size, args.workers) for n in args.guides]
    print(
        "\n| guides | input MB | local engine s | Dask s | Dask guides/s | tasks | overhead ms/task | MB worker→worker | MB to client |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['n']:,} | {r['mb']:.0f} | {r['local']:.1f} | {r['wall']:.1f} | {r['n'] / r['wall']:.0f} | "
            f"{r['tasks']} | {r['overhead_ms']:.0f} | {r['moved_mb']:.1f} | {r['gathered_mb']:.2f} |"
        )
    if args.workdir is None:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
