"""What the catalog adds over the corpus: IdP cells resolved from their notes, tier classes, lints;
the same whether an app is extracted alone or in a batch, cached or not; `guideparse lint`."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

from conftest import RAW
from guideparse.catalog import single_entry
from guideparse.cli import main
from guideparse.lint_report import lint_run, render_lints
from guideparse.models import DocumentRecord
from guideparse.run import extract_many


def _lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def corpus(runs):
    root, _ = runs
    base = root / "base"
    return base, _lines(base / "catalog.jsonl"), _lines(base / "documents.jsonl")


def _unknown_in_every_document(documents: list[dict]) -> int:
    """IdP cells (app, IdP, column) that no document of the app shows: the unknowns of a plain merge."""
    shown: dict[tuple[str, str, str], bool] = {}
    for d in documents:
        for row in d["identity_providers"] or ():
            for column in ("sso", "scim"):
                key = (d["slug"], row["idp"], column)
                shown[key] = shown.get(key, False) or row[column] != "unknown"
    return sum(1 for v in shown.values() if not v)


def test_resolution_leaves_fewer_than_half_the_unknown_cells(corpus):
    """Of the IdP cells no document of an app shows, fewer than half stay unknown in the catalog;
    each one resolved is named in `inferred` with its rule."""
    _, catalog, documents = corpus
    before = _unknown_in_every_document(documents)
    rows = [row for e in catalog for row in e["identity_providers"] or ()]
    after = sum(row[c] == "unknown" for row in rows for c in ("sso", "scim"))
    inferred = sum(len(row["inferred"]) for row in rows)
    assert before > 100 and after + inferred == before
    assert after * 2 < before, (before, after)
    for row in rows:
        assert sorted(row["inferred_by"]) == sorted(row["inferred"])
        assert all(rule.startswith("infer.") for rule in row["inferred_by"].values())


def test_flat_resolutions_agree_with_the_pipe_icons(corpus, rules):
    """For every app scraped in both renderings, each cell resolved from a flat scrape's notes (the
    flat document alone) agrees with the icon the pipe scrape shows, or the app's entry carries a
    lint.note-contradicts-icon naming that cell."""
    _, catalog, documents = corpus
    entries = {e["slug"]: e for e in catalog}
    by_app: dict[str, list[DocumentRecord]] = defaultdict(list)
    for d in documents:
        by_app[d["slug"]].append(DocumentRecord.model_validate(d))
    agree = 0
    for slug, docs in by_app.items():
        shown = {
            (row.idp, c): getattr(row, c)
            for d in docs
            if d.source.format == "text/pipe"
            for row in d.identity_providers or ()
            for c in ("sso", "scim")
            if getattr(row, c) != "unknown"
        }
        for flat in (d for d in docs if d.source.format == "text/flat"):
            for row in single_entry(flat, rules).identity_providers or ():
                for c in row.inferred:
                    if (row.idp, c) not in shown:
                        continue
                    if getattr(row, c) == shown[row.idp, c]:
                        agree += 1
                        continue
                    lints = [x for x in entries[slug]["lints"] if x["id"] == "lint.note-contradicts-icon"]
                    assert any(f"identity_providers[{row.idp}].{c}" in x["fields"] for x in lints), (slug, row)
    assert agree >= 80, agree


def test_every_app_has_tier_classes(corpus):
    """Every app of the corpus gets a SCIM and an SSO tier class; Connector Only apps are not_available."""
    _, catalog, _ = corpus
    classes = {"free", "all_plans", "paid_plan", "enterprise", "add_on", "not_available", "unknown"}
    for e in catalog:
        facts = e["quick_facts"]
        assert facts["scim_tier_class"] in classes and facts["sso_tier_class"] in classes
        if facts["scim_available"] is False:
            assert facts["scim_tier_class"] == "not_available"
    by_slug = {e["slug"]: e["quick_facts"] for e in catalog}
    assert by_slug["airtable"]["scim_tier_class"] == "paid_plan"  # Business or Enterprise
    assert by_slug["mimecast"]["scim_tier_class"] == "enterprise"
    assert by_slug["sendgrid"]["sso_tier_class"] == "paid_plan"  # "SSO on Pro and Premier plans"


def test_corpus_lints_are_its_real_inconsistencies(corpus):
    """The corpus's lints: the tier texts that disagree (Whimsical, Klaviyo, Brex, Figma) and each
    conflict between an app's documents; no error-level lint."""
    _, catalog, _ = corpus
    found = {(e["slug"], x["id"]) for e in catalog for x in e["lints"]}
    tiers = {slug for slug, lint_id in found if lint_id == "lint.tier-texts-disagree"}
    assert tiers == {"whimsical", "klaviyo", "brex", "figma"}
    conflicts = {(e["slug"], c["field"]) for e in catalog for c in e["conflicts"]}
    renderings = {
        (e["slug"], x["fields"][0]) for e in catalog for x in e["lints"] if x["id"] == "lint.renderings-disagree"
    }
    assert renderings == conflicts and conflicts
    assert not [x for e in catalog for x in e["lints"] if x["severity"] == "error"]
    whimsical = next(x for e in catalog if e["slug"] == "whimsical" for x in e["lints"])
    assert whimsical["fields"] == ["quick_facts.scim_tier_required", "plan_requirement"]
    assert '"Enterprise" (enterprise)' in whimsical["message"] and '"Organization" (paid_plan)' in whimsical["message"]


