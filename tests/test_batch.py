"""Batch ingestion: parallel, cached and sequential runs write the same bytes; start-up stays light."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import RAW, ROOT
from guideparse.cli import main


def _files(d: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file() and p.name != "manifest.json"
    }


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
    assert not list((tmp_path / "b").glob(".*")) and not list(tmp_path.glob(".*tmp*"))


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
    assert (
        main(["extract", str(inp), "-o", str(tmp_path / "r4"), "--cache-dir", str(cache), "--rules", str(rules)]) == 0
    )
    assert "from cache" not in capsys.readouterr().err


def test_unusable_cache_is_a_note_not_a_failure(tmp_path, capsys):
    """A cache folder that cannot be created: one note, and the run goes on."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert (
        main(["extract", str(RAW / "brex.flat.txt"), "-o", str(tmp_path / "r"), "--cache-dir", str(blocker / "sub")])
        == 0
    )
    assert "cache not used" in capsys.readouterr().err


def _imports_spacy(args: list[str], cwd: Path) -> tuple[bool, subprocess.CompletedProcess]:
    code = (
        "import sys, runpy; sys.argv = ['guideparse'] + sys.argv[1:]\n"
        "from guideparse.cli import main\n"
        "rc = main(sys.argv[1:])\n"
        "print('SPACY' if 'spacy' in sys.modules else 'NOSPACY', file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "100"},
    )
    return proc.stderr.splitlines()[-1] == "SPACY", proc


def test_help_and_diff_do_not_import_spacy(tmp_path):
    """`guideparse --help` and `guideparse diff` start without spaCy; extract loads it only for
    spans that need it (a titled guide with a one-term protocol cell does not; a pipe scrape,
    whose app name is in its sentences, does)."""
    assert _imports_spacy(["--help"], tmp_path)[0] is False
    run = tmp_path / "run"
    used, _ = _imports_spacy(
        ["extract", str(RAW / "001_cc1dd07e63208682.txt"), "-o", str(run), "-q", "--no-cache"], tmp_path
    )
    assert used is False
    used, _ = _imports_spacy(
        ["extract", str(RAW / "airtable.pipe.txt"), "-o", str(tmp_path / "pipe"), "-q", "--no-cache"], tmp_path
    )
    assert used is True
    used, proc = _imports_spacy(["diff", str(run), str(run), "--format", "json"], tmp_path)
    assert used is False and json.loads(proc.stdout)["summary"]["unchanged"] == 1


def test_progress_is_silent_when_not_a_terminal(tmp_path):
    """Not a terminal: no progress bar, only the one-line summary (and --quiet drops that too)."""
    gp = str(Path(sys.executable).with_name("guideparse"))
    proc = subprocess.run(
        [gp, "extract", str(RAW), "-o", str(tmp_path / "r"), "--no-cache"], capture_output=True, text=True
    )
    assert proc.returncode == 0 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "guides/s" in lines[0] and "ok" in lines[0]
    proc = subprocess.run(
        [gp, "extract", str(RAW), "-o", str(tmp_path / "r2"), "--no-cache", "-q"], capture_output=True, text=True
    )
    assert proc.returncode == 0 and proc.stderr == ""


def test_concurrent_runs_share_one_cache(tmp_path):
    """Two runs at once over one cache: both succeed and write the same bytes as a run without it."""
    gp = str(Path(sys.executable).with_name("guideparse"))
    cache = tmp_path / "cache"
    procs = [
        subprocess.Popen(
            [gp, "extract", str(RAW), "-o", str(tmp_path / name), "-j", "2", "--cache-dir", str(cache), "-q"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for name in ("a", "b")
    ]
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


_SPOOLS = None


def _hold(spools):
    global _SPOOLS
    _SPOOLS = spools


def _put(data: bytes):
    assert _SPOOLS is not None
    return _SPOOLS.put(data)


def test_spools_hand_bytes_from_worker_processes_and_leave_nothing(tmp_path):
    """Each process appends to its own spool (one Spools per process, as ExtractTask holds it,
    inherited open by forked workers or pickled to spawned ones); the main process reads any
    piece back; closing removes every spool (a run folder holds the run only)."""
    import multiprocessing

    from guideparse.spools import Spools

    spools = Spools(tmp_path)
    own = spools.put(b"main")  # open before the workers start: they must not append to it
    sent = [bytes([i]) * (i * 1000 + 1) for i in range(40)]
    for method in ("fork", "spawn"):
        with multiprocessing.get_context(method).Pool(2, initializer=_hold, initargs=(spools,)) as pool:
            pieces = pool.map(_put, sent, chunksize=1)
        assert [spools.get(p) for p in pieces] == sent
        assert own.spool not in {p.spool for p in pieces}
    assert spools.get(own) == b"main" and spools.put(b"more") == (own.spool, 4, 4)
    assert len(list(tmp_path.glob(".spool-*"))) >= 3
    spools.close()
    assert list(tmp_path.iterdir()) == []


def test_document_lines_spooled_when_their_turn_has_not_come(tmp_path, monkeypatch):
    """A worker whose chunk's turn never comes in time spools its document lines, and the main
    process writes them in their place: the same run as one job writes."""
    from guideparse import ordered

    monkeypatch.setattr(ordered.OrderedFile, "try_write", lambda self, chunk, data, patience: None)
    assert main(["extract", str(RAW), "-o", str(tmp_path / "a"), "-j", "1", "--no-cache", "-q"]) == 0
    assert main(["extract", str(RAW), "-o", str(tmp_path / "b"), "-j", "2", "--no-cache", "-q"]) == 0
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    assert not list((tmp_path / "b").glob(".*"))
