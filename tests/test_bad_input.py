"""Bad input never costs good data: one file of every failure kind in a batch of the corpus."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import RAW
from guideparse.cli import main

HTML = Path(__file__).parent / "fixtures" / "html"
SEED = RAW / "000_2e1c3045778c876f.txt"
MAX_BYTES = 400_000


def _tree(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def _batch(tmp_path: Path) -> tuple[Path, dict[str, str | None]]:
    """The corpus plus one file per failure kind; returns the folder and name -> expected code
    (None: extracted, with the warning code where one is due)."""
    inp = tmp_path / "in"
    shutil.copytree(RAW, inp)
    outside = tmp_path / "outside.txt"
    outside.write_bytes(SEED.read_bytes())
    seed = SEED.read_bytes()
    bad: dict[str, str | None] = {}

    (inp / "x-empty.txt").write_bytes(b"")
    bad["x-empty.txt"] = "GP901"
    (inp / "x-binary.txt").write_bytes(bytes(range(256)) * 40)
    bad["x-binary.txt"] = "GP902"
    (inp / "x-notes.txt").write_text("Meeting notes\n\nNothing here is a guide.\n", encoding="utf-8")
    bad["x-notes.txt"] = "GP903"
    with (inp / "x-huge.txt").open("wb") as fh:  # sparse: reading it whole would take minutes
        fh.truncate(8 * 1024 * 1024 * 1024)
    bad["x-huge.txt"] = "GP904"
    (inp / "x-escape.txt").symlink_to(outside)
    bad["x-escape.txt"] = "GP907"
    (inp / "x-dangling.txt").symlink_to(inp / "gone.txt")
    bad["x-dangling.txt"] = "GP905"
    os.mkfifo(inp / "x-fifo.txt")
    bad["x-fifo.txt"] = "GP905"
    bad_name = os.fsdecode(b"x-name-\xff.txt")
    (inp / bad_name).write_bytes(seed)
    bad["x-name-\\xff.txt"] = "GP905"
    if os.geteuid() != 0:  # root reads any file
        (inp / "x-unreadable.txt").write_bytes(seed)
        (inp / "x-unreadable.txt").chmod(0)
        bad["x-unreadable.txt"] = "GP905"
    # Extracted, with a warning:
    (inp / "y-truncated.txt").write_bytes(seed[: len(seed) // 2])
    bad["y-truncated.txt"] = "GP302"
    latin = (
        seed.decode("utf-8")
        .replace("Mailjet", "Mailjét Café")
        .translate({ord("•"): "-", ord("❌"): "No", ord("—"): "-", ord("→"): "->"})
    )
    (inp / "y-latin1.txt").write_bytes(latin.encode("latin-1"))
    bad["y-latin1.txt"] = "GP301"
    shutil.copy(HTML / "malformed.html", inp / "y-malformed.html")
    bad["y-malformed.html"] = None
    return inp, bad


def test_every_failure_kind_costs_only_itself(tmp_path, capsys):
    """Every good record as in a clean run, one clear line per bad file, no traceback, nothing outside --out."""
    inp, bad = _batch(tmp_path)
    clean = tmp_path / "clean"
    assert main(["extract", str(RAW), "-o", str(clean), "--no-cache", "-q", "--max-bytes", str(MAX_BYTES)]) == 0
    capsys.readouterr()
    before = sorted(p.name for p in tmp_path.iterdir())
    out = tmp_path / "run"
    assert main(["extract", str(inp), "-o", str(out), "--no-cache", "-j", "2", "--max-bytes", str(MAX_BYTES)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert "Traceback" not in "\n".join(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(before + ["run"])

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    status = {Path(s["path"]).name: s for s in manifest["inputs"]}
    failed = {name: code for name, code in bad.items() if code and code.startswith("GP9")}
    for name, code in failed.items():
        assert status[name]["status"] == "failed" and status[name]["error_code"] == code, name
        lines = [line for line in err if name in line]
        assert len(lines) == 1 and code in lines[0], (name, lines)
    assert len(err) == len(failed) + 1 and "failed" in err[-1]  # and the one-line summary

    docs = {
        json.loads(line)["source"]["path"]: json.loads(line)
        for line in (out / "documents.jsonl").read_text(encoding="utf-8").splitlines()
    }
    for name in ("y-truncated.txt", "y-latin1.txt", "y-malformed.html"):
        doc = docs[str(inp / name)]
        assert status[name]["status"] == "ok"
        if bad[name]:
            assert bad[name] in {w["code"] for w in doc["warnings"]}, name
    # Every good record as the corpus alone gives it.
    good = {
        json.loads(line)["source"]["sha256"]: line
        for line in (clean / "documents.jsonl").read_text(encoding="utf-8").splitlines()
    }
    for path, doc in docs.items():
        if Path(path).parent == inp and not Path(path).name.startswith(("x-", "y-")):
            want = json.loads(good[doc["source"]["sha256"]])
            want["source"]["path"] = path
            assert doc == want


def test_over_max_bytes_is_refused_by_size(tmp_path, capsys):
    """A file over --max-bytes is refused from its size, before any read."""
    big = tmp_path / "big.txt"
    with big.open("wb") as fh:
        fh.truncate(64 * 1024 * 1024 * 1024)
    t0 = time.perf_counter()
    assert main(["extract", str(big), "-o", str(tmp_path / "r"), "--no-cache"]) == 1
    assert time.perf_counter() - t0 < 30
    assert f"GP904 file is {64 * 1024**3} bytes, over --max-bytes" in capsys.readouterr().err


HOSTILE_NAMES = [
    ("../../x", "x"),
    ("<script>alert(1)</script>", "script-alert-1-script"),
    ("/etc/passwd", "etc-passwd"),
    ("!!!", None),  # nothing left to slug: unknown-<sha>
    ("..", None),
    ("CON", "con"),
]


@pytest.mark.parametrize("name,slug", HOSTILE_NAMES)
def test_hostile_app_names_stay_inside_out(tmp_path, name, slug):
    """An app named like a path or markup gets a plain slug; its record lands in out/records."""
    text = SEED.read_text(encoding="utf-8").replace("Mailjet", name)
    inp = tmp_path / "in"
    inp.mkdir()
    (inp / "g.txt").write_text(text, encoding="utf-8")
    out = tmp_path / "sub" / "run"
    assert main(["extract", str(inp), "-o", str(out), "--no-cache", "-q"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "sub"]
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["run"]
    doc = json.loads((out / "documents.jsonl").read_text(encoding="utf-8"))
    assert doc["app"] == name
    if slug is None:
        assert doc["slug"].startswith("unknown-")
    else:
        assert doc["slug"] == slug
    records = list((out / "records").iterdir())
    assert [p.name for p in records] == [f"{doc['slug']}.json"]


def _spawn(args: list[str], capture: bool = True) -> subprocess.Popen:
    gp = str(Path(sys.executable).with_name("guideparse"))
    pipe = subprocess.PIPE if capture else subprocess.DEVNULL
    return subprocess.Popen([gp, *args], stdout=pipe, stderr=pipe, start_new_session=True)


def _children(pid: int) -> list[int]:
    out, stack = [], [pid]
    while stack:
        p = stack.pop()
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children", encoding="ascii") as fh:
                    kids = [int(c) for c in fh.read().split()]
                    out += kids
                    stack += kids
        except OSError:
            continue
    return out


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


@pytest.fixture
def big_batch(tmp_path) -> tuple[Path, Path, dict[str, bytes]]:
    """1,500 whole guides, and an --out that already holds a run: (inputs, out, its files)."""
    inp = tmp_path / "in"
    inp.mkdir()
    seed = SEED.read_text(encoding="utf-8")
    for i in range(1500):
        (inp / f"g{i:05d}.txt").write_text(seed.replace("Mailjet", f"App {i}"), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["extract", str(RAW), "-o", str(out), "--no-cache", "-q"]) == 0
    return inp, out, _tree(out)


def test_kill_9_mid_run_leaves_previous_run_intact(tmp_path, big_batch):
    """SIGKILL in the middle of a large batch: --out keeps the previous run byte for byte, the
    worker processes go with their parent, and the next run clears the dead run's temporary folder."""
    inp, out, previous = big_batch
    proc = _spawn(["extract", str(inp), "-o", str(out), "--no-cache", "-q", "-j", "2"], capture=False)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until it is writing its run
        tmp = [p for p in tmp_path.iterdir() if p.name.startswith(".out.guideparse-tmp-")]
        if tmp and (tmp[0] / "records").is_dir() and any((tmp[0] / "records").iterdir()):
            break
        time.sleep(0.05)
    else:
        pytest.fail("the run never started writing")
    workers = _children(proc.pid)
    assert workers
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 20
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    survivors = [w for w in workers if _alive(w)]
    for w in survivors:
        os.kill(w, signal.SIGKILL)
    assert not survivors
    assert _tree(out) == previous
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".out.guideparse-tmp-")]  # the dead run's leftovers
    assert main(["extract", str(RAW / "brex.flat.txt"), "-o", str(out), "--no-cache", "-q"]) == 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]


