"""Helpers that tests share (import them from here, never from ``conftest``)."""

from __future__ import annotations

import os
from pathlib import Path

from grader.checking.outcomes import ExerciseResult, Status
from grader.course.exercises import PROJECT_ROOT, find_exercise

__all__ = ["SOLUTIONS", "EXERCISES_DIR", "solution_source", "stub_source", "apply_mistake",
           "failed_feedback", "feedback_of"]

SOLUTIONS = PROJECT_ROOT / "solutions"
EXERCISES_DIR = PROJECT_ROOT / "exercises"
os.environ.setdefault("MNIST_DIR", str(PROJECT_ROOT.parent / "shared" / "data" / "mnist"))


def solution_source(exercise_id: str) -> str:
    return (SOLUTIONS / find_exercise(exercise_id).filename).read_text()


def stub_source(exercise_id: str) -> str:
    return (EXERCISES_DIR / find_exercise(exercise_id).filename).read_text()


def apply_mistake(source: str, *replacements: tuple[str, str]) -> str:
    """`source` with some lines changed, as a learner's mistake; each original must be there."""
    for old, new in replacements:
        assert old in source, f"the solution no longer contains {old!r}"
        source = source.replace(old, new)
    return source


def failed_feedback(result: ExerciseResult, words: str, visibility: str = "public") -> str:
    """The feedback of the check whose title contains `words`; that check must have failed."""
    [test] = [t for t in result.tests if words in t.name and t.visibility == visibility]
    assert test.status is Status.FAILED, feedback_of(result)
    return test.feedback


def feedback_of(result: ExerciseResult) -> str:
    return "\n".join(f"[{t.status.value}] {t.name}: {t.feedback}" for t in result.tests)


def write_files(folder: Path, files: dict[str, str]) -> None:
    """Write `files` (relative name -> text) under `folder`, making folders as needed."""
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)


def solution_variant(exercise_id: str, old: str, new: str) -> str:
    """The solution with `old` replaced by `new` (a learner's typical mistake); `old` must be there."""
    source = solution_source(exercise_id)
    assert old in source, f"the solution of {exercise_id} changed: {old!r} is gone"
    return source.replace(old, new)


def descendants(root_pid: int) -> set[tuple[int, str]]:
    """(pid, start time) of every live descendant of `root_pid`."""
    children: dict[int, list[int]] = {}
    starts: dict[int, str] = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(entry))
            starts[int(entry)] = fields[19]
    found, todo = set(), [root_pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add((child, starts[child]))
            todo.append(child)
    return found


def alive(process: tuple[int, str]) -> bool:
    """Whether the process (pid, start time) still runs (the pid was not reused)."""
    try:
        fields = Path(f"/proc/{process[0]}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z" and fields[19] == process[1]
