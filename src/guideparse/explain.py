"""`guideparse explain`: each value beside the source lines and rule that produced it."""

from __future__ import annotations

import json

from .models import DocumentRecord
from .paths import iter_leaves, parse_path, resolve, under
from .printable import shown

_MAX_LINES = 3


def _cut(text: str, limit: int, full: bool) -> str:
    """`text`, or its first `limit` characters and a mark saying how many more there are."""
    if full or len(text) <= limit:
        return text
    return f"{text[:limit]}… (+{len(text) - limit} chars; --full shows all)"


def explain(doc: DocumentRecord, view: dict[int, str], field: str | None = None, full: bool = False) -> list[str]:
    """Render the explanation as text lines (pure; the CLI prints them), each one line with
    control characters escaped (printable.shown): names and values come from the input.

    `view` maps a source line number to what it reads as (record.source_view). `field` is a
    path or a prefix of paths (paths.parse_path; `related_apps[Bill.com]` as typed); one that
    is no path explains nothing. Long values and source lines are cut, with a mark, unless
    `full`.
    """
    try:
        head = parse_path(field) if field else None
    except ValueError:
        return []
    record = doc.model_dump(mode="json")
    by_no = view
    out: list[str] = []
    n_values = 0
    for path, prov in doc.provenance.items():
        if head is not None and not under(path, head):
            continue
        try:
            value = resolve(record, path)
        except KeyError:
            continue
        n_values += 1
        a, b = prov["lines"]
        out.append(f"{path} = {_cut(json.dumps(value, ensure_ascii=False), 160, full)}")
        out.append(f"    rule {prov['rule']}, line{'s' if b > a else ''} {a}{f'-{b}' if b > a else ''}")
        last = b if full else min(b, a + _MAX_LINES - 1)
        for n in range(a, last + 1):
            if by_no.get(n):
                out.append(f"    {n:>5} | {_cut(by_no[n], 140, full)}")
        if b > last:
            more = b - last
            out.append(f"    {'':>5} | … {more} more line{'s' * (more != 1)}")
    if field is None:
        missing = [p for p, _ in iter_leaves(record) if p not in doc.provenance]
        for p in missing:
            out.append(f"{p}: no provenance")
        unparsed = [w for w in doc.warnings if w.kind == "unparsed_line"]
        nonblank = len(view)
        out.append("")
        out.append(
            f"{n_values} values from {doc.source.path}; {nonblank} non-blank lines, "
            f"{len(unparsed)} unparsed; {len(doc.warnings)} warning{'s' * (len(doc.warnings) != 1)}"
        )
        for w in doc.warnings:
            out.append(f"  {w.code} {w.kind} line {w.line}: {w.message}")
    return [shown(line) for line in out]
