"""Stage 6: inputs -> run folder. The only module besides cli.py that touches files.

A run is written to a temporary folder beside its destination and moved into
place at the end, so an interrupted run never leaves a half-written folder.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

from . import __version__
from .catalog import build_catalog
from .errors import GuideparseError, InputError
from .models import DocumentRecord, InputStatus, Manifest
from .record import extract_document
from .rules import Rules

INPUT_SUFFIXES = (".txt", ".md", ".html", ".htm")
DEFAULT_MAX_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class InputFile:
    shown: str            # the path as given (joined under a given folder)
    path: Path
    root: Path | None     # the folder it was found in, for the symlink check


@dataclass
class RunResult:
    out_dir: Path
    documents: list[DocumentRecord]
    statuses: list[InputStatus]
    seconds: float
    failures: list[GuideparseError] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return sum(1 for s in self.statuses if s.status == "failed")


def collect_inputs(inputs: Iterable[str]) -> list[InputFile]:
    """Files as given, and guide files found by recursing into given folders."""
    found: dict[str, InputFile] = {}
    for given in inputs:
        p = Path(given)
        if p.is_dir():
            for dirpath, dirnames, filenames in os.walk(p, followlinks=False):
                dirnames.sort()
                for name in sorted(filenames):
                    if name.lower().endswith(INPUT_SUFFIXES) and not name.startswith("."):
                        shown = os.path.join(dirpath, name)
                        found[shown] = InputFile(shown, Path(shown), p)
        else:
            found[given] = InputFile(given, p, None)
    return [found[k] for k in sorted(found)]


def read_input(f: InputFile, max_bytes: int) -> bytes:
    """Read one input's bytes, refusing what must not be read."""
    try:
        if f.root is not None and f.path.is_symlink():
            target = f.path.resolve()
            root = f.root.resolve()
            if root not in target.parents:
                raise InputError("GP907", f"symlink leads outside the input folder (to {target})", path=f.shown)
        st = f.path.stat()
        if not f.path.is_file():
            raise InputError("GP905", "not a regular file", path=f.shown)
        if st.st_size > max_bytes:
            raise InputError("GP904", f"file is {st.st_size} bytes, over --max-bytes {max_bytes}", path=f.shown)
        with f.path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise InputError("GP904", f"file grew over --max-bytes {max_bytes} while read", path=f.shown)
        return data
    except FileNotFoundError:
        raise InputError("GP905", "file not found", path=f.shown) from None
    except PermissionError:
        raise InputError("GP905", "permission denied", path=f.shown) from None
    except IsADirectoryError:
        raise InputError("GP905", "is a directory", path=f.shown) from None
    except OSError as exc:
        raise InputError("GP905", f"cannot read: {exc.strerror or exc}", path=f.shown) from None


def extract_one(f: InputFile, rules: Rules, max_bytes: int) -> tuple[DocumentRecord | None, InputStatus, GuideparseError | None]:
    """Extract one input; any failure costs this input only."""
    data: bytes | None = None
    try:
        data = read_input(f, max_bytes)
        doc = extract_document(data, f.shown, rules)
        return doc, InputStatus(path=f.shown, sha256=doc.source.sha256, bytes=len(data), status="ok"), None
    except GuideparseError as exc:
        err = exc
    except Exception as exc:  # a bug must cost one input, not the batch
        err = InputError("GP999", f"internal error: {type(exc).__name__}: {exc}", path=f.shown)
    sha = hashlib.sha256(data).hexdigest() if data is not None else None
    status = InputStatus(path=f.shown, sha256=sha, bytes=len(data) if data is not None else None,
                         status="failed", error=f"{err.code} {err.message}", error_code=err.code)
    return None, status, err


# --------------------------------------------------------------------------- writing

def dumps_line(obj: dict) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def dumps_pretty(obj: dict) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2) + "\n"


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def default_run_dir(base: Path) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    d = base / "runs" / stamp
    n = 1
    while d.exists():
        d = base / "runs" / f"{stamp}-{n}"
        n += 1
    return d


def safe_record_name(slug: str) -> str:
    """A slug is [a-z0-9-]; anything else can never become a path."""
    if not slug or any(c not in "abcdefghijklmnopqrstuvwxyz0123456789-" for c in slug):
        return "invalid-" + hashlib.sha256(slug.encode()).hexdigest()[:12]
    return slug


def write_run(out_dir: Path, documents: list[DocumentRecord], manifest: Manifest) -> None:
    """Write the run folder into a temporary sibling, then move it into place."""
    out_dir = out_dir.absolute()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        docs = sorted(documents, key=lambda d: d.source.path)
        with (tmp / "documents.jsonl").open("w", encoding="utf-8", newline="\n") as fh:
            for d in docs:
                fh.write(dumps_line(d.model_dump(mode="json")) + "\n")
        (tmp / "records").mkdir()
        with (tmp / "catalog.jsonl").open("w", encoding="utf-8", newline="\n") as fh:
            for entry in build_catalog(docs):
                data = entry.model_dump(mode="json", exclude={"provenance"})
                fh.write(dumps_line(data) + "\n")
                (tmp / "records" / f"{safe_record_name(entry.slug)}.json").write_text(
                    dumps_pretty(data), encoding="utf-8", newline="\n")
        (tmp / "manifest.json").write_text(dumps_pretty(manifest.model_dump(mode="json")), encoding="utf-8",
                                           newline="\n")
        move_into_place(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def move_into_place(tmp: Path, dest: Path) -> None:
    """Replace `dest` with the finished folder `tmp` (same parent): rename, never copy."""
    if dest.exists() or dest.is_symlink():
        old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.old-", dir=dest.parent))
        old.rmdir()
        os.replace(dest, old)
        os.replace(tmp, dest)
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink()
    else:
        os.replace(tmp, dest)


def point_latest(base: Path, run_dir: Path) -> None:
    """Make base/latest a relative symlink to the run, replaced atomically."""
    link = base / "latest"
    tmp = base / f".latest.tmp-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(os.path.relpath(run_dir, base))
    os.replace(tmp, link)


def run_extract(
    inputs: list[str],
    rules: Rules,
    out_dir: Path,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    on_failure: Callable[[GuideparseError], None] | None = None,
) -> RunResult:
    """Extract every input and write one run folder."""
    started = utc_now()
    t0 = time.perf_counter()
    files = collect_inputs(inputs)
    documents: list[DocumentRecord] = []
    statuses: list[InputStatus] = []
    failures: list[GuideparseError] = []
    for f in files:
        doc, status, err = extract_one(f, rules, max_bytes)
        statuses.append(status)
        if doc is not None:
            documents.append(doc)
        if err is not None:
            failures.append(err)
            if on_failure is not None:
                on_failure(err)
    statuses.sort(key=lambda s: s.path)
    ok = sum(1 for s in statuses if s.status == "ok")
    manifest = Manifest(
        tool_version=__version__, rules_digest=rules.digest, rules_dir=str(rules.directory),
        started_at=started, finished_at=utc_now(),
        counts={"inputs": len(statuses), "ok": ok, "failed": len(statuses) - ok,
                "apps": len({d.slug for d in documents})},
        inputs=statuses,
    )
    write_run(out_dir, documents, manifest)
    return RunResult(out_dir, documents, statuses, time.perf_counter() - t0, failures)
