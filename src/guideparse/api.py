"""The public functions that are not a stage of their own: one guide in, one record out;
two run folders in, one diff out. (`guideparse/__init__.py` lists the whole surface.)"""

from __future__ import annotations

import hashlib
import os

from .diff import DiffReport, diff_catalogs
from .inputs import DEFAULT_MAX_BYTES, InputFile, read_input
from .models import DocumentRecord
from .rules import Rules, load_rules
from .store import load_run


def extract(
    source: str | os.PathLike[str] | bytes,
    rules: Rules | None = None,
    *,
    name: str = "<bytes>",
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> DocumentRecord:
    """One guide (a path, or its bytes shown as `name`) -> its document record, the same
    record `guideparse extract` writes for it. Raises InputError when it gives none."""
    from .record import extract_document

    if isinstance(source, bytes):
        data, shown = source, name
    else:
        shown = os.fspath(source)
        data = read_input(InputFile(shown, None), max_bytes)
    return extract_document(data, shown, rules or load_rules(), hashlib.sha256(data).hexdigest())


def diff_runs(old: str | os.PathLike[str], new: str | os.PathLike[str]) -> DiffReport:
    """What changed in content between two run folders (apps matched by slug)."""
    a, b = load_run(old), load_run(new)
    return diff_catalogs(a.catalog, b.catalog, a.meta, b.meta)
