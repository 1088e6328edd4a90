"""The result cache: verified results of extracted inputs, keyed by content.

Under `$XDG_CACHE_HOME/guideparse` (or `--cache-dir`), each result of the current
rules and code is found at `results/<version>/<sha[:2]>/<sha256 of the input>.gpr`.
An entry holds a one-line header (format, digest, slug, path token, the facts a run's
summary counts, lengths) and the
payload: the document line, the catalog line and the pretty record, LZ4-compressed. The
record could be derived from the catalog line (render.reindented), but that costs ~60 us a
cached guide, a fifth of the cached re-run, against ~20% more bytes on disk (README).

A worker writes the entries of a chunk of inputs as one pack file (an index of keys,
offsets and lengths, then the entries) with a hard link per entry as its name: creating a
file costs a file system 25 us to 700 us (ext4 looking for a free inode after deletions),
a link ~10 us. The links of a pack share its storage, its size and its last use (mtime).

Nothing read back is trusted: a payload whose sha256 differs from its header, a
cut or garbled file, is a miss (the input is extracted again and the entry
rewritten), never an output byte. A run never shares a file with the cache: results
are copied out of it. Entries are used least-recently-first dropped once the cache
passes its size limit. The folder is marked with a CACHEDIR.TAG, and guideparse
only ever deletes what it wrote there.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from json.encoder import encode_basestring
from pathlib import Path
from typing import NamedTuple

import lz4.block

from . import __version__, _native
from .fsio import link_atomic, open_regular, read_whole, remove_path, temp_name, write_atomic, write_new

DEFAULT_MAX_SIZE = 1 << 30  # 1 GiB
_TAG_SIGNATURE = "Signature: 8a477f597d28d172789f06886806bc55"
_TAG = f"{_TAG_SIGNATURE}\n# This folder is guideparse's result cache (guideparse cache info | clear).\n"
_MAGIC_RAW, _MAGIC_LZ4 = b"GPR1", b"GPZ1"  # the first field of an entry: its payload as is, or LZ4-compressed
_MAGIC_PACK = b"GPP1"  # the first field of a pack of entries
_PACK_HEAD = 4096  # read first from a pack: its index (a chunk's 32 entries take ~2.8 KB) and more
_MAX_ENTRY = 256 * 1024 * 1024  # a file larger than this is not a cache entry
_TOUCH_AFTER = 3600.0  # an entry's last use is recorded to the hour (its mtime): LRU without a write per hit
_COMPRESS = True  # LZ4: a fifth of the bytes for ~30 us a result (see the README's A/B table)
_ENTRY = re.compile(r"[0-9a-f]{64}\.gpr")
#: What link(2) says on a file system without hard links (FAT: EPERM; others: not supported).
_NO_LINKS = frozenset({errno.EPERM, errno.EXDEV, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS})
_ESTIMATE = "SIZE"  # results/SIZE: the cache's bytes at its last listing plus those runs added since (bound)
_SHARD = re.compile(r"[0-9a-f]{2}")
_VERSION_DIR = re.compile(r"[0-9a-f]{16}")
_LEGACY = ("index.sqlite3", "index.sqlite3-wal", "index.sqlite3-shm", "checked")  # earlier cache layouts


def code_version() -> str:
    """The tool version plus a digest of its code (and whether it runs compiled, _native.py):
    a cached result never outlives an edit."""
    return f"{__version__}+{_native.source_digest()[:12]}{'+native' if _native.ACTIVE else ''}"


#: Packages whose version can change what an input extracts to.
_DEPENDENCIES = (
    "spacy",
    "pydantic",
    "pydantic-core",
    "beautifulsoup4",
    "lxml",
    "soupsieve",
    "pyyaml",
    "google-re2",
    "orjson",
)


def result_version(rules_digest: str) -> str:
    """What a cached result depends on besides its input: the rules, the code, Python and the
    packages extraction uses."""
    from importlib.metadata import PackageNotFoundError, version

    deps = []
    for name in _DEPENDENCIES:
        try:
            deps.append(f"{name}={version(name)}")
        except PackageNotFoundError:
            deps.append(f"{name}=none")
    h = hashlib.sha256(" ".join([sys.version, *deps]).encode()).hexdigest()[:12]
    return f"{rules_digest}:{code_version()}:{h}"


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "guideparse"


def parse_size(text: str) -> int:
    """'500M', '2G', '1.5GB', '4096' -> bytes (powers of 1024)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*", text.lower())
    if m is None:
        raise ValueError(f"not a size: {text!r} (examples: 500M, 2G, 4096)")
    return int(float(m.group(1)) * 1024 ** " kmgt".index(m.group(2) or " "))


