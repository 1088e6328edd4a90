"""Rules are data: validated on load with file and line, digested, extensible without code."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import RAW, append_line, refused_edit
from guideparse.errors import RulesError
from guideparse.record import extract_document
from guideparse.rules import load_rules

BAD_JSONL = [
    (
        "headings.jsonl",
        '{"label": "sumary", "pattern": "Summary", "id": "h.x"}',
        "unknown section label 'sumary' (valid: summary,",
    ),
    ("headings.jsonl", '{"label": "summary", "pattern": "For {ap}", "id": "h.x"}', "unknown placeholder {ap}"),
    (
        "headings.jsonl",
        '{"label": "summary", "pattern": "Summary and recommendation", "id": "heading.summary"}',
        "duplicate rule id",
    ),
    (
        "headings.jsonl",
        '{"label": "pricing", "pattern": "{app} versus {app}", "id": "h.x"}',
        "placeholder {app} is used twice",
    ),
    (
        "vocabulary.jsonl",
        '{"label": "CELL", "pattern": "Partial", "value": "Partial!", "columns": ["sso"], "id": "c.x"}',
        "snake_case",
    ),
    (
        "vocabulary.jsonl",
        '{"label": "CELL", "pattern": "Partial", "value": "partial", "columns": ["notes"], "id": "c.x"}',
        "CELL columns",
    ),
    ("vocabulary.jsonl", '{"label": "IDP", "pattern": "Okta", "id": "idp.okta2"}', "listed twice"),
    ("vocabulary.jsonl", '{"label": "IDP", "pattern": "X", "id": "i.x", "extra": 1}', "extra"),
    ("vocabulary.jsonl", '{"label": "IDP", "pattern": "X", "id": ', "invalid JSON"),
    ("vocabulary.jsonl", '{"label": "CONFUSABLE", "pattern": "O", "value": "O", "id": "c.x"}', "one non-ASCII letter"),
    ("vocabulary.jsonl", '{"label": "CONFUSABLE", "pattern": "\\uff2f", "value": "O", "id": "c.x"}', "NFKC keeps"),
    (
        "vocabulary.jsonl",
        '{"label": "CONFUSABLE", "pattern": "\\u042b", "value": "bl", "id": "c.x"}',
        "one ASCII letter",
    ),
    (
        "vocabulary.jsonl",
        '{"label": "CONFUSABLE", "pattern": "\\u04c0", "value": "I", "id": "c.x"}',
        "of its script does",
    ),
    ("vocabulary.jsonl", '{"label": "CONFUSABLE", "pattern": "\\u041e", "value": "O", "id": "c.x"}', "listed twice"),
    (
        "app_names.jsonl",
        '{"label": "APP_NAME", "id": "a.x", "pattern": [{"LOWER": "foo"}, {"LOWER": "bar"}]}',
        "exactly one",
    ),
    (
        "app_names.jsonl",
        '{"label": "APP_NAME", "id": "a.x", "pattern": [{"NAME": true}, {"LOWR": "bar"}]}',
        "unknown token attribute 'LOWR'",
    ),
]


@pytest.mark.parametrize("name,line,message", BAD_JSONL, ids=[m for _, _, m in BAD_JSONL])
def test_bad_jsonl_entry_names_file_and_line(rules_copy, name, line, message):
    """A bad JSONL entry is refused with its file, its line and what is wrong."""
    n = append_line(rules_copy / name, line)
    with pytest.raises(RulesError) as info:
        load_rules(rules_copy)
    assert info.value.path == str(rules_copy / name)
    assert info.value.line == n
    assert message in info.value.message


@pytest.mark.parametrize(
    "name,old,new,line_of,message",
    [
        ("tables.yaml", "type: bool}", "type: boolean}", "scim_available", "Input should be 'bool', 'text' or 'int'"),
        (
            "tables.yaml",
            "field: sso_protocol,",
            "field: sso_protocl,",
            "sso_protocl",
            "unknown quick_facts field 'sso_protocl'",
        ),
        ("tables.yaml", "starts: price,", "starts: prices,", "starts: prices", "unknown starts 'prices'"),
        ("tables.yaml", "pattern: '[$€£¥₹]'", "pattern: '[$€£'", "price.currency", "bad regular expression"),
        (
            "tables.yaml",
            "  identity_providers:\n    columns:",
            "  identity_providers:\n    columns: [",
            "columns: [",
            "invalid YAML",
        ),
        ("page.yaml", "text/pipe: [constraints", "text/pip: [constraints", "text/pip:", "unknown format 'text/pip'"),
        ("page.yaml", "next_line: [unlock]", "next_line: [unlok]", "next_line:", "unknown section label 'unlok'"),
        (
            "page.yaml",
            "{id: chrome.book-demo,",
            "{id: end.see-how,",
            'id: end.see-how, pattern: "Book',
            "duplicate rule id 'end.see-how'",
        ),
    ],
)
def test_bad_yaml_entry_names_file_and_line(rules_copy, name, old, new, line_of, message):
    """A bad YAML entry, caught by a validator or across entries, is refused with its file and
    the line of the offending entry."""
    error, text = refused_edit(rules_copy, name, old, new)
    assert error.path == str(rules_copy / name)
    assert message in error.message
    want = next(i for i, ln in enumerate(text.splitlines(), 1) if line_of in ln)
    assert error.line is not None and abs(error.line - want) <= 1


def test_missing_rules_folder(tmp_path):
    """A rules folder that does not exist is a rules error, not a traceback."""
    with pytest.raises(RulesError, match="GP001"):
        load_rules(tmp_path / "nope")


def test_digest_follows_content(rules_copy):
    """The digest recorded in each run changes with any rules change, and only then."""
    a = load_rules(rules_copy).digest
    assert load_rules(rules_copy).digest == a
    append_line(rules_copy / "vocabulary.jsonl", '{"label": "IDP", "pattern": "JumpCloud", "id": "idp.jumpcloud"}')
    assert load_rules(rules_copy).digest != a


# ---- extensibility: each is a rules change alone, no code change between them

PAGE = """Supported identity providers

