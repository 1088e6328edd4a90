"""The command line and the run folder it writes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import RAW, ROOT
from guideparse.cli import main

GOOD = "Acme SCIM guide\n\nNative SCIM\n\nSummary and recommendation\n\nText.\n\nSee how it works\n"


def _files(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def test_extract_writes_the_contract_run_folder(tmp_path, capsys):
    """extract writes documents.jsonl, catalog.jsonl, records/<slug>.json and manifest.json."""
    inp = tmp_path / "in"
    inp.mkdir()
    (inp / "b.txt").write_text(GOOD.replace("Acme", "Beta"), encoding="utf-8")
    (inp / "a.md").write_text(GOOD, encoding="utf-8")
    (inp / "skip.json").write_text("{}", encoding="utf-8")
    out = tmp_path / "run"
    assert main(["extract", str(inp), "--out", str(out)]) == 0
    docs = [json.loads(line) for line in (out / "documents.jsonl").read_text().splitlines()]
    assert [d["source"]["path"] for d in docs] == [str(inp / "a.md"), str(inp / "b.txt")]
    assert [json.loads(line)["slug"] for line in (out / "catalog.jsonl").read_text().splitlines()] == ["acme", "beta"]
    assert json.loads((out / "records" / "acme.json").read_text())["app"] == "Acme"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["tool_version"] and len(manifest["rules_digest"]) == 64
    assert [(i["status"], i["bytes"]) for i in manifest["inputs"]] == [("ok", len(GOOD)), ("ok", len(GOOD) + 0)]
    assert "2 ok (2 with warnings), 0 failed, 2 apps, 6 warnings (GP201 6) in " in capsys.readouterr().err


def test_two_runs_are_byte_identical_but_for_times(tmp_path):
    """The same inputs and rules give byte-identical files, apart from the times in manifest.json."""
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["extract", str(RAW), "--out", str(a), "-q"]) == 0
    assert main(["extract", str(RAW), "--out", str(b), "-q"]) == 0
    fa, fb = _files(a), _files(b)
    assert fa.keys() == fb.keys()
    for name in fa:
        if name == "manifest.json":
            ma, mb = json.loads(fa[name]), json.loads(fb[name])
            for m in (ma, mb):
                m.pop("started_at"), m.pop("finished_at"), m["summary"].pop("seconds")
            assert ma == mb
        else:
            assert fa[name] == fb[name], name


def test_bad_input_costs_only_itself(tmp_path, capsys):
    """A failed input is marked in the manifest, named on stderr in one line, and the others are extracted (exit 1)."""
    inp = tmp_path / "in"
    inp.mkdir()
    (inp / "good.txt").write_text(GOOD, encoding="utf-8")
    (inp / "empty.txt").write_bytes(b"")
    (inp / "binary.txt").write_bytes(b"\x00\x01\x02\xff" * 100)
    (inp / "notes.txt").write_text("just a shopping list\n", encoding="utf-8")
    out = tmp_path / "run"
    assert main(["extract", str(inp), "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    failed = [line for line in err if line.startswith(str(inp))]
    assert len(failed) == 3 and all("Traceback" not in line for line in err)
    assert any(line.startswith(str(inp / "empty.txt")) and "GP901" in line for line in failed)
    manifest = json.loads((out / "manifest.json").read_text())
    status = {Path(i["path"]).name: (i["status"], i.get("error_code")) for i in manifest["inputs"]}
    assert status == {
        "good.txt": ("ok", None),
        "empty.txt": ("failed", "GP901"),
        "binary.txt": ("failed", "GP902"),
        "notes.txt": ("failed", "GP903"),
    }
    assert len((out / "documents.jsonl").read_text().splitlines()) == 1


def test_default_run_goes_under_out_with_latest_link(tmp_path, monkeypatch):
    """With no INPUT and no --out: reads raw/, writes out/runs/<UTC time>/ and points out/latest at it."""
    shutil.copytree(RAW, tmp_path / "raw")
    monkeypatch.chdir(tmp_path)
    assert main(["extract", "-q"]) == 0
    latest = tmp_path / "out" / "latest"
    assert latest.is_symlink() and (latest / "manifest.json").is_file()
    assert latest.resolve().parent == (tmp_path / "out" / "runs").resolve()
    assert json.loads((latest / "manifest.json").read_text())["counts"]["ok"] == len(list(RAW.glob("*.txt")))


def test_rules_error_stops_before_output(tmp_path, capsys):
    """A broken rules file stops the run (exit 2) with file and line, and nothing is written."""
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    with (rules / "vocabulary.jsonl").open("a", encoding="utf-8") as fh:
        fh.write('{"label": "IPD", "pattern": "JumpCloud", "id": "idp.jumpcloud"}\n')
    n = len((rules / "vocabulary.jsonl").read_text().splitlines())
    out = tmp_path / "run"
    assert main(["extract", str(RAW), "--out", str(out), "--rules", str(rules)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"{rules / 'vocabulary.jsonl'}:{n}: GP002") and "valid: IDP" in err
    assert len(err.splitlines()) == 1
    assert not out.exists()


def test_missing_input_is_a_usage_error(tmp_path, capsys):
    """A path that does not exist: exit 2, one line naming it."""
    assert main(["extract", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 2
    assert "GP905" in capsys.readouterr().err


def test_schema_prints_document_json_schema(capsys):
    """`guideparse schema` prints the JSON Schema of a document record."""
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    for name in ("slug", "app", "source", "identity_providers", "pricing", "warnings"):
        assert name in schema["properties"]


def test_rules_command_prints_digest(capsys):
    """`guideparse rules` validates the rules and prints their digest."""
    assert main(["rules"]) == 0
    assert len(capsys.readouterr().out.split()[0]) == 64


@pytest.mark.parametrize("argv", [["--help"], ["extract", "--help"], ["schema", "--help"]])
def test_help(argv, capsys):
    """Every command documents itself."""
    assert main(argv) == 0
    assert "Usage" in capsys.readouterr().out


def test_readme_lists_every_code():
    """Every warning and error code is documented in the README's table, with its kind."""
    from guideparse.errors import CODES

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [code for code, (kind, _) in CODES.items() if f"| `{code}` | `{kind}` |" not in readme]
    assert not missing
