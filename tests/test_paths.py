"""Field paths: `format_path` and `parse_path` are each other's inverse, on every path the corpora
give (provenance keys, diff paths) and on generated ones (identities with dots, brackets,
backslashes, digits, any unicode); `explain FIELD` finds a path however its identity is typed."""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import RAW, SHARED_CORPUS
from guideparse.catalog import build_catalog
from guideparse.diff import Change, diff_catalogs, diff_values
from guideparse.explain import explain
from guideparse.paths import (
    IDENTITY,
    Segment,
    content_only,
    format_path,
    item_key,
    iter_leaves,
    parse_path,
    resolve,
    under,
)
from guideparse.record import extract_document, source_view
from guideparse.store import LoadedRun

BILL = RAW / "004_c94222c4d3eb625f.txt"  # its related apps include "Bill.com"
#: The splitting of a path with no escape in it, as tools did before escapes (score.py's way).
_NAIVE = re.compile(r"([^.\[\]]+)|\[([^\]]*)\]")


FAMILY_PAGES = RAW.parent / "tests" / "fixtures" / "families"
#: How many paths the corpora give at least: fewer in a clone without ../shared/corpus.
ENOUGH = 5000 if (SHARED_CORPUS / "seeds").is_dir() else 2000


def _corpus_files() -> list:
    files = sorted(RAW.glob("*.txt")) + sorted(FAMILY_PAGES.glob("*.txt"))
    for folder in ("seeds", "excerpts"):
        files += sorted((SHARED_CORPUS / folder).glob("*.txt"))
    return files


@pytest.fixture(scope="module")
def corpus(rules) -> dict[str, Any]:
    """Every corpus page (raw/ and ../shared/corpus seeds and excerpts) extracted: name -> record."""
    return {str(p): extract_document(p.read_bytes(), str(p), rules) for p in _corpus_files()}


def _naive_segments(path: str) -> list[Segment]:
    """Segments of a path without escapes, read the old way: split on dots and brackets."""
    out: list[Segment] = []
    for name, item in _NAIVE.findall(path):
        if name:
            out.append(name)
        elif item.isdigit():
            out.append(int(item))
        else:
            out.append({IDENTITY[str(next(s for s in reversed(out) if isinstance(s, str)))]: item})
    return out


def _check_path(path: str, record: dict) -> list[Segment]:
    """A path of `record` reads back as itself, and its segments address a value of the record."""
    segments = parse_path(path)
    assert format_path(segments) == path
    assert format_path(parse_path(format_path(segments))) == path
    resolve(record, segments)
    if "\\" not in path:
        assert segments == _naive_segments(path), path
    return segments


def test_every_provenance_key_round_trips(corpus):
    """Every provenance key of the corpora: format_path(parse_path(key)) == key, its segments
    resolve in the record, and a key without escapes splits as it always did."""
    keys = 0
    escaped: dict[str, list[Segment]] = {}
    for doc in corpus.values():
        record = doc.model_dump(mode="json")
        for key in doc.provenance:
            segments = _check_path(key, record)
            keys += 1
            if "\\" in key:
                escaped[key] = segments
        for path, _value in iter_leaves(record):
            _check_path(path, record)
    assert keys > ENOUGH
    assert escaped["related_apps[Bill\\.com].summary"] == ["related_apps", {"app": "Bill.com"}, "summary"]
    assert all(any(isinstance(s, dict) and "." in next(iter(s.values())) for s in v) for v in escaped.values())


