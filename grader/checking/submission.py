"""Find a learner's exercise files (.py or .ipynb, at most one folder deep) and read them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from grader.course.exercises import EXERCISES, Exercise

__all__ = ["SourceFile", "SubmissionFiles", "load_submission", "MAX_SOURCE_BYTES"]

MAX_SOURCE_BYTES = 2 * 1024 * 1024


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
    if path.stat().st_size > MAX_SOURCE_BYTES:
        raise ValueError(f"{path.name} is larger than {MAX_SOURCE_BYTES // 1024} KiB")
    notes: tuple[str, ...] = ()
    if path.suffix == ".ipynb":
        from grader.checking.notebooks import notebook_to_source

        source, note_list = notebook_to_source(path)
        notes = tuple(note_list)
    else:
        source = path.read_bytes().decode("utf-8", "replace")
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
            problems[exercise.id] = f"{paths[0].name} could not be read: {exc}"
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
