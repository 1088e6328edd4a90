"""`guideparse diff`: content changes only, matched by identity, in four formats; accept and review."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from conftest import RAW
from guideparse.cli import main
from guideparse.diff import Change, diff_catalogs, diff_values
from guideparse.paths import format_path, parse_path
from guideparse.report import render_json
from planting import SCRIPT_APP


def _json_diff(a: Path, b: Path, capsys) -> tuple[int, dict]:
    code = main(["diff", str(a), str(b), "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_noise_gives_empty_diff(runs, capsys):
    """Whitespace and line-end noise, BOMs and other file names change no content: exit 0."""
    root, _ = runs
    code, report = _json_diff(root / "base", root / "noisy", capsys)
    assert report["summary"] == {"added": 0, "removed": 0, "changed": 0, "unchanged": 43}
    assert code == 0
    assert main(["diff", str(root / "base"), str(root / "noisy")]) == 0
    assert "0 added, 0 removed, 0 changed, 43 unchanged" in capsys.readouterr().out


def test_planted_edits_json(runs, capsys):
    """The planted edits come out as exactly those changes, exit 1."""
    root, expected = runs
    code, report = _json_diff(root / "base", root / "planted", capsys)
    assert code == 1
    assert set(report) == {"old", "new", "summary", "apps"}
    assert report["summary"] == {"added": 1, "removed": 1, "changed": 3, "unchanged": 39}
    got = {}
    for app in report["apps"]:
        if app["status"] == "unchanged":
            assert app["changes"] == []
            continue
        if app["status"] in ("added", "removed"):
            got[app["slug"]] = [("", f"{app['status']}-app")]
        else:
            got[app["slug"]] = [(c["path"], c["kind"]) for c in app["changes"]]
    assert got == expected
    brex = next(a for a in report["apps"] if a["slug"] == "brex")
    assert brex["changes"][0] | {} == {
        "path": "quick_facts.sso_required_first",
        "path_segments": ["quick_facts", "sso_required_first"],
        "kind": "changed",
        "old": True,
        "new": False,
    }
    mimecast = next(a for a in report["apps"] if a["slug"] == "mimecast")
    assert mimecast["changes"][0]["old"]["price"] == "Custom (contact sales)"
    added = next(a for a in report["apps"] if a["status"] == "added")
    assert added["app"] == SCRIPT_APP


def test_planted_edits_text_and_markdown(runs, capsys):
    """Text and markdown name every planted change, and markdown escapes the app name's HTML."""
    root, expected = runs
    assert main(["diff", str(root / "base"), str(root / "planted"), "--format", "text"]) == 1
    text = capsys.readouterr().out
    assert "1 added, 1 removed, 3 changed, 39 unchanged" in text
    for slug, changes in expected.items():
        assert f"({slug})" in text
        for path, _kind in changes:
            assert path in text
    assert main(["diff", str(root / "base"), str(root / "planted"), "--format", "markdown"]) == 1
    md = capsys.readouterr().out
    assert "| identity\\_providers\\[Okta\\].notes | changed |" in md
    assert "pricing\\[Tier comparison\\].plans\\[Comprehensive Defence\\] | removed" in md
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md and "<script>" not in md


def test_planted_edits_html(runs, tmp_path):
    """The HTML report holds summary counts, a section per changed app, and source lines; it is escaped."""
    root, expected = runs
    out = tmp_path / "report.html"
    assert main(["diff", str(root / "base"), str(root / "planted"), "--format", "html", "--output", str(out)]) == 1
    soup = BeautifulSoup(out.read_text(encoding="utf-8"), "html.parser")
    assert len(soup.find_all("script")) == 1 and "alert" not in soup.find("script").get_text()
    assert soup.select_one('li[data-count="changed"]').get_text() == "changed 3"
    sections = {s["data-app"]: s for s in soup.select("section.app")}
    for slug, changes in expected.items():
        assert slug in sections
        for path, _kind in changes:
            if path:
                assert sections[slug].find("code", string=path) is not None
    assert sections["script-alert-1-script"].select_one(".name").get_text() == SCRIPT_APP
    src = sections["clay"].select_one("td.new .src").get_text()
    assert "clay.flat.txt:" in src and "OktaNo SCIM available, even on Enterprise" in src


def test_diff_defaults_to_latest_against_baseline(tmp_path, monkeypatch, capsys):
    """`accept` makes a run the baseline; `diff` with no arguments compares out/latest with it."""
    shutil.copytree(RAW, tmp_path / "raw")
    monkeypatch.chdir(tmp_path)
    assert main(["diff"]) == 2
    assert "GP908" in capsys.readouterr().err
    assert main(["extract", "-q"]) == 0
    assert main(["accept"]) == 0
    assert (tmp_path / "out" / "baseline" / "catalog.jsonl").is_file()
    assert main(["diff"]) == 0
    (tmp_path / "raw" / "emma.flat.txt").unlink()
    assert main(["extract", "-q"]) == 0
    assert main(["diff", "--format", "json"]) == 1
    capsys.readouterr()