IdPSSOSCIMNotes
JumpCloudPartialSAML with partial provisioning

Pricing tiers at a glance

Intro.

See how it works
"""

PIPE_PAGE = """Supported identity providers
| IdP | SSO | SCIM | Notes |
|---|---|---|---|
| Okta | ✓ | Partial | Some notes |
See how it works
"""


def test_new_idp_is_a_rules_change(rules_copy):
    """A new IdP name splits glued rows exactly once it is in vocabulary.jsonl."""
    page = b"Supported identity providers\n\nIdPSSOSCIMNotes\nPingIDSSO only\n\nSee how it works\n"
    before = extract_document(page, "p.txt", load_rules(rules_copy))
    assert before.identity_providers[0].idp == "Ping"  # guessed at a case change, with a warning
    assert "GP103" in {w.code for w in before.warnings}
    append_line(rules_copy / "vocabulary.jsonl", '{"label": "IDP", "pattern": "PingID", "id": "idp.pingid"}')
    after = extract_document(page, "p.txt", load_rules(rules_copy))
    assert after.identity_providers[0].idp == "PingID"
    assert after.identity_providers[0].notes == "SSO only"
    assert "GP103" not in {w.code for w in after.warnings}


def test_new_cell_value_is_a_rules_change(rules_copy):
    """A new cell value ("Partial") is read in both renderings once it is in vocabulary.jsonl."""
    before = extract_document(PIPE_PAGE.encode(), "p.txt", load_rules(rules_copy))
    assert before.identity_providers[0].scim == "unknown"
    assert "GP101" in {w.code for w in before.warnings}
    append_line(
        rules_copy / "vocabulary.jsonl",
        '{"label": "CELL", "pattern": "Partial", "value": "partial", "columns": ["scim"], "id": "cell.partial"}',
    )
    append_line(rules_copy / "vocabulary.jsonl", '{"label": "IDP", "pattern": "JumpCloud", "id": "idp.jumpcloud"}')
    r = load_rules(rules_copy)
    pipe = extract_document(PIPE_PAGE.encode(), "p.txt", r)
    assert pipe.identity_providers[0].scim == "partial"
    flat = extract_document(PAGE.encode(), "f.txt", r)
    assert (flat.identity_providers[0].idp, flat.identity_providers[0].scim, flat.identity_providers[0].notes) == (
        "JumpCloud",
        "partial",
        "SAML with partial provisioning",
    )


def test_new_heading_wording_is_a_rules_change(rules_copy):
    """A new heading wording starts its section once it is in headings.jsonl."""
    page = b"Acme SCIM guide\n\nSummary and recommendation\n\nOne.\n\nOur recommendation in brief\n\nBrief.\n\nSee how it works\n"
    before = extract_document(page, "p.txt", load_rules(rules_copy))
    assert before.summary == ["One.", "Our recommendation in brief", "Brief."]
    append_line(
        rules_copy / "headings.jsonl",
        '{"label": "bottom_line", "pattern": "Our recommendation in brief", "id": "heading.bottom-line-brief"}',
    )
    after = extract_document(page, "p.txt", load_rules(rules_copy))
    assert after.summary == ["One."]
    assert after.bottom_line == "Brief."
    assert after.provenance["bottom_line"]["rule"] == "heading.bottom-line-brief:paragraphs-joined"


def test_whole_term_lookup_agrees_with_the_phrase_matcher():
    """A cell that is one vocabulary term is answered without spaCy, exactly as the matcher would."""
    from guideparse.nlp import match_phrases, match_terms

    rules = load_rules()
    for label, terms in rules.terms.items():
        for text, _value, _rid in terms:
            for shown in (text, text.upper(), f"  {text} "):
                assert match_terms(shown, rules, label) == match_phrases(shown, rules, label), (label, shown)
    assert match_terms("SAML 2.0, OIDC", rules, "PROTOCOL") == match_phrases("SAML 2.0, OIDC", rules, "PROTOCOL")
    assert [v for v, _ in match_terms("SAML 2.0, OIDC", rules, "PROTOCOL")] == ["SAML 2.0", "OIDC"]


def test_bad_css_selector_names_file_and_line(rules_copy):
    """A selector that does not compile is refused with page.yaml's line."""
    path = rules_copy / "page.yaml"
    text = path.read_text(encoding="utf-8").replace('- "[hidden]"', '- "[hidden"', 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RulesError) as info:
        load_rules(rules_copy)
    assert info.value.path == str(path) and "bad CSS selector '[hidden'" in info.value.message
    assert info.value.line == next(i for i, ln in enumerate(text.splitlines(), 1) if '"[hidden"' in ln)


