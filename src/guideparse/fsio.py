"""Writing files safely: the one atomic writer, work folders, swapping a folder into place.

Everything guideparse writes goes through here. A file is written under a temporary
name and renamed over its target; a run is built in a hidden work folder beside its
destination and exchanged with it in one step, so a reader (or a kill at any moment)
sees the old folder or the new one, never a mix and never nothing. Files and folders
are created with the umask's permissions, as any other tool's output.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import itertools
import json
import os
import re
import secrets
import shutil
import socket
import stat
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from .errors import GuideparseError

#: What a run folder written by guideparse holds; a folder holding anything else is not replaced.
MAX_MANIFEST = 64 * 1024 * 1024  # a run's manifest.json is read at most this far
RUN_ENTRIES = frozenset({"manifest.json", "documents.jsonl", "catalog.jsonl", "records", "documents", "catalog"})
_FOLDERS = ("records", "documents", "catalog")  # records/<slug>.json; a sharded run's <kind>/part-NNNNN.jsonl


_PID = os.getpid()  # this process's id, kept current across forks (os.getpid() is a system call)
_SERIAL = itertools.count()


def _forked() -> None:
    global _PID, _SERIAL
    _PID, _SERIAL = os.getpid(), itertools.count()


os.register_at_fork(after_in_child=_forked)


@contextlib.contextmanager
def open_regular(path: str | os.PathLike[str]) -> Iterator[tuple[int, os.stat_result]]:
    """A file opened for reading (its descriptor and its stat taken on the open file); OSError
    when it is not a regular file. Non-blocking: a FIFO put in its place cannot hang a read."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", os.fspath(path))
        yield fd, st
    finally:
        os.close(fd)


def read_whole(path: str | os.PathLike[str], limit: int) -> tuple[bytes, os.stat_result]:
    """A file's bytes (at most limit + 1 of them: more means too large) and its stat taken on
    the open file. Few system calls: thousands of small files are read per run."""
    with open_regular(path) as (fd, st):
        data = os.read(fd, min(st.st_size, limit) + 1)
        if len(data) == st.st_size + 1 and len(data) <= limit:  # it grew since the stat: read on
            data += os.read(fd, limit + 1 - len(data))
        return data, st


def write_atomic(path: str | os.PathLike[str], data: bytes, *, direct: bool = False) -> None:
    """Create or replace a file with these bytes: written under a temporary name beside it,
    then renamed over it, so no reader sees half a file and no other name of the old file
    (a link elsewhere) is written through.

    `direct`: a name still free is written in place, without the temporary name and the
    rename (thousands of records a run), for a file nobody reads until its folder is swapped
    into place. A name taken is replaced as usual."""
    path = os.fspath(path)
    if direct:
        try:
            write_new(path, data)
            return
        except FileExistsError:
            pass  # another worker's record of the same app: replace it
    _into_place(path, lambda tmp: write_new(tmp, data))


def temp_name(path: str) -> str:
    """A name beside `path` for this process's work on it: `<path>.<pid>-<serial>.tmp`."""
    return f"{path}.{_PID}-{next(_SERIAL)}.tmp"


def write_new(path: str, data: bytes) -> None:
    """Create a file that must not exist yet (FileExistsError) with these bytes; on any
    failure (a full disk) no file is left under the name."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    try:
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
    except BaseException:
        _unlink_quietly(path)
        raise


def link_atomic(target: str, path: str) -> None:
    """Give the file `target` the name `path`, replacing whatever had it in one step."""
    try:
        os.link(target, path)
    except FileExistsError:
        _into_place(path, lambda tmp: os.link(target, tmp))


def _into_place(path: str, make: Callable[[str], None]) -> None:
    """`make` a file under a free temporary name beside `path`, then rename it over `path`."""
    while True:
        tmp = temp_name(path)
        try:
            make(tmp)
            break
        except FileExistsError:  # left by a dead process that had this pid
            continue
    try:
        os.replace(tmp, path)
    except BaseException:
        _unlink_quietly(tmp)
        raise


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def pwrite_all(fd: int, data: bytes, at: int) -> None:
    """All of `data` at offset `at` of an open file (os.pwrite may write less than asked)."""
    view = memoryview(data)
    while view:
        n = os.pwrite(fd, view, at)
        view, at = view[n:], at + n


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


_HOST = re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:32] or "host"
_WORK_NAME = re.compile(
    r"\.(?P<dest>.+)\.guideparse-(?P<kind>tmp|old)-(?P<host>[A-Za-z0-9]+)-(?P<pid>[0-9]{1,10})-[0-9a-f]{8}"
)


def new_work_folder(dest: Path, kind: str = "tmp") -> Path:
    """A new hidden folder beside `dest` for this process
    (".<name>.guideparse-<kind>-<host>-<pid>-<random>"), made with the umask's permissions.

    First, what processes of this host that no longer run (killed, crashed) left beside it
    is dealt with: their work folders removed, and a run they had moved aside to replace it
    put back where it was if nothing took its place. An interrupted run costs its own work,
    never the previous run, nor disk space for good."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    recover_work_folders(dest.parent)
    while True:
        folder = dest.parent / f".{dest.name}.guideparse-{kind}-{_HOST}-{_PID}-{secrets.token_hex(4)}"
        try:
            folder.mkdir(mode=0o777)
            return folder
        except FileExistsError:
            continue