def _mutated(value: Any, field: str = "") -> Any:
    """Every leaf of a record changed, identities kept: a diff of it has a change at each leaf."""
    if isinstance(value, dict):
        keep = IDENTITY.get(field)
        return {k: v if k == keep else _mutated(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_mutated(v, field if isinstance(v, dict) else "") for v in value]
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    return value + "~" if isinstance(value, str) else value


def _check_changes(changes: list[Change], old: dict, new: dict) -> int:
    """Each change's path round-trips, equals its segments, and they address its old and new values."""
    for c in changes:
        assert parse_path(c.path) == c.path_segments and format_path(c.path_segments) == c.path, c.path
        if c.kind != "added":
            assert resolve(old, c.path_segments) == c.old, c.path
        if c.kind != "removed":
            assert resolve(new, c.path_segments) == c.new, c.path
    return len(changes)


def test_every_diff_path_round_trips(corpus):
    """The diff paths of the corpora (each record against itself with every value changed, and the
    documents of each app with several against each other): each round-trips, equals its
    `path_segments`, and the segments address the change's old and new values."""
    changes = 0
    by_slug = defaultdict(list)
    for doc in corpus.values():
        by_slug[doc.slug].append(doc)
        record = doc.model_dump(mode="json", exclude={"provenance", "warnings", "source"})
        changes += _check_changes(diff_values(record, _mutated(record)), record, _mutated(record))
    assert changes > ENOUGH
    pairs = 0
    for docs in by_slug.values():
        for a, b in zip(docs, docs[1:], strict=False):
            old, new = (build_catalog([d])[0].model_dump(mode="json") for d in (a, b))
            report = diff_catalogs({a.slug: old}, {a.slug: new})
            # a family guide (api_guide, ...) is diffed as content, without its sources and warnings
            pairs += _check_changes(report.apps[0].changes, content_only(old), content_only(new))
    assert pairs > 50


def test_escaped_path_in_diff_of_corpus_record(corpus):
    """A change inside the related app "Bill.com" of a seed: its path escapes the dot."""
    doc = corpus[str(BILL)]
    old = doc.model_dump(mode="json", exclude={"provenance", "warnings", "source"})
    new = _mutated(old)
    paths = {c.path: c.path_segments for c in diff_values(old, new)}
    assert paths["related_apps[Bill\\.com].summary"] == ["related_apps", {"app": "Bill.com"}, "summary"]


# --------------------------------------------------------------------------- generated paths

#: Identities that stress the grammar: its special characters, digits, any unicode.
IDENT = st.one_of(
    st.text(),
    st.text(alphabet=st.sampled_from(".[]\\0123456789 aé€𝄞"), max_size=12),
    st.from_regex(r"[0-9]{1,4}", fullmatch=True),
)
NAME = st.one_of(st.sampled_from(sorted(IDENTITY)), st.text(min_size=1, max_size=12))


@st.composite
def segment_lists(draw) -> list[Segment]:
    """A path's segments: a name first, then names, positions and identities (under the list
    fields that have one)."""
    out: list[Segment] = [draw(NAME)]
    field = out[0]
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["name", "index", "identity"]))
        if kind == "name":
            field = draw(NAME)
            out.append(field)
        elif kind == "index":
            out.append(draw(st.integers(0, 10_000)))
        elif isinstance(field, str) and field in IDENTITY:
            out.append({IDENTITY[field]: draw(IDENT)})
    return out


@settings(max_examples=400, deadline=None)
@given(segment_lists())
def test_segments_round_trip(segments):
    """Any segments -> string -> the same segments -> the same string."""
    text = format_path(segments)
    assert parse_path(text) == segments
    assert format_path(parse_path(text)) == text


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(IDENTITY)), IDENT, st.sampled_from(["", ".name", "[3]"]))
def test_identity_is_escaped_only_where_needed(field, ident, rest):
    """An identity is written as is unless it holds `\\ . [ ]` or is all digits; each special
    character is escaped, so the string splits on its unescaped dots and brackets alone."""
    text = format_path([field, {IDENTITY[field]: ident}])
    if not re.search(r"[\\.\[\]]", ident) and not re.fullmatch(r"[0-9]+", ident):
        assert text == f"{field}[{ident}]"
    inside = text[len(field) + 1 : -1]
    assert re.fullmatch(r"(?:[^\\.\[\]]|\\.)*", inside, re.S), "every special character is escaped"
    assert not re.fullmatch(r"[0-9]+", inside), "an identity never reads as a position"
    assert parse_path(text + rest)[:2] == [field, {IDENTITY[field]: ident}]


