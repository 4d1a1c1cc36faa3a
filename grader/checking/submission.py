"""Find a learner's exercise files (.py or .ipynb, at most one folder deep) and read them.

Caps come before work: a .py file over :data:`MAX_SOURCE_BYTES`, a notebook file over
:data:`MAX_NOTEBOOK_BYTES` or a notebook whose code cells add up to more than
:data:`MAX_SOURCE_BYTES` is not read (nor parsed, scanned or sent to the child); the
learner's feedback says how big it is, what the limit is, and what to do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from grader.checking.inert import shown_name
from grader.course.exercises import EXERCISES, Exercise

__all__ = ["SourceFile", "SubmissionFiles", "load_submission", "MAX_SOURCE_BYTES", "MAX_NOTEBOOK_BYTES",
           "SourceTooLarge"]

#: The most code one exercise file may hold (the lesson's solutions are under 20 KiB).
MAX_SOURCE_BYTES = 1024 * 1024
#: The most a notebook file may hold, outputs (plots, printed text) included.
MAX_NOTEBOOK_BYTES = 16 * 1024 * 1024


class SourceTooLarge(ValueError):
    """An exercise file over the size limit; the message is the learner's feedback."""


def _size(size: int) -> str:
    return f"{math.ceil(size / 1024)} KiB" if size < 10 * 2**20 else f"{size / 2**20:.1f} MiB"


def _too_large(path: Path, size: int, code_in_notebook: bool = False) -> SourceTooLarge:
    if path.suffix == ".ipynb" and not code_in_notebook:
        return SourceTooLarge(
            f"the notebook is {_size(size)}, more than the {_size(MAX_NOTEBOOK_BYTES)} the grader "
            "reads: clear the outputs (Edit > Clear Outputs of All Cells) and save it again")
    what = "the code cells of the notebook add up to" if code_in_notebook else "the file holds"
    return SourceTooLarge(
        f"{what} {_size(size)} of code, more than the {_size(MAX_SOURCE_BYTES)} the grader reads per "
        "exercise: keep data out of the code (load it from a file instead of pasting it in) and "
        "remove generated or copied code")


@dataclass(frozen=True)
class SourceFile:
    """One exercise's code, as the learner wrote it."""

    exercise: str
    module: str
    path: Path
    source: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class SubmissionFiles:
    """The exercise files found in one folder, and why any could not be read."""

    root: Path
    files: dict[str, SourceFile] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)

    def sources_for_child(self) -> dict[str, dict[str, str]]:
        return {f.module: {"source": f.source, "filename": f.path.name} for f in self.files.values()}


def _candidates(root: Path, exercise: Exercise) -> list[Path]:
    found: list[Path] = []
    # A linked folder is never followed: it could point at the solutions or another learner.
    subfolders = sorted(p for p in root.iterdir()
                        if p.is_dir() and not p.is_symlink() and not p.name.startswith((".", "__")))
    for folder in [root, *subfolders]:
        for suffix in (".py", ".ipynb"):
            exact = folder / f"{exercise.module}{suffix}"
            if exact.is_file() and not exact.is_symlink():
                found.append(exact)
        if not found:
            for path in sorted(folder.glob(f"{exercise.id}*")):
                if path.suffix in (".py", ".ipynb") and path.is_file() and not path.is_symlink():
                    found.append(path)
        if found:
            break
    return found


def _read(path: Path, exercise: Exercise) -> SourceFile:
    notebook = path.suffix == ".ipynb"
    size = path.stat().st_size
    if size > (MAX_NOTEBOOK_BYTES if notebook else MAX_SOURCE_BYTES):
        raise _too_large(path, size)
    notes: tuple[str, ...] = ()
    if notebook:
        from grader.checking.notebooks import notebook_to_source

        source, note_list = notebook_to_source(path)
        notes = tuple(note_list)
        code_size = len(source.encode("utf-8", "replace"))
        if code_size > MAX_SOURCE_BYTES:
            raise _too_large(path, code_size, code_in_notebook=True)
    else:
        with open(path, "rb") as stream:
            data = stream.read(MAX_SOURCE_BYTES + 1)  # the file may have grown since stat()
        if len(data) > MAX_SOURCE_BYTES:
            raise _too_large(path, len(data))
        source = data.decode("utf-8", "replace")
    return SourceFile(exercise.id, exercise.module, path, source, notes)


def _attempted(source: SourceFile) -> bool:
    """Whether the learner wrote anything: some function is no longer a NotImplementedError stub."""
    import ast

    try:
        tree = ast.parse(source.source)
    except SyntaxError:
        return True  # it does not parse: still their attempt, and the checks will say why
    defined = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    return not defined or len(stub_functions(source.source) or []) < len(defined)


def _choose(paths: list[Path], exercise: Exercise) -> SourceFile:
    """Read the file to grade among several for one exercise (a .py beside an .ipynb).

    The attempted one wins over a stub; between two attempts, the newer; the feedback
    says which file was graded and why.
    """
    read = [_read(p, exercise) for p in paths]
    if len(read) == 1:
        return read[0]
    attempted = [f for f in read if _attempted(f)]
    pool = attempted or read
    chosen = max(pool, key=lambda f: f.path.stat().st_mtime_ns)
    others = ", ".join(f.path.name for f in read if f is not chosen)
    if len(attempted) == 1:
        why = f"{others} still has only stubs (NotImplementedError)"
    elif attempted:
        why = f"it is newer than {others}"
    else:
        why = f"nothing is attempted in either; it is the newer file (also found: {others})"
    note = f"graded {chosen.path.name}, not {others}: {why}"
    return SourceFile(chosen.exercise, chosen.module, chosen.path, chosen.source, (note, *chosen.notes))


def load_submission(root: Path) -> SubmissionFiles:
    """Read every exercise file present under `root`; unreadable ones go to `problems`.

    All of them, whichever exercises are checked: one lesson imports another's code
    (ex07 uses the learner's ex06), so checking ex07 alone needs ex06 too.
    """
    files: dict[str, SourceFile] = {}
    problems: dict[str, str] = {}
    for exercise in EXERCISES:
        paths = _candidates(root, exercise)
        if not paths:
            continue
        try:
            files[exercise.id] = _choose(paths, exercise)
        except (OSError, ValueError) as exc:
            problems[exercise.id] = f"{shown_name(paths[0].name)} could not be read: {exc}"
    return SubmissionFiles(root, files, problems)


def stub_functions(source: str) -> list[str] | None:
    """Names of top-level functions whose body still just raises NotImplementedError.

    Returns None when the source does not parse.
    """
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    todo = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = [
                n for n in node.body
                if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))
            ]
            if len(body) == 1 and isinstance(body[0], ast.Raise):
                exc = body[0].exc
                name = exc.func if isinstance(exc, ast.Call) else exc
                if isinstance(name, ast.Name) and name.id == "NotImplementedError":
                    todo.append(node.name)
    return todo
