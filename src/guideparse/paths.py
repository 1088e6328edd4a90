"""Field paths, the one addressing scheme for provenance, `explain` and diffs.

A path is a list of segments; its string form is what provenance keys, diff changes and
`explain FIELD` use. `format_path` and `parse_path` are the one place either is made or read.

Segments: a field name (`str`); a list item by its identity (a one-key `dict` naming the
identity field, `{"idp": "Okta"}`: see IDENTITY); a list item by position (`int`), for lists
without an identity and for items that have none (or share it with another item).

String form: `quick_facts.scim_available`, `identity_providers[Okta].notes`,
`pricing[Tier comparison].plans[Free].price`, `summary[0]`:

    path     = name *( "." name / "[" item "]" )
    item     = index / identity        ; index: ASCII digits only (a position)
    name, identity: any text; "\\" escapes the character after it

The writer escapes `\\`, `.`, `[` and `]` in names and identities (`related_apps[Bill\\.com]`),
and the first digit of an identity that is all ASCII digits (`plans[\\2024]`), so an identity
never reads as a position; other text is written as is. The reader also takes `.` and `[`
unescaped inside brackets (`related_apps[Bill.com]`), as a person types them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeAlias

#: One step of a path: a field name, an item by identity ({identity field: value}) or by position.
Segment: TypeAlias = str | int | dict[str, str]


class Ident(tuple[str, str]):
    """An identity segment as parsers trace it: (identity field, value), standing for the
    dict segment {field: value}. A tuple, so a path of segments keys `format_path_memo` with
    its hash computed in C; format_path writes it as the dict it stands for."""

    __slots__ = ()

    def __new__(cls, field: str, value: str) -> Ident:
        return super().__new__(cls, (field, value))


_new_tuple = tuple.__new__


def ident(field: str, value: str) -> Ident:
    """The segment of a list item by its identity, {identity field: value}, as parsers trace it
    (made by tuple.__new__ at once: parsers make some forty a page)."""
    return _new_tuple(Ident, (field, value))


#: A segment as parsers trace it: a Segment, or an identity as Ident.
TraceSegment: TypeAlias = Segment | Ident


#: list field -> the item field that identifies an item (never its position).
IDENTITY: dict[str, str] = {
    "identity_providers": "idp",
    "pricing": "title",
    "plans": "plan",
    "constraints": "title",
    "items": "title",
    "recommendations": "situation",
    "related_apps": "app",
    "idp_configurations": "idp",
    "entries": "key",
    "blocks": "heading",
}
#: Values explained as a whole (derived from one printed value, or one table row).
ATOMIC = frozenset({"price_parsed", "sso_protocols", "rows", "headers"})
#: Record fields that are not content.
NOT_CONTENT = frozenset(
    {"source", "sources", "warnings", "provenance", "schema_version", "conflicts", "quick_facts_raw"}
)
#: Catalog entry fields that hold the merged documents of another guide family (contract
#: version 2): their own NOT_CONTENT keys are not content either.
FAMILY_GUIDES = frozenset({"api_guide", "manual_guide"})


def content_only(entry: dict) -> dict:
    """A record or catalog entry without what is not content (NOT_CONTENT, the slug), also
    inside its family guides."""
    out = {k: v for k, v in entry.items() if k not in NOT_CONTENT and k != "slug"}
    for k in FAMILY_GUIDES & out.keys():
        if isinstance(out[k], dict):
            out[k] = {g: v for g, v in out[k].items() if g not in NOT_CONTENT and g != "slug"}
    return out


_SPECIAL = re.compile(r"[\\.\[\]]")
_DIGITS = re.compile(r"[0-9]+")
_NAME = re.compile(r"(?:[^\\.\[\]]|\\.)+", re.S)
_ITEM = re.compile(r"\[((?:[^\\\]]|\\.)*)\]", re.S)
_ESCAPE = re.compile(r"\\(.)", re.S)


def _escape(text: str) -> str:
    if "." not in text and "[" not in text and "]" not in text and "\\" not in text:
        return text  # nearly every name and identity: four scans beat a regex call
    return _SPECIAL.sub(lambda m: "\\" + m.group(), text)


def _segment_text(seg: Any, field: str | None, first: bool) -> tuple[str, str | None]:
    """One segment's string form, and the field name in force after it."""
    if type(seg) is str and seg:
        return (seg if first else "." + seg) if seg.isidentifier() else ("" if first else ".") + _escape(seg), seg
    if first:
        raise ValueError(f"a path starts with a field name, not {seg!r}")
    if isinstance(seg, int) and not isinstance(seg, bool) and seg >= 0:
        return f"[{seg}]", field
    if type(seg) is Ident:
        seg = dict([seg])
    if isinstance(seg, dict) and len(seg) == 1:
        ((key, ident),) = seg.items()
        if field is not None and IDENTITY.get(field) == key and isinstance(ident, str):
            text = _escape(ident)
            return f"[\\{text}]" if _DIGITS.fullmatch(text) else f"[{text}]", field
    raise ValueError(f"not a path segment after {field!r}: {seg!r}")


