"""The export tables of the guide families other than SCIM, derived from their field rules
(rules/families.yaml), so a family added as rules exports without code.

For each family whose documents a catalog entry holds (`api_guide`, `manual_guide`):

- `<family>_guides`: one row per app with such a guide: `app`, `badge`, `updated`, the
  summary (paragraphs joined by a blank line), counts, and one column per label of its
  `labels` fields, named `<field>_<key>`, typed as the label is (text, bool, int);
- `<family>_<field>`: one row per row of a `table` / `joined_table` field (its columns'
  keys), or per item of a `paragraphs` field (`text`);
- `<family>_<field>_<list>`: one row per item of a `labels` field's list (`text`).

Child rows are keyed by `slug` and `position`, as the SCIM guide's tables are.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .catalog import FAMILY_ENTRY_FIELDS as ENTRY_FIELDS
from .catalog import default_rules
from .rules import Rules
from .rules_families import FamilyRule
from .table_spec import ColumnType, Error, TableSpec, as_list, as_object, child_spec, joined_paragraphs

_TYPES: dict[str, ColumnType] = {"text": "text", "bool": "bool", "int": "int"}


def _families(rules: Rules | None) -> list[tuple[str, FamilyRule]]:
    fams = (rules or default_rules()).families.families
    return [(name, fams[name]) for name in ENTRY_FIELDS if name in fams]


def family_specs(rules: Rules | None = None) -> tuple[TableSpec, ...]:
    """The tables of every family a catalog entry holds, in rules order."""
    out: list[TableSpec] = []
    for name, fam in _families(rules):
        columns: list[tuple[str, ColumnType]] = [("slug", "text"), ("app", "text"), ("badge", "text")]
        columns += [("updated", "text"), ("summary", "text"), ("document_count", "int"), ("warning_count", "int")]
        children: list[TableSpec] = []
        for field in fam.fields:
            if field.reader == "labels":
                columns += [(f"{field.name}_{lr.key}", _TYPES[lr.type]) for lr in field.labels]
                children += [child_spec(f"{name}_{field.name}_{lst.key}", ("text", "text")) for lst in field.lists]
            elif field.reader in ("table", "joined_table"):
                children.append(child_spec(f"{name}_{field.name}", *((c.key, "text") for c in field.columns)))
            elif field.reader == "paragraphs":
                children.append(child_spec(f"{name}_{field.name}", ("text", "text")))
        out += [TableSpec(f"{name}_guides", tuple(columns), ("slug",)), *children]
    return tuple(out)


def family_rows(entry: dict[str, Any], rules: Rules | None, error: Error) -> Iterator[tuple[str, list[dict]]]:
    """(table, rows without slug) of every family table, for one catalog entry."""
    slug = entry.get("slug")
    for name, fam in _families(rules):
        guide = as_object(entry.get(ENTRY_FIELDS[name]), f"{ENTRY_FIELDS[name]} of {slug!r}", error)
        if not guide:
            continue
        summary = as_list(guide.get("summary"), f"{name} summary of {slug!r}", error)
        row: dict[str, Any] = {k: guide.get(k) for k in ("app", "badge", "updated")}
        row["summary"] = joined_paragraphs(summary)
        row["document_count"] = len(as_list(guide.get("sources"), "sources", error))
        row["warning_count"] = len(as_list(guide.get("warnings"), "warnings", error))
        for field in fam.fields:
            value = guide.get(field.name)
            what = f"{ENTRY_FIELDS[name]}.{field.name} of {slug!r}"
            if field.reader == "labels":
                values = as_object(value, what, error)
                row.update({f"{field.name}_{lr.key}": values.get(lr.key) for lr in field.labels})
                for lst in field.lists:
                    items = as_list(values.get(lst.key), f"{what}.{lst.key}", error)
                    yield f"{name}_{field.name}_{lst.key}", [{"position": i, "text": t} for i, t in enumerate(items)]
            elif field.reader in ("table", "joined_table"):
                rows = [as_object(r, what, error) for r in as_list(value, what, error)]
                keys = [c.key for c in field.columns]
                yield (
                    f"{name}_{field.name}",
                    [{"position": i, **{k: r.get(k) for k in keys}} for i, r in enumerate(rows)],
                )
            elif field.reader == "paragraphs":
                yield (
                    f"{name}_{field.name}",
                    [{"position": i, "text": t} for i, t in enumerate(as_list(value, what, error))],
                )
        yield f"{name}_guides", [row]
