"""Tier classes: where SCIM (and SSO) start, in plan terms, by the vocabulary of rules/tiers.yaml.

`text_class` classes a tier text ("Business or Enterprise", "Atlassian Guard subscription"):
a phrase of `phrases` decides the whole text; otherwise its plan names (split at
`separators`, without parentheses and `drop` phrases) are classed by the page's plan table
(its first plan, when free, is free; its last, when dearest and the page was read whole, is
enterprise; one before the last paid_plan), else by `plans`; of several names, one neither knows is a
plan below another (paid_plan); the lowest class in `order` counts.

`scim_tier_class`: not_available when the quick facts say SCIM is not available; else the
first known class of the tier texts (`quick_facts.scim_tier_required`, `plan_requirement`,
`technical_specs.plan_requirement`); else the plan table's SCIM column (the first plan
marked ✓); else unknown. `sso_tier_class`: not_available when SSO is not available; else
the plan table's SSO column; else the lowest class of the SSO statements found in the
page's text (`sso_statements`); else unknown.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .infer import NoteRules, negated, note_rules
from .models import CatalogEntry, Plan
from .phrases import (
    Gates,
    compile_phrase,
    fold,
    gate_words,
    may_match,
    needed_words,
    passes_gates,
    sentences,
    word_order,
)
from .rules import Rules

UNKNOWN = "unknown"
TierText = tuple[str, str]  # (field path, text)


@dataclass(frozen=True)
class Statement:
    """An SSO tier statement compiled: its regex, and the words it needs (phrases.may_match)."""

    regex: re.Pattern[str]
    needs: tuple[tuple[str, ...], ...]
    order: re.Pattern[str]  # phrases.word_order(needs)


@dataclass(frozen=True)
class TierRules:
    """rules/tiers.yaml compiled."""

    order: tuple[str, ...]
    phrases: tuple[tuple[re.Pattern[str], str, bool], ...]  # (regex, class, unless a plan is named)
    plans: dict[str, str]  # folded plan name -> class
    split: re.Pattern[str]
    drop: tuple[re.Pattern[str], ...]
    statements: tuple[Statement, ...]
    statement_gates: Gates  # a text that may hold a statement holds a word of each (phrases.gate_words)
    statement_fields: tuple[str, ...]


_COMPILED: dict[str, TierRules] = {}
_PARENS = re.compile(r"\([^()]*\)")


def tier_rules(rules: Rules) -> TierRules:
    """rules/tiers.yaml compiled (once per process and rules digest)."""
    compiled = _COMPILED.get(rules.digest)
    if compiled is None:
        t = rules.tiers
        words = [re.escape(s) for s in t.separators if s.isalpha()]
        marks = [re.escape(s) for s in t.separators if not s.isalpha()]
        alternatives = [rf"\s+(?:{'|'.join(words)})\s+"] if words else []
        alternatives += [rf"\s*(?:{'|'.join(marks)})\s*"] if marks else []
        statements = tuple(_statement(s.phrase) for s in t.sso_statements)
        compiled = _COMPILED[rules.digest] = TierRules(
            order=tuple(t.order),
            phrases=tuple((compile_phrase(p.phrase), p.tier_class, p.unless_plan_named) for p in t.phrases),
            plans={_fold(n): g.tier_class for g in t.plans for n in g.names},
            split=re.compile("|".join(alternatives) or r"(?!)", re.IGNORECASE),
            drop=tuple(compile_phrase(d) for d in t.drop),
            statements=statements,
            statement_gates=gate_words([s.needs for s in statements]),
            statement_fields=tuple(t.sso_statement_fields),
        )
    return compiled


def _statement(phrase: str) -> Statement:
    needs = needed_words(phrase)
    return Statement(compile_phrase(phrase, slots=True), needs, word_order(needs))


def _fold(name: str) -> str:
    return " ".join(name.split()).casefold()


# --------------------------------------------------------------------------- the plan table


@dataclass(frozen=True)
class PlanTable:
    """A plan table of the page, as a ladder: first plan lowest, last dearest."""

    plans: tuple[Plan, ...]
    whole: bool  # the page was read to its end, so the last plan is the last tier
    # folded plan name -> its first place (names are looked up once per tier text word)
    _places: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        places: dict[str, int] = {}
        for i, p in enumerate(self.plans):
            places.setdefault(_fold(p.plan), i)
        object.__setattr__(self, "_places", places)

    def index(self, name: str) -> int | None:
        return self._places.get(_fold(name))

    def class_of(self, i: int) -> str:
        """A plan's class by its place: the first, when free, is free; one before the last is
        paid_plan; the last is enterprise when dearest and the table whole, else not known here."""
        if i == 0 and _is_free(self.plans[0]):
            return "free"
        if i < len(self.plans) - 1:
            return "paid_plan"
        return "enterprise" if len(self.plans) > 1 and self.whole and _dearest(self.plans, i) else UNKNOWN


def _is_free(plan: Plan) -> bool:
    p = plan.price_parsed
    return p is not None and p.amount == 0 and not p.custom


def _cost(plan: Plan) -> float | None:
    p = plan.price_parsed
    if p is None:
        return None
    if p.custom:
        return math.inf
    for amount in (p.amount, p.amount_max, p.amount_min):
        if amount is not None:
            return amount
    return None


def _dearest(plans: tuple[Plan, ...], i: int) -> bool:
    mine = _cost(plans[i])
    others = [_cost(p) for k, p in enumerate(plans) if k != i]
    return mine is not None and all(c is not None and c <= mine for c in others)


def plan_tables(entry: CatalogEntry) -> list[PlanTable]:
    whole = any(not s.truncated for s in entry.sources)
    return [PlanTable(tuple(t.plans), whole) for t in entry.pricing or () if t.plans]


# --------------------------------------------------------------------------- tier texts


def plan_names(text: str, compiled: TierRules) -> list[str]:
    """The plan names a tier text gives: parentheses and `drop` phrases removed, split at separators."""
    for _ in range(8):
        text, n = _PARENS.subn(" ", text)
        if not n:
            break
    for d in compiled.drop:
        text = d.sub(" ", text)
    return [n for n in (" ".join(part.split()).strip(" -") for part in compiled.split.split(text)) if n]


def text_class(text: str | None, tables: list[PlanTable], rules: Rules) -> str:
    """The tier class a tier text names (see the module's docstring)."""
    if not text:
        return UNKNOWN
    compiled = tier_rules(rules)
    names = plan_names(text, compiled)
    by_name = [_name_class(n, tables, compiled) for n in names]
    plan_named = any(c != UNKNOWN for c in by_name)
    bare = _PARENS.sub(" ", text)
    for regex, tier_class, unless_plan_named in compiled.phrases:
        if not (unless_plan_named and plan_named) and regex.search(bare):
            return tier_class
    if len(by_name) > 1:
        by_name = ["paid_plan" if c == UNKNOWN else c for c in by_name]
    return lowest(by_name, compiled)


def _name_class(name: str, tables: list[PlanTable], compiled: TierRules) -> str:
    """A plan name's class: by its place in a plan table, else by the `plans` vocabulary."""
    for table in tables:
        i = table.index(name)
        found = table.class_of(i) if i is not None else UNKNOWN
        if found != UNKNOWN:
            return found
    return compiled.plans.get(_fold(name), UNKNOWN)


def lowest(classes: list[str], compiled: TierRules) -> str:
    """The lowest rung of `order` among the classes; else the first known class; else unknown."""
    on_ladder = [c for c in classes if c in compiled.order]
    if on_ladder:
        return min(on_ladder, key=compiled.order.index)
    return next((c for c in classes if c != UNKNOWN), UNKNOWN)


def scim_tier_texts(entry: CatalogEntry) -> list[TierText]:
    """The texts that name SCIM's tier, most specific first."""
    qf, specs = entry.quick_facts, entry.technical_specs
    texts = [
        ("quick_facts.scim_tier_required", qf.scim_tier_required if qf else None),
        ("plan_requirement", entry.plan_requirement),
        ("technical_specs.plan_requirement", specs.plan_requirement if specs else None),
    ]
    return [(path, text) for path, text in texts if text]


# --------------------------------------------------------------------------- the classes


def column_class(tables: list[PlanTable], column: str) -> str | None:
    """What a plan table's SSO or SCIM column says: the class of the first plan marked ✓
    (all_plans when every plan is), not_available when every plan of a whole table is ❌."""
    for table in tables:
        marks = [getattr(p, column) for p in table.plans]
        if not any(m is not None for m in marks):
            continue
        if True not in marks:
            return "not_available" if table.whole and None not in marks else None
        if all(m is True for m in marks):
            return "all_plans"
        found = table.class_of(marks.index(True))
        return found if found != UNKNOWN else None
    return None


@dataclass(frozen=True)
class EntryTiers:
    """What the tier classes and the lints read of an entry, worked out once per entry: its
    plan tables (each looks its plan names up once) and its SCIM tier texts with their classes."""

    tables: list[PlanTable]
    scim_texts: list[tuple[str, str, str]]  # (field path, text, its class)


def entry_tiers(entry: CatalogEntry, rules: Rules) -> EntryTiers:
    tables = plan_tables(entry)
    return EntryTiers(tables, [(path, text, text_class(text, tables, rules)) for path, text in scim_tier_texts(entry)])


def scim_tier_class(entry: CatalogEntry, rules: Rules, tiers: EntryTiers | None = None) -> str:
    qf = entry.quick_facts
    if qf is not None and qf.scim_available is False:
        return "not_available"
    tiers = tiers or entry_tiers(entry, rules)
    for _, _, found in tiers.scim_texts:
        if found != UNKNOWN:
            return found
    return column_class(tiers.tables, "scim") or UNKNOWN


def sso_tier_class(entry: CatalogEntry, rules: Rules, tiers: EntryTiers | None = None) -> str:
    qf = entry.quick_facts
    if qf is not None and qf.sso_available is False:
        return "not_available"
    tables = tiers.tables if tiers is not None else plan_tables(entry)
    from_table = column_class(tables, "sso")
    if from_table is not None:
        return from_table
    compiled = tier_rules(rules)
    classes = [_nearest_class(plan, tables, rules) for plan in sso_statements(entry, rules)]
    return lowest(classes, compiled)


def _nearest_class(text: str, tables: list[PlanTable], rules: Rules) -> str:
    """The class of a captured tier text, else of the words after its first, and so on
    ("While the Enterprise" -> "the Enterprise" -> "Enterprise")."""
    words = text.split()
    for k in range(len(words)):
        found = text_class(" ".join(words[k:]), tables, rules)
        if found != UNKNOWN:
            return found
    return UNKNOWN


def sso_statements(entry: CatalogEntry, rules: Rules) -> Iterator[str]:
    """The tier texts of the SSO statements in the page's text (negated ones left out). Only
    texts, then sentences, holding a word of each gate (phrases.gate_words) are tried, each
    statement only where its words come in its order (phrases.may_match)."""
    compiled, notes = tier_rules(rules), note_rules(rules)
    gates = compiled.statement_gates
    for path in compiled.statement_fields:
        for text in texts_at(entry, path):
            if passes_gates(fold(text), gates):
                for sentence in sentences(text):
                    folded = fold(sentence)
                    if passes_gates(folded, gates):
                        yield from _statements_in(sentence, folded, compiled, notes)


def _statements_in(sentence: str, folded: str, compiled: TierRules, notes: NoteRules) -> Iterator[str]:
    for s in compiled.statements:
        for m in s.regex.finditer(sentence) if may_match(s.order, folded) else ():
            cue_inside = any(c.search(m.group(0)) for c in notes.cues)  # "SSO is not available on …"
            if not cue_inside and not negated(sentence, m.start(), notes.negations):
                yield m.group("plan")


def texts_at(obj: Any, path: str) -> list[str]:
    """The strings at a dotted path of a model, lists flattened (`identity_providers.notes`)."""
    values: list[Any] = [obj]
    for name in path.split("."):
        found: list[Any] = []
        for v in values:
            x = getattr(v, name, None)
            if type(x) is list:
                found.extend(x)
            elif x is not None:
                found.append(x)
        values = found
    return [v for v in values if isinstance(v, str)]