def test_review_accepts_app_by_app(tmp_path, monkeypatch, capsys):
    """`review` walks the changed apps; accepted ones enter the baseline, skipped ones do not."""
    shutil.copytree(RAW, tmp_path / "raw")
    monkeypatch.chdir(tmp_path)
    assert main(["extract", "-q"]) == 0 and main(["accept"]) == 0
    (tmp_path / "raw" / "emma.flat.txt").unlink()
    text = (tmp_path / "raw" / "clay.flat.txt").read_text(encoding="utf-8")
    (tmp_path / "raw" / "clay.flat.txt").write_text(text.replace("OktaNo SCIM available", "OktaNone"), encoding="utf-8")
    assert main(["extract", "-q"]) == 0
    capsys.readouterr()
    answers = iter(["s", "a"])  # clay: skip; emma (removed): accept
    monkeypatch.setattr("builtins.input", lambda _prompt="": next(answers))
    assert main(["review"]) == 0
    out = capsys.readouterr()
    assert "[1/2]" in out.out and "clay" in out.out and "1 app accepted; it gains 0 apps; loses 1 app (emma)" in out.err
    assert main(["diff", "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert {a["slug"]: a["status"] for a in report["apps"] if a["status"] != "unchanged"} == {"clay": "changed"}


def test_bad_run_folder_is_trouble(tmp_path, capsys):
    """A folder that is not a run: exit 2 and one line."""
    assert main(["diff", str(tmp_path), str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "GP908" in err and len(err.splitlines()) == 1


DIFF_CASES = [
    (
        "inserted-paragraph-is-one-addition",
        {"summary": ["a", "b"]},
        {"summary": ["x", "a", "b"]},
        [("summary[0]", "added")],
    ),
    (
        "removed-idp-row",
        {"identity_providers": [{"idp": "Okta", "sso": "yes"}, {"idp": "Duo", "sso": "no"}]},
        {"identity_providers": [{"idp": "Okta", "sso": "yes"}]},
        [("identity_providers[Duo]", "removed")],
    ),
    (
        "reordered-rows-are-unchanged",
        {"identity_providers": [{"idp": "A"}, {"idp": "B"}]},
        {"identity_providers": [{"idp": "B"}, {"idp": "A"}]},
        [],
    ),
    ("null-to-value-is-added", {"badge": None}, {"badge": "Native SCIM"}, [("badge", "added")]),
    (
        "unknown-to-yes-is-changed",
        {"identity_providers": [{"idp": "Okta", "sso": "unknown"}]},
        {"identity_providers": [{"idp": "Okta", "sso": "yes"}]},
        [("identity_providers[Okta].sso", "changed")],
    ),
    (
        "identity-with-dots-and-brackets-is-escaped",
        {"related_apps": [{"app": "Bill.com]", "summary": "a"}]},
        {"related_apps": [{"app": "Bill.com]", "summary": "b"}]},
        [("related_apps[Bill\\.com\\]].summary", "changed")],
    ),
    (
        "all-digit-identity-is-not-a-position",
        {"pricing": [{"title": "2024", "plans": [{"plan": "Pro", "price": "$1"}]}]},
        {"pricing": [{"title": "2024", "plans": [{"plan": "Pro", "price": "$2"}]}]},
        [("pricing[\\2024].plans[Pro].price", "changed")],
    ),
    (
        "repeated-identities-are-positions",
        {"identity_providers": [{"idp": "Okta", "sso": "yes"}, {"idp": "Okta", "sso": "no"}]},
        {"identity_providers": [{"idp": "Okta", "sso": "yes"}, {"idp": "Okta", "sso": "yes"}]},
        [("identity_providers[1].sso", "changed")],
    ),
]


@pytest.mark.parametrize("name,old,new,want", DIFF_CASES, ids=[c[0] for c in DIFF_CASES])
def test_diff_values(name, old, new, want):
    """Items are matched by identity, sequences aligned, and each change has one path and kind."""
    changes = diff_values(old, new)
    assert [(c.path, c.kind) for c in changes] == want
    for c in changes:
        assert c.path_segments == parse_path(c.path) and format_path(c.path_segments) == c.path


def test_json_diff_gives_path_segments():
    """`diff --format json`: a change inside a list item whose identity holds `.` and `]` has its
    path escaped, and beside it the segments: field names, the item by its identity field."""
    item = {"app": "Bill.com]", "status": "Native SCIM", "summary": "old"}
    old = {"acme": {"slug": "acme", "app": "Acme", "related_apps": [item, {"app": "Okta", "summary": "s"}]}}
    new = {"acme": {"slug": "acme", "app": "Acme", "related_apps": [item | {"summary": "new"}]}}
    report = json.loads(render_json(diff_catalogs(old, new)))
    assert report["apps"][0]["changes"] == [
        {
            "path": "related_apps[Bill\\.com\\]].summary",
            "path_segments": ["related_apps", {"app": "Bill.com]"}, "summary"],
            "kind": "changed",
            "old": "old",
            "new": "new",
        },
        {
            "path": "related_apps[Okta]",
            "path_segments": ["related_apps", {"app": "Okta"}],
            "kind": "removed",
            "old": {"app": "Okta", "summary": "s"},
            "new": None,
        },
    ]
    assert Change(path="related_apps[Bill\\.com\\]].summary", kind="changed").path_segments == [
        "related_apps",
        {"app": "Bill.com]"},
        "summary",
    ], "a change made from its path alone gets the segments"
