"""Prose sections: paragraphs as printed (one non-blank line is one paragraph)."""

from __future__ import annotations

from ..context import Ctx
from ..segment import Section


def parse_paragraphs(section: Section | None, ctx: Ctx, path: str) -> list[str]:
    """`summary`: every paragraph under the heading, in order."""
    if section is None:
        return []
    out = []
    for i, ln in enumerate(section.nonblank):
        out.append(ln.text)
        ctx.trace((path, i), ln, None, f"{section.rule}:paragraph")
    ctx.note_cut(section, path)
    return out


def parse_joined(section: Section | None, ctx: Ctx, path: str) -> str | None:
    """`strategic_alternative`, `bottom_line`: the paragraphs joined by one space."""
    if section is None:
        return None
    lines = section.nonblank
    if not lines:
        return None
    ctx.note_cut(section, path)
    ctx.trace(path, lines[0], lines[-1], f"{section.rule}:paragraphs-joined")
    return " ".join(ln.text for ln in lines)


def parse_last_updated(section: Section | None, ctx: Ctx, path: str = "last_updated") -> str | None:
    """The value a heading's pattern captures (`Last updated: {date}`), read into field `path`."""
    if section is None or "date" not in section.captures:
        return None
    ctx.trace(path, section.heading, None, section.rule)
    return section.captures["date"]
