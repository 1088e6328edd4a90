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
    "postmark": "001_cc1dd07e63208682.txt",
    "sendgrid": "002_6714c1e2c01d3ba9.txt",
    "airtable": "airtable.pipe.txt",
    "criteria": "criteria-corp.pipe.txt",
    "xmatters": "xmatters.pipe.txt",
    "zoho-workplace": "zoho-workplace.pipe.txt",
}
#: page chrome in the fixtures: none of it may reach a value
CHROME = [
    "Log in",
    "Open menu",
    "We use cookies",
    "Accept all",
    "You are here",
    "SCIM guides",
    "© 2026",
    "Privacy ·",
    "dataLayer",
    "__NEXT_DATA__",
    "Decoy IdP",
    "hidden row",
    "Hidden duplicate",
    "Skip to content",
    "Book a Demo",
    "@type",
    "pageProps",
]


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
    problems = matches(
        doc,
        {
            "app": "Acme & Co",
            "slug": "acme-co",
            "badge": "Native SCIM",
            "plan_requirement": "Business or Enterprise",
            "summary": [
                "Acme & Co supports SCIM—but only on Business or Enterprise.",
                "Second paragraph, over two source lines.",
            ],
            "quick_facts": {
                "scim_available": True,
                "scim_tier_required": "Business",
                "sso_required_first": False,
                "sso_protocols": ["SAML 2.0", "OIDC"],
                "documentation": "Official docs",
            },
            "identity_providers": [
                {"idp": "Okta", "sso": "yes", "scim": "yes", "notes": "OIN app with full provisioning"},
                {"idp": "Microsoft Entra ID", "sso": "yes", "scim": "no", "notes": "SSO only"},
                {"idp": "Google Workspace", "sso": "via_third_party", "scim": "no", "notes": "No native support"},
            ],
            "cost_of_manual_management": {"orphaned_accounts": 7, "unused_license_cost_usd": 3925},
            "pricing": [
                {
                    "title": "Plan Structure (8+ Users, Annual Billing Required)",
                    "plans": [
                        {"plan": "Team", "sso": False, "scim": False},
                        {"plan": "Business", "sso": True, "scim": True},
                        {"plan": "Enterprise", "price": "Custom (contact sales)", "sso": True},
                    ],
                }
            ],
            "constraints": [{"title": "Separate SCIM configuration"}, {"title": "Token rotation"}],
            "challenges": ["Acme & Co gates SCIM behind Business", "Group sync needs Enterprise"],
            "last_updated": "2026-01-11",
            "source": {"format": "html", "truncated": False},
        },
        "",
    )
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


HTMLISH = st.lists(
    st.sampled_from(
        [
            "<html>",
            "<body>",
            "<div>",
            "</div>",
            "<p>",
            "</p>",
            "<table>",
            "<tr>",
            "<td>",
            "</td>",
            "<th>",
            "<svg class='lucide lucide-check'>",
            "</svg>",
            "<ul>",
            "<li>",
            "<h2>",
            "</h2>",
            "Summary and recommendation",
            "Supported identity providers",
            "IdP",
            "SSO",
            "SCIM",
            "Notes",
            "Okta",
            "<!--",
            "-->",
            "&amp;",
            "&#",
            "<script>",
            "<br>",
            "<img alt='Yes'>",
            "|",
            "text",
            " ",
            "\n",
            "</html>",
        ]
    ),
    max_size=60,
).map("".join)


@settings(max_examples=150, deadline=None)
@given(HTMLISH)
def test_any_html_gives_record_or_clean_error(markup):
    """Random markup gives a record whose every value points at source lines that render as
    text, or the InputError of a page that is not a guide."""
    from guideparse.record import source_view
    from guideparse.rules import load_rules

    rules = load_rules()
    data = ("<!doctype html>" + markup).encode()
    try:
        doc = extract_document(data, "p.html", rules)
    except InputError as exc:
        assert exc.code in ("GP903", "GP914", "GP915")  # not a guide, or of no family / two
        return
    assert doc.source.format == "html"
    view = source_view(data, "p.html", rules)
    for path, prov in doc.provenance.items():
        a, b = prov["lines"]
        assert a in view and b in view and a <= b, f"{path}: lines {a}-{b} render no text"


