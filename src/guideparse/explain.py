"""`guideparse explain`: each value beside the source lines and rule that produced it."""

from __future__ import annotations

import json

from .models import DocumentRecord
from .paths import iter_leaves, resolve, under
from .printable import shown

_MAX_LINES = 3


def explain(doc: DocumentRecord, view: dict[int, str], field: str | None = None) -> list[str]:
    """Render the explanation as text lines (pure; the CLI prints them), each one line with
    control characters escaped (printable.shown): names and values come from the input.

    `view` maps a source line number to what it reads as (record.source_view).
    """
    record = doc.model_dump(mode="json")
    by_no = view
    out: list[str] = []
    n_values = 0
    for path, prov in doc.provenance.items():
        if field and not under(path, field):
            continue
        try:
            value = resolve(record, path)
        except KeyError:
            continue
        n_values += 1
        a, b = prov["lines"]
        out.append(f"{path} = {json.dumps(value, ensure_ascii=False)[:160]}")
        out.append(f"    rule {prov['rule']}, line{'s' if b > a else ''} {a}{f'-{b}' if b > a else ''}")
        for n in range(a, min(b, a + _MAX_LINES - 1) + 1):
            if by_no.get(n):
                out.append(f"    {n:>5} | {by_no[n][:140]}")
        if b > a + _MAX_LINES - 1:
            out.append(f"    {'':>5} | … {b - a - _MAX_LINES + 1} more line(s)")
    if field is None:
        missing = [p for p, _ in iter_leaves(record) if p not in doc.provenance]
        for p in missing:
            out.append(f"{p}: no provenance")
        unparsed = [w for w in doc.warnings if w.kind == "unparsed_line"]
        nonblank = len(view)
        out.append("")
        out.append(
            f"{n_values} values from {doc.source.path}; {nonblank} non-blank lines, "
            f"{len(unparsed)} unparsed; {len(doc.warnings)} warning(s)"
        )
        for w in doc.warnings:
            out.append(f"  {w.code} {w.kind} line {w.line}: {w.message}")
    return [shown(line) for line in out]