def path_json(path: str) -> bytes:
    """A path as the JSON string the serialiser writes (UTF-8, not ASCII-escaped)."""
    return bytes(encode_basestring(path).encode("utf-8"))


def splice_path(text: bytes, token: str, shown: str) -> bytes:
    """Put the real source path wherever a result's path token stands. Tokens are random per
    writing process, so no page can print one; they need no JSON escaping. (Cutting at stored
    places instead of searching saved 12 us a cached guide, ~3% of a cached re-run: dropped.)"""
    return text.replace(path_json(token), path_json(shown))


@dataclass(frozen=True)
class CachedResult:
    """A result as extracted, with `token` standing for the source path."""

    slug: str
    document: bytes  # the documents.jsonl line
    entry: bytes  # the catalog line of the app as if it had this document only
    record: bytes  # that line as records/<slug>.json holds it (indented)
    token: str
    facts: str = "0;"  # what the run's summary counts: truncated (1/0) ';' warning codes (GP302=1,GP203=2)

    def spliced(self, shown: str) -> tuple[bytes, bytes, bytes]:
        """The document line, the catalog line and the record with `shown` as the source path."""
        document, entry, record = (splice_path(t, self.token, shown) for t in (self.document, self.entry, self.record))
        return document, entry, record

    @property
    def truncated(self) -> bool:
        return self.facts.startswith("1")

    @property
    def warning_counts(self) -> dict[str, int]:
        """Warning code -> how many the document has."""
        codes = self.facts.partition(";")[2]
        return {c: int(n) for c, _, n in (x.partition("=") for x in codes.split(",")) if c}


def result_facts(truncated: bool, warning_codes: list[str]) -> str:
    """The facts field of a result (no spaces: it is a header field)."""
    counts: dict[str, int] = {}
    for code in warning_codes:
        counts[code] = counts.get(code, 0) + 1
    return ("1;" if truncated else "0;") + ",".join(f"{c}={n}" for c, n in sorted(counts.items()))


@dataclass
class VersionInfo:
    """The entries of one rules/code version."""

    version: str
    entries: int
    bytes: int
    last_used: float
    current: bool


@dataclass
class CacheInfo:
    location: str
    bytes: int
    entries: int
    versions: list[VersionInfo]
    legacy_bytes: int


class CacheFile(NamedTuple):
    """An entry's name (a link to its pack) and what it shares with its pack's other links."""

    path: Path
    inode: int
    size: int  # the pack's
    used: float  # the pack's last use (mtime)


def _in_shard(path: str, write: Callable[[str], None]) -> None:
    """Name an entry (`write(path)`), making its shard folder for the shard's first entry."""
    try:
        write(path)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        write(path)


def _packs(files: list[CacheFile]) -> dict[int, list[CacheFile]]:
    """The entries grouped by pack (inode): a pack is stored, counted and dropped once."""
    packs: dict[int, list[CacheFile]] = {}
    for f in files:
        packs.setdefault(f.inode, []).append(f)
    return packs


class CacheRefused(Exception):
    """The folder cannot serve as a cache (it holds what guideparse did not write, or no access)."""