def format_path(segments: Iterable[TraceSegment]) -> str:
    """Segments -> the path's string form. ValueError for what no path holds (a segment of
    another type, an empty name, a negative index, an identity field not in IDENTITY)."""
    parts: list[str] = []
    field: str | None = None
    for seg in segments:
        if type(seg) is str and seg and seg.isidentifier():  # a field name: by far the most common
            parts.append("." + seg if parts else seg)
            field = seg
        elif type(seg) is int and seg >= 0 and parts:  # a position
            parts.append(f"[{seg}]")
        else:
            text, field = _segment_text(seg, field, not parts)
            parts.append(text)
    return "".join(parts)


_FORMATTED: dict[tuple[Any, ...], str] = {}
_FORMATTED_MAX = 50_000


def format_path_memo(segments: Sequence[TraceSegment]) -> str:
    """format_path, remembered: every page traces the same few hundred paths (the provenance of
    each value), so most are formatted once per process. Bounded; keyed by the segments
    themselves (identities as `Ident`; a plain dict segment is copied into one)."""
    key = segments if type(segments) is tuple else tuple(segments)
    try:
        text = _FORMATTED.get(key)
    except TypeError:  # a plain dict segment
        key = tuple(Ident(*next(iter(s.items()))) if type(s) is dict else s for s in segments)
        text = _FORMATTED.get(key)
    if text is None:
        if len(_FORMATTED) >= _FORMATTED_MAX:
            _FORMATTED.clear()
        text = _FORMATTED[key] = format_path(segments)
    return text


def parse_path(path: str) -> list[Segment]:
    """A path's string form -> its segments (format_path's inverse); ValueError if it is none."""
    segments: list[Segment] = []
    field: str | None = None
    pos = 0
    while pos < len(path):
        m = _ITEM.match(path, pos) if path[pos] == "[" and segments else None
        if m is not None:
            raw = m.group(1)
            key = IDENTITY.get(field or "")
            if _DIGITS.fullmatch(raw):
                segments.append(int(raw))
            elif key is not None:
                segments.append({key: _ESCAPE.sub(r"\1", raw)})
            else:
                raise ValueError(f"not a field path: {path!r} ({field!r} items have no identity)")
        else:
            start = pos + 1 if segments and path[pos] == "." else pos
            m = _NAME.match(path, start) if start > pos or not segments else None
            if m is None:
                raise ValueError(f"not a field path: {path!r} (at character {pos + 1})")
            field = _ESCAPE.sub(r"\1", m.group())
            segments.append(field)
        pos = m.end()
    return segments


def identity(field: str, item: Any) -> str | None:
    """An item's identity in a list of `field`, or None when the list or the item has none."""
    key = IDENTITY.get(field)
    if key and isinstance(item, dict) and item.get(key) is not None:
        return str(item[key])
    return None


def item_key(field: str, item: Any, index: int) -> Segment:
    """The segment of a list item: its identity, else its position."""
    found = identity(field, item)
    return index if found is None else {IDENTITY[field]: found}


def iter_leaves(record: dict, skip: frozenset[str] = NOT_CONTENT | {"slug"}) -> Iterator[tuple[str, Any]]:
    """Every non-null content value as (path, value).

    An empty list is a value of its own where it is a record field or a field of
    one (`challenges`, `technical_specs.supported_operations`): "present, no items".
    """

    def walk(value: Any, path: tuple[Segment, ...], field: str) -> Iterator[tuple[str, Any]]:
        if value is None:
            return
        if field in ATOMIC:
            yield format_path(path), value
        elif isinstance(value, dict):
            for k, v in value.items():
                yield from walk(v, (*path, k), k)
        elif isinstance(value, list):
            if not value and len(path) <= 2 and all(isinstance(s, str) for s in path):
                yield format_path(path), value  # a contract-level list present with no items
            for i, item in enumerate(value):
                yield from walk(item, (*path, item_key(field, item, i)), field if isinstance(item, dict) else "")
        else:
            yield format_path(path), value

    for k, v in record.items():
        if k not in skip:
            if k in FAMILY_GUIDES and isinstance(v, dict):
                v = {g: x for g, x in v.items() if g not in skip}
            yield from walk(v, (k,), k)


def resolve(record: dict, path: str | Sequence[Segment]) -> Any:
    """The value at a path; KeyError when there is none (or `path` is no path)."""
    try:
        segments = parse_path(path) if isinstance(path, str) else path
    except ValueError:
        raise KeyError(path) from None
    cur: Any = record
    field = ""
    for seg in segments:
        if isinstance(seg, str) and isinstance(cur, dict) and seg in cur:
            cur, field = cur[seg], seg
        elif isinstance(seg, int) and isinstance(cur, list) and 0 <= seg < len(cur):
            cur = cur[seg]
        elif isinstance(seg, dict) and isinstance(cur, list):
            found = [it for it in cur if {IDENTITY.get(field, ""): identity(field, it)} == seg]
            if not found:
                raise KeyError(path)
            cur = found[0]
        else:
            raise KeyError(path)
    return cur


def under(path: str, prefix: str | Sequence[Segment]) -> bool:
    """True when `path` is `prefix` or lies below it, segment by segment (so either may be
    written as a person types it: `related_apps[Bill.com]`, as runs before escapes did);
    False when either is no path (a run folder's provenance is read as found)."""
    try:
        head = parse_path(prefix) if isinstance(prefix, str) else list(prefix)
        return parse_path(path)[: len(head)] == head
    except ValueError:
        return False
