"""Property tests: what each parser keeps true for any input, checked on generated inputs.

Round trips (what is printed from random parts reads back as those parts), invariants
(provenance lies on the page; a cut changes only the section it falls in; a line no parser
reads is reported) and idempotence (folding folded text changes nothing), for reading,
segmenting, tables (pipe, glued, label/value), prices, sections and app names.
"""

from __future__ import annotations

import pickle
import re

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conftest import RAW, ROOT
from guide_pieces import GUIDE_PIECES
from guideparse.errors import CODES, GuideparseError, InputError, RulesError
from guideparse.models import DocumentRecord
from guideparse.paths import Segment, format_path, item_key, iter_leaves, resolve
from guideparse.prices import parse_price
from guideparse.reading import Line, fold_space, read_text
from guideparse.record import extract_document, read_page, source_view
from guideparse.rules import load_rules
from guideparse.sections.specs import split_glued_list
from guideparse.segment import segment
from guideparse.slugs import slugify
from guideparse.tables import (
    is_separator_row,
    match_header,
    read_label_rows,
    read_tables,
    split_glued_row,
    split_pipe_row,
)

RULES = load_rules(ROOT / "rules")
PAGES = sorted(RAW.glob("*.txt"))
SEEDS = [p.read_bytes() for p in sorted(RAW.glob("00*.txt"))]
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
#: Tests that extract whole pages: fewer examples, each some milliseconds.
PAGE_SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)

# Text that looks like guide material: vocabulary, icons, pipes, glue.
ALPHABET = st.sampled_from(GUIDE_PIECES)
GUIDEY = st.lists(ALPHABET, max_size=80).map("".join)
ANY_TEXT = st.one_of(st.text(max_size=400), GUIDEY)
#: A word of prose, and a line of them (no heading, rule or bullet can start with these alone).
WORD = st.from_regex(r"[a-z][a-z0-9]{0,7}", fullmatch=True)
PROSE = st.lists(WORD, min_size=1, max_size=8).map(" ".join)
#: Characters a line keeps: letters, digits, punctuation, symbols (no spaces, controls or invisibles).
VISIBLE = st.characters(categories=("L", "N", "P", "S"))


def _is_plain_prose(line: str) -> bool:
    """A line no heading, end-marker or boilerplate rule reads (a random line may spell one)."""
    return (
        RULES.match_heading(line) is None
        and not RULES.match_line("end_markers", line)
        and not RULES.match_line("boilerplate", line)
    )


def _repeated_identities(value: object, path: tuple[Segment, ...] = (), field: str = "") -> list[str]:
    """The paths of list items that share their identity with another item of their list (a
    page that prints an IdP, a plan or a sub-heading twice): such a path names both, so its
    provenance and its value may be either's."""
    out: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            out += _repeated_identities(v, (*path, k), k)
    elif isinstance(value, list):
        keys = [item_key(field, item, i) for i, item in enumerate(value)]
        for i, item in enumerate(value):
            sub = (*path, keys[i])
            out += [format_path(sub)] if keys.count(keys[i]) > 1 else _repeated_identities(item, sub, field)
    return out


def _values(doc: DocumentRecord) -> dict[str, object]:
    return dict(iter_leaves(doc.model_dump(mode="json")))


# --------------------------------------------------------------------------- whole documents


def _check_record_or_error(data: bytes) -> None:
    """A record that keeps its invariants, or an InputError that says why."""
    try:
        doc = extract_document(data, "p.txt", RULES)
    except InputError as exc:
        assert exc.code in ("GP901", "GP902", "GP903", "GP914", "GP915"), exc.code
        assert (exc.code == "GP901") == (not data.strip()), "empty file exactly when the bytes are blank"
        return
    assert doc.slug == (slugify(doc.app) if doc.app and slugify(doc.app) else f"unknown-{doc.source.sha256[:12]}")
    assert DocumentRecord.model_validate_json(doc.model_dump_json()) == doc, "JSON round trip"
    view = source_view(data, "p.txt", RULES)
    record = doc.model_dump(mode="json")
    known_gap = tuple(_repeated_identities(record))
    for path, prov in doc.provenance.items():
        a, b = prov["lines"]
        assert view.get(a) and view.get(b) and a <= b, f"{path}: lines {a}-{b} are not text lines of the page"
        if not path.startswith(known_gap):
            resolve(record, path)
    for path, value in iter_leaves(record):
        # an empty list of a section the page lacks (summary: []) has no line to point at
        assert path in doc.provenance or value == [] or path.startswith(known_gap), f"{path} has no provenance"
    if doc.source.format != "html":  # rendered HTML lines share source lines; text lines do not
        _check_unparsed_lines(doc, view)


