"""Batch ingestion: parallel, cached and sequential runs write the same bytes; start-up stays light."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import RAW, ROOT
from guideparse.cli import main


def _files(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()
            and p.name != "manifest.json"}


def test_jobs_and_cache_give_identical_runs(tmp_path, capsys):
    """1 job without cache, 2 jobs filling the cache, and 2 jobs reading it write the same files."""
    cache = tmp_path / "cache"
    assert main(["extract", str(RAW), "-o", str(tmp_path / "a"), "-j", "1", "--no-cache", "-q"]) == 0
    assert main(["extract", str(RAW), "-o", str(tmp_path / "b"), "-j", "2", "--cache-dir", str(cache)]) == 0
    assert "from cache" not in capsys.readouterr().err
    assert main(["extract", str(RAW), "-o", str(tmp_path / "c"), "-j", "2", "--cache-dir", str(cache)]) == 0
    assert f"{len(list(RAW.glob('*.txt')))} from cache" in capsys.readouterr().err
    a, b, c = _files(tmp_path / "a"), _files(tmp_path / "b"), _files(tmp_path / "c")
    assert a == b == c
    assert not [name for name, data in a.items() if b"@@guideparse" in data]  # every source path spliced in
    assert not list((tmp_path / "b").glob(".spool*")) and not list(tmp_path.glob(".*tmp*"))


def test_cache_is_keyed_by_content_and_rules(tmp_path, capsys):
    """A changed input or changed rules miss the cache; a moved input hits it under its new path."""
    inp, cache = tmp_path / "in", tmp_path / "cache"
    inp.mkdir()
    shutil.copy(RAW / "brex.flat.txt", inp / "a.txt")
    assert main(["extract", str(inp), "-o", str(tmp_path / "r1"), "--cache-dir", str(cache)]) == 0
    (inp / "a.txt").rename(inp / "moved.txt")
    assert main(["extract", str(inp), "-o", str(tmp_path / "r2"), "--cache-dir", str(cache)]) == 0
    assert "1 from cache" in capsys.readouterr().err
    doc = json.loads((tmp_path / "r2" / "documents.jsonl").read_text())
    assert doc["source"]["path"] == str(inp / "moved.txt")
    (inp / "moved.txt").write_text((RAW / "brex.flat.txt").read_text() + "\n", encoding="utf-8")
    assert main(["extract", str(inp), "-o", str(tmp_path / "r3"), "--cache-dir", str(cache)]) == 0
    assert "from cache" not in capsys.readouterr().err
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    with (rules / "vocabulary.jsonl").open("a", encoding="utf-8") as fh:
        fh.write('{"label": "IDP", "pattern": "PingID", "id": "idp.pingid"}\n')
    assert main(["extract", str(inp), "-o", str(tmp_path / "r4"), "--cache-dir", str(cache), "--rules", str(rules)]) == 0
    assert "from cache" not in capsys.readouterr().err


def test_unusable_cache_is_a_note_not_a_failure(tmp_path, capsys):
    """A cache folder that cannot be created: one note, and the run goes on."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["extract", str(RAW / "brex.flat.txt"), "-o", str(tmp_path / "r"), "--cache-dir",
                 str(blocker / "sub")]) == 0
    assert "cache not used" in capsys.readouterr().err


def _imports_spacy(args: list[str], cwd: Path) -> tuple[bool, subprocess.CompletedProcess]:
    code = ("import sys, runpy; sys.argv = ['guideparse'] + sys.argv[1:]\n"
            "from guideparse.cli import main\n"
            "rc = main(sys.argv[1:])\n"
            "print('SPACY' if 'spacy' in sys.modules else 'NOSPACY', file=sys.stderr)\n")
    proc = subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "100"})
    return proc.stderr.splitlines()[-1] == "SPACY", proc


