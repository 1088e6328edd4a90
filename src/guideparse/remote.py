"""Inputs and outputs by URL, through fsspec: `s3://bucket/prefix/`, `gs://…`, `file://…`.

A plain path or a `file://` URL is a local path and goes through `inputs`/`fsio` as in a
local run; anything else is opened with the fsspec backend of its scheme. Credentials and
endpoints come from each backend's usual environment and configuration (for S3: the AWS
variables and files, `AWS_ENDPOINT_URL` for another server); guideparse passes no storage
options of its own, so nothing secret is ever in its arguments, a run folder or a log.
fsspec and the backends are imported on first use.
"""

from __future__ import annotations

import errno
import os
import posixpath
from dataclasses import dataclass
from typing import Any

from .errors import GuideparseError, InputError
from .inputs import INPUT_SUFFIXES, os_input_error

EXTRA = "pip install 'guideparse[dask]'"


def local_path(text: str) -> str | None:
    """The local path a plain path or `file://` URL names; None for any other URL."""
    if text.startswith("file://"):
        return text[len("file://") :] or "/"
    return None if "://" in text else text


def filesystem(url: str) -> tuple[Any, str]:
    """The fsspec filesystem of a URL and the path inside it. GP923: an unknown scheme;
    GP920: its backend not installed."""
    try:
        import fsspec
    except ImportError:
        raise GuideparseError("GP920", f"reading URLs needs fsspec: {EXTRA}", path=url) from None
    scheme = url.split("://", 1)[0]
    try:
        fs, path = fsspec.core.url_to_fs(url)
    except ValueError:
        raise GuideparseError("GP923", f"unknown URL scheme {scheme}://", path=url) from None
    except ImportError as exc:
        hint = EXTRA if scheme in ("s3", "s3a") else "pip install the fsspec backend it names"
        raise GuideparseError("GP920", f"{scheme}:// needs its fsspec backend ({exc}): {hint}", path=url) from None
    return fs, path


@dataclass(frozen=True)
class Listed:
    """One input found at a URL, with its size from the listing."""

    shown: str  # its URL
    size: int


def list_url(url: str) -> list[Listed]:
    """The guide files at a URL (an object, or every guide under a prefix; hidden names
    skipped), sorted by URL. GP905: nothing there."""
    fs, path = filesystem(url)
    scheme = url.split("://", 1)[0]
    try:
        found = fs.find(path.rstrip("/"), detail=True, withdirs=False)
        if not found and fs.isfile(path):
            found = {path: fs.info(path)}
    except OSError as exc:
        raise GuideparseError("GP905", f"cannot list: {exc.strerror or exc}", path=url) from None
    if not found:
        raise GuideparseError("GP905", "no such file or folder", path=url)
    single = len(found) == 1 and path.rstrip("/") in found
    out = []
    for key, info in found.items():
        name = posixpath.basename(key)
        if single or (name.lower().endswith(INPUT_SUFFIXES) and not name.startswith(".")):
            out.append(Listed(f"{scheme}://{key}", int(info.get("size") or 0)))
    return sorted(out, key=lambda f: f.shown)


def read_url(f: Listed, max_bytes: int) -> bytes:
    """An input's bytes: refused by its listed size before any read, then read up to the limit."""
    if f.size > max_bytes:
        raise InputError("GP904", f"file is {f.size} bytes, over --max-bytes {max_bytes}", path=f.shown)
    fs, path = filesystem(f.shown)
    try:
        with fs.open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        if isinstance(exc, FileNotFoundError) and exc.errno is None:
            exc.errno = errno.ENOENT
        raise os_input_error(exc, f.shown) from None
    if len(data) > max_bytes:
        raise InputError("GP904", f"file grew over --max-bytes {max_bytes} while read", path=f.shown)
    return data


def join(base: str, *names: str) -> str:
    """A path or URL under `base`."""
    return posixpath.join(base, *names) if "://" in base else os.path.join(base, *names)


