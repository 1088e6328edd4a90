""" "Related apps": one card per app, each opening with an "<App> logo" line.

6sense logo                         card start
6sense                              app
No SCIM                             status
B2B Revenue Intelligence / ABM      category
ProvisioningNot Supported           label/value (rules/tables.yaml related_apps)
Manual Cost$11,754/yr               label/value
6sense, the B2B revenue …           summary
"""

from __future__ import annotations

from ..context import Ctx
from ..models import RelatedApp
from ..paths import format_path_memo, ident
from ..printed_numbers import first_whole_number
from ..reading import Line
from ..segment import Section
from ..tables import read_label_rows


def parse_related_apps(section: Section | None, ctx: Ctx) -> list[RelatedApp] | None:
    if section is None:
        return None
    cards: list[tuple[Line, str, list[Line]]] = []
    for ln in section.nonblank:
        hit = ctx.rules.match_line("logo", ln.text)
        if hit:
            cards.append((ln, hit[1]["app"], []))
        elif cards:
            cards[-1][2].append(ln)
    if not cards:
        return ctx.empty_section(section, "related_apps")
    labels = tuple((lab, f.field) for f in ctx.rules.tables_file.related_apps for lab in f.labels)
    out: list[RelatedApp] = []
    for i, (logo, name, lines) in enumerate(cards):
        if ctx.page.is_cut(section) and i == len(cards) - 1 and len(lines) < 5:
            ctx.warn("GP203", f"related app card {name!r} cut by the end of the page; dropped", logo.no)
            continue
        key = ("related_apps", ident("app", name))
        key_at = format_path_memo(key)
        ctx.use(logo, None, "related_apps.card-logo")
        card = RelatedApp(app=name)
        rest = list(lines)
        if rest and rest[0].text == name:
            ctx.trace(f"{key_at}.app", rest[0], None, "related_apps.card-name")
            rest = rest[1:]
        else:
            ctx.trace(f"{key_at}.app", logo, None, "related_apps.card-logo")
        rows, prose = read_label_rows(rest, labels)
        label_lines = {r.line.no for r in rows}
        before = [ln for ln in prose if not rows or ln.no < min(label_lines)]
        after = [ln for ln in prose if rows and ln.no > max(label_lines)]
        if not rows:
            before, after = prose[:2], prose[2:]
        if before:
            card.status = before[0].text
            ctx.trace(f"{key_at}.status", before[0], None, "related_apps.card-status")
        if len(before) > 1:
            card.category = before[1].text
            ctx.trace(f"{key_at}.category", before[1], None, "related_apps.card-category")
        for extra in before[2:]:
            after.insert(0, extra)
        for row in rows:
            if row.field == "provisioning" and card.provisioning is None:
                card.provisioning_label, card.provisioning = row.label, row.value or None
                ctx.trace(f"{key_at}.provisioning_label", row.line, None, "related_apps.label")
                ctx.trace(f"{key_at}.provisioning", row.line, None, "related_apps.label")
            elif row.field == "manual_cost" and card.manual_cost is None:
                card.manual_cost = row.value or None
                ctx.trace(f"{key_at}.manual_cost", row.line, None, "related_apps.label")
                dollars = first_whole_number(row.value or "")
                if dollars is not None:
                    card.manual_cost_usd_per_year = dollars
                    ctx.trace(f"{key_at}.manual_cost_usd_per_year", row.line, None, "related_apps.manual-cost-number")
        if after:
            card.summary = " ".join(ln.text for ln in after)
            ctx.trace(f"{key_at}.summary", after[0], after[-1], "related_apps.card-summary")
        out.append(card)
    ctx.note_cut(section, "related_apps")
    return out
