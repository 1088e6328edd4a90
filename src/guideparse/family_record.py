"""Stage 4 for the families with a title block of title, badge and `Updated<date>`
(rules/families.yaml): a recognised page of one of them -> its document record. The header,
the app's name (title, else the family's template sentences), then each field by the reader
its rule names (family_readers.read_fields, as for every family)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from .context import Ctx
from .families import Recognition, compiled_lines, match_any
from .family_models import document_model
from .family_readers import read_fields
from .models import DocumentRecord, Source
from .reading import Text
from .rules_families import FamilyRule
from .rules_regex import Regex, compile_regex
from .segment import Page
from .slugs import slug_for

_DATE = re.compile(r"\s*([A-Z][a-z]{2,8})\.? (\d{1,2}), (\d{4})")


def iso_date(text: str) -> str | None:
    """'Mar 9, 2026' / 'March 9, 2026' -> '2026-03-09'; None when it is not such a date."""
    m = _DATE.fullmatch(text)
    if m is None:
        return None
    for fmt in ("%b %d %Y", "%B %d %Y"):
        try:
            return datetime.strptime(" ".join(m.groups()), fmt).date().isoformat()
        except ValueError:
            continue
    return None


def read_family_header(page: Page, fam: FamilyRule, ctx: Ctx) -> dict[str, Any]:
    """Title (app), badge, taglines, chrome and the `Updated<date>` line of the title block."""
    out: dict[str, Any] = {"app": None, "badge": None, "updated": None}
    badges = {b.casefold(): b for b in fam.badges}
    prefix = ctx.rules.families.updated_prefix
    for ln in page.header:
        if not ln.text:
            continue
        title = match_any(compiled_lines(fam, "title"), ln.text)
        hit = ctx.rules.match_line("chrome", ln.text) or ctx.rules.match_line("logo", ln.text)
        if title is not None and out["app"] is None:
            out["app"] = ctx.vetted(title[1]["app"], None, "app name", ln.no)
            ctx.trace("app", ln, None, title[0])
        elif ln.text.casefold() in badges and out["badge"] is None:
            out["badge"] = ln.text
            ctx.trace("badge", ln, None, "family.badge")
        elif ln.text.startswith(prefix) and iso_date(ln.text[len(prefix) :]) is not None:
            out["updated"] = iso_date(ln.text[len(prefix) :])
            ctx.trace("updated", ln, None, "family.updated")
        elif hit is not None:
            ctx.use(ln, None, hit[0])
        elif (tag := match_any(compiled_lines(fam, "taglines"), ln.text)) is not None:
            ctx.use(ln, None, tag[0])
    return out


_SENTENCES: dict[str, Regex] = {}
_NAME = r"(?P<app>[A-Z0-9][\w.&'!+-]*(?: [A-Z0-9][\w.&'!+-]*){0,3})"


def sentence_regex(pattern: str) -> Regex:
    """An app sentence ('{app} exposes ') as an RE2 regex matching a line that opens with it."""
    rx = _SENTENCES.get(pattern)
    if rx is None:
        rx = compile_regex(_NAME + re.escape(pattern.removeprefix("{app}")) + ".*")
        _SENTENCES[pattern] = rx
    return rx


def app_from_sentences(page: Page, fam: FamilyRule, ctx: Ctx) -> str | None:
    """The app's name from the family's template sentences: the first line opening with one."""
    for section in page.sections:
        for ln in section.nonblank:
            for p in fam.app_sentences:
                m = sentence_regex(p.pattern).fullmatch(ln.text)
                if m is not None:
                    name = m.groupdict()["app"]
                    assert name is not None
                    ctx.trace("app", ln, None, p.id)
                    return ctx.vetted(name, None, "app name", ln.no)
    return None


def extract_family_document(
    data: bytes, path: str, sha: str, text: Text, page: Page, ctx: Ctx, found: Recognition
) -> DocumentRecord:
    """A recognised page of a family with an `Updated<date>` title block -> its record (not finished)."""
    fam = ctx.rules.families.families[found.family]
    header = read_family_header(page, fam, ctx)
    app = header["app"] if header["app"] is not None else app_from_sentences(page, fam, ctx)
    slug = slug_for(app, sha, ctx)
    ctx.app = app
    fields = read_fields(page, fam, ctx)
    model = document_model(found.family, fam.model)
    source = Source(
        path=path, sha256=sha, bytes=len(data), format=page.format, truncated=page.truncated, encoding=text.encoding
    )
    return model.model_validate(
        {
            "slug": slug,
            "app": app,
            "family": found.family,
            "updated": header["updated"],
            "badge": header["badge"],
            "source": source,
            **fields,
        }
    )
