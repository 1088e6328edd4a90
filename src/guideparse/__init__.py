"""guideparse: scraped SaaS identity guides -> a clean, versioned catalog.

    import guideparse
    doc = guideparse.extract("raw/brex.flat.txt")          # one guide -> DocumentRecord
    run = guideparse.extract_many(["raw"], out="out/run")  # a batch -> run folder
    report = guideparse.diff_runs("out/baseline", "out/run")
    guideparse.parse_path(r"related_apps[Bill\\.com].summary")  # -> ["related_apps", {"app": "Bill.com"}, "summary"]

Names are imported on first use, so `import guideparse` (and `guideparse --help`) stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

from . import _native  # noqa: E402  (compiled modules, when built from these sources: _native.py)

_native.extend(__path__)

_HOMES = {
    "load_rules": "rules",
    "Rules": "rules",
    "extract": "api",
    "diff_runs": "api",
    "extract_many": "run",
    "RunResult": "run",
    "build_catalog": "catalog",
    "review_changes": "review",
    "DocumentRecord": "models",
    "CatalogEntry": "models",
    "Manifest": "models",
    "InputStatus": "models",
    "DiffReport": "diff",
    "parse_path": "paths",
    "format_path": "paths",
    "GuideparseError": "errors",
    "InputError": "errors",
    "RulesError": "errors",
}

__all__ = [
    "CatalogEntry",
    "DiffReport",
    "DocumentRecord",
    "GuideparseError",
    "InputError",
    "InputStatus",
    "Manifest",
    "Rules",
    "RulesError",
    "RunResult",
    "__version__",
    "build_catalog",
    "diff_runs",
    "extract",
    "extract_many",
    "format_path",
    "load_rules",
    "parse_path",
    "review_changes",
]

if TYPE_CHECKING:
    from .api import diff_runs, extract
    from .catalog import build_catalog
    from .diff import DiffReport
    from .errors import GuideparseError, InputError, RulesError
    from .models import CatalogEntry, DocumentRecord, InputStatus, Manifest
    from .paths import format_path, parse_path
    from .review import review_changes
    from .rules import Rules, load_rules
    from .run import RunResult, extract_many


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'guideparse' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
