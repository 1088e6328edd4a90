"""Shared fixtures: the project's rules (loaded once), paths to the corpus."""
from __future__ import annotations

from pathlib import Path

import pytest

from guideparse.rules import load_rules

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "raw"
CASES = Path(__file__).resolve().parent / "cases"
SHARED_CORPUS = ROOT.parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def rules():
    return load_rules(ROOT / "rules")
