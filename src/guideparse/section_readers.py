"""The section readers the SCIM guide's rules name (rules/families.yaml, family `scim`): the
parsers of `sections/` behind the one reader signature of family_readers.READERS.

Some read a shape any guide may print (joined paragraphs, bullets, a value its heading
captures); the others read a shape of that guide's own (plan tables, IdP icon tables, offer
blocks) and write the fields rules_families.READERS names. Each takes the first section of
its rule's label (None when the page has none) and handles that itself: a missing section
is null, or [] where the record's field is a list that is never null.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .context import Ctx
from .rules_families import FieldRule
from .sections.config import parse_idp_configurations
from .sections.decision import parse_recommendations
from .sections.facts import parse_cost, parse_quick_facts
from .sections.idps import parse_identity_providers
from .sections.lists import parse_bullets, parse_constraints
from .sections.pricing import parse_pricing, parse_pricing_prose
from .sections.prose import parse_joined, parse_last_updated, parse_paragraphs
from .sections.prose_blocks import parse_admins_saying, parse_identity_offer, parse_practice
from .sections.related import parse_related_apps
from .sections.specs import parse_technical_specs
from .segment import Section

SectionReader = Callable[[FieldRule, Section | None, Ctx, frozenset[str]], Any]


def _section_only(parse: Callable[[Section | None, Ctx], Any]) -> SectionReader:
    """A parser of one section (its fields' names are its own) as a reader."""
    return lambda rule, section, ctx, nulls: parse(section, ctx)


def _named(parse: Callable[[Section | None, Ctx, str], Any]) -> SectionReader:
    """A parser that writes the field it is given as a reader of the rule's field."""
    return lambda rule, section, ctx, nulls: parse(section, ctx, rule.name)


SECTION_READERS: dict[str, SectionReader] = {
    "lines": _named(parse_paragraphs),
    "joined": _named(parse_joined),
    "bullets": _named(parse_bullets),
    "heading_value": _named(parse_last_updated),
    "title_detail": _section_only(parse_constraints),
    "fact_labels": _section_only(parse_quick_facts),
    "cost_labels": _section_only(parse_cost),
    "specs": lambda rule, section, ctx, nulls: parse_technical_specs(section, ctx, ctx.app),
    "plan_tables": lambda rule, section, ctx, nulls: parse_pricing(ctx.page, ctx),
    "pricing_prose": _section_only(parse_pricing_prose),
    "icon_table": _section_only(parse_identity_providers),
    "situation_table": _section_only(parse_recommendations),
    "app_links": _section_only(parse_related_apps),
    "paragraphs_and_pairs": _section_only(parse_practice),
    "offer_blocks": _section_only(parse_identity_offer),
    "voices": _section_only(parse_admins_saying),
    "label_blocks": lambda rule, section, ctx, nulls: parse_idp_configurations(ctx.page.all(rule.section), ctx),
}