class ResultCache:
    """The cache folder; `version` names the rules and code whose results are used."""

    def __init__(self, root: Path, version: str) -> None:
        self.root = root
        self.version = version
        self.results = root / "results"
        self.home = self.results / hashlib.sha256(version.encode()).hexdigest()[:16]
        self._home = str(self.home)

    # ----------------------------------------------------------------- one entry

    def entry_path(self, sha: str) -> str:
        return f"{self._home}/{sha[:2]}/{sha}.gpr"  # a string: pathlib costs ~10 us an entry

    def get(self, sha: str) -> tuple[CachedResult | None, bool]:
        """(the verified result or None, whether an entry was there but failed its check)."""
        path = self.entry_path(sha)
        try:
            blob, st = read_pack_entry(path, sha)
        except OSError:
            return None, False
        result = None if blob is None else decode_entry(blob, sha, self.version)
        if result is None:
            return None, True
        if st.st_mtime < time.time() - _TOUCH_AFTER:
            try:
                os.utime(path)  # used now: among the last to be dropped (with its pack)
            except OSError:
                pass
        return result, False

    def put_many(self, results: list[tuple[str, CachedResult]]) -> int:
        """Keep results (key, result) as one pack, a link per entry; returns the bytes written.
        On a file system without hard links (FAT, some network mounts) each entry is a pack of
        its own. Raises OSError (a full or read-only disk) for the caller to note."""
        if not results:
            return 0
        entries = [(sha, encode_entry(sha, self.version, r)) for sha, r in results]
        data = encode_pack(entries)
        pack, linked, links = self._new_pack(data), 0, True
        written = 0
        try:
            for sha, blob in entries:
                path = self.entry_path(sha)
                if links:
                    try:
                        _in_shard(path, partial(link_atomic, pack))
                        linked += 1
                        continue
                    except OSError as exc:
                        if exc.errno not in _NO_LINKS:
                            raise
                        links = False
                alone = encode_pack([(sha, blob)])
                _in_shard(path, partial(write_atomic, data=alone))
                written += len(alone)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(pack)  # its links hold it
        return written + (len(data) if linked else 0)

    def _new_pack(self, data: bytes) -> str:
        """The pack written under a work name in the version's folder (made, with its VERSION
        file, for the version's first pack)."""
        while True:
            name = temp_name(f"{self._home}/pack")
            try:
                write_new(name, data)
                return name
            except FileExistsError:  # left by a dead process that had this pid
                continue
            except FileNotFoundError:
                os.makedirs(self._home, exist_ok=True)
                if not (self.home / "VERSION").is_file():
                    write_atomic(self.home / "VERSION", self.version.encode() + b"\n")

    # ----------------------------------------------------------------- the whole cache

    def entries(self) -> list[CacheFile]:
        """Every entry (link) of every version, with its pack's inode, size and last use."""
        out = []
        for version in _subdirs(self.results, _VERSION_DIR):
            for shard in _subdirs(version, _SHARD):
                try:
                    with os.scandir(shard) as it:
                        for e in it:
                            if _ENTRY.fullmatch(e.name) and e.is_file(follow_symlinks=False):
                                st = e.stat(follow_symlinks=False)
                                out.append(CacheFile(Path(e.path), st.st_ino, st.st_size, st.st_mtime))
                except OSError:
                    continue  # pruned by another run meanwhile
        return out

    def bound(self, max_size: int, added: int) -> tuple[int, int]:
        """Keep the cache under `max_size` after a run that wrote `added` bytes into it. Listing
        the cache costs ~10 us an entry (0.1 s at 10,000), so it is listed (prune) only when the
        size it had at the last listing plus what runs added since (results/SIZE) passes half
        the limit: runs racing on that file, or files deleted by hand, make it drift by less."""
        estimate = self._estimate()
        if estimate is not None and estimate + added < max_size // 2:
            write_atomic(self.results / _ESTIMATE, b"%d\n" % (estimate + added))
            return 0, 0
        return self.prune(max_size)

    def _estimate(self) -> int | None:
        try:
            data, _ = read_whole(self.results / _ESTIMATE, 32)
            return int(data) if data.endswith(b"\n") and data[:-1].isdigit() else None
        except (OSError, ValueError):
            return None

    def prune(self, max_size: int) -> tuple[int, int]:
        """Drop least recently used entries until the cache holds at most `max_size` bytes,
        and work files of writers that died. Returns (entries dropped, bytes freed)."""
        _drop_stale_tmp(self.results)
        packs = sorted(_packs(self.entries()).values(), key=lambda p: p[0].used)
        total = sum(links[0].size for links in packs)
        dropped = freed = 0
        for links in packs:  # a pack's links go together: its storage is freed with the last
            if total - freed <= max_size:
                break
            for link in links:
                with contextlib.suppress(FileNotFoundError):
                    link.path.unlink()
            dropped, freed = dropped + len(links), freed + links[0].size
        _drop_empty_versions(self.results)
        if self.results.is_dir():
            write_atomic(self.results / _ESTIMATE, b"%d\n" % (total - freed))
        return dropped, freed

    def info(self) -> CacheInfo:
        """Location, size, entries and the versions held (the current one marked)."""
        versions: dict[Path, VersionInfo] = {}
        for links in _packs(self.entries()).values():
            home = links[0].path.parent.parent
            v = versions.get(home)
            if v is None:
                v = versions[home] = VersionInfo(_read_version(home), 0, 0, 0.0, home == self.home)
            v.entries, v.bytes = v.entries + len(links), v.bytes + links[0].size
            v.last_used = max(v.last_used, links[0].used)
        legacy = sum(_tree_size(self.root / name) for name in _legacy_names(self.root))
        held = sorted(versions.values(), key=lambda v: -v.last_used)
        return CacheInfo(
            str(self.root), sum(v.bytes for v in held) + legacy, sum(v.entries for v in held), held, legacy
        )

    def clear(self) -> int:
        """Remove every entry guideparse wrote here (and earlier layouts' files), file by file:
        nothing else in the folder is touched. Returns bytes freed."""
        freed = 0
        for links in _packs(self.entries()).values():
            for link in links:
                with contextlib.suppress(OSError):
                    link.path.unlink()
            freed += links[0].size
        _drop_stale_tmp(self.results, age=0.0)
        _drop_empty_versions(self.results, keep_version_files=False)
        with contextlib.suppress(OSError):
            os.unlink(self.results / _ESTIMATE)
        with contextlib.suppress(OSError):
            self.results.rmdir()
        for name in _legacy_names(self.root):
            freed += _tree_size(self.root / name)
            remove_path(self.root / name)
        return freed


