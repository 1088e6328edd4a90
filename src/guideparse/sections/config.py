""" "Configuration for <IdP>": labelled values, then notes."""

from __future__ import annotations

from ..context import Ctx
from ..models import IdpConfiguration
from ..paths import ident
from ..segment import Section


def parse_idp_configurations(sections: list[Section], ctx: Ctx) -> list[IdpConfiguration] | None:
    if not sections:
        return None
    labels = {lab.casefold(): f.field for f in ctx.rules.tables_file.idp_config for lab in f.labels}
    out: list[IdpConfiguration] = []
    for section in sections:
        idp = ctx.vetted(section.captures.get("idp", section.heading.text), "IDP", "IdP name", section.heading.no)
        key = ("idp_configurations", ident("idp", idp))
        ctx.trace((*key, "idp"), section.heading, None, section.rule)
        conf = IdpConfiguration(idp=idp)
        pending: str | None = None
        for ln in section.nonblank:
            field = labels.get(ln.text.casefold())
            if field is not None:
                ctx.use(ln, None, "idp_config.label")
                pending = field
                continue
            if pending is not None and getattr(conf, pending) is None:
                setattr(conf, pending, ln.text)
                ctx.trace((*key, pending), ln, None, f"idp_config.{pending}")
                pending = None
                continue
            pending = None
            if ctx.rules.match_line("boilerplate", ln.text):
                continue
            ctx.trace((*key, "notes", len(conf.notes)), ln, None, "idp_config.note")
            conf.notes.append(ln.text)
        ctx.note_cut(section, "idp_configurations")
        out.append(conf)
    return out
