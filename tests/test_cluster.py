"""Runs on Dask (a real LocalCluster: 2 worker processes) with inputs and outputs on a real S3
server (moto's, on loopback): the same bytes as a local run, failures reported alike."""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import RAW
from guideparse.cli import main

pytest.importorskip("distributed")
SECRET = "gp-test-secret-7c1f0e"  # the S3 secret key: must never reach a run or a line printed
BUCKET = "guides"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def s3():
    """moto's S3 server on 127.0.0.1, found by s3fs through AWS_ENDPOINT_URL (set before the
    cluster starts, so its workers inherit it); returns an s3fs filesystem on it."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    env = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "gp-test-key",
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    import s3fs

    fs = s3fs.S3FileSystem()
    fs.mkdir(BUCKET)
    yield fs
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    server.stop()


@pytest.fixture(scope="module")
def scheduler(s3):
    """The address of a LocalCluster of 2 worker processes, one thread each."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        yield cluster


def _files(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def _manifest_without_times(data: bytes) -> dict:
    m = json.loads(data)
    for key in ("started_at", "finished_at"):
        m.pop(key)
    m["summary"].pop("seconds")
    return m


def assert_same_run(a: dict[str, bytes], b: dict[str, bytes]) -> None:
    """Two runs' files: the same bytes, apart from the manifest's times."""
    assert sorted(a) == sorted(b)
    for name in a:
        if name == "manifest.json":
            assert _manifest_without_times(a[name]) == _manifest_without_times(b[name])
        else:
            assert a[name] == b[name], name


def test_cluster_run_is_the_local_run(tmp_path, scheduler, capsys):
    """The corpus (71 inputs) on the cluster, 8 per task: the files of a local run, byte for byte."""
    assert main(["extract", str(RAW), "-o", str(tmp_path / "local"), "--no-cache", "-q"]) == 0
    addr = scheduler.scheduler_address
    assert main(["extract", str(RAW), "-o", str(tmp_path / "dask"), "--scheduler", addr, "--batch-size", "8"]) == 0
    assert "71 ok" in capsys.readouterr().err
    assert_same_run(_files(tmp_path / "local"), _files(tmp_path / "dask"))
    assert not list(tmp_path.glob(".*"))  # no work folder left


def test_an_app_with_guides_of_several_families_merges_as_locally(tmp_path, scheduler, capsys):
    """raw/ with the API and manual guides of tests/fixtures: apps with documents of several
    families are merged on the cluster, each document read back in its family's model (this
    failed as an internal error, exit 70, reading every document as a SCIM guide's)."""
    families = Path(__file__).resolve().parent / "fixtures" / "families"
    inputs = [str(RAW), str(families)]
    local = main(["extract", *inputs, "-o", str(tmp_path / "local"), "--no-cache", "-q"])
    addr = scheduler.scheduler_address
    assert main(["extract", *inputs, "-o", str(tmp_path / "dask"), "--scheduler", addr, "-q"]) == local == 0
    capsys.readouterr()
    merged = [json.loads(line) for line in (tmp_path / "dask" / "catalog.jsonl").read_text().splitlines()]
    assert any(e["sources"] and e["api_guide"] for e in merged)  # a SCIM guide and an API guide of one app
    assert_same_run(_files(tmp_path / "local"), _files(tmp_path / "dask"))


def test_failed_inputs_are_reported_as_locally(tmp_path, scheduler, capsys):
    """Every failure kind (empty, binary, not a guide, too large, symlinks, FIFO, bad name,
    unreadable): the same statuses, codes and stderr lines as a local run, and the same files."""
    from test_bad_input import MAX_BYTES, _batch

    inp, _ = _batch(tmp_path)
    common = ["--max-bytes", str(MAX_BYTES), "-q"]
    assert main(["extract", str(inp), "-o", str(tmp_path / "local"), "--no-cache", *common]) == 1
    local_err = capsys.readouterr().err
    addr = scheduler.scheduler_address
    assert (
        main(["extract", str(inp), "-o", str(tmp_path / "dask"), "--scheduler", addr, "--batch-size", "16", *common])
        == 1
    )
    dask_err = capsys.readouterr().err
    assert dask_err == local_err and len(local_err.splitlines()) >= 8 and "Traceback" not in dask_err
    assert_same_run(_files(tmp_path / "local"), _files(tmp_path / "dask"))


def test_the_time_limit_holds_on_the_cluster(tmp_path, scheduler, capsys):
    """--timeout on Dask (tasks run in worker threads, where no alarm signal reaches): every
    input over the limit fails with GP912, the same lines and files as a local run. The pages
    are long (a thread's timer runs when the extracting thread yields the GIL, every 5 ms)."""
    inp = tmp_path / "in"
    inp.mkdir()
    for p in sorted(RAW.glob("00*.txt"))[:3]:
        (inp / p.name).write_bytes(p.read_bytes() * 20)
    limit = ["--timeout", "0.000001", "-q"]
    assert main(["extract", str(inp), "-o", str(tmp_path / "local"), "--no-cache", *limit]) == 1
    local_err = capsys.readouterr().err
    addr = scheduler.scheduler_address
    assert main(["extract", str(inp), "-o", str(tmp_path / "dask"), "--scheduler", addr, *limit]) == 1
    assert capsys.readouterr().err == local_err and local_err.count("GP912") == 3
    assert_same_run(_files(tmp_path / "local"), _files(tmp_path / "dask"))


def test_s3_inputs_and_output_give_the_local_run(tmp_path, scheduler, s3, monkeypatch, capsys):
    """The corpus uploaded to S3, extracted from there into an S3 prefix: the local run's files
    (its paths under s3://); no credential in any file or line; nothing left beside the prefix."""
    s3.put(str(RAW) + "/", f"{BUCKET}/raw/", recursive=True)
    monkeypatch.chdir(tmp_path)
    shutil.copytree(RAW, tmp_path / BUCKET / "raw")
    assert main(["extract", f"{BUCKET}/raw", "-o", "local", "--no-cache", "-q"]) == 0
    out = f"s3://{BUCKET}/runs/one"
    argv = ["extract", f"s3://{BUCKET}/raw/", "-o", out, "--scheduler", scheduler.scheduler_address]
    assert main([*argv, "--batch-size", "16", "--format", "json"]) == 0
    printed = capsys.readouterr()
    assert json.loads(printed.out)["out"] == out and SECRET not in printed.out + printed.err
    s3.invalidate_cache()
    s3.get(f"{BUCKET}/runs/one/", str(tmp_path / "fetched") + "/", recursive=True)
    fetched = {k: v.replace(b"s3://guides/raw/", b"guides/raw/") for k, v in _files(tmp_path / "fetched").items()}
    assert_same_run(_files(tmp_path / "local"), fetched)
    assert not any(SECRET.encode() in v for v in fetched.values())
    assert s3.ls(f"{BUCKET}/runs", refresh=True) == [f"{BUCKET}/runs/one"]  # the temporary prefix is gone
    # A second run replaces the first in place (an earlier run is what --out may name).
    assert main([*argv, "--batch-size", "32", "-q"]) == 0
    assert s3.cat_file(f"{BUCKET}/runs/one/catalog.jsonl") == (
        tmp_path / "local" / "catalog.jsonl"
    ).read_bytes().replace(b"guides/raw/", b"s3://guides/raw/")


def test_s3_size_refusal_and_foreign_prefix(tmp_path, scheduler, s3, capsys):
    """--max-bytes refuses from the listing (GP904, the object never read); a prefix holding
    other objects is refused as --out (GP910) and left as it was."""
    s3.pipe_file(f"{BUCKET}/big/a.txt", b"x" * 5000)
    s3.pipe_file(f"{BUCKET}/big/b.txt", (RAW / "brex.flat.txt").read_bytes())
    addr = scheduler.scheduler_address
    argv = ["extract", f"s3://{BUCKET}/big", "--scheduler", addr, "-q", "--max-bytes", "4000"]
    assert main([*argv, "-o", str(tmp_path / "run")]) == 1
    assert capsys.readouterr().err == "s3://guides/big/a.txt: GP904 file is 5000 bytes, over --max-bytes 4000\n"
    s3.pipe_file(f"{BUCKET}/theirs/notes.txt", b"mine")
    assert main([*argv, "-o", f"s3://{BUCKET}/theirs"]) == 2
    assert "GP910" in capsys.readouterr().err
    assert s3.find(f"{BUCKET}/theirs") == [f"{BUCKET}/theirs/notes.txt"]


def test_scheduler_and_url_errors_are_one_line(tmp_path, monkeypatch, capsys):
    """No scheduler at the address (GP922), an unknown URL scheme (GP923), Dask not installed
    (GP920 naming the extra), a URL without --scheduler (GP906): exit 2, one line, nothing written."""
    import guideparse.cluster

    monkeypatch.setattr(guideparse.cluster, "CONNECT_TIMEOUT", "1s")
    out = str(tmp_path / "run")
    cases = [
        (["extract", str(RAW), "-o", out, "--scheduler", f"tcp://127.0.0.1:{_free_port()}"], "GP922 "),
        (["extract", "zz://bucket/raw", "-o", out, "--scheduler", "local:1"], "GP923 "),
        (["extract", "s3://bucket/raw", "-o", out], "GP906 "),
        (["extract", "gs://bucket/raw", "-o", out, "--scheduler", "local:1"], "GP920 "),  # gcsfs not installed
        (["extract", str(RAW), "-o", out, "--scheduler", "local:0"], "GP906 "),
    ]
    for argv, code in cases:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert code in err and len(err.splitlines()) == 1, err
    monkeypatch.setitem(sys.modules, "distributed", None)
    assert main(["extract", str(RAW), "-o", out, "--scheduler", "local:1"]) == 2
    err = capsys.readouterr().err
    assert "GP920 " in err and "pip install 'guideparse[dask]'" in err and len(err.splitlines()) == 1
    assert not os.path.exists(out) and not list(tmp_path.iterdir())


def test_local_runs_never_import_dask(tmp_path):
    """`guideparse --help` and a local extract import neither Dask nor fsspec."""
    code = (
        "import sys; from guideparse.cli import main\n"
        "for argv in (['--help'], ['extract', sys.argv[1], '-o', sys.argv[2], '-q', '--no-cache']):\n"
        "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed', 'fsspec', 's3fs')))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(RAW / "brex.flat.txt"), str(tmp_path / "run")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]" and (tmp_path / "run" / "catalog.jsonl").exists()


def test_sharded_run_is_read_by_every_reader(tmp_path, scheduler, monkeypatch, capsys):
    """`--sharded`: workers' part files, listed in the manifest, whose concatenation is the local
    run's files; diff, review, accept, runs, lint, export and the source lines read it as they
    read a local run."""
    from guideparse.fsio import is_run_folder
    from guideparse.store import load_run

    shutil.copytree(RAW, tmp_path / "raw")
    monkeypatch.chdir(tmp_path)
    assert main(["extract", "-q", "--no-cache"]) == 0 and main(["accept"]) == 0
    local = Path("out/latest").resolve()
    addr = scheduler.scheduler_address
    assert main(["extract", "--scheduler", addr, "--batch-size", "8", "--sharded", "-q"]) == 0
    sharded = Path("out/latest").resolve()
    manifest = json.loads((sharded / "manifest.json").read_bytes())
    assert len(manifest["parts"]["documents"]) == 9 and len(manifest["parts"]["catalog"]) == 6
    for kind in ("documents", "catalog"):
        joined = b"".join((sharded / name).read_bytes() for name in manifest["parts"][kind])
        assert joined == (local / f"{kind}.jsonl").read_bytes()
        assert not (sharded / f"{kind}.jsonl").exists()
    assert _files(sharded / "records") == _files(local / "records")
    assert is_run_folder(sharded) and load_run(sharded).documents == load_run(local).documents
    slug = "brex"
    assert load_run(sharded).source_lines(slug, "quick_facts") == load_run(local).source_lines(slug, "quick_facts")
    capsys.readouterr()
    assert main(["diff", "--format", "json"]) == 0  # out/latest (sharded) against the baseline
    assert main(["diff", str(sharded), str(local), "--format", "json"]) == 0
    capsys.readouterr()
    for argv in (["lint", "{}"], ["export", "{}", "-f", "csv", "-o", "csv-{}", "-q"]):
        outputs = []
        for run, name in ((local, "a"), (sharded, "b")):
            main([a.format(run) if a == "{}" else a.replace("{}", name) for a in argv])
            outputs.append(capsys.readouterr().out)
        assert outputs[0].replace(str(local), "RUN") == outputs[1].replace(str(sharded), "RUN"), argv
    assert _files(Path("csv-a")) == _files(Path("csv-b"))
    assert main(["runs", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert len(listed["runs"] if isinstance(listed, dict) else listed) == 2
    # A changed scrape, extracted sharded, reviewed app by app and accepted: the baseline follows.
    (tmp_path / "raw" / "emma.flat.txt").unlink()
    assert main(["extract", "--scheduler", addr, "--batch-size", "8", "--sharded", "-q"]) == 0
    monkeypatch.setattr("builtins.input", lambda _prompt="": "a")
    assert main(["review"]) == 0 and "loses 1 app (emma)" in capsys.readouterr().err
    assert main(["diff", "--format", "json"]) == 0
    assert main(["accept"]) == 0 and is_run_folder(Path("out/baseline"))
    assert "parts" in json.loads(Path("out/baseline/manifest.json").read_bytes())


def test_is_run_folder_refuses_stray_files_in_parts(tmp_path):
    """A sharded run's documents/ and catalog/ hold part files only: anything else there, and
    the folder is not a run (so --out will not replace it)."""
    from guideparse.fsio import is_run_folder

    run = tmp_path / "run"
    (run / "documents").mkdir(parents=True)
    (run / "manifest.json").write_text('{"tool": "guideparse"}')
    (run / "documents" / "part-00000.jsonl").write_text("")
    assert is_run_folder(run)
    (run / "documents" / "notes.txt").write_text("mine")
    assert not is_run_folder(run)
    assert main(["extract", str(RAW / "brex.flat.txt"), "-o", str(run), "-q", "--no-cache"]) == 2
    assert (run / "documents" / "notes.txt").read_text() == "mine"


def test_worker_killed_mid_run_costs_only_time(tmp_path, scheduler):
    """A worker process killed (SIGKILL) after the first batch is done: Dask reruns its tasks
    and the lost results, the nanny starts a new worker, and the run is the local run."""
    import signal

    from distributed import Client

    from guideparse.cluster_run import extract_on_cluster
    from guideparse.run import extract_many

    extract_many([str(RAW)], tmp_path / "local", use_cache=False)
    with Client(scheduler) as client:
        pids = sorted(client.run(os.getpid).values())
    killed: list[int] = []

    def kill_once(done: int, total: int) -> None:
        if not killed:
            os.kill(pids[0], signal.SIGKILL)
            killed.append(done)

    out = tmp_path / "dask"
    result = extract_on_cluster(
        [str(RAW)], str(out), scheduler=scheduler.scheduler_address, batch_size=4, on_progress=kill_once
    )
    assert killed and killed[0] < 71 and result.failed == 0
    assert_same_run(_files(tmp_path / "local"), _files(out))
    with Client(scheduler) as client:
        client.wait_for_workers(2, timeout=60)  # the nanny's new worker (the next tests keep two)


@pytest.mark.parametrize("where", ["local", "s3"])
def test_stopped_run_leaves_out_as_it_was(tmp_path, scheduler, s3, where):
    """Ctrl-C (KeyboardInterrupt) after the first batch: --out keeps the earlier run byte for
    byte, no work folder or temporary prefix is left, no task goes on writing."""
    import time

    from guideparse.cluster_run import extract_on_cluster

    addr = scheduler.scheduler_address
    out = str(tmp_path / "run") if where == "local" else f"s3://{BUCKET}/stopped/run"
    first = extract_on_cluster([str(RAW / "brex.flat.txt")], out, scheduler=addr)
    assert first.failed == 0

    def snapshot() -> dict[str, bytes]:
        if where == "local":
            return {str(p.relative_to(tmp_path)): p.read_bytes() for p in sorted(tmp_path.rglob("*")) if p.is_file()}
        s3.invalidate_cache()
        return {k: s3.cat_file(k) for k in s3.find(f"{BUCKET}/stopped")}

    before = snapshot()
    assert any(k.endswith("manifest.json") for k in before)

    def interrupt(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        extract_on_cluster([str(RAW)], out, scheduler=addr, batch_size=4, on_progress=interrupt)
    time.sleep(0.5)  # a task still writing would show now
    assert snapshot() == before
