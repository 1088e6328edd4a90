"""IdP cells resolved from their notes, by the phrases of rules/inference.jsonl.

A flat scrape loses the ✓ and ❌ of the IdP table, but the Notes cell usually says it in
words ("No SCIM available", "Gallery app with SCIM", "SSO only"). `read_note` finds the
IMPLIES phrases of a note (whole words; a phrase with a NEGATION cue just before it in its
clause does not hold; of overlapping phrases the longest counts) and, per column, the one
value every phrase found accepts (implies, or lists in `fits`), if there is exactly one.
`resolve_rows` fills a catalog entry's `unknown` cells with it, naming each in the row's
`inferred` and the rule in `inferred_by`; a cell some document shows is never changed (a
note that contradicts it is a lint, see lints.py).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from .models import CatalogIdentityProvider, IdentityProvider
from .phrases import clause_before, compile_phrase, negation_before
from .rules import Rules
from .rules_schema import IDP_CELL_COLUMNS

UNKNOWN = "unknown"
DEFAULT_WINDOW = 3


@dataclass(frozen=True)
class NoteRule:
    """An IMPLIES entry, compiled: what it implies and, per column, every value it accepts."""

    id: str
    order: int
    regex: re.Pattern[str]
    implies: dict[str, str]
    accepts: dict[str, frozenset[str]]


@dataclass(frozen=True)
class NoteRules:
    rules: tuple[NoteRule, ...]
    negations: tuple[re.Pattern[str], ...]  # each cue, followed by its window and the end of a text
    cues: tuple[re.Pattern[str], ...]  # each cue alone


_COMPILED: dict[str, NoteRules] = {}


def note_rules(rules: Rules) -> NoteRules:
    """rules/inference.jsonl compiled (once per process and rules digest)."""
    compiled = _COMPILED.get(rules.digest)
    if compiled is None:
        implies, negations, cues = [], [], []
        for i, e in enumerate(rules.inference):
            if e.label == "NEGATION":
                negations.append(negation_before(e.phrase, DEFAULT_WINDOW if e.window is None else e.window))
                cues.append(compile_phrase(e.phrase))
                continue
            imp = dict(e.implies or {})
            accepts = {c: frozenset([v, *(e.fits or {}).get(c, [])]) for c, v in imp.items()}
            implies.append(NoteRule(e.id, i, compile_phrase(e.phrase, whole=e.whole), imp, accepts))
        compiled = _COMPILED[rules.digest] = NoteRules(tuple(implies), tuple(negations), tuple(cues))
    return compiled


@dataclass(frozen=True)
class Reading:
    """What a note says about one column: the value it resolves to (None when its phrases
    disagree), the rule that implies it, and what each phrase found accepts."""

    value: str | None
    rule: str | None
    accepts: tuple[frozenset[str], ...]

    def contradicts(self, shown: str) -> bool:
        """The note resolves to another value than `shown`, and some phrase of it does not accept `shown`."""
        return self.value is not None and shown != self.value and any(shown not in a for a in self.accepts)


def negated(text: str, at: int, negations: tuple[re.Pattern[str], ...]) -> bool:
    """A negation cue ends the clause just before `at` ("No SCIM available": "SCIM available" at 3)."""
    clause = clause_before(text, at)
    return any(n.search(clause) for n in negations)


def found_phrases(note: str, compiled: NoteRules) -> list[tuple[int, int, NoteRule]]:
    """The phrases found in a note, as (start, end, rule) in note order: negated ones dropped,
    then of overlapping ones the longest kept (of two as long, the one listed first)."""
    spans = [
        (m.start(), m.end(), rule)
        for rule in compiled.rules
        for m in rule.regex.finditer(note)
        if m.end() > m.start() and not negated(note, m.start(), compiled.negations)
    ]
    spans.sort(key=lambda t: (t[0] - t[1], t[2].order, t[0]))
    kept: list[tuple[int, int, NoteRule]] = []
    for s, e, rule in spans:
        if all(e <= ks or s >= ke for ks, ke, _ in kept):
            kept.append((s, e, rule))
    return sorted(kept, key=lambda t: t[0])


def read_note(note: str | None, rules: Rules) -> Mapping[str, Reading]:
    """Per column (sso, scim) the note says anything about: what it says. Notes repeat across
    apps ("No native support"), so readings are kept per rules digest and note."""
    if not note:
        return {}
    note_rules(rules)
    return _reading(rules.digest, note)


@functools.lru_cache(maxsize=4096)
def _reading(digest: str, note: str) -> Mapping[str, Reading]:
    found = found_phrases(note, _COMPILED[digest])
    out: dict[str, Reading] = {}
    for column in IDP_CELL_COLUMNS:
        firing = [rule for _, _, rule in found if column in rule.implies]
        if not firing:
            continue
        candidates = list(dict.fromkeys(rule.implies[column] for rule in firing))
        agreed = [v for v in candidates if all(v in rule.accepts[column] for rule in firing)]
        value = agreed[0] if len(agreed) == 1 else None
        rule_id = next((r.id for r in firing if r.implies[column] == value), None)
        out[column] = Reading(value, rule_id, tuple(r.accepts[column] for r in firing))
    return MappingProxyType(out)


def resolve_row(row: IdentityProvider, rules: Rules) -> CatalogIdentityProvider:
    """A catalog row: its unknown cells resolved from its notes where they say one value."""
    cells = {c: getattr(row, c) for c in IDP_CELL_COLUMNS}
    inferred_by: dict[str, str] = {}
    if UNKNOWN in cells.values():
        readings = read_note(row.notes, rules)
        for column, value in cells.items():
            reading = readings.get(column)
            if value == UNKNOWN and reading is not None and reading.value is not None and reading.rule is not None:
                cells[column] = reading.value
                inferred_by[column] = reading.rule
    return CatalogIdentityProvider(
        idp=row.idp, notes=row.notes, inferred=list(inferred_by), inferred_by=inferred_by, **cells
    )


def resolve_rows(rows: Sequence[IdentityProvider] | None, rules: Rules) -> list[CatalogIdentityProvider] | None:
    """A catalog entry's IdP rows, each resolved (see resolve_row)."""
    return None if rows is None else [resolve_row(r, rules) for r in rows]
