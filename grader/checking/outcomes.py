"""Result records: one closed set of statuses and frozen dataclasses with a JSON schema.

JSON schema (the same for `grader check --json` and batch grading)::

    RunResult      {"exercises": [ExerciseResult], "points": float, "max_points": float}
    ExerciseResult {"id": str, "title": str, "points": float, "max_points": float,
                    "status": Status, "notes": [str], "tests": [TestResult]}
    TestResult     {"exercise": str, "name": str, "visibility": "public"|"hidden",
                    "points": float, "max_points": float, "status": Status,
                    "feedback": str, "duration_s": float, "printed": str}
    Status         "passed" | "failed" | "error" | "timeout" | "not_attempted"

`printed` is what the learner's own code printed (stdout and stderr) during that check,
kept only for a check that did not pass: "" when it printed nothing. It is cleaned and capped
(at most 40 lines and 2000 characters, see grader/checking/printed.py) and, like
`feedback`, a hidden check's is shown to the learner only when the instructor reveals it.
Records written before this field existed read back with "".
    Grading        "graded" | "ungraded" | "grader_error"   (one learner, in a batch's result.json)

A learner's ``Grading`` says whose verdict the points are: ``graded`` (the checks ran),
``ungraded`` (nothing gradable: junk, no files, over budget; the 0 is the learner's) or
``grader_error`` (the grader itself failed twice, e.g. its zygote; the row is no score,
it is not journaled as done, and the next ``grader grade`` grades the learner again).
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Grading", "Status", "TestResult", "ExerciseResult", "RunResult"]


class Status(str, enum.Enum):
    """What happened to one check. Only PASSED earns points."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    TIMEOUT = "timeout"
    NOT_ATTEMPTED = "not_attempted"


class Grading(str, enum.Enum):
    """Whose verdict a learner's points are (see the module docstring)."""

    GRADED = "graded"
    UNGRADED = "ungraded"
    GRADER_ERROR = "grader_error"


@dataclass(frozen=True)
class TestResult:
    """One check of one exercise."""

    __test__ = False  # not a pytest test class

    exercise: str
    name: str
    visibility: str
    points: float
    max_points: float
    status: Status
    feedback: str = ""
    duration_s: float = 0.0
    printed: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TestResult:
        return cls(**{**data, "status": Status(data["status"])})


def _exercise_status(tests: tuple[TestResult, ...]) -> Status:
    statuses = {t.status for t in tests}
    if not tests or statuses == {Status.NOT_ATTEMPTED}:
        return Status.NOT_ATTEMPTED
    if statuses == {Status.PASSED}:
        return Status.PASSED
    for worst in (Status.TIMEOUT, Status.ERROR):
        if worst in statuses:
            return worst
    return Status.FAILED


@dataclass(frozen=True)
class ExerciseResult:
    """All checks of one exercise, in the order they ran."""

    id: str
    title: str
    tests: tuple[TestResult, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def points(self) -> float:
        return round(sum(t.points for t in self.tests), 6)

    @property
    def max_points(self) -> float:
        return round(sum(t.max_points for t in self.tests), 6)

    @property
    def status(self) -> Status:
        return _exercise_status(self.tests)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "points": self.points,
            "max_points": self.max_points,
            "status": self.status.value,
            "notes": list(self.notes),
            "tests": [t.to_dict() for t in self.tests],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExerciseResult:
        return cls(
            id=data["id"],
            title=data.get("title", ""),
            tests=tuple(TestResult.from_dict(t) for t in data.get("tests", [])),
            notes=tuple(data.get("notes", [])),
        )


@dataclass(frozen=True)
class RunResult:
    """A whole run of `grader check` or the grading of one learner."""

    exercises: tuple[ExerciseResult, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def points(self) -> float:
        return round(sum(e.points for e in self.exercises), 6)

    @property
    def max_points(self) -> float:
        return round(sum(e.max_points for e in self.exercises), 6)

    @property
    def all_passed(self) -> bool:
        tests = [t for e in self.exercises for t in e.tests]
        return bool(tests) and all(t.status is Status.PASSED for t in tests)

    def to_dict(self) -> dict[str, Any]:
        return {
            "exercises": [e.to_dict() for e in self.exercises],
            "points": self.points,
            "max_points": self.max_points,
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunResult:
        return cls(
            exercises=tuple(ExerciseResult.from_dict(e) for e in data.get("exercises", [])),
            notes=tuple(data.get("notes", [])),
        )