@settings(max_examples=300, deadline=None)
@given(segment_lists(), segment_lists())
def test_under_is_a_segment_prefix(head, tail):
    """A path lies under each of its prefixes, segment by segment."""
    path = [*head, *tail]
    assert under(format_path(path), format_path(head))
    assert under(format_path(path), head)
    assert not under(format_path(head) + "[", head), "no path lies under anything"


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(), st.text(alphabet=st.sampled_from("ab.[]\\0 "), max_size=16)))
def test_any_string_is_a_path_or_a_value_error(text):
    """Any string reads as a path (whose string form reads back the same) or raises ValueError."""
    try:
        segments = parse_path(text)
    except ValueError:
        return
    assert parse_path(format_path(segments)) == segments


@pytest.mark.parametrize(
    "segments",
    [[0], [{"idp": "x"}], ["a", -1], ["a", True], ["a", ""], ["summary", {"idp": "x"}], ["plans", {"x": "y"}]],
    ids=repr,
)
def test_what_no_path_holds_is_refused(segments):
    """format_path refuses segments no path holds (an identity under a field without one, …);
    no segments is the empty path, the record itself."""
    with pytest.raises(ValueError):
        format_path(segments)
    assert format_path([]) == "" and parse_path("") == []


def test_item_key_is_identity_else_position():
    assert item_key("plans", {"plan": "Pro"}, 3) == {"plan": "Pro"}
    assert item_key("pricing", {"title": None}, 1) == 1
    assert item_key("summary", "text", 2) == 2


# --------------------------------------------------------------------------- explain FIELD


@pytest.mark.parametrize("field", ["related_apps[Bill.com]", "related_apps[Bill\\.com]", "related_apps[Bill.com].app"])
def test_explain_finds_an_identity_however_typed(field, rules):
    """`explain FILE 'related_apps[Bill.com]'` (as typed, or escaped) shows that app's values."""
    data = BILL.read_bytes()
    doc = extract_document(data, str(BILL), rules)
    out = explain(doc, source_view(data, str(BILL), rules), field)
    heads = [ln for ln in out if not ln.startswith(" ")]
    assert heads and all(h.startswith("related_apps[Bill\\.com].") for h in heads)
    assert 'related_apps[Bill\\.com].app = "Bill.com"' in heads


def test_explain_of_no_path_explains_nothing(rules):
    """A FIELD that is no path gives no lines (the CLI reports GP906), never a traceback."""
    data = BILL.read_bytes()
    doc = extract_document(data, str(BILL), rules)
    assert explain(doc, source_view(data, str(BILL), rules), "related_apps[Bill") == []


def test_source_lines_read_provenance_of_older_runs(tmp_path):
    """The HTML diff's source lines: a run written before escapes (`related_apps[Bill.com]`) is
    still found by the escaped path, and a provenance key that is no path is passed over."""
    data = BILL.read_bytes()
    doc = {
        "slug": "mimecast",
        "source": {"path": str(BILL), "sha256": hashlib.sha256(data).hexdigest()},
        "provenance": {
            "related_apps[Bill.com].summary": {"lines": [293, 293], "rule": "related_apps.card-summary"},
            "related_apps[Bill": {"lines": [1, 1], "rule": "broken"},
        },
    }
    (tmp_path / "documents.jsonl").write_text(json.dumps(doc) + "\n", encoding="utf-8")
    run = LoadedRun(tmp_path, {}, {})
    lines = run.source_lines("mimecast", "related_apps[Bill\\.com].summary")
    assert [(n, (text or "")[:30]) for _src, n, text in lines] == [(293, "Bill.com offers inconsistent S")]
    assert run.source_lines("mimecast", "related_apps[Okta]") == []
