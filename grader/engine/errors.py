"""Every exception that decides a check's outcome, in one module (as pytest's ``_pytest/outcomes.py``).

:func:`grader.checking.runner.outcome_for` is the one place that turns them into a status:

=====================  ==========================================================
``CheckFailure``       failed: the learner's output is wrong (the message is their feedback)
``ExerciseMissing``    not attempted: no file for the exercise (or it could not be read)
``LearnerError``       error, or not attempted for the stub's ``NotImplementedError``
``CallTimeout``        timeout: a call ran past its budget
``ChildCrashed``       error: the learner's process died or sent garbage
``GraderFailure``      error on the grader's side: never the learner's score
``SandboxError``       the child could not be confined: the grader's failure
=====================  ==========================================================

They live at the engine's level because the engine raises most of them; the check
runtime and the checks import them from here (or from ``grader.checks.support``). One more
outcome comes from below the engine: ``grader.course.mnist.DatasetError`` (the data is not
available here), an error that says how to get the data; it stays there so that importing
this module never imports the downloader.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CheckFailure", "ExerciseMissing", "LearnerError", "CallTimeout", "ChildCrashed",
           "GraderFailure", "SandboxError"]


class CheckFailure(AssertionError):
    """A check failed because of the learner's output; the message is their feedback."""

    def __init__(self, problem: str, *, expected: Any = None, got: Any = None, hint: str | None = None):
        self.problem, self.expected, self.got, self.hint = problem, expected, got, hint
        lines = [problem]
        if expected is not None:
            lines.append(f"expected: {expected}")
        if got is not None:
            lines.append(f"got:      {got}")
        if hint:
            lines.append(f"try:      {hint}")
        super().__init__("\n".join(lines))


class ExerciseMissing(Exception):
    """The learner has no file for this exercise (or it could not be read)."""


class LearnerError(Exception):
    """The learner's code raised; carries their exception type, message and traceback."""

    def __init__(self, type_name: str, message: str, traceback: list[str], phase: str) -> None:
        super().__init__(f"{type_name}: {message}")
        self.type_name = type_name
        self.message = message
        self.traceback = traceback
        self.phase = phase


class CallTimeout(Exception):
    """A call ran past its time budget and the child was stopped."""


class ChildCrashed(Exception):
    """The child died or sent something that is not a valid message."""


class GraderFailure(Exception):
    """The grader's own machinery failed (not the learner's code); never a learner's score."""


class SandboxError(RuntimeError):
    """The child could not be confined as planned: a grader-side failure, never the learner's."""
