"""Compiled extraction (guideparse/_native.py, hatch_build.py): used only when built from the
sources beside it, the same records as the pure modules, and a pure build where it cannot compile."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import RAW, ROOT, SHARED_CORPUS
from guideparse import _native

PROBE = "import guideparse.slugs as s, guideparse._native as n; print(n.ACTIVE, getattr(s, 'DECOY', False))"
IN_A_DASK_WORKER = "import distributed.worker; " + PROBE


def _probe(tmp_path: Path, stamp: str | None, library: bool = True, code: str = PROBE, **env: str) -> str:
    """Import guideparse with a decoy `guideparse_native` first on the path: its slugs module
    marks itself, so the output says whether the compiled folder was put first."""
    package = tmp_path / "decoy" / _native.NATIVE_PACKAGE
    (package / "guideparse").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "guideparse" / "slugs.py").write_text("DECOY = True\n")
    if library:
        (package / "lib__mypyc.py").write_text("")  # stands for the modules' shared library
    if stamp is not None:
        (package / "STAMP").write_text(stamp + "\n")
    environ = {k: v for k, v in os.environ.items() if k != _native.PURE_ENV}
    environ.update(PYTHONPATH=str(tmp_path / "decoy"), **env)
    done = subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_a_build_of_these_sources_is_used(tmp_path):
    assert _probe(tmp_path, _native.build_stamp()) == "True True"


@pytest.mark.parametrize(
    "stamp",
    [
        f"{sys.implementation.cache_tag}:{'0' * 64}",  # built from other sources (an edit since the install)
        "other-python:" + _native.source_digest(),  # built for another Python
        "",
        None,  # no stamp at all
    ],
)
def test_a_build_of_other_sources_is_not_used(tmp_path, stamp):
    assert _probe(tmp_path, stamp) == "False False"


def test_guideparse_pure_switches_it_off(tmp_path):
    assert _probe(tmp_path, _native.build_stamp(), GUIDEPARSE_PURE="1") == "False False"
    assert _probe(tmp_path / "zero", _native.build_stamp(), GUIDEPARSE_PURE="0") == "True True"


def test_a_dask_worker_runs_the_pure_modules(tmp_path):
    """Compiled modules in Dask workers hung cluster runs now and then (README): not there."""
    pytest.importorskip("distributed")
    assert _probe(tmp_path, _native.build_stamp(), code=IN_A_DASK_WORKER) == "False False"


def test_a_build_whose_library_is_missing_is_not_used(tmp_path):
    """The stamp is right but the shared library is gone (a partial copy): pure, no crash."""
    assert _probe(tmp_path, _native.build_stamp(), library=False) == "False False"


def test_the_digest_covers_every_source(tmp_path):
    copy = tmp_path / "guideparse"
    shutil.copytree(_native.PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    before = _native.source_digest(copy)
    assert before == _native.source_digest()
    edited = copy / "sections" / "idps.py"
    edited.write_bytes(edited.read_bytes() + b"\n")
    after_edit = _native.source_digest(copy)
    (copy / "new_module.py").write_text("")
    assert len({before, after_edit, _native.source_digest(copy)}) == 3


def test_an_editors_lock_file_neither_counts_nor_crashes(tmp_path):
    """Emacs leaves `.#name.py`, a dangling link, beside a file being edited: not a source."""
    copy = tmp_path / "guideparse"
    shutil.copytree(_native.PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    (copy / ".#segment.py").symlink_to("user@host.1234:1700000000")
    assert _native.source_digest(copy) == _native.source_digest()


def _load_hook():
    spec = importlib.util.spec_from_file_location("hatch_build_under_test", ROOT / "hatch_build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_without_a_compiler_the_build_is_pure_and_the_sources_untouched(tmp_path, monkeypatch):
    """A compiler that fails (CC=false) gives (None, the reason), after mypyc type-checked and
    generated the C (in the hook's own mode, blind to installed packages: what pip's first
    install sees), and writes nothing beside the sources."""
    pytest.importorskip("mypyc")
    pytest.importorskip("setuptools")
    hook = _load_hook()
    src = ROOT / "src" / "guideparse"
    before = {k: v for k, v in _tree(src).items() if "__pycache__" not in k}
    monkeypatch.setenv("CC", "false")
    package, why = hook.compile_native(ROOT, tmp_path)
    assert package is None and "CompileError" in why  # typed and generated; only the C compiler failed
    assert {k: v for k, v in _tree(src).items() if "__pycache__" not in k} == before


CORPUS_FOLDERS = [RAW, ROOT / "tests" / "fixtures", SHARED_CORPUS / "families"]


@pytest.mark.skipif(not _native.ACTIVE, reason="this install runs the pure modules (no compiler, or edited since)")
def test_compiled_and_pure_write_the_same_run(tmp_path):
    """Every guide of raw/, the fixtures and the other families, extracted compiled and pure:
    the same documents, catalog and records, byte for byte."""
    inputs = [str(f) for f in CORPUS_FOLDERS if f.is_dir()]
    guideparse = Path(sys.executable).with_name("guideparse")
    outs = {}
    for mode, extra in (("compiled", {}), ("pure", {_native.PURE_ENV: "1"})):
        env = {k: v for k, v in os.environ.items() if k != _native.PURE_ENV} | extra
        out = tmp_path / mode
        subprocess.run(
            [str(guideparse), "extract", *inputs, "--out", str(out), "--no-cache", "-q", "--jobs", "1"],
            env=env,
            capture_output=True,
            check=False,
        )
        outs[mode] = {k: v for k, v in _tree(out).items() if k != "manifest.json"}
    assert outs["compiled"]["documents.jsonl"] and len(outs["compiled"]) > 50
    assert outs["compiled"] == outs["pure"]


def test_extraction_leaves_no_garbage_for_the_cyclic_collector():
    """Every object an extraction makes is freed by its reference count: no cycles (compiled,
    a nested function and its environment form one). With the cycles of three nested functions
    gone, the cyclic collector never ran in 2,000 pages and a page took ~6% less (README).
    Text pages: an HTML page's parse tree (BeautifulSoup's, parents and children pointing at
    each other) is the collector's."""
    import gc
    from collections import Counter

    from guideparse import load_rules

    rules = load_rules()
    pages = [*sorted(RAW.iterdir()), *sorted((ROOT / "tests" / "fixtures").rglob("*.*"))]
    pages = [p for p in pages if p.suffix == ".txt" and p.parent.name != "html"]
    for p in pages:  # once before: lazy imports and lookups are built on first use
        _extract_quietly(p, rules)
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for p in pages:
            _extract_quietly(p, rules)
        gc.collect()
        garbage = Counter(type(o).__qualname__ for o in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was_enabled:
            gc.enable()
    assert len(pages) > 50
    assert not garbage, garbage.most_common(10)


def _extract_quietly(page: Path, rules) -> None:
    from guideparse.run import extract_result

    try:
        extract_result(page.read_bytes(), rules, "0" * 64, "tok")
    except Exception:  # a fixture meant to fail: its garbage counts all the same
        pass
