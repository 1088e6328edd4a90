"""The catalog as tables: one normalised set of tables built from a run, the same in every
export format (SQLite, Parquet, CSV; `export_write.py` writes them).

Pure: a loaded run (`store.load_run`) in, `{table name: (columns, rows)}` out. Every table's
columns are fixed here (they never depend on which rows exist); one row per thing, child
rows keyed by `slug` (the app) and `position` (0-based, the item's place in its catalog
list, as in field paths). Fields other engineers add to catalog entries later
(`identity_providers[].inferred`, the tier classes, `lints`) are read with defaults, so a
run written before they existed exports the same columns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .errors import GuideparseError
from .export_families import family_rows, family_specs
from .paths import FAMILY_GUIDES
from .rules import Rules
from .store import LoadedRun
from .table_spec import ColumnType, Row, TableSpec, as_list, as_object, child_spec, joined_paragraphs

TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        "apps",
        (
            ("slug", "text"),
            ("app", "text"),
            ("guides", "list"),
            ("badge", "text"),
            ("plan_requirement", "text"),
            ("scim_available", "bool"),
            ("scim_tier_required", "text"),
            ("scim_tier_class", "text"),
            ("sso_available", "bool"),
            ("sso_required_first", "bool"),
            ("sso_protocol", "text"),
            ("sso_protocols", "list"),
            ("sso_tier_class", "text"),
            ("documentation", "text"),
            ("scim_version", "text"),
            ("last_updated", "text"),
            ("summary", "text"),
            ("strategic_alternative", "text"),
            ("bottom_line", "text"),
            ("orphaned_accounts", "int"),
            ("unused_licenses", "int"),
            ("it_hours_per_year", "int"),
            ("unused_license_cost_usd", "int"),
            ("it_labor_cost_usd", "int"),
            ("compliance_cost_usd", "int"),
            ("total_annual_impact_usd", "int"),
            ("truncated", "bool"),
            ("document_count", "int"),
            ("idp_count", "int"),
            ("plan_count", "int"),
            ("warning_count", "int"),
            ("lint_count", "int"),
            ("conflict_count", "int"),
        ),
        ("slug",),
    ),
    TableSpec(
        "documents",
        (
            ("path", "text"),
            ("slug", "text"),
            ("sha256", "text"),
            ("bytes", "int"),
            ("format", "text"),
            ("truncated", "bool"),
            ("encoding", "text"),
            ("status", "text"),
            ("error_code", "text"),
            ("error", "text"),
            ("warning_count", "int"),
        ),
        ("path",),
    ),
    child_spec(
        "identity_providers",
        ("idp", "text"),
        ("sso", "text"),
        ("scim", "text"),
        ("notes", "text"),
        ("inferred", "list"),
    ),
    TableSpec(
        "plans",
        (
            ("slug", "text"),
            ("table_position", "int"),
            ("table_title", "text"),
            ("position", "int"),
            ("plan", "text"),
            ("price", "text"),
            ("currency", "text"),
            ("amount", "real"),
            ("amount_min", "real"),
            ("amount_max", "real"),
            ("open_ended", "bool"),
            ("period", "text"),
            ("unit", "text"),
            ("qualifier", "text"),
            ("custom", "bool"),
            ("sso", "bool"),
            ("scim", "bool"),
        ),
        ("slug", "table_position", "position"),
    ),
    child_spec("constraints", ("title", "text"), ("detail", "text")),
    child_spec("challenges", ("text", "text")),
    child_spec("key_limitations", ("text", "text")),
    child_spec("recommendations", ("situation", "text"), ("recommendation", "text")),
    child_spec(
        "related_apps",
        ("app", "text"),
        ("status", "text"),
        ("category", "text"),
        ("summary", "text"),
        ("provisioning_label", "text"),
        ("provisioning", "text"),
        ("manual_cost", "text"),
        ("manual_cost_usd_per_year", "int"),
    ),
    child_spec(
        "warnings",
        ("source", "text"),
        ("code", "text"),
        ("kind", "text"),
        ("message", "text"),
        ("line", "int"),
    ),
    child_spec("lints", ("id", "text"), ("severity", "text"), ("message", "text"), ("fields", "list")),
)
SCHEMA: dict[str, TableSpec] = {t.name: t for t in TABLES}
Tables = dict[str, tuple[TableSpec, list[Row]]]  # table name -> (its spec, its rows)

#: What a full-text index covers, per table (the SQLite export indexes these).
FULL_TEXT: dict[str, tuple[str, ...]] = {"apps": ("app", "summary"), "identity_providers": ("idp", "notes")}


class _Where:
    """Names the file and app behind a value that is not what a run holds (GP908)."""

    def __init__(self, run: LoadedRun, file: str) -> None:
        self.path = str(run.path / file)

    def error(self, what: str) -> GuideparseError:
        return GuideparseError("GP908", f"not a run written by guideparse: {what}", path=self.path)


def table_specs(rules: Rules | None = None) -> tuple[TableSpec, ...]:
    """Every table an export holds: the SCIM guide's (TABLES), then each other family's,
    derived from its field rules (export_families)."""
    return TABLES + family_specs(rules)


def build_tables(run: LoadedRun, rules: Rules | None = None) -> Tables:
    """Every table of the run: `{name: (spec, rows)}`, in `table_specs` order, rows sorted by
    key. A value of the wrong type (a run edited by hand, another tool's file) is GP908."""
    where = _Where(run, "catalog.jsonl")
    specs = table_specs(rules)
    found: dict[str, list[dict[str, Any]]] = {t.name: [] for t in specs}
    for slug in sorted(run.catalog):
        entry = run.catalog[slug]
        found["apps"].append(_app_row(entry, where))
        for name, rows in _child_rows(entry, where):
            found[name].extend({"slug": slug, **row} for row in rows)
        for name, rows in family_rows(entry, rules, where.error):
            found[name].extend({"slug": slug, **row} for row in rows)
    found["documents"] = _document_rows(run)
    return {t.name: (t, [_typed(t, row, where) for row in found[t.name]]) for t in specs}


def _typed(spec: TableSpec, row: dict[str, Any], where: _Where) -> Row:
    return tuple(
        _cell(row.get(name), kind, f"{spec.name}.{name} of {row.get('slug')!r}", where) for name, kind in spec.columns
    )


def _cell(value: Any, kind: ColumnType, what: str, where: _Where) -> Any:
    if value is None:
        return None
    if kind == "text" and isinstance(value, str):
        return value
    if kind == "bool" and isinstance(value, bool):
        return value
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "real" and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind == "list" and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise where.error(f"{what}: expected {kind}, got {type(value).__name__}")


def _obj(value: Any, what: str, where: _Where) -> dict[str, Any]:
    return as_object(value, what, where.error)


def _items(entry: dict[str, Any], key: str, where: _Where) -> list[Any]:
    """A list of the entry, [] for null or absent."""
    return as_list(entry.get(key), f"{key} of {entry.get('slug')!r}", where.error)


def _objects(entry: dict[str, Any], key: str, where: _Where) -> list[dict[str, Any]]:
    return [
        _obj(item, f"{key}[{i}] of {entry.get('slug')!r}", where) for i, item in enumerate(_items(entry, key, where))
    ]


_FACTS = SCHEMA["apps"].names[5:14]  # scim_available .. documentation: the quick facts


def _app_row(entry: dict[str, Any], where: _Where) -> dict[str, Any]:
    slug = entry.get("slug")
    facts = _obj(entry.get("quick_facts"), f"quick_facts of {slug!r}", where)
    cost = _obj(entry.get("cost_of_manual_management"), f"cost_of_manual_management of {slug!r}", where)
    specs = _obj(entry.get("technical_specs"), f"technical_specs of {slug!r}", where)
    sources = _objects(entry, "sources", where)
    summary = _items(entry, "summary", where)
    guides = {name: _obj(entry.get(name), f"{name} of {slug!r}", where) for name in sorted(FAMILY_GUIDES)}
    return {
        **{k: entry.get(k) for k in ("slug", "badge", "plan_requirement", "last_updated")},
        # the app's name as its SCIM guide prints it, else as another guide of it does
        "app": entry.get("app") or next((g.get("app") for g in guides.values() if g.get("app")), None),
        "guides": (["scim"] if sources else []) + [g.get("family") or name for name, g in guides.items() if g],
        **{k: facts.get(k) for k in _FACTS},
        "scim_version": specs.get("scim_version"),
        "summary": joined_paragraphs(summary),
        **{k: entry.get(k) for k in ("strategic_alternative", "bottom_line")},
        **{k: v for k, v in cost.items() if k != "basis"},
        "truncated": any(s.get("truncated") is True for s in sources),
        "document_count": len(sources),
        "idp_count": len(_items(entry, "identity_providers", where)),
        "plan_count": sum(len(_items(t, "plans", where)) for t in _objects(entry, "pricing", where)),
        "warning_count": len(_items(entry, "warnings", where)),
        "lint_count": len(_items(entry, "lints", where)),
        "conflict_count": len(_items(entry, "conflicts", where)),
    }


def _child_rows(entry: dict[str, Any], where: _Where) -> Iterable[tuple[str, list[dict[str, Any]]]]:
    """(table, rows without slug) for every child table of one catalog entry."""
    for name, key, read in _CHILDREN:
        yield name, [{"position": i, **read(item)} for i, item in enumerate(_objects(entry, key, where))]
    for name in ("challenges", "key_limitations"):
        yield name, [{"position": i, "text": text} for i, text in enumerate(_items(entry, name, where))]
    yield "plans", _plan_rows(entry, where)


def _pick(*keys: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda item: {k: item.get(k) for k in keys}


def _idp(item: dict[str, Any]) -> dict[str, Any]:
    return {**_pick("idp", "sso", "scim", "notes")(item), "inferred": item.get("inferred") or []}


_CHILDREN: tuple[tuple[str, str, Callable[[dict[str, Any]], dict[str, Any]]], ...] = (
    ("identity_providers", "identity_providers", _idp),
    ("constraints", "constraints", _pick("title", "detail")),
    ("recommendations", "recommendations", _pick("situation", "recommendation")),
    ("related_apps", "related_apps", _pick(*SCHEMA["related_apps"].names[2:])),
    ("warnings", "warnings", _pick("source", "code", "kind", "message", "line")),
    ("lints", "lints", lambda item: {**_pick("id", "severity", "message")(item), "fields": item.get("fields") or []}),
)


def _plan_rows(entry: dict[str, Any], where: _Where) -> list[dict[str, Any]]:
    rows = []
    slug = entry.get("slug")
    for t, table in enumerate(_objects(entry, "pricing", where)):
        for i, plan in enumerate(_objects(table, "plans", where)):
            parsed = _obj(plan.get("price_parsed"), f"pricing[{t}].plans[{i}].price_parsed of {slug!r}", where)
            price_columns = SCHEMA["plans"].names[6:15]  # currency .. custom
            rows.append(
                {
                    "table_position": t,
                    "table_title": table.get("title"),
                    "position": i,
                    **{k: plan.get(k) for k in ("plan", "price", "sso", "scim")},
                    **{k: parsed.get(k) for k in price_columns},
                }
            )
    return rows


def _document_rows(run: LoadedRun) -> list[dict[str, Any]]:
    """One row per input of the manifest; format, truncation and slug from its document."""
    where = _Where(run, "manifest.json")
    docs = {}
    for doc in run.documents:
        source = _obj(doc.get("source"), "a document's source", where)
        docs[source.get("path")] = (doc, source)
    inputs = run.manifest.get("inputs") or []
    if not isinstance(inputs, list):
        raise where.error("inputs: expected a list")
    rows = []
    for i, item in enumerate(inputs):
        item = _obj(item, f"inputs[{i}]", where)
        doc, source = docs.get(item.get("path"), ({}, {}))
        slug = doc.get("slug")
        if slug is not None and slug not in run.catalog:
            raise where.error(f"the document of {item.get('path')!r} names app {slug!r}, which the catalog lacks")
        rows.append(
            {
                **{k: item.get(k) for k in ("path", "sha256", "bytes", "status", "error_code", "error")},
                "slug": slug,
                **{k: source.get(k) for k in ("format", "truncated", "encoding")},
                "warning_count": len(_items(doc, "warnings", where)),
            }
        )
    return rows
