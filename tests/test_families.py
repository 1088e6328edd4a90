"""Guide families (rules/families.yaml): recognition before extraction, the `api` and
`manual` families read by the generic readers, the catalog's api_guide / manual_guide, diff
(four formats), review, explain, schema, and a fourth family made of rules and a model."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup

from conftest import SHARED_CORPUS, refused_edit
from guideparse.catalog import build_catalog
from guideparse.cli import main
from guideparse.errors import InputError
from guideparse.family_models import MODELS, register_model
from guideparse.models import DocumentRecord
from guideparse.record import extract_document
from guideparse.rules import load_rules

FAMILIES = Path(__file__).resolve().parent / "fixtures" / "families"
FAMILY_GOLD = SHARED_CORPUS / "families" / "gold"

#: A SCIM guide of the same app as two API excerpts (Webflow), and two pages of no family / two families.
WEBFLOW_SCIM = (
    "Stitchflow\n\nWebflow logo\n\nWebflow SCIM guide\n\nNative SCIM\n\n"
    "Summary and recommendation\n\nWebflow supports SCIM on Enterprise.\n\n"
    "Quick SCIM facts\n\nSCIM available?Yes\nSCIM tier requiredEnterprise\n\nSee how it works\n"
)
NO_FAMILY = "Stitchflow\n\nAcme Pricing Guide\n\nSummary and recommendation\n\nAcme costs money.\n\nSee how it works\n"
TWO_FAMILIES = (
    "Acme SCIM guide\n\nSummary and recommendation\n\nText.\n\nAPI quick reference\n\nHas user APIYes\n\n"
    "See how it works\n"
)


def _extract(name: str, rules) -> DocumentRecord:
    path = FAMILIES / name
    return extract_document(path.read_bytes(), name, rules)


# --------------------------------------------------------------------------- recognition


@pytest.mark.parametrize("name", sorted(p.name for p in FAMILIES.glob("*.txt")))
def test_each_excerpt_gets_its_family_and_app(name, rules):
    """Title and badge in flat scrapes, headings in pipe ones: the family the file is named by."""
    doc = _extract(name, rules)
    assert doc.family == name.split("--")[0]
    assert doc.app is not None and not doc.slug.startswith("unknown-")
    assert "family" in doc.provenance
    assert [w.message for w in doc.warnings if w.code == "GP204"] == []


def test_no_family_fails_naming_the_closest(rules):
    with pytest.raises(InputError) as exc:
        extract_document(NO_FAMILY.encode(), "none.txt", rules)
    assert exc.value.code == "GP914"
    assert "closest is 'scim'" in str(exc.value) and "closest line 'Acme Pricing Guide'" in str(exc.value)


def test_two_families_fail_as_ambiguous(rules):
    with pytest.raises(InputError) as exc:
        extract_document(TWO_FAMILIES.encode(), "two.txt", rules)
    assert exc.value.code == "GP915"
    assert "api (" in str(exc.value) and "scim (" in str(exc.value)


def test_labels_are_evidence_when_nothing_else_is(rules):
    """A page with no title block and none of a family's headings (a renamed heading) is
    recognised by two or more labels only that family has; one label-like line is no evidence."""
    page = "Summary and recommendation\n\nAcme exposes an API.\n\n| Has user API | Yes |\n| Base URL | x |\n\nSee how it works\n"
    doc = extract_document(page.encode(), "p.txt", rules)
    assert doc.family == "api" and doc.provenance["family"]["rule"] == "family.api.label:has_user_api"
    with pytest.raises(InputError) as exc:
        extract_document(page.replace("| Base URL | x |\n", "").encode(), "p.txt", rules)
    assert exc.value.code == "GP914"


def test_mixed_batch(tmp_path, capsys):
    """All three families and a page of none: the unknown page fails with its code, every other
    page gets the right family, and no record has app null."""
    inp = tmp_path / "in"
    shutil.copytree(FAMILIES, inp)
    (inp / "scim--webflow.flat.txt").write_text(WEBFLOW_SCIM, encoding="utf-8")
    (inp / "none.txt").write_text(NO_FAMILY, encoding="utf-8")
    assert main(["extract", str(inp), "-o", str(tmp_path / "out"), "--no-cache", "-q"]) == 1
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    failed = {Path(i["path"]).name: i["error_code"] for i in manifest["inputs"] if i["status"] == "failed"}
    assert failed == {"none.txt": "GP914"}
    docs = [json.loads(x) for x in (tmp_path / "out" / "documents.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(docs) == 10
    assert all(d["family"] == Path(d["source"]["path"]).name.split("--")[0] for d in docs)
    assert all(d["app"] is not None for d in docs)
    capsys.readouterr()


# --------------------------------------------------------------------------- values


def test_gold_of_the_shared_corpus_is_in_the_fixtures():
    """The fixtures are the shared corpus's excerpts (the gold below scores them)."""
    if not (SHARED_CORPUS / "families" / "excerpts").is_dir():
        pytest.skip("../shared/corpus not present")
    for p in (SHARED_CORPUS / "families" / "excerpts").glob("*.txt"):
        assert (FAMILIES / p.name).read_bytes() == p.read_bytes()