def _check_unparsed_lines(doc: DocumentRecord, view: dict[int, str]) -> None:
    """A line reported as unparsed (GP204) is a text line of the page, and no value comes from it."""
    valued = {n for p in doc.provenance.values() for n in range(p["lines"][0], p["lines"][1] + 1)}
    for w in doc.warnings:
        if w.code == "GP204":
            assert w.line is not None and view.get(w.line) and repr(view[w.line][:100]) in w.message
            assert w.line not in valued, f"line {w.line} is both a value's source and unparsed"


@SETTINGS
@given(st.binary(max_size=600))
def test_any_bytes(data):
    """Random bytes give a record that keeps its invariants, or the InputError that fits."""
    _check_record_or_error(data)


@SETTINGS
@given(ANY_TEXT)
def test_any_text(text):
    """Random (guide-flavoured) text gives a record that keeps its invariants, or an InputError."""
    _check_record_or_error(text.encode("utf-8"))


@SETTINGS
@given(st.sampled_from(range(len(SEEDS))), st.data())
def test_mutated_seed(seed, data):
    """A seed page with lines dropped, duplicated, shuffled or cut anywhere keeps the invariants."""
    lines = SEEDS[seed].split(b"\n")
    ops = data.draw(st.lists(st.sampled_from(["drop", "dup", "swap", "cut"]), min_size=1, max_size=6))
    for op in ops:
        if not lines:
            break
        i = data.draw(st.integers(0, len(lines) - 1))
        if op == "drop":
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = data.draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
    blob = b"\n".join(lines)
    if "cut" in ops and blob:
        blob = blob[: data.draw(st.integers(0, len(blob)))]
    _check_record_or_error(blob)


def test_untitled_plan_table_paths_resolve():
    """A page whose plan table has no title line: the table is addressed by its position
    (`pricing[0]`, never `pricing[None]`), its values have provenance, which resolves."""
    page = SEEDS[0].replace(b"\nTier comparison\n", b"\n")
    doc = extract_document(page, "p.txt", RULES)
    assert any(w.code == "GP106" for w in doc.warnings)
    record = doc.model_dump(mode="json")
    assert record["pricing"][0]["title"] is None
    assert "pricing[0].plans[Free].plan" in doc.provenance
    for path in doc.provenance:
        resolve(record, path)
    for path, _value in iter_leaves(record):
        assert path in doc.provenance


@PAGE_SETTINGS
@given(st.sampled_from(PAGES), st.data())
def test_truncation_changes_only_the_cut_section(page, data):
    """A page cut anywhere reads, from every line before its last (cut) section, the values the
    whole page reads there: a cut never adds or changes a value it does not reach."""
    whole = page.read_bytes()
    cut = whole[: data.draw(st.integers(1, len(whole) - 1))]
    try:
        doc = extract_document(cut, "p.txt", RULES)
    except InputError:
        return  # cut before the first section heading: not a guide
    full = extract_document(whole, "p.txt", RULES).model_dump(mode="json")
    record = doc.model_dump(mode="json")
    last_heading = read_page(cut, "p.txt", RULES)[1].sections[-1].heading.no
    for path, prov in doc.provenance.items():
        if prov["lines"][1] < last_heading:
            assert resolve(record, path) == resolve(full, path), path


