"""Merging the documents of one app into a catalog entry."""

from __future__ import annotations

from guideparse.catalog import build_catalog, merge_documents
from guideparse.record import extract_document

FLAT = """Acme SCIM guide

Native SCIM

Summary and recommendation

One paragraph.

Supported identity providers

IdPSSOSCIMNotes
OktaOIN app with full provisioning
Google WorkspaceJIT onlySAML SSO with just-in-time provisioning

See how it works
"""

PIPE = """Summary and recommendation
One paragraph.
The strategic alternative
Acme has no native SCIM.
Supported identity providers
| IdP | SSO | SCIM | Notes |
|---|---|---|---|
| Okta | ✓ | ✓ | OIN app with full provisioning |
| Google Workspace | ✓ | JIT only | SAML SSO with just-in-time provisioning |
| OneLogin | ✓ | ❌ | SSO only |
See how it works
"""


def _doc(text: str, path: str, rules):
    return extract_document(text.encode(), path, rules)


def test_pipe_icons_fill_flat_unknowns(rules):
    """A pipe scrape's ✓ fills a flat scrape's `unknown`; new rows are added; badge comes from the flat scrape."""
    entry = merge_documents([_doc(FLAT, "a/acme.flat.txt", rules), _doc(PIPE, "a/acme.pipe.txt", rules)])
    rows = {r.idp: (r.sso, r.scim) for r in entry.identity_providers}
    assert rows == {"Okta": ("yes", "yes"), "Google Workspace": ("yes", "jit_only"), "OneLogin": ("yes", "no")}
    assert entry.badge == "Native SCIM"
    assert entry.strategic_alternative == "Acme has no native SCIM."
    assert entry.conflicts == []
    assert [s.path for s in entry.sources] == ["a/acme.flat.txt", "a/acme.pipe.txt"]


def test_disagreement_is_a_conflict_and_last_wins(rules):
    """Two known values that differ are both kept in `conflicts`, with a GP401 warning; the last document wins."""
    other = PIPE.replace("| OneLogin | ✓ | ❌ | SSO only |", "| OneLogin | ✓ | ✓ | SCIM app |")
    entry = merge_documents([_doc(PIPE, "a/1.txt", rules), _doc(other, "a/2.txt", rules)])
    fields = {c.field: c.values for c in entry.conflicts}
    assert set(fields) == {"identity_providers[OneLogin].scim", "identity_providers[OneLogin].notes"}
    assert fields["identity_providers[OneLogin].scim"] == [
        {"value": "no", "source": "a/1.txt"},
        {"value": "yes", "source": "a/2.txt"},
    ]
    assert {r.idp: r.scim for r in entry.identity_providers}["OneLogin"] == "yes"
    assert any(w.code == "GP401" and "OneLogin" in w.message for w in entry.warnings)


def test_one_document_is_itself(rules):
    """With one document per app, the entry equals that document (bar source/sources) but for what
    the catalog adds: the cells it resolved (each named in `inferred`), tier classes and lints."""
    doc = _doc(FLAT, "x.txt", rules)
    entry = merge_documents([doc])
    a = doc.model_dump(mode="json", exclude={"source", "provenance", "warnings"})
    b = entry.model_dump(
        mode="json", exclude={"sources", "provenance", "warnings", "conflicts", "lints", "api_guide", "manual_guide"}
    )
    for row in b["identity_providers"]:
        for column in row.pop("inferred"):
            row[column] = "unknown"
        assert set(row.pop("inferred_by")) <= {"sso", "scim"}
    if b["quick_facts"] is not None:
        del b["quick_facts"]["scim_tier_class"], b["quick_facts"]["sso_tier_class"]
    assert a == b
    assert any(row.inferred for row in entry.identity_providers), "FLAT's notes resolve some cells"


def test_truncated_list_is_filled_not_conflicting(rules):
    """A summary cut short by truncation is a prefix of the whole one: filled, no conflict."""
    whole = _doc("Acme SCIM guide\n\nSummary and recommendation\n\nOne.\n\nTwo.\n\nSee how it works\n", "b.txt", rules)
    cut = _doc("Acme SCIM guide\n\nSummary and recommendation\n\nOne.\n\nTw", "a.txt", rules)
    entry = merge_documents([cut, whole])
    assert entry.summary == ["One.", "Two."]
    assert entry.conflicts == []


def test_catalog_sorted_by_slug(rules):
    """build_catalog groups by slug and sorts entries by slug."""
    docs = [_doc(PIPE.replace("Acme", "Zed"), "z.txt", rules), _doc(PIPE, "a.txt", rules)]
    assert [e.slug for e in build_catalog(docs)] == ["acme", "zed"]


def test_offer_blocks_merge_by_heading(rules):
    """Sub-sections are matched by heading: a list only the flat scrape keeps survives the merge."""
    flat = (
        "What Acme actually offers for identity\n\nSAML SSO\n\nAcme provides SAML.\n\nCritical limitations:\n\n"
        "No JIT provisioning\nOnly admins can enable SSO\nSSO and 2FA are exclusive\n\nSee how it works\n"
    )
    pipe = (
        "Quick SCIM facts\n| SCIM available? | No |\n| SSO available? | Yes |\n"
        "What Acme actually offers for identity\nSAML SSO\nAcme provides SAML.\nSee how it works\n"
    )
    entry = merge_documents([_doc(flat, "a.flat.txt", rules), _doc(pipe, "a.pipe.txt", rules)])
    assert entry.conflicts == []
    block = entry.identity_offer.blocks[0]
    assert block.heading == "SAML SSO" and block.paragraphs == ["Acme provides SAML."]
    assert block.lists[0].items == ["No JIT provisioning", "Only admins can enable SSO", "SSO and 2FA are exclusive"]


def test_single_entry_equals_merge_of_one(rules):
    """The fast path for one-document apps gives exactly merge_documents([doc])."""
    from conftest import RAW
    from guideparse.catalog import single_entry

    for path in sorted(RAW.glob("*.txt")):
        doc = extract_document(path.read_bytes(), str(path), rules)
        assert single_entry(doc).model_dump_json() == merge_documents([doc]).model_dump_json(), path.name