def _leaves(g, path=""):
    if isinstance(g, dict):
        for k, v in g.items():
            yield from _leaves(v, f"{path}.{k}" if path else k)
    elif isinstance(g, list):
        yield path + ".len", len(g)
        for i, v in enumerate(g):
            yield from _leaves(v, f"{path}[{i}]")
    else:
        yield path, g


def _lookup(doc, path):
    if path.endswith(".len"):
        v = _lookup(doc, path[:-4])
        return len(v) if isinstance(v, list) else v
    cur = doc
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        cur = cur[int(part[1:-1])] if part.startswith("[") else cur[part]
    return cur


def _norm(v):
    return re.sub(r"\s+", " ", v).strip() if isinstance(v, str) else v


@pytest.mark.skipif(not FAMILY_GOLD.is_dir(), reason="../shared/corpus not present")
@pytest.mark.parametrize(
    "gold", sorted(FAMILY_GOLD.glob("*.json")) if FAMILY_GOLD.is_dir() else [], ids=lambda p: p.stem
)
def test_family_gold(gold, rules):
    """Every labelled value of the families gold, as ../shared/tools/families-check scores it (100%)."""
    want = json.loads(gold.read_text(encoding="utf-8"))
    doc = _extract(want["file"], rules).model_dump(mode="json")
    body = {k: v for k, v in want.items() if k not in ("file", "format")}
    misses = [(p, w, _lookup(doc, p)) for p, w in _leaves(body) if _norm(_lookup(doc, p)) != _norm(w)]
    assert misses == []


def test_roles_split_by_what_columns_hold(rules):
    """Flat role rows joined by single spaces: plan names and seat-cost phrases are vocabulary."""
    roles = _extract("manual--linear.flat.txt", rules).roles
    assert roles is not None and len(roles) == 1
    assert roles[0].model_dump() == {
        "role": "Admin",
        "permissions": "Full workspace control: invite/remove members, manage billing, configure SSO/SCIM, "
        "manage integrations, create and delete teams, change workspace settings.",
        "cannot_do": None,
        "plan_required": "All plans",
        "seat_cost": "Counts as a full billable seat",
        "watch_out_for": "Only Admins can configure SAML/SCIM and manage billing. There is no separate 'Billing Admin' role.",
    }


def test_unsplittable_row_keeps_its_text_with_a_warning(rules):
    """A row no column cue splits is kept whole in `permissions`, with GP104: never a guess."""
    page = (
        "Acme User Management Guide\n\nManual workflow\n\nUser types and roles\n\n"
        "Role Permissions Cannot do Plan required Seat cost Watch out for\n"
        "Owner everything here. More text. And more. Even more.\n\nSee how it works\n"
    )
    doc = extract_document(page.encode(), "m.txt", rules)
    assert doc.roles is not None
    assert doc.roles[0].permissions == "Owner everything here. More text. And more. Even more."
    assert doc.roles[0].role is None
    assert any(w.code == "GP104" for w in doc.warnings)


