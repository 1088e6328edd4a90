"""The HTML diff report in a real headless browser (Debian's chromium): what it renders after its script ran."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from chromium import needed, render
from guideparse.cli import main
from planting import SCRIPT_APP

pytestmark = needed()


@pytest.fixture(scope="module")
def report(runs, tmp_path_factory):
    root, _ = runs
    out = tmp_path_factory.mktemp("html") / "report.html"
    assert main(["diff", str(root / "base"), str(root / "planted"), "--format", "html", "--output", str(out)]) == 1
    return out


def visible_apps(dom: BeautifulSoup) -> set[str]:
    return {s["data-app"] for s in dom.select("section.app") if not s.has_attr("hidden")}


def test_report_renders_summary_and_changed_apps(report, tmp_path):
    """Chromium shows the counts and exactly the added, removed and changed apps (unchanged ones hidden)."""
    dom = render(report.as_uri(), tmp_path)
    counts = {li["data-count"]: li.get_text() for li in dom.select("ul.summary li")}
    assert counts == {"added": "added 1", "removed": "removed 1", "changed": "changed 3", "unchanged": "unchanged 39"}
    assert visible_apps(dom) == {"brex", "clay", "mimecast", "emma", "script-alert-1-script"}


def test_script_app_name_renders_as_text(report, tmp_path):
    """An app named <script>alert(1)</script> is shown as that text; the page runs only its own script."""
    dom = render(report.as_uri(), tmp_path)
    section = dom.select_one('section[data-app="script-alert-1-script"]')
    assert section.select_one(".name").get_text() == SCRIPT_APP
    scripts = dom.find_all("script")
    assert len(scripts) == 1 and "alert" not in scripts[0].get_text()
    option = dom.select_one('#f-app option[value="script-alert-1-script"]')
    assert option.get_text() == SCRIPT_APP


def test_filter_by_app(report, tmp_path):
    """?app=clay shows the clay section only."""
    dom = render(report.as_uri() + "?app=clay", tmp_path)
    assert visible_apps(dom) == {"clay"}
    assert dom.select_one('section[data-app="clay"] tr[data-section="identity_providers"]').get("hidden") is None


def test_filter_by_section(report, tmp_path):
    """?section=pricing keeps the rows of that section (and apps added or removed as a whole)."""
    dom = render(report.as_uri() + "?section=pricing", tmp_path)
    assert visible_apps(dom) == {"mimecast", "emma", "script-alert-1-script"}
    rows = [r for r in dom.select("tr[data-section]") if not r.has_attr("hidden")]
    assert rows and all(r["data-section"] == "pricing" for r in rows)