def test_help_and_diff_do_not_import_spacy(tmp_path):
    """`guideparse --help` and `guideparse diff` start without spaCy; extract loads it only for
    spans that need it (a titled guide with a one-term protocol cell does not; a pipe scrape,
    whose app name is in its sentences, does)."""
    assert _imports_spacy(["--help"], tmp_path)[0] is False
    run = tmp_path / "run"
    used, _ = _imports_spacy(["extract", str(RAW / "001_cc1dd07e63208682.txt"), "-o", str(run), "-q", "--no-cache"],
                             tmp_path)
    assert used is False
    used, _ = _imports_spacy(["extract", str(RAW / "airtable.pipe.txt"), "-o", str(tmp_path / "pipe"), "-q",
                              "--no-cache"], tmp_path)
    assert used is True
    used, proc = _imports_spacy(["diff", str(run), str(run), "--format", "json"], tmp_path)
    assert used is False and json.loads(proc.stdout)["summary"]["unchanged"] == 1


def test_progress_is_silent_when_not_a_terminal(tmp_path):
    """Not a terminal: no progress bar, only the one-line summary (and --quiet drops that too)."""
    gp = str(Path(sys.executable).with_name("guideparse"))
    proc = subprocess.run([gp, "extract", str(RAW), "-o", str(tmp_path / "r"), "--no-cache"],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "guides/s" in lines[0] and "ok" in lines[0]
    proc = subprocess.run([gp, "extract", str(RAW), "-o", str(tmp_path / "r2"), "--no-cache", "-q"],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stderr == ""


def test_corrupt_cache_costs_time_not_results(tmp_path, capsys):
    """A cache file that is not a database: a note, and every input still extracted."""
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "index.sqlite3").write_bytes(b"this is not a database" * 100)
    assert main(["extract", str(RAW), "-o", str(tmp_path / "r"), "-j", "2", "--cache-dir", str(cache)]) == 0
    err = capsys.readouterr().err
    assert "cache not used" in err and f"{len(list(RAW.glob('*.txt')))} ok, 0 failed" in err


def test_unchanged_inputs_are_not_read_again(tmp_path, capsys, monkeypatch):
    """A re-run over unchanged files takes every result from the cache without reading a file;
    a touched file is read again (and found by its sha256)."""
    import guideparse.batch as batch

    cache = tmp_path / "cache"
    inp = tmp_path / "in"
    shutil.copytree(RAW, inp)
    assert main(["extract", str(inp), "-o", str(tmp_path / "a"), "-j", "1", "--cache-dir", str(cache), "-q"]) == 0
    read: list[str] = []
    real_run = batch.Worker.run
    monkeypatch.setattr(batch.Worker, "run", lambda self, files: read.extend(f.shown for f in files)
                        or real_run(self, files))
    assert main(["extract", str(inp), "-o", str(tmp_path / "b"), "-j", "1", "--cache-dir", str(cache)]) == 0
    assert read == [] and f"{len(list(RAW.glob('*.txt')))} from cache" in capsys.readouterr().err
    touched = inp / "brex.flat.txt"
    os.utime(touched, ns=(touched.stat().st_atime_ns, touched.stat().st_mtime_ns + 1_000_000))
    assert main(["extract", str(inp), "-o", str(tmp_path / "c"), "-j", "1", "--cache-dir", str(cache)]) == 0
    assert read == [str(touched)] and f"{len(list(RAW.glob('*.txt')))} from cache" in capsys.readouterr().err
    assert _files(tmp_path / "a") == _files(tmp_path / "b") == _files(tmp_path / "c")


def test_lost_or_cut_packs_are_extracted_again(tmp_path, capsys):
    """Pack files cut short or deleted behind the index: those results are extracted again, output unchanged."""
    cache = tmp_path / "cache"
    assert main(["extract", str(RAW), "-o", str(tmp_path / "a"), "-j", "2", "--cache-dir", str(cache), "-q"]) == 0
    packs = sorted(cache.rglob("*.pack"))
    assert packs
    with packs[0].open("r+b") as fh:
        fh.truncate(packs[0].stat().st_size // 2)
    for p in packs[1:]:
        p.unlink()
    assert main(["extract", str(RAW), "-o", str(tmp_path / "b"), "-j", "2", "--cache-dir", str(cache)]) == 0
    err = capsys.readouterr().err
    assert f"{len(list(RAW.glob('*.txt')))} ok, 0 failed" in err
    assert _files(tmp_path / "a") == _files(tmp_path / "b")


def test_records_are_links_the_runs_cannot_write_through(tmp_path):
    """A warm run links records/<slug>.json to the cache's read-only copies; merging an app's
    documents writes a new file instead of writing into such a link."""
    cache = tmp_path / "cache"
    for run in ("a", "b"):
        for kept in cache.glob("*/runs"):
            shutil.rmtree(kept)  # no assembled run to link: run b assembles from the packs
        assert main(["extract", str(RAW), "-o", str(tmp_path / run), "-j", "2", "--cache-dir", str(cache), "-q"]) == 0
    cached = list(cache.glob("*/records/*.json"))
    assert len(cached) == len(list(RAW.glob("*.txt")))
    for p in cached:
        assert p.stat().st_mode & 0o222 == 0
        assert len(json.loads(p.read_text(encoding="utf-8"))["sources"]) == 1
    merged = [p for p in (tmp_path / "b" / "records").iterdir()
              if len(json.loads(p.read_text(encoding="utf-8"))["sources"]) > 1]
    copies = {p.stat().st_ino for p in cached}
    linked = [p for p in (tmp_path / "b" / "records").iterdir() if p.stat().st_ino in copies]
    assert merged and linked and not set(merged) & set(linked)


def test_cache_keeps_few_rules_versions(tmp_path):
    """Packs and records of rules/code versions not used lately are removed, with their index rows."""
    cache = tmp_path / "cache"
    cache.mkdir()
    for i in range(6):
        old = cache / f"{i:016x}"
        (old / "packs").mkdir(parents=True)
        (old / "packs" / "x.pack").write_bytes(b"old")
        os.utime(old, (1_000_000 + i, 1_000_000 + i))
    assert main(["extract", str(RAW / "brex.flat.txt"), "-o", str(tmp_path / "r"), "--cache-dir", str(cache), "-q"]) == 0
    homes = sorted(p.name for p in cache.iterdir() if p.is_dir() and p.name != "checked")
    assert len(homes) == 4 and {f"{i:016x}" for i in (3, 4, 5)} < set(homes)


def test_concurrent_runs_share_one_cache(tmp_path):
    """Two runs at once over one cache: both succeed and write the same bytes as a run without it."""
    gp = str(Path(sys.executable).with_name("guideparse"))
    cache = tmp_path / "cache"
    procs = [subprocess.Popen([gp, "extract", str(RAW), "-o", str(tmp_path / name), "-j", "2", "--cache-dir",
                               str(cache), "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for name in ("a", "b")]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()
    assert main(["extract", str(RAW), "-o", str(tmp_path / "c"), "--no-cache", "-q"]) == 0
    assert _files(tmp_path / "a") == _files(tmp_path / "b") == _files(tmp_path / "c")


def test_workers_writing_one_app_do_not_collide(tmp_path):
    """Many scrapes of one app spread over both workers: each writes the app's record as it
    goes; none fails, and the run keeps the merged record."""
    inp = tmp_path / "in"
    inp.mkdir()
    for i in range(400):
        shutil.copy(RAW / "brex.flat.txt", inp / f"brex-{i:03d}.txt")
    for cache in (["--no-cache"], ["--cache-dir", str(tmp_path / "cache")]):
        out = tmp_path / f"out{len(cache)}"
        assert main(["extract", str(inp), "-o", str(out), "-j", "2", "-q", *cache]) == 0
        assert [p.name for p in (out / "records").iterdir()] == ["brex.json"]
        assert len(json.loads((out / "records" / "brex.json").read_text(encoding="utf-8"))["sources"]) == 400


def test_stat_table_stays_bounded(tmp_path, monkeypatch):
    """The table of files known by stat keeps at most SEEN_LIMIT rows, the latest written."""
    import sqlite3

    import guideparse.batch as batch

    monkeypatch.setattr(batch.Cache, "SEEN_LIMIT", 10)
    cache = tmp_path / "cache"
    assert main(["extract", str(RAW), "-o", str(tmp_path / "r"), "--cache-dir", str(cache), "-q"]) == 0
    db = sqlite3.connect(cache / "index.sqlite3")
    paths = [p for (p,) in db.execute("SELECT path FROM seen")]
    db.close()
    assert len(paths) == 10


def _pinned_child(counter, queue) -> None:
    from guideparse.batch import pin_to_cpu

    pin_to_cpu(counter)
    queue.put(sorted(os.sched_getaffinity(0)))


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="CPU affinity is a Linux call")
def test_pinned_workers_take_one_cpu_each():
    """The k-th process pinned with one shared counter runs on the k-th usable CPU only; the parent stays free."""
    import multiprocessing

    from guideparse.batch import usable_cpus

    ctx = multiprocessing.get_context("fork")
    counter, queue = ctx.Value("i", 0), ctx.SimpleQueue()
    cpus = usable_cpus()
    got = []
    for _ in range(3):
        p = ctx.Process(target=_pinned_child, args=(counter, queue))
        p.start()
        got.append(queue.get())
        p.join()
    assert got == [[cpus[k % len(cpus)]] for k in range(3)]
    assert sorted(os.sched_getaffinity(0)) == cpus


def test_pool_pins_workers_unless_told_not_to(tmp_path, monkeypatch):
    """Pool workers are pinned by default when there are no more of them than usable CPUs;
    not with --no-pin, nor when the workers outnumber the CPUs."""
    import guideparse.batch as batch
    import guideparse.run as run

    log = tmp_path / "pinned"

    def record(counter) -> None:
        with open(log, "a", encoding="ascii") as fh:
            fh.write(f"{os.getpid()}\n")

    monkeypatch.setattr(batch, "pin_to_cpu", record)  # forked workers inherit the patch

    def pinned(*flags: str, cpus: list[int]) -> set[str]:
        monkeypatch.setattr(run, "usable_cpus", lambda: cpus)
        log.unlink(missing_ok=True)
        out = tmp_path / f"out{len(list(tmp_path.iterdir()))}"
        assert main(["extract", str(RAW), "-o", str(out), "-j", "2", "--no-cache", "-q", *flags]) == 0
        return set(log.read_text().split()) if log.exists() else set()

    workers = pinned(cpus=[0, 1])
    assert len(workers) == 2 and str(os.getpid()) not in workers
    assert pinned("--no-pin", cpus=[0, 1]) == set()
    assert pinned(cpus=[0]) == set()


def test_unchanged_rerun_links_the_assembled_files(tmp_path, capsys):
    """An unchanged re-run links documents.jsonl, catalog.jsonl and merged records kept read-only
    in the cache; a changed input assembles afresh; a kept file that is not as written is not
    used, and nothing is ever written through a link into the cache."""
    cache = tmp_path / "cache"
    inp = tmp_path / "in"
    shutil.copytree(RAW, inp)

    def run(name: str) -> Path:
        assert main(["extract", str(inp), "-o", str(tmp_path / name), "-j", "2", "--cache-dir", str(cache), "-q"]) == 0
        return tmp_path / name

    a, b = run("a"), run("b")
    assert _files(a) == _files(b)
    for name in ("documents.jsonl", "catalog.jsonl"):
        assert (a / name).stat().st_ino == (b / name).stat().st_ino
        assert (b / name).stat().st_mode & 0o222 == 0
    merged = [p.name for p in (a / "records").iterdir()
              if len(json.loads(p.read_text(encoding="utf-8"))["sources"]) > 1]
    assert merged and all((b / "records" / m).stat().st_ino == (a / "records" / m).stat().st_ino for m in merged)

    (inp / "brex.flat.txt").write_bytes((inp / "brex.flat.txt").read_bytes().replace(b"Brex", b"Brexx"))
    c = run("c")
    assert (c / "documents.jsonl").stat().st_ino != (a / "documents.jsonl").stat().st_ino
    assert b"Brexx" in (c / "documents.jsonl").read_bytes() and b"Brexx" not in (a / "documents.jsonl").read_bytes()

    # A kept file cut short (by hand: they are read-only): the next run assembles its own.
    (kept,) = [p for p in cache.glob("*/runs/*/documents.jsonl")
               if p.stat().st_ino == (c / "documents.jsonl").stat().st_ino]
    before = (c / "documents.jsonl").read_bytes()
    os.chmod(kept, 0o644)
    with open(kept, "r+b") as fh:
        fh.truncate(100)
    d = run("d")
    assert (d / "documents.jsonl").read_bytes() == before
    assert (c / "documents.jsonl").stat().st_size == 100  # d wrote a file of its own, not into c's
    assert [p.stat().st_ino for p in cache.glob("*/runs/*/documents.jsonl")
            if p.stat().st_size == len(before)] == [(d / "documents.jsonl").stat().st_ino]
    assert len(list(cache.glob("*/runs/*"))) <= 2
