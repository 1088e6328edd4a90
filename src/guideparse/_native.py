"""Compiled extraction modules: used only when built from exactly the sources beside them.

The install (hatch_build.py) compiles the modules of `COMPILED` with mypyc into a separate
package, `guideparse_native`, and records the digest of this package's sources it was built
from. At import, guideparse puts the compiled modules first on its `__path__` only when that
digest is the digest of the sources here now, on the same Python: an edit after the install
(an editable install's sources are the working tree) falls back to the pure modules, never to
compiled code of older sources. `GUIDEPARSE_PURE=1` runs the pure modules, and skips compiling
at install. The compiled modules give the same records (tested); they run the extraction
about a sixth faster (README, "Compiled extraction").

This module imports nothing of guideparse: the build hook loads it by its path.
"""

from __future__ import annotations

import hashlib
import os
import sys
from importlib import import_module
from importlib.util import find_spec
from pathlib import Path

#: The modules compiled, relative to the package: extraction's stages, section parsers and the
#: catalog entry's semantics (their pydantic models, the rules' loading and the batch half stay
#: pure: pydantic and the file system are their cost, not the interpreter).
COMPILED = (
    "catalog.py",
    "confusables.py",
    "context.py",
    "families.py",
    "family_readers.py",
    "infer.py",
    "line_ends.py",
    "lints.py",
    "phrases.py",
    "prices.py",
    "printable.py",
    "printed_numbers.py",
    "reading.py",
    "record.py",
    "rule_lists.py",
    "section_readers.py",
    "sections/blocks.py",
    "sections/config.py",
    "sections/decision.py",
    "sections/facts.py",
    "sections/header.py",
    "sections/idps.py",
    "sections/lists.py",
    "sections/pricing.py",
    "sections/prose.py",
    "sections/prose_blocks.py",
    "sections/related.py",
    "sections/specs.py",
    "segment.py",
    "slugs.py",
    "table_spec.py",
    "tables.py",
    "tiers.py",
)

NATIVE_PACKAGE = "guideparse_native"
PURE_ENV = "GUIDEPARSE_PURE"
PACKAGE_DIR = Path(__file__).resolve().parent

_digest: str | None = None


def source_digest(package_dir: Path = PACKAGE_DIR) -> str:
    """sha256 of every .py file of the package (relative path and bytes), in path order."""
    global _digest
    if package_dir == PACKAGE_DIR and _digest is not None:
        return _digest
    h = hashlib.sha256()
    for p in sorted(package_dir.rglob("*.py")):
        if p.is_file():  # not an editor's lock file (a dangling `.#segment.py` link)
            h.update(p.relative_to(package_dir).as_posix().encode() + b"\0" + p.read_bytes())
    digest = h.hexdigest()
    if package_dir == PACKAGE_DIR:
        _digest = digest
    return digest


def build_stamp(package_dir: Path = PACKAGE_DIR) -> str:
    """What compiled modules must have been built from: these sources on this Python."""
    return f"{sys.implementation.cache_tag}:{source_digest(package_dir)}"


def pure_wanted() -> bool:
    """GUIDEPARSE_PURE set to anything but empty or 0."""
    return os.environ.get(PURE_ENV, "") not in ("", "0")


def native_root() -> Path | None:
    """The compiled modules' folder (guideparse_native/guideparse), or None when they are
    absent, switched off (GUIDEPARSE_PURE), built from other sources or another Python, or
    their shared library does not load (a source unreadable or a library missing costs the
    speed, never the import)."""
    if pure_wanted() or "distributed.worker" in sys.modules:
        # A Dask worker runs the pure modules: compiled ones hung cluster runs now and then, a
        # cause not found yet (README, "Compiled extraction").
        return None
    spec = find_spec(NATIVE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations)))
    try:
        stamp = (folder / "STAMP").read_text(encoding="ascii").strip()
        if stamp != build_stamp():
            return None
        import_module(f"{NATIVE_PACKAGE}.lib__mypyc")  # the modules' shared library (hatch_build.py)
    except (OSError, UnicodeDecodeError, ImportError):
        return None
    return folder / "guideparse"


_ROOT = native_root()
ACTIVE = _ROOT is not None


def extend(path: list[str], subpackage: str = "") -> None:
    """Put the compiled modules of (sub)package `subpackage` first on its `__path__`."""
    if _ROOT is not None:
        folder = _ROOT / subpackage if subpackage else _ROOT
        if folder.is_dir() and str(folder) not in path:
            path.insert(0, str(folder))