def recover_work_folders(parent: Path) -> None:
    """Remove the work folders of dead processes of this host in `parent`; restore a run one
    of them had moved aside (the two-rename swap) when its place is still empty."""
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        m = _WORK_NAME.fullmatch(name)
        if m is None or m["host"] != _HOST or _running(int(m["pid"])):
            continue
        left = parent / name
        try:
            if m["kind"] == "old" and not os.path.lexists(parent / m["dest"]):
                os.rename(left, parent / m["dest"])  # the previous run, back where it was
            else:
                remove_path(left)
        except OSError:
            continue  # another process got there first


def _running(pid: int) -> bool:
    if pid == _PID:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # someone else's process (or not a pid: leave it alone)
    return True


def remove_path(path: Path) -> None:
    """Remove a file, link or folder tree (what is already gone is no error)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        _unlink_quietly(str(path))


# --------------------------------------------------------------------------- swapping into place

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: str, b: str) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False  # a libc without renameat2 (glibc < 2.28, musl < 1.2.3)
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False  # a file system that cannot exchange
    raise OSError(err, os.strerror(err), b)


def swap_into_place(tmp: Path, dest: Path, replaceable: Callable[[Path], bool] | None = None) -> None:
    """Put the finished folder `tmp` (same parent) at `dest`.

    With an existing `dest`, the two are exchanged atomically: a kill at any point leaves
    `dest` old or new, never missing (the next run removes the leftover). What the exchange
    took away is removed only if it is still a run or empty (or what `replaceable` accepts:
    an export folder); if someone put other files there meanwhile, the exchange is undone
    and GP910 raised. Where the system cannot exchange, two renames (see rename_aside_then_in)."""
    if not os.path.lexists(dest):
        os.rename(tmp, dest)
        return
    if not _exchange(str(tmp), str(dest)):
        rename_aside_then_in(tmp, dest)
        return
    if not (replaceable or _replaceable)(tmp):
        _exchange(str(tmp), str(dest))
        raise GuideparseError("GP910", "refusing to replace it: it changed during the run", path=str(dest))
    remove_path(tmp)


def rename_aside_then_in(tmp: Path, dest: Path) -> None:
    """The fallback swap: `dest` moved aside under a work-folder name, `tmp` renamed in, the
    old one removed. A failure in between puts the old one back; a kill in between leaves it
    aside, and the next run's new_work_folder puts it back."""
    aside = new_work_folder(dest, "old")
    aside.rmdir()
    os.rename(dest, aside)
    try:
        os.rename(tmp, dest)
    except BaseException:
        os.rename(aside, dest)
        raise
    remove_path(aside)


def _replaceable(path: Path) -> bool:
    try:
        return not os.listdir(path) or is_run_folder(path)
    except OSError:
        return False


def point_latest(base: Path, run_dir: Path) -> None:
    """Make base/latest a relative symlink to the run, replaced atomically (see check_latest)."""
    link = base / "latest"
    tmp = base / f".latest.guideparse-tmp-{_HOST}-{_PID}-{secrets.token_hex(4)}"
    tmp.symlink_to(os.path.relpath(run_dir, base))
    try:
        os.replace(tmp, link)
    except BaseException:
        _unlink_quietly(str(tmp))
        raise


def check_latest(base: Path) -> None:
    """Refuse (GP910) before a run when base/latest exists and is not a symlink: replacing it
    would destroy what is not ours."""
    link = base / "latest"
    if os.path.lexists(link) and not link.is_symlink():
        raise GuideparseError("GP910", "refusing to replace it: it is not the symlink guideparse makes", path=str(link))
    recover_work_folders(base)