def open_cache(root: Path | None, version: str, *, create: bool = True) -> ResultCache:
    """The cache at `root` (default: $XDG_CACHE_HOME/guideparse), created and tagged if new
    (with `create`; else a missing folder is an empty cache).

    A folder that holds files guideparse did not write is refused (CacheRefused): the
    cache never shares storage with the user's own files."""
    root = (root or default_cache_dir()).absolute()
    tag = root / "CACHEDIR.TAG"
    if not create and not root.exists():
        return ResultCache(root, version)
    if root.exists() and not root.is_dir():
        raise CacheRefused(f"{root} is not a folder; give an empty or new folder")
    try:
        if create:
            root.mkdir(parents=True, exist_ok=True)
        if not _is_ours(root, tag, legacy=root == default_cache_dir().absolute()):
            raise CacheRefused(f"{root} holds files guideparse did not write; give an empty or new folder")
        if create and not tag.is_file():
            write_atomic(tag, _TAG.encode())
    except OSError as exc:
        raise CacheRefused(f"{root}: {exc.strerror or exc}") from None
    return ResultCache(root, version)


def _is_ours(root: Path, tag: Path, legacy: bool) -> bool:
    """A cache folder guideparse made: its tag is ours word for word, or, untagged, it is
    empty or (the default folder only: `legacy`) holds only what earlier cache layouts wrote."""
    try:
        if os.path.lexists(tag):
            return tag.is_file() and not tag.is_symlink() and tag.read_bytes() == _TAG.encode()
        names = os.listdir(root)
    except OSError:
        return False
    return not names or (legacy and all(n in _LEGACY or _is_legacy_version(root / n) for n in names))


