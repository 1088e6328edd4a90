"""`guideparse browse`: the corpus run served by Datasette on a free loopback port, its canned
queries fetched as JSON over HTTP, its pages rendered by headless chromium, then stopped."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pytest

from chromium import needed, render
from guideparse.cli import main

START_TIMEOUT = 60.0
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a proxy


@dataclass
class Server:
    proc: subprocess.Popen
    url: str  # http://127.0.0.1:<port>/guideparse
    tmp: Path  # the server's TMPDIR, where its export lives
    run: Path


def _first_line(proc: subprocess.Popen, deadline: float) -> str:
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            return proc.stdout.readline().strip()
        if proc.poll() is not None:
            break
    raise AssertionError(f"browse printed no URL (exit {proc.poll()}): {proc.stderr.read() if proc.stderr else ''}")


def _get(url: str) -> bytes:
    with _DIRECT.open(url, timeout=10) as response:
        assert response.status == 200
        return response.read()


def _wait_until_served(proc: subprocess.Popen, url: str, deadline: float) -> None:
    """Poll the port until Datasette answers (it listens only once it has started)."""
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"browse ended early (exit {proc.returncode})"
        try:
            _get(url)
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise AssertionError(f"{url} not served within {START_TIMEOUT} s")


@pytest.fixture(scope="module")
def server(runs, tmp_path_factory):
    run = runs[0] / "base"
    tmp = tmp_path_factory.mktemp("browse-tmp")
    proc = subprocess.Popen(
        [sys.executable, "-m", "guideparse.cli", "browse", str(run), "-q"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(tmp)},
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        url = _first_line(proc, deadline)
        assert url.startswith("http://127.0.0.1:") and url.endswith("/guideparse"), url
        _wait_until_served(proc, url + ".json", deadline)
        yield Server(proc, url, tmp, run)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)


def _catalog(run: Path) -> dict[str, dict]:
    entries = [json.loads(line) for line in (run / "catalog.jsonl").read_text(encoding="utf-8").splitlines()]
    return {e["slug"]: e for e in entries}


def _idp(entry: dict, name: str) -> dict | None:
    return next((r for r in entry.get("identity_providers") or [] if r["idp"] == name), None)


def _query(server: Server, name: str) -> list[dict]:
    return json.loads(_get(f"{server.url}/{name}.json?_shape=array&_size=max"))


def test_canned_queries_answer_the_three_questions(server):
    catalog = _catalog(server.run)
    okta = {slug for slug, e in catalog.items() if (_idp(e, "Okta") or {}).get("scim") == "yes"}
    assert {r["slug"] for r in _query(server, "okta_scim")} == okta and len(okta) > 5

    def enterprise(e: dict) -> bool:
        facts = e.get("quick_facts") or {}
        if facts.get("scim_tier_class") is not None:
            return facts["scim_tier_class"] == "enterprise"
        return "enterprise" in (facts.get("scim_tier_required") or e.get("plan_requirement") or "").lower()

    gated = {slug for slug, e in catalog.items() if enterprise(e)}
    assert {r["slug"] for r in _query(server, "enterprise_scim")} == gated and len(gated) > 5

    matrix = {r["slug"]: r for r in _query(server, "idp_matrix")}
    assert set(matrix) == set(catalog)
    for slug, e in catalog.items():
        for idp in ("Okta", "Microsoft Entra ID", "Google Workspace", "OneLogin"):
            row = _idp(e, idp)
            assert matrix[slug][idp] == (None if row is None else f"{row['sso']} / {row['scim']}"), (slug, idp)


@needed()
def test_what_a_person_sees_in_chromium(server, tmp_path):
    """The database page lists the questions; the matrix renders as a table; the IdP table shows its facets."""
    catalog = _catalog(server.run)
    home = render(server.url, tmp_path).get_text(" ", strip=True)
    assert "Which apps support SCIM with Okta?" in home and "Which apps gate SCIM behind an enterprise tier?" in home

    page = render(f"{server.url}/idp_matrix", tmp_path)
    table = page.select_one("table.rows-and-columns")
    headers = [th.get_text(strip=True) for th in table.select("thead th")]
    assert headers[:6] == ["app", "slug", "Okta", "Microsoft Entra ID", "Google Workspace", "OneLogin"]
    rows = {
        tr.select("td")[1].get_text(strip=True): [td.get_text(strip=True) for td in tr.select("td")]
        for tr in table.select("tbody tr")
    }
    assert set(rows) == set(catalog)
    okta = _idp(catalog["brex"], "Okta")
    assert rows["brex"][:3] == [catalog["brex"]["app"], "brex", f"{okta['sso']} / {okta['scim']}"]

    page = render(f"{server.url}/identity_providers", tmp_path)
    assert page.select_one("h1").get_text(strip=True).startswith("Identity providers")
    facet = page.select_one('.facet-info[data-column="idp"]')
    shown = {li.a.get_text(strip=True): li.get_text(" ", strip=True) for li in facet.select("li") if li.a}
    okta_rows = sum(1 for e in catalog.values() if _idp(e, "Okta"))
    assert shown["Okta"] == f"Okta {okta_rows}"
    assert page.select_one('.facet-info[data-column="scim"]') is not None

    apps = render(f"{server.url}/apps", tmp_path)
    facet = apps.select_one('.facet-info[data-column="scim_available"]')
    counts = {li.a.get_text(strip=True): li.get_text(" ", strip=True) for li in facet.select("li") if li.a}
    yes = sum(1 for e in catalog.values() if (e.get("quick_facts") or {}).get("scim_available") is True)
    assert counts["1"] == f"1 {yes}"


def test_a_port_in_use_is_one_coded_line(server):
    port = urlparse(server.url).port
    proc = subprocess.run(
        [sys.executable, "-m", "guideparse.cli", "browse", str(server.run), "--port", str(port)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert (
        proc.stderr.startswith("GP921 ") and f"127.0.0.1:{port}" in proc.stderr and len(proc.stderr.splitlines()) == 1
    )


def test_sigterm_stops_it_and_removes_its_export(server):
    """Last: stopping the server ends the command normally and leaves no temporary export."""
    assert [p.name for p in server.tmp.iterdir()][0].startswith("guideparse-browse-")
    server.proc.terminate()
    assert server.proc.wait(timeout=30) == 0
    assert list(server.tmp.iterdir()) == []


def test_browse_without_its_extra_names_the_install(runs, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "datasette", None)  # as if not installed: importing it fails
    assert main(["browse", str(runs[0] / "base")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("GP920 ") and "pip install 'guideparse[browse]'" in err and len(err.splitlines()) == 1
