"""Batch ingestion benchmark.

    .venv/bin/python benchmarks/bench.py [--guides 10000] [--jobs 2] [--workdir DIR] [--repeat N]

Generates N distinct whole guides from the five seeds in raw/ (each app renamed,
so every guide is its own app), then measures in one run:

- `guideparse extract` with 1 job and with N jobs, cache off and cold;
- the unchanged re-run with a warm cache;
- the peak RSS of each run's whole process tree (sampled from /proc);
- the naive approach: a blank spaCy pipeline over each whole text (nlp.pipe),
  with 1 process and with N processes, as a ratio to guideparse (in each round of
  --repeat, right after guideparse's runs of that round).

Prints a markdown table (the README keeps the latest one).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from multiprocessing import Pool
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "raw").glob("00*.txt"))
APP_NAMES = {"000": "Mailjet", "001": "Postmark", "002": "SendGrid", "003": "ActiveCampaign", "004": "Mimecast"}
WORDS = ["Amber", "Birch", "Cobalt", "Delta", "Ember", "Fjord", "Garnet", "Harbor", "Indigo", "Juniper"]


def generate(n: int, folder: Path) -> int:
    """N distinct guides: seed i mod 5, its app renamed to a unique name. Returns total bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    texts = [(APP_NAMES[p.name[:3]], p.read_text(encoding="utf-8")) for p in SEEDS]
    total = 0
    for i in range(n):
        app, text = texts[i % len(texts)]
        name = f"{WORDS[i % 10]} {WORDS[(i // 10) % 10]}{i // 100:03d}"
        page = re.sub(rf"\b{re.escape(app)}\b", name, text)
        data = page.encode("utf-8")
        (folder / f"guide-{i:06d}.txt").write_bytes(data)
        total += len(data)
    return total


_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants, in KiB.

    Walks /proc/<pid>/task/*/children and reads statm: cheap, so sampling it does
    not take CPU from the run it measures."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/statm", encoding="ascii") as fh:
                total += int(fh.read().split()[1]) * _PAGE_KB
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children", encoding="ascii") as fh:
                    stack.extend(int(c) for c in fh.read().split())
        except (OSError, ValueError):
            continue  # the process ended meanwhile
    return total


def timed_run(cmd: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of the command's process tree.

    Dirty pages of earlier runs are flushed first, so no run pays for another's writeback."""
    os.sync()
    peak = [0]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], tree_rss_kb(proc.pid))
            time.sleep(0.1)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    _, err = proc.communicate()
    seconds = time.perf_counter() - t0
    done.set()
    t.join()
    if proc.returncode != 0:
        sys.exit(f"benchmark: {' '.join(cmd)} failed:\n{err.decode()[-2000:]}")
    return seconds, peak[0]


_NLP = None


def _naive_init() -> None:
    global _NLP
    import spacy

    _NLP = spacy.blank("en")


def _naive_chunk(paths: list[str]) -> int:
    texts = [Path(p).read_text(encoding="utf-8") for p in paths]
    return sum(len(doc) for doc in _NLP.pipe(texts))


def naive(folder: Path, jobs: int) -> float:
    """Seconds for the naive pass: a blank spaCy pipeline over each whole text."""
    paths = [str(p) for p in sorted(folder.glob("*.txt"))]
    chunks = [paths[i:i + 64] for i in range(0, len(paths), 64)]
    t0 = time.perf_counter()
    if jobs == 1:
        _naive_init()
        for c in chunks:
            _naive_chunk(c)
    else:
        with Pool(jobs, initializer=_naive_init) as pool:
            pool.map(_naive_chunk, chunks)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--guides", type=int, default=10_000)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=1,
                    help="run each measurement this many times and keep the fastest (this machine is noisy)")
    args = ap.parse_args()
    gp = str(Path(sys.executable).with_name("guideparse"))
    base = args.workdir or Path(tempfile.mkdtemp(prefix="guideparse-bench-"))
    n, jobs = args.guides, args.jobs
    # Every run writes into new folders and nothing is deleted until the timings are done:
    # on ext4 without a journal, creating files soon after deleting thousands is many times slower.
    work = base / time.strftime("run-%Y%m%dT%H%M%S")
    try:
        inputs = base / f"guides-{n}"
        size = generate(n, inputs)
        best: dict[str, tuple[float, int]] = {}

        def keep(name: str, result: tuple[float, int]) -> None:
            if name not in best or result[0] < best[name][0]:
                best[name] = result

        same = True
        for r in range(args.repeat):
            cache = work / f"cache{r}"
            out1, outN, outC = (work / f"{k}{r}" for k in ("out1-", "outN-", "outC-"))
            keep("1 job", timed_run([gp, "extract", str(inputs), "-o", str(out1), "-j", "1", "--no-cache", "-q"]))
            keep(f"{jobs} jobs", timed_run([gp, "extract", str(inputs), "-o", str(outN), "-j", str(jobs),
                                            "--cache-dir", str(cache), "-q"]))
            keep(f"{jobs} jobs, cached re-run", timed_run([gp, "extract", str(inputs), "-o", str(outC), "-j",
                                                           str(jobs), "--cache-dir", str(cache), "-q"]))
            same = same and all((outN / f).read_bytes() == (outC / f).read_bytes()
                                for f in ("documents.jsonl", "catalog.jsonl")) and all(
                p.read_bytes() == (outC / "records" / p.name).read_bytes() for p in (outN / "records").iterdir())
            # The naive passes in the same round: this machine's speed drifts over minutes,
            # and each ratio should compare runs made under the same conditions.
            keep("naive 1", (naive(inputs, 1), 0))
            keep(f"naive {jobs}", (naive(inputs, jobs), 0))
        runs = {k: best[k] for k in ("1 job", f"{jobs} jobs", f"{jobs} jobs, cached re-run")}
        naive1, naiveN = best["naive 1"][0], best[f"naive {jobs}"][0]
        t_help = min(timed_run([gp, "--help"])[0] for _ in range(5))
        first = runs[f"{jobs} jobs"][0]
        print(f"\n{n} whole guides ({size / 1e6:.0f} MB), {os.cpu_count()} cores, {jobs} jobs, "
              f"fastest of {args.repeat}\n")
        print("| run | seconds | guides/s | peak RSS (process tree) |")
        print("|---|---:|---:|---:|")
        for name, (sec, rss) in runs.items():
            print(f"| guideparse extract, {name} | {sec:.1f} | {n / sec:.0f} | {rss / 1024:.0f} MB |")
        print(f"| naive: blank spaCy over each whole text, 1 process | {naive1:.1f} | {n / naive1:.0f} | |")
        print(f"| naive: blank spaCy over each whole text, {jobs} processes | {naiveN:.1f} | {n / naiveN:.0f} | |")
        print()
        print(f"- guideparse vs naive, same processes: {naive1 / runs['1 job'][0]:.1f}x (1), "
              f"{naiveN / first:.1f}x ({jobs})")
        print(f"- cached re-run vs first run: {first / runs[f'{jobs} jobs, cached re-run'][0]:.1f}x faster; "
              f"identical output: {same}")
        print(f"- `guideparse --help`: {t_help:.2f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if args.workdir is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
