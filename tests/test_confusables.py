"""Look-alike names: never merged silently, never two rows alike without a GP108 warning.

The golden cases (tests/cases/confusables.json) hold the attack names in table rows, glued
rows, headings and prose; here the promises that span them.
"""

from __future__ import annotations

import unicodedata
from itertools import combinations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from conftest import RAW, ROOT
from guideparse.catalog import build_catalog
from guideparse.confusables import lookalikes, skeleton, vet
from guideparse.record import extract_document
from guideparse.rules import load_rules


def _classes(rules) -> list[list[str]]:
    """Letters that display alike, in classes: each ASCII letter or digit with its fullwidth
    and mathematical bold forms and every CONFUSABLE letter imitating it; then letters and
    signs that imitate nothing (one per class)."""
    table = lookalikes(rules).table
    classes = []
    for latin in sorted(set(table.values())):
        forms = [latin, chr(ord(latin) + 0xFEE0)]  # fullwidth
        if latin.isalpha():
            forms.append(unicodedata.lookup(f"MATHEMATICAL BOLD {'CAPITAL' if latin.isupper() else 'SMALL'} {latin}"))
        classes.append(forms + sorted(chr(c) for c, v in table.items() if v == latin))
    return classes + [[c] for c in "ж日のאé€ 1-"]


RULES = load_rules(ROOT / "rules")


def _alike_pairs(classes: list[list[str]]) -> st.SearchStrategy[tuple[str, str]]:
    """Two names drawn class by class: alike position by position."""
    slots = st.lists(st.sampled_from(classes), min_size=1, max_size=6)
    return slots.flatmap(
        lambda cls: st.tuples(*(st.tuples(st.sampled_from(c), st.sampled_from(c)) for c in cls)).map(
            lambda pairs: ("".join(a for a, _ in pairs), "".join(b for _, b in pairs))
        )
    )


@settings(max_examples=500, deadline=None)
@given(pair=_alike_pairs(_classes(RULES)))
# The narrow ways through: a Latin look-alike beside an accented Latin letter; one word in
# each script; a look-alike beside a sign; a Latin or Cyrillic letter beside another script.
@example(pair=("\u00e9i", "\u00e9\u0131"))
@example(pair=("\u041e \u0436", "\u039f \u0436"))
@example(pair=("O\u20ac", "\u041e\u20ac"))
@example(pair=("O\u0436", "\u041e\u0436"))
@example(pair=("O\u05d0", "\u041e\u05d0"))
@example(pair=("3\u0436", "\u0417\u0436"))  # a digit among Cyrillic letters, and the Cyrillic letter imitating it
def test_two_names_alike_are_never_both_unflagged(pair):
    """Of two distinct names that are the same after NFKC and the skeleton, at least one is
    flagged (or read as the known term), for an IdP name and for a name with no vocabulary."""
    x, y = pair
    if x == y or not x.strip():
        return
    assert skeleton(x, RULES) == skeleton(y, RULES)
    for label in ("IDP", None):
        verdicts = [vet(n, label, RULES, "name") for n in (x, y)]
        assert any(v.warning is not None for v in verdicts), (x, y, label)


@pytest.mark.parametrize(
    "name",
    ["Okta", "Microsoft Entra ID", "Café", "Zoë", "Окта", "Яндекс ID", "日本のアイディー", "Ping Identity"],
)
def test_ordinary_names_are_not_flagged(rules, name):
    """Known terms, accented Latin names and names wholly in another script pass unflagged."""
    assert vet(name, "IDP", rules, "IdP name") == (name, None)


def _guide(text: str, name: str) -> str:
    """The pipe seed with its Okta row renamed and its app kept (one app, several documents)."""
    assert "| Okta |" in text
    return text.replace("| Okta |", f"| {name} |")


def test_catalog_never_shows_two_alike_rows_without_a_warning(rules):
    """Documents of one app naming Okta, a Cyrillic, a Greek, a fullwidth and a bidi-wrapped
    Okta: the catalog keeps the real Okta once, the look-alikes apart, each with GP108; no two
    rows alike after NFKC and the skeleton lack a warning naming one of them."""
    seed = (RAW / "airtable.pipe.txt").read_text(encoding="utf-8")
    names = ["Okta", "\u041ekta", "\u039fkta", "\uff2fkta", "\u202eOkta", "\u041ekt\u0430"]
    docs = [extract_document(_guide(seed, n).encode(), f"g{i}.txt", rules) for i, n in enumerate(names)]
    (entry,) = build_catalog(docs)
    idps = [i.idp for i in entry.identity_providers or []]
    assert idps.count("Okta") == 1
    assert {"\u041ekta", "\u039fkta", "\u041ekt\u0430"} <= set(idps)
    flagged = [w.message for w in entry.warnings if w.code == "GP108"]
    for a, b in combinations(idps, 2):
        if skeleton(a, rules) == skeleton(b, rules):
            assert any(repr(a) in m or repr(b) in m for m in flagged), (a, b)
    assert any(w.code == "GP307" for w in entry.warnings)
