"""List sections: bullets ("Summary of challenges", "Key limitations") and
title/detail pairs ("Additional constraints")."""

from __future__ import annotations

from ..context import Ctx
from ..models import Constraint
from ..paths import format_path_memo, ident
from ..reading import Line
from ..segment import Section


def strip_bullet(text: str, prefixes: tuple[str, ...]) -> str | None:
    """'• item' / '- item' -> 'item'; None when the line is not a bullet.

    `prefixes` are the bullet markers with their space (Rules.bullet_prefixes)."""
    if not text.startswith(prefixes):
        return None
    for p in prefixes:
        if text.startswith(p):
            return text[len(p) :].strip()
    return None


def read_bullets(lines: list[Line], ctx: Ctx, field: str, rule: str) -> tuple[list[str], list[Line]]:
    """Leading bullet items of a block (the items of record field `field`), and the lines
    after the first non-bullet."""
    items: list[str] = []
    nonblank = [ln for ln in lines if ln.text]
    for i, ln in enumerate(nonblank):
        item = strip_bullet(ln.text, ctx.rules.bullet_prefixes)
        if item is None:
            return items, nonblank[i:]
        ctx.trace((field, len(items)), ln, None, rule)
        items.append(item)
    return items, []


def parse_bullets(section: Section | None, ctx: Ctx, path: str) -> list[str] | None:
    if section is None:
        return None
    items, _rest = read_bullets(section.body, ctx, path, f"{section.rule}:bullet")
    if not items:
        return ctx.empty_section(section, path)
    ctx.note_cut(section, path)
    return items


def parse_constraints(section: Section | None, ctx: Ctx) -> list[Constraint] | None:
    """Lines alternate title, detail."""
    if section is None:
        return None
    lines = section.nonblank
    if not lines:
        return ctx.empty_section(section, "constraints")
    out: list[Constraint] = []
    for i in range(0, len(lines) - 1, 2):
        title, detail = lines[i], lines[i + 1]
        key = ("constraints", ident("title", title.text))
        key_at = format_path_memo(key)
        ctx.trace(f"{key_at}.title", title, None, f"{section.rule}:title-detail")
        ctx.trace(f"{key_at}.detail", detail, None, f"{section.rule}:title-detail")
        out.append(Constraint(title=title.text, detail=detail.text))
    if len(lines) % 2:
        last = lines[-1]
        if ctx.page.is_cut(section):
            ctx.warn("GP203", f"constraint {last.text[:60]!r} cut by the end of the page; dropped", last.no)
        else:
            ctx.warn("GP105", f"constraint title without a detail line: {last.text[:80]!r}", last.no)
            ctx.trace(("constraints", ident("title", last.text), "title"), last, None, f"{section.rule}:title-only")
            out.append(Constraint(title=last.text, detail=None))
    ctx.note_cut(section, "constraints")
    return out
