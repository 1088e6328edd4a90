"""Build hook: compile the extraction modules with mypyc into `guideparse_native` (see
src/guideparse/_native.py), or, when that cannot be done here, build the pure package.

Compiling needs a C compiler and Python's headers; without them (or with GUIDEPARSE_PURE=1)
the install goes on pure, saying so in one line. The sources are compiled from a copy in a
temporary folder, so nothing is written beside them: an editable install never leaves a
compiled module in the working tree to shadow a later edit.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

# Run in a child process (in the build environment): mypyc, then setuptools' build_ext.
_COMPILE = """
import os, sys
from setuptools import Distribution
from mypyc.build import mypycify
paths = sys.argv[1:]
# The same types wherever it builds: no installed package is read (pip builds before it installs
# the dependencies), third-party names are Any, and only the compiled modules' errors count.
options = ["--config-file", "", "--no-site-packages", "--ignore-missing-imports", "--follow-imports", "silent"]
extensions = mypycify(options + paths, group_name="guideparse_native.lib", opt_level="3")
dist = Distribution({"name": "guideparse-native", "ext_modules": extensions})
dist.script_name = "hatch_build.py"
command = dist.get_command_obj("build_ext")
command.build_lib, command.build_temp, command.parallel = "out", "tmp", os.cpu_count() or 1
dist.run_command("build_ext")
"""


def _load_native(root: Path) -> Any:
    """src/guideparse/_native.py, loaded by its path (guideparse is not installed here)."""
    spec = importlib.util.spec_from_file_location(
        "_guideparse_native_build", root / "src" / "guideparse" / "_native.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def compile_native(root: Path, work: Path, native: Any = None) -> tuple[Path | None, str]:
    """Compile into work/guideparse_native; returns (that folder, "") or (None, why not).
    `native`: src/guideparse/_native.py, when the caller has loaded it."""
    native = native or _load_native(root)
    source = work / "src"
    shutil.copytree(
        root / "src" / "guideparse",
        source / "guideparse",
        ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.pyd"),
    )
    paths = [f"guideparse/{m}" for m in native.COMPILED]
    done = subprocess.run(
        [sys.executable, "-c", _COMPILE, *paths], cwd=source, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        lines = [ln for ln in (done.stderr or done.stdout).splitlines() if ln.strip()]
        return None, lines[-1] if lines else f"exit {done.returncode}"
    package = work / native.NATIVE_PACKAGE  # the shared library's folder; the modules in it
    shutil.copytree(source / "out" / native.NATIVE_PACKAGE, package)
    shutil.copytree(source / "out" / "guideparse", package / "guideparse")
    (package / "__init__.py").write_text('"""guideparse\'s compiled modules (see guideparse/_native.py)."""\n')
    (package / "STAMP").write_text(native.build_stamp(source / "guideparse") + "\n", encoding="ascii")
    return package, ""


class NativeBuildHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        native = _load_native(Path(self.root))
        if native.pure_wanted():
            return
        self._work = tempfile.mkdtemp(prefix="guideparse-native-")
        try:
            package, why = compile_native(Path(self.root), Path(self._work), native)
        except (OSError, subprocess.SubprocessError) as exc:
            package, why = None, str(exc)
        if package is None:
            print(f"guideparse: building the pure modules (compiling them failed: {why})", file=sys.stderr)
            return
        key = "force_include_editable" if version == "editable" else "force_include"
        build_data[key][str(package)] = "guideparse_native"
        build_data["pure_python"] = False
        build_data["infer_tag"] = True

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        work = getattr(self, "_work", None)
        if work:
            shutil.rmtree(work, ignore_errors=True)