# --------------------------------------------------------------------------- entry format


def encode_entry(key: str, version: str, result: CachedResult) -> bytes:
    """An entry file: a header line whose digest covers the key, the version, the header and
    the payload (so an entry copied under another key or version, or with a changed field,
    fails), then the compressed texts."""
    texts = (result.document, result.entry, result.record)
    body = b"".join(texts)
    payload = lz4.block.compress(body, mode="fast") if _COMPRESS else body
    magic = _MAGIC_LZ4 if _COMPRESS else _MAGIC_RAW
    fields = " ".join([result.slug, result.token, result.facts, *(str(len(t)) for t in texts)])
    return magic + f" {_digest(key, version, magic, fields, payload)} {fields}\n".encode("ascii") + payload


def decode_entry(data: bytes, key: str, version: str) -> CachedResult | None:
    """The result an entry holds for `key`, or None when any check fails (cut, garbled, moved, foreign)."""
    head, sep, payload = data.partition(b"\n")
    parts = head.split(b" ")
    if not sep or len(parts) != 8 or parts[0] not in (_MAGIC_RAW, _MAGIC_LZ4):
        return None
    try:
        digest, fields = parts[1].decode("ascii"), b" ".join(parts[2:]).decode("ascii")
        if _digest(key, version, parts[0], fields, payload) != digest:
            return None
        slug, token, facts, *lengths = fields.split(" ")
        n_doc, n_entry, n_record = map(int, lengths)
        body = lz4.block.decompress(payload) if parts[0] == _MAGIC_LZ4 else payload
    except (ValueError, lz4.block.LZ4BlockError):
        return None
    if len(body) != n_doc + n_entry + n_record or not (n_doc and n_entry and n_record):
        return None
    at = n_doc + n_entry
    return CachedResult(slug, body[:n_doc], body[n_doc:at], body[at:], token, facts)


def encode_pack(entries: list[tuple[str, bytes]]) -> bytes:
    """Entries (key, encode_entry's bytes) as one file: a line `GPP1 <n> <index bytes>`, a line
    `<key> <start> <length>` per entry (start counted from the index's end), then the entries."""
    lines, at = [], 0
    for key, blob in entries:
        lines.append(f"{key} {at} {len(blob)}\n")
        at += len(blob)
    index = "".join(lines).encode("ascii")
    return (
        f"{_MAGIC_PACK.decode()} {len(entries)} {len(index)}\n".encode("ascii")
        + index
        + b"".join(b for _, b in entries)
    )


def read_pack_entry(path: str, key: str) -> tuple[bytes | None, os.stat_result]:
    """The bytes of entry `key` in the pack at `path` (None when the pack is cut, garbled or
    does not list it; decode_entry checks the bytes), and the pack's stat. Two reads at most:
    the head with the index, then the entry unless the head holds it. Raises OSError."""
    with open_regular(path) as (fd, st):
        head = os.read(fd, _PACK_HEAD)
        end = _index_end(head)
        if len(head) < end <= min(st.st_size, _MAX_ENTRY):  # an index past the first read
            head += os.read(fd, end - len(head))
        found = _find_in_index(head, end, key)
        if found is None or found[0] + found[1] > st.st_size or found[1] > _MAX_ENTRY:
            return None, st
        start, length = found
        if start + length <= len(head):
            return head[start : start + length], st
        return os.pread(fd, length, start), st


def _index_end(head: bytes) -> int:
    """Where a pack's index ends, by its first line (0 when that line is not a pack's)."""
    first, sep, _ = head[:64].partition(b"\n")
    parts = first.split(b" ")
    if not sep or len(parts) != 3 or parts[0] != _MAGIC_PACK or not (parts[1].isdigit() and parts[2].isdigit()):
        return 0
    return len(first) + 1 + int(parts[2])


