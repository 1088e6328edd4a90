"""Block structure shared by the prose-and-list sections.

Flat scrapes separate blocks with blank lines: a one-line block is a paragraph
or a sub-heading, a longer block is a list or title/detail pairs. Pipe scrapes
have no blank lines, so every line is its own block.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..context import Ctx
from ..line_ends import NOT_SUBHEADING_END
from ..models import Constraint
from ..paths import TraceSegment, format_path_memo, ident
from ..reading import Line


def split_blocks(lines: list[Line], fmt: str, bullets: tuple[str, ...]) -> list[list[Line]]:
    """Blank-line blocks in flat scrapes; in pipe scrapes runs of table rows or
    bullets, and every other line alone."""
    if fmt != "text/pipe":
        blocks: list[list[Line]] = []
        cur: list[Line] = []
        for ln in lines:
            if ln.text:
                cur.append(ln)
            elif cur:
                blocks.append(cur)
                cur = []
        if cur:
            blocks.append(cur)
        return blocks
    out: list[list[Line]] = []
    prev = None
    for ln in lines:
        if not ln.text:
            prev = None
            continue
        kind = "row" if ln.text.startswith("|") else "bullet" if is_bullet(ln.text, bullets) else None
        if kind is not None and kind == prev:
            out[-1].append(ln)
        else:
            out.append([ln])
        prev = kind
    return out


def is_bullet(text: str, prefixes: tuple[str, ...]) -> bool:
    """Whether a line opens with a bullet marker and its space (`prefixes`: Rules.bullet_prefixes)."""
    return text.startswith(prefixes)


def words(text: str) -> int:
    return len(text.split())


def is_heading_like(text: str, bullets: tuple[str, ...], max_words: int = 12) -> bool:
    """A sub-heading: short, no sentence end, neither a bullet (`bullets`: Rules.bullet_prefixes)
    nor a table row."""
    return (
        0 < words(text) <= max_words
        and not text.endswith(NOT_SUBHEADING_END)
        and not is_bullet(text, bullets)
        and not text.startswith("|")
    )


def looks_like_pairs(block: list[Line], bullets: tuple[str, ...]) -> bool:
    """Title/detail pairs: an even run where each detail is longer than its short title."""
    if len(block) < 2 or len(block) % 2:
        return False
    for title, detail in zip(block[::2], block[1::2], strict=True):
        if not is_heading_like(title.text, bullets, 8) or words(detail.text) <= words(title.text):
            return False
    return True


def read_pairs(block: list[Line], ctx: Ctx, path: Sequence[TraceSegment], rule: str) -> list[Constraint]:
    """Title/detail pairs as items of the list at `path` (identified by their titles)."""
    out = []
    for title, detail in zip(block[::2], block[1::2], strict=True):
        key = (*path, ident("title", title.text))
        key_at = format_path_memo(key)
        ctx.trace(f"{key_at}.title", title, None, rule)
        ctx.trace(f"{key_at}.detail", detail, None, rule)
        out.append(Constraint(title=title.text, detail=detail.text))
    return out
