"""Run folders on disk: load one, find a value's source lines, keep the accepted baseline."""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from .errors import GuideparseError
from .paths import under

BASELINE = Path("out") / "baseline"
LATEST = Path("out") / "latest"


@dataclass
class LoadedRun:
    path: Path
    manifest: dict[str, Any]
    catalog: dict[str, dict]  # slug -> catalog entry
    _sources: dict[str, dict[int, str] | None] = field(default_factory=dict)

    @property
    def meta(self) -> dict[str, Any]:
        m = self.manifest
        return {
            "run": str(self.path),
            "tool_version": m.get("tool_version"),
            "rules_digest": m.get("rules_digest"),
            "started_at": m.get("started_at"),
            "finished_at": m.get("finished_at"),
            "apps": len(self.catalog),
        }

    @cached_property
    def documents(self) -> list[dict]:
        return [d for f in run_files(self.path, self.manifest, "documents") for d in _read_jsonl(f)]

    def documents_of(self, slug: str) -> list[dict]:
        return [d for d in self.documents if d.get("slug") == slug]

    rules: Any = None  # the rules used to render HTML sources (loaded on first need)

    def source_lines(self, slug: str, path: str) -> list[tuple[str, int, str | None]]:
        """(source path, line number, line text or None) behind a value, from the documents'
        provenance; the text when the source file is still there unchanged."""
        out: list[tuple[str, int, str | None]] = []
        for doc in self.documents_of(slug):
            src = doc["source"]["path"]
            spans = [tuple(p["lines"]) for k, p in doc.get("provenance", {}).items() if under(k, path)]
            if not spans:
                continue
            a, b = min(s[0] for s in spans), max(s[1] for s in spans)
            view = self._source_view(src, doc["source"]["sha256"])
            for n in range(a, min(b, a + 4) + 1):
                if view is None or n in view:
                    out.append((src, n, view.get(n) if view else None))
        return out

    def _source_view(self, src: str, sha: str) -> dict[int, str] | None:
        if src not in self._sources:
            view = None
            try:
                from .fsio import read_whole
                from .inputs import DEFAULT_MAX_BYTES

                data = read_whole(src, DEFAULT_MAX_BYTES)[0]  # a regular file (a FIFO would block), size capped
                if hashlib.sha256(data).hexdigest() == sha:
                    from .record import source_view
                    from .rules import load_rules

                    if self.rules is None:
                        self.rules = load_rules()
                    view = source_view(data, src, self.rules)
            except (OSError, GuideparseError):
                view = None
            self._sources[src] = view
        return self._sources[src]


_PART = re.compile(r"part-[0-9]{5}\.jsonl")


