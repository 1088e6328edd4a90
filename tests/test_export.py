"""`guideparse export`: the catalog as the same tables in SQLite, Parquet and CSV, read back
with each format's own reader, against the catalog they came from."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conftest import RAW, SHARED_CORPUS
from guideparse.cli import main
from guideparse.export import SCHEMA, build_tables, table_specs
from guideparse.export_write import APPLICATION_ID, MARKER
from guideparse.store import load_run


def _catalog(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "catalog.jsonl").read_text(encoding="utf-8").splitlines()]


def _n(entries: list[dict], key: str) -> int:
    return sum(len(e.get(key) or []) for e in entries)


# --------------------------------------------------------------------------- reading each format back


def sqlite_tables(path: Path) -> dict[str, tuple[list[str], list[tuple]]]:
    """Each table as (columns, rows) in Python values: 0/1 -> bool, JSON text -> list."""
    db = sqlite3.connect(path)
    out = {}
    for spec in table_specs():
        cur = db.execute(f"select * from {spec.name} order by {', '.join(spec.pk)}")
        columns = [d[0] for d in cur.description]
        kinds = dict(spec.columns)
        decode = {"bool": lambda v: bool(v), "list": json.loads}
        rows = [
            tuple(v if v is None else decode.get(kinds[c], lambda x: x)(v) for c, v in zip(columns, row, strict=True))
            for row in cur
        ]
        out[spec.name] = (columns, rows)
    db.close()
    return out


def parquet_tables(folder: Path) -> dict[str, tuple[list[str], list[tuple]]]:
    out = {}
    for spec in table_specs():
        table = pq.read_table(folder / f"{spec.name}.parquet")
        out[spec.name] = (table.column_names, [tuple(r.values()) for r in table.to_pylist()])
    return out


def csv_tables(folder: Path) -> dict[str, tuple[list[str], list[tuple]]]:
    """Each CSV file read with the csv module; empty is null, the types as README says."""
    decode = {"int": int, "real": float, "bool": {"true": True, "false": False}.__getitem__, "list": json.loads}
    out = {}
    for spec in table_specs():
        with open(folder / f"{spec.name}.csv", encoding="utf-8", newline="") as fh:
            header, *rows = list(csv.reader(fh))
        kinds = [dict(spec.columns)[c] for c in header]
        out[spec.name] = (
            header,
            [tuple(None if v == "" else decode.get(k, str)(v) for v, k in zip(r, kinds, strict=True)) for r in rows],
        )
    return out


# --------------------------------------------------------------------------- the tests


def test_the_tables_are_the_same_in_every_format(corpus_exports):
    """Every format read back gives exactly the tables export.py built: names, columns, rows, values."""
    built = {
        name: (list(spec.names), rows) for name, (spec, rows) in build_tables(load_run(corpus_exports["run"])).items()
    }
    assert list(built) == [t.name for t in table_specs()]
    assert sqlite_tables(corpus_exports["sqlite"]) == built
    assert parquet_tables(corpus_exports["parquet"]) == built
    assert csv_tables(corpus_exports["csv"]) == built


def test_row_counts_agree_with_the_catalog(corpus_exports):
    """One row per thing: apps per slug, documents per input, child rows per catalog item."""
    run = corpus_exports["run"]
    entries = _catalog(run)
    inputs = json.loads((run / "manifest.json").read_text(encoding="utf-8"))["inputs"]
    expected = {
        "apps": len(entries),
        "documents": len(inputs),
        "plans": sum(len(t["plans"]) for e in entries for t in e.get("pricing") or []),
        **{k: _n(entries, k) for k in SCHEMA if k not in ("apps", "documents", "plans")},
    }
    assert (expected["apps"], expected["documents"], expected["identity_providers"]) == (43, 71, 155)
    db = sqlite3.connect(corpus_exports["sqlite"])
    assert {t: db.execute(f"select count(*) from {t}").fetchone()[0] for t in SCHEMA} == expected
    assert {t: pq.read_metadata(corpus_exports["parquet"] / f"{t}.parquet").num_rows for t in SCHEMA} == expected
    marker = json.loads((corpus_exports["csv"] / MARKER).read_text(encoding="utf-8"))
    families = {t.name: 0 for t in table_specs() if t.name not in SCHEMA}  # no page of another family here
    assert marker["tables"] == expected | families and marker["tool"] == "guideparse"
    app_counts = db.execute("select sum(idp_count), sum(plan_count), sum(warning_count) from apps").fetchone()
    assert app_counts == (expected["identity_providers"], expected["plans"], expected["warnings"])


def test_parquet_types_are_typed(corpus_exports):
    schema = pq.read_schema(corpus_exports["parquet"] / "identity_providers.parquet")
    assert str(schema.field("inferred").type) == "list<element: string>"
    assert not schema.field("slug").nullable and schema.field("notes").nullable
    plans = pq.read_schema(corpus_exports["parquet"] / "plans.parquet")
    assert (str(plans.field("amount").type), str(plans.field("scim").type)) == ("double", "bool")
    assert pq.read_table(corpus_exports["parquet"] / "lints.parquet").column_names == list(SCHEMA["lints"].names)


def test_sqlite_keys_indexes_and_full_text(corpus_exports):
    """Foreign keys hold with enforcement on; slug lookups use an index; FTS5 finds words."""
    db = sqlite3.connect(corpus_exports["sqlite"])
    db.execute("PRAGMA foreign_keys=ON")
    assert db.execute("PRAGMA foreign_keys").fetchone() == (1,)
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert db.execute("PRAGMA application_id").fetchone() == (APPLICATION_ID,)
    for name in SCHEMA:
        if name != "apps":
            assert [(fk[2], fk[3], fk[4]) for fk in db.execute(f"PRAGMA foreign_key_list({name})")] == [
                ("apps", "slug", "slug")
            ]
            plan = " ".join(r[-1] for r in db.execute(f"EXPLAIN QUERY PLAN select * from {name} where slug = 'brex'"))
            assert "USING INDEX" in plan or "USING PRIMARY KEY" in plan, (name, plan)
    found = {
        r[0]
        for r in db.execute(
            "select slug from apps where rowid in (select rowid from apps_fts where apps_fts match 'deprovisioning')"
        )
    }
    expected = {
        e["slug"]
        for e in _catalog(corpus_exports["run"])
        if re.search(r"\bdeprovisioning\b", " ".join(e["summary"]), re.I)
    }
    assert found == expected and len(found) > 3
    notes = db.execute(
        "select ip.slug, ip.idp from identity_providers_fts f join identity_providers ip on ip.rowid = f.rowid "
        "where identity_providers_fts match 'aquera'"
    ).fetchall()
    expected_notes = {
        (e["slug"], r["idp"])
        for e in _catalog(corpus_exports["run"])
        for r in e.get("identity_providers") or []
        if re.search(r"\baquera\b", r.get("notes") or "", re.I)
    }
    assert set(notes) == expected_notes and notes


def test_exports_are_byte_stable(corpus_exports, tmp_path):
    """A second export of the same run, new or over the first, is the same bytes, file for file."""
    run = corpus_exports["run"]
    for fmt in ("sqlite", "parquet", "csv"):
        again = tmp_path / f"again-{fmt}"
        assert main(["export", str(run), "-f", fmt, "-o", str(again), "-q"]) == 0
        assert _files(again) == _files(corpus_exports[fmt])
        assert main(["export", str(run), "-f", fmt, "-o", str(again), "-q"]) == 0  # over the earlier one
        assert _files(again) == _files(corpus_exports[fmt])
    assert sorted(os.listdir(tmp_path)) == ["again-csv", "again-parquet", "again-sqlite"]  # no work folder left


def _files(path: Path) -> dict[str, bytes]:
    if path.is_file():
        return {"": path.read_bytes()}
    return {p.name: p.read_bytes() for p in sorted(path.iterdir())}


def _edited_run(source: Path, dest: Path, edit) -> Path:
    shutil.copytree(source, dest)
    entries = [edit(e) for e in _catalog(dest)]
    (dest / "catalog.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8")
    return dest


def _exported(run: Path, out: Path) -> dict:
    for fmt in ("sqlite", "parquet", "csv"):
        assert main(["export", str(run), "-f", fmt, "-o", str(out / fmt), "-q"]) == 0
    got = {
        "sqlite": sqlite_tables(out / "sqlite"),
        "parquet": parquet_tables(out / "parquet"),
        "csv": csv_tables(out / "csv"),
    }
    assert got["sqlite"] == got["parquet"] == got["csv"]
    return got["sqlite"]


def _rows(tables: dict, name: str) -> list[dict]:
    cols, rows = tables[name]
    return [dict(zip(cols, r, strict=True)) for r in rows]


def test_catalog_semantics_land_in_their_columns(corpus_exports, tmp_path):
    """Tier classes, inferred cells and lints of the catalog entries, as the tables hold them."""
    entries = {e["slug"]: e for e in _catalog(corpus_exports["run"])}
    tables = _exported(corpus_exports["run"], tmp_path)
    for app in _rows(tables, "apps"):
        facts = entries[app["slug"]].get("quick_facts") or {}
        assert (app["scim_tier_class"], app["sso_tier_class"]) == (
            facts.get("scim_tier_class"),
            facts.get("sso_tier_class"),
        )
        assert app["lint_count"] == len(entries[app["slug"]].get("lints", []))
    inferred = [(r["slug"], r["position"], r["inferred"]) for r in _rows(tables, "identity_providers")]
    assert inferred == [
        (slug, i, row.get("inferred", []))
        for slug in sorted(entries)
        for i, row in enumerate(entries[slug].get("identity_providers") or [])
    ]
    assert any(r[2] for r in inferred)  # the corpus has resolved cells
    lints = [(r["slug"], r["position"], r["id"], r["severity"]) for r in _rows(tables, "lints")]
    assert lints == [
        (slug, i, lint["id"], lint["severity"])
        for slug in sorted(entries)
        for i, lint in enumerate(entries[slug].get("lints", []))
    ]
    assert lints  # the corpus has lints


def test_a_run_written_before_the_catalog_semantics_exports_the_same_columns(corpus_exports, tmp_path):
    """A catalog without tier classes, inferred cells and lints: null, [] and no rows, same columns."""

    def strip(entry):
        for row in entry.get("identity_providers") or []:
            row.pop("inferred", None), row.pop("inferred_by", None)
        if entry.get("quick_facts"):
            entry["quick_facts"].pop("scim_tier_class", None), entry["quick_facts"].pop("sso_tier_class", None)
        entry.pop("lints", None)
        return entry

    tables = _exported(_edited_run(corpus_exports["run"], tmp_path / "run", strip), tmp_path)
    assert {name: cols for name, (cols, _) in tables.items()} == {t.name: list(t.names) for t in table_specs()}
    assert {a["scim_tier_class"] for a in _rows(tables, "apps")} == {None}
    assert {tuple(r["inferred"]) for r in _rows(tables, "identity_providers")} == {()}
    assert tables["lints"][1] == []


def test_a_value_of_the_wrong_type_is_one_coded_line(corpus_exports, tmp_path, capsys):
    def spoil(entry):
        if entry["slug"] == "brex":
            entry["identity_providers"] = "Okta"
        return entry

    run = _edited_run(corpus_exports["run"], tmp_path / "run", spoil)
    assert main(["export", str(run), "-o", str(tmp_path / "x.db")]) == 2
    err = capsys.readouterr().err
    assert "GP908" in err and "identity_providers of 'brex'" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "x.db").exists()


def _unsafe_targets(tmp_path: Path, run: Path, export: Path) -> list[tuple[str, Path]]:
    notes = tmp_path / "notes.txt"
    notes.write_text("mine\n")
    other_db = tmp_path / "theirs.db"
    sqlite3.connect(other_db).execute("create table t (x)").connection.commit()
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "apps.csv").write_text("my own file\n")
    link = tmp_path / "link.db"
    link.symlink_to(other_db)
    grown = shutil.copytree(export, tmp_path / "grown")
    (grown / "my-notes.txt").write_text("written beside our tables\n")
    return [
        ("sqlite", notes),  # a file of the user's
        ("sqlite", other_db),  # someone else's SQLite database
        ("csv", folder),  # a folder holding a file named like a table, without our marker
        ("sqlite", link),  # a symlink
        ("sqlite", folder),  # a folder where a file goes
        ("parquet", notes),  # a file where a folder goes
        ("parquet", run),  # the run itself
        ("sqlite", run / "catalog.db"),  # inside the run
        ("parquet", grown),  # an earlier export the user has added a file to
    ]


def test_an_unsafe_output_is_refused_and_left_as_it_was(corpus_exports, tmp_path, capsys):
    run = shutil.copytree(corpus_exports["run"], tmp_path / "run")
    for fmt, target in _unsafe_targets(tmp_path, run, corpus_exports["csv"]):
        before = _snapshot(tmp_path)
        assert main(["export", str(run), "-f", fmt, "-o", str(target)]) == 2, (fmt, target)
        err = capsys.readouterr().err
        assert "GP910" in err and len(err.splitlines()) == 1, err
        assert _snapshot(tmp_path) == before, (fmt, target)


def test_new_empty_or_earlier_exports_are_written(corpus_exports, tmp_path):
    empty_file, empty_folder = tmp_path / "empty.db", tmp_path / "empty"
    empty_file.touch()
    empty_folder.mkdir()
    run = str(corpus_exports["run"])
    assert main(["export", run, "-o", str(empty_file), "-q"]) == 0
    assert main(["export", run, "-f", "csv", "-o", str(empty_folder), "-q"]) == 0
    assert main(["export", run, "-f", "parquet", "-o", str(empty_folder), "-q"]) == 0  # our csv export: replaced
    assert main(["export", run, "-o", str(tmp_path / "new" / "deeper" / "catalog.db"), "-q"]) == 0
    assert empty_file.read_bytes() == corpus_exports["sqlite"].read_bytes()
    assert _files(empty_folder) == _files(corpus_exports["parquet"])


def test_export_reads_out_latest_by_default(corpus_exports, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "latest").symlink_to(corpus_exports["run"])
    assert main(["export", "-o", "catalog.db"]) == 0
    assert f"exported 43 apps as sqlite: {len(table_specs())} tables" in capsys.readouterr().err
    assert (tmp_path / "catalog.db").read_bytes() == corpus_exports["sqlite"].read_bytes()


def _snapshot(root: Path) -> dict[str, bytes | str]:
    out: dict[str, bytes | str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            key = str(p.relative_to(root))
            out[key] = f"-> {os.readlink(p)}" if p.is_symlink() else p.read_bytes() if p.is_file() else "dir"
    return out


@pytest.mark.parametrize(
    ("argv", "hidden", "extra"),
    [
        (["-f", "sqlite"], ["sqlite_utils"], "export"),
        (["-f", "parquet"], ["pyarrow", "pyarrow.parquet"], "export"),
    ],
)
def test_a_missing_extra_is_one_line_naming_the_install(
    corpus_exports, tmp_path, monkeypatch, capsys, argv, hidden, extra
):
    for module in hidden:
        monkeypatch.setitem(sys.modules, module, None)  # as if not installed: importing it fails
    assert main(["export", str(corpus_exports["run"]), *argv, "-o", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("GP920 ") and f"pip install 'guideparse[{extra}]'" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "x").exists()


def test_the_cli_imports_no_export_library():
    code = (
        "import sys, guideparse.cli; "
        "print(sorted(m for m in ('sqlite_utils', 'pyarrow', 'datasette', 'uvicorn') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out == "[]\n"


def test_attack_fixes_cr_in_a_field_another_run_and_stale_sqlite_sidecars(corpus_exports, tmp_path, capsys):
    """A bare CR in a CSV field is quoted; an export never lands inside another run folder; an
    earlier export's leftover -wal/-shm never reach the new file."""
    import csv as csv_module

    inp = tmp_path / "in"
    inp.mkdir()
    (inp / "bad\rname.txt").write_bytes(
        (Path(__file__).resolve().parent.parent / "raw" / "airtable.flat.txt").read_bytes()
    )
    run = tmp_path / "run"
    assert main(["extract", str(inp), "-o", str(run), "-q"]) == 0
    assert main(["export", str(run), "-f", "csv", "-o", str(tmp_path / "csv"), "-q"]) == 0
    with open(tmp_path / "csv" / "documents.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv_module.reader(fh))
    assert len(rows) == 2 and rows[1][0] == str(inp / "bad\rname.txt")

    assert main(["export", str(run), "-o", str(corpus_exports["run"] / "x.db")]) == 2
    assert "inside the run folder" in capsys.readouterr().err and not (corpus_exports["run"] / "x.db").exists()

    db = tmp_path / "x.db"
    assert main(["export", str(run), "-o", str(db), "-q"]) == 0
    fresh = db.read_bytes()
    (tmp_path / "x.db-wal").write_bytes(b"stale write-ahead log of a killed reader")
    (tmp_path / "x.db-shm").write_bytes(b"\0" * 32768)
    assert main(["export", str(run), "-o", str(db), "-q"]) == 0
    assert db.read_bytes() == fresh and not (tmp_path / "x.db-wal").exists()


def test_other_families_export_as_tables_their_rules_define(tmp_path):
    """A run of all three families: each other family's guides, table rows and list items as
    rows of the tables derived from its field rules, typed, keyed to apps; an app with no
    SCIM guide still has its name and says which guides it has."""
    run = tmp_path / "run"
    inputs = [str(SHARED_CORPUS / "families" / "excerpts"), str(RAW)]
    assert main(["extract", *inputs, "-o", str(run), "--no-cache", "-q"]) in (0, 1)
    entries = {e["slug"]: e for e in _catalog(run)}
    tables = _exported(run, tmp_path / "x")
    api = {r["slug"]: r for r in _rows(tables, "api_guides")}
    assert set(api) == {s for s, e in entries.items() if e.get("api_guide")} and api
    for slug, row in api.items():
        guide = entries[slug]["api_guide"]
        assert row["app"] == guide["app"] and row["updated"] == guide["updated"]
        facts = guide["api_quick_reference"] or {}
        assert row["api_quick_reference_has_user_api"] == facts.get("has_user_api")
    steps = _rows(tables, "api_authentication_setup_steps")
    assert len(steps) == sum(
        len((e["api_guide"].get("authentication") or {}).get("setup_steps") or [])
        for e in entries.values()
        if e.get("api_guide")
    )
    roles = _rows(tables, "manual_roles")
    assert len(roles) == sum(
        len(e["manual_guide"].get("roles") or []) for e in entries.values() if e.get("manual_guide")
    )
    assert all(
        set(r)
        == {"slug", "position", "role", "permissions", "cannot_do", "plan_required", "seat_cost", "watch_out_for"}
        for r in roles
    )
    apps = {r["slug"]: r for r in _rows(tables, "apps")}
    assert all(a["app"] for a in apps.values())
    only_api = [s for s, e in entries.items() if e.get("api_guide") and not e.get("sources")]
    assert only_api and all(apps[s]["guides"] == ["api"] and apps[s]["app"] == api[s]["app"] for s in only_api)
    db = sqlite3.connect(tmp_path / "x" / "sqlite")
    assert db.execute("pragma foreign_key_check").fetchall() == []
    kinds = {r[1]: r[2] for r in db.execute("pragma table_info(api_guides)")}
    assert (kinds["rate_limits_max_page_size"], kinds["api_quick_reference_has_user_api"]) == ("INTEGER", "INTEGER")
