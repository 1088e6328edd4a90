"""The library surface: `import guideparse` gives what the CLI is built on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import guideparse
from conftest import RAW, ROOT


def test_public_names_resolve_and_are_typed():
    assert sorted(guideparse.__all__) == sorted([*guideparse._HOMES, "__version__"])
    for name in guideparse.__all__:
        assert getattr(guideparse, name) is not None, name
    assert (Path(guideparse.__file__).parent / "py.typed").is_file()
    with pytest.raises(AttributeError):
        guideparse.no_such_name  # noqa: B018


def test_import_is_light():
    """`import guideparse` loads neither pydantic nor spaCy: the CLI's --help stays fast."""
    code = "import sys, guideparse; print(sorted(m for m in ('pydantic', 'spacy') if m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "[]"


@pytest.mark.parametrize("name", ["brex.flat.txt", "airtable.pipe.txt", "000_2e1c3045778c876f.txt"])
def test_extract_returns_the_record_the_cli_writes(tmp_path, name, monkeypatch):
    monkeypatch.chdir(ROOT)
    path = f"raw/{name}"
    assert guideparse.extract_many([path], out=tmp_path / "run", use_cache=False).failed == 0
    written = (tmp_path / "run" / "documents.jsonl").read_bytes()
    doc = guideparse.extract(path)
    assert isinstance(doc, guideparse.DocumentRecord)
    assert doc.model_dump_json().encode() + b"\n" == written
    assert guideparse.extract((RAW / name).read_bytes(), name=path) == doc


def test_extract_bad_input_raises_a_coded_error(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    with pytest.raises(guideparse.InputError, match="GP901"):
        guideparse.extract(tmp_path / "empty.txt")


def test_catalog_and_diff(tmp_path):
    rules = guideparse.load_rules()
    docs = [guideparse.extract(p, rules) for p in sorted(RAW.glob("brex.*.txt"))]
    (entry,) = guideparse.build_catalog(docs)
    assert entry.slug == "brex" and len(entry.sources) == len(docs)
    a = guideparse.extract_many([RAW / "brex.flat.txt"], out=tmp_path / "a", rules=rules, use_cache=False)
    b = guideparse.extract_many(sorted(RAW.glob("brex.*.txt")), out=tmp_path / "b", rules=rules, use_cache=False)
    assert (a.apps, b.apps) == (1, 1)
    report = guideparse.diff_runs(tmp_path / "a", tmp_path / "b")
    assert isinstance(report, guideparse.DiffReport) and report.summary["changed"] + report.summary["unchanged"] == 1


def test_review_with_scripted_answers(tmp_path):
    """The review walk, answered by a function: accepted apps take latest's documents."""
    first = sorted(RAW.glob("*.flat.txt"))[:3]
    base, latest = tmp_path / "base", tmp_path / "latest"
    guideparse.extract_many(first[:2], out=base, use_cache=False)
    guideparse.extract_many(first, out=latest, use_cache=False)
    asked = []

    def ask(report, app_diff, i, n):
        asked.append((app_diff.slug, app_diff.status, i, n))
        return "accept"

    outcome = guideparse.review_changes(ask, base, latest)
    assert outcome.accepted == [asked[0][0]] and asked[0][1] == "added" and outcome.written
    catalog = [json.loads(line)["slug"] for line in (base / "catalog.jsonl").read_text().splitlines()]
    assert len(catalog) == 3


def test_many_batches_in_one_process_leak_no_descriptor(tmp_path):
    """A library caller (a service) runs batch after batch: open descriptors stay level
    (the fuzz target once ran out of them after thousands of runs)."""
    import os

    import guideparse

    inp = tmp_path / "in"
    inp.mkdir()
    (inp / "a.txt").write_bytes((RAW / "airtable.flat.txt").read_bytes())
    (inp / "b.txt").write_bytes(b"")

    def batch(n: int, jobs: int) -> None:
        guideparse.extract_many([inp], tmp_path / f"r{n}", jobs=jobs, cache_dir=tmp_path / "cache")

    batch(0, 1), batch(1, 2)  # first runs open what stays open (imports, the rules)
    before = len(os.listdir("/proc/self/fd"))
    for n in range(2, 22):
        batch(n, 1 + n % 2)
    assert len(os.listdir("/proc/self/fd")) == before
