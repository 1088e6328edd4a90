"""HTML guides: the same record as the text scrapes, icons read, chrome never in a value."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import RAW, matches
from guideparse.errors import InputError
from guideparse.paths import iter_leaves, resolve
from guideparse.reading import looks_like_html
from guideparse.record import extract_document

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "html"
#: fixture -> the pipe scrape it is the HTML version of
PIPE_VERSIONS = {
    "postmark": "001_cc1dd07e63208682.txt", "sendgrid": "002_6714c1e2c01d3ba9.txt",
    "airtable": "airtable.pipe.txt", "criteria": "criteria-corp.pipe.txt",
    "xmatters": "xmatters.pipe.txt", "zoho-workplace": "zoho-workplace.pipe.txt",
}
#: page chrome in the fixtures: none of it may reach a value
CHROME = ["Log in", "Open menu", "We use cookies", "Accept all", "You are here",
          "SCIM guides", "© 2026", "Privacy ·", "dataLayer", "__NEXT_DATA__", "Decoy IdP", "hidden row",
          "Hidden duplicate", "Skip to content", "Book a Demo", "@type", "pageProps"]


def _extract(path: Path, rules):
    return extract_document(path.read_bytes(), str(path), rules)


@pytest.mark.parametrize("name", sorted(PIPE_VERSIONS))
def test_html_gives_what_the_pipe_scrape_gives(name, rules):
    """Every value the pipe scrape shows, the HTML version shows too, at the same path."""
    html = _extract(FIXTURES / f"{name}.html", rules).model_dump(mode="json")
    pipe = _extract(RAW / PIPE_VERSIONS[name], rules).model_dump(mode="json")
    assert html["source"]["format"] == "html"
    compared = 0
    for path, value in iter_leaves(pipe):
        assert resolve(html, path) == value, path
        compared += 1
    assert compared >= 15


@pytest.mark.parametrize("name", sorted(PIPE_VERSIONS))
def test_html_icon_cells_are_yes_or_no(name, rules):
    """IdP icon cells (inline SVG) come out as yes / no, never unknown."""
    doc = _extract(FIXTURES / f"{name}.html", rules)
    cells = [getattr(r, c) for r in doc.identity_providers for c in ("sso", "scim")]
    assert cells and "unknown" not in cells
    assert {"yes", "no"} & set(cells)


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.htm*")) + [FIXTURES / "html-named.txt"], ids=lambda p: p.name)
def test_no_chrome_in_any_value(path, rules):
    """Nav, footer, scripts, hidden elements and cookie banners never reach a value."""
    try:
        doc = _extract(path, rules)
    except InputError:
        return
    for field, value in iter_leaves(doc.model_dump(mode="json")):
        text = str(value)
        for chrome in CHROME:
            assert chrome not in text, f"{path.name}: {field} = {text[:80]!r} holds chrome {chrome!r}"


def test_handwritten_page(rules):
    """Icons by aria-label, title and alt; dl rows; minus icons mean 'not included'; entities decoded."""
    doc = _extract(FIXTURES / "handwritten.html", rules).model_dump(mode="json")
    problems = matches(doc, {
        "app": "Acme & Co", "slug": "acme-co", "badge": "Native SCIM", "plan_requirement": "Business or Enterprise",
        "summary": ["Acme & Co supports SCIM—but only on Business or Enterprise.",
                    "Second paragraph, over two source lines."],
        "quick_facts": {"scim_available": True, "scim_tier_required": "Business", "sso_required_first": False,
                        "sso_protocols": ["SAML 2.0", "OIDC"], "documentation": "Official docs"},
        "identity_providers": [
            {"idp": "Okta", "sso": "yes", "scim": "yes", "notes": "OIN app with full provisioning"},
            {"idp": "Microsoft Entra ID", "sso": "yes", "scim": "no", "notes": "SSO only"},
            {"idp": "Google Workspace", "sso": "via_third_party", "scim": "no", "notes": "No native support"}],
        "cost_of_manual_management": {"orphaned_accounts": 7, "unused_license_cost_usd": 3925},
        "pricing": [{"title": "Plan Structure (8+ Users, Annual Billing Required)", "plans": [
            {"plan": "Team", "sso": False, "scim": False}, {"plan": "Business", "sso": True, "scim": True},
            {"plan": "Enterprise", "price": "Custom (contact sales)", "sso": True}]}],
        "constraints": [{"title": "Separate SCIM configuration"}, {"title": "Token rotation"}],
        "challenges": ["Acme & Co gates SCIM behind Business", "Group sync needs Enterprise"],
        "last_updated": "2026-01-11", "source": {"format": "html", "truncated": False},
    }, "")
    assert not problems, problems
    assert doc["warnings"] == []


def test_provenance_points_into_the_html_source(rules):
    """Provenance lines are lines of the HTML file, and hold the value's element."""
    path = FIXTURES / "handwritten.html"
    doc = _extract(path, rules)
    lines = path.read_text(encoding="utf-8").splitlines()
    a, b = doc.provenance["identity_providers[Okta].notes"]["lines"]
    assert "<td>Okta</td>" in lines[a - 1] and a == b
    a, _ = doc.provenance["quick_facts.scim_tier_required"]["lines"]
    assert "SCIM tier required" in lines[a - 1]