@PAGE_SETTINGS
@given(st.sampled_from([p for p in PAGES if b"\nQuick SCIM facts\n" in p.read_bytes()]), PROSE)
def test_unread_line_is_reported(page, junk):
    """A line that no parser reads (here: one under "Quick SCIM facts" that is no fact) is
    reported as unparsed at its line, and every value of the page stays as it was."""
    assume(
        _is_plain_prose(junk)
        and not any(junk.startswith(lab.casefold()[:1]) for f in RULES.tables_file.quick_facts for lab in f.labels)
    )
    data = page.read_bytes()
    at = data.index(b"\nQuick SCIM facts\n") + len(b"\nQuick SCIM facts\n")
    line_no = data[:at].count(b"\n") + 1
    doc = extract_document(data[:at] + junk.encode() + b"\n" + data[at:], "p.txt", RULES)
    assert [w.line for w in doc.warnings if w.code == "GP204"] == [line_no]
    assert _values(doc) == _values(extract_document(data, "p.txt", RULES))


# --------------------------------------------------------------------------- reading

NOISE = st.sampled_from([" ", "  ", "\t", "\u00a0", " \u00a0", "\u2009", "\u3000 "])
LINE_END = st.sampled_from(["\n", "\r\n", "\r"])


@SETTINGS
@given(
    st.lists(st.lists(st.text(VISIBLE, min_size=1, max_size=8), max_size=6), max_size=12),
    NOISE,
    LINE_END,
    st.booleans(),
)
def test_read_text_reads_through_whitespace_noise(lines, noise, end, bom):
    """Lines of words printed with any spacing noise, line ends and BOM read back as the words
    joined by single spaces: the noise never reaches a line."""
    printed = "".join(noise + noise.join(words) + noise + end for words in lines)
    data = (b"\xef\xbb\xbf" if bom else b"") + printed.encode("utf-8")
    assume(data.strip())
    text = read_text(data, "p.txt")
    assert [ln.text for ln in text.lines] == [" ".join(words) for words in lines]
    assert [ln.no for ln in text.lines] == list(range(1, len(lines) + 1))


def _is_subsequence(part: str, whole: str) -> bool:
    rest = iter(whole)
    return all(c in rest for c in part)


@SETTINGS
@given(st.text(max_size=200))
def test_fold_space_is_idempotent(text):
    """Folding folded text changes nothing; folding only drops characters and turns runs of
    space into one, so what is left is the text's own characters in order."""
    once = fold_space(text)
    assert fold_space(once) == once
    assert once == once.strip() and "  " not in once
    assert _is_subsequence(once.replace(" ", ""), text)


@SETTINGS
@given(ANY_TEXT)
def test_read_text_is_idempotent(text):
    """Reading the lines read_text gives, printed again, gives the same lines."""
    try:
        first = read_text(text.encode("utf-8"), "p.txt")
    except InputError:
        return
    again = "".join(ln.text + "\n" for ln in first.lines).encode("utf-8")
    if again.strip():
        assert read_text(again, "p.txt").lines == first.lines


# --------------------------------------------------------------------------- segmenting

#: Every heading line of the seed pages, as printed, with its section label.
HEADINGS = sorted(
    {(s.heading.text, s.label) for data in SEEDS for s in segment(read_text(data, "seed.txt"), RULES).sections}
)


@SETTINGS
@given(
    st.lists(PROSE, max_size=3),
    st.lists(
        st.tuples(st.sampled_from(HEADINGS), st.lists(st.one_of(PROSE, st.just("")), max_size=4)),
        min_size=1,
        max_size=6,
    ),
)
def test_segment_reads_back_the_sections_a_page_is_built_from(header, sections):
    """A page printed as title lines then headings each with its body segments back into those
    title lines, and those sections with those bodies, in order."""
    assume(all(_is_plain_prose(t) for t in header) and all(_is_plain_prose(t) for _, b in sections for t in b if t))
    printed = header + [x for (heading, _label), body in sections for x in (heading, *body)] + ["See how it works"]
    page = segment(read_text(("\n".join(printed) + "\n").encode(), "p.txt"), RULES)
    assert [ln.text for ln in page.header] == header
    assert [(s.heading.text, s.label) for s in page.sections] == [h for h, _body in sections]
    assert [[ln.text for ln in s.body] for s in page.sections] == [body for _h, body in sections]
    assert not page.truncated