def test_labels_not_shown_are_null_and_null_words_are_null(rules):
    doc = _extract("api--paycom.pipe.txt", rules)
    assert doc.api_quick_reference is not None and doc.api_quick_reference.auth_method is None
    assert doc.rate_limits is not None and doc.rate_limits.rate_limits is None and doc.rate_limits.max_page_size == 0
    assert doc.user_object == [] and any(w.code == "GP205" for w in doc.warnings)
    assert doc.updated is None and doc.badge is None


# --------------------------------------------------------------------------- catalog, diff, review


def _run(tmp_path: Path, name: str, files: dict[str, str]) -> Path:
    inp = tmp_path / f"in-{name}"
    inp.mkdir()
    for n, text in files.items():
        (inp / n).write_text(text, encoding="utf-8")
    out = tmp_path / name
    assert main(["extract", str(inp), "-o", str(out), "--no-cache", "-q"]) == 0
    return out


def _files() -> dict[str, str]:
    out = {p.name: p.read_text(encoding="utf-8") for p in FAMILIES.glob("*.txt")}
    out["scim--webflow.flat.txt"] = WEBFLOW_SCIM
    return out


def test_catalog_carries_family_guides(tmp_path, capsys):
    """Top level: the merged scim documents (null where none); api_guide / manual_guide: the
    merged documents of those families, or null."""
    run = _run(tmp_path, "a", _files())
    entries = {e["slug"]: e for e in map(json.loads, (run / "catalog.jsonl").read_text(encoding="utf-8").splitlines())}
    webflow = entries["webflow"]
    assert webflow["family"] == "scim" and webflow["quick_facts"]["scim_available"] is True
    assert webflow["api_guide"]["family"] == "api" and len(webflow["api_guide"]["sources"]) == 2
    assert webflow["api_guide"]["api_quick_reference"]["has_user_api"] is True
    assert webflow["manual_guide"] is None
    linear = entries["linear"]
    assert linear["app"] is None and linear["sources"] == [] and linear["api_guide"] is None
    assert linear["manual_guide"]["manual_quick_facts"]["scim_tier_required"] == "Enterprise"
    capsys.readouterr()


def test_catalog_in_process_equals_the_run(tmp_path, rules, capsys):
    """build_catalog (one process) gives the entries the run wrote (workers, assembler)."""
    run = _run(tmp_path, "a", _files())
    docs = [extract_document(text.encode(), str(tmp_path / "in-a" / n), rules) for n, text in sorted(_files().items())]
    mine = {e.slug: e.model_dump(mode="json") for e in build_catalog(docs, rules)}
    theirs = {e["slug"]: e for e in map(json.loads, (run / "catalog.jsonl").read_text(encoding="utf-8").splitlines())}
    assert mine.keys() == theirs.keys()
    for slug in mine:
        assert mine[slug]["api_guide"] == theirs[slug]["api_guide"], slug
        assert mine[slug]["manual_guide"] == theirs[slug]["manual_guide"], slug
    capsys.readouterr()


def test_later_family_page_wins_a_conflict(rules):
    """Two scrapes of one API guide that disagree: the later `updated` wins, the conflict is kept."""
    text = (FAMILIES / "api--proof.flat.txt").read_text(encoding="utf-8")
    old = extract_document(text.encode(), "old.txt", rules)
    new_text = text.replace("UpdatedMar 11, 2026", "UpdatedApr 1, 2026").replace(
        "Max page size: 0", "Max page size: 50"
    )
    new = extract_document(new_text.encode(), "new.txt", rules)
    for docs in ([old, new], [new, old]):
        (entry,) = build_catalog(docs, rules)
        guide = entry.api_guide
        assert guide is not None and guide["rate_limits"]["max_page_size"] == 50 and guide["updated"] == "2026-04-01"
        assert sorted(c["field"] for c in guide["conflicts"]) == ["rate_limits.max_page_size", "updated"]


def _changed_rate_limit() -> dict[str, str]:
    files = _files()
    files["api--proof.flat.txt"] = files["api--proof.flat.txt"].replace("Max page size: 0", "Max page size: 100")
    return files


