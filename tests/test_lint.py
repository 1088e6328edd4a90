"""mypy and ruff are part of the test command: the code is typed, linted and formatted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import ROOT

BIN = Path(sys.executable).parent


def _run(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    exe = BIN / tool
    if not exe.exists():
        pytest.fail(f"{tool} is not installed: pip install -e '.[test]'")
    return subprocess.run([str(exe), *args], cwd=ROOT, capture_output=True, text=True)


def test_mypy_finds_no_error():
    proc = _run("mypy")  # files and options in pyproject.toml
    assert proc.returncode == 0, proc.stdout[-4000:]


def test_ruff_check_is_clean():
    proc = _run("ruff", "check", "src", "tests", "benchmarks", "hatch_build.py")
    assert proc.returncode == 0, proc.stdout[-4000:]


def test_ruff_format_is_applied():
    proc = _run("ruff", "format", "--check", "src", "tests", "benchmarks", "hatch_build.py")
    assert proc.returncode == 0, proc.stdout[-4000:]


@given(st.text(max_size=200))
def test_a_cut_value_in_a_lint_message_keeps_its_quotes(value):
    """A text value shown in a message is at most 50 characters and is quoted at both ends,
    cut or not, so a reader sees where it ends (a cut one ends in '…' inside its quotes)."""
    from guideparse.lints import _short

    shown = _short(value)
    assert len(shown) <= 50 and shown[0] in "'\"" and shown[-1] == shown[0]
    assert shown == repr(value) or shown[-2] == "…"
