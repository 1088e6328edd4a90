"""The section readers of every guide family (rules/families.yaml), and `read_fields`, which
reads a family's fields by the readers its rules name.

Each reader takes a field's rule and its section and returns the field's value, tracing
every value to its lines (paths.format_path) and leaving the lines it cannot read to the
coverage check (GP204). The generic ones here know no family: what they read is in the
rules; the SCIM guide's own section shapes are read by section_readers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .context import Ctx
from .paths import format_path
from .reading import Line
from .rules_families import ColumnRule, FamilyRule, FieldRule, LabelRule, built_once
from .rules_schema import compile_line_pattern
from .section_readers import SECTION_READERS, SectionReader
from .segment import Page, Section, is_pipe_row
from .tables import is_separator_row, split_pipe_row

_NUMBERED = re.compile(r"^\d{1,3}[.)]\s+")
_ABBREV = ("e.g.", "i.e.", "etc.", "vs.", "approx.")


def strip_marker(text: str, ctx: Ctx) -> str:
    """A list item's text: bullet or step number removed."""
    text = text.strip()
    for prefix in ctx.rules.bullet_prefixes:
        if text.startswith(prefix):
            return text[len(prefix) :].strip()
    return _NUMBERED.sub("", text, count=1)


def convert(raw: str, rule: LabelRule, nulls: frozenset[str], ctx: Ctx, line: Line) -> Any:
    """A printed value as its rule's type; a null word -> None; unreadable -> None, GP105."""
    value = raw.strip()
    if not value or value.casefold() in nulls or value.casefold() in {n.casefold() for n in rule.null_values}:
        return None
    if rule.type == "bool":
        hit = ctx.rules.bools.get(value.casefold())
        if hit is None:
            ctx.warn("GP105", f"{rule.label}: {value[:60]!r} is not a yes/no value", line.no)
        return None if hit is None else hit[0]
    if rule.type == "int":
        if value.isascii() and value.isdigit():
            return int(value)
        ctx.warn("GP105", f"{rule.label}: {value[:60]!r} is not a whole number", line.no)
        return None
    return value


def label_row(text: str, labels: list[LabelRule], glued: bool) -> tuple[LabelRule, str] | None:
    """(label rule, printed value) of a label/value row: pipe, 'Label: value', or glued."""
    by_label = {lr.label.casefold(): lr for lr in labels}
    if is_pipe_row(text):
        cells = split_pipe_row(text, fold=False)
        hit = by_label.get(cells[0].casefold()) if len(cells) == 2 else None
        return (hit, cells[1]) if hit is not None else None
    head, sep, value = text.partition(":")
    if sep and head.strip().casefold() in by_label:
        return by_label[head.strip().casefold()], value
    if glued:
        folded = text.casefold()
        for lr in sorted(labels, key=lambda lr: -len(lr.label)):
            n = len(lr.label)
            if folded.startswith(lr.label.casefold()) and len(text) > n and text[n] not in " :":
                return lr, text[n:]
    return None


def read_labels(rule: FieldRule, section: Section, ctx: Ctx, nulls: frozenset[str]) -> dict[str, Any]:
    """Label/value rows, and the lists their marker lines open (one item a bullet, step or
    paragraph). A label the section does not show, or a list it has no marker of: null."""
    out: dict[str, Any] = {lr.key: None for lr in rule.labels}
    out.update({lst.key: None for lst in rule.lists})
    markers = {lst.marker.casefold().rstrip(":"): lst.key for lst in rule.lists}
    current: str | None = None
    for ln in section.nonblank:
        text = strip_marker(ln.text, ctx)
        key = markers.get(ln.text.casefold().rstrip(":"))
        if key is not None:
            current, out[key] = key, []
            ctx.use(ln, None, f"{section.rule}:marker:{key}")
            continue
        hit = label_row(text, rule.labels, glued=current is None)
        if hit is not None:
            current = None
            out[hit[0].key] = convert(hit[1], hit[0], nulls, ctx, ln)
            ctx.trace(format_path((rule.name, hit[0].key)), ln, None, f"{section.rule}:label:{hit[0].key}")
        elif current is not None and text:
            ctx.trace(format_path((rule.name, current, len(out[current]))), ln, None, f"{section.rule}:item")
            out[current].append(text)
    return out


