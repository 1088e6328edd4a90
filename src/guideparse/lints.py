"""Lints: a catalog entry checks itself, by the rules of rules/lints.yaml.

A lint is a condition over the entry's fields (`when`: field comparisons joined by all /
any / not, evaluated here, never `eval`ed; `each` runs it on every item of a list) or a
named check (`check`), each finding one `Lint` (`{id, severity, message, fields}`) with its
message template filled. The named checks are the functions of CHECKS:

- `tier_texts_disagree`: two tier texts (SCIM tier required, the plan requirement, the
  technical specs' plan requirement) name different tier classes;
- `scim_marked_below_tier`: a plan table marks SCIM on a plan below the plan the tier texts
  require;
- `note_contradicts_icon`: an IdP row's note resolves (infer.py) to another value than the
  cell some document shows;
- `renderings_disagree`: the documents of the app disagree (the entry's conflicts, GP401).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from .infer import read_note
from .models import CatalogEntry, Lint
from .paths import IDENTITY, Segment, format_path
from .rules import Rules
from .rules_catalog import Condition, LintRule
from .rules_schema import IDP_CELL_COLUMNS
from .tiers import EntryTiers, PlanTable, entry_tiers, plan_names, tier_rules

Finding = tuple[dict[str, Any], list[str]]  # (placeholder values, field paths)
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def evaluate(entry: CatalogEntry, rules: Rules, tiers: EntryTiers | None = None) -> list[Lint]:
    """Every lint of rules/lints.yaml that fires on the entry, in file order (`tiers`: the
    entry's, when the caller has them)."""
    tiers = tiers or entry_tiers(entry, rules)
    out: list[Lint] = []
    for rule in rules.lints.lints:
        findings = CHECKS[rule.check](entry, rules, tiers) if rule.check else _when(rule, entry)
        for values, fields in findings:
            message = _fill(rule.message, values, entry)
            out.append(Lint(id=rule.id, severity=rule.severity, message=message, fields=fields))
    return out


# --------------------------------------------------------------------------- conditions


def _when(rule: LintRule, entry: CatalogEntry) -> Iterator[Finding]:
    assert rule.when is not None and rule.fields is not None
    if rule.each is None:
        if holds(rule.when, entry, None):
            yield _values(rule.message, entry, None), list(rule.fields)
        return
    for i, item in enumerate(getattr(entry, rule.each) or ()):
        if holds(rule.when, entry, item):
            at = _item_segment(rule.each, item, i)
            fields = [_field_path(p, rule.each, at) for p in rule.fields]
            yield _values(rule.message, entry, item), fields


def holds(cond: Condition, entry: CatalogEntry, item: Any) -> bool:
    """Whether a condition holds for the entry (and the item of an `each` lint)."""
    if cond.all is not None:
        return all(holds(c, entry, item) for c in cond.all)
    if cond.any is not None:
        return any(holds(c, entry, item) for c in cond.any)
    if cond.not_ is not None:
        return not holds(cond.not_, entry, item)
    assert cond.field is not None
    value = value_at(cond.field, entry, item)
    if cond.is_null is not None:
        return (value is None) == cond.is_null
    if cond.in_ is not None:
        return value is not None and value in cond.in_
    if cond.differs_from is not None:
        other = value_at(cond.differs_from, entry, item)
        return value is not None and other is not None and value != other
    return value is not None and type(value) is type(cond.equals) and value == cond.equals


def value_at(path: str, entry: CatalogEntry, item: Any) -> Any:
    """The value at a field path (`item.` for the item); None where a step is missing."""
    names = path.split(".")
    obj: Any = entry
    if names[0] == "item":
        obj, names = item, names[1:]
    for name in names:
        obj = getattr(obj, name, None)
        if obj is None:
            return None
    return obj


def _item_segment(each: str, item: Any, i: int) -> Segment:
    key = IDENTITY.get(each)
    ident = getattr(item, key, None) if key else None
    return {key: ident} if key and isinstance(ident, str) else i


def _field_path(path: str, each: str, at: Segment) -> str:
    if path.startswith("item."):
        return format_path([each, at, *path.split(".")[1:]])
    return path


def _values(message: str, entry: CatalogEntry, item: Any) -> dict[str, Any]:
    return {name: value_at(name, entry, item) for name in _PLACEHOLDER.findall(message)}


def _fill(message: str, values: dict[str, Any], entry: CatalogEntry) -> str:
    """The message with each {placeholder} replaced by its value (never a format string)."""
    known = {"app": entry.app, "slug": entry.slug, **values}
    return _PLACEHOLDER.sub(lambda m: _shown(known.get(m.group(1))), message)


def _shown(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --------------------------------------------------------------------------- named checks


def _tier_texts_disagree(entry: CatalogEntry, rules: Rules, tiers: EntryTiers) -> Iterator[Finding]:
    known = [c for c in tiers.scim_texts if c[2] != "unknown"]
    for k, (path_a, text_a, class_a) in enumerate(known):
        for path_b, text_b, class_b in known[k + 1 :]:
            if class_a != class_b:
                values = {"first": path_a, "first_text": text_a, "first_class": class_a}
                values |= {"second": path_b, "second_text": text_b, "second_class": class_b}
                yield values, [path_a, path_b]


def _scim_marked_below_tier(entry: CatalogEntry, rules: Rules, tiers: EntryTiers) -> Iterator[Finding]:
    if not tiers.scim_texts:
        return
    path, text, _ = tiers.scim_texts[0]
    compiled = tier_rules(rules)
    for k, t in enumerate(entry.pricing or ()):
        table = PlanTable(tuple(t.plans), whole=False)
        required = _required_index(table, plan_names(text, compiled))
        if required is None:
            continue
        for plan in table.plans[:required]:
            if plan.scim is True:
                where = format_path(["pricing", {"title": t.title} if t.title else k, "plans", {"plan": plan.plan}])
                required_name = table.plans[required].plan
                values = {"table": t.title or "", "plan": plan.plan, "required": required_name}
                values |= {"required_field": path, "required_text": text}
                yield values, [f"{where}.scim", path]


def _required_index(table: PlanTable, names: list[str]) -> int | None:
    """The lowest plan of the table the tier text names, if it names one."""
    found = [i for i in (table.index(n) for n in names) if i is not None]
    return min(found) if found else None


def _note_contradicts_icon(entry: CatalogEntry, rules: Rules, tiers: EntryTiers) -> Iterator[Finding]:
    for row in entry.identity_providers or ():
        readings = read_note(row.notes, rules)
        for column in IDP_CELL_COLUMNS:
            shown, reading = getattr(row, column), readings.get(column)
            if column in row.inferred or shown == "unknown" or reading is None or not reading.contradicts(shown):
                continue
            values = {"idp": row.idp, "column": column, "shown": shown, "implied": reading.value}
            values |= {"rule": reading.rule, "note": row.notes}
            base = format_path(["identity_providers", {"idp": row.idp}])
            yield values, [f"{base}.{column}", f"{base}.notes"]


def _renderings_disagree(entry: CatalogEntry, rules: Rules, tiers: EntryTiers) -> Iterator[Finding]:
    for c in entry.conflicts:
        shown = " / ".join(_short(v.get("value")) for v in c.values)  # no source names: they are not content
        yield {"field": c.field, "values": shown}, [c.field]


def _short(value: Any, limit: int = 50) -> str:
    """A value as a message shows it, at most `limit` characters: a cut text keeps its quotes
    ('Business or …'), so the reader sees where it was cut and where the value ends."""
    text = repr(value)
    if len(text) <= limit:
        return text
    if isinstance(value, str):
        keep = limit - 3
        while keep > 0 and len(repr(value[:keep] + "…")) > limit:
            keep -= 1
        return repr(value[:keep] + "…")
    return text[: limit - 1] + "…"


CHECKS: dict[str, Callable[[CatalogEntry, Rules, EntryTiers], Iterator[Finding]]] = {
    "tier_texts_disagree": _tier_texts_disagree,
    "scim_marked_below_tier": _scim_marked_below_tier,
    "note_contradicts_icon": _note_contradicts_icon,
    "renderings_disagree": _renderings_disagree,
}
