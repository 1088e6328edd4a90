"""The README's answers to the catalog's questions, run on an export of the corpus."""

from __future__ import annotations

import json
import re
import sqlite3

from conftest import ROOT

SECTION = ROOT.joinpath("README.md").read_text(encoding="utf-8").split("### Questions the catalog answers")[1]
SECTION = SECTION.split("\n## ")[0]
SQL = re.findall(r"```sql\n(.*?)\n```", SECTION, re.S)
PYTHON = re.findall(r"```python\n(.*?)\n```", SECTION, re.S)


def _entries(run) -> list[dict]:
    return [json.loads(line) for line in (run / "catalog.jsonl").read_text(encoding="utf-8").splitlines()]


def test_the_section_has_its_answers():
    assert len(SQL) == 2 and len(PYTHON) == 1


def test_which_apps_support_scim_with_okta(corpus_exports):
    got = [r[0] for r in sqlite3.connect(corpus_exports["sqlite"]).execute(SQL[0])]
    expected = sorted(
        e["app"]
        for e in _entries(corpus_exports["run"])
        if any(i["idp"] == "Okta" and i["scim"] == "yes" for i in e.get("identity_providers") or [])
    )
    assert got == expected and got  # and some apps do


def test_which_apps_gate_scim_behind_an_enterprise_tier(corpus_exports):
    got = sqlite3.connect(corpus_exports["sqlite"]).execute(SQL[1]).fetchall()
    expected = sorted(
        (e["app"], e["quick_facts"]["scim_tier_required"])
        for e in _entries(corpus_exports["run"])
        if (e.get("quick_facts") or {}).get("scim_tier_class") == "enterprise"
    )
    assert got == expected and got


def test_the_catalog_as_one_flat_table_in_pandas(corpus_exports, tmp_path, monkeypatch):
    import pandas as pd

    from guideparse.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["export", str(corpus_exports["run"]), "-f", "parquet", "-o", "tables", "-q"]) == 0  # as the README
    scope: dict = {"pd": pd}
    exec(PYTHON[0], scope)  # the README's line, as written
    entries = _entries(corpus_exports["run"])
    assert list(scope["apps"]["slug"]) == sorted(e["slug"] for e in entries)
    okta = {e["slug"]: i["scim"] for e in entries for i in e.get("identity_providers") or [] if i["idp"] == "Okta"}
    matrix = scope["idps"]
    assert {slug: matrix.loc[slug, "Okta"] for slug in okta} == okta and okta
