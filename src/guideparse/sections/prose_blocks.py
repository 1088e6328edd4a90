"""Sections of prose, lists and small tables: "What this means in practice",
"What X actually offers for identity", "What IT admins are saying"."""

from __future__ import annotations

from collections.abc import Sequence

from ..context import Ctx
from ..line_ends import LEAD_IN_END, QUOTE_TEXT_END
from ..models import AdminVoices, IdentityOffer, KeyValue, OfferBlock, OfferTable, Practice, Quote, TitledList
from ..paths import TraceSegment, format_path_memo, ident
from ..reading import Line
from ..segment import Section
from ..tables import Table, match_header, read_tables
from .blocks import is_bullet, is_heading_like, looks_like_pairs, read_pairs, split_blocks, words
from .lists import strip_bullet

_OFFER_TABLES = ("settings", "features", "integrations", "plans", "identity_providers")


def _blocks(section: Section, ctx: Ctx) -> list[list[Line]]:
    return split_blocks(section.body, ctx.page.format, ctx.rules.bullet_prefixes)


def parse_practice(section: Section | None, ctx: Ctx) -> Practice | None:
    if section is None:
        return None
    out = Practice()
    for block in _blocks(section, ctx):
        if len(block) > 1 and looks_like_pairs(block, ctx.rules.bullet_prefixes):
            out.items.extend(read_pairs(block, ctx, ("practice", "items"), f"{section.rule}:title-detail"))
            continue
        for ln in block:
            ctx.trace(("practice", "paragraphs", len(out.paragraphs)), ln, None, f"{section.rule}:paragraph")
            out.paragraphs.append(ln.text)
    if not out.paragraphs and not out.items:
        return None if ctx.empty_section(section, "practice") is None else out
    ctx.note_cut(section, "practice")
    return out


def _offer_table(table: Table, ctx: Ctx, path: Sequence[TraceSegment]) -> OfferTable:
    headers = [c.headers[0] for c in table.columns]
    rows: list[list[str | None]] = []
    entries: list[KeyValue] = []
    ctx.use_table(table)
    ctx.trace((*path, "kind"), table.header, None, f"table:{table.kind}")
    ctx.trace((*path, "headers"), table.header, None, f"table:{table.kind}:header")
    ctx.trace((*path, "rows"), table.header, table.last_line, f"table:{table.kind}")
    for row in table.rows:
        cells = [row.cells.get(c.role) for c in table.columns]
        rows.append(cells)
        if len(table.columns) == 2 and cells[0]:
            supported, value = _supported(cells[1], ctx)
            entries.append(KeyValue(key=cells[0], value=value, supported=supported))
            entry = (*path, "entries", ident("key", cells[0]))
            entry_at = format_path_memo(entry)
            ctx.trace(f"{entry_at}.key", row.line, None, row.rules.get("key", "pipe:cell"))
            if value is not None:
                ctx.trace(f"{entry_at}.value", row.line, None, row.rules.get("value", "pipe:cell"))
            if supported is not None:
                ctx.trace(f"{entry_at}.supported", row.line, None, "icon-or-yes-no")
    return OfferTable(kind=table.kind, headers=headers, rows=rows, entries=entries)


def _supported(text: str | None, ctx: Ctx) -> tuple[str | None, str | None]:
    """'❌ No' -> ('no', 'No'); 'Yes (enabled by default)' -> ('yes', …); else (None, text)."""
    if not text:
        return None, text
    for icon, (value, _rid) in ctx.rules.icons_longest_first:
        if text.startswith(icon):
            return value, text[len(icon) :].strip() or None
    first = text.split(" ", 1)[0].rstrip(",.;:").casefold()
    hit = ctx.rules.bools.get(first)
    if hit is not None:
        return ("yes" if hit[0] else "no"), text
    return None, text


def _is_list(lines: list[Line], bullets: tuple[str, ...]) -> bool:
    """A block read as a list: all bullets, or several lines that are not title/detail pairs."""
    return all(is_bullet(ln.text, bullets) for ln in lines) or (len(lines) > 1 and not looks_like_pairs(lines, bullets))


def _current(offer: IdentityOffer) -> OfferBlock:
    """The block being filled (helpers, not nested functions: compiled, a closure and its
    environment form a cycle, garbage only the cyclic collector frees)."""
    if not offer.blocks:
        offer.blocks.append(OfferBlock())
    return offer.blocks[-1]


