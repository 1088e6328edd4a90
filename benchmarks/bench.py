"""Batch ingestion benchmark.

    .venv/bin/python benchmarks/bench.py [--guides 10000] [--jobs 2] [--workdir DIR] [--repeat N]
                                         [--ab] [--previous PATH/TO/guideparse [--paired ROUNDS]]

Generates N distinct whole guides from the five seeds in raw/ (each app renamed,
so every guide is its own app), then measures in one run:

- `guideparse extract` with 1 job and with N jobs, cache off and cold;
- the unchanged re-run with a warm cache;
- the peak RSS of each run's whole process tree (sampled from /proc);
- the naive approach: a blank spaCy pipeline over each whole text (nlp.pipe),
  with 1 process and with N processes, as a ratio to guideparse (in each round of
  --repeat, right after guideparse's runs of that round).

With --ab, each batch mechanism is also timed on and off in the same rounds (the
README's A/B table): GC tuning, heap slack (malloc's M_TOP_PAD), cache compression, cache packs (a file a chunk of results,
against a file a result), the cache's size estimate (against listing it after every run that
added to it), the cache itself, and path splicing (a cached result serving the same bytes
under a new name). Mechanisms are
switched off by a small driver that patches them before calling the CLI, not by flags
of the product. With --previous, another build's `guideparse` (e.g. a worktree of the
commit before a change) is timed for the first run and the cached re-run in the same rounds;
with --paired, only the two builds' first runs are timed, back to back, and the median of
their ratios printed, wall clock and CPU of the process tree (the steadiest comparison this
noisy machine allows).

Prints markdown tables (the README keeps the latest ones).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
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
    chunks = [paths[i : i + 64] for i in range(0, len(paths), 64)]
    t0 = time.perf_counter()
    if jobs == 1:
        _naive_init()
        for c in chunks:
            _naive_chunk(c)
    else:
        with Pool(jobs, initializer=_naive_init) as pool:
            pool.map(_naive_chunk, chunks)
    return time.perf_counter() - t0


_DRIVER = """
import sys
import guideparse.cache, guideparse.pool
off = sys.argv[1].split(",") if sys.argv[1] else []
if "gc" in off:
    guideparse.pool.quiet_gc = lambda: None
if "malloc" in off:
    guideparse.pool.quiet_malloc = lambda: None
if "compress" in off:
    guideparse.cache._COMPRESS = False
if "packs" in off:  # a pack of one entry per result: a file created per result
    put = guideparse.cache.ResultCache.put_many
    guideparse.cache.ResultCache.put_many = lambda self, results: sum(put(self, [r]) for r in results)
if "estimate" in off:  # the cache listed after every run that added to it
    guideparse.cache.ResultCache.bound = lambda self, max_size, added: self.prune(max_size)
