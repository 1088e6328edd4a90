"""The JSON renderings (render.py) write exactly what pydantic writes, for any value."""

from __future__ import annotations

import pydantic_core
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import RAW, ROOT
from guideparse.catalog import single_entry
from guideparse.models import CatalogEntry, DocumentRecord, TracedProvenance
from guideparse.record import extract_document
from guideparse.render import _splices, catalog_line, document_line, pretty_record, reindented, render_result
from guideparse.rules import load_rules

RULES = load_rules(ROOT / "rules")
SEED = sorted(RAW.glob("*.txt"))[0]
TEXT = st.text(st.characters(codec="utf-8"), max_size=12) | st.sampled_from(["\u2028", "\x7f", '"\\', "é ✓ ❌"])
NUMBER = st.integers() | st.floats(allow_nan=False, allow_infinity=False)
JSON = st.recursive(
    st.none() | st.booleans() | NUMBER | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=500)
@given(value=JSON)
def test_a_line_reindented_is_what_pydantic_indents(value):
    """Re-indenting a compact line gives pydantic's indent=2 rendering of its value, or None
    (then the record is serialized by pydantic): never other bytes."""
    compact = pydantic_core.to_json(value)
    got = reindented(compact + b"\n")
    assert got in (None, pydantic_core.to_json(value, indent=2) + b"\n")
    small_ints = all(abs(n) < 2**63 for n in _ints(value))
    if small_ints:
        assert got is not None


def test_an_integer_orjson_would_change_falls_back():
    assert reindented(pydantic_core.to_json({"seats": 2**70})) is None


KEYS = st.text(st.characters(codec="utf-8"), min_size=1, max_size=20)
RULE_IDS = st.text(st.characters(codec="utf-8"), max_size=20)
LINES = st.tuples(st.integers(1, 10**6), st.integers(1, 10**6))


@settings(max_examples=200)
@given(provenance=st.dictionaries(KEYS, st.fixed_dictionaries({"lines": LINES, "rule": RULE_IDS}), max_size=6))
def test_a_document_line_is_what_pydantic_writes(provenance):
    """The provenance spliced into a document line (orjson) gives pydantic's bytes, whatever
    the paths and rule ids."""
    doc = DocumentRecord.model_validate(BASE)
    doc.provenance = TracedProvenance(provenance)  # as extraction assigns it
    assert _splices(doc)
    assert document_line(doc) == doc.__pydantic_serializer__.to_json(doc) + b"\n"


def test_provenance_of_another_origin_or_shape_goes_through_pydantic():
    """Only provenance extraction traced is written by orjson: a plain dict assigned by a
    caller (a bool, an extra key: pydantic coerces and drops them) and a model whose serializer
    is not its fields in order (a computed field) are serialized by pydantic, as they would be."""
    from pydantic import computed_field

    doc = DocumentRecord.model_validate(BASE)
    doc.provenance = {"p": {"lines": (True, False), "rule": "r", "x": 1}}
    assert not _splices(doc)
    assert document_line(doc) == doc.__pydantic_serializer__.to_json(doc) + b"\n"

    class Counted(DocumentRecord):
        @computed_field
        @property
        def n_prov(self) -> int:
            return len(self.provenance)

    counted = Counted.model_validate(BASE)
    counted.provenance = TracedProvenance({"app": {"lines": (1, 1), "rule": "r"}})
    assert not _splices(counted)
    assert document_line(counted) == counted.__pydantic_serializer__.to_json(counted) + b"\n"


def test_every_page_renders_as_pydantic_does():
    """The seeds' documents, catalog lines and records, byte for byte, each way."""
    for page in sorted(RAW.glob("*.txt")) + sorted(RAW.glob("*.html")):
        doc = extract_document(page.read_bytes(), page.name, RULES)
        entry = single_entry(doc, RULES)
        assert _splices(doc), page.name  # extraction's provenance takes the fast path
        assert document_line(doc) == doc.__pydantic_serializer__.to_json(doc) + b"\n", page.name
        line = catalog_line(entry)
        expected = entry.__pydantic_serializer__.to_json(entry, exclude={"provenance"}, indent=2) + b"\n"
        assert pretty_record(entry, line) == pretty_record(entry) == expected, page.name
        assert isinstance(entry, CatalogEntry)
        assert render_result(doc, entry) == _pydantic_renderings(doc, entry), page.name


def test_every_family_renders_as_pydantic_does():
    """An `api` or `manual` guide's entry is merged, not the document's objects: pydantic's
    bytes all the same."""
    for page in sorted((ROOT / "tests" / "fixtures" / "families").glob("*.txt")):
        doc = extract_document(page.read_bytes(), page.name, RULES)
        entry = single_entry(doc, RULES)
        assert doc.family != "scim", page.name
        assert render_result(doc, entry) == _pydantic_renderings(doc, entry), page.name


def _pydantic_renderings(doc, entry):
    ser = entry.__pydantic_serializer__
    return (
        doc.__pydantic_serializer__.to_json(doc) + b"\n",
        ser.to_json(entry, exclude={"provenance"}) + b"\n",
        ser.to_json(entry, exclude={"provenance"}, indent=2) + b"\n",
    )


@settings(max_examples=150, deadline=None)
@given(
    summary=st.lists(TEXT, max_size=3),
    app=TEXT,
    seats=st.integers(0, 2**70),
    provenance=st.dictionaries(KEYS, st.fixed_dictionaries({"lines": LINES, "rule": RULE_IDS}), max_size=3),
)
def test_a_result_renders_as_pydantic_does(summary, app, seats, provenance):
    """render_result writes pydantic's bytes for any text, any size, any provenance; what orjson
    refuses (an integer past 64 bits, a lone surrogate) goes through pydantic."""
    page = SEED
    doc = extract_document(page.read_bytes(), page.name, RULES)
    doc.summary, doc.app, doc.source.bytes = summary, app, seats
    doc.provenance = TracedProvenance(provenance)
    entry = single_entry(doc, RULES)
    got = render_result(doc, entry)
    assert got == _pydantic_renderings(doc, entry)


def test_an_entry_not_built_from_the_document_is_rendered_by_pydantic():
    """A value the entry holds that is not the document's own object is the entry's to write."""
    page = SEED
    doc = extract_document(page.read_bytes(), page.name, RULES)
    entry = single_entry(doc, RULES)
    entry.summary = ["changed after the fact"]
    assert render_result(doc, entry) == _pydantic_renderings(doc, entry)


BASE = {
    "slug": "acme",
    "app": "Acme",
    "source": {"path": "a.txt", "sha256": "0" * 64, "bytes": 1, "format": "text/flat", "truncated": False},
}


def _ints(value):
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from _ints(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _ints(v)