def pack_index(head: bytes, key: str) -> tuple[int, int] | None:
    """Where entry `key` is in a pack whose first bytes are `head`: (offset, length), or None
    (not a pack, its index cut or malformed, the key not listed)."""
    return _find_in_index(head, _index_end(head), key)


def _find_in_index(head: bytes, end: int, key: str) -> tuple[int, int] | None:
    """pack_index with the index's end known: one search, not a parse."""
    if not end or end > len(head):
        return None
    name = b"\n" + key.encode("ascii") + b" "  # every index line follows a newline
    at = head.find(name, 0, end)
    if at < 0:
        return None
    line_end = head.find(b"\n", at + 1, end)
    start, _, length = head[at + len(name) : line_end].partition(b" ")
    if line_end < 0 or not (start.isdigit() and length.isdigit()):
        return None
    return end + int(start), int(length)


def _digest(key: str, version: str, magic: bytes, fields: str, payload: bytes) -> str:
    h = hashlib.sha256(f"{key}\0{version}\0{magic.decode('ascii')}\0{fields}\0".encode())
    h.update(payload)
    return h.hexdigest()


# --------------------------------------------------------------------------- folder helpers


def _subdirs(folder: Path, pattern: re.Pattern[str] | None) -> list[Path]:
    try:
        with os.scandir(folder) as it:
            return [
                Path(e.path)
                for e in it
                if e.is_dir(follow_symlinks=False) and (pattern is None or pattern.fullmatch(e.name))
            ]
    except OSError:
        return []


def _read_version(home: Path) -> str:
    try:
        return (home / "VERSION").read_text(encoding="utf-8").strip()
    except OSError:
        return "?"


_TMP = re.compile(r"(?:[0-9a-f]{64}\.gpr|VERSION|SIZE|pack)\.[0-9]+-[0-9]+\.tmp")


def _drop_stale_tmp(results: Path, age: float = 3600.0) -> None:
    """Work files of writers that died mid-write (older than `age` seconds)."""
    cutoff = time.time() - age
    versions = _subdirs(results, _VERSION_DIR)
    for folder in [results, *versions, *(shard for v in versions for shard in _subdirs(v, _SHARD))]:
        with contextlib.suppress(OSError), os.scandir(folder) as it:
            for e in it:
                if _TMP.fullmatch(e.name) and e.stat(follow_symlinks=False).st_mtime < cutoff:
                    os.unlink(e.path)


def _drop_empty_versions(results: Path, keep_version_files: bool = True) -> None:
    """Remove empty shard folders, and version folders left with their VERSION file only
    (rmdir and unlink of our own names: never a tree)."""
    for version in _subdirs(results, _VERSION_DIR):
        for shard in _subdirs(version, _SHARD):
            with contextlib.suppress(OSError):
                shard.rmdir()  # only when empty
        if not _subdirs(version, None) and set(os.listdir(version)) <= {"VERSION"}:
            if keep_version_files and version.stat().st_mtime > time.time() - 600:
                continue  # a run may be about to write its first entry here
            with contextlib.suppress(OSError):
                (version / "VERSION").unlink(missing_ok=True)
                version.rmdir()


def _legacy_names(root: Path) -> list[str]:
    """Files of earlier cache layouts in this cache folder (an SQLite index, pack folders)."""
    names = [n for n in _LEGACY if os.path.lexists(root / n)]
    return names + [p.name for p in _subdirs(root, _VERSION_DIR) if _is_legacy_version(p)]


def _is_legacy_version(folder: Path) -> bool:
    """A rules/code version folder of the earlier layout: packs, records and kept runs only."""
    try:
        return bool(_VERSION_DIR.fullmatch(folder.name)) and set(os.listdir(folder)) <= {"packs", "records", "runs"}
    except OSError:
        return False


def _tree_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    total = 0
    for dirpath, _, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(dirpath, f)).st_size
            except OSError:
                pass
    return total