def test_an_entry_is_the_same_alone_or_in_a_batch_cached_or_not(corpus, tmp_path):
    """An app's catalog line and record are the same bytes extracted alone or with the whole corpus,
    from the cache or not, with one job or two (single-document entries come from the workers,
    merged ones from the main process: both are finished alike)."""
    base, catalog, _ = corpus
    picked = ["whimsical.flat.txt", "whimsical.pipe.txt", "brex.flat.txt", "klaviyo.flat.txt"]
    want = {e["slug"]: e for e in catalog if e["slug"] in {"whimsical", "brex", "klaviyo"}}
    cache = tmp_path / "cache"
    for n, (jobs, use_cache) in enumerate([(1, False), (2, True), (1, True)]):
        out = tmp_path / f"alone-{n}"
        result = extract_many([str(RAW / p) for p in picked], out, jobs=jobs, cache_dir=cache, use_cache=use_cache)
        assert result.cached == (len(picked) if n == 2 else 0)
        got = {e["slug"]: e for e in _lines(out / "catalog.jsonl")}
        for slug, entry in want.items():
            mine = got[slug]
            assert _without_paths(mine) == _without_paths(entry), slug
            record = json.loads((out / "records" / f"{slug}.json").read_text(encoding="utf-8"))
            assert _without_paths(record) == _without_paths(entry)


def _without_paths(entry: dict) -> dict:
    out = dict(entry, sources=[{k: v for k, v in s.items() if k != "path"} for s in entry["sources"]])
    out["warnings"] = [{k: v for k, v in w.items() if k != "source"} for w in entry["warnings"]]
    out["conflicts"] = [{"field": c["field"], "values": [v["value"] for v in c["values"]]} for c in entry["conflicts"]]
    return out


# --------------------------------------------------------------------------- guideparse lint


def test_lint_reports_the_corpus_grouped(corpus, capsys):
    """`guideparse lint RUN` prints the lints by app (or by lint id) and a summary; exit 0 with no
    error-level lint."""
    base, _, _ = corpus
    assert main(["lint", str(base)]) == 0
    text = capsys.readouterr().out
    assert "whimsical (Whimsical)\n  warning  lint.tier-texts-disagree:" in text
    assert "klaviyo (Klaviyo)\n  warning  lint.tier-texts-disagree:" in text
    assert text.splitlines()[-1].startswith("13 lints (0 errors, 4 warnings, 9 info) in 13 of 43 apps")
    assert main(["lint", str(base), "--by", "lint", "-f", "markdown"]) == 0
    md = capsys.readouterr().out
    assert "### lint.tier-texts-disagree\n\n| severity | app | message | fields |" in md
    assert main(["lint", str(base), "-f", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["summary"] == {"error": 0, "warning": 4, "info": 9} and data["apps"] == 43
    assert {x["slug"] for x in data["lints"] if x["id"] == "lint.tier-texts-disagree"} >= {"whimsical", "klaviyo"}
    assert main(["lint", str(base), "-q"]) == 0 and capsys.readouterr().out == ""


def test_a_clean_seed_has_no_lints(tmp_path, capsys):
    """A seed alone lints clean."""
    (seed,) = sorted(RAW.glob("000_*.txt"))
    assert main(["extract", str(seed), "-o", str(tmp_path / "run"), "-q"]) == 0
    assert main(["lint", str(tmp_path / "run")]) == 0
    assert capsys.readouterr().out == "0 lints (0 errors, 0 warnings, 0 info) in 0 of 1 apps\n"


INCONSISTENT = """Acme SCIM guide

Native SCIM

Summary and recommendation

Acme has SCIM.

Quick SCIM facts

SCIM available?No
SSO available?Yes

Supported identity providers

IdPSSOSCIMNotes
OktaOIN app with full provisioning

See how it works
"""


def test_an_error_level_lint_exits_1(tmp_path, capsys):
    """A badge that says Native SCIM over quick facts that say No is an error: exit 1; -q prints the
    errors only."""
    page = tmp_path / "in" / "acme.txt"
    page.parent.mkdir()
    page.write_text(INCONSISTENT, encoding="utf-8")
    assert main(["extract", str(page.parent), "-o", str(tmp_path / "run"), "-q"]) == 0
    assert main(["lint", str(tmp_path / "run"), "-q"]) == 1
    out = capsys.readouterr().out
    assert "error    lint.native-badge-without-scim: the badge says Native SCIM but" in out
    assert "error    lint.idp-scim-without-scim: the Okta row says SCIM yes" in out
    assert "warning" not in out and "lints (" not in out
    report = lint_run(tmp_path / "run")
    assert report.has_errors and report.counts["error"] == 2
    assert "| error |" in render_lints(report, "markdown")


def test_lint_of_a_run_made_before_lints_checks_it_now(corpus, tmp_path):
    """Entries without lints (a run made before them) are checked with the rules now: the same lints."""
    base, catalog, _ = corpus
    old = tmp_path / "old"
    old.mkdir()
    (old / "manifest.json").write_bytes((base / "manifest.json").read_bytes())
    stripped = []
    for e in catalog:
        e = {k: v for k, v in e.items() if k != "lints"}
        e["identity_providers"] = [
            {k: v for k, v in r.items() if k not in ("inferred", "inferred_by")} | {c: "unknown" for c in r["inferred"]}
            for r in e["identity_providers"] or ()
        ] or e["identity_providers"]
        stripped.append(json.dumps(e))
    (old / "catalog.jsonl").write_text("\n".join(stripped) + "\n", encoding="utf-8")
    now, then = lint_run(old), lint_run(base)
    assert now.rechecked == 43 and then.rechecked == 0
    assert [(a.slug, a.lints) for a in now.found] == [(a.slug, a.lints) for a in then.found]


def test_lint_of_what_is_not_a_run_is_gp908(tmp_path, capsys):
    assert main(["lint", str(tmp_path)]) == 2
    assert "GP908" in capsys.readouterr().err
