""" "Supported identity providers": one row per IdP with SSO / SCIM cells and notes."""

from __future__ import annotations

from ..confusables import vet
from ..context import Ctx
from ..models import IdentityProvider
from ..paths import format_path_memo, ident
from ..segment import Section
from ..tables import Row, Table, cell_term, icon_value, read_tables


def cell_value(row: Row, role: str, table: Table, ctx: Ctx, idp: str) -> tuple[str, str]:
    """A printed cell -> (value, rule id). Lost or empty cells are 'unknown'."""
    text = row.cells.get(role)
    if text is None:
        return "unknown", "cell.empty" if table.pipe else "cell.icon-lost"
    icon = icon_value(text, ctx.rules, table.kind)
    if icon is not None:
        return icon
    term = cell_term(text, ctx.rules)
    if term is not None:
        return term.value, term.id
    if not text.isascii():
        looks = vet(text, "CELL", ctx.rules, "cell value", "left unknown")
        if looks.warning is not None:
            ctx.warn("GP108", f"column {role} of {idp}: {looks.warning}", row.line.no)
            term = cell_term(looks.name, ctx.rules)  # NFKC made it a known value
            return (term.value, term.id) if term is not None else ("unknown", "cell.lookalike")
    known = ", ".join(sorted({t.text for t in ctx.rules.cells.values()} | set(ctx.rules.icons)))
    ctx.warn(
        "GP101",
        f"unknown cell value {text!r} in column {role} of {idp} (known: {known}); add it to rules/vocabulary.jsonl",
        row.line.no,
    )
    return "unknown", "cell.unknown-value"


def parse_identity_providers(section: Section | None, ctx: Ctx) -> list[IdentityProvider] | None:
    if section is None:
        return None
    tables = read_tables(section.body, ctx.rules, kinds=("identity_providers",), heads=ctx.table_heads)
    if not tables:
        if section.nonblank:
            ctx.warn("GP106", "no identity-provider table header found", section.nonblank[0].no)
        return ctx.empty_section(section, "identity_providers")
    table = tables[0]
    ctx.use_table(table)
    out: list[IdentityProvider] = []
    seen: set[str] = set()
    for row in table.rows:
        ctx.warnings.extend(row.warnings)
        idp = row.cells.get("idp")
        if not idp:
            ctx.warn("GP104", f"identity-provider row without an IdP name: {row.line.text[:80]!r}", row.line.no)
            continue
        idp = ctx.vetted(idp, "IDP", "IdP name", row.line.no)
        if idp in seen:
            ctx.warn("GP104", f"IdP {idp!r} listed twice; first row kept", row.line.no)
            continue
        seen.add(idp)
        base = ("identity_providers", ident("idp", idp))
        base_at = format_path_memo(base)
        ctx.trace(f"{base_at}.idp", row.line, None, row.rules.get("idp", "pipe:cell"))
        sso, sso_rule = cell_value(row, "sso", table, ctx, idp)
        scim, scim_rule = cell_value(row, "scim", table, ctx, idp)
        ctx.trace(f"{base_at}.sso", row.line, None, sso_rule)
        ctx.trace(f"{base_at}.scim", row.line, None, scim_rule)
        notes = row.cells.get("notes")
        if notes:
            ctx.trace(f"{base_at}.notes", row.line, None, row.rules.get("notes", "pipe:cell"))
        out.append(IdentityProvider(idp=idp, sso=sso, scim=scim, notes=notes))
    for extra in tables[1:]:
        ctx.warn("GP107", "a second identity-provider table in the section was ignored", extra.header.no)
    if not out and not table.rows:
        return ctx.empty_section(section, "identity_providers")
    ctx.note_cut(section, "identity_providers")
    return out
