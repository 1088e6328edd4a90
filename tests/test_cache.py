"""The result cache: verified before use, never shared with a run, bounded, and optional."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from conftest import RAW
from guideparse.cache import ResultCache, decode_entry, parse_size
from guideparse.cli import main


def _files(d: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file() and p.name != "manifest.json"
    }


def _entries(cache: Path) -> list[Path]:
    return sorted(cache.glob("results/*/*/*.gpr"))


def _held(entries: list[Path]) -> int:
    """The bytes the entries hold: each pack once, however many of its links are listed."""
    return sum({(st := p.stat()).st_ino: st.st_size for p in entries}.values())


def _extract(out: Path, *args: str) -> int:
    return main(["extract", str(RAW), "-o", str(out), "-q", *args])


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> dict[str, bytes]:
    """The files of a run of the corpus without the cache: what every cached run must equal."""
    out = tmp_path_factory.mktemp("clean") / "run"
    assert _extract(out, "--no-cache") == 0
    return _files(out)


def test_parse_size():
    assert parse_size("4096") == 4096
    assert parse_size("500M") == 500 << 20
    assert parse_size("1.5GB") == 3 << 29
    assert parse_size("2gib") == 2 << 30
    with pytest.raises(ValueError, match="not a size"):
        parse_size("lots")


@pytest.mark.parametrize("damage", ["garble", "truncate", "empty", "swap", "relink", "index"])
def test_damaged_cache_files_change_no_output_byte(tmp_path, capsys, damage, clean):
    """Every entry of every pack garbled (a byte flipped), every pack cut short or emptied, its
    bytes swapped with another pack's, the entries' names linked to other packs, or the
    indexes' offsets shifted: the run is byte-identical to a run without cache, with one
    warning line, and every entry reads back afterwards (the damaged ones written again)."""
    from guideparse.cache import pack_index, result_version
    from guideparse.rules import load_rules

    cache = tmp_path / "cache"
    assert _extract(tmp_path / "fill", "--cache-dir", str(cache)) == 0
    entries = _entries(cache)
    assert len(entries) == len(list(RAW.glob("*.txt")))
    packs = list({p.stat().st_ino: p for p in entries}.values())
    blobs = [p.read_bytes() for p in packs]
    assert len(packs) > 1
    for i, p in enumerate(packs):
        data = blobs[i]
        if damage == "garble":
            for e in entries:
                if e.stat().st_ino == p.stat().st_ino:
                    start, length = pack_index(data, e.name.removesuffix(".gpr"))
                    k = start + length // 2
                    data = data[:k] + bytes([data[k] ^ 0x20]) + data[k + 1 :]
        elif damage == "truncate":
            data = data[: len(data) // 2]
        elif damage == "empty":
            data = b""
        elif damage == "swap":
            data = blobs[(i + 1) % len(blobs)]
        elif damage == "index":
            data = data.replace(b" 0 ", b" 1 ", 1)  # the first entry's start, one byte on
        with open(p, "r+b") as fh:  # in place: every link of the pack sees it
            fh.write(data)
            fh.truncate()
    if damage == "relink":
        for a, b in zip(entries, [*entries[1:], entries[0]], strict=True):
            os.link(a, b.with_suffix(".new"))
        for b in entries:
            b.with_suffix(".new").replace(b)  # each name now links another entry's pack
    capsys.readouterr()
    assert main(["extract", str(RAW), "-o", str(tmp_path / "again"), "--cache-dir", str(cache)]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert _files(tmp_path / "again") == clean
    assert len([line for line in err if "digest check" in line]) == 1, err
    now = ResultCache(cache, result_version(load_rules().digest))
    assert all(now.get(e.name.removesuffix(".gpr"))[0] is not None for e in _entries(cache))


def test_entry_decoding_refuses_anything_not_written_by_the_cache():
    from guideparse.cache import CachedResult, encode_entry

    key = "ab" * 32
    result = CachedResult("brex", b'{"d":1}\n', b'{"a":1}\n', b'{\n  "a": 1\n}\n', "tok")
    good = encode_entry(key, "v1", result)
    assert decode_entry(good, key, "v1") == result
    assert decode_entry(good, "cd" * 32, "v1") is None  # the same entry under another key
    assert decode_entry(good, key, "v2") is None  # or copied into another version's folder
    assert decode_entry(good.replace(b" brex ", b" xerb "), key, "v1") is None
    assert decode_entry(b"GPR1" + good[4:], key, "v1") is None  # compressed bytes called raw
    assert decode_entry(b"", key, "v1") is None
    assert decode_entry(b"GPZ1 x y z 1 2 3\n", key, "v1") is None
    assert decode_entry(b"GPR1 " + b"0" * 64 + b" s t 1 1 0\nxx", key, "v1") is None
    assert decode_entry(os.urandom(300), key, "v1") is None


def test_an_entry_holds_all_three_renderings_and_none_may_be_empty():
    """The record is stored, not derived from the catalog line (60 us a cached guide): any bytes
    come back as written, even a line orjson could not read back; an entry with an empty part
    is not one guideparse wrote, so it is a miss."""
    from guideparse.cache import CachedResult, encode_entry

    key = "ab" * 32
    big = CachedResult("brex", b'{"d":1}\n', b'{"seats":' + str(2**70).encode() + b"}\n", b"{\n}\n", "tok")
    assert decode_entry(encode_entry(key, "v1", big), key, "v1") == big
    for empty in ({"document": b""}, {"entry": b""}, {"record": b""}):
        result = CachedResult(**{**big.__dict__, **empty})
        assert decode_entry(encode_entry(key, "v1", result), key, "v1") is None


def test_editing_a_run_changes_neither_cache_nor_later_runs(tmp_path, clean):
    """Whatever a user does to a run folder (rewrite in place, same size or not) reaches
    neither the cache nor the next cached run, which equals a run without the cache."""
    cache = tmp_path / "cache"
    assert _extract(tmp_path / "a", "--cache-dir", str(cache)) == 0
    before = {p: p.read_bytes() for p in _entries(cache)}
    run = tmp_path / "a"
    for p in [run / "catalog.jsonl", run / "documents.jsonl", *sorted((run / "records").iterdir())]:
        data = p.read_bytes()
        with open(p, "r+b") as fh:  # in place, same size, as root or not
            fh.write(data[:10].upper())
        with open(p, "ab") as fh:
            fh.write(b"appended by hand\n")
    assert {p: p.read_bytes() for p in _entries(cache)} == before
    assert _extract(tmp_path / "b", "--cache-dir", str(cache)) == 0
    assert _files(tmp_path / "b") == clean


def test_run_files_are_the_users_own(tmp_path):
    """No file of a run shares an inode with the cache or another run (the cache's entries are
    links to its packs: they share theirs among themselves only); every file is writable and
    follows the umask."""
    cache = tmp_path / "cache"
    old = os.umask(0o027)
    try:
        assert _extract(tmp_path / "a", "--cache-dir", str(cache)) == 0
        assert _extract(tmp_path / "b", "--cache-dir", str(cache)) == 0
    finally:
        os.umask(old)
    inodes: dict[tuple[int, int], Path] = {}
    packs = {(p.stat().st_dev, p.stat().st_ino) for p in _entries(cache)}
    assert len(packs) < len(_entries(cache))  # the chunks' packs
    for p in [*tmp_path.rglob("*")]:
        st = p.lstat()
        if cache in p.parents:
            continue
        if p.is_file():
            assert st.st_nlink == 1, p
            assert (st.st_dev, st.st_ino) not in inodes and (st.st_dev, st.st_ino) not in packs
            inodes[(st.st_dev, st.st_ino)] = p
        assert st.st_mode & 0o777 == (0o750 if p.is_dir() else 0o640), p
    for p in (tmp_path / "b").rglob("*.json*"):
        p.write_text("{}", encoding="utf-8")  # an ordinary rewrite, as pandas' to_json does


def test_cache_on_a_full_disk_costs_only_the_cache(tmp_path, capsys, monkeypatch, clean):
    """Every cache write fails with ENOSPC (the folder itself is fine): the run is complete and
    equal to a run without the cache, with one warning line."""

    def full(self, results):
        raise OSError(errno.ENOSPC, "No space left on device", str(self.entry_path(results[0][0])))

    monkeypatch.setattr(ResultCache, "put_many", full)
    capsys.readouterr()
    assert main(["extract", str(RAW), "-o", str(tmp_path / "r"), "--cache-dir", str(tmp_path / "c"), "-j", "1"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2, err  # the warning and the summary
    assert "cache not written (No space left on device); the run is complete" in err[0]
    assert _files(tmp_path / "r") == clean


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("mount"), reason="mounting a tmpfs needs root")
def test_cache_on_a_real_full_tmpfs(tmp_path, capsys, clean):
    """The cache folder on a 64 KiB tmpfs: it fills within the first entries; the run is complete."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)]).returncode != 0:
        pytest.skip("tmpfs mount refused here")
    try:
        capsys.readouterr()
        assert main(["extract", str(RAW), "-o", str(tmp_path / "r"), "--cache-dir", str(mnt), "-j", "2"]) == 0
        err = capsys.readouterr().err
        assert "No space left on device" in err and "the run is complete" in err
        assert _files(tmp_path / "r") == clean
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_a_folder_of_other_files_is_never_used_as_cache(tmp_path, capsys):
    """--cache-dir naming a folder that holds the user's files: not used (one note), not touched."""
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me", encoding="utf-8")
    assert main(["extract", str(RAW / "brex.flat.txt"), "-o", str(tmp_path / "r"), "--cache-dir", str(mine)]) == 0
    assert "cache not used" in capsys.readouterr().err
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]
    assert main(["cache", "clear", "--cache-dir", str(mine)]) == 2
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]


