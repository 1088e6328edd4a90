"""The catalog's rules (inference.jsonl, tiers.yaml, lints.yaml): validated on load with file and
line, in the digest; the phrase language and what reads notes and tier texts, over random input."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import append_line, refused_edit
from guideparse.errors import RulesError
from guideparse.infer import read_note, resolve_row
from guideparse.models import IdentityProvider
from guideparse.phrases import compile_phrase
from guideparse.rules import load_rules
from guideparse.rules_catalog import LINT_CHECKS, TIER_CLASSES
from guideparse.tiers import text_class

BAD_INFERENCE = [
    ('{"label": "IMPLIES", "id": "infer.x", "phrase": "no .* SCIM", "implies": {"scim": "no"}}', "is not a word"),
    ('{"label": "IMPLIES", "id": "infer.x", "phrase": "… SCIM", "implies": {"scim": "no"}}', "cannot start or end"),
    ('{"label": "IMPLIES", "id": "infer.x", "phrase": "SSO on {plan}", "implies": {"sso": "yes"}}', "{plan}"),
    ('{"label": "IMPLIES", "id": "infer.x", "phrase": "no SCIM", "implies": {"scm": "no"}}', "unknown column 'scm'"),
    ('{"label": "IMPLIES", "id": "infer.x", "phrase": "no SCIM", "implies": {"scim": "maybe"}}', "not a scim cell"),
    ('{"label": "IMPLIES", "id": "infer.x", "phrase": "no SCIM", "implies": {"sso": "jit_only"}}', "not a sso cell"),
    (
        '{"label": "IMPLIES", "id": "infer.x", "phrase": "no SCIM", "implies": {"scim": "no"}, "fits": {"sso": ["yes"]}}',
        "does not imply",
    ),
    ('{"label": "IMPLIES", "id": "infer.x", "phrase": "no SCIM"}', "need implies"),
    ('{"label": "IMPLIES", "id": "x.no-scim", "phrase": "no SCIM", "implies": {}}', "must start with 'infer.'"),
    ('{"label": "NEGATION", "id": "infer.x", "phrase": "no", "implies": {}}', "NEGATION entries take only"),
    ('{"label": "NEGATION", "id": "infer.x", "phrase": "no", "window": 40}', "less than or equal to 6"),
    ('{"label": "IMPLIES", "id": "infer.no-scim", "phrase": "no SCIM", "implies": {}}', "listed twice"),
]


@pytest.mark.parametrize("line,message", BAD_INFERENCE, ids=[m for _, m in BAD_INFERENCE])
def test_bad_inference_entry_names_file_and_line(rules_copy, line, message):
    """A bad line of inference.jsonl is refused with its file, line and what is wrong."""
    n = append_line(rules_copy / "inference.jsonl", line)
    with pytest.raises(RulesError) as info:
        load_rules(rules_copy)
    assert (info.value.path, info.value.line) == (str(rules_copy / "inference.jsonl"), n)
    assert message in info.value.message


BAD_YAML = [
    ("tiers.yaml", "class: add_on}", "class: addon}", "tier.phrase.add-on,", "unknown tier class 'addon'"),
    ("tiers.yaml", "order: [all_plans, free,", "order: [free,", "order: [free", "order must list each of"),
    ("tiers.yaml", "names: [Free, Free plan,", "names: [Pro, Free plan,", "names: [Pro, Professional", "listed twice"),
    ("tiers.yaml", "[or, and,", "[or, and plus,", "separators:", "must be a lowercase word"),
    ("tiers.yaml", 'phrase: "SSO {plan} plans', 'phrase: "SSO plans', "tier.sso.plan-required", "needs {plan}"),
    ("tiers.yaml", "id: tier.phrase.none,", "id: tier.phrase.all-plans,", "tier.phrase.all-plans, phrase: \"all", "duplicate rule id"),
    ("lints.yaml", "field: quick_facts.scim_available, equals: false}\n\n  - id: lint.scim-without",
     "field: quick_facts.scim_availble, equals: false}\n\n  - id: lint.scim-without", "scim_availble", "unknown field 'scim_availble'"),
    ("lints.yaml", "message: \"the badge says {badge}", "message: \"the badge says {badge.__class__}", "badge.__class__", "has no fields"),
    ("lints.yaml", "check: tier_texts_disagree", "check: tier_texts_differ", "tier_texts_differ", "unknown check"),
    ("lints.yaml", "severity: info", "severity: fatal", "fatal", "Input should be 'error', 'warning' or 'info'"),
    ("lints.yaml", "each: identity_providers", "each: badge", "each: badge", "unknown list field 'badge'"),
    ("lints.yaml", "{field: item.scim, equals: \"yes\"}", "{field: item.scim, in: [\"yes\"], is_null: true}", "in: [\"yes\"], is_null", "exactly one of"),
    ("lints.yaml", "{field: badge, in: [Native SCIM]}", "{field: badge, in: [Native SCIM], any: []}", "any: []", "one of: field"),
    ("lints.yaml", "message: \"{first} says", "message: \"{firstly} says", "{firstly}", "unknown placeholder {firstly}"),
    ("lints.yaml", "    check: renderings_disagree", "    check: renderings_disagree\n    fields: [summary]", "fields: [summary]", "neither each nor fields"),
]  # fmt: skip


@pytest.mark.parametrize("name,old,new,line_of,message", BAD_YAML, ids=[m for *_, m in BAD_YAML])
def test_bad_catalog_yaml_names_file_and_line(rules_copy, name, old, new, line_of, message):
    """A bad entry of tiers.yaml or lints.yaml is refused with its file, the line of the entry
    and what is wrong (the valid choices where there are some)."""
    error, text = refused_edit(rules_copy, name, old, new)
    assert error.path == str(rules_copy / name)
    assert message in error.message
    want = next(i for i, ln in enumerate(text.splitlines(), 1) if line_of in ln)
    assert error.line is not None and want - 6 <= error.line <= want


@pytest.mark.parametrize("name", ["inference.jsonl", "tiers.yaml", "lints.yaml"])
def test_catalog_rules_are_required_and_in_the_digest(rules_copy, name):
    """Each catalog rules file is in the digest (a changed byte changes it) and must be there."""
    before = load_rules(rules_copy).digest
    append_line(rules_copy / name, "# a comment" if name.endswith(".yaml") else "// a comment")
    assert load_rules(rules_copy).digest != before
    (rules_copy / name).unlink()
    with pytest.raises(RulesError, match="missing"):
        load_rules(rules_copy)


def test_a_new_wording_is_a_rules_change(rules_copy):
    """A note wording the rules do not know implies nothing until one line says what it implies."""
    note = "Provisioning handled by the Okta connector"
    assert read_note(note, load_rules(rules_copy)) == {}
    line = '{"label": "IMPLIES", "id": "infer.connector", "phrase": "provisioning handled by … connector", "implies": {"scim": "yes"}}'
    append_line(rules_copy / "inference.jsonl", line)
    reading = read_note(note, load_rules(rules_copy))["scim"]
    assert (reading.value, reading.rule) == ("yes", "infer.connector")


def test_every_named_check_is_implemented():
    """The checks a lint may name (rules_catalog.LINT_CHECKS) are exactly those lints.py implements."""
    from guideparse.lints import CHECKS

    assert set(CHECKS) == set(LINT_CHECKS)


# --------------------------------------------------------------------------- the phrase language

WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8)
SEPARATORS = st.sampled_from([" ", "  ", ", ", " / ", " (", ") ", " - "])


@given(words=st.lists(WORDS, min_size=1, max_size=6), seps=st.lists(SEPARATORS, min_size=5, max_size=5))
def test_a_phrase_matches_its_words_across_separators_but_not_sentences(words, seps):
    """A phrase of plain words finds them separated by spaces and punctuation, case-insensitively,
    and never across a sentence end."""
    regex = compile_phrase(" ".join(words))
    joined = words[0] + "".join(s + w for s, w in zip(seps, words[1:], strict=False))
    assert regex.search(f"x {joined.upper()} y")
    if len(words) > 1:
        assert not regex.search(". ".join(words))


@given(st.text(max_size=60))
def test_any_phrase_text_compiles_or_is_refused_with_a_reason(phrase):
    """Whatever a rules file holds as a phrase, it compiles or raises ValueError (never re.error)."""
    try:
        regex = compile_phrase(phrase)
    except ValueError as exc:
        assert str(exc)
    else:
        assert isinstance(regex, re.Pattern)


PHRASE_TOKENS = st.sampled_from(
    [
        "SSO",
        "SAML",
        "on|with|in",
        "plans|plan|tier",
        "includes|offers",
        "for",
        "required?",
        "the?",
        "…",
        "{plan}",
        "sign-on",
    ]
)
TEXT_WORDS = st.sampled_from(
    ["SSO", "saml", "on", "with", "plan", "plans", "tier", "includes", "offers", "for", "required", "the", "Pro",
     "Enterprise", "sign-on", "sign", "2.0", "100k+", ".", ",", "(", ")", "-", "and",
     # what re.IGNORECASE takes for an i and str.casefold does not fold to one: dotless ı, dotted İ
     "İncludes", "ıncludes", "TİER", "tıer", "SİGN-ON", "sıgn-on"]
)  # fmt: skip


@settings(max_examples=400)
@given(
    tokens=st.lists(PHRASE_TOKENS, min_size=1, max_size=6),
    others=st.lists(st.lists(PHRASE_TOKENS, min_size=1, max_size=6), max_size=3),
    words=st.lists(TEXT_WORDS, max_size=16),
)
def test_the_word_order_test_never_rejects_a_text_a_phrase_matches(tokens, others, words):
    """may_match (the cheap test before a phrase's regex) passes every text the phrase matches,
    so do the gates of it and other phrases together (gate_words), and a phrase's lookahead (`_reach`, for phrases opening with {plan} or optional words)
    changes none of its matches."""
    from guideparse.phrases import _reach, fold, gate_words, may_match, needed_words, passes_gates, word_order

    phrase = " ".join(tokens)
    try:
        regex = compile_phrase(phrase, slots=True)
    except ValueError:
        return
    text = " ".join(words)
    needs = needed_words(phrase)
    if regex.search(text):
        assert may_match(word_order(needs), fold(text))
        assert passes_gates(fold(text), gate_words([needs, *(needed_words(" ".join(o)) for o in others)]))
    plain = re.compile(regex.pattern.replace(_reach(phrase.split()), "", 1), re.IGNORECASE)
    assert [m.span() for m in regex.finditer(text)] == [m.span() for m in plain.finditer(text)]


def test_a_statement_with_a_turkish_i_is_found():
    """A tier statement whose words are printed with a dotless ı or a dotted İ (a Turkish-locale
    upper-casing): the phrase's regex matches it, so the prefilters must let it through."""
    from guideparse.phrases import fold, gate_words, may_match, needed_words, passes_gates, word_order

    phrase = "SSO|SAML integration? available|supported|offered on|with|in {plan}"
    needs = needed_words(phrase)
    for text in ("SSO avaılable on Enterprise", "SSO AVAİLABLE ON ENTERPRİSE"):
        assert compile_phrase(phrase, slots=True).search(text)
        assert may_match(word_order(needs), fold(text))
        assert passes_gates(fold(text), gate_words([needs]))


def test_the_word_order_test_is_linear():
    """A long text with the first words many times and never the last is refused at once."""
    from guideparse.phrases import may_match, needed_words, word_order

    order = word_order(needed_words("SSO on {plan} plans"))
    text = "sso on " * 50_000
    assert not may_match(order, text)
    assert may_match(order, text + "plans")


CELLS = st.sampled_from(["yes", "no", "unknown", "via_third_party", "jit_only", "via_api", "limited"])
NOTE_WORDS = st.sampled_from(
    ["no", "not", "SCIM", "SSO", "SAML", "provisioning", "full", "with", "only", "supported", "available", "JIT",
     "OIN", "app", "gallery", "native", "may", "be", ".", ",", "-", "but", "Supported", "on", "Enterprise", "plan"]
)  # fmt: skip


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=300)
@given(sso=CELLS, scim=CELLS, words=st.lists(NOTE_WORDS, max_size=12), noise=st.text(max_size=20))
def test_resolution_never_changes_a_shown_cell(rules, sso, scim, words, noise):
    """Whatever the note, a shown cell is kept; only unknown cells are resolved, each to a value
    its column can show, and named in `inferred` with its rule."""
    note = " ".join(words) + noise
    row = resolve_row(IdentityProvider(idp="Okta", sso=sso, scim=scim, notes=note), rules)
    valid = {"sso": {"yes", "no", "via_third_party"}, "scim": {"yes", "no", "jit_only", "via_api", "limited"}}
    for column, before in (("sso", sso), ("scim", scim)):
        after = getattr(row, column)
        if before != "unknown":
            assert after == before and column not in row.inferred
        elif column in row.inferred:
            assert after in valid[column] and row.inferred_by[column].startswith("infer.")
        else:
            assert after == "unknown"


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=300)
@given(text=st.text(max_size=80) | st.lists(NOTE_WORDS, max_size=10).map(" ".join))
def test_any_tier_text_has_a_class(rules, text):
    """Any tier text is classed, as one of the classes."""
    assert text_class(text, [], rules) in TIER_CLASSES


@pytest.mark.parametrize("depth,ok", [(6, True), (7, False)])
def test_conditions_nest_at_most_six_deep(rules_copy, depth, ok):
    """A lint condition nests all / any / not at most six deep (deeper is refused at its line)."""
    cond = "{field: badge, is_null: true}"
    for _ in range(depth):
        cond = "{not: " + cond + "}"
    entry = f"\n  - id: lint.deep\n    severity: info\n    message: deep\n    fields: [badge]\n    when: {cond}\n"
    with (rules_copy / "lints.yaml").open("a", encoding="utf-8") as fh:
        fh.write(entry)
    if ok:
        assert load_rules(rules_copy).lints.lints[-1].id == "lint.deep"
        return
    with pytest.raises(RulesError, match="nest at most 6 deep") as info:
        load_rules(rules_copy)
    assert info.value.line == len((rules_copy / "lints.yaml").read_text(encoding="utf-8").splitlines())