@contextlib.contextmanager
def replacing(dest: Path, inputs: Iterable[str] = ()) -> Iterator[Path]:
    """Build what replaces `dest` (new, empty or a run: check_output_target) in a work folder
    beside it, yielded; when the block ends, the folder is swapped into place; on any error it
    is removed and `dest` stays as it was. Every run folder and baseline is written this way."""
    check_output_target(dest, inputs)
    tmp = new_work_folder(dest)
    try:
        yield tmp
        swap_into_place(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def copy_folder(src: Path, dest: Path) -> None:
    """Replace `dest` (new, empty or a run) with a copy of folder `src` (copies, never links:
    the copy is its own)."""
    with replacing(Path(os.path.abspath(dest)), [str(src)]) as tmp:
        shutil.copytree(src, tmp, dirs_exist_ok=True, symlinks=False)


# --------------------------------------------------------------------------- what --out may name


_RECORD_NAME = re.compile(r"[a-z0-9-]+\.json")
_PART_NAME = re.compile(r"part-[0-9]{5}\.jsonl")


def is_run_folder(path: Path) -> bool:
    """A folder written by guideparse and holding nothing else: its manifest says so, its
    files are regular files, records/ holds only record files, and a sharded run's documents/
    and catalog/ only part files. The manifest is read only when it is a regular file, at most
    MAX_MANIFEST bytes (a FIFO or /dev/zero put there neither blocks nor fills memory)."""
    try:
        names = set(os.listdir(path))
        if not names <= RUN_ENTRIES or any(not stat.S_ISREG(os.lstat(path / n).st_mode) for n in names - set(_FOLDERS)):
            return False
        manifest = json.loads(read_whole(path / "manifest.json", MAX_MANIFEST)[0])
        if not (isinstance(manifest, dict) and manifest.get("tool") == "guideparse"):
            return False
        return all(_only(path / n, _RECORD_NAME if n == "records" else _PART_NAME) for n in names & set(_FOLDERS))
    except (OSError, ValueError, RecursionError):
        return False


def inside_a_run(path: Path) -> Path | None:
    """The run folder (a run, out/baseline) that `path` is or lies in, if any: writing there
    would make it stop being one."""
    real = Path(os.path.realpath(path))
    for folder in (real, *real.parents):
        if folder.is_dir() and is_run_folder(folder):
            return folder
    return None


def check_report_target(dest: Path, looks_ours: Callable[[bytes], bool]) -> None:
    """A report file (`diff --output`) may be a new path, or a file an earlier report wrote
    (`looks_ours` on its first bytes); never a file of anything else, nor a path in a run."""
    run = inside_a_run(dest.parent if not dest.exists() else dest)
    reason = f"it lies inside the run folder {run}" if run is not None else None
    if reason is None and os.path.lexists(dest):
        try:
            head = read_whole(dest, 1 << 20)[0][:4096]
        except OSError as exc:
            head, reason = b"", f"it is not a regular file one can read ({exc.strerror or exc})"
        if reason is None and head and not looks_ours(head):
            reason = "the file is not an earlier guideparse report (pick a new path)"
    if reason is not None:
        raise GuideparseError("GP910", f"refusing to write the report here: {reason}", path=str(dest))


def _only(folder: Path, name: re.Pattern[str]) -> bool:
    """A real folder holding only regular files with such names."""
    if os.path.islink(folder):
        return False
    with os.scandir(folder) as it:
        return all(name.fullmatch(e.name) and e.is_file(follow_symlinks=False) for e in it)


def check_output_target(out: Path, inputs: Iterable[str]) -> None:
    """Refuse an output path whose replacement would destroy what is not a guideparse run:
    a regular file, a symlink, a folder with other files, `/`, the current folder or one
    holding it, or a folder holding an input. Raises GP910; nothing is touched."""
    reason = _unsafe_output_reason(out, inputs)
    if reason is not None:
        raise GuideparseError("GP910", f"refusing to write the run here: {reason}", path=str(out))


def _unsafe_output_reason(out: Path, inputs: Iterable[str]) -> str | None:
    if not os.path.lexists(out):
        above = next((p for p in out.parents if os.path.lexists(p)), None)
        if above is not None and not above.is_dir():
            return f"{above} is not a folder"
        return None
    if out.is_symlink():
        return "it is a symlink (name the folder itself)"
    if not out.is_dir():
        return "it is not a folder (a run is a folder; pick a new path)"
    return foreign_folder_reason(out, is_run_folder, "a guideparse run", inputs)


def foreign_folder_reason(
    folder: Path, is_ours: Callable[[Path], bool], what: str, inputs: Iterable[str] = ()
) -> str | None:
    """Why an existing folder may not be replaced by a new one of ours (None: it may): the root,
    one holding the current folder or an input, or one holding files that are not `what` (is_ours)."""
    real = os.path.realpath(folder)
    if real == os.path.dirname(real):
        return "it is the root folder"
    if holds(real, os.path.realpath(os.getcwd())):
        return "it is or holds the current folder"
    for given in inputs:
        if holds(real, os.path.realpath(given)):
            return f"it is or holds the input {given}"
    try:
        if os.listdir(folder) and not is_ours(folder):
            return f"the folder holds files that are not {what} (pick a new or empty folder)"
    except OSError as exc:
        return f"it cannot be read ({exc.strerror or exc})"
    return None


def holds(folder: str, path: str) -> bool:
    """Whether `path` is `folder` or lies under it (both real paths)."""
    return os.path.commonpath([folder, path]) == folder