@SETTINGS
@given(ANY_TEXT)
def test_segment_places_every_line_once(text):
    """Every non-blank line lands, once and in page order, in the title block, a heading or a
    section body; the only lines left out are the incomplete last line and end-of-page chrome."""
    try:
        t = read_text(text.encode("utf-8"), "p.txt")
    except InputError:
        return
    page = segment(t, RULES)
    placed = [ln.no for ln in page.header]
    for s in page.sections:
        placed += [s.heading.no] + [ln.no for ln in s.body]
    assert placed == sorted(set(placed))
    dropped = {w.line for w in page.warnings if w.code == "GP303"}
    for ln in t.lines:
        if ln.text and ln.no not in placed:
            assert ln.no in dropped or RULES.match_line("end_markers", ln.text), ln


# --------------------------------------------------------------------------- tables: pipe rows

CELL_TEXT = st.text(st.characters(categories=("L", "N", "P", "S"), exclude_characters="|"), max_size=10)


@SETTINGS
@given(
    st.lists(
        st.lists(st.one_of(CELL_TEXT, st.just("|"), st.just("a|b")), max_size=3).map(" ".join).map(fold_space),
        min_size=1,
        max_size=6,
    )
)
def test_pipe_row_round_trip(cells):
    """A pipe row printed from any cells (a bar in a cell escaped as `\\|`) splits back into them."""
    row = "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"
    assert split_pipe_row(row) == cells
    assert not is_separator_row(row) or all(set(c) <= set(":-") for c in cells)


@SETTINGS
@given(st.lists(st.sampled_from(["---", ":--", "--:", ":--:", "------"]), min_size=1, max_size=6), st.booleans())
def test_separator_rows(marks, spaced):
    """A row of dashes (with alignment colons) is a separator; the same row with a word is not."""
    sep = " | " if spaced else "|"
    assert is_separator_row("|" + sep.join(marks) + "|")
    assert not is_separator_row("|" + sep.join(marks + ["Plan"]) + "|")


# --------------------------------------------------------------------------- tables: headers and glued rows


def _columns_of(kind: str) -> list:
    return RULES.tables_file.tables[kind].columns


@SETTINGS
@given(st.sampled_from(sorted(RULES.tables_file.tables)), st.data(), st.booleans())
def test_header_round_trip(kind, data, pipe):
    """A header printed from a table kind's column names (any of each column's names, optional
    columns left out at random) is recognised as that kind with those columns, glued or piped."""
    cols = [c for c in _columns_of(kind) if c.required or data.draw(st.booleans())]
    names = [data.draw(st.sampled_from(c.headers)) for c in cols]
    text = "| " + " | ".join(names) + " |" if pipe else "".join(names)
    assert match_header(text, RULES) == (kind, cols)


SSO_TERMS = [t for t, _ in RULES.cell_terms if RULES.cells[t.casefold()].columns == ("sso",)]
SCIM_TERMS = [t for t, _ in RULES.cell_terms if RULES.cells[t.casefold()].columns == ("scim",)]
#: Notes as printed: capitalised words (a vocabulary term only counts glued, so "Limited SSO …" is a note).
NOTES = st.lists(st.from_regex(r"[A-Z][a-z]{1,8}", fullmatch=True), min_size=1, max_size=6).map(" ".join)


def _glued_row(parts: list[str | None]) -> str:
    return "".join(p for p in parts if p)


@SETTINGS
@given(
    st.sampled_from([t for t, _ in RULES.idps]),
    st.one_of(st.none(), st.sampled_from(SSO_TERMS)),
    st.one_of(st.none(), st.sampled_from(SCIM_TERMS)),
    st.one_of(st.none(), NOTES),
)
def test_glued_idp_row_round_trip(idp, sso, scim, notes):
    """An IdP row glued from vocabulary terms (icons lost, as flat scrapes lose them) splits back
    into those terms, the lost cells None."""
    assume(notes is None or not any(notes.split(" ")[0].startswith(t) for t, _ in RULES.cell_terms))
    row = split_glued_row(Line(1, _glued_row([idp, sso, scim, notes])), _columns_of("identity_providers"), RULES)
    assert row.cells == {"idp": idp, "sso": sso, "scim": scim, "notes": notes}
    assert not row.warnings


PLAN_NAME = st.lists(st.from_regex(r"[A-Z][a-z]{2,8}", fullmatch=True), min_size=1, max_size=3).map(" ".join)
AMOUNT = st.integers(0, 9_999_999)
CURRENCIES = {text: value for text, value, _rid in RULES.terms["CURRENCY"] if not text.isalpha()}
PERIODS = {text: value for text, value, _rid in RULES.terms["PERIOD"]}