def put(target: str, data: bytes) -> None:
    """Write a file (a local path: atomically, fsio) or an object."""
    if "://" not in target:
        from .fsio import write_atomic

        write_atomic(target, data)
        return
    fs, path = filesystem(target)
    fs.pipe_file(path, data)


def put_many(files: dict[str, bytes]) -> None:
    """Write many files under one base: objects in concurrent requests (one `pipe` call: an
    object store's latency is paid once per batch, not once per record)."""
    local = {t: d for t, d in files.items() if "://" not in t}
    for target, data in local.items():
        put(target, data)
    remote = {t: d for t, d in files.items() if "://" in t}
    if remote:
        fs, _ = filesystem(next(iter(remote)))
        fs.pipe({filesystem(t)[1]: d for t, d in remote.items()})


def get(target: str) -> bytes:
    """A file's or an object's bytes."""
    if "://" not in target:
        with open(target, "rb") as fh:
            return fh.read()
    fs, path = filesystem(target)
    return bytes(fs.cat_file(path))


# --------------------------------------------------------------------------- a run under a URL

_PART = r"part-[0-9]{5}\.jsonl"


def run_entry(name: str) -> bool:
    """Whether a name relative to a run folder is one guideparse writes there."""
    import re

    return name in ("manifest.json", "documents.jsonl", "catalog.jsonl") or bool(
        re.fullmatch(rf"records/[a-z0-9-]+\.json|documents/{_PART}|catalog/{_PART}", name)
    )


def _names(fs: Any, path: str) -> list[str]:
    """The files under a folder or prefix, relative to it (listed afresh: workers wrote them)."""
    root = path.rstrip("/")
    fs.invalidate_cache()
    return sorted(k[len(root) + 1 :] for k in fs.find(root, withdirs=False) if k.startswith(root + "/"))


def check_remote_target(url: str) -> None:
    """GP910 unless the URL holds nothing or a guideparse run (nothing else)."""
    import json

    fs, path = filesystem(url)
    names = _names(fs, path)
    if not names:
        return
    try:
        manifest = json.loads(fs.cat_file(path.rstrip("/") + "/manifest.json"))
        ours = isinstance(manifest, dict) and manifest.get("tool") == "guideparse"
    except (OSError, ValueError):
        ours = False
    if not ours or not all(run_entry(n) for n in names):
        reason = "the prefix holds objects that are not a guideparse run (pick a new or empty prefix)"
        raise GuideparseError("GP910", f"refusing to write the run here: {reason}", path=url)


def temporary_prefix(url: str) -> str:
    """A new prefix beside `url` for a run's work: `.<name>.guideparse-tmp-<random>`."""
    import secrets

    parent, name = posixpath.split(url.rstrip("/"))
    return f"{parent}/.{name}.guideparse-tmp-{secrets.token_hex(6)}"


def commit(tmp: str, url: str) -> None:
    """Put a finished run written under `tmp` at `url`: every file copied in, what the previous
    run had and this one has not removed, the manifest last (object stores have no rename: the
    manifest is the commit), then `tmp` removed."""
    fs, src = filesystem(tmp)
    _, dest = filesystem(url)
    src, dest = src.rstrip("/"), dest.rstrip("/")
    new = _names(fs, src)
    old = _names(fs, dest)
    files = [n for n in new if n != "manifest.json"]
    if files:  # one call: the backend copies concurrently (server-side on S3)
        fs.copy([f"{src}/{n}" for n in files], [f"{dest}/{n}" for n in files])
    stale = [f"{dest}/{n}" for n in old if n not in set(new) and run_entry(n)]
    if stale:
        fs.rm(stale)
    fs.copy(f"{src}/manifest.json", f"{dest}/manifest.json")
    discard(tmp)


def discard(tmp: str) -> None:
    """Remove a run's temporary prefix (what is already gone is no error)."""
    fs, path = filesystem(tmp)
    try:
        fs.rm(path.rstrip("/"), recursive=True)
    except (FileNotFoundError, OSError):
        pass
