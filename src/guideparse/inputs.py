"""Finding, statting and refusing inputs: what may be read, and its bytes.

Every refusal is an InputError naming the file and the reason, so one bad input
costs itself only. A file is refused from its `stat` before any read where it can
be (not a regular file, too large, a symlink leading out of its folder or in a loop).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass

from .errors import InputError
from .fsio import read_whole

INPUT_SUFFIXES = (".txt", ".md", ".html", ".htm")
DEFAULT_MAX_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class InputFile:
    """One input as the run will name it."""

    shown: str  # the path as given (joined under a given folder), valid UTF-8; a terminal gets printable.shown(it)
    root: str | None  # the folder it was found in, for the symlink check
    name_error: str | None = None  # why its name cannot be shown as it is (then it is not read)


def collect_inputs(inputs: Iterable[str]) -> list[InputFile]:
    """Files as given, and guide files found by recursing into given folders; sorted by path."""
    found: dict[str, InputFile] = {}
    for given in inputs:
        files = _walk(given) if os.path.isdir(given) else [_input_file(given, None)]
        for f in files:  # one file given twice (`raw` and `./raw/x.txt`) is one input, named as first met
            found.setdefault(os.path.normpath(f.shown), f)
    return sorted(found.values(), key=lambda f: f.shown)


def _walk(folder: str) -> Iterable[InputFile]:
    """Guide files under a folder (symlinked folders are not followed; hidden files skipped).
    A subfolder that cannot be listed is an input that fails (its guides would go unseen)."""
    unlisted: list[OSError] = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False, onerror=unlisted.append):
        dirnames.sort()
        for name in dirnames:  # a linked folder is not followed: said, not skipped in silence
            path = os.path.join(dirpath, name)
            if os.path.islink(path) and not name.startswith("."):
                yield InputFile(path, folder, "a symlinked folder is not followed; give its target as an input")
        for name in sorted(filenames):
            if name.lower().endswith(INPUT_SUFFIXES) and not name.startswith("."):
                yield _input_file(os.path.join(dirpath, name), folder)
    for exc in unlisted:
        shown = os.fsdecode(exc.filename) if exc.filename is not None else folder
        reason = os_input_error(exc, shown).message
        yield InputFile(shown, folder, f"folder cannot be listed: {reason}; its guides were not read")


def _input_file(path: str, root: str | None) -> InputFile:
    try:
        path.encode("utf-8")
        return InputFile(path, root)
    except UnicodeEncodeError:  # bytes that are not UTF-8 in a name (Python keeps them as surrogates)
        shown = os.fsencode(path).decode("utf-8", "backslashreplace")
        return InputFile(shown, root, "file name is not valid UTF-8; rename the file")


def check_input(f: InputFile, max_bytes: int) -> os.stat_result:
    """Refuse what must not be read (a name that is not text, a symlink out of its folder or
    in a loop, not a regular file, too big) by one or two stat calls."""
    if f.name_error is not None:
        raise InputError("GP905", f.name_error, path=f.shown)
    try:
        st = os.lstat(f.shown)
        if stat.S_ISLNK(st.st_mode):
            _check_link(f)
            st = os.stat(f.shown)
    except OSError as exc:
        raise os_input_error(exc, f.shown) from None
    if not stat.S_ISREG(st.st_mode):
        raise InputError("GP905", "not a regular file", path=f.shown)
    if st.st_size > max_bytes:
        raise InputError("GP904", f"file is {st.st_size} bytes, over --max-bytes {max_bytes}", path=f.shown)
    return st


def _check_link(f: InputFile) -> None:
    """A symlink found in a folder must stay inside it (realpath never raises on loops:
    the stat that follows reports them)."""
    if f.root is None:
        return
    target = os.path.realpath(f.shown)
    root = os.path.realpath(f.root)
    if os.path.commonpath([root, target]) != root:
        raise InputError("GP907", f"symlink leads outside the input folder (to {target})", path=f.shown)


def read_input(f: InputFile, max_bytes: int) -> bytes:
    """One input's bytes, refusing what must not be read."""
    check_input(f, max_bytes)
    try:
        data, _ = read_whole(f.shown, max_bytes)
    except OSError as exc:
        raise os_input_error(exc, f.shown) from None
    if len(data) > max_bytes:
        raise InputError("GP904", f"file grew over --max-bytes {max_bytes} while read", path=f.shown)
    return data


def os_input_error(exc: OSError, shown: str) -> InputError:
    """An OSError met reading an input, as the one-line reason a user can act on."""
    reasons = {
        errno.ENOENT: "file not found",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.EISDIR: "is a directory",
        errno.ELOOP: "symlink loop",
    }
    reason = reasons.get(exc.errno or 0) or f"cannot read: {exc.strerror or exc}"
    return InputError("GP905", reason, path=shown)