@pytest.mark.parametrize("fmt", ["text", "markdown", "json", "html"])
def test_diff_of_a_changed_rate_limit(fmt, tmp_path, capsys):
    """A changed API rate limit is one change at api_guide.rate_limits.max_page_size, in every format."""
    a, b = _run(tmp_path, "a", _files()), _run(tmp_path, "b", _changed_rate_limit())
    capsys.readouterr()
    out_file = tmp_path / "diff.html"
    args = ["diff", str(a), str(b), "--format", fmt] + (["-o", str(out_file)] if fmt == "html" else [])
    assert main(args) == 1
    out = capsys.readouterr().out
    if fmt == "json":
        report = json.loads(out)
        changed = [a for a in report["apps"] if a["status"] != "unchanged"]
        assert [(x["slug"], [(c["path"], c["old"], c["new"]) for c in x["changes"]]) for x in changed] == [
            ("proof", [("api_guide.rate_limits.max_page_size", 0, 100)])
        ]
    elif fmt == "html":
        text = BeautifulSoup(out_file.read_text(encoding="utf-8"), "html.parser").get_text(" ")
        assert "api_guide.rate_limits.max_page_size" in text and "proof" in text
    else:
        out = out.replace("\\_", "_")  # markdown escapes underscores
        assert "api_guide.rate_limits.max_page_size" in out and "0 added, 0 removed, 1 changed" in out


def test_review_accepts_a_family_change(tmp_path, monkeypatch, capsys):
    """`review` walks an app whose API guide changed; accepted, the baseline has the new value."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "raw").mkdir()
    for n, text in _files().items():
        (tmp_path / "raw" / n).write_text(text, encoding="utf-8")
    assert main(["extract", "-q", "--no-cache"]) == 0 and main(["accept"]) == 0
    for n, text in _changed_rate_limit().items():
        (tmp_path / "raw" / n).write_text(text, encoding="utf-8")
    assert main(["extract", "-q", "--no-cache"]) == 0
    capsys.readouterr()
    monkeypatch.setattr("builtins.input", lambda _prompt="": "a")
    assert main(["review"]) == 0
    out = capsys.readouterr()
    assert "proof" in out.out and "api_guide.rate_limits.max_page_size" in out.out
    assert main(["diff", "--format", "json"]) == 0
    capsys.readouterr()


# --------------------------------------------------------------------------- explain, schema


@pytest.mark.parametrize("name", ["api--webflow.pipe.txt", "manual--linear.flat.txt"])
def test_explain_a_family_page(name, capsys):
    assert main(["explain", str(FAMILIES / name)]) == 0
    out = capsys.readouterr().out
    assert "family = " in out and "    rule family." in out and "no provenance" not in out


@pytest.mark.parametrize(
    ("kind", "fields"),
    [("api", {"api_quick_reference", "rate_limits", "family", "updated"}), ("manual", {"roles", "permission_model"})],
)
def test_schema_of_each_family(kind, fields, capsys):
    assert main(["schema", kind]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert fields <= set(schema["properties"])


# --------------------------------------------------------------------------- a family is data


class WidgetGuideDocument(DocumentRecord):
    """An invented family: its fields' models are plain dicts and lists."""

    widget_facts: dict | None = None
    widget_steps: dict | None = None


WIDGET_RULES = {
    "model": "widget",
    "title": [{"id": "family.widget.title", "pattern": "{app} Widget Guide"}],
    "badges": ["Widget workflow"],
    "headings": [
        {"id": "family.widget.heading.facts", "label": "widget_facts", "pattern": "Widget facts"},
        {"id": "family.widget.heading.steps", "label": "widget_steps", "pattern": "Widget setup"},
    ],
    "fields": [
        {"name": "summary", "section": "summary", "reader": "lines"},
        {
            "name": "widget_facts",
            "section": "widget_facts",
            "reader": "labels",
            "labels": [
                {"key": "has_widgets", "label": "Has widgets", "type": "bool"},
                {"key": "widget_count", "label": "Widget count", "type": "int"},
            ],
        },
        {
            "name": "widget_steps",
            "section": "widget_steps",
            "reader": "labels",
            "labels": [{"key": "owner", "label": "Owner"}],
            "lists": [{"key": "steps", "marker": "Steps"}],
        },
    ],
}


