"""The tool says what happened: summary counts, accept's consent, runs, CLI manners, limits."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from conftest import RAW
from guideparse.cli import app, main

SEED = RAW / "000_2e1c3045778c876f.txt"
FEW = sorted(RAW.glob("*.flat.txt"))[:4]


def _few(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for p in FEW:
        shutil.copy(p, folder / p.name)
    return folder


# --------------------------------------------------------------------------- the summary


def test_corpus_summary_line_and_manifest_tell_the_same_truth(tmp_path, capsys):
    """The counts are those of the documents written: truncated pages, warnings by code."""
    out = tmp_path / "run"
    assert main(["extract", str(RAW), "-o", str(out), "--no-cache"]) == 0
    line = capsys.readouterr().err.strip().splitlines()[-1]
    docs = [json.loads(x) for x in (out / "documents.jsonl").read_text(encoding="utf-8").splitlines()]
    truncated = sum(d["source"]["truncated"] for d in docs)
    warned = sum(bool(d["warnings"]) for d in docs)
    codes = Counter(w["code"] for d in docs for w in d["warnings"])
    top = ", ".join(f"{c} {n}" for c, n in sorted(codes.items(), key=lambda kv: (-kv[1], kv[0]))[:4])
    assert truncated == 66
    assert line.startswith(
        f"71 ok ({truncated} truncated, {warned} with warnings), 0 failed, 43 apps, "
        f"{sum(codes.values())} warnings ({top}) in "
    ), line
    summary = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["summary"]
    assert summary["warnings"] == dict(codes) and summary["truncated"] == truncated
    assert (summary["inputs"], summary["ok"], summary["ok_with_warnings"], summary["failed"], summary["apps"]) == (
        71,
        71,
        warned,
        0,
        43,
    )


def test_a_cached_rerun_counts_the_same(tmp_path, capsys):
    cache = ["--cache-dir", str(tmp_path / "cache")]
    assert main(["extract", str(RAW), "-o", str(tmp_path / "a"), "-q", *cache]) == 0
    assert main(["extract", str(RAW), "-o", str(tmp_path / "b"), "-q", *cache]) == 0
    a, b = (json.loads((tmp_path / n / "manifest.json").read_text())["summary"] for n in "ab")
    a.pop("seconds"), b.pop("seconds")
    assert a == b


def test_failures_are_counted_by_code_and_json_summary(tmp_path, capsys):
    inp = _few(tmp_path / "in")
    (inp / "empty.txt").write_bytes(b"")
    assert main(["extract", str(inp), "-o", str(tmp_path / "r"), "--format", "json"]) == 1
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert (report["ok"], report["failed"], report["failures"]) == (4, 1, {"GP901": 1})
    assert report["out"] == str(tmp_path / "r")
    assert ", 1 failed (GP901 1), " not in captured.err  # json: no text summary besides the failure line
    assert captured.err.strip() == f"{inp / 'empty.txt'}: GP901 empty file"


def test_no_input_found_is_a_usage_error(tmp_path, monkeypatch, capsys):
    (tmp_path / "empty-folder").mkdir()
    (tmp_path / "empty-folder" / "notes.pdf").write_bytes(b"%PDF")
    monkeypatch.chdir(tmp_path)
    assert main(["extract", "empty-folder"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("empty-folder: GP911 no guide file found") and ".txt, .md, .html, .htm" in err
    assert not (tmp_path / "out" / "runs").exists() or not os.listdir(tmp_path / "out" / "runs")
    assert not (tmp_path / "out" / "latest").exists()


# --------------------------------------------------------------------------- accept


def _baseline_of_few(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    _few(tmp_path / "raw")
    monkeypatch.chdir(tmp_path)
    assert main(["extract", "-q"]) == 0 and main(["accept", "-q"]) == 0
    return tmp_path / "out" / "baseline"


def test_accept_refuses_a_run_with_a_failed_input(tmp_path, monkeypatch, capsys):
    baseline = _baseline_of_few(tmp_path, monkeypatch)
    before = (baseline / "manifest.json").read_bytes()
    (tmp_path / "raw" / "broken.txt").write_bytes(b"\x00\x01" * 50)
    assert main(["extract", "-q"]) == 1
    capsys.readouterr()
    assert main(["accept"]) == 1
    err = capsys.readouterr().err.strip()
    assert "GP913" in err and "1 failed input (raw/broken.txt)" in err and "--allow-failed" in err
    assert (baseline / "manifest.json").read_bytes() == before
    assert main(["accept", "--allow-failed"]) == 0
    assert "baseline <- out/latest: no change in content" in capsys.readouterr().err
    assert (baseline / "manifest.json").read_bytes() != before


def test_accept_refuses_a_run_that_drops_apps(tmp_path, monkeypatch, capsys):
    baseline = _baseline_of_few(tmp_path, monkeypatch)
    before = (baseline / "catalog.jsonl").read_bytes()
    assert main(["extract", f"raw/{FEW[0].name}", "-q"]) == 0  # one file, no --out: out/latest moves
    assert main(["accept"]) == 1
    err = capsys.readouterr().err
    assert "GP913" in err and "it drops 3 apps from the baseline" in err and "--allow-removals" in err
    assert (baseline / "catalog.jsonl").read_bytes() == before
    assert main(["accept", "--allow-removals"]) == 0
    assert "loses 3 apps" in capsys.readouterr().err
    assert len((baseline / "catalog.jsonl").read_text().splitlines()) == 1


@pytest.mark.parametrize(("answer", "status"), [("y", 0), ("n", 1), ("", 1)])
def test_accept_asks_on_a_terminal(tmp_path, monkeypatch, capsys, answer, status):
    _baseline_of_few(tmp_path, monkeypatch)
    assert main(["extract", f"raw/{FEW[0].name}", "-q"]) == 0
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    asked = []
    monkeypatch.setattr("builtins.input", lambda prompt="": asked.append(prompt) or answer)
    assert main(["accept"]) == status
    assert asked == ["accept it anyway? [y/N] "]
    assert "it drops 3 apps" in capsys.readouterr().err


def test_review_says_which_answers_it_takes(tmp_path, monkeypatch, capsys):
    _baseline_of_few(tmp_path, monkeypatch)
    (tmp_path / "raw" / FEW[1].name).unlink()
    assert main(["extract", "-q"]) == 0
    answers = iter(["yes", "maybe", "q"])
    monkeypatch.setattr("builtins.input", lambda _prompt="": next(answers))
    assert main(["review"]) == 0
    out = capsys.readouterr()
    assert out.out.count("is not an answer: type a (accept), s (skip) or q (quit)") == 2
    assert "baseline unchanged" in out.err


# --------------------------------------------------------------------------- runs


def test_runs_lists_and_prunes_never_latest_or_baseline(tmp_path, monkeypatch, capsys):
    _baseline_of_few(tmp_path, monkeypatch)  # run 1, the baseline's
    for _ in range(3):
        assert main(["extract", "-q"]) == 0  # runs 2-4; 4 is latest
    foreign = tmp_path / "out" / "runs" / "my-notes"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("mine")
    elsewhere = tmp_path / "archive-run"  # a run of the user's, linked in: not one of ours to list or prune
    assert main(["extract", "-q", "-o", str(elsewhere)]) == 0
    (tmp_path / "out" / "runs" / "0000-linked").symlink_to(elsewhere)
    capsys.readouterr()
    assert main(["runs", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert len(listed) == 4 and [r["baseline"] for r in listed] == [True, False, False, False]
    assert [r["latest"] for r in listed] == [False, False, False, True]
    assert all((r["inputs"], r["ok"], r["failed"], r["apps"]) == (4, 4, 0, 4) for r in listed)
    assert main(["runs"]) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[0].endswith("4 inputs, 4 ok, 0 failed, 4 apps  [baseline]") and text[-1].endswith("[latest]")
    assert main(["runs", "prune", "--keep", "1"]) == 0
    assert "removed 2 runs" in capsys.readouterr().err
    left = sorted(p.name for p in (tmp_path / "out" / "runs").iterdir())
    assert left == sorted([Path(listed[0]["path"]).name, Path(listed[-1]["path"]).name, "my-notes", "0000-linked"])
    assert (foreign / "keep.txt").read_text() == "mine" and (elsewhere / "manifest.json").is_file()
    assert main(["diff"]) == 0  # baseline and latest still there


# --------------------------------------------------------------------------- CLI manners


def _commands() -> list[list[str]]:
    import typer.main

    group = typer.main.get_command(app)
    out = []
    for name, cmd in group.commands.items():  # type: ignore[attr-defined]
        subs = getattr(cmd, "commands", None)
        out += [[name, sub] for sub in subs] if subs else [[name]]
    return out


def test_version_and_short_help(capsys):
    from guideparse import __version__

    assert main(["--version"]) == 0 and capsys.readouterr().out == f"guideparse {__version__}\n"
    assert main(["-h"]) == 0
    listing = capsys.readouterr().out.split("Commands:")[1]
    assert "..." not in listing and "…" not in listing
    assert "Make a run the accepted baseline (out/baseline) that `diff` and\n" in listing  # whole, wrapped


@pytest.mark.parametrize("command", _commands(), ids=" ".join)
def test_every_command_has_help_with_an_example(command, capsys):
    assert main([*command, "-h"]) == 0
    text = capsys.readouterr().out
    assert "Example" in text and "<list[" not in text and "<int range>" not in text


def test_diff_output_says_where_it_wrote(runs, tmp_path, capsys):
    root, _ = runs
    report = tmp_path / "report.md"
    assert main(["diff", str(root / "base"), str(root / "planted"), "-f", "markdown", "-o", str(report)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"wrote {report} (markdown: ") and report.is_file()
    assert main(["diff", str(root / "base"), str(root / "planted"), "-o", str(report), "-q"]) == 1
    assert capsys.readouterr().err == ""


def test_explain_marks_cut_values_and_full_shows_them(capsys):
    assert main(["explain", str(SEED), "bottom_line"]) == 0
    cut = capsys.readouterr().out
    match = re.search(r"… \(\+(\d+) chars; --full shows all\)", cut)
    assert match is not None
    assert main(["explain", str(SEED), "bottom_line", "--full"]) == 0
    full = capsys.readouterr().out
    assert "--full shows all" not in full
    value = full.splitlines()[0].split(" = ", 1)[1]
    assert len(value) == 160 + int(match.group(1))
    assert main(["explain", str(SEED), "bottom_line", "--format", "json"]) == 0
    assert list(json.loads(capsys.readouterr().out)["provenance"]) == ["bottom_line"]


# --------------------------------------------------------------------------- limits and exits


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_an_input_over_the_time_limit_fails_alone(tmp_path, capsys, jobs):
    """With a limit shorter than any extraction, every input fails with GP912, each on its own line."""
    inp = _few(tmp_path / "in")
    out = tmp_path / "r"
    assert main(["extract", str(inp), "-o", str(out), "-j", jobs, "--no-cache", "--timeout", "0.000001"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert sorted(line for line in err if line.startswith(str(inp))) == sorted(
        f"{inp / p.name}: GP912 extraction took over 1e-06 s (--timeout); skipped" for p in FEW
    )
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["summary"]["failures"] == {"GP912": 4}
    assert main(["extract", str(inp), "-o", str(out), "-j", jobs, "--no-cache", "-q"]) == 0  # default: generous


def test_the_time_limit_holds_in_any_thread():
    """Off the main thread (a Dask worker's task thread, a library caller's) the limit raises in
    the thread that runs over it, and a raise that did not land in time never escapes the block."""
    import threading
    import time

    from guideparse.limits import TimeLimitExceeded, time_limit

    seen: dict[str, object] = {}

    def work() -> None:
        started = time.perf_counter()
        try:
            with time_limit(0.05):
                while True:
                    sum(range(100))
        except TimeLimitExceeded:
            seen["raised_after"] = time.perf_counter() - started
        for _ in range(300):  # blocks that end about as their limit passes: a raise lands inside or not at all
            try:
                with time_limit(0.00002):
                    sum(range(200))
            except TimeLimitExceeded:
                seen["inside"] = seen.get("inside", 0) + 1  # type: ignore[operator]
        time.sleep(0.05)
        seen["after"] = "reached"

    def guarded() -> None:
        try:
            work()
        except TimeLimitExceeded:
            seen["leaked"] = True

    thread = threading.Thread(target=guarded)
    thread.start()
    thread.join(10)
    assert 0.05 <= seen["raised_after"] < 5 and seen.get("after") == "reached"


def test_a_thread_block_over_its_limit_fails_before_the_timer_runs():
    """Off the main thread, a block that runs over its limit and ends before the timer thread
    gets the GIL (it waits up to the switch interval) fails all the same, as under the alarm
    (a Dask run with a tiny --timeout gave GP912 for some inputs only)."""
    import threading
    import time

    from guideparse.limits import TimeLimitExceeded, time_limit

    seen: list[str] = []

    def work() -> None:
        try:
            with time_limit(0.001):
                started = time.perf_counter()
                while time.perf_counter() - started < 0.003:  # the GIL held all the while
                    pass
            seen.append("finished")
        except TimeLimitExceeded:
            seen.append("raised")

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(10)
    assert seen == ["raised"]


def test_an_internal_error_is_one_line_and_its_own_status(tmp_path, monkeypatch, capsys):
    def broken(*_args, **_kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr("guideparse.diff.diff_catalogs", broken)
    assert main(["extract", str(FEW[0]), "-o", str(tmp_path / "r"), "-q"]) == 0
    assert main(["diff", str(tmp_path / "r"), str(tmp_path / "r")]) == 70
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "GP999 internal error: ZeroDivisionError" in err and "Traceback" not in err


def test_html_diff_does_not_block_on_a_source_turned_fifo(tmp_path):
    """The HTML report shows source lines from the recorded paths; a FIFO there is skipped, not read."""
    src = tmp_path / "page.txt"
    shutil.copy(FEW[0], src)
    gp = [sys.executable, "-m", "guideparse.cli"]
    run = subprocess.run([*gp, "extract", str(src), "-o", str(tmp_path / "r"), "-q"], capture_output=True)
    assert run.returncode == 0, run.stderr
    src.unlink()
    os.mkfifo(src)
    report = tmp_path / "report.html"
    args = [*gp, "diff", str(tmp_path / "r"), str(tmp_path / "r"), "-f", "html", "-o", str(report)]
    done = subprocess.run(args, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert report.is_file()


# --------------------------------------------------------------------------- attack fixes


def test_diff_output_replaces_only_its_own_reports(tmp_path, monkeypatch, capsys):
    _baseline_of_few(tmp_path, monkeypatch)
    guide = tmp_path / "raw" / FEW[0].name
    before = guide.read_bytes()
    manifest = tmp_path / "out" / "latest" / "manifest.json"
    kept = manifest.read_bytes()
    assert main(["diff", "-f", "json", "-o", str(guide)]) == 2
    assert main(["diff", "-f", "json", "-o", str(manifest)]) == 2
    assert main(["diff", "-o", str(tmp_path / "out" / "baseline" / "report.txt")]) == 2
    err = capsys.readouterr().err
    assert err.count("GP910") == 3 and "not an earlier guideparse report" in err and "inside the run folder" in err
    assert guide.read_bytes() == before and manifest.read_bytes() == kept
    for fmt in ("text", "markdown", "json", "html"):
        report = tmp_path / f"report.{fmt}"
        assert main(["diff", "-f", fmt, "-o", str(report), "-q"]) == 0  # new
        assert main(["diff", "-f", fmt, "-o", str(report), "-q"]) == 0  # its own earlier report


def test_review_refuses_a_latest_run_with_failed_inputs(tmp_path, monkeypatch, capsys):
    baseline = _baseline_of_few(tmp_path, monkeypatch)
    before = (baseline / "catalog.jsonl").read_bytes()
    (tmp_path / "raw" / FEW[1].name).write_bytes(b"")  # its app would look removed
    assert main(["extract", "-q"]) == 1
    capsys.readouterr()
    monkeypatch.setattr("builtins.input", lambda _prompt="": "a")
    assert main(["review"]) == 1
    assert "GP913 not reviewed: 1 failed input" in capsys.readouterr().err
    assert (baseline / "catalog.jsonl").read_bytes() == before
    assert main(["review", "--allow-failed"]) == 0


def test_damaged_run_folders_are_listed_around_and_refused_cleanly(tmp_path, monkeypatch, capsys):
    _baseline_of_few(tmp_path, monkeypatch)
    runs = tmp_path / "out" / "runs"
    (runs / "fifo").mkdir()
    os.mkfifo(runs / "fifo" / "manifest.json")
    (runs / "deep").mkdir()
    (runs / "deep" / "manifest.json").write_text("[" * 100_000 + "]" * 100_000)
    (runs / "odd").mkdir()
    (runs / "odd" / "manifest.json").write_text('{"tool": "guideparse", "started_at": 5, "counts": []}')
    done = subprocess.run(
        [sys.executable, "-m", "guideparse.cli", "runs"], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert done.returncode == 0 and len(done.stdout.splitlines()) == 2, done  # the real run and "odd"
    capsys.readouterr()
    assert main(["lint", str(runs / "deep")]) == 2
    assert "GP908" in capsys.readouterr().err


def test_a_timeout_past_its_range_is_a_usage_error(tmp_path, capsys):
    for value in ("inf", "1e10", "-1"):
        assert main(["extract", str(FEW[0]), "-o", str(tmp_path / "r"), "--timeout", value]) == 2
    assert not (tmp_path / "r").exists()


def test_a_symlinked_folder_is_named_not_skipped_and_utf32_is_read(tmp_path, capsys):
    inp = _few(tmp_path / "in")
    elsewhere = _few(tmp_path / "elsewhere")
    os.symlink(elsewhere, inp / "linked")
    text = FEW[0].read_text(encoding="utf-8")
    (inp / "wide.txt").write_bytes(text.encode("utf-32"))  # with its BOM
    out = tmp_path / "r"
    assert main(["extract", str(inp), "-o", str(out), "--no-cache"]) == 1
    err = capsys.readouterr().err
    assert f"{inp / 'linked'}: GP905 a symlinked folder is not followed; give its target as an input" in err
    docs = [json.loads(x) for x in (out / "documents.jsonl").read_text(encoding="utf-8").splitlines()]
    wide = next(d for d in docs if d["source"]["path"].endswith("wide.txt"))
    twin = next(d for d in docs if d["source"]["path"].endswith(FEW[0].name))
    assert wide["source"]["encoding"] == "utf-32" and wide["app"] == twin["app"]
    assert wide["identity_providers"] == twin["identity_providers"]


def test_one_file_given_under_two_spellings_is_one_input(tmp_path, monkeypatch, capsys):
    inp = _few(tmp_path / "raw")
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "r"
    assert main(["extract", "raw", f"raw/{FEW[0].name}", f"./raw/{FEW[0].name}", "-o", str(out), "-q"]) == 0
    paths = [json.loads(x)["source"]["path"] for x in (out / "documents.jsonl").read_text().splitlines()]
    assert sorted(paths) == sorted(f"raw/{p.name}" for p in FEW) and inp.is_dir()