@SETTINGS
@given(
    PLAN_NAME, st.sampled_from(sorted(s for s in CURRENCIES if len(s) == 1)), AMOUNT, st.sampled_from(sorted(PERIODS))
)
def test_glued_plan_row_round_trip(plan, sign, amount, period):
    """A plan row glued from a plan name and a price splits back into them (a price word inside
    a plan name, "Team Free", is no price: it follows a space, not glued to the name)."""
    price = f"{sign}{amount:,}/{period}"
    row = split_glued_row(Line(1, plan + price), _columns_of("plans"), RULES)
    assert (row.cells["plan"], row.cells["price"]) == (plan, price)


@SETTINGS
@given(
    st.lists(
        st.tuples(
            st.sampled_from([t for t, _ in RULES.idps]),
            st.sampled_from(SSO_TERMS + [None]),
            st.sampled_from(SCIM_TERMS + [None]),
            st.one_of(st.none(), NOTES),
        ),
        min_size=1,
        max_size=5,
        unique_by=lambda r: r[0],
    ),
    st.booleans(),
)
def test_idp_table_round_trip(rows, pipe):
    """A whole IdP table, piped or glued, reads back as one table of those rows."""
    assume(all(n is None or not any(n.split(" ")[0].startswith(t) for t, _ in RULES.cell_terms) for *_, n in rows))
    if pipe:
        printed = ["| IdP | SSO | SCIM | Notes |", "|---|---|---|---|"]
        printed += ["| " + " | ".join(c or "" for c in r) + " |" for r in rows]
    else:
        printed = ["IdPSSOSCIMNotes"] + [_glued_row(list(r)) for r in rows]
    lines = [Line(i, t) for i, t in enumerate(["Supported identity providers"] + printed + [""], 1)]
    tables = read_tables(lines, RULES)
    assert [t.kind for t in tables] == ["identity_providers"]
    assert [tuple(r.cells.values()) for r in tables[0].rows] == rows
    assert tables[0].last_line == len(printed) + 1


@SETTINGS
@given(ANY_TEXT)
def test_tables_in_any_text_lie_in_order(text):
    """Whatever the lines, tables come in line order without overlapping, each row a line after
    its header, and each glued cell a piece of its row."""
    lines = [Line(i, " ".join(s.split())) for i, s in enumerate(text.split("\n"), 1)]
    end = 0
    for table in read_tables(lines, RULES):
        assert table.header.no > end and match_header(table.header.text, RULES) is not None
        nos = [r.line.no for r in table.rows]
        assert nos == sorted(set(nos)) and all(n > table.header.no for n in nos)
        for row in table.rows:
            assert all(v is None or v in row.line.text.replace("\\|", "|") for v in row.cells.values())
        end = table.last_line


# --------------------------------------------------------------------------- tables: label/value rows

LABELS = tuple((lab, f.field) for f in RULES.tables_file.quick_facts for lab in f.labels)
VALUE = st.lists(st.from_regex(r"[A-Za-z0-9$.,]{1,8}", fullmatch=True), min_size=1, max_size=4).map(" ".join)


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(LABELS), VALUE, st.booleans()), max_size=8), st.lists(PROSE, max_size=3))
def test_label_rows_round_trip(rows, others):
    """Label/value rows printed glued (`LabelValue`) or piped (`| Label | Value |`) read back as
    those labels, fields and values; lines that start with no label are returned as the rest."""
    assume(all(not o.startswith(lab.casefold()) for o in others for lab, _ in LABELS))
    # A value may extend its label into a longer one ("SSO" + "available? …"): the longest label wins.
    assume(
        all(
            not (lab + v).casefold().startswith(other.casefold()) or len(other) <= len(lab)
            for (lab, _f), v, _p in rows
            for other, _ in LABELS
        )
    )
    printed = [f"| {lab} | {v} |" if pipe else lab + v for (lab, _f), v, pipe in rows]
    lines = [Line(i, t) for i, t in enumerate(printed + others, 1)]
    read, rest = read_label_rows(lines, LABELS)
    assert [(r.label, r.field, r.value) for r in read] == [(lab, f, v) for (lab, f), v, _p in rows]
    assert [ln.text for ln in rest] == others