def test_a_fourth_family_is_rules_and_a_model(tmp_path):
    """A family added with a rules entry and a registered pydantic model only: recognised,
    extracted, every line used."""
    shutil.copytree(Path(__file__).resolve().parents[1] / "rules", tmp_path / "rules")
    path = tmp_path / "rules" / "families.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["families"]["widget"] = WIDGET_RULES
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    register_model("widget", WidgetGuideDocument)
    try:
        rules = load_rules(tmp_path / "rules")
        page = (
            "Stitchflow\n\nGizmo logo\n\nGizmo Widget Guide\n\nWidget workflow\n\nUpdatedJan 2, 2026\n\n"
            "Summary and recommendation\n\nGizmo makes widgets.\n\nWidget facts\n\nHas widgetsYes\n"
            "Widget count: 12\n\nWidget setup\n\nOwner: Not documented\n\nSteps\n\n1. Open it.\n1. Close it.\n\n"
            "See how it works\n"
        )
        doc = extract_document(page.encode(), "w.txt", rules)
    finally:
        del MODELS["widget"]
    assert isinstance(doc, WidgetGuideDocument)
    assert (doc.family, doc.app, doc.badge, doc.updated) == ("widget", "Gizmo", "Widget workflow", "2026-01-02")
    assert doc.widget_facts == {"has_widgets": True, "widget_count": 12}
    assert doc.widget_steps == {"owner": None, "steps": ["Open it.", "Close it."]}
    assert doc.provenance["widget_steps.steps[1]"]["lines"] == (27, 27)
    assert [w for w in doc.warnings if w.code == "GP204"] == []


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("    model: manual", "    model: manuel", "unknown model 'manuel' (valid: scim, api, manual"),
        ("      - name: permission_model", "      - name: permission_modl", "is not a field of model 'manual'"),
        ("        section: roles", "        section: rolez", "no heading starts section 'rolez'"),
        (
            "        reader: joined_table",
            "        reader: joined_tabel",
            "unknown reader 'joined_tabel' (valid: labels, table",
        ),
        ('          - {key: base_url, label: "Base URL"', '          - {key: base_ur, label: "Base URL"',
         "'base_ur' is not a field of api_quick_reference (valid: has_user_api, auth_method, base_url"),
        ("          - {key: setup_steps, marker:", "          - {key: steps, marker:", "'steps' is not a field of authentication"),
        ("          - {key: seat_cost, header:", "          - {key: seat, header:", "'seat' is not a field of roles"),
    ],
)  # fmt: skip
def test_families_rules_errors_name_file_and_line(old, new, message, rules_copy):
    """A family entry that names no model, a field its model lacks, a section no heading of
    its starts, or an unknown reader: GP002 with file and line, before any extraction."""
    error, text = refused_edit(rules_copy, "families.yaml", old, new)
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if ln.startswith(new))
    assert error.code == "GP002" and message in str(error)
    assert f"families.yaml:{line}:" in str(error)


# --------------------------------------------------------------------------- the SCIM guide in the same form

#: Record fields the title block gives (each family's header reader), not a field rule.
HEADER_FIELDS = {"slug", "app", "family", "badge", "updated", "plan_requirement", "source"}


def test_the_scim_guide_is_declared_field_by_field():
    """rules/families.yaml names a section and a reader for every content field of the SCIM
    record, each written once: no SCIM field is read by code the rules do not name."""
    from guideparse.paths import NOT_CONTENT

    rules = load_rules()
    scim = rules.families.families["scim"]
    written = [name for rule in scim.fields for name in rule.outputs]
    content = set(DocumentRecord.model_fields) - NOT_CONTENT - HEADER_FIELDS
    assert sorted(written) == sorted(content | {"quick_facts_raw"})
    assert len(written) == len(set(written))