from guideparse.cli import main
sys.exit(main(sys.argv[2:]))
"""


def driver(gp: str, off: str, *args: str) -> list[str]:
    """A guideparse command with the named mechanisms switched off ("" for none)."""
    python = str(Path(gp).with_name("python"))
    return [python, "-c", _DRIVER, off, *args]


def tree_bytes(folder: Path) -> int:
    """The bytes a folder's files hold, each file once (the cache's entries are links to packs)."""
    return sum({(st := p.stat()).st_ino: st.st_size for p in folder.rglob("*") if p.is_file()}.values())


def same_output(a: Path, b: Path) -> bool:
    names = sorted(str(p.relative_to(a)) for p in a.rglob("*") if p.is_file() and p.name != "manifest.json")
    return names == sorted(
        str(p.relative_to(b)) for p in b.rglob("*") if p.is_file() and p.name != "manifest.json"
    ) and all((a / n).read_bytes() == (b / n).read_bytes() for n in names)


class Best:
    """The fastest of the repeated measurements of each name."""

    def __init__(self) -> None:
        self.best: dict[str, tuple[float, int]] = {}

    def keep(self, name: str, result: tuple[float, int]) -> tuple[float, int]:
        if name not in self.best or result[0] < self.best[name][0]:
            self.best[name] = result
        return result

    def __getitem__(self, name: str) -> float:
        return self.best[name][0]


def round_main(gp: str, inputs: Path, work: Path, jobs: int, best: Best) -> bool:
    """1 job, N jobs (cold cache), the cached re-run, and the naive passes; True if the cached
    re-run wrote the same bytes."""
    cache = work / "cache"
    out1, outn, outc = work / "out1", work / "outN", work / "outC"
    best.keep("1 job", timed_run([gp, "extract", str(inputs), "-o", str(out1), "-j", "1", "--no-cache", "-q"]))
    best.keep(
        f"{jobs} jobs",
        timed_run([gp, "extract", str(inputs), "-o", str(outn), "-j", str(jobs), "--cache-dir", str(cache), "-q"]),
    )
    best.keep(
        f"{jobs} jobs, cached re-run",
        timed_run([gp, "extract", str(inputs), "-o", str(outc), "-j", str(jobs), "--cache-dir", str(cache), "-q"]),
    )
    # The naive passes in the same round: this machine's speed drifts over minutes,
    # and each ratio should compare runs made under the same conditions.
    best.keep("naive 1", (naive(inputs, 1), 0))
    best.keep(f"naive {jobs}", (naive(inputs, jobs), 0))
    return same_output(outn, outc) and same_output(out1, outn)


def round_ab(gp: str, inputs: Path, renamed: Path, work: Path, jobs: int, best: Best) -> dict[str, int]:
    """Each mechanism on and off, first runs with a cold cache of their own; returns cache sizes."""
    j = ["-j", str(jobs), "-q"]
    sizes = {}
    for off in ("", "gc", "malloc", "compress", "packs", "estimate"):
        cache = work / f"cache-{off or 'all'}"
        best.keep(
            f"first, off={off}",
            timed_run(
                driver(gp, off, "extract", str(inputs), "-o", str(work / f"first-{off}"), "--cache-dir", str(cache), *j)
            ),
        )
        best.keep(
            f"cached, off={off}",
            timed_run(
                driver(
                    gp, off, "extract", str(inputs), "-o", str(work / f"cached-{off}"), "--cache-dir", str(cache), *j
                )
            ),
        )
        sizes[off] = tree_bytes(cache)
    best.keep("first, no cache", timed_run([gp, "extract", str(inputs), "-o", str(work / "nocache"), "--no-cache", *j]))
    best.keep(
        "renamed, cached",
        timed_run(
            [gp, "extract", str(renamed), "-o", str(work / "renamed"), "--cache-dir", str(work / "cache-all"), *j]
        ),
    )
    return sizes


def round_previous(prev: str, inputs: Path, work: Path, jobs: int, best: Best) -> None:
    cache = work / "cache-prev"
    for name in ("previous first", "previous cached"):
        best.keep(
            name,
            timed_run(
                [
                    prev,
                    "extract",
                    str(inputs),
                    "-o",
                    str(work / name.replace(" ", "-")),
                    "-j",
                    str(jobs),
                    "--cache-dir",
                    str(cache),
                    "-q",
                ]
            ),
        )


def children_cpu() -> float:
    """CPU seconds (user + system) of this process's finished children and of what they waited
    for (a run's workers included)."""
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def paired_first_runs(
    gp: str, prev: str, inputs: Path, work: Path, jobs: int, rounds: int
) -> tuple[list[float], list[float]]:
    """First runs (cold cache of their own) of this build and the previous one, back to back in
    each round, the order alternating (ABBA): the ratio within a round cancels most of this
    machine's drift over minutes. Returns this build's time over the previous one's per round,
    wall and CPU (the CPU of the whole process tree drifts less than the wall clock)."""
    ratios, cpu_ratios = [], []
    for r in range(rounds):
        order = [("this", gp), ("previous", prev)]
        seconds, cpu = {}, {}
        for name, exe in order if r % 2 == 0 else order[::-1]:
            os.sync()  # writes of the run before are not charged to this one
            out, cache = work / f"paired-{name}-{r}", work / f"paired-cache-{name}-{r}"
            cmd = [exe, "extract", str(inputs), "-o", str(out), "-j", str(jobs), "--cache-dir", str(cache), "-q"]
            before = children_cpu()
            seconds[name] = timed_run(cmd)[0]
            cpu[name] = children_cpu() - before
        ratios.append(seconds["this"] / seconds["previous"])
        cpu_ratios.append(cpu["this"] / cpu["previous"])
        print(
            f"round {r}: this {seconds['this']:.2f} s ({cpu['this']:.1f} s CPU), "
            f"previous {seconds['previous']:.2f} s ({cpu['previous']:.1f} s CPU)",
            file=sys.stderr,
        )
    return ratios, cpu_ratios


def report_main(best: Best, n: int, size: int, jobs: int, repeat: int, same: bool, gp: str) -> None:
    runs = {k: best.best[k] for k in ("1 job", f"{jobs} jobs", f"{jobs} jobs, cached re-run")}
    naive1, naiven = best["naive 1"], best[f"naive {jobs}"]
    t_help = min(timed_run([gp, "--help"])[0] for _ in range(5))
    first = best[f"{jobs} jobs"]
    print(f"\n{n} whole guides ({size / 1e6:.0f} MB), {os.cpu_count()} cores, {jobs} jobs, fastest of {repeat}\n")
    print("| run | seconds | guides/s | peak RSS (process tree) |")
    print("|---|---:|---:|---:|")
    for name, (sec, rss) in runs.items():
        print(f"| guideparse extract, {name} | {sec:.1f} | {n / sec:.0f} | {rss / 1024:.0f} MB |")
    print(f"| naive: blank spaCy over each whole text, 1 process | {naive1:.1f} | {n / naive1:.0f} | |")
    print(f"| naive: blank spaCy over each whole text, {jobs} processes | {naiven:.1f} | {n / naiven:.0f} | |")
    print()
    print(f"- guideparse vs naive, same processes: {naive1 / best['1 job']:.1f}x (1), {naiven / first:.1f}x ({jobs})")
    print(
        f"- cached re-run vs first run: {first / best[f'{jobs} jobs, cached re-run']:.1f}x faster; "
        f"identical output (1 job, {jobs} jobs, cached): {same}"
    )
    print(f"- `guideparse --help`: {t_help:.2f} s")


def report_ab(best: Best, sizes: dict[str, int], n: int, size: int) -> None:
    def gain(on: float, off: float) -> str:
        return f"{(off - on) / off * 100:+.0f}%"

    first, cached = best["first, off="], best["cached, off="]
    rows = [
        ("GC tuning", "first run", first, best["first, off=gc"]),
        ("GC tuning", "cached re-run", cached, best["cached, off=gc"]),
        ("heap slack (malloc M_TOP_PAD)", "first run", first, best["first, off=malloc"]),
        ("heap slack (malloc M_TOP_PAD)", "cached re-run", cached, best["cached, off=malloc"]),
        ("cache compression (LZ4)", "first run", first, best["first, off=compress"]),
        ("cache compression (LZ4)", "cached re-run", cached, best["cached, off=compress"]),
        ("cache packs (a file a chunk, a link a result)", "first run", first, best["first, off=packs"]),
        ("cache size estimate (no listing)", "first run", first, best["first, off=estimate"]),
        ("the result cache", "unchanged re-run", cached, best["first, no cache"]),
        ("path splicing", "re-run of renamed inputs", best["renamed, cached"], best["first, no cache"]),
    ]
    print(f"\nA/B at {n} guides: seconds with the mechanism on / off (share of the off run it saves)\n")
    print("| mechanism | run it serves | on | off | saves |")
    print("|---|---|---:|---:|---:|")
    for name, run, on, off in rows:
        print(f"| {name} | {run} | {on:.2f} | {off:.2f} | {gain(on, off)} |")
    print(
        f"\ncache size: {sizes[''] / 1e6:.0f} MB compressed, {sizes['compress'] / 1e6:.0f} MB without "
        f"({sizes[''] / n / 1024:.1f} / {sizes['compress'] / n / 1024:.1f} KiB per guide; inputs {size / n / 1024:.1f})"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--guides", type=int, default=10_000)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run each measurement this many times and keep the fastest (this machine is noisy)",
    )
    ap.add_argument("--ab", action="store_true", help="also time each batch mechanism on and off")
    ap.add_argument("--previous", default=None, help="another build's guideparse executable to time beside this one")
    ap.add_argument(
        "--paired",
        type=int,
        default=0,
        metavar="ROUNDS",
        help="with --previous: only time both builds' first runs, back to back, for this many rounds",
    )
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
        renamed = base / f"renamed-{n}"
        if args.ab and not renamed.exists():
            shutil.copytree(inputs, renamed, copy_function=lambda s, d: shutil.copy(s, d.replace("guide-", "moved-")))
        if args.paired and args.previous:
            walls, cpus = paired_first_runs(gp, args.previous, inputs, work, jobs, args.paired)
            ratios = sorted(walls)
            print(
                f"\nfirst run, {n} guides, {jobs} jobs, this build / previous build over {len(ratios)} paired rounds: "
                f"median {statistics.median(ratios):.3f} (each: {', '.join(f'{x:.2f}' for x in ratios)}); "
                f"CPU median {statistics.median(cpus):.3f} (each: {', '.join(f'{x:.2f}' for x in sorted(cpus))})"
            )
            return
        best, same, sizes = Best(), True, {}
        for r in range(args.repeat):
            same = round_main(gp, inputs, work / f"main{r}", jobs, best) and same
            if args.ab:
                sizes = round_ab(gp, inputs, renamed, work / f"ab{r}", jobs, best)
            if args.previous:
                round_previous(args.previous, inputs, work / f"prev{r}", jobs, best)
        report_main(best, n, size, jobs, args.repeat, same, gp)
        if args.ab:
            report_ab(best, sizes, n, size)
        if args.previous:
            print(
                f"\nprevious build ({args.previous}): first run {best['previous first']:.1f} s, cached re-run "
                f"{best['previous cached']:.2f} s; this build: {best[f'{jobs} jobs']:.1f} s, "
                f"{best[f'{jobs} jobs, cached re-run']:.2f} s"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if args.workdir is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