def test_selectors_outside_the_subset_are_refused(rules_copy):
    path = rules_copy / "page.yaml"
    text = path.read_text(encoding="utf-8").replace('- "[hidden]"', '- "li:has(a)"', 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RulesError, match=r"bad CSS selector 'li:has\(a\)'.*supported: a tag or \*"):
        load_rules(rules_copy)


_NAME = st.from_regex(r"[a-z][a-z0-9-]{0,6}", fullmatch=True)
_PART = st.one_of(
    _NAME.map(".{}".format),
    _NAME.map("#{}".format),
    _NAME.map("[{}]".format),
    st.tuples(_NAME, st.sampled_from(["=", "*=", "^=", "$=", "~=", "|="]), _NAME).map(
        lambda t: f"[{t[0]}{t[1]}'{t[2]}']"
    ),
)
_COMPOUND = (
    st.tuples(st.one_of(st.just(""), _NAME), st.lists(_PART, max_size=3))
    .filter(lambda t: t[0] or t[1])
    .map(lambda t: t[0] + "".join(t[1]))
)
_SELECTOR = st.lists(st.tuples(_COMPOUND, st.sampled_from([" ", " > ", "+", " ~ "])), min_size=1, max_size=3).map(
    lambda parts: "".join(c + j for c, j in parts[:-1]) + parts[-1][0]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(_SELECTOR, _COMPOUND.map(":not({})".format)), min_size=1, max_size=3).map(", ".join))
