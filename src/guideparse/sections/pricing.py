"""Plan tables ("Tier comparison", "Pricing structure", "Plan Structure (…)", …).

A plan table is recognised by its header row (Plan / Price / SSO / SCIM), not by
its title, so a new title wording needs no rule; the title is the heading-like
line just above the header.
"""

from __future__ import annotations

from ..context import Ctx
from ..models import Plan, PlanTable, PricingNote
from ..paths import format_path_memo, ident
from ..prices import parse_price
from ..segment import Page, Section
from ..tables import icon_value, read_tables

_NOTE_LABEL_MAX_WORDS = 4


def _icon_bool(text: str | None, ctx: Ctx, where: str, line: int) -> tuple[bool | None, str | None]:
    if text is None:
        return None, None
    icon = icon_value(text, ctx.rules, "plans")
    if icon is None:
        ctx.warn("GP101", f"unknown cell value {text!r} in {where} (known: {', '.join(ctx.rules.icons)})", line)
        return None, None
    return icon[0] == "yes", icon[1]


def parse_pricing(page: Page, ctx: Ctx) -> list[PlanTable] | None:
    """Every plan table on the page, in page order."""
    out: list[PlanTable] = []
    last_section = None
    for section in page.sections:
        for table in read_tables(section.body, ctx.rules, kinds=("plans",), heads=ctx.table_heads):
            last_section = section
            title = table.title.text if table.title else None
            if title is None:
                ctx.warn("GP106", "plan table without a title line", table.header.no)
            key = ("pricing", len(out) if title is None else ident("title", title))
            key_at = format_path_memo(key)
            ctx.trace(f"{key_at}.title", table.title or table.header, None, "table:plans:title")
            ctx.use_table(table)
            plans: list[Plan] = []
            for row in table.rows:
                ctx.warnings.extend(row.warnings)
                name = row.cells.get("plan")
                if not name:
                    ctx.warn("GP104", f"plan row without a plan name: {row.line.text[:80]!r}", row.line.no)
                    continue
                pk = (*key, "plans", ident("plan", name))
                pk_at = format_path_memo(pk)
                ctx.trace(f"{pk_at}.plan", row.line, None, row.rules.get("plan", "pipe:cell"))
                price = row.cells.get("price")
                parsed = None
                if price:
                    ctx.trace(f"{pk_at}.price", row.line, None, row.rules.get("price", "pipe:cell"))
                    parsed, price_rule = parse_price(price, ctx.rules)
                    if parsed is not None:
                        ctx.trace(f"{pk_at}.price_parsed", row.line, None, price_rule or "price")
                sso, sso_rule = _icon_bool(row.cells.get("sso"), ctx, f"SSO column of plan {name}", row.line.no)
                scim, scim_rule = _icon_bool(row.cells.get("scim"), ctx, f"SCIM column of plan {name}", row.line.no)
                for role, rule in (("sso", sso_rule), ("scim", scim_rule)):
                    if rule:
                        ctx.trace(f"{pk_at}.{role}", row.line, None, rule)
                plans.append(Plan(plan=name, price=price, sso=sso, scim=scim, price_parsed=parsed))
            out.append(PlanTable(title=title, plans=plans))
    pricing = page.first("pricing")
    if not out:
        if pricing is None:
            return None
        return ctx.empty_section(pricing, "pricing")
    if last_section is not None:
        ctx.note_cut(last_section, "pricing")
    return out


def parse_pricing_prose(section: Section | None, ctx: Ctx) -> tuple[str | None, list[PricingNote] | None]:
    """The pricing section's paragraphs outside its tables: the intro, then notes.

    Call after parse_pricing, which marks the plan tables' lines as read (Ctx.use_table):
    the intro is a paragraph before the first of them.
    """
    if section is None:
        return None, None
    intro: str | None = None
    notes: list[PricingNote] = []
    first_table = ctx.first_table_line("plans", after=section.heading.no)
    for ln in section.nonblank:
        if ln.no in ctx.used:
            continue
        if intro is None and not notes and (first_table is None or ln.no < first_table):
            intro = ln.text
            ctx.trace("pricing_intro", ln, None, f"{section.rule}:intro")
            continue
        label, sep, rest = ln.text.partition(": ")
        path = ("pricing_notes", len(notes))
        if sep and rest and len(label.split()) <= _NOTE_LABEL_MAX_WORDS:
            notes.append(PricingNote(label=label, text=rest))
            ctx.trace((*path, "label"), ln, None, "pricing.note:labelled")
        else:
            notes.append(PricingNote(text=ln.text))
        ctx.trace((*path, "text"), ln, None, "pricing.note")
    return intro, notes
