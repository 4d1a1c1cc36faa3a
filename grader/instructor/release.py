"""Bundles that leave the instructor's machine: the learner release and the Gradescope zip.

``grader release OUT`` builds what learners get: the lesson files, their notebooks, and
the grader with the *public* checks only, installable with ``pip install OUT``. Before
the bundle is put in place, :func:`verify_bundle` looks for anything secret in it:

- a ``solutions`` folder or any hidden check, by path;
- any file whose content is a solution file or a hidden check file (whitespace aside);
- any file holding several of a solution's own lines (lines the lesson stub lacks),
  notebooks included, or several lines found only in the hidden checks;
- a module that imports ``solutions`` or ``grader.checks.hidden``.

Any finding stops the release with the list of findings (:class:`ReleaseError`).

``grader gradescope OUT.zip`` builds a Gradescope autograder: ``setup.sh`` installs
bubblewrap where the image allows (``install_bubblewrap.sh``, never fatal) and the package, ``run_autograder`` runs :mod:`grader.instructor.gradescope` on ``/autograder/submission``
(public and hidden checks) and writes ``/autograder/results/results.json``.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from grader import __version__
from grader.course.exercises import PROJECT_ROOT

__all__ = ["ReleaseError", "Release", "build_release", "verify_bundle", "build_gradescope",
           "INSTRUCTOR_NAME"]

# The learner's bundle drops every package or module of `grader/` named like this
# (grader/instructor/, grader/cli/instructor*.py): the instructor's tools.
INSTRUCTOR_NAME = "instructor"
_SOLUTIONS = PROJECT_ROOT / "solutions"
_EXERCISES = PROJECT_ROOT / "exercises"
_GRADER = PROJECT_ROOT / "grader"
_HIDDEN = _GRADER / "checks" / "hidden"
_SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")
_DEPENDENCIES = ["tensorflow>=2.16", "keras>=3", "numpy", "nbformat>=5", "pytest>=7", "click>=8",
                 "rich>=13", "matplotlib>=3.6", "tensorflow-datasets"]


class ReleaseError(Exception):
    """The bundle would leak something secret (or could not be built); nothing was released."""


@dataclass(frozen=True)
class Release:
    """What was built."""

    path: Path
    exercises: int
    notebooks: int
    public_checks: int


def _normal(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.splitlines() if line.strip())


def _digest(text: str) -> str:
    return hashlib.sha256(_normal(text).encode()).hexdigest()


def _code_lines(text: str, minimum: int) -> set[str]:
    lines = {line.strip() for line in text.splitlines()}
    return {line for line in lines if len(line) >= minimum and not line.startswith(("#", '"', "'"))}


def _bundle_texts(root: Path) -> dict[Path, str]:
    """Every text file of the bundle; a notebook counts as its cells' sources."""
    texts: dict[Path, str] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        try:
            text = path.read_text("utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if path.suffix == ".ipynb":
            try:
                cells = json.loads(text).get("cells", [])
                text = "\n".join("".join(c.get("source", "")) if isinstance(c.get("source"), list)
                                 else str(c.get("source", "")) for c in cells)
            except (ValueError, AttributeError):
                pass
        texts[path] = text
    return texts


def _secrets() -> tuple[dict[str, str], dict[str, set[str]]]:
    """(digest -> what, what -> its own lines) for every solution and hidden check file."""
    digests: dict[str, str] = {}
    own_lines: dict[str, set[str]] = {}
    public = "\n".join(p.read_text("utf-8") for p in (_GRADER / "checks").rglob("*.py")
                       if _HIDDEN not in p.parents)
    for path in sorted(_SOLUTIONS.glob("*.py")):
        text = path.read_text("utf-8")
        stub = _EXERCISES / path.name
        stub_lines = _code_lines(stub.read_text("utf-8"), 0) if stub.is_file() else set()
        digests[_digest(text)] = f"solutions/{path.name}"
        own_lines[f"solutions/{path.name}"] = _code_lines(text, 16) - stub_lines
    for path in sorted(_HIDDEN.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".json") and len(_normal(path.read_text())) > 80:
            text = path.read_text("utf-8")
            what = f"grader/checks/hidden/{path.relative_to(_HIDDEN)}"
            digests[_digest(text)] = what
            own_lines[what] = _code_lines(text, 24) - _code_lines(public, 0)
    return digests, own_lines


def _bad_imports(path: Path, text: str) -> list[str]:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                 else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        found += [n for n in names if n.split(".")[0] == "solutions" or n.startswith("grader.checks.hidden")]
        if isinstance(node, ast.Constant) and node.value == "solutions":
            found.append('"solutions" (a path to the solutions)')
    return [f"{path}: refers to {name}" for name in dict.fromkeys(found)]


def verify_bundle(root: Path) -> list[str]:
    """Everything secret found in the bundle at `root` (empty when it is clean)."""
    problems: list[str] = []
    for path in root.rglob("*"):
        parts = path.relative_to(root).parts
        if "solutions" in parts or path.name.startswith("solution"):
            problems.append(f"{path.relative_to(root)}: a solutions file or folder")
        if "hidden" in parts and "checks" in parts:
            problems.append(f"{path.relative_to(root)}: a hidden check file or folder")
    digests, own_lines = _secrets()
    for path, text in _bundle_texts(root).items():
        relative = path.relative_to(root)
        if len(_normal(text)) > 80 and _digest(text) in digests:
            problems.append(f"{relative}: is a copy of {digests[_digest(text)]}")
            continue
        lines = _code_lines(text, 0)
        for what, secret in own_lines.items():
            shared = secret & lines
            if secret and len(shared) >= max(3, len(secret) // 2):
                problems.append(f"{relative}: holds {len(shared)} of the {len(secret)} lines of "
                                f"{what} (e.g. {sorted(shared)[0]!r})")
        if path.suffix == ".py":
            problems += _bad_imports(relative, text)
    return sorted(dict.fromkeys(problems))


def _copy_grader(target: Path, hidden: bool, instructor: bool) -> None:
    def ignore(folder: str, names: list[str]) -> set[str]:
        skipped = set(_SKIP(folder, names))
        here = Path(folder).resolve()
        if not instructor:
            skipped |= {n for n in names if n == INSTRUCTOR_NAME or n.startswith(INSTRUCTOR_NAME) and n.endswith(".py")}
        if here == _GRADER / "checks" and not hidden:
            skipped.add("hidden")
        return skipped

    shutil.copytree(_GRADER, target, ignore=ignore)


def _packages(root: Path) -> list[str]:
    """The importable packages under `root/grader` (folders with an ``__init__.py``)."""
    return sorted(".".join(p.parent.relative_to(root).parts) for p in (root / "grader").rglob("__init__.py"))


def _pyproject(packages: list[str]) -> str:
    deps = ",\n".join(f"    {json.dumps(d)}" for d in _DEPENDENCIES)
    package_data = ['"*.ini"', '"public/*.json"'] + (['"hidden/*.json"'] if "grader.checks.hidden" in packages else [])
    return (
        '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n\n'
        f'[project]\nname = "dl-course-grader"\nversion = "{__version__}"\n'
        'description = "The deep-learning course: lessons and the grader with its public checks."\n'
        f'requires-python = ">=3.10"\ndependencies = [\n{deps},\n]\n\n'
        '[project.scripts]\ngrader = "grader.cli.main:main"\n\n'
        f"[tool.setuptools]\npackages = {json.dumps(packages)}\n\n"
        f'[tool.setuptools.package-data]\n"grader.checks" = [{", ".join(package_data)}]\n'
    )


_LEARNER_README = """# Deep learning from one neuron to MNIST

1. Install: `python3 -m venv .venv && . .venv/bin/activate && pip install .`
2. Open `exercises/ex01_tensors.py` (or `notebooks/ex01_tensors.ipynb`) and read it top
   to bottom; replace each `raise NotImplementedError` with your code.
3. Run `grader check ex01` (from this folder) to see your score and what to fix.
   `grader list` shows every exercise and what is still to do.

The checks you run here are the public ones; your final grade also uses hidden checks
that try your functions on other inputs, so test your code on inputs of your own.
"""


def build_release(out: Path, force: bool = False) -> Release:
    """Build the learner bundle in `out` (replaced only with `force`) and verify it."""
    from grader.checking.notebooks import write_notebooks

    if out.exists() and any(out.iterdir()) and not force:
        raise ReleaseError(f"{out} exists and is not empty; use --force to replace it")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        shutil.copytree(_EXERCISES, staging / "exercises", ignore=_SKIP)
        notebooks = write_notebooks(staging / "exercises", staging / "notebooks")
        _copy_grader(staging / "grader", hidden=False, instructor=False)
        (staging / "pyproject.toml").write_text(
            _pyproject(_packages(staging)))
        (staging / "README.md").write_text(_LEARNER_README)
        problems = verify_bundle(staging)
        if problems:
            raise ReleaseError("the learner bundle would leak secrets:\n  " + "\n  ".join(problems))
        if out.exists():
            shutil.rmtree(out)
        os.replace(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Release(out, len(list((out / "exercises").glob("ex*.py"))), len(notebooks),
                   len(list((out / "grader" / "checks" / "public").glob("test_*.py"))))


_BUBBLEWRAP = """#!/usr/bin/env bash
# Install bubblewrap (the sandbox of a local `grader grade`) where the image allows; never fatal.
# Gradescope's images are Ubuntu and run setup.sh as root. run_autograder logs the defences
# that are active for each submission, so a missing one shows in every log.
if command -v bwrap >/dev/null 2>&1; then
    echo "bubblewrap: already installed ($(bwrap --version 2>&1))"
elif command -v apt-get >/dev/null 2>&1 && apt-get update -qq >/dev/null 2>&1 \\
        && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null 2>&1 \\
        && command -v bwrap >/dev/null 2>&1; then
    echo "bubblewrap: installed ($(bwrap --version 2>&1))"
else
    echo "WARNING: bubblewrap could not be installed (apt-get install -y bubblewrap failed or no apt-get);"
    echo "WARNING: learner code will run with the other defences only; run_autograder logs which."
fi
exit 0
"""

_SETUP = """#!/usr/bin/env bash
# Gradescope runs this once while it builds the autograder image.
set -euo pipefail
ROOT="${GRADER_AUTOGRADER_ROOT:-/autograder}"
PYTHON="${GRADER_PYTHON:-python3}"
bash "$ROOT/source/install_bubblewrap.sh" || echo "WARNING: the bubblewrap step failed; continuing without it"
"$PYTHON" -m pip install --no-cache-dir -e "$ROOT/source"
# Fetch MNIST now (verified by sha256) so grading needs no network; not fatal if it fails.
"$PYTHON" -c "from grader.course.mnist import mnist_dir; print('MNIST in', mnist_dir())" || \\
    echo "warning: MNIST could not be fetched now; ex08 will try again when it is graded"
"""

_RUN = """#!/usr/bin/env bash
# Gradescope runs this for every submission: grade $ROOT/submission, write $ROOT/results/results.json.
set -uo pipefail
ROOT="${GRADER_AUTOGRADER_ROOT:-/autograder}"
PYTHON="${GRADER_PYTHON:-python3}"
export PYTHONPATH="$ROOT/source${PYTHONPATH:+:$PYTHONPATH}"
cd "$ROOT/source"
exec "$PYTHON" -m grader.instructor.gradescope --root "$ROOT" --config "$ROOT/source/grader_config.json"
"""


def build_gradescope(zip_path: Path, exercises: tuple[str, ...] = (),
                     call_timeout_s: float | None = None, reveal_hidden: bool = False) -> Path:
    """Write a Gradescope autograder zip (setup.sh, run_autograder, the grader, its checks)."""
    hidden_text = "\n".join(p.read_text("utf-8") for p in _HIDDEN.rglob("*.py"))
    needs_solutions = re.search(r"\bsolutions\b", hidden_text) is not None
    config = {"exercises": list(exercises), "call_timeout_s": call_timeout_s,
              "reveal_hidden": reveal_hidden, "grader_version": __version__}
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp)
        _copy_grader(root / "grader", hidden=True, instructor=True)
        if needs_solutions:
            shutil.copytree(_SOLUTIONS, root / "solutions", ignore=_SKIP)
        (root / "pyproject.toml").write_text(_pyproject(_packages(root)))
        (root / "grader_config.json").write_text(json.dumps(config, indent=2) + "\n")
        (root / "setup.sh").write_text(_SETUP)
        (root / "install_bubblewrap.sh").write_text(_BUBBLEWRAP)
        (root / "run_autograder").write_text(_RUN)
        zip_path.parent.mkdir(parents=True, exist_ok=True)
        partial = zip_path.with_name(f".{zip_path.name}.tmp")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(p for p in root.rglob("*") if p.is_file()):
                name = str(path.relative_to(root))
                info = zipfile.ZipInfo.from_file(path, name)
                executable = name in ("setup.sh", "run_autograder", "install_bubblewrap.sh")
                info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())
        os.replace(partial, zip_path)
    return zip_path