# --------------------------------------------------------------------------- prices


@SETTINGS
@given(
    st.sampled_from(sorted(CURRENCIES)),
    st.integers(0, 10**8),
    st.booleans(),
    st.sampled_from(sorted(PERIODS)),
    st.one_of(st.none(), st.sampled_from(["user", "seat", "doc maker"])),
)
def test_price_round_trip(sign, cents, whole, period, unit):
    """A price printed from a currency, an amount (with thousands commas, cents or not), a unit
    and a period parses back to them."""
    amount = cents // 100 if whole else cents / 100
    printed = f"{sign}{cents // 100:,}" + ("" if whole else f".{cents % 100:02d}")
    printed += (f"/{unit}" if unit else "") + f"/{period}"
    parsed, rule = parse_price(printed, RULES)
    assert parsed is not None and rule == "price.amount"
    assert (parsed.currency, parsed.amount, parsed.period, parsed.unit) == (
        CURRENCIES[sign],
        amount,
        PERIODS[period],
        unit,
    )


@SETTINGS
@given(
    st.sampled_from(sorted(CURRENCIES)),
    st.integers(0, 10**6),
    st.integers(0, 10**6),
    st.sampled_from(sorted(PERIODS)),
    st.sampled_from(["range", "plus", "from"]),
)
def test_price_range_and_floor_round_trip(sign, low, span, period, form):
    """'$27-470/month' parses to its two ends; '$145+/month' and 'Starting at $280/month' to an
    open-ended floor."""
    printed = {
        "range": f"{sign}{low}-{low + span}/{period}",
        "plus": f"{sign}{low}+/{period}",
        "from": f"Starting at {sign}{low}/{period}",
    }[form]
    parsed, _rule = parse_price(printed, RULES)
    assert parsed is not None and parsed.amount is None and parsed.amount_min == low
    assert parsed.period == PERIODS[period] and parsed.currency == CURRENCIES[sign]
    assert (parsed.amount_max, parsed.open_ended) == ((low + span, False) if form == "range" else (None, True))


PRICEY = st.lists(
    st.sampled_from(
        list("$€£0123456789.,+-/ ()kK")
        + ["month", "mo", "user", "per", "year", "Custom", "Quote required", "USD", "to", "Starting at "]
    ),
    max_size=20,
).map("".join)


@SETTINGS
@given(st.one_of(PRICEY, st.text(max_size=60)))
def test_parse_price_any_text(text):
    """Any text parses to nothing (no rule) or to amounts that are non-negative, either one amount
    or a range/floor, ordered as printed, each amount a number printed in the text."""
    parsed, rule = parse_price(text, RULES)
    if parsed is None:
        assert rule is None
        return
    assert rule
    assert not (parsed.amount is not None and parsed.amount_min is not None)
    digits = re.sub(r"\D", "", text)
    for v in (parsed.amount, parsed.amount_min, parsed.amount_max):
        assert v is None or (v >= 0 and (v == 0 or digits))
    if parsed.custom:
        assert parsed.amount is None and parsed.amount_min is None


# --------------------------------------------------------------------------- sections

TITLE = st.from_regex(r"[A-Z][a-z]{2,8}( [a-z]{2,8}){0,3}", fullmatch=True)


@PAGE_SETTINGS
@given(
    st.lists(PROSE, min_size=1, max_size=4),
    st.lists(st.tuples(st.sampled_from(RULES.page.bullets), PROSE), min_size=1, max_size=5),
    st.lists(st.tuples(TITLE, PROSE), min_size=1, max_size=4),
)
def test_sections_read_back_what_a_page_prints(paragraphs, bullets, pairs):
    """A page printed from paragraphs, bullet items and title/detail pairs reads back as the
    summary, challenges and constraints it was printed from."""
    assume(all(_is_plain_prose(t) for t in paragraphs + [b for _m, b in bullets] + [x for p in pairs for x in p]))
    printed = ["Acme SCIM guide", "", "Summary and recommendation", ""]
    printed += [x for p in paragraphs for x in (p, "")]
    printed += ["Summary of challenges", ""] + [f"{m} {b}" for m, b in bullets]
    printed += ["", "Additional constraints", ""] + [x for p in pairs for x in p] + ["", "See how it works"]
    doc = extract_document(("\n".join(printed) + "\n").encode(), "p.txt", RULES)
    assert doc.summary == paragraphs
    assert doc.challenges == [b for _m, b in bullets]
    assert [(c.title, c.detail) for c in doc.constraints or []] == pairs


