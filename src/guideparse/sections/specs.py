""""Technical specifications": sub-headings and their values.

In pipe scrapes a sub-heading is glued to the end of the previous value
(`Not specifiedKey limitations`); the split uses the labels in rules/tables.yaml.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..context import Ctx
from ..reading import Line
from ..segment import Section
from .lists import read_bullets


@dataclass
class Block:
    field: str
    label: Line
    lines: list[Line] = field(default_factory=list)


def split_spec_blocks(section: Section, ctx: Ctx) -> list[Block]:
    labels = sorted(((lab, f.field) for f in ctx.rules.technical_specs for lab in f.labels), key=lambda t: -len(t[0]))
    blocks: list[Block] = []
    for ln in section.body:
        t = ln.text
        hit = next(((lab, f) for lab, f in labels if t.casefold() == lab.casefold()), None)
        if hit:
            blocks.append(Block(hit[1], ln))
            continue
        glued = next(((lab, f) for lab, f in labels
                      if t.casefold().endswith(lab.casefold()) and len(t) > len(lab) and not t[-len(lab) - 1].isspace()), None)
        if glued and blocks:
            blocks[-1].lines.append(Line(ln.no, t[:-len(glued[0])]))
            blocks.append(Block(glued[1], ln))
            continue
        if blocks:
            blocks[-1].lines.append(ln)
    return blocks


def parse_key_limitations(section: Section | None, ctx: Ctx) -> list[str] | None:
    if section is None:
        return None
    block = next((b for b in split_spec_blocks(section, ctx) if b.field == "key_limitations"), None)
    if block is None:
        if ctx.page.is_cut(section):
            return None
        ctx.warn("GP201", "no 'Key limitations' under 'Technical specifications'", section.heading.no)
        return None
    items, _rest = read_bullets(block.lines, ctx, "key_limitations", "technical_specs.key-limitations:bullet")
    if not items:
        return ctx.empty_section(section, "key_limitations")
    ctx.note_cut(section, "key_limitations")
    return items