def test_every_selector_of_the_subset_compiles_in_soupsieve(selector):
    """The subset rules are checked against (css_subset) is a subset: soupsieve takes each."""
    import soupsieve

    from guideparse.css_subset import check_selector

    assert check_selector(selector) is None
    soupsieve.compile(selector)


def test_shipped_selectors_compile_in_soupsieve(rules):
    import soupsieve

    for sel in [*rules.page.html.chrome_selectors, *rules.page.html.row_selectors]:
        soupsieve.compile(sel)


def test_new_price_lead_in_is_a_rules_change(rules_copy):
    """A new lead-in wording ("Beginning at $X") makes an open-ended price by a vocabulary line alone."""
    from guideparse.prices import parse_price

    assert parse_price("Beginning at $40/month", load_rules(rules_copy))[0] is None
    append_line(
        rules_copy / "vocabulary.jsonl",
        '{"label": "PRICE_TERM", "pattern": "Beginning at", "value": "from", "id": "price.from-beginning-at"}',
    )
    parsed, _rule = parse_price("Beginning at $40/month", load_rules(rules_copy))
    assert parsed is not None and parsed.amount_min == 40 and parsed.open_ended and parsed.period == "month"


def test_app_name_sections_are_rules(rules_copy):
    """Which sections name the app is page.yaml data: without `unlock` among the
    `next_line` sections, the name under "Unlock SCIM for" is not read."""
    page = "Summary and recommendation\n\nText.\n\nUnlock SCIM for\n\nLucid Chart\n\nSee how it works\n"
    assert extract_document(page.encode(), "p.txt", load_rules(rules_copy)).app == "Lucid Chart"
    path = rules_copy / "page.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("next_line: [unlock]", "next_line: []"), encoding="utf-8")
    assert extract_document(page.encode(), "p.txt", load_rules(rules_copy)).app is None


@pytest.mark.parametrize("kind", ["fifo", "device", "too large"])
def test_rules_file_that_is_not_a_small_regular_file(rules_copy, kind):
    """A rules file that is a FIFO, a device (/dev/zero) or over 5 MB is refused with GP001
    naming it, without blocking or reading it whole."""
    import os

    path = rules_copy / "tables.yaml"
    path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        path.symlink_to("/dev/zero")
    else:
        path.write_bytes(b"# padding\n" * (600 * 1024))
    with pytest.raises(RulesError) as info:
        load_rules(rules_copy)
    assert info.value.code == "GP001" and info.value.path == str(path)
    assert ("larger than 5 MB" if kind == "too large" else "not a regular file") in info.value.message


def test_yaml_alias_is_refused(rules_copy):
    """Anchors and aliases are refused (expanding them lets a small file validate for ever)."""
    path = rules_copy / "page.yaml"
    text = path.read_text(encoding="utf-8").replace("bullets: [", "bullets: &marks [", 1)
    path.write_text(text + "\nextra_bullets: *marks\n", encoding="utf-8")
    with pytest.raises(RulesError) as info:
        load_rules(rules_copy)
    assert info.value.code == "GP001" and "aliases" in info.value.message and info.value.path == str(path)


def test_start_not_after_its_characters(rules_copy):
    """A `starts` entry's `not_after` characters: a digit after "." starts no glued price, so
    the plan "Essential 2.0" keeps its version; without them the row is cut inside the number."""
    page = (RAW / "000_2e1c3045778c876f.txt").read_text(encoding="utf-8")
    page = page.replace("Essential$17/month", "Essential 2.0$17/month").encode()
    plans = extract_document(page, "p.txt", load_rules(rules_copy)).pricing[0].plans
    assert (plans[1].plan, plans[1].price) == ("Essential 2.0", "$17/month")
    path = rules_copy / "tables.yaml"
    text = path.read_text(encoding="utf-8")
    assert "not_after: '0123456789.,', " in text
    path.write_text(text.replace("not_after: '0123456789.,', ", ""), encoding="utf-8")
    plans = extract_document(page, "p.txt", load_rules(rules_copy)).pricing[0].plans
    assert (plans[1].plan, plans[1].price) == ("Essential 2.", "0$17/month")
