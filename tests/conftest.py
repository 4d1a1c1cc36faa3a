"""Shared fixtures: grade real files through the real engine (a real child process)."""

from __future__ import annotations

import os
import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from grader.checking.outcomes import ExerciseResult, Status
from grader.checking.runner import RunOptions, run_checks
from grader.checking.submission import load_submission
from grader.course.exercises import PROJECT_ROOT, find_exercise

SOLUTIONS = PROJECT_ROOT / "solutions"
EXERCISES_DIR = PROJECT_ROOT / "exercises"
os.environ.setdefault("MNIST_DIR", str(PROJECT_ROOT.parent / "shared" / "data" / "mnist"))


def solution_source(exercise_id: str) -> str:
    return (SOLUTIONS / find_exercise(exercise_id).filename).read_text()


def stub_source(exercise_id: str) -> str:
    return (EXERCISES_DIR / find_exercise(exercise_id).filename).read_text()


@pytest.fixture
def grade(tmp_path: Path) -> Callable[..., ExerciseResult]:
    """grade("ex03", source, extra={"ex06": src}) -> ExerciseResult, public and hidden checks.

    `source` replaces the exercise file; `extra` adds other exercise files (ex07 needs
    ex06). A fixed hidden seed keeps runs repeatable.
    """
    counter = iter(range(1000))

    def run(exercise_id: str, source: str | None = None, *, extra: dict[str, str] | None = None,
            hidden: bool = True, seed: int = 1234) -> ExerciseResult:
        folder = tmp_path / f"learner{next(counter)}"
        folder.mkdir()
        exercise = find_exercise(exercise_id)
        if source is not None:
            (folder / exercise.filename).write_text(textwrap.dedent(source))
        for other_id, other_source in (extra or {}).items():
            (folder / find_exercise(other_id).filename).write_text(textwrap.dedent(other_source))
        result = run_checks(load_submission(folder), (exercise,), RunOptions(hidden=hidden, seed=seed))
        return result.exercises[0]

    return run


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


@pytest.fixture
def copy_solutions(tmp_path: Path) -> Callable[[], Path]:
    def make() -> Path:
        target = tmp_path / "solutions_copy"
        shutil.copytree(SOLUTIONS, target)
        return target

    return make