@SETTINGS
@given(GUIDEY)
def test_split_glued_list_keeps_every_character(text):
    """Splitting a glued list only cuts: the items put back together give the text (spaces aside)."""
    items = split_glued_list(text, ["OneLogin"])
    assert "".join("".join(items).split()) == "".join(text.split())


# --------------------------------------------------------------------------- app names

APP_NAME = st.lists(st.from_regex(r"[A-Z][a-z]{2,9}[0-9]?", fullmatch=True), min_size=1, max_size=3).map(" ".join)
MAILJET = SEEDS[0]
assert MAILJET.startswith(b"Stitchflow\nMailjet logo\n")


@PAGE_SETTINGS
@given(APP_NAME, st.booleans())
def test_app_name_round_trip(name, with_title):
    """A guide printed for any app name reads back as that name and its slug, from the title
    line or, with the title block gone, from the template sentences and headings."""
    assume(_is_plain_prose(name) and name.encode() not in MAILJET)
    page = MAILJET.replace(b"Mailjet", name.encode())
    if not with_title:
        page = page.replace(f"{name} logo\n".encode(), b"").replace(f"{name} SCIM guide\n".encode(), b"")
    doc = extract_document(page, "p.txt", RULES)
    assert (doc.app, doc.slug) == (name, slugify(name))
    found = doc.provenance["app"]
    assert (found["rule"] == "header.title") == with_title
    assert name in page.decode().splitlines()[found["lines"][0] - 1]
    assert not [w for w in doc.warnings if w.code in ("GP501", "GP502")]


@SETTINGS
@given(st.text(max_size=60))
def test_slugify_is_idempotent(name):
    """A slug is lowercase ASCII runs joined by single dashes (or empty), and slugs slug to themselves."""
    slug = slugify(name)
    assert re.fullmatch(r"([a-z0-9]+(-[a-z0-9]+)*)?", slug)
    assert slugify(slug) == slug


@SETTINGS
@given(
    st.lists(st.from_regex(r"[A-Za-z0-9]{1,8}", fullmatch=True), min_size=1, max_size=4),
    st.sampled_from([" ", ".", "!", " - ", "/"]),
)
def test_slugify_round_trip(words, sep):
    """An ASCII name's words, whatever punctuation joins them, are its slug's words, lowercased."""
    assert slugify(sep.join(words)) == "-".join(w.lower() for w in words)


# --------------------------------------------------------------------------- errors


@SETTINGS
@given(
    st.sampled_from([GuideparseError, InputError, RulesError]),
    st.sampled_from(sorted(CODES)),
    st.text(max_size=40),
    st.one_of(st.none(), st.text(max_size=20)),
    st.one_of(st.none(), st.integers(1, 10**6)),
)
def test_errors_survive_pickling(cls, code, message, path, line):
    """An error crosses a process boundary (pickle) with its class, code, message, path, line and text."""
    err = cls(code, message, path=path, line=line)
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is cls
    assert (back.code, back.message, back.path, back.line, str(back)) == (code, message, path, line, str(err))


@pytest.mark.parametrize(
    ("target", "cases", "expected"),
    [("pages", 200, "ok"), ("html", 20, "ok"), ("files", 40, "some-failed"), ("rules", 40, "loaded")],
)
def test_fuzz_target_runs(target, cases, expected):
    """Each long fuzz target (tests/fuzz.py; 100,000 cases in all, see the README) in miniature,
    so none can rot: every case clean, and the common outcome among them."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("gp_fuzz", ROOT / "tests" / "fuzz.py")
    assert spec is not None and spec.loader is not None
    fuzz = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fuzz)
    outcomes = fuzz.run(cases, seed=1, target_name=target)
    assert sum(outcomes.values()) >= cases and expected in outcomes
