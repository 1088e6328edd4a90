"""Field paths, the one addressing scheme for provenance, `explain` and diffs.

`quick_facts.scim_available`, `identity_providers[Okta].notes`,
`pricing[Tier comparison].plans[Free].price`, `summary[0]`: object keys joined
by dots; items of a list of objects by their identity field (below) in
brackets, other list items by index.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

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

_SEGMENT = re.compile(r"([^.\[\]]+)|\[([^\]]*)\]")


def item_key(field: str, item: Any, index: int) -> str:
    ident = IDENTITY.get(field)
    if ident and isinstance(item, dict) and item.get(ident) is not None:
        return str(item[ident])
    return str(index)


def iter_leaves(record: dict, skip: frozenset[str] = NOT_CONTENT | {"slug"}) -> Iterator[tuple[str, Any]]:
    """Every non-null content value as (path, value).

    An empty list is a value of its own where it is a record field or a field of
    one (`challenges`, `technical_specs.supported_operations`): "present, no items".
    """

    def walk(value: Any, path: str, field: str) -> Iterator[tuple[str, Any]]:
        if value is None:
            return
        if field in ATOMIC:
            yield path, value
        elif isinstance(value, dict):
            for k, v in value.items():
                yield from walk(v, f"{path}.{k}" if path else k, k)
        elif isinstance(value, list):
            if not value and "[" not in path and path.count(".") <= 1:
                yield path, value  # a contract-level list present with no items
            for i, item in enumerate(value):
                yield from walk(item, f"{path}[{item_key(field, item, i)}]", field if isinstance(item, dict) else "")
        else:
            yield path, value

    for k, v in record.items():
        if k not in skip:
            yield from walk(v, k, k)


def resolve(record: dict, path: str) -> Any:
    """The value at a path; KeyError when there is none."""
    cur: Any = record
    field = ""
    for m in _SEGMENT.finditer(path):
        name, key = m.group(1), m.group(2)
        if name is not None:
            if not isinstance(cur, dict) or name not in cur:
                raise KeyError(path)
            cur, field = cur[name], name
        else:
            if not isinstance(cur, list):
                raise KeyError(path)
            found = [it for i, it in enumerate(cur) if item_key(field, it, i) == key]
            if not found:
                raise KeyError(path)
            cur = found[0]
    return cur


def under(path: str, prefix: str) -> bool:
    """True when `path` is `prefix` or lies below it."""
    return path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "[")
