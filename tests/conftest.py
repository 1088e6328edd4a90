"""Shared fixtures: the project's rules (loaded once), paths to the corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from guideparse.rules import load_rules

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "raw"
CASES = Path(__file__).resolve().parent / "cases"
SHARED_CORPUS = ROOT.parent / "shared" / "corpus"


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Tests never read or write the user's cache."""
    import os

    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    yield
    if old is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = old


@pytest.fixture
def rules_copy(tmp_path):
    """A copy of the project's rules folder, for a test to edit."""
    import shutil

    d = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", d)
    return d


def refused_edit(rules_dir: Path, name: str, old: str, new: str):
    """Replace `old` (which must be there) by `new`, once, in one rules file and load the rules:
    returns the RulesError they must raise and the edited text (for the line it should name)."""
    from guideparse.errors import RulesError

    path = rules_dir / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RulesError) as info:
        load_rules(rules_dir)
    return info.value, text


def append_line(path, line: str) -> int:
    """Append a line to a rules file; returns its line number."""
    with path.open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")
    return len(path.read_text(encoding="utf-8").splitlines())


@pytest.fixture(scope="session")
def rules():
    return load_rules(ROOT / "rules")


@pytest.fixture(scope="session")
def runs(tmp_path_factory):
    """Three run folders: the corpus, a noisy renamed copy of it, and a copy with planted edits
    (with the slugs and paths the planted edits must produce)."""
    from guideparse.cli import main
    from planting import noisy_copy, planted_copy

    root = tmp_path_factory.mktemp("runs")
    noisy_copy(RAW, root / "noisy-in")
    expected = planted_copy(RAW, root / "planted-in")
    for name, src in (("base", RAW), ("noisy", root / "noisy-in"), ("planted", root / "planted-in")):
        assert main(["extract", str(src), "--out", str(root / name), "-q"]) == 0
    return root, expected


def matches(actual, expected, where: str = "") -> list[str]:
    """Differences between a value and its expectation; dicts compare on the expected keys only
    (records gain fields over time), lists item by item and must have the same length."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where}: expected an object, got {actual!r}"]
        out = []
        for k, v in expected.items():
            if k not in actual:
                out.append(f"{where}.{k}: missing")
            else:
                out.extend(matches(actual[k], v, f"{where}.{k}"))
        return out
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{where}: expected {expected!r}, got {actual!r}"]
        out = []
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            out.extend(matches(a, e, f"{where}[{i}]"))
        return out
    return [] if actual == expected else [f"{where}: expected {expected!r}, got {actual!r}"]


@pytest.fixture(scope="session")
def corpus_exports(runs, tmp_path_factory):
    """The corpus run (`runs`' base) exported once in each format: {"run", "sqlite", "parquet", "csv"}."""
    from guideparse.cli import main

    run = runs[0] / "base"
    root = tmp_path_factory.mktemp("exports")
    paths = {"run": run, "sqlite": root / "catalog.db", "parquet": root / "parquet", "csv": root / "csv"}
    for fmt in ("sqlite", "parquet", "csv"):
        assert main(["export", str(run), "--format", fmt, "--output", str(paths[fmt]), "-q"]) == 0
    return paths
