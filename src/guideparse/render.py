"""The JSON renderings of a result: its documents.jsonl line, its catalog.jsonl line and its
records/<slug>.json, byte for byte what the models' serializer writes (pydantic's compact
JSON, and its `indent=2` for the record), in less time.

Two parts of that work go through orjson, which renders plain dicts and lists several times
faster than pydantic renders them through a model: a document's `provenance` (a few hundred
small dicts, half of a document line's serialization), when extraction traced it
(`TracedProvenance`: nothing but int line pairs and rule ids) and the model serializes its
fields in order, rendered on its own and spliced in its place; and the pretty record,
re-indented from the catalog line rather than serialized from the entry again. Both write what pydantic writes (the same key order, separators,
escapes and number forms: property tests hold them to it); anything orjson refuses (a lone
surrogate, an integer past 64 bits) falls back to pydantic for that result.

A fresh result goes further (render_result): its entry shares most values with its document,
so both are turned into plain values once (the entry's own fields alone) and orjson writes
all three renderings from them.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import orjson
from pydantic import TypeAdapter

from .models import CatalogEntry, DocumentRecord, TracedProvenance

_ENTRY = TypeAdapter(CatalogEntry)
_SPLICED = "provenance"


def document_line(doc: DocumentRecord) -> bytes:
    """A document's documents.jsonl line (ends with a newline)."""
    ser = doc.__pydantic_serializer__
    after = _fields_after_provenance(type(doc))
    if after is None or not _splices(doc):
        return ser.to_json(doc) + b"\n"
    try:
        provenance = orjson.dumps(doc.provenance)
    except orjson.JSONEncodeError:
        return ser.to_json(doc) + b"\n"
    head = ser.to_json(doc, exclude={_SPLICED, *after})[:-1]
    line = head + (b"," if head != b"{" else b"") + b'"' + _SPLICED.encode() + b'":' + provenance
    if after:
        line += b"," + ser.to_json(doc, include=set(after))[1:-1]
    return line + b"}\n"


def _splices(doc: DocumentRecord) -> bool:
    """Whether document_line writes this document's provenance with orjson."""
    return type(doc.provenance) is TracedProvenance and _fields_after_provenance(type(doc)) is not None


@functools.cache
def _fields_after_provenance(cls: type[DocumentRecord]) -> frozenset[str] | None:
    """The fields a model serializes after `provenance`; None when its serialization is not
    its fields in order (computed fields, custom serializers), so nothing can be spliced."""
    decorators = cls.__pydantic_decorators__
    if cls.model_computed_fields or decorators.model_serializers or decorators.field_serializers:
        return None
    names = list(cls.model_fields)
    return frozenset(names[names.index(_SPLICED) + 1 :])


class Rendered(NamedTuple):
    """A result's renderings: its documents.jsonl line, its catalog line and its record."""

    document: bytes
    catalog: bytes
    record: bytes


def render_result(doc: DocumentRecord, entry: CatalogEntry) -> Rendered:
    """The renderings of a document and of its app's entry built from it (catalog.single_entry).

    The entry shares most of its values with the document (the same objects, declared alike):
    both models are turned into plain values once, the entry's own fields alone, and orjson
    writes the three from them (136 against 190 us a page of the benchmark's). Anything
    else (a value orjson refuses, a model whose serialization is not its fields in order)
    goes the way of document_line, catalog_line and pretty_record."""
    fast = _from_plain_values(doc, entry)
    if fast is not None:
        return fast
    line = catalog_line(entry)
    return Rendered(document_line(doc), line, pretty_record(entry, line))


def _from_plain_values(doc: DocumentRecord, entry: CatalogEntry) -> Rendered | None:
    fields = _entry_fields(type(doc), type(entry))
    if fields is None or not _splices(doc):
        return None
    order, shared = fields
    own = {n for n in order if n not in shared or getattr(entry, n) is not getattr(doc, n)}
    try:
        plain = doc.__pydantic_serializer__.to_python(doc, mode="json", exclude={_SPLICED})
        plain[_SPLICED] = doc.provenance
        document = {n: plain[n] for n in type(doc).model_fields}  # provenance back in its place
        mine = entry.__pydantic_serializer__.to_python(entry, mode="json", include=own)
        catalog = {n: mine[n] if n in own else plain[n] for n in order}
        return Rendered(
            orjson.dumps(document) + b"\n",
            orjson.dumps(catalog) + b"\n",
            orjson.dumps(catalog, option=orjson.OPT_INDENT_2) + b"\n",
        )
    # orjson refuses a lone surrogate or an integer past 64 bits; a field the serializer leaves out
    except (orjson.JSONEncodeError, KeyError):
        return None


@functools.cache
def _entry_fields(
    doc_cls: type[DocumentRecord], entry_cls: type[CatalogEntry]
) -> tuple[tuple[str, ...], frozenset[str]] | None:
    """An entry's catalog fields in order, and those declared as the document declares them
    (so the document's plain value of the same object is the entry's); None when either model's
    serialization is not its fields in order."""
    if _fields_after_provenance(doc_cls) is None or _fields_after_provenance(entry_cls) is None:
        return None
    mine, theirs = entry_cls.model_fields, doc_cls.model_fields
    order = tuple(n for n in mine if n != _SPLICED)
    shared = frozenset(n for n in order if n in theirs and theirs[n].annotation == mine[n].annotation)
    return order, shared


def catalog_line(entry: CatalogEntry) -> bytes:
    """An app's catalog.jsonl line (ends with a newline)."""
    return _ENTRY.dump_json(entry, exclude={"provenance"}) + b"\n"


def entry_lines(entry: CatalogEntry) -> tuple[bytes, bytes]:
    """A merged app's catalog line and its record (the line re-indented where orjson can)."""
    line = catalog_line(entry)
    return line, pretty_record(entry, line)


def pretty_record(entry: CatalogEntry, line: bytes | None = None) -> bytes:
    """An app's records/<slug>.json: its catalog line (`line`, when already rendered) re-indented
    by orjson where it reads back exactly, else pydantic's indented rendering."""
    pretty = reindented(line) if line is not None else None
    if pretty is not None:
        return pretty
    return _ENTRY.dump_json(entry, exclude={"provenance"}, indent=2) + b"\n"


def reindented(line: bytes) -> bytes | None:
    """A compact JSON line as pydantic's `indent=2` renders its value (with a newline), or None
    when orjson cannot read it back exactly (rendered again, it must give the same bytes: a
    number it would change, such as an integer past 64 bits, fails that)."""
    compact = line.rstrip(b"\n")
    try:
        value = orjson.loads(compact)
        if orjson.dumps(value) == compact:
            return orjson.dumps(value, option=orjson.OPT_INDENT_2) + b"\n"
    except (orjson.JSONDecodeError, orjson.JSONEncodeError):
        pass
    return None
