"""The house keeps its shape: layers by folder, no cycles, the trust boundary is a folder, lint and types.

Layers, lowest first (a module may import its own layer or lower ones, never higher):

    course  <  engine/inside  <  engine  <  checking  <  checks  <  instructor  <  cli

Everything that runs inside the sandbox lives in ``grader/engine/inside`` and imports
nothing of ``grader`` from outside that folder.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.course.exercises import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "grader"
LAYERS = ("course", "engine.inside", "engine", "checking", "checks", "instructor", "cli")
MAX_MODULE_LINES = 420
MAX_FUNCTION_LINES = 60
#: Functions allowed to be longer, each with its reason. Keep this list short.
LONG_FUNCTIONS = {
    "grader.engine.confine.bwrap_argv":
        "one flat list of bubblewrap arguments, read top to bottom like the command line it builds",
    "grader.instructor.pool.run_jobs":
        "the pool's one event loop (submit, collect, backstop, Ctrl-C) over shared local state",
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts}


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """Every grader module `path` imports, at any depth (function-level imports count too)."""
    found: set[str] = set()
    tree = ast.parse(path.read_text("utf-8"))
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name.startswith("grader"):
                found.add(name)
    return found


def _layer(module: str) -> int | None:
    rest = module.removeprefix("grader.")
    for index in sorted(range(len(LAYERS)), key=lambda i: -len(LAYERS[i])):
        if rest == LAYERS[index] or rest.startswith(LAYERS[index] + "."):
            return index
    return None  # grader/__init__.py: the version, importable from anywhere


GRAPH = {name: _imports(path, _modules()) - {name} for name, path in _modules().items()}


def test_every_module_belongs_to_a_layer() -> None:
    loose = [m for m in GRAPH if _layer(m) is None and m != "grader"]
    assert not loose, f"modules outside the role folders: {loose}"


def test_no_upward_imports() -> None:
    upward = []
    for module, imported in GRAPH.items():
        mine = _layer(module)
        for other in imported:
            theirs = _layer(other)
            if mine is not None and theirs is not None and theirs > mine:
                upward.append(f"{module} -> {other} ({LAYERS[mine]} imports {LAYERS[theirs]})")
    assert not upward, "imports that climb a layer:\n  " + "\n  ".join(sorted(upward))


def test_no_import_cycles() -> None:
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        stack.append(module)
        for other in sorted(GRAPH.get(module, ())):
            if state.get(other) == 1:
                cycles.append(" -> ".join(stack[stack.index(other):] + [other]))
            elif other not in state:
                visit(other)
        stack.pop()
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module)
    assert not cycles, "import cycles:\n  " + "\n  ".join(cycles)


def test_the_sandbox_side_imports_only_the_sandbox_side() -> None:
    leaks = [f"{m} -> {o}" for m, imported in GRAPH.items() if m.startswith("grader.engine.inside")
             for o in imported if not o.startswith("grader.engine.inside") and o != "grader"]
    assert not leaks, "code that runs inside the sandbox imports trusted-side modules:\n  " + "\n  ".join(leaks)


def test_the_checks_folder_rule_is_exercised() -> None:
    """The layer test above would pass vacuously if nothing imported across layers."""
    assert "grader.engine.inside.protocol" in GRAPH["grader.engine.child"]
    assert any(o.startswith("grader.checking") for o in GRAPH["grader.instructor.batch"])


def test_modules_stay_small() -> None:
    big = {m: n for m, p in _modules().items() if (n := len(p.read_text("utf-8").splitlines())) > MAX_MODULE_LINES}
    assert not big, f"modules over {MAX_MODULE_LINES} lines: {big}"


def test_every_module_starts_with_future_annotations() -> None:
    missing = [m for m, p in _modules().items()
               if p.read_text("utf-8").strip() and "from __future__ import annotations" not in p.read_text("utf-8")]
    assert not missing, f"modules without `from __future__ import annotations`: {missing}"


@pytest.mark.parametrize("tool", ["ruff", "mypy"])
def test_lint_and_types(tool: str) -> None:
    exe = shutil.which(tool, path=str(Path(sys.executable).parent)) or shutil.which(tool)
    assert exe is not None, f"{tool} is part of the test extra: pip install -e '.[test]'"
    argv = [exe, "check", "grader", "tests", "benchmarks"] if tool == "ruff" else [exe, "grader"]
    done = subprocess.run(argv, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{tool} found problems:\n{done.stdout[-4000:]}{done.stderr[-2000:]}"


def test_functions_stay_short() -> None:
    """No function over about 60 lines, unless LONG_FUNCTIONS says why."""
    long = []
    for module, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                size = (node.end_lineno or node.lineno) - node.lineno + 1
                name = f"{module}.{node.name}"
                if size > MAX_FUNCTION_LINES and name not in LONG_FUNCTIONS:
                    long.append(f"{name}: {size} lines")
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines (split them, or say why in LONG_FUNCTIONS): {long}"
    assert len(LONG_FUNCTIONS) <= 4, "the allowlist of long functions is meant to stay short"


_CITED = re.compile(r"(?<![\w/.])((?:grader|tests|docs|benchmarks|solutions|exercises)/[\w/.-]*\w\.(?:py|md|json|ini|toml))")


def test_code_and_docs_cite_only_files_that_exist() -> None:
    """A path such as grader/engine/child.py in a docstring or a doc names a file of the project."""
    sources = [*PROJECT_ROOT.glob("*.md"), *(PROJECT_ROOT / "docs").glob("*.md"), *_modules().values()]
    dangling = sorted({f"{path.relative_to(PROJECT_ROOT)}: {cited}"
                       for path in sources for cited in _CITED.findall(path.read_text("utf-8"))
                       if "NN" not in cited and not (PROJECT_ROOT / cited).exists()})
    assert sources and not dangling, "citations of files that do not exist:\n  " + "\n  ".join(dangling)
    if not (PROJECT_ROOT / "DESIGN.md").exists():  # the design lives in docs/design.md
        stale = [str(p.relative_to(PROJECT_ROOT)) for p in sources if "DESIGN.md" in p.read_text("utf-8")]
        assert not stale, f"DESIGN.md is not in the project (cite docs/design.md): {stale}"


def test_a_check_needs_one_import() -> None:
    """The course's checks import the grader only through grader.checks.support (and each other, or the
    course's own check helpers in grader/checks/ such as ex08_training.py)."""
    stray = sorted(f"{m} -> {o}" for m, imported in GRAPH.items()
                   if m.startswith(("grader.checks.public.test_", "grader.checks.hidden.test_"))
                   for o in imported if not o.startswith("grader.checks.") and o != "grader")
    assert not stray, "checks that reach past grader.checks.support:\n  " + "\n  ".join(stray)
    assert any(m.startswith("grader.checks.public.test_") for m in GRAPH)
