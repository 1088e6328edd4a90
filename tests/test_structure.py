"""The codebase keeps its shape: no import cycle, no long function, the README's module table true."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from conftest import ROOT

PACKAGE = ROOT / "src" / "guideparse"
MAX_FUNCTION_LINES = 60


def _modules() -> dict[str, Path]:
    return {p.relative_to(PACKAGE).with_suffix("").as_posix().replace("/", "."): p for p in PACKAGE.rglob("*.py")}


def _imports(name: str, path: Path) -> set[str]:
    """Package modules a module imports, anywhere in it (lazy imports inside functions count)."""
    package = name.rsplit(".", 1)[0] if "." in name else ""
    if path.name == "__init__.py":
        package = name.removesuffix(".__init__") if name != "__init__" else ""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".") if package else []
            base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
            target = ".".join([*base, node.module] if node.module else base)
            names = [f"{target}.{a.name}" if target else a.name for a in node.names]
            out.update(n for n in [target, *names] if n)
    return out


def test_no_import_cycle():
    modules = _modules()
    graph = {m: {i for i in _imports(m, p) if i in modules and i != m} for m, p in modules.items()}
    graph.pop("__init__", None)  # the package's lazy surface: it imports on attribute access only
    for deps in graph.values():
        deps.discard("__init__")
    state: dict[str, int] = {}

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        for d in sorted(graph.get(m, ())):
            assert state.get(d) != 1, "import cycle: " + " -> ".join([*stack, m, d])
            if d not in state:
                visit(d, [*stack, m])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [])


def test_no_function_over_60_lines():
    long = []
    for name, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long.append(f"{name}.{node.name}: {length} lines")
    assert not long


def test_readme_module_table_names_every_module():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## How it works") :]
    section = section[: section.index("\n## ", 3)]
    named = set(re.findall(r"`([a-z_/]+(?:\.py|/\*\.py))`", section))
    files = {p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")}
    covered = {f for f in files if f in named or (f.startswith("sections/") and "sections/*.py" in named)}
    assert files - covered == set(), "modules missing from the README table"
    at_top = {p.name for p in ROOT.glob("*.py")}  # the build hook (hatch_build.py)
    assert {n for n in named if not n.endswith("*.py")} - files - at_top == set(), (
        "README names modules that do not exist"
    )
