"""--out never destroys what is not a run, and a run reaches --out whole or not at all."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import RAW
from guideparse import fsio
from guideparse.cli import main

ONE = RAW / "brex.flat.txt"


def _tree(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() if p.is_file() else b"<dir>" for p in sorted(d.rglob("*"))}


def _refused(capsys, out: Path, *inputs: Path) -> str:
    assert main(["extract", *(str(i) for i in inputs or (ONE,)), "-o", str(out), "--no-cache"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "GP910" in err[0], err
    return err[0]


def test_out_at_a_folder_with_other_files_is_refused(tmp_path, capsys, monkeypatch):
    project = tmp_path / "project"
    (project / "sub").mkdir(parents=True)
    (project / "main.py").write_text("print('mine')\n", encoding="utf-8")
    before = _tree(tmp_path)
    assert "not a guideparse run" in _refused(capsys, project)
    monkeypatch.chdir(project)
    assert "current folder" in _refused(capsys, Path("."))
    assert _tree(tmp_path) == before


def test_out_at_a_regular_file_or_a_symlink_is_refused(tmp_path, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n", encoding="utf-8")
    assert "not a folder" in _refused(capsys, notes)
    link = tmp_path / "link"
    link.symlink_to(tmp_path)
    assert "symlink" in _refused(capsys, link)
    assert notes.read_text(encoding="utf-8") == "my notes\n" and link.is_symlink()


def test_out_at_the_input_folder_or_above_it_is_refused(tmp_path, capsys):
    inp = tmp_path / "scrapes"
    inp.mkdir()
    (inp / "a.txt").write_bytes(ONE.read_bytes())
    before = _tree(tmp_path)
    assert "holds the input" in _refused(capsys, inp, inp)
    assert "holds the input" in _refused(capsys, tmp_path, inp / "a.txt")
    assert _tree(tmp_path) == before
    assert "root folder" in _refused(capsys, Path("/"))


def test_out_may_be_new_empty_or_an_earlier_run(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    for out in (tmp_path / "new" / "run", empty, empty):  # new, empty, then the run just written there
        assert main(["extract", str(ONE), "-o", str(out), "--no-cache", "-q"]) == 0
        assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["counts"]["ok"] == 1
    (empty / "my-notes.md").write_text("added by hand\n", encoding="utf-8")  # no longer only a run
    assert "not a guideparse run" in _refused(capsys, empty)


def test_the_library_refuses_the_same(tmp_path):
    import guideparse

    (tmp_path / "keep.txt").write_text("x", encoding="utf-8")
    with pytest.raises(guideparse.GuideparseError, match="GP910"):
        guideparse.extract_many([ONE], out=tmp_path, use_cache=False)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_exchange_is_atomic_here(tmp_path):
    """On this system the swap is one renameat2(RENAME_EXCHANGE), not the two-rename fallback."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("a")
    (b / "x").write_text("b")
    if not fsio._exchange(str(a), str(b)):
        pytest.skip("this system cannot exchange two paths")
    assert (a / "x").read_text() == "b" and (b / "x").read_text() == "a"


