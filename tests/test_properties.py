"""Property tests: every parser takes any text and returns a value or a clean error, never an exception."""
from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import RAW, ROOT
from guideparse.errors import InputError
from guideparse.reading import Line, read_text
from guideparse.record import extract_document, slugify
from guideparse.rules import load_rules
from guideparse.segment import segment
from guideparse.prices import parse_price
from guideparse.sections.specs import split_glued_list
from guideparse.tables import match_header, read_label_rows, read_tables, split_glued_row, split_pipe_row

RULES = load_rules(ROOT / "rules")
SEEDS = [p.read_bytes() for p in sorted(RAW.glob("00*.txt"))]
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text that looks like guide material: vocabulary, icons, pipes, glue.
ALPHABET = st.sampled_from(list("abcXYZ |$0123456789.,()/-+:?•✓❌\t\u00a0\r\n") +
                           ["Okta", "Via third-party", "JIT only", "Via API", "Microsoft Entra ID", "SCIM", "SSO",
                            "Plan", "Price", "Notes", "IdP", "Free", "Custom", "| ", " |", "\n", "Quick SCIM facts\n",
                            "Supported identity providers\n", "Tier comparison\n", "SCIM available?"])
GUIDEY = st.lists(ALPHABET, max_size=80).map("".join)
ANY_TEXT = st.one_of(st.text(max_size=400), GUIDEY)


def _ok_or_input_error(data: bytes) -> None:
    try:
        doc = extract_document(data, "p.txt", RULES)
    except InputError as exc:
        assert exc.code.startswith("GP9")
        return
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", doc.slug)
    doc.model_dump_json()  # always serialisable


@SETTINGS
@given(st.binary(max_size=600))
def test_any_bytes(data):
    """Random bytes give a record or an InputError."""
    _ok_or_input_error(data)


@SETTINGS
@given(ANY_TEXT)
def test_any_text(text):
    """Random (guide-flavoured) text gives a record or an InputError."""
    _ok_or_input_error(text.encode("utf-8"))


@SETTINGS
@given(st.sampled_from(range(len(SEEDS))), st.data())
def test_mutated_seed(seed, data):
    """A seed page with lines dropped, duplicated, shuffled or cut anywhere gives a record or an InputError."""
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
        blob = blob[:data.draw(st.integers(0, len(blob)))]
    _ok_or_input_error(blob)


@SETTINGS
@given(ANY_TEXT)
def test_read_text_folds_whitespace(text):
    """read_text numbers lines from 1 and no line keeps leading, trailing or doubled whitespace."""
    try:
        t = read_text(text.encode("utf-8"), "p.txt")
    except InputError:
        return
    assert [ln.no for ln in t.lines] == list(range(1, len(t.lines) + 1))
    for ln in t.lines:
        assert ln.text == ln.text.strip() and "  " not in ln.text and "\t" not in ln.text


@SETTINGS
@given(ANY_TEXT)
def test_segment_any_lines(text):
    """segment() accepts any lines; every non-blank line lands in the header or one section."""
    try:
        t = read_text(text.encode("utf-8"), "p.txt")
    except InputError:
        return
    page = segment(t, RULES)
    assert page.format in ("text/flat", "text/pipe")


@SETTINGS
@given(GUIDEY, st.sampled_from(list(RULES.tables_file.tables)))
def test_split_glued_row_any_text(text, kind):
    """A glued row of any text splits into cells that are each a piece of the row."""
    line = Line(1, " ".join(text.split()))
    row = split_glued_row(line, RULES.tables_file.tables[kind].columns, RULES)
    for value in row.cells.values():
        assert value is None or value in line.text


@SETTINGS
@given(ANY_TEXT)
def test_split_pipe_row_any_text(text):
    """split_pipe_row never raises and returns whitespace-folded cells."""
    for cell in split_pipe_row(text):
        assert cell == " ".join(cell.split())


@SETTINGS
@given(ANY_TEXT)
def test_tables_and_labels_any_text(text):
    """read_tables, match_header and read_label_rows accept any lines."""
    lines = [Line(i, " ".join(s.split())) for i, s in enumerate(text.split("\n"), 1)]
    read_tables(lines, RULES)
    for ln in lines:
        match_header(ln.text, RULES)
    read_label_rows(lines, [("SCIM available?", "scim_available"), ("SSO", "sso")])


@SETTINGS
@given(st.text(max_size=60))
def test_slugify_shape(name):
    """slugify gives lowercase ASCII runs joined by single dashes, or an empty string."""
    assert re.fullmatch(r"([a-z0-9]+(-[a-z0-9]+)*)?", slugify(name))


PRICEY = st.lists(st.sampled_from(list("$€£0123456789.,+-/ ()kK") + ["month", "mo", "user", "per", "year", "Custom",
                                                                     "Quote required", "USD", "to", "Starting at "]),
                  max_size=20).map("".join)


@SETTINGS
@given(st.one_of(PRICEY, st.text(max_size=60)))
def test_parse_price_any_text(text):
    """parse_price returns a ParsedPrice or None; a range is ordered as printed and amounts are non-negative."""
    parsed, rule = parse_price(text, RULES)
    if parsed is None:
        assert rule is None
        return
    assert rule
    for v in (parsed.amount, parsed.amount_min, parsed.amount_max):
        assert v is None or v >= 0
    assert not (parsed.amount is not None and parsed.amount_min is not None)


@SETTINGS
@given(GUIDEY)
def test_split_glued_list_keeps_every_character(text):
    """Splitting a glued list only cuts: the items put back together give the text (spaces aside)."""
    items = split_glued_list(text, ["OneLogin"])
    assert "".join("".join(items).split()) == "".join(text.split())


def test_fuzz_target_runs():
    """The long fuzz target (tests/fuzz.py, 10,000 cases) in miniature, so it cannot rot."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("gp_fuzz", ROOT / "tests" / "fuzz.py")
    fuzz = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fuzz)
    outcomes = fuzz.run(200, seed=1)
    assert sum(outcomes.values()) >= 200 and "ok" in outcomes
