"""Debian's chromium, headless: the DOM a page has after its scripts ran (the browser tests' one way in)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from bs4 import BeautifulSoup

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-proxy-server",  # pages on 127.0.0.1 are fetched directly, whatever the environment says
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def needed() -> pytest.MarkDecorator:
    """The mark of a module that needs chromium: skipped without it, except in CI, where that fails."""
    if CHROMIUM is None and os.environ.get("CI"):
        pytest.fail("chromium is required in CI (.ci/run installs it)", pytrace=False)
    return pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install chromium)")


def render(url: str, tmp_path) -> BeautifulSoup:
    """The DOM chromium built for a page, after its scripts ran."""
    assert CHROMIUM is not None
    proc = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return BeautifulSoup(proc.stdout, "html.parser")