def unverified(rule: FieldRule, section: Section, ctx: Ctx) -> bool:
    """True (and GP205) when the section says its content is not yet verified."""
    patterns = built_once(rule, "unverified", lambda r: [(compile_line_pattern(p.pattern), p.id) for p in r.unverified])
    for ln in section.nonblank:
        hit = next((rule_id for rx, rule_id in patterns if rx.fullmatch(ln.text)), None)
        if hit is not None:
            ctx.trace(rule.name, ln, None, hit)
            ctx.warn("GP205", f"{rule.name}: {ln.text[:80]!r}", ln.no)
            return True
    return False


def read_table(rule: FieldRule, section: Section, ctx: Ctx, nulls: frozenset[str]) -> list[dict] | None:
    """A pipe table whose header names the columns; [] (GP205) when 'not yet verified'."""
    if unverified(rule, section, ctx):
        return []
    rows = [ln for ln in section.nonblank if is_pipe_row(ln.text) and not is_separator_row(ln.text)]
    if not rows:
        return None
    by_header = {c.header.casefold(): c.key for c in rule.columns}
    keys = [by_header.get(c.casefold()) for c in split_pipe_row(rows[0].text, fold=False)]
    if not any(keys):
        ctx.warn("GP106", f"{rule.name}: table header not recognised: {rows[0].text[:80]!r}", rows[0].no)
        return None
    ctx.use(rows[0], None, f"{section.rule}:table-header")
    out: list[dict] = []
    for ln in rows[1:]:
        cells = split_pipe_row(ln.text, fold=False)
        row = {k: (None if v.casefold() in nulls or not v else v) for k, v in zip(keys, cells, strict=False) if k}
        trace_row(rule.name, len(out), row, ln, f"{section.rule}:row", ctx)
        out.append(row)
    return out


def trace_row(name: str, index: int, row: dict[str, Any], ln: Line, rule: str, ctx: Ctx) -> None:
    """A table row's provenance: the row, and each of its cells."""
    ctx.trace(format_path((name, index)), ln, None, rule)
    for key in row:
        ctx.trace(format_path((name, index, key)), ln, None, rule)


def sentence_starts(text: str) -> list[int]:
    """Where the sentences of a text begin (after '. ', '? ', '! ' before a capital)."""
    out = [0]
    for m in re.finditer(r"[.?!]\s+(?=[A-Z])", text):
        word = text[: m.start() + 1].rsplit(" ", 1)[-1]
        if word.casefold() not in _ABBREV:
            out.append(m.end())
    return out


def find_start(text: str, col: ColumnRule, after: int, bounds: list[int]) -> tuple[int, int] | None:
    """(start, end or -1) of column `col`'s cell at or after `after`: opening words at any
    word start; vocabulary phrases, whole, at a sentence start (longest first)."""
    if col.starts:
        for m in re.finditer(r"(?<!\S)\S", text[after:]):
            p = after + m.start()
            if p > 0 and any(text.startswith(s, p) for s in col.starts):
                return p, -1
        return None
    phrases = sorted(col.vocabulary, key=len, reverse=True)
    for p in (b for b in bounds if b >= after):
        for ph in phrases:
            end = p + len(ph)
            if text.startswith(ph, p) and (end == len(text) or text[end] == " "):
                return p, end
    return None


def split_joined(text: str, cols: list[ColumnRule]) -> dict[str, str | None] | None:
    """A row whose cells are joined by single spaces, split by what each column holds;
    None when it cannot be split with confidence."""
    found: dict[int, tuple[int, int]] = {}
    cursor = 0
    for k in range(1, len(cols) - 1):
        hit = find_start(
            text, cols[k], cursor + 1, sentence_starts(text) + [v[1] + 1 for v in found.values() if v[1] > 0]
        )
        if hit is not None:
            found[k] = hit
            cursor = hit[1] if hit[1] > 0 else hit[0]
    if 1 not in found or not 0 < len(text[: found[1][0]].split()) <= 5:
        return None
    order = sorted(found)
    starts = {0: 0, **{k: found[k][0] for k in order}}
    last = order[-1]
    if found[last][1] > 0:
        starts[len(cols) - 1] = found[last][1] + 1
    else:
        between = cols[last + 1 : -1]
        if any(c.starts for c in between):
            return None
        tail = [b for b in sentence_starts(text) if b > found[last][0]]
        if len(tail) > 1:
            return None
        if tail:
            starts[len(cols) - 1] = tail[0]
    keys = sorted(starts)
    if any(k in found and 0 < found[k][1] != starts[n] - 1 for k, n in zip(keys, keys[1:], strict=False)):
        return None  # text between a vocabulary phrase and the next cell belongs to no column
    out: dict[str, str | None] = {c.key: None for c in cols}
    for i, k in enumerate(keys):
        end = (
            found[k][1] if k in found and found[k][1] > 0 else (starts[keys[i + 1]] if i + 1 < len(keys) else len(text))
        )
        out[cols[k].key] = text[starts[k] : end].strip() or None
    return out