def run_files(path: Path, manifest: dict[str, Any], kind: str) -> list[Path]:
    """The files holding a run's `documents` or `catalog`, in order: `<kind>.jsonl`, or in a
    sharded run the parts its manifest lists (`<kind>/part-NNNNN.jsonl`; anything else is GP908)."""
    parts = manifest.get("parts")
    if parts is None:
        return [path / f"{kind}.jsonl"]
    names = parts.get(kind) if isinstance(parts, dict) else None
    if not isinstance(names, list) or not all(
        isinstance(n, str) and n.startswith(kind + "/") and _PART.fullmatch(n[len(kind) + 1 :]) for n in names
    ):
        raise GuideparseError("GP908", f"manifest.json parts.{kind}: not a list of part files", path=str(path))
    return [path / n for n in names]


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """The objects of a JSON-lines file of a run; anything else is one GP908 naming file and line."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO put there would block the open
            raise GuideparseError("GP908", "not a regular file", path=str(path))
        with path.open(encoding="utf-8") as fh:
            for no, line in enumerate(fh, 1):
                if line.strip():
                    yield _object(line, path, no)
    except FileNotFoundError:
        raise GuideparseError("GP908", "not a run folder: missing file", path=str(path)) from None
    except UnicodeDecodeError:
        raise GuideparseError("GP908", "not UTF-8 text", path=str(path)) from None
    except OSError as exc:
        raise GuideparseError("GP908", f"cannot read: {exc.strerror or exc}", path=str(path)) from None


def _object(text: str, path: Path, line: int | None = None) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise GuideparseError("GP908", f"invalid JSON: {exc.msg}", path=str(path), line=line) from None
    except RecursionError:
        raise GuideparseError("GP908", "invalid JSON: nested too deeply", path=str(path), line=line) from None
    if not isinstance(value, dict):
        raise GuideparseError("GP908", "not a JSON object", path=str(path), line=line)
    return value


def load_run(path: str | os.PathLike[str]) -> LoadedRun:
    """Read a run folder's manifest and catalog."""
    p = Path(path)
    if not p.is_dir():
        raise GuideparseError("GP908", "not a run folder", path=str(p))
    try:
        from .fsio import MAX_MANIFEST, read_whole

        data = read_whole(p / "manifest.json", MAX_MANIFEST)[0]  # a regular file (a FIFO would block), capped
        manifest = _object(data.decode("utf-8"), p / "manifest.json")
    except FileNotFoundError:
        raise GuideparseError("GP908", "not a run folder: no manifest.json", path=str(p)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GuideparseError("GP908", f"unreadable manifest.json: {exc}", path=str(p)) from None
    catalog = {}
    for f in run_files(p, manifest, "catalog"):
        for entry in _read_jsonl(f):
            if not isinstance(entry.get("slug"), str):
                raise GuideparseError("GP908", "a catalog entry without a slug", path=str(f))
            catalog[entry["slug"]] = entry
    return LoadedRun(p, manifest, catalog)


def accept_run(run: Path, baseline: Path = BASELINE) -> LoadedRun:
    """Make a run the accepted baseline: a copy (its own files), swapped into place at once."""
    from .fsio import copy_folder, is_run_folder

    src = load_run(run)  # refuse what is not a run folder
    if not is_run_folder(src.path):
        raise GuideparseError("GP908", "not a run folder written by guideparse (other files in it)", path=str(run))
    copy_folder(src.path.resolve(), baseline)
    return load_run(baseline)


def reviewed_documents(baseline: LoadedRun, latest: LoadedRun, accepted: set[str]) -> list[dict]:
    """The documents of the new baseline: latest's for accepted apps, the baseline's for the rest."""
    keep = [d for d in baseline.documents if d.get("slug") not in accepted]
    take = [d for d in latest.documents if d.get("slug") in accepted]
    return sorted(keep + take, key=lambda d: d["source"]["path"])


# --------------------------------------------------------------------------- the runs under out/


@dataclass
class RunInfo:
    """One run folder under out/runs, as `guideparse runs` lists it."""

    path: Path
    started_at: str | None
    inputs: int | None
    ok: int | None
    failed: int | None
    apps: int | None
    latest: bool = False
    baseline: bool = False


def _manifest_bytes(folder: Path) -> bytes | None:
    from .fsio import read_whole

    try:
        return read_whole(folder / "manifest.json", 64 * 1024 * 1024)[0]
    except OSError:
        return None


def _manifest_fields(data: bytes | None) -> dict[str, Any]:
    """A manifest's top level, or {} for what is not one (damaged, too deep): listed, not trusted."""
    try:
        value = json.loads(data) if data else {}
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def _count(counts: dict[str, Any], key: str) -> int | None:
    value = counts.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def list_runs(base: Path = Path("out")) -> list[RunInfo]:
    """The run folders of base/runs, oldest first (by start time), with their counts; which one base/latest
    points at, and which one base/baseline is a copy of (same manifest, byte for byte)."""
    from .fsio import is_run_folder

    runs_dir = base / "runs"
    try:
        names = sorted(os.listdir(runs_dir))
    except FileNotFoundError:
        return []
    latest = os.path.realpath(base / "latest") if os.path.islink(base / "latest") else None
    baseline = _manifest_bytes(base / "baseline")
    out = []
    for name in names:
        folder = runs_dir / name
        if os.path.islink(folder) or not is_run_folder(folder):
            continue  # an empty folder a run reserved, or what guideparse did not write (a link to a run elsewhere)
        data = _manifest_bytes(folder)
        m = _manifest_fields(data)
        counts = m["counts"] if isinstance(m.get("counts"), dict) else {}
        started = m["started_at"] if isinstance(m.get("started_at"), str) else None
        inputs, ok, failed, apps = (_count(counts, k) for k in ("inputs", "ok", "failed", "apps"))
        info = RunInfo(folder, started, inputs, ok, failed, apps)
        info.latest = latest is not None and os.path.realpath(folder) == latest
        info.baseline = baseline is not None and data == baseline
        out.append(info)
    return sorted(out, key=lambda r: (r.started_at or "", r.path.name))


def prune_runs(base: Path = Path("out"), keep: int = 10) -> list[Path]:
    """Remove all but the `keep` newest run folders of base/runs; never the one base/latest
    points at nor the one the baseline was copied from, never a folder that is not a
    guideparse run. Returns the folders removed."""
    from .fsio import is_run_folder, remove_path

    runs = list_runs(base)
    old = runs[: max(len(runs) - keep, 0)]
    removed = []
    for info in old:
        if info.latest or info.baseline or not is_run_folder(info.path):
            continue
        remove_path(info.path)
        removed.append(info.path)
    return removed