def test_truncated_html_gives_a_partial_record(rules):
    """A page cut mid-way (the hand-written page's first 2,600 bytes, inside a tag): values up to
    the cut, flagged truncated, the cut block dropped."""
    data = (FIXTURES / "handwritten.html").read_bytes()[:2600]
    doc = extract_document(data, "truncated.html", rules)
    codes = {w.code for w in doc.warnings}
    assert doc.source.truncated and {"GP302", "GP303"} <= codes
    assert doc.quick_facts.scim_available is True and len(doc.identity_providers) == 3
    assert doc.pricing is None and doc.constraints is None


def test_malformed_html_is_read(rules):
    """Unclosed and stray tags: the values are still read."""
    doc = _extract(FIXTURES / "malformed.html", rules)
    assert doc.summary == ["First paragraph & unescaped ampersand bold", "Second paragraph"]
    assert doc.quick_facts.scim_available is False and doc.quick_facts.sso_available is True
    assert [(r.idp, r.sso, r.scim) for r in doc.identity_providers] == [("Okta", "yes", "no")]


def test_format_from_content_not_name(rules):
    """HTML named .txt is read as HTML; text named .html is read as text."""
    assert _extract(FIXTURES / "html-named.txt", rules).source.format == "html"
    assert _extract(FIXTURES / "text-named.html", rules).source.format == "text/flat"
    assert looks_like_html(b"<div><p>a</p><p>b</p><span>c</span><ul><li>d</li></ul></div>")
    assert not looks_like_html(b"Summary and recommendation\n\nText with a <b>tag.\n")


HTMLISH = st.lists(st.sampled_from(["<html>", "<body>", "<div>", "</div>", "<p>", "</p>", "<table>", "<tr>", "<td>",
                                    "</td>", "<th>", "<svg class='lucide lucide-check'>", "</svg>", "<ul>", "<li>",
                                    "<h2>", "</h2>", "Summary and recommendation", "Supported identity providers",
                                    "IdP", "SSO", "SCIM", "Notes", "Okta", "<!--", "-->", "&amp;", "&#", "<script>",
                                    "<br>", "<img alt='Yes'>", "|", "text", " ", "\n", "</html>"]),
                  max_size=60).map("".join)


@settings(max_examples=150, deadline=None)
@given(HTMLISH)
def test_any_html_gives_record_or_clean_error(markup):
    """Random markup gives a record or an InputError, never an exception."""
    from guideparse.rules import load_rules

    rules = load_rules()
    try:
        doc = extract_document(("<!doctype html>" + markup).encode(), "p.html", rules)
    except InputError:
        return
    assert doc.source.format == "html"