_KILL_AT = """
import os, signal, sys
import guideparse.fsio as fsio
real = fsio._exchange
def exchange(a, b):
    if sys.argv[1] == "before":
        os.kill(os.getpid(), signal.SIGKILL)
    done = real(a, b)
    if sys.argv[1] == "after":
        os.kill(os.getpid(), signal.SIGKILL)
    return done
fsio._exchange = exchange
from guideparse.cli import main
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_kill_while_swapping_leaves_the_old_or_the_new_run(tmp_path, when):
    """SIGKILL just before or just after the exchange: --out holds the old run or the whole new
    one, never nothing; the next run removes the leftover work folder."""
    out = tmp_path / "out"
    assert main(["extract", str(ONE), "-o", str(out), "--no-cache", "-q"]) == 0
    old = _tree(out)
    proc = subprocess.run(
        [sys.executable, "-c", _KILL_AT, when, "extract", str(RAW), "-o", str(out), "--no-cache", "-q", "-j", "1"],
        capture_output=True,
    )
    assert proc.returncode == -signal.SIGKILL
    if when == "before":
        assert _tree(out) == old
    else:
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["counts"]["inputs"] == len(list(RAW.glob("*.txt")))
        assert len((out / "catalog.jsonl").read_text().splitlines()) == manifest["counts"]["apps"]
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]  # the dead run's work folder
    assert main(["extract", str(ONE), "-o", str(out), "--no-cache", "-q"]) == 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]


def test_the_two_rename_fallback_swaps_too(tmp_path, monkeypatch):
    """Where the system cannot exchange (not Linux, an old libc, a file system without it)."""
    monkeypatch.setattr(fsio, "_exchange", lambda a, b: False)
    out = tmp_path / "out"
    for inputs in ([ONE], [RAW]):
        assert main(["extract", *map(str, inputs), "-o", str(out), "--no-cache", "-q"]) in (0, 1)
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["counts"]["inputs"] > 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_symlink_loop_fails_only_itself(tmp_path, capsys):
    inp = tmp_path / "in"
    inp.mkdir()
    (inp / "good.txt").write_bytes(ONE.read_bytes())
    os.symlink("loop-b.txt", inp / "loop-a.txt")
    os.symlink("loop-a.txt", inp / "loop-b.txt")
    os.symlink("self.txt", inp / "self.txt")
    assert main(["extract", str(inp), "-o", str(tmp_path / "r"), "--no-cache"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert sorted(line for line in err if line.startswith(str(inp))) == [
        f"{inp / name}: GP905 symlink loop" for name in ("loop-a.txt", "loop-b.txt", "self.txt")
    ]
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text(encoding="utf-8"))
    assert [s["status"] for s in manifest["inputs"]] == ["ok", "failed", "failed", "failed"]


def test_a_run_folder_with_a_foreign_file_in_records_is_not_a_run(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["extract", str(ONE), "-o", str(out), "--no-cache", "-q"]) == 0
    (out / "records" / "my-overrides.yaml").write_text("keep: me\n", encoding="utf-8")
    before = _tree(tmp_path)
    assert "not a guideparse run" in _refused(capsys, out)
    assert _tree(tmp_path) == before


def test_out_latest_that_is_not_our_link_is_refused_before_the_run(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for make in (lambda p: p.write_text("mine\n"), lambda p: p.mkdir()):
        shutil.rmtree(tmp_path / "out", ignore_errors=True)
        (tmp_path / "out").mkdir()
        make(tmp_path / "out" / "latest")
        assert main(["extract", str(ONE), "--no-cache"]) == 2
        err = capsys.readouterr().err
        assert "GP910" in err and "latest" in err
        assert not (tmp_path / "out" / "runs").exists() or not any((tmp_path / "out" / "runs").iterdir())


def test_default_run_folders_never_collide(tmp_path):
    from guideparse.run import default_run_dir

    a, b = default_run_dir(tmp_path), default_run_dir(tmp_path)
    assert a != b and a.is_dir() and b.is_dir() and a.name[:16] == b.name[:16]


def test_accept_never_replaces_what_is_not_a_run(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["extract", str(ONE), "-o", str(run), "--no-cache", "-q"]) == 0
    base = tmp_path / "base"
    base.mkdir()
    (base / ".git").mkdir()
    before = _tree(tmp_path)
    from guideparse.store import accept_run

    with pytest.raises(fsio.GuideparseError, match="GP910"):
        accept_run(run, base)
    (run / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(fsio.GuideparseError, match="GP908"):
        accept_run(run, tmp_path / "fresh")
    assert _tree(tmp_path) == {**before, "run/notes.txt": b"mine"}


_KILL_ASIDE = """
import os, signal, sys
import guideparse.fsio as fsio
fsio._exchange = lambda a, b: False
real, calls = os.rename, []
def rename(a, b):
    calls.append(a)
    if len(calls) == 2:  # the old run is aside; the new one not yet in
        os.kill(os.getpid(), signal.SIGKILL)
    return real(a, b)
os.rename = rename
from guideparse.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_kill_inside_the_two_rename_swap_loses_nothing(tmp_path):
    """The fallback swap killed with the old run aside: the next run puts it back first."""
    out = tmp_path / "out"
    assert main(["extract", str(ONE), "-o", str(out), "--no-cache", "-q"]) == 0
    old = _tree(out)
    proc = subprocess.run(
        [sys.executable, "-c", _KILL_ASIDE, "extract", str(RAW), "-o", str(out), "--no-cache", "-q", "-j", "1"],
        capture_output=True,
    )
    assert proc.returncode == -signal.SIGKILL and not out.exists()
    fsio.recover_work_folders(tmp_path)
    assert _tree(out) == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_folder_that_cannot_be_listed_is_a_failed_input(tmp_path, capsys, monkeypatch):
    inp = tmp_path / "in"
    (inp / "locked").mkdir(parents=True)
    (inp / "a.txt").write_bytes(ONE.read_bytes())
    real = os.scandir

    def scandir(path="."):
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    assert main(["extract", str(inp), "-o", str(tmp_path / "r"), "--no-cache", "-j", "1"]) == 1
    err = capsys.readouterr().err
    assert f"{inp / 'locked'}: GP905 folder cannot be listed: permission denied" in err


def test_out_below_a_regular_file_is_refused(tmp_path, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("mine\n", encoding="utf-8")
    assert "notes.txt is not a folder" in _refused(capsys, notes / "run")
    assert notes.read_text(encoding="utf-8") == "mine\n"
