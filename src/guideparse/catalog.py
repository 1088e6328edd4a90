"""Stage 5: documents -> catalog entries, one per app (slug).

Documents of one app are merged field by field in `merge_order`: truncated
scrapes first, then whole ones; older `last_updated` first; then by format and
by a digest of the extracted content, so the order (and which value wins a
conflict) never depends on file names or whitespace noise. A known value fills
an unknown or null one (a pipe scrape's ✓ fills a flat scrape's
`unknown`); list items are matched by identity (IdP name, table title, plan
name, …), never by position; a list that is a prefix of another (a truncated
scrape) is filled by the longer one. Where two documents disagree on a known
value, both are kept in `conflicts`, a GP401 warning is raised, and the value
of the document listed last wins.

Then the entry is finished (`finish_entry`), the same way whether it has one document (in
the workers: `single_entry`) or several (`merge_documents`): IdP cells every document left
`unknown` are resolved from their notes (infer.py), the tier classes are decided (tiers.py)
and the lints run (lints.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from .infer import resolve_rows
from .lints import evaluate
from .models import CatalogEntry, CatalogQuickFacts, Conflict, DocumentRecord, SourcedWarn
from .paths import IDENTITY, Segment, format_path, identity
from .rules import Rules, load_rules
from .tiers import entry_tiers, scim_tier_class, sso_tier_class

#: Values that mean "not known" and are filled by any known value.
UNKNOWN = (None, "unknown")
_NOT_MERGED = {"source", "provenance", "warnings", "schema_version", "slug"}


class _Merger:
    def __init__(self) -> None:
        self.conflicts: dict[str, list[dict]] = {}
        self.origin: dict[str, str] = {}

    def record(self, path: str, old: Any, new: Any, old_src: str, new_src: str) -> None:
        values = self.conflicts.setdefault(path, [{"value": old, "source": old_src}])
        values.append({"value": new, "source": new_src})

    def source_of(self, path: tuple[Segment, ...], default: str) -> str:
        return self.origin.get(format_path(path), default)

    def merge(self, a: Any, b: Any, at: tuple[Segment, ...], src_a: str, src_b: str, field: str = "") -> Any:
        """`a` and `b` merged; `at` is their path's segments (conflicts and origins are keyed by its string)."""
        path = format_path(at)
        if b in UNKNOWN or (isinstance(b, list) and not b and a not in UNKNOWN):
            return a
        if a in UNKNOWN or (isinstance(a, list) and not a):
            self.origin[path] = src_b
            return b
        if isinstance(a, dict) and isinstance(b, dict):
            out = dict(a)
            for k, v in b.items():
                sub = (*at, k)
                out[k] = self.merge(a.get(k), v, sub, self.source_of(sub, src_a), src_b, k)
            return out
        if isinstance(a, list) and isinstance(b, list):
            ids_a = [identity(field, x) for x in a]
            ids_b = [identity(field, x) for x in b]
            if all(ids_a) and all(ids_b) and len(set(ids_a)) == len(a) and len(set(ids_b)) == len(b):
                return self._merge_keyed(a, b, at, src_a, src_b, field)
            if a == b[: len(a)]:
                self.origin[path] = src_b
                return b
            if b == a[: len(b)]:
                return a
        if a == b:
            return a
        self.record(path, a, b, self.origin.get(path, src_a), src_b)
        self.origin[path] = src_b
        return b

    def _merge_keyed(self, a: list, b: list, at: tuple[Segment, ...], src_a: str, src_b: str, field: str) -> list:
        out = list(a)
        index = {identity(field, x): i for i, x in enumerate(out)}
        for item in b:
            ident = identity(field, item)
            sub: tuple[Segment, ...] = (*at, {IDENTITY[field]: str(ident)})
            if ident in index:
                i = index[ident]
                out[i] = self.merge(out[i], item, sub, self.source_of(sub, src_a), src_b, field)
            else:
                index[ident] = len(out)
                out.append(item)
                self.origin[format_path(sub)] = src_b
        return out


def content_digest(doc: DocumentRecord) -> str:
    """A digest of what was extracted, blind to the source's path, bytes and line numbers."""
    import hashlib
    import json

    data = doc.model_dump(mode="json", exclude=set(_NOT_MERGED) | {"quick_facts_raw"})
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def merge_order(docs: list[DocumentRecord]) -> list[DocumentRecord]:
    """The order documents are merged and listed in `sources`; the last one wins conflicts
    (whole before cut, then by date: `last_updated`, or a family page's `updated`)."""
    return sorted(
        docs,
        key=lambda d: (not d.source.truncated, d.last_updated or d.updated or "", d.source.format, content_digest(d)),
    )


