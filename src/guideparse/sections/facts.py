"""Label/value sections: "Quick SCIM facts" and "The cost of not automating"."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache, partial

from ..confusables import describe, lookalikes, skeleton
from ..context import Ctx
from ..models import CostOfManualManagement, QuickFacts
from ..paths import TraceSegment
from ..printed_numbers import first_whole_number
from ..rules import LabelField, Rules
from ..segment import Section
from ..tables import LabelRow, Labels, read_label_rows

_LEADING_WORD = re.compile(r"^([A-Za-z]+)\b")


def _labels(fields: list[LabelField]) -> Labels:
    return tuple((label, f.field) for f in fields for label in f.labels)


def read_value(row: LabelRow, spec: LabelField, ctx: Ctx, path: Sequence[TraceSegment]) -> bool | int | str | None:
    """Turn one printed value into its typed value; None when it means 'not shown'."""
    raw = row.value
    if not raw or raw.casefold() in {n.casefold() for n in spec.means_null}:
        ctx.use(row.line, None, f"{row.rule}:{spec.field}:not-shown")
        return None
    if spec.type == "text":
        ctx.trace(path, row.line, None, f"{row.rule}:{spec.field}")
        return raw
    if spec.type == "bool":
        hit = ctx.rules.bools.get(raw.casefold())
        if hit is None:
            lead = _LEADING_WORD.match(raw)
            hit = ctx.rules.bools.get(lead.group(1).casefold()) if lead else None
        if hit is None:
            ctx.warn("GP105", f"{spec.field}: {raw!r} is not a yes/no value (BOOL vocabulary)", row.line.no)
            return None
        ctx.trace(path, row.line, None, hit[1])
        return hit[0]
    number = first_whole_number(raw)
    if number is None:
        ctx.warn("GP105", f"{spec.field}: no number in {raw!r}", row.line.no)
        return None
    ctx.trace(path, row.line, None, f"{row.rule}:{spec.field}")
    return number


def read_protocols(text: str, ctx: Ctx, line: int) -> list[tuple[str, str]]:
    """The PROTOCOL terms a protocol text names: [(value, rule id)]. Text in compatibility
    characters (fullwidth `ＳＡＭＬ`) is read as NFKC has it; a term only imitated by letters
    of another script (Cyrillic `SАML`) is not read, and both are said (GP108)."""
    from ..nlp import match_terms

    found = match_terms(text, ctx.rules, "PROTOCOL")
    if text.isascii():
        return found
    nfkc = unicodedata.normalize("NFKC", text)
    wider = match_terms(nfkc, ctx.rules, "PROTOCOL") if nfkc != text else found
    if len(wider) > len(found):
        changed = describe(c for c in text if unicodedata.normalize("NFKC", c) != c)
        ctx.warn(
            "GP108", f"protocol text {text!r} is in compatibility characters ({changed}); read as {nfkc!r} (NFKC)", line
        )
        found = wider
    values = {v for v, _ in found}
    posing = [v for v, _ in match_terms(skeleton(nfkc, ctx.rules), ctx.rules, "PROTOCOL") if v not in values]
    if posing:
        posers = describe(c for c in nfkc if ord(c) in lookalikes(ctx.rules).table)
        ctx.warn(
            "GP108",
            f"protocol text {text!r} imitates {', '.join(posing)} with {posers}; not read as {'them' if len(posing) > 1 else 'it'}",
            line,
        )
    return found


_SEPARATORS = re.compile(r"\s*(?:[,;/+&]|\bor\b|\band\b)\s*", re.IGNORECASE)
_PARENS = re.compile(r"\([^()]*\)")


@lru_cache(maxsize=4096)
def _whole_term(term: str) -> re.Pattern[str]:
    """A vocabulary term as a whole-word, case-insensitive pattern: compiled once per process
    (re's own cache is shared with every pattern of a page, and pages name many apps)."""
    return re.compile(r"(?<!\w)" + re.escape(term) + r"(?!\w)", re.IGNORECASE)


def unknown_terms(text: str, rules: Rules, label: str) -> list[str]:
    """What a text read by vocabulary `label` names beyond its terms: the parts left between
    separators (',', '/', 'or', ...) once every known term is taken out. A parenthesised
    qualifier naming no term ('(via Okta)', '(varies)') is not a term. Patterns are built
    from escaped literals (no repetition to backtrack over), as in rules._any_word_starts."""
    terms = sorted({t for t, _v, _id in rules.terms.get(label, [])}, key=len, reverse=True)
    rest = _strip_known(_PARENS.sub(partial(_qualifier, terms), text), terms)
    return [p.strip(" .") for p in _SEPARATORS.split(rest) if p.strip(" .()")]


def _strip_known(s: str, terms: list[str]) -> str:
    for t in terms:
        s = _whole_term(t).sub(" , ", s)
    return s


def _qualifier(terms: list[str], m: re.Match[str]) -> str:
    """A parenthesised part: a separate part when it names a term, else nothing."""
    inner = m.group(0)[1:-1]
    return f" , {inner} , " if _strip_known(inner, terms) != inner else " , "


def parse_quick_facts(section: Section | None, ctx: Ctx) -> tuple[QuickFacts | None, dict[str, str] | None]:
    if section is None:
        return None, None
    specs = {f.field: f for f in ctx.rules.tables_file.quick_facts}
    rows, rest = read_label_rows(section.body, _labels(ctx.rules.tables_file.quick_facts))
    values: dict[str, object] = {}
    raw: dict[str, str] = {}
    for row in rows:
        if row.field in values:
            ctx.warn("GP104", f"quick fact {row.label!r} printed twice; first kept", row.line.no)
            continue
        raw[row.field] = row.value
        values[row.field] = read_value(row, specs[row.field], ctx, ("quick_facts", row.field))
    if not rows and ctx.empty_section(section, "quick_facts") is None:
        return None, None
    protocol = values.get("sso_protocol")
    if isinstance(protocol, str):
        line = next(r.line for r in rows if r.field == "sso_protocol")
        found = read_protocols(protocol, ctx, line.no)
        values["sso_protocols"] = [v for v, _ in found]
        if found:
            ctx.trace("quick_facts.sso_protocols", line, None, "+".join(rid for _, rid in found))
            for term in unknown_terms(protocol, ctx.rules, "PROTOCOL"):
                kept = ", ".join(v for v, _ in found)
                ctx.warn(
                    "GP109", f"sso_protocols: unknown term {term!r} in {protocol!r} not read (kept {kept})", line.no
                )
        else:
            ctx.warn(
                "GP105", f"no known protocol in {protocol!r}; add it to PROTOCOL in rules/vocabulary.jsonl", line.no
            )
    ctx.note_cut(section, "quick_facts")
    return QuickFacts.model_validate(values), raw


def parse_cost(section: Section | None, ctx: Ctx) -> CostOfManualManagement | None:
    if section is None:
        return None
    rules = ctx.rules.tables_file.cost
    specs = {f.field: f for f in rules.figures}
    rows, rest = read_label_rows(section.body, _labels(rules.figures))
    values: dict[str, object] = {}
    for ln in rest:
        if ln.text.casefold().startswith(rules.basis_prefix.casefold()):
            basis = ln.text[len(rules.basis_prefix) :].strip().rstrip(":").strip()
            if basis:
                values["basis"] = basis
                ctx.trace("cost_of_manual_management.basis", ln, None, "cost.basis")
    for row in rows:
        if row.field not in values:
            values[row.field] = read_value(row, specs[row.field], ctx, ("cost_of_manual_management", row.field))
    if not values:
        if ctx.empty_section(section, "cost_of_manual_management") is None:
            return None
    ctx.note_cut(section, "cost_of_manual_management")
    return CostOfManualManagement.model_validate(values)
