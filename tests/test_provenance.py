"""Every value explained: provenance for every non-null value, coverage of every line, `explain`."""
from __future__ import annotations

import pytest

from conftest import RAW, SHARED_CORPUS
from guideparse.cli import main
from guideparse.paths import iter_leaves, resolve
from guideparse.record import extract_document

SEEDS = sorted(RAW.glob("00*.txt"))
CORPUS = sorted(RAW.glob("*.txt")) + sorted((SHARED_CORPUS / "excerpts").glob("*.txt"))


@pytest.fixture(scope="module")
def corpus(rules):
    return {p: extract_document(p.read_bytes(), str(p), rules) for p in CORPUS}


def test_every_value_has_provenance(corpus):
    """Each non-null field of each corpus document points to source lines and a rule, and each
    provenance path resolves to a value."""
    checked = 0
    for path, doc in corpus.items():
        record = doc.model_dump(mode="json")
        for field, _value in iter_leaves(record):
            assert field in doc.provenance, f"{path.name}: {field} has no provenance"
            checked += 1
        for field, prov in doc.provenance.items():
            resolve(record, field)
            assert 1 <= prov["lines"][0] <= prov["lines"][1] and prov["rule"]
    assert checked > 3000


def test_provenance_lines_hold_the_value(corpus):
    """A provenance entry's lines contain the printed text of a string value (after whitespace folding)."""
    for path, doc in corpus.items():
        lines = path.read_text(encoding="utf-8").splitlines()
        record = doc.model_dump(mode="json")
        for field, prov in doc.provenance.items():
            value = resolve(record, field)
            # cell values and table kinds are names from rules, not printed text
            if not isinstance(value, str) or field.endswith((".sso", ".scim", ".supported", ".kind")):
                continue
            a, b = prov["lines"]
            source = " ".join(" ".join(lines[a - 1:b]).split())
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
    heads = [l for l in out.splitlines() if l and not l.startswith(" ")]
    assert heads and all(h.startswith("quick_facts.") for h in heads)
    assert 'quick_facts.sso_protocol = "SAML 2.0"' in out


def test_explain_unknown_field(capsys):
    """An unknown field is a one-line error listing the fields that have values."""
    assert main(["explain", str(SEEDS[0]), "nope"]) == 2
    err = capsys.readouterr().err.strip()
    assert "GP906" in err and "quick_facts" in err and len(err.splitlines()) == 1
