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
