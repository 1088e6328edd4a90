""" "The decision": the situation / recommendation table."""

from __future__ import annotations

from ..context import Ctx
from ..models import Recommendation
from ..paths import format_path_memo, ident
from ..segment import Section
from ..tables import read_tables


def parse_recommendations(section: Section | None, ctx: Ctx) -> list[Recommendation] | None:
    if section is None:
        return None
    tables = read_tables(section.body, ctx.rules, kinds=("decision",), heads=ctx.table_heads)
    if not tables:
        return ctx.empty_section(section, "recommendations")
    out: list[Recommendation] = []
    for table in tables:
        ctx.use_table(table)
        for row in table.rows:
            ctx.warnings.extend(row.warnings)
            situation = row.cells.get("situation")
            if not situation:
                continue
            key = ("recommendations", ident("situation", situation))
            key_at = format_path_memo(key)
            ctx.trace(f"{key_at}.situation", row.line, None, row.rules.get("situation", "pipe:cell"))
            rec = row.cells.get("recommendation")
            if rec:
                ctx.trace(f"{key_at}.recommendation", row.line, None, row.rules.get("recommendation", "pipe:cell"))
            out.append(Recommendation(situation=situation, recommendation=rec))
    ctx.note_cut(section, "recommendations")
    return out
