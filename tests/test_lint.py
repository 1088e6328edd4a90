"""mypy and ruff are part of the test command: the code is typed, linted and formatted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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
    proc = _run("ruff", "check", "src", "tests", "benchmarks")
    assert proc.returncode == 0, proc.stdout[-4000:]


def test_ruff_format_is_applied():
    proc = _run("ruff", "format", "--check", "src", "tests", "benchmarks")
    assert proc.returncode == 0, proc.stdout[-4000:]