def merge_fields(docs: list[DocumentRecord]) -> tuple[dict[str, Any], list[SourcedWarn], list[Conflict]]:
    """The documents' fields merged in the order given (the last one wins conflicts), their
    warnings with their sources, and the conflicts (each also a GP401 warning)."""
    merger = _Merger()
    first = docs[0]
    merged: dict[str, Any] = {k: v for k, v in first.model_dump(mode="json").items() if k not in _NOT_MERGED}
    src0 = first.source.path
    for doc in docs[1:]:
        data = {k: v for k, v in doc.model_dump(mode="json").items() if k not in _NOT_MERGED}
        for k, v in data.items():
            merged[k] = merger.merge(merged.get(k), v, (k,), merger.source_of((k,), src0), doc.source.path, k)
    warnings: list[SourcedWarn] = []
    for doc in docs:
        for w in doc.warnings:
            warnings.append(SourcedWarn(code=w.code, message=w.message, line=w.line, source=doc.source.path))
    conflicts = [Conflict(field=f, values=v) for f, v in merger.conflicts.items()]
    for c in conflicts:
        shown = " / ".join(f"{_short(v['value'])} ({v['source']})" for v in c.values)
        warnings.append(SourcedWarn(code="GP401", message=f"{c.field}: documents disagree: {shown}; last one kept"))
    return merged, warnings, conflicts


def merge_documents(docs: list[DocumentRecord], rules: Rules | None = None) -> CatalogEntry:
    """Merge the documents of one app, in the order given (see merge_order), and finish the
    entry (`rules`: default the project's)."""
    assert docs, "merge_documents needs at least one document"
    merged, warnings, conflicts = merge_fields(docs)
    entry = CatalogEntry(
        slug=docs[0].slug,
        sources=[d.source for d in docs],
        conflicts=conflicts,
        warnings=warnings,
        **merged,
    )
    return finish_entry(entry, rules or default_rules())


#: Catalog entry field -> the family whose merged documents it holds (contract version 2).
FAMILY_ENTRY_FIELDS = {"api": "api_guide", "manual": "manual_guide"}


def family_guide(docs: list[DocumentRecord]) -> dict[str, Any]:
    """The merged documents of one non-SCIM family (same merge rules), as an entry holds them."""
    merged, warnings, conflicts = merge_fields(merge_order(docs))
    merged.pop("slug", None)
    return {
        **merged,
        "sources": [d.source.model_dump(mode="json") for d in docs],
        "conflicts": [c.model_dump(mode="json") for c in conflicts],
        "warnings": [w.model_dump(mode="json") for w in warnings],
    }


def app_entry(docs: list[DocumentRecord], rules: Rules | None = None) -> CatalogEntry:
    """The catalog entry of one app: its top-level fields the merged `scim` documents exactly as
    in version 1 (null where it has none), and each other family's merged documents in its field."""
    rules = rules or default_rules()
    scim = [d for d in docs if d.family == "scim"]
    if scim:
        entry = merge_documents(merge_order(scim), rules)
    else:
        entry = finish_entry(CatalogEntry(slug=docs[0].slug, app=None, sources=[]), rules)
    for family, name in FAMILY_ENTRY_FIELDS.items():
        mine = [d for d in docs if d.family == family]
        setattr(entry, name, family_guide(mine) if mine else None)
    return entry


def single_entry(doc: DocumentRecord, rules: Rules | None = None) -> CatalogEntry:
    """The catalog entry of an app with one document: that document with `sources`, finished.

    Equal to merge_documents([doc]) (tests hold them to it) without re-validating
    what was validated when the document was built."""
    if doc.family != "scim":
        return app_entry([doc], rules)
    fields = {k: getattr(doc, k) for k in type(doc).model_fields if k not in _NOT_MERGED}
    # A warning is validated, not model_construct-ed: for so small a model pydantic's validation is faster.
    warnings = [
        SourcedWarn(code=w.code, message=w.message, line=w.line, kind=w.kind, source=doc.source.path)
        for w in doc.warnings
    ]
    entry = CatalogEntry.model_construct(
        schema_version=doc.schema_version,
        slug=doc.slug,
        sources=[doc.source],
        conflicts=[],
        lints=[],
        warnings=warnings,
        provenance={},
        **fields,
    )
    return finish_entry(entry, rules or default_rules())


def finish_entry(entry: CatalogEntry, rules: Rules) -> CatalogEntry:
    """What the catalog adds to merged documents: IdP cells resolved from their notes, the tier
    classes in quick_facts, and the lints (in that order: the lints see the other two)."""
    entry.identity_providers = resolve_rows(entry.identity_providers, rules)
    tiers = entry_tiers(entry, rules)
    scim, sso = scim_tier_class(entry, rules, tiers), sso_tier_class(entry, rules, tiers)
    facts = entry.quick_facts
    if facts is not None or (scim, sso) != ("unknown", "unknown"):
        data = facts.model_dump() if facts is not None else {}
        data.update(scim_tier_class=scim, sso_tier_class=sso)
        entry.quick_facts = CatalogQuickFacts(**data)
    entry.lints = evaluate(entry, rules, tiers)
    return entry


_DEFAULT_RULES: list[Rules] = []


def default_rules() -> Rules:
    """The project's rules, loaded once per process (for callers that pass none)."""
    if not _DEFAULT_RULES:
        _DEFAULT_RULES.append(load_rules())
    return _DEFAULT_RULES[0]


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def build_catalog(docs: Iterable[DocumentRecord], rules: Rules | None = None) -> list[CatalogEntry]:
    """Group documents by slug (sorted) and merge each group (`rules`: default the project's)."""
    groups: dict[str, list[DocumentRecord]] = defaultdict(list)
    for d in docs:
        groups[d.slug].append(d)
    return [app_entry(groups[s], rules) for s in sorted(groups)]
