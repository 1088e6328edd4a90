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
"""

from __future__ import annotations

import functools

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


def catalog_line(entry: CatalogEntry) -> bytes:
    """An app's catalog.jsonl line (ends with a newline)."""
    return _ENTRY.dump_json(entry, exclude={"provenance"}) + b"\n"


def pretty_record(entry: CatalogEntry, line: bytes | None = None) -> bytes:
    """An app's records/<slug>.json: its catalog line (`line`, when already rendered), indented."""
    return derived_record(entry, line)[0]


def derived_record(entry: CatalogEntry, line: bytes | None = None) -> tuple[bytes, bool]:
    """pretty_record, and whether it is `line` re-indented (so a cache can derive it from the line)."""
    pretty = reindented(line) if line is not None else None
    if pretty is not None:
        return pretty, True
    return _ENTRY.dump_json(entry, exclude={"provenance"}, indent=2) + b"\n", False


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
