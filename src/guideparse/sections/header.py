"""The title block of a flat scrape: app name, badge and plan requirement.

Stitchflow                                  chrome
Mailjet logo                                logo        -> app candidate
Mailjet SCIM guide                          title       -> app
Connector Only                              (no rule)   -> badge
How to automate Mailjet user provisioning…  tagline
Native SCIM requires Enterprise plan        plan        -> plan_requirement
"""

from __future__ import annotations

from dataclasses import dataclass

from ..context import Ctx
from ..reading import Line


@dataclass
class Header:
    app: str | None = None
    app_line: Line | None = None
    app_rule: str | None = None
    badge: str | None = None
    plan_requirement: str | None = None


def parse_header(lines: list[Line], ctx: Ctx) -> Header:
    out = Header()
    seen_title = False
    for ln in lines:
        if not ln.text:
            continue
        hit = ctx.rules.match_line("chrome", ln.text)
        if hit:
            ctx.use(ln, None, hit[0])
            continue
        hit = ctx.rules.match_line("title", ln.text)
        if hit and not seen_title:
            seen_title = True
            out.app, out.app_line, out.app_rule = hit[1]["app"], ln, hit[0]
            ctx.trace("app", ln, None, hit[0])
            continue
        hit = ctx.rules.match_line("logo", ln.text) or ctx.rules.match_line("tagline", ln.text)
        if hit:
            ctx.use(ln, None, hit[0])
            continue
        hit = ctx.rules.match_line("plan_requirement", ln.text)
        if hit:
            out.plan_requirement = hit[1]["plan"]
            ctx.trace("plan_requirement", ln, None, hit[0])
            continue
        hit = ctx.rules.match_line("plan_absent", ln.text)
        if hit:
            ctx.use(ln, None, hit[0])
            continue
        if seen_title and out.badge is None:
            out.badge = ln.text
            ctx.trace("badge", ln, None, "header.badge-after-title")
    return out
