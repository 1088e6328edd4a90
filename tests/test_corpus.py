"""The shared corpus: every excerpt against its reviewed gold values, and flat/pipe agreement.

Needs ../shared/corpus beside the checkout (as in CI); skipped otherwise.
"""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

from conftest import SHARED_CORPUS, matches
from guideparse.catalog import build_catalog
from guideparse.paths import iter_leaves
from guideparse.record import extract_document

pytestmark = pytest.mark.skipif(not (SHARED_CORPUS / "gold").is_dir(), reason="../shared/corpus not present")

GOLD_SCALARS = (
    "app",
    "badge",
    "plan_requirement",
    "summary",
    "strategic_alternative",
    "quick_facts",
    "identity_providers",
)


def _gold():
    return sorted((SHARED_CORPUS / "gold").glob("*.json")) if (SHARED_CORPUS / "gold").is_dir() else []


@pytest.fixture(scope="module")
def corpus_docs(rules):
    docs = {}
    for folder in ("seeds", "excerpts"):
        for p in sorted((SHARED_CORPUS / folder).glob("*.txt")):
            docs[p.name] = extract_document(p.read_bytes(), f"{folder}/{p.name}", rules)
    return docs


@pytest.mark.parametrize("gold_path", _gold(), ids=lambda p: p.stem)
def test_excerpt_matches_gold(gold_path, corpus_docs):
    """Each labelled field of an excerpt equals the reviewed gold value."""
    gold = json.loads(gold_path.read_text(encoding="utf-8"))
    doc = corpus_docs[gold["file"]].model_dump(mode="json")
    for key in GOLD_SCALARS:
        if key in gold:
            problems = matches(doc[key], gold[key], key)
            assert not problems, problems
    for key, want in gold.get("cost_of_manual_management", {}).items():
        assert doc["cost_of_manual_management"][key] == want, key
    assert doc["source"]["format"] == f"text/{gold['format']}"
    assert doc["source"]["truncated"] is True  # every excerpt is cut at 2,000 bytes


def _values(doc: dict) -> dict[str, object]:
    """Flatten a record to path -> known value (paths as in provenance)."""
    return {p: v for p, v in iter_leaves(doc) if v not in ("unknown", [])}


def test_renderings_agree(corpus_docs):
    """Two scrapes of one app give equal values for every field both show, unless their gold differs too."""
    gold = {
        json.loads(p.read_text(encoding="utf-8"))["file"]: json.loads(p.read_text(encoding="utf-8")) for p in _gold()
    }
    by_app = defaultdict(list)
    for name, doc in corpus_docs.items():
        by_app[doc.slug].append((name, doc.model_dump(mode="json")))
    compared = 0
    for slug, docs in by_app.items():
        for i, (na, a) in enumerate(docs):
            for nb, b in docs[i + 1 :]:
                va, vb = _values(a), _values(b)
                for path in set(va) & set(vb):
                    compared += 1
                    if va[path] != vb[path]:
                        top = path.split(".")[0].split("[")[0]
                        ga, gb = gold.get(na, {}), gold.get(nb, {})
                        assert top in ga and top in gb and ga[top] != gb[top], f"{slug}: {path} differs in {na} / {nb}"
    assert compared > 500


def test_catalog_fills_unknown_cells(corpus_docs):
    """No merged catalog entry keeps an `unknown` IdP cell that one of its scrapes knows."""
    catalog = build_catalog(sorted(corpus_docs.values(), key=lambda d: d.source.path))
    docs_by_slug = defaultdict(list)
    for d in corpus_docs.values():
        docs_by_slug[d.slug].append(d)
    multi = 0
    for entry in catalog:
        if len(entry.sources) > 1:
            multi += 1
        for row in entry.identity_providers or []:
            for col in ("sso", "scim"):
                if getattr(row, col) != "unknown":
                    continue
                for d in docs_by_slug[entry.slug]:
                    for r in d.identity_providers or []:
                        assert not (r.idp == row.idp and getattr(r, col) != "unknown"), (entry.slug, row.idp, col)
    assert multi >= 20
