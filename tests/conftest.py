"""Shared fixtures: grade real files through the real engine (a real child process)."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from grader.checking.outcomes import ExerciseResult
from grader.checking.runner import RunOptions, run_checks
from grader.checking.submission import load_submission
from grader.course.exercises import find_exercise

# Re-exported so that tests written before tests/helpers.py still import; new tests use helpers.
from helpers import (  # noqa: F401
    EXERCISES_DIR,
    SOLUTIONS,
    apply_mistake,
    failed_feedback,
    feedback_of,
    solution_source,
    stub_source,
)


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


@pytest.fixture
def copy_solutions(tmp_path: Path) -> Callable[[], Path]:
    def make() -> Path:
        target = tmp_path / "solutions_copy"
        shutil.copytree(SOLUTIONS, target)
        return target

    return make
