"""Recognition before extraction: which guide family a page is, from its own evidence.

Evidence (rules/families.yaml): a title-block line matching a family's title pattern, a
badge line of the family's, and the section headings only that family has; for a page with
none of these, the label rows of its fields only that family has. Evidence for
exactly one family assigns it; for none, the page fails (GP914) naming the closest family
and why it was rejected; for two, it fails as ambiguous (GP915). It never becomes a record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from .errors import InputError
from .family_readers import label_row
from .reading import Line
from .rules import Rules
from .rules_families import FamilyRule, LabelRule, built_once
from .rules_regex import Regex
from .rules_schema import compile_line_pattern
from .segment import Page


class Evidence(NamedTuple):
    """A line that says which family a page is (a tuple: a page finds one per heading)."""

    kind: str  # "title", "badge" or "heading"
    line: Line
    rule: str


@dataclass
class Recognition:
    family: str
    evidence: list[Evidence] = field(default_factory=list)
    title_app: str | None = None


def compiled_lines(fam: FamilyRule, kind: str) -> list[tuple[Regex, str]]:
    """A family's line patterns of `kind` (title, taglines, app_sentences), compiled once."""
    return built_once(fam, kind, lambda f: [(compile_line_pattern(p.pattern), p.id) for p in getattr(f, kind)])


class EvidenceRules(NamedTuple):
    """What recognition asks of a family's rules, built once per rules object."""

    badges: frozenset[str]  # case-folded
    heading_ids: frozenset[str]
    own_labels: frozenset[str]  # the heading labels only this family has
    titles: list[tuple[Regex, str]]


def evidence_rules(fam: FamilyRule) -> EvidenceRules:
    return built_once(
        fam,
        "evidence",
        lambda f: EvidenceRules(
            frozenset(b.casefold() for b in f.badges),
            frozenset(h.id for h in f.headings),
            frozenset(f.evidence),
            compiled_lines(f, "title"),
        ),
    )


def match_any(patterns: list[tuple[Regex, str]], text: str) -> tuple[str, dict[str, str]] | None:
    """The first whole-line pattern matching `text`: (rule id, captures)."""
    for rx, rule_id in patterns:
        m = rx.fullmatch(text)
        if m:
            return rule_id, {k: v for k, v in m.groupdict().items() if v is not None}
    return None


def family_evidence(page: Page, rules: Rules) -> dict[str, list[Evidence]]:
    """Family name -> its evidence on the page, in page order (families with none left out)."""
    out: dict[str, list[Evidence]] = {}
    header = [ln for ln in page.header if ln.text]
    for name, fam in rules.families.families.items():
        found: list[Evidence] = []
        badges, heading_ids, own, titles = evidence_rules(fam)
        for ln in header:
            hit = match_any(titles, ln.text)
            if hit is not None:
                found.append(Evidence("title", ln, hit[0]))
            elif ln.text.casefold() in badges:
                found.append(Evidence("badge", ln, f"family.{name}.badge"))
        for s in page.sections:
            if s.rule in heading_ids or s.label in own:
                found.append(Evidence("heading", s.heading, s.rule))
        if found:
            out[name] = found
    return out


def unique_labels(rules: Rules) -> dict[str, list[LabelRule]]:
    """Family -> the labels of its fields no other family has (label evidence)."""
    owners: dict[str, set[str]] = {}
    for name, fam in rules.families.families.items():
        for f in fam.fields:
            for lr in f.labels:
                owners.setdefault(lr.label.casefold(), set()).add(name)
    return {
        name: [lr for f in fam.fields for lr in f.labels if owners[lr.label.casefold()] == {name}]
        for name, fam in rules.families.families.items()
    }


def label_evidence(page: Page, rules: Rules) -> dict[str, list[Evidence]]:
    """For a page with neither title, badge nor own heading: the label rows only one family has,
    two different ones at least (one label-like line of prose is no evidence)."""
    out: dict[str, list[Evidence]] = {}
    for name, labels in unique_labels(rules).items():
        found: dict[str, Evidence] = {}
        for s in page.sections:
            for ln in s.nonblank:
                hit = label_row(ln.text.lstrip("•-* "), labels, glued=True) if labels else None
                if hit is not None:
                    found.setdefault(hit[0].key, Evidence("label", ln, f"family.{name}.label:{hit[0].key}"))
        if len(found) >= 2:
            out[name] = list(found.values())
    return out


def closest_family(page: Page, rules: Rules) -> tuple[str, str]:
    """The family a page of none comes closest to (the largest share of its title's words on
    one title-block line), and why it was rejected."""
    lines = [ln.text for ln in page.header if ln.text and not rules.match_line("chrome", ln.text)]
    best, best_score, best_line = next(iter(rules.families.families)), -1.0, lines[0] if lines else None
    for name, fam in rules.families.families.items():
        words = {w.casefold() for p in fam.title for w in p.pattern.split() if "{" not in w}
        for text in lines:
            score = len(words & set(text.casefold().split())) / max(len(words), 1)
            if score > best_score:
                best, best_score, best_line = name, score, text
    fam = rules.families.families[best]
    title = fam.title[0].pattern if fam.title else "(none)"
    heads = ", ".join(repr(h.pattern) for h in fam.headings[:3]) or ", ".join(fam.evidence[:3])
    why = f"no title line like {title!r}" + (f" (closest line {best_line[:60]!r})" if best_line else "")
    why += f", no badge of its ({', '.join(fam.badges) or 'none'}), none of its headings ({heads})"
    return best, why


def recognise(page: Page, rules: Rules, path: str) -> Recognition:
    """The page's family, or InputError GP914 (no family) / GP915 (evidence for two)."""
    found = family_evidence(page, rules) or label_evidence(page, rules)
    if len(found) == 1:
        ((name, evidence),) = found.items()
        return Recognition(name, evidence)
    if not found:
        name, why = closest_family(page, rules)
        raise InputError("GP914", f"no known guide family: closest is '{name}', rejected: {why}", path=path)
    parts = [f"{name} ({ev[0].kind} {ev[0].line.text[:50]!r}, line {ev[0].line.no})" for name, ev in found.items()]
    raise InputError("GP915", f"ambiguous guide family: evidence for {' and '.join(parts)}", path=path)
