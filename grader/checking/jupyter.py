"""The learner's path inside Jupyter: `check("ex03")`, `hint("ex03")`, and importing notebooks.

`check` and `hint` run the real `grader` command in a separate process, from the notebook's
own folder, and stream its output into the cell: the score is the one `grader check` gives,
because it *is* `grader check`. Jupyter runs the kernel in the notebook's folder, so
the default folder is the current one.

`notebook_imports()` lets one exercise notebook import another (ex07 runs
`from ex06_backprop import forward, backward`): a finder, placed after Python's own, that
loads `ex06_backprop.ipynb` when no `ex06_backprop.py` exists. It reads the notebook the same
way the grader does (`notebook_to_source`), so the learner's kernel and the checker see the
same code. We chose a finder over writing an `ex06_backprop.py` beside the notebook: a
generated .py would win over the notebook in `grader check` and grade a stale copy.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

__all__ = ["check", "hint", "notebook_imports", "run_grader"]

_PACKAGE_PARENT = Path(__file__).resolve().parent.parent.parent
_EXERCISE_MODULE = re.compile(r"^ex\d\d_\w+$")

def run_grader(args: Sequence[str], folder: str | os.PathLike[str] | None = None) -> int:
    """Run `grader ARGS` in a child process, streaming its output here; return its exit status.

    The child finds this same `grader` package (PYTHONPATH), runs in `folder` (default: the
    current folder, which Jupyter sets to the notebook's), and is stopped if the cell is
    interrupted.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(_PACKAGE_PARENT), *filter(None, [env.get("PYTHONPATH")])])
    if "ipykernel" in sys.modules:
        env.setdefault("FORCE_COLOR", "1")  # Jupyter shows ANSI colours in a cell's output
        env.setdefault("COLUMNS", "100")
    argv = [sys.executable, "-m", "grader.cli.main", *args]
    process = subprocess.Popen(argv, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, text=True, errors="replace", start_new_session=True)
    assert process.stdout is not None
    try:
        for line in process.stdout:
            print(line, end="", flush=True)
        return process.wait()
    except KeyboardInterrupt:
        os.killpg(process.pid, 15)
        process.wait(timeout=30)
        print("stopped")
        return 130
    finally:
        process.stdout.close()


def check(exercise: str, dir: str | os.PathLike[str] = ".") -> int:  # noqa: A002 - like --dir
    """Check one exercise from a notebook: `check("ex03")`. Save the notebook first.

    Runs `grader check EXERCISE --dir DIR` and prints its report; returns its exit status
    (0: all checks passed).
    """
    return run_grader(["check", str(exercise), "--dir", str(dir)])


def hint(exercise: str, level: int = 1, dir: str | os.PathLike[str] = ".") -> int:  # noqa: A002
    """A hint for the first failing check of one exercise: `hint("ex03")`, then `hint("ex03", 2)`."""
    return run_grader(["hint", str(exercise), "--level", str(level), "--dir", str(dir)])


class _NotebookFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds `exNN_name` modules as `exNN_name.ipynb` on sys.path (after the normal finders)."""

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        if path is not None or not _EXERCISE_MODULE.match(fullname):
            return None
        for entry in sys.path:
            candidate = Path(entry or ".") / f"{fullname}.ipynb"
            if candidate.is_file():
                return importlib.util.spec_from_file_location(fullname, candidate, loader=self)
        return None

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        from grader.checking.notebooks import notebook_to_source

        path = Path(str(module.__spec__.origin if module.__spec__ else module.__file__))
        source, _ = notebook_to_source(path)
        exec(compile(source, str(path), "exec"), module.__dict__)  # noqa: S102 - the learner's own code


def notebook_imports() -> None:
    """Let `import ex06_backprop` load ex06_backprop.ipynb when there is no ex06_backprop.py."""
    if not any(isinstance(f, _NotebookFinder) for f in sys.meta_path):
        sys.meta_path.append(_NotebookFinder())