def read_joined_table(rule: FieldRule, section: Section, ctx: Ctx, nulls: frozenset[str]) -> list[dict] | None:
    """A table printed as pipe rows, or flat with its cells joined by single spaces (the
    header line is the column headers so joined). A row that cannot be split keeps its
    text in the second column, with GP104."""
    cols = rule.columns
    header = " ".join(c.header for c in cols).casefold()
    out: list[dict] = []
    seen_header = False
    for ln in section.nonblank:
        if not seen_header:
            folded = (
                " ".join(split_pipe_row(ln.text, fold=False)).casefold() if is_pipe_row(ln.text) else ln.text.casefold()
            )
            if folded == header:
                seen_header = True
                ctx.use(ln, None, f"{section.rule}:table-header")
            continue
        if is_separator_row(ln.text):
            continue
        if is_pipe_row(ln.text):
            row: dict[str, Any] | None = dict(
                zip([c.key for c in cols], split_pipe_row(ln.text, fold=False), strict=False)
            )
        else:
            row = split_joined(ln.text, cols)
        if row is None:
            row = {c.key: None for c in cols} | {cols[1].key: ln.text}
            ctx.warn("GP104", f"{rule.name}: row cannot be split with confidence; text kept in {cols[1].key}", ln.no)
        row = {k: (None if isinstance(v, str) and v.casefold() in nulls else v) for k, v in row.items()}
        trace_row(rule.name, len(out), row, ln, f"{section.rule}:row", ctx)
        out.append(row)
    return out if seen_header else None


def read_paragraphs(rule: FieldRule, section: Section, ctx: Ctx, nulls: frozenset[str]) -> list[str]:
    out: list[str] = []
    for ln in section.nonblank:
        ctx.trace(format_path((rule.name, len(out))), ln, None, f"{section.rule}:paragraph")
        out.append(strip_marker(ln.text, ctx))
    return out


def _generic(read: Callable[[FieldRule, Section, Ctx, frozenset[str]], Any]) -> SectionReader:
    """A generic reader as a section reader: null when the page has no such section, and a
    warning when the page stops inside it."""

    def reader(rule: FieldRule, section: Section | None, ctx: Ctx, nulls: frozenset[str]) -> Any:
        if section is None:
            return None
        value = read(rule, section, ctx, nulls)
        ctx.note_cut(section, rule.name)
        return value

    return reader


#: Every reader a field rule may name (rules_families.READERS lists them, with what they write).
READERS: dict[str, SectionReader] = {
    "labels": _generic(read_labels),
    "table": _generic(read_table),
    "joined_table": _generic(read_joined_table),
    "paragraphs": _generic(read_paragraphs),
    **SECTION_READERS,
}


def read_fields(page: Page, fam: FamilyRule, ctx: Ctx) -> dict[str, Any]:
    """Every field of a family, in its rules' order, each by its reader: GP201 first for each
    required section a whole page lacks (a truncated page lacks them by its cut)."""
    if not page.truncated:
        for label in fam.required_sections:
            if page.first(label) is None:
                ctx.warn("GP201", f"section '{label}' not found")
    nulls = frozenset(n.casefold() for n in ctx.rules.families.null_values)
    out: dict[str, Any] = {}
    for rule in fam.fields:
        value = READERS[rule.reader](rule, page.first(rule.section), ctx, nulls)
        if len(rule.outputs) == 1:
            out[rule.name] = value
        else:
            out.update(zip(rule.outputs, value, strict=True))
    return out
