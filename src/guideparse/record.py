"""Stage 4: bytes -> document record. Pure: no I/O, no globals but the rules."""
from __future__ import annotations

import hashlib
import re
import unicodedata

from .appname import find_app_name
from .context import Ctx
from .errors import InputError
from .models import DocumentRecord, Source
from .reading import read_text
from .rules import Rules
from .sections.facts import parse_cost, parse_quick_facts
from .sections.header import parse_header
from .sections.idps import parse_identity_providers
from .sections.lists import parse_bullets, parse_constraints
from .sections.pricing import parse_pricing
from .sections.prose import parse_joined, parse_last_updated, parse_paragraphs
from .sections.specs import parse_key_limitations
from .segment import segment

_NON_SLUG = re.compile(r"[^a-z0-9]+")
_HTML_START = re.compile(rb"^\s*(<!doctype\s+html|<html|<head|<body|<\?xml)", re.IGNORECASE)

#: Sections every whole guide has; missing ones are reported (GP201).
CORE_SECTIONS = ("summary", "strategic_alternative", "quick_facts", "identity_providers")


def slugify(name: str) -> str:
    """'Zoho Workplace' -> 'zoho-workplace', 'Customer.io' -> 'customer-io', 'Aha!' -> 'aha'."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return _NON_SLUG.sub("-", ascii_name.lower()).strip("-")


def looks_like_html(data: bytes) -> bool:
    head = data[:2048].lstrip(b"\xef\xbb\xbf")
    return bool(_HTML_START.match(head))


def extract_document(data: bytes, path: str, rules: Rules) -> DocumentRecord:
    """Extract one guide. Raises InputError when the input cannot give a record."""
    sha = hashlib.sha256(data).hexdigest()
    if looks_like_html(data):
        raise InputError("GP906", "HTML guides are not supported yet", path=path)
    text = read_text(data, path)
    page = segment(text, rules)
    if not page.sections:
        raise InputError("GP903", "not a guide: no guide section heading recognised", path=path)

    ctx = Ctx(rules, page)
    ctx.warnings.extend(text.warnings)
    ctx.warnings.extend(page.warnings)

    header = parse_header(page.header, ctx)
    app = header.app
    if app is None:
        cand = find_app_name(ctx)
        if cand is not None:
            app = cand.name
            ctx.trace("app", cand.line, None, cand.rule)
    if app is None:
        ctx.warn("GP501", "app name not found in title or template sentences")
        slug = f"unknown-{sha[:12]}"
    else:
        slug = slugify(app) or f"unknown-{sha[:12]}"

    if not page.truncated:
        for label in CORE_SECTIONS:
            if page.first(label) is None:
                ctx.warn("GP201", f"section '{label}' not found")

    quick_facts, quick_raw = parse_quick_facts(page.first("quick_facts"), ctx)
    doc = DocumentRecord(
        slug=slug,
        app=app,
        source=Source(path=path, sha256=sha, bytes=len(data), format=page.format,  # type: ignore[arg-type]
                      truncated=page.truncated, encoding=text.encoding),
        badge=header.badge,
        plan_requirement=header.plan_requirement,
        summary=parse_paragraphs(page.first("summary"), ctx, "summary"),
        strategic_alternative=parse_joined(page.first("strategic_alternative"), ctx, "strategic_alternative"),
        quick_facts=quick_facts,
        identity_providers=parse_identity_providers(page.first("identity_providers"), ctx),
        cost_of_manual_management=parse_cost(page.first("cost"), ctx),
        pricing=parse_pricing(page, ctx),
        constraints=parse_constraints(page.first("constraints"), ctx),
        challenges=parse_bullets(page.first("challenges"), ctx, "challenges"),
        key_limitations=parse_key_limitations(page.first("technical_specs"), ctx),
        bottom_line=parse_joined(page.first("bottom_line"), ctx, "bottom_line"),
        last_updated=parse_last_updated(page.first("last_updated"), ctx),
        quick_facts_raw=quick_raw,
    )
    doc.warnings = ctx.warnings
    doc.provenance = dict(sorted(ctx.provenance.items()))
    return doc