def _icons_for(kind: str) -> list[tuple[str, str]]:
    """(HTML markup of an icon, the cell value it reads as) for the icons a `kind` table reads:
    by class (an inline SVG) and by aria-label (an empty span)."""
    from guideparse.rules import load_rules

    rules = load_rules()
    out = []
    for icon in rules.page.html.icons:
        if kind in rules.icon_tables.get(icon.text, (kind,)):
            out.append((f'<svg class="lucide {icon.classes[0]}"></svg>', rules.icons[icon.text][0]))
    for entry in rules.page.html.icon_labels:
        if kind in rules.icon_tables.get(entry.text, (kind,)):
            out.append((f'<span aria-label="{entry.labels[0]}"></span>', rules.icons[entry.text][0]))
    return out


IDP_ICONS = _icons_for("identity_providers")
NOTE = st.lists(st.from_regex(r"[A-Za-z]{2,9}", fullmatch=True), min_size=1, max_size=6).map(" ".join)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["Okta", "OneLogin", "Google Workspace", "Duo", "Auth0"]),
            st.sampled_from(IDP_ICONS),
            st.sampled_from(IDP_ICONS),
            NOTE,
        ),
        min_size=1,
        max_size=4,
        unique_by=lambda r: r[0],
    ),
    st.from_regex(r"[a-z]{2,9} [0-9]{2,4}", fullmatch=True),
)
def test_html_idp_table_round_trip(rows, chrome):
    """An HTML IdP table of names, icons (SVG classes or aria-labels) and notes reads back as
    those IdPs, the icons' values and the notes; navigation chrome (with digits no cell has)
    reaches no value."""
    from guideparse.rules import load_rules

    cells = "".join(
        f"<tr><td>{idp}</td><td>{sso[0]}</td><td>{scim[0]}</td><td>{note}</td></tr>" for idp, sso, scim, note in rows
    )
    page = (
        "<!doctype html><html><body><nav><a href='/'>" + chrome + "</a></nav>"
        "<h1>Acme SCIM guide</h1><h2>Supported identity providers</h2>"
        "<table><thead><tr><th>IdP</th><th>SSO</th><th>SCIM</th><th>Notes</th></tr></thead>"
        f"<tbody>{cells}</tbody></table><p>See how it works</p></body></html>"
    )
    doc = extract_document(page.encode(), "p.html", load_rules())
    assert [(r.idp, r.sso, r.scim, r.notes) for r in doc.identity_providers or []] == [
        (idp, sso[1], scim[1], note) for idp, sso, scim, note in rows
    ]
    assert all(chrome not in str(v) for _p, v in iter_leaves(doc.model_dump(mode="json")))


@pytest.mark.parametrize(
    "dl",
    [
        "<dl>Read this first.<dt>Auth method</dt><dd>OAuth</dd></dl>",
        "<dl><dt>Auth method</dt><dd>OAuth</dd> Read this first.</dl>",
        "<dl><div>Read this first.<dt>Auth method</dt><dd>OAuth</dd></div></dl>",
    ],
)
def test_text_loose_in_a_definition_list_is_kept(dl, rules):
    """A definition list with text outside its terms and definitions is read block by block,
    as before definition lists were rows: that text is a line of the page, never dropped."""
    from guideparse.record import read_lines

    text, _ = read_lines(f"<html><body><h1>Acme</h1>{dl}</body></html>".encode(), "p.html", rules)
    page = "\n".join(ln.text for ln in text.lines)
    assert "Read this first." in page and "OAuth" in page