def test_ctrl_c_is_one_line_and_keeps_previous_run(tmp_path, big_batch):
    """SIGINT mid-run: one line on stderr, exit 130, --out as it was, no temporary folder left."""
    inp, out, previous = big_batch
    proc = _spawn(["extract", str(inp), "-o", str(out), "--no-cache", "-j", "2"])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not [
        p for p in tmp_path.iterdir() if p.name.startswith(".out.guideparse-tmp-")
    ]:
        time.sleep(0.05)
    time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole process group
    _, err = proc.communicate(timeout=60)
    lines = err.decode().strip().splitlines()
    assert proc.returncode == 130 and len(lines) == 1 and "interrupted" in lines[0], err.decode()
    assert _tree(out) == previous
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]


def test_permission_denied_is_one_failure(tmp_path, capsys, monkeypatch):
    """A file the process may not read (simulated: tests may run as root) fails alone with GP905."""
    import guideparse.inputs as inputs

    inp = tmp_path / "in"
    inp.mkdir()
    shutil.copy(SEED, inp / "a.txt")
    shutil.copy(SEED, inp / "locked.txt")
    real_read = inputs.read_whole

    def guarded(path, limit):
        if str(path).endswith("locked.txt"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_read(path, limit)

    monkeypatch.setattr(inputs, "read_whole", guarded)
    assert main(["extract", str(inp), "-o", str(tmp_path / "r"), "--no-cache", "-j", "1", "-q"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"{inp / 'locked.txt'}: GP905 permission denied"]
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text(encoding="utf-8"))
    assert [s["status"] for s in manifest["inputs"]] == ["ok", "failed"]


def test_crash_while_writing_leaves_previous_run(tmp_path, capsys, monkeypatch):
    """An unexpected error while the run folder is assembled: --out keeps the previous run and
    no temporary folder is left beside it."""
    import guideparse.run as run

    out = tmp_path / "out"
    assert main(["extract", str(RAW), "-o", str(out), "--no-cache", "-q"]) == 0
    previous = _tree(out)

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(run.RunAssembler, "finish", broken)
    capsys.readouterr()
    assert main(["extract", str(RAW), "-o", str(out), "--no-cache", "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "GP909" in err[0] and "No space left on device" in err[0]
    assert _tree(out) == previous
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
