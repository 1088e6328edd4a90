"""Stage 7: two catalogs -> what changed, content only.

Apps are matched by slug; list items by identity (IdP name, table title, plan
name, constraint title, situation, related app, sub-heading; see
`paths.IDENTITY`), never by position. Lists without an identity (paragraphs,
bullets) are aligned as sequences, so an inserted paragraph is one addition, not
a cascade of changes. Sources, hashes, formats, warnings, provenance and times
are not content. An item added or removed is one change at the item's path.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from .paths import IDENTITY, Segment, content_only, format_path, identity, parse_path

Kind = Literal["added", "removed", "changed"]
Status = Literal["added", "removed", "changed", "unchanged"]


class Change(BaseModel):
    """One change: `path` is the string form of `path_segments` (paths.format_path); a change
    made with `path` alone gets its segments from it (paths.parse_path)."""

    path: str
    path_segments: list[Segment] = Field(default_factory=list)
    kind: Kind
    old: Any = None
    new: Any = None

    @model_validator(mode="after")
    def _segments_from_path(self) -> Change:
        if self.path and not self.path_segments:
            self.path_segments = parse_path(self.path)
        return self


def _change(path: Sequence[Segment], kind: Kind, old: Any = None, new: Any = None) -> Change:
    return Change(path=format_path(path), path_segments=list(path), kind=kind, old=old, new=new)


class AppDiff(BaseModel):
    slug: str
    app: str | None
    status: Status
    changes: list[Change] = Field(default_factory=list)


class DiffReport(BaseModel):
    old: dict[str, Any]
    new: dict[str, Any]
    summary: dict[str, int]
    apps: list[AppDiff]

    @property
    def has_changes(self) -> bool:
        return any(a.status != "unchanged" for a in self.apps)


def content(entry: dict) -> dict:
    """The part of a catalog entry that is content."""
    return content_only(entry)


def _keyed(field: str, items: list) -> dict[str, Any] | None:
    """Items by identity, or None when the list has no (unique) identity."""
    keys = [identity(field, x) for x in items]
    if field not in IDENTITY or any(k is None for k in keys) or len(set(keys)) != len(keys):
        return None
    return {str(k): x for k, x in zip(keys, items, strict=True)}


def diff_values(old: Any, new: Any, path: Sequence[Segment] = (), field: str = "") -> list[Change]:
    """Changes turning `old` into `new`, addressed by field paths (segments below `path`)."""
    if old == new:
        return []
    if old is None:
        return [_change(path, "added", new=new)]
    if new is None:
        return [_change(path, "removed", old=old)]
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[Change] = []
        for k in list(old) + [k for k in new if k not in old]:
            out.extend(diff_values(old.get(k), new.get(k), (*path, k), k))
        return out
    if isinstance(old, list) and isinstance(new, list):
        ko, kn = _keyed(field, old), _keyed(field, new)
        if ko is not None and kn is not None:
            out = []
            for k in list(ko) + [k for k in kn if k not in ko]:
                out.extend(diff_values(ko.get(k), kn.get(k), (*path, {IDENTITY[field]: k}), field))
            return out
        return _diff_sequence(old, new, path, field)
    return [_change(path, "changed", old, new)]


def _diff_sequence(old: list, new: list, path: Sequence[Segment], field: str) -> list[Change]:
    """Align two lists without identities; paths index the old list for removals, the new one otherwise."""
    if not old or not new:
        return [_change(path, "changed", old, new)]
    enc = [json.dumps(x, sort_keys=True, ensure_ascii=False) for x in old]
    enn = [json.dumps(x, sort_keys=True, ensure_ascii=False) for x in new]
    out: list[Change] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=enc, b=enn, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        pairs = min(i2 - i1, j2 - j1) if op == "replace" else 0
        for n in range(pairs):
            out.extend(diff_values(old[i1 + n], new[j1 + n], (*path, j1 + n), field))
        for i in range(i1 + pairs, i2):
            out.append(_change((*path, i), "removed", old=old[i]))
        for j in range(j1 + pairs, j2):
            out.append(_change((*path, j), "added", new=new[j]))
    return out


def diff_catalogs(
    old: dict[str, dict],
    new: dict[str, dict],
    old_meta: dict[str, Any] | None = None,
    new_meta: dict[str, Any] | None = None,
) -> DiffReport:
    """Compare two catalogs (slug -> catalog entry as JSON)."""
    apps: list[AppDiff] = []
    for slug in sorted(set(old) | set(new)):
        a, b = old.get(slug), new.get(slug)
        name = (b or a or {}).get("app")
        if a is None:
            apps.append(AppDiff(slug=slug, app=name, status="added"))
        elif b is None:
            apps.append(AppDiff(slug=slug, app=name, status="removed"))
        else:
            changes = diff_values(content(a), content(b))
            apps.append(AppDiff(slug=slug, app=name, status="changed" if changes else "unchanged", changes=changes))
    summary = {s: sum(1 for x in apps if x.status == s) for s in ("added", "removed", "changed", "unchanged")}
    return DiffReport(old=old_meta or {}, new=new_meta or {}, summary=summary, apps=apps)