@pytest.mark.parametrize("what", ["file", "device"])
def test_a_cache_dir_that_is_no_folder_is_said_so(tmp_path, capsys, what):
    """--cache-dir naming a file or /dev/null: the run is complete, one note says it is no folder."""
    target = Path("/dev/null") if what == "device" else tmp_path / "notes.txt"
    if what == "file":
        target.write_text("keep me", encoding="utf-8")
    assert main(["extract", str(RAW / "brex.flat.txt"), "-o", str(tmp_path / "r"), "--cache-dir", str(target)]) == 0
    assert f"cache not used: {target} is not a folder" in capsys.readouterr().err
    assert main(["cache", "info", "--cache-dir", str(target)]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert what == "device" or target.read_text(encoding="utf-8") == "keep me"


def test_another_tools_cache_folder_is_not_ours(tmp_path, capsys):
    """A folder tagged by another tool (the same CACHEDIR.TAG signature) is neither used nor cleared."""
    other = tmp_path / ".mypy_cache"
    (other / "results").mkdir(parents=True)
    (other / "results" / "keep.json").write_text("{}", encoding="utf-8")
    (other / "CACHEDIR.TAG").write_text("Signature: 8a477f597d28d172789f06886806bc55\n# mypy\n", encoding="utf-8")
    before = sorted(p.relative_to(other) for p in other.rglob("*"))
    assert main(["extract", str(RAW / "brex.flat.txt"), "-o", str(tmp_path / "r"), "--cache-dir", str(other)]) == 0
    assert "cache not used" in capsys.readouterr().err
    assert main(["cache", "clear", "--cache-dir", str(other)]) == 2
    assert sorted(p.relative_to(other) for p in other.rglob("*")) == before


def test_a_cache_overlapping_the_run_is_not_used(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["extract", str(RAW / "brex.flat.txt"), "-o", str(out), "--cache-dir", str(out / "cache")]) == 0
    assert "overlap" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["catalog.jsonl", "documents.jsonl", "manifest.json", "records"]


def test_cache_info_prune_and_clear(tmp_path, capsys):
    cache = tmp_path / "cache"
    assert main(["cache", "info", "--cache-dir", str(cache)]) == 0  # no cache yet: empty, nothing created
    assert "0 entries" in capsys.readouterr().out and not cache.exists()
    assert _extract(tmp_path / "r", "--cache-dir", str(cache)) == 0
    n = len(_entries(cache))
    assert main(["cache", "info", "--cache-dir", str(cache)]) == 0
    out = capsys.readouterr().out
    assert f"{n} entries" in out and "(current rules and code)" in out and str(cache) in out
    size = _held(_entries(cache))
    assert main(["cache", "prune", "--cache-dir", str(cache), "--max-size", str(size // 2)]) == 0
    assert "dropped" in capsys.readouterr().err
    left = _entries(cache)
    assert 0 < len(left) < n and _held(left) <= size // 2
    (cache / "index.sqlite3").write_bytes(b"an earlier layout")
    (cache / "my-notes.txt").write_text("not the cache's", encoding="utf-8")
    assert main(["cache", "clear", "--cache-dir", str(cache)]) == 0
    assert sorted(p.name for p in cache.iterdir()) == ["CACHEDIR.TAG", "my-notes.txt"]
    assert main(["cache", "prune", "--cache-dir", str(cache), "--max-size", "lots"]) == 2
    assert _extract(tmp_path / "r2", "--cache-dir", str(cache)) == 0  # fills it again
    assert _extract(tmp_path / "r3", "--cache-dir", str(cache), "--cache-max-size", "0") == 0  # all cached: no growth
    assert _entries(cache) == []  # a size given is applied after every run


def test_cache_stays_under_its_limit_dropping_least_recently_used(tmp_path):
    """Filled past its limit run after run, the cache keeps under it, and what it drops is what
    was used longest ago: an old entry used again survives newer ones left unused."""
    cache = tmp_path / "cache"
    seed = (RAW / "brex.flat.txt").read_text(encoding="utf-8")
    limit = [1 << 30]

    def batch(name: str, n: int) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        for i in range(n):
            (folder / f"{i}.txt").write_text(seed.replace("Brex", f"Brex {uuid.uuid4().hex[:6]}"), encoding="utf-8")
        return folder

    def run(folder: Path) -> None:
        assert (
            main(
                [
                    "extract",
                    str(folder),
                    "-o",
                    str(tmp_path / f"out-{uuid.uuid4().hex[:6]}"),
                    "--cache-dir",
                    str(cache),
                    "-q",
                    "--cache-max-size",
                    str(limit[0]),
                ]
            )
            == 0
        )
        assert _held(_entries(cache)) <= limit[0]

    def shas(folder: Path) -> set[str]:
        import hashlib

        return {hashlib.sha256(p.read_bytes()).hexdigest() + ".gpr" for p in folder.iterdir()}

    first, second = batch("first", 4), batch("second", 4)
    run(first)
    limit[0] = int(_held(_entries(cache)) / 4 * 10.5)  # room for ten entries (the first run's pack holds four)
    for p in _entries(cache):  # written two hours ago
        os.utime(p, (p.stat().st_atime - 7200, p.stat().st_mtime - 7200))
    run(second)
    run(first)  # used again now
    for n in range(2):  # 4 + 4 + 3 + 3 entries: the four least recently used must go
        run(batch(f"more{n}", 3))
    kept = {p.name for p in _entries(cache)}
    assert shas(first) <= kept and not shas(second) & kept


def test_the_cache_is_listed_only_when_its_estimated_size_nears_the_limit(tmp_path):
    """results/SIZE holds the size at the last listing plus what runs added since; a run lists
    (and prunes) the cache only when that passes half the limit, or when the file is missing
    or garbled, and a listing puts the true size back."""
    cache, seed = tmp_path / "cache", (RAW / "brex.flat.txt").read_text(encoding="utf-8")
    estimate = cache / "results" / "SIZE"

    def run(*texts: str, limit: str = "1G") -> None:
        folder = tmp_path / f"in-{uuid.uuid4().hex[:6]}"
        folder.mkdir()
        for i, text in enumerate(texts):
            (folder / f"{i}.txt").write_text(text, encoding="utf-8")
        out = tmp_path / f"out-{uuid.uuid4().hex[:6]}"
        assert (
            main(["extract", str(folder), "-o", str(out), "--cache-dir", str(cache), "-q", "--cache-max-size", limit])
            == 0
        )

    def held() -> int:
        return _held(_entries(cache))

    run(seed.replace("Brex", "Brex One"))  # a new cache: listed
    assert int(estimate.read_bytes()) == held()
    _entries(cache)[0].unlink()  # deleted by hand: the estimate does not know
    before = int(estimate.read_bytes())
    run(seed.replace("Brex", "Brex Two"))  # far under the limit: not listed, the addition counted
    assert int(estimate.read_bytes()) == before + held() > held()
    estimate.write_bytes(b"garbled\n")
    run(seed.replace("Brex", "Brex Three"))
    assert int(estimate.read_bytes()) == held()  # listed: the true size again
    estimate.write_bytes(b"%d\n" % (1 << 29))  # past half of 1 GiB: listed
    run(seed.replace("Brex", "Brex Four"))
    assert int(estimate.read_bytes()) == held()
    _entries(cache)[0].unlink()
    run(seed.replace("Brex", "Brex Five"), limit=str(held() * 2 + 2))  # the addition reaches half the limit
    assert int(estimate.read_bytes()) == held()  # listed: the entry deleted by hand is not counted
    assert main(["cache", "clear", "--cache-dir", str(cache)]) == 0
    assert not estimate.exists() and not (cache / "results").exists()


def test_a_pack_with_an_index_longer_than_its_first_read(tmp_path):
    """Entries are read back from a pack of any size: its index past the first 4 KiB read, an
    entry inside that read or past it; a key the pack does not list is a failed check."""
    from guideparse.cache import CachedResult

    cache = ResultCache(tmp_path / "cache", "v1")
    results = [
        (f"{i:064x}", CachedResult(f"app-{i}", b'{"d":%d}\n' % i, b"{}\n", b"{\n}\n", "tok")) for i in range(100)
    ]
    size = cache.put_many(results)
    assert size == _held(_entries(tmp_path / "cache")) and len(_entries(tmp_path / "cache")) == 100
    for sha, result in results:
        assert cache.get(sha) == (result, False)
    stray = "00" + "f" * 62  # a name in the same shard linked to a pack that does not list it
    os.link(cache.entry_path(results[0][0]), cache.entry_path(stray))
    assert cache.get(stray) == (None, True)
    assert cache.get("cd" * 32) == (None, False)


def test_a_file_system_without_hard_links_keeps_each_entry_as_its_own_pack(tmp_path, monkeypatch, clean):
    """link(2) refused as FAT refuses it (EPERM, a patched call: no FAT here): every entry is
    written as a pack of one, read back as any other, and the cached run equals a run
    without the cache."""
    import guideparse.fsio

    def refused(src, dst, *args, **kwargs):
        raise PermissionError(errno.EPERM, "Operation not permitted", dst)

    monkeypatch.setattr(guideparse.fsio.os, "link", refused)
    cache = tmp_path / "cache"
    assert _extract(tmp_path / "a", "--cache-dir", str(cache), "-j", "1") == 0
    entries = _entries(cache)
    assert len(entries) == len(list(RAW.glob("*.txt"))) == len({p.stat().st_ino for p in entries})
    from guideparse import extract_many

    again = extract_many(RAW, tmp_path / "b", jobs=1, cache_dir=cache)
    assert again.cached == len(entries) and not again.notes
    assert _files(tmp_path / "b") == clean
