"""Stage 4: bytes -> document record. Pure: no I/O, no globals but the rules."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from pydantic import BaseModel

from .context import Ctx
from .errors import InputError
from .families import Recognition, recognise
from .family_readers import read_fields
from .family_record import extract_family_document
from .models import DocumentRecord, Format, Source, Warn
from .nlp import find_app_name
from .paths import NOT_CONTENT, format_path
from .reading import Line, Text, looks_like_html, read_text
from .rules import Rules
from .sections.header import Header, parse_header
from .segment import Page, segment
from .slugs import slug_for
from .tables import is_separator_row


def read_lines(data: bytes, path: str, rules: Rules) -> tuple[Text, Format | None]:
    """Bytes -> lines with the reader the content calls for (HTML sniffed, not named)."""
    if looks_like_html(data):
        from .html_reader import read_html  # bs4 and lxml load on the first HTML page only

        return read_html(data, path, rules), "html"
    return read_text(data, path), None


def source_view(data: bytes, path: str, rules: Rules) -> dict[int, str]:
    """Source line -> what it reads as (for HTML, the rendered text of that line)."""
    text, _fmt = read_lines(data, path, rules)
    if not text.source_lines:
        return {ln.no: ln.text for ln in text.lines}
    view: dict[int, list[str]] = {}
    for ln in text.lines:
        if ln.text:
            view.setdefault(text.source_lines[ln.no], []).append(ln.text)
    return {n: " ⏎ ".join(parts) for n, parts in view.items()}


def mark_structure(page: Page, ctx: Ctx) -> None:
    """Headings are read by segmentation; boilerplate sections by no value."""
    boiler = set(ctx.rules.page.boilerplate_sections)
    for section in page.sections:
        ctx.use(section.heading, None, section.rule)
    for section in page.sections:
        if section.label in boiler:
            for ln in section.nonblank:
                ctx.use(ln, None, f"boilerplate-section:{section.label}")


#: Record field -> the section it is read from (for empty values' provenance).
FIELD_SECTIONS = {
    "practice": "practice",
    "admins_saying": "admins_saying",
    "technical_specs": "technical_specs",
    "pricing_notes": "pricing",
    "identity_offer": "identity_offer",
    "summary": "summary",
}


def trace_empty_lists(doc: DocumentRecord, page: Page, ctx: Ctx) -> None:
    """An empty list ("present, no items") of a record field, or of a field's object,
    points at its section's heading (paths.iter_leaves counts these as values)."""
    empty: list[tuple[str, ...]] = []
    for name in type(doc).model_fields:
        value = getattr(doc, name)
        if isinstance(value, list) and not value and name not in NOT_CONTENT:
            empty.append((name,))
        elif isinstance(value, BaseModel):
            empty += [(name, k) for k in type(value).model_fields if getattr(value, k) == []]
    for path in empty:
        if format_path(path) not in ctx.provenance:
            top = path[0]
            section = page.first(FIELD_SECTIONS.get(top, top))
            if section is not None:
                ctx.trace(path, section.heading, None, f"{section.rule}:no-items")


def report_unparsed(page: Page, ctx: Ctx, lines: Iterable[Line]) -> None:
    """Coverage: every non-blank line is used by a value, boilerplate, or reported (GP204)."""
    for ln in lines:
        if not ln.text or ln.no in ctx.used:
            continue
        if page.last_line is not None and ln.no > page.last_line:
            continue  # the incomplete last line, reported as GP303
        hit = ctx.rules.match_line("boilerplate", ln.text) or ctx.rules.match_line("end_markers", ln.text)
        if hit:
            ctx.use(ln, None, hit[0])
            continue
        if is_separator_row(ln.text):
            ctx.use(ln, None, "table:separator")
            continue
        ctx.warn("GP204", f"unparsed line: {ln.text[:100]!r}", ln.no)


def read_page(data: bytes, path: str, rules: Rules) -> tuple[Text, Page]:
    """Bytes -> lines -> sections. Raises InputError (GP903) when no guide heading is found:
    a page with no section is not a guide, and a record of nothing would hide that."""
    text, fmt = read_lines(data, path, rules)
    page = segment(text, rules, fmt)
    if not page.sections:
        raise InputError("GP903", "not a guide: no guide section heading recognised", path=path)
    return text, page


def start_context(text: Text, page: Page, rules: Rules) -> Ctx:
    """The parsers' shared state: warnings open with the page's own (reading, segmenting),
    and the section headings are marked as read, so no parser reports them as unparsed."""
    ctx = Ctx(rules, page)
    ctx.warnings.extend(text.warnings)
    ctx.warnings.extend(page.warnings)
    mark_structure(page, ctx)
    return ctx


def find_app(header: Header, ctx: Ctx) -> str | None:
    """The app's name: from the title line when it has one, else from the template headings
    and sentences (find_app_name), so spaCy loads only for pages whose title names no app.
    A name that looks like what it is not (mixed scripts, imitated Latin) is kept, with GP108."""
    if header.app is not None:
        return ctx.vetted(header.app, None, "app name", header.app_line.no if header.app_line else None)
    cand = find_app_name(ctx)
    if cand is None:
        return None
    ctx.trace("app", cand.line, None, cand.rule)
    return ctx.vetted(cand.name, None, "app name", cand.line.no)


def to_source_lines(warnings: list[Warn], mapping: dict[int, int] | None) -> None:
    """Renumber warnings from rendered lines to source lines (HTML), as provenance is."""
    if not mapping:
        return
    for w in warnings:
        if w.line is not None:
            w.line = mapping.get(w.line, w.line)


def finish_record(doc: DocumentRecord, text: Text, page: Page, ctx: Ctx) -> None:
    """Once every value is read: coverage (GP204), empty lists traced, then the warnings
    and provenance in source line numbers."""
    report_unparsed(page, ctx, text.lines)
    trace_empty_lists(doc, page, ctx)
    # The reader's own warnings come first and count source lines already (bad bytes: GP305).
    to_source_lines(ctx.warnings[len(text.warnings) :], text.source_lines)
    doc.warnings = ctx.warnings
    doc.provenance = ctx.provenance_out(text.source_lines)


def trace_family(found: Recognition, ctx: Ctx) -> None:
    """The family's provenance: the first line of its evidence (title, badge or heading)."""
    first = found.evidence[0]
    ctx.trace("family", first.line, None, first.rule)


def extract_document(data: bytes, path: str, rules: Rules, sha: str | None = None) -> DocumentRecord:
    """Extract one guide. Raises InputError when the input cannot give a record.

    `sha`: the data's sha256 hex digest when the caller has it already."""
    if sha is None:
        sha = hashlib.sha256(data).hexdigest()
    text, page = read_page(data, path, rules)
    found = recognise(page, rules, path)
    ctx = start_context(text, page, rules)
    trace_family(found, ctx)
    fam = rules.families.families[found.family]
    if fam.header == "updated":
        doc = extract_family_document(data, path, sha, text, page, ctx, found)
        finish_record(doc, text, page, ctx)
        return doc
    header = parse_header(page.header, ctx)
    app = ctx.app = find_app(header, ctx)
    slug = slug_for(app, sha, ctx)
    fields = read_fields(page, fam, ctx)
    doc = DocumentRecord(
        slug=slug,
        app=app,
        source=Source(
            path=path, sha256=sha, bytes=len(data), format=page.format, truncated=page.truncated, encoding=text.encoding
        ),
        family=found.family,
        badge=header.badge,
        plan_requirement=header.plan_requirement,
        **fields,
    )
    finish_record(doc, text, page, ctx)
    return doc