def _base(offer: IdentityOffer) -> tuple[TraceSegment, ...]:
    """The current block's path: identified by its heading (paths.IDENTITY), else its index."""
    block = _current(offer)
    at = len(offer.blocks) - 1
    return ("identity_offer", "blocks", at if block.heading is None else ident("heading", block.heading))


def parse_identity_offer(section: Section | None, ctx: Ctx) -> IdentityOffer | None:
    if section is None:
        return None
    offer = IdentityOffer(title=section.heading.text)
    ctx.trace("identity_offer.title", section.heading, None, section.rule)
    list_title: Line | None = None
    blocks = _blocks(section, ctx)
    bullets = ctx.rules.bullet_prefixes
    for i, lines in enumerate(blocks):
        first = lines[0].text
        if match_header(first, ctx.rules, _OFFER_TABLES):
            for table in read_tables(lines, ctx.rules, _OFFER_TABLES, heads=ctx.table_heads):
                block = _current(offer)
                block.tables.append(_offer_table(table, ctx, (*_base(offer), "tables", len(block.tables))))
            list_title = None
            continue
        if _is_list(lines, bullets):
            items = [strip_bullet(ln.text, bullets) or ln.text for ln in lines]
            block = _current(offer)
            path = (*_base(offer), "lists", len(block.lists))
            if list_title is not None:
                ctx.trace((*path, "title"), list_title, None, f"{section.rule}:list-title")
            for j, ln in enumerate(lines):
                ctx.trace((*path, "items", j), ln, None, f"{section.rule}:list-item")
            block.lists.append(TitledList(title=list_title.text.rstrip(":") if list_title else None, items=items))
            list_title = None
            continue
        if len(lines) > 1:
            _current(offer).items.extend(
                read_pairs(lines, ctx, (*_base(offer), "items"), f"{section.rule}:title-detail")
            )
            continue
        ln = lines[0]
        nxt = blocks[i + 1] if i + 1 < len(blocks) else None
        next_is_list = (
            nxt is not None and not match_header(nxt[0].text, ctx.rules, _OFFER_TABLES) and _is_list(nxt, bullets)
        )
        if first.endswith(LEAD_IN_END) and words(first) <= 6 and next_is_list:
            list_title = ln
            ctx.use(ln, None, f"{section.rule}:list-title")
            continue
        if is_heading_like(first, bullets) and i + 1 < len(blocks):
            offer.blocks.append(OfferBlock(heading=first))
            ctx.trace((*_base(offer), "heading"), ln, None, f"{section.rule}:sub-heading")
            continue
        block = _current(offer)
        ctx.trace((*_base(offer), "paragraphs", len(block.paragraphs)), ln, None, f"{section.rule}:paragraph")
        block.paragraphs.append(first)
    ctx.note_cut(section, "identity_offer")
    return offer


def parse_admins_saying(section: Section | None, ctx: Ctx) -> AdminVoices | None:
    """Intro, bullet points, then quotes each optionally followed by a short attribution line."""
    if section is None:
        return None
    out = AdminVoices()
    bullets = ctx.rules.bullet_prefixes
    stage = "intro"
    for ln in section.nonblank:
        item = strip_bullet(ln.text, bullets)
        if item is not None and stage in ("intro", "points"):
            stage = "points"
            ctx.trace(("admins_saying", "points", len(out.points)), ln, None, f"{section.rule}:bullet")
            out.points.append(item)
            continue
        if stage == "intro":
            ctx.trace(("admins_saying", "intro", len(out.intro)), ln, None, f"{section.rule}:intro")
            out.intro.append(ln.text)
            continue
        stage = "quotes"
        last = out.quotes[-1] if out.quotes else None
        if (
            last is not None
            and last.attribution is None
            and words(ln.text) <= 8
            and not ln.text.endswith(QUOTE_TEXT_END)
        ):
            last.attribution = ln.text
            ctx.trace(
                ["admins_saying", "quotes", len(out.quotes) - 1, "attribution"], ln, None, f"{section.rule}:attribution"
            )
            continue
        ctx.trace(("admins_saying", "quotes", len(out.quotes), "text"), ln, None, f"{section.rule}:quote")
        out.quotes.append(Quote(text=ln.text))
    ctx.note_cut(section, "admins_saying")
    return out