def test_a_scim_field_left_out_of_the_rules_is_not_read(rules_copy):
    """Drop the rule of one SCIM field: that field is null and its section's lines are
    reported as unparsed (GP204); the others are read as before."""
    page = sorted((Path(__file__).resolve().parents[1] / "raw").glob("00*.txt"))[0].read_bytes()
    before = extract_document(page, "p.txt", load_rules())
    path = rules_copy / "families.yaml"
    text = path.read_text(encoding="utf-8")
    line = "      - {name: challenges, section: challenges, reader: bullets}\n"
    assert line in text
    path.write_text(text.replace(line, ""), encoding="utf-8")
    after = extract_document(page, "p.txt", load_rules(rules_copy))
    assert before.challenges and after.challenges is None
    unparsed = {w.message for w in after.warnings if w.code == "GP204"}
    assert all(any(item[:40] in m for m in unparsed) for item in before.challenges)
    assert after.model_dump(exclude={"challenges", "warnings", "provenance"}) == before.model_dump(
        exclude={"challenges", "warnings", "provenance"}
    )


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("{name: pricing, section: pricing, reader: plan_tables}", "{name: plans, section: pricing, reader: plan_tables}",
         "the plan_tables reader writes pricing: name must be 'pricing'"),
        ("{name: bottom_line, section: bottom_line, reader: joined}", "{name: summary, section: bottom_line, reader: joined}",
         "field 'summary' is read twice"),
        ("required: [summary, strategic_alternative", "required: [summry, strategic_alternative",
         "no heading starts section 'summry'"),
    ],
)  # fmt: skip
def test_scim_field_rules_errors_name_file_and_line(rules_copy, old, new, message):
    """A SCIM field rule naming the wrong field for its reader, a field read twice, or a
    required section no heading starts: GP002 with file and line."""
    error, text = refused_edit(rules_copy, "families.yaml", old, new)
    at = next(i for i, ln in enumerate(text.splitlines(), 1) if new in ln)
    assert message in str(error) and f"families.yaml:{at}" in str(error)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        # a field the record fills itself (its header, source, warnings, provenance)
        ("{name: summary, section: summary, reader: lines}", "{name: slug, section: summary, reader: lines}",
         "field 'slug' is filled by the record itself"),
        ("{name: summary, section: summary, reader: lines}", "{name: app, section: summary, reader: joined}",
         "field 'app' is filled by the record itself"),
        ("{name: summary, section: summary, reader: lines}", "{name: warnings, section: summary, reader: lines}",
         "field 'warnings' is filled by the record itself"),
        # a reader whose values the field cannot hold
        ("{name: bottom_line, section: bottom_line, reader: joined}",
         "{name: bottom_line, section: bottom_line, reader: lines}",
         "the lines reader writes a list of texts; field 'bottom_line' holds a text"),
        ("{name: challenges, section: challenges, reader: bullets}",
         "{name: challenges, section: challenges, reader: joined}",
         "the joined reader writes a text; field 'challenges' holds a list of texts"),
        ("{name: summary, section: summary, reader: lines}", "{name: summary, section: summary, reader: paragraphs}",
         "the paragraphs reader writes null where a page lacks its section; field 'summary' is never null"),
    ],
)  # fmt: skip
def test_field_rules_the_record_cannot_hold_are_rules_errors(rules_copy, old, new, message):
    """A field rule naming a field the record fills itself, or a reader whose values its field
    cannot hold, is refused when the rules load (file and line), not GP999 on every page."""
    from guideparse.errors import RulesError

    path = rules_copy / "families.yaml"
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    at = next(i for i, ln in enumerate(lines, 1) if old in ln)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(RulesError) as err:
        load_rules(rules_copy)
    assert message in str(err.value) and f"families.yaml:{at}" in str(err.value)


def test_a_family_with_no_field_rules_is_refused(rules_copy):
    """A family that reads nothing (its `fields` empty, as in a rules folder written before the
    SCIM guide was declared) is a rules error with file and line, not pages of GP204."""
    from guideparse.errors import RulesError

    path = rules_copy / "families.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["families"]["scim"]["fields"] = []
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RulesError) as err:
        load_rules(rules_copy)
    assert "families.yaml:" in str(err.value) and "at least 1 item" in str(err.value)


def test_every_reader_the_rules_may_name_exists():
    """The readers the schema accepts (rules_families.READERS) are the readers there are."""
    from guideparse import family_readers, rules_families

    assert set(family_readers.READERS) == set(rules_families.READERS)
