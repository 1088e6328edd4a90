"""Every value explained: provenance for every non-null value, coverage of every line, `explain`."""

from __future__ import annotations

import pytest

from conftest import RAW, SHARED_CORPUS
from guideparse.cli import main
from guideparse.paths import iter_leaves, resolve
from guideparse.record import extract_document

SEEDS = sorted(RAW.glob("00*.txt"))
#: The corpora whose every value is checked, with the least number of values each holds
#: (an extractor that quietly dropped values would otherwise pass by checking little).
CORPORA = {
    "raw": (lambda: sorted(RAW.glob("*.txt")), 2000),
    "shared-excerpts": (lambda: sorted((SHARED_CORPUS / "excerpts").glob("*.txt")), 1500),
}
_NO_SHARED = pytest.mark.skipif(not (SHARED_CORPUS / "excerpts").is_dir(), reason="../shared/corpus not present")


@pytest.fixture(scope="module", params=["raw", pytest.param("shared-excerpts", marks=_NO_SHARED)])
def corpus(request, rules):
    """One corpus extracted: ({path: record}, the least number of values it holds)."""
    paths, least = CORPORA[request.param]
    return {p: extract_document(p.read_bytes(), str(p), rules) for p in paths()}, least


def test_every_value_has_provenance(corpus):
    """Each non-null field of each corpus document points to source lines and a rule, and each
    provenance path resolves to a value."""
    docs, least = corpus
    checked = 0
    for path, doc in docs.items():
        record = doc.model_dump(mode="json")
        for field, _value in iter_leaves(record):
            assert field in doc.provenance, f"{path.name}: {field} has no provenance"
            checked += 1
        for field, prov in doc.provenance.items():
            resolve(record, field)
            assert 1 <= prov["lines"][0] <= prov["lines"][1] and prov["rule"]
    assert checked > least


def test_provenance_lines_hold_the_value(corpus):
    """A provenance entry's lines contain the printed text of a string value (after whitespace folding)."""
    docs, _least = corpus
    for path, doc in docs.items():
        lines = path.read_text(encoding="utf-8").splitlines()
        record = doc.model_dump(mode="json")
        for field, prov in doc.provenance.items():
            value = resolve(record, field)
            # cell values, table kinds and the family are names from rules, not printed text
            if (
                not isinstance(value, str)
                or field == "family"
                or field.endswith((".sso", ".scim", ".supported", ".kind"))
            ):
                continue
            a, b = prov["lines"]
            source = " ".join(" ".join(lines[a - 1 : b]).split())
            assert value in source, f"{path.name}: {field}={value!r} not in lines {a}-{b}"


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.name)
def test_seed_has_no_unparsed_line(seed, rules):
    """Every non-blank line of a seed is used by a value or matched by a boilerplate rule."""
    doc = extract_document(seed.read_bytes(), str(seed), rules)
    assert [w.message for w in doc.warnings if w.kind == "unparsed_line"] == []


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.name)
def test_explain_each_seed(seed, capsys):
    """`guideparse explain FILE` lists values with rule ids and source lines, and no value without provenance."""
    assert main(["explain", str(seed)]) == 0
    out = capsys.readouterr().out
    assert "identity_providers[Okta].sso = " in out
    assert "    rule " in out and " | " in out
    assert "no provenance" not in out
    assert ", 0 unparsed;" in out


def test_explain_one_field(capsys):
    """`guideparse explain FILE FIELD` shows only that field's values."""
    assert main(["explain", str(SEEDS[0]), "quick_facts"]) == 0
    out = capsys.readouterr().out
    heads = [ln for ln in out.splitlines() if ln and not ln.startswith(" ")]
    assert heads and all(h.startswith("quick_facts.") for h in heads)
    assert 'quick_facts.sso_protocol = "SAML 2.0"' in out


def test_explain_unknown_field(capsys):
    """An unknown field is a one-line error listing the fields that have values."""
    assert main(["explain", str(SEEDS[0]), "nope"]) == 2
    err = capsys.readouterr().err.strip()
    assert "GP906" in err and "quick_facts" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("field", ["related_apps[", "a..b", "pricing]x"])
def test_explain_of_no_path_says_so(field, capsys):
    """A FIELD that is no path at all is one line saying where it stops being one, not 'no value'."""
    assert main(["explain", str(SEEDS[0]), field]) == 2
    err = capsys.readouterr().err.strip()
    assert "GP906 not a field path" in err and "at character" in err and len(err.splitlines()) == 1
