"""Writing files safely: the one atomic writer, work folders, swapping a folder into place.

Everything guideparse writes goes through here. A file is written under a temporary
name and renamed over its target; a run is built in a hidden work folder beside its
destination and exchanged with it in one step, so a reader (or a kill at any moment)
sees the old folder or the new one, never a mix and never nothing. Files and folders
are created with the umask's permissions, as any other tool's output.
"""

from __future__ import annotations

import ctypes
import errno
import itertools
import json
import os
import secrets
import shutil
import sys
from collections.abc import Iterable
from pathlib import Path

from .errors import GuideparseError

#: What a run folder written by guideparse holds; a folder holding anything else is not replaced.
RUN_ENTRIES = frozenset({"manifest.json", "documents.jsonl", "catalog.jsonl", "records"})


_PID = os.getpid()  # this process's id, kept current across forks (os.getpid() is a system call)
_SERIAL = itertools.count()


def _forked() -> None:
    global _PID, _SERIAL
    _PID, _SERIAL = os.getpid(), itertools.count()


os.register_at_fork(after_in_child=_forked)


def read_whole(path: str | os.PathLike[str], limit: int) -> tuple[bytes, os.stat_result]:
    """A file's bytes (at most limit + 1 of them: more means too large) and its stat taken on
    the open file. Few system calls: thousands of small files are read per run."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        data = os.read(fd, min(st.st_size, limit) + 1)
        if len(data) == st.st_size + 1 and len(data) <= limit:  # it grew since the stat: read on
            data += os.read(fd, limit + 1 - len(data))
        return data, st
    finally:
        os.close(fd)


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Create or replace a file with these bytes: written under a temporary name beside it,
    then renamed over it, so no reader sees half a file and no other name of the old file
    (a link elsewhere) is written through."""
    path = os.fspath(path)
    while True:
        tmp = f"{path}.{_PID}-{next(_SERIAL)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
            break
        except FileExistsError:  # left by a dead process that had this pid
            continue
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        _unlink_quietly(tmp)
        raise


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def new_work_folder(dest: Path, kind: str = "tmp") -> Path:
    """A new hidden folder beside `dest` for this process (".<name>.<kind>-<pid>-<random>").

    Work folders left by processes that no longer run (killed, crashed) are removed
    first: an interrupted run costs its own work, never disk space for good."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{dest.name}.{kind}-"
    for stale in dest.parent.glob(prefix + "*"):
        pid = stale.name[len(prefix) :].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _running(int(pid)):
            remove_path(stale)
    while True:
        folder = dest.parent / f"{prefix}{os.getpid()}-{secrets.token_hex(4)}"
        try:
            folder.mkdir(mode=0o777)  # the umask decides, as for any folder the user makes
            return folder
        except FileExistsError:
            continue


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
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


def swap_into_place(tmp: Path, dest: Path) -> None:
    """Put the finished folder `tmp` (same parent) at `dest`.

    With an existing `dest`, the two are exchanged atomically and the old one, now at
    `tmp`, is removed: a kill at any point leaves `dest` old or new, never missing (a
    leftover work folder is removed by the next run). Where the system cannot exchange,
    two renames: the old folder is moved aside first."""
    if not os.path.lexists(dest):
        os.rename(tmp, dest)
        return
    if _exchange(str(tmp), str(dest)):
        remove_path(tmp)
        return
    rename_aside_then_in(tmp, dest)


def rename_aside_then_in(tmp: Path, dest: Path) -> None:
    """The fallback swap: `dest` moved aside to a work folder name, `tmp` renamed in, the old removed."""
    aside = new_work_folder(dest, "old")
    aside.rmdir()
    os.replace(dest, aside)
    os.replace(tmp, dest)
    remove_path(aside)


def point_latest(base: Path, run_dir: Path) -> None:
    """Make base/latest a relative symlink to the run, replaced atomically."""
    link = base / "latest"
    tmp = base / f".latest.tmp-{os.getpid()}-{secrets.token_hex(4)}"
    tmp.symlink_to(os.path.relpath(run_dir, base))
    try:
        os.replace(tmp, link)
    except BaseException:
        _unlink_quietly(str(tmp))
        raise


def copy_folder(src: Path, dest: Path) -> None:
    """Replace `dest` with a copy of folder `src` (copies, never links: the copy is its own)."""
    dest = dest.absolute()
    tmp = new_work_folder(dest)
    try:
        shutil.copytree(src, tmp, dirs_exist_ok=True, symlinks=False)
        swap_into_place(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


# --------------------------------------------------------------------------- what --out may name


def is_run_folder(path: Path) -> bool:
    """A folder written by guideparse: its manifest says so and it holds nothing else."""
    try:
        names = set(os.listdir(path))
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("tool") == "guideparse" and names <= RUN_ENTRIES


def check_output_target(out: Path, inputs: Iterable[str]) -> None:
    """Refuse an output path whose replacement would destroy what is not a guideparse run:
    a regular file, a symlink, a folder with other files, `/`, the current folder or one
    holding it, or a folder holding an input. Raises GP910; nothing is touched."""
    reason = _unsafe_output_reason(out, inputs)
    if reason is not None:
        raise GuideparseError("GP910", f"refusing to write the run here: {reason}", path=str(out))


def _unsafe_output_reason(out: Path, inputs: Iterable[str]) -> str | None:
    if not os.path.lexists(out):
        return None
    if out.is_symlink():
        return "it is a symlink (name the folder itself)"
    if not out.is_dir():
        return "it is not a folder (a run is a folder; pick a new path)"
    real = os.path.realpath(out)
    if real == os.path.dirname(real):
        return "it is the root folder"
    if _holds(real, os.path.realpath(os.getcwd())):
        return "it is or holds the current folder"
    for given in inputs:
        if _holds(real, os.path.realpath(given)):
            return f"it is or holds the input {given}"
    if os.listdir(out) and not is_run_folder(out):
        return "the folder holds files that are not a guideparse run (pick a new or empty folder)"
    return None


def _holds(folder: str, path: str) -> bool:
    """Whether `path` is `folder` or lies under it (both real paths)."""
    return os.path.commonpath([folder, path]) == folder
