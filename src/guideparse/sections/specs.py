""" "Technical specifications": sub-headings and their values.

In pipe scrapes a sub-heading is often glued to the end of the previous value
(`Not specifiedKey limitations`); the split uses the labels in rules/tables.yaml.
A list printed without separators ("…Custom planNo SCIM provisioning…") is
split where a lower-case letter touches an upper-case one, never inside a
vocabulary term or the app's name.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from ..context import Ctx
from ..models import TechnicalSpecs
from ..reading import Line
from ..segment import Section
from .lists import read_bullets

_GLUE = re.compile(r"(?<=[a-z).])(?=[A-Z])")  # not after a digit: "2FA", "100K"


@dataclass
class Block:
    field: str
    label: Line
    lines: list[Line] = dataclasses.field(default_factory=list)  # `field` names the attribute above


def split_spec_blocks(section: Section, ctx: Ctx) -> list[Block]:
    exact, labels = ctx.rules.spec_labels
    blocks: list[Block] = []
    for ln in section.body:
        t = ln.text
        low = t.casefold()
        hit = exact.get(low)
        if hit:
            blocks.append(Block(hit[1], ln))
            ctx.use(ln, None, "technical_specs.label")
            continue
        if not blocks:
            continue
        glued = next(
            (
                (lab, f)
                for lab, folded, f in labels
                if low.endswith(folded) and len(t) > len(lab) and not t[-len(lab) - 1].isspace()
            ),
            None,
        )
        if glued:
            blocks[-1].lines.append(Line(ln.no, t[: -len(glued[0])]))
            blocks.append(Block(glued[1], ln))
            continue
        blocks[-1].lines.append(ln)
    return blocks


def split_glued_list(text: str, protected: list[str]) -> list[str]:
    """'Item oneItem twoItem three' -> ['Item one', 'Item two', 'Item three']."""
    keep: set[int] = set()
    for term in protected:
        at = text.find(term) if term else -1
        while at >= 0:  # each occurrence, left to right, none overlapping (as re.finditer)
            keep.update(range(at + 1, at + len(term)))
            at = text.find(term, at + len(term))
    cuts = [m.start() for m in _GLUE.finditer(text) if m.start() not in keep]
    parts, prev = [], 0
    for c in cuts:
        parts.append(text[prev:c])
        prev = c
    parts.append(text[prev:])
    return [p.strip() for p in parts if p.strip()]


def _protected(ctx: Ctx, app: str | None) -> list[str]:
    terms = [t for t, _ in ctx.rules.idps] + list(ctx.rules.icons)
    return terms + ([app] if app else [])


def parse_technical_specs(
    section: Section | None, ctx: Ctx, app: str | None
) -> tuple[TechnicalSpecs | None, list[str] | None]:
    """Return (technical_specs, key_limitations)."""
    if section is None:
        return None, None
    specs = {f.field: f for f in ctx.rules.tables_file.technical_specs}
    out = TechnicalSpecs()
    key_limitations: list[str] | None = None
    seen_key_limitations = False
    for block in split_spec_blocks(section, ctx):
        lines = [ln for ln in block.lines if ln.text]
        path = ("technical_specs", block.field)
        nulls = {n.casefold() for n in specs[block.field].means_null}
        if block.field == "key_limitations":
            seen_key_limitations = True
            items, rest = read_bullets(block.lines, ctx, "key_limitations", "technical_specs.key-limitations:bullet")
            key_limitations = items if items else ctx.empty_section(section, "key_limitations")
            if rest:
                out.documentation = " ".join(ln.text for ln in rest)
                ctx.trace("technical_specs.documentation", rest[0], rest[-1], "technical_specs.documentation")
            continue
        if not lines:
            continue
        text = " ".join(ln.text for ln in lines)
        if text.casefold() in nulls:
            ctx.use(lines[0], lines[-1], f"technical_specs.{block.field}:not-specified")
            continue
        if block.field in ("supported_operations", "supported_attributes"):
            if len(lines) > 1:
                items = [ln.text for ln in lines]
                rule = "technical_specs.list:lines"
            elif "," in text:
                items = [p.strip() for p in text.split(",") if p.strip()]
                rule = "technical_specs.list:commas"
            else:
                items = split_glued_list(text, _protected(ctx, app))
                rule = "technical_specs.list:glued"
            for i in range(len(items)):
                ctx.trace((*path, i), lines[0], lines[-1], rule)
            setattr(out, block.field, items)
        else:
            ctx.trace(path, lines[0], lines[-1], f"technical_specs.{block.field}")
            setattr(out, block.field, text)
    if not seen_key_limitations and not ctx.page.is_cut(section):
        ctx.warn("GP201", "no 'Key limitations' under 'Technical specifications'", section.heading.no)
    ctx.note_cut(section, "technical_specs")
    return out, key_limitations
